"""Round trips through files, run through the command line (``latdyn.cli.main.main``).

Each chain feeds what one command writes to the command that naturally consumes it, and checks
that the physics survives the trip: a simulated QENS measurement with a known D is fitted back
within its error; a simulated sharp mode is fitted at its energy and gives a DOS peaked there;
an H5MD random walk written by latdyn gives back its D.  Every file written on the way is read
by ``latdyn info`` as a known format.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.units import HBAR_MEV_PS


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv) -> dict:
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    return json.loads(out)


def assert_info_reads(capsys, folder: Path) -> set[str]:
    """``latdyn info --json`` reads every .h5 and .csv file under ``folder``; their formats."""
    formats = set()
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".h5", ".csv"))
    assert files
    for f in files:
        rc, out, err = run(capsys, "info", f, "--json")
        assert rc == 0, f"{f.name}: {err}"
        info = json.loads(out)
        assert info["entries"] >= 1 and info["rows"], f.name
        formats.add(info["format"])
    return formats


@pytest.fixture(scope="module")
def qens_files(tmp_path_factory) -> tuple[Path, Path]:
    """A simulated IRIS sample (EISF 0.3, D = 0.1 A^2/ps) and its resolution (EISF 1)."""
    d = tmp_path_factory.mktemp("qens")
    common = ["--instrument", "IRIS", "--q", "0.6", "1.1", "1.6", "--points", "121"]
    assert main(["simulate", "qens", *common, "--eisf", "1", "--background", "0.001",
                 "--counts", "1e6", "--seed", "2", "--out", str(d / "res.h5")]) == 0
    assert main(["simulate", "qens", *common, "--eisf", "0.3", "--diffusion", "0.1",
                 "--counts", "1e5", "--seed", "3", "--out", str(d / "sample.h5")]) == 0
    return d / "sample.h5", d / "res.h5"


@pytest.mark.slow
def test_simulate_qens_then_fit_gives_back_d(qens_files, tmp_path, capsys):
    sample, res = qens_files
    info = run_json(capsys, "info", sample)
    assert info["format"] == "scipp_h5" and info["group_Q"] == [0.6, 1.1, 1.6]
    out = tmp_path / "fit"
    fit = run_json(capsys, "qens", "fit", sample, "--resolution", res, "--diffusion", "fick",
                   "--no-global", "--out", out)
    d = fit["result"]["quantities"]["D"]
    assert fit["result"]["converged"] and d["unit"] == "angstrom**2/ps"
    assert abs(d["value"] - 0.1) < 3 * d["error"] + 0.002
    # the per-Q widths follow Fick's law hbar D Q^2
    for row in fit["rows"]:
        assert row["hwhm_1"] == pytest.approx(HBAR_MEV_PS * 0.1 * row["Q"] ** 2, rel=0.03)
    formats = assert_info_reads(capsys, out)
    assert {"results_h5", "qens_fit_h5", "csv_table"} <= formats


def test_swapped_sample_and_resolution_is_refused(qens_files, tmp_path, capsys):
    sample, res = qens_files
    rc, out, err = run(capsys, "qens", "fit", res, "--resolution", sample, "--out", tmp_path / "x")
    assert rc == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "swapped" in err
    assert not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def mode_file(tmp_path_factory) -> Path:
    """A simulated sharp mode at 10 meV (area 1) on MARI at E_i = 30 meV."""
    d = tmp_path_factory.mktemp("mode")
    assert main(["simulate", "mode", "--instrument", "MARI", "--ei", "30", "--e0", "10",
                 "--area", "1", "--q", "2", "2.5", "3", "--counts", "1e4", "--points", "121",
                 "--seed", "1", "--out", str(d / "mode.h5")]) == 0
    return d / "mode.h5"


@pytest.mark.slow
def test_simulate_mode_then_ins_fit_finds_it(mode_file, tmp_path, capsys):
    rc, out, err = run(capsys, "ins", "fit", mode_file, "--T", "5", "--e0", "9", "--gamma", "0.5",
                       "--instrument", "MARI", "--ei", "30", "--q", "2", "3", "--no-qe",
                       "--no-elastic", "--fix-shift", "-o", tmp_path / "fit", "--json")
    assert rc == 0, err
    fit = json.loads(out)
    row = fit["rows"][0]
    assert abs(row["dho1_E0"] - 10.0) < 3 * row["dho1_E0_err"] + 0.01
    assert row["dho1_area"] == pytest.approx(1.0, abs=4 * row["dho1_area_err"] + 0.01)
    # a sharp mode has no width: the damping sits on its lower bound, is not determined by the
    # data, and the result says so on standard error and in the JSON
    assert not fit["converged"] and any("dho1_gamma" in r for r in fit["reasons"])
    assert any("dho1_gamma" in r and "larger than the value" in r for r in fit["implausible"])
    assert "latdyn: warning: T = 5 K: dho1_gamma" in err
    assert_info_reads(capsys, tmp_path / "fit")


def test_simulate_mode_then_dos_and_thermo(mode_file, tmp_path, capsys):
    out = tmp_path / "dos"
    dos = run_json(capsys, "ins", "dos", mode_file, "--T", "5", "--mass", "50", "--q", "2", "3",
                   "--e", "3", "20", "--n-max", "3", "--T-range", "10:300:10", "-o", out)
    assert dos["converged"]
    table = np.genfromtxt(out / "dos.csv", delimiter=",", names=True)
    e, g = table[table.dtype.names[0]], table[table.dtype.names[1]]
    assert abs(e[np.argmax(g)] - 10.0) < 1.0
    assert_info_reads(capsys, out)
    # the DOS table feeds ins thermo: an Einstein-like DOS at 10 meV is near 3R at 300 K
    th = run_json(capsys, "ins", "thermo", out / "dos.csv", "--T-range", "300", "-o", tmp_path / "th")
    assert 0.85 < th["rows"][-1]["Cv_over_3R"] <= 1.0


def test_h5md_random_walk_then_md_msd_gives_back_d(tmp_path, capsys):
    from latdyn.md.trajectory import write_h5md

    rng = np.random.default_rng(0)
    n_frames, n_atoms, box, dt, d_true = 200, 64, 20.0, 0.1, 0.5
    steps = rng.normal(scale=np.sqrt(2 * d_true * dt), size=(n_frames, n_atoms, 3))
    pos = np.cumsum(steps, axis=0) + rng.uniform(0, box, (1, n_atoms, 3))
    path = write_h5md(tmp_path / "walk.h5", pos % box, np.eye(3) * box, ["Li"] * n_atoms, dt)
    info = run_json(capsys, "info", path)
    assert info["format"] == "h5md" and info["n_frames"] == n_frames
    assert info["species"] == {"Li": n_atoms} and info["time_step"] == pytest.approx(dt)
    res = run_json(capsys, "md", "msd", path, "--out", tmp_path / "msd")
    d = res["diffusion"]["Li"]
    assert abs(d["value"] - d_true) < 3 * d["error"]
    assert d["error"] < 0.3 * d_true
    assert assert_info_reads(capsys, tmp_path / "msd") == {"scipp_h5"}
