import json

import h5py
import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.diffraction import debye_u_iso


def _run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_reflections_and_pattern(cif_dir, tmp_path, capsys):
    rc, out, _ = _run(capsys, "diffraction", "reflections", str(cif_dir / "Si.cif"),
                      "--d-range", "1.2", "inf", "--out", str(tmp_path / "r"), "--json")
    assert rc == 0
    payload = json.loads(out)
    assert payload["rows"][0]["multiplicity"] == 8 and payload["n_reflections"] == 6
    assert (tmp_path / "r" / "reflections.csv").is_file() and (tmp_path / "r" / "report.html").is_file()
    rc, out, _ = _run(capsys, "diffraction", "pattern", str(cif_dir / "NaCl.cif"), "--wavelength", "1.54",
                      "--two-theta", "10", "90", "0.05", "--out", str(tmp_path / "p"))
    assert rc == 0 and "two_theta" in out
    data = np.loadtxt(tmp_path / "p" / "pattern.csv", delimiter=",", comments="#", skiprows=2)
    assert data.shape[1] == 5 and data[:, 3].max() == pytest.approx(1.0)
    assert (tmp_path / "p" / "figures" / "pattern.png").is_file()


def test_pdf_debye_mem(cif_dir, tmp_path, capsys):
    rc, out, _ = _run(capsys, "diffraction", "pdf", str(cif_dir / "Ni.cif"), "--shell", "2", "3",
                      "--out", str(tmp_path / "g"), "--json")
    assert rc == 0 and json.loads(out)["rows"][0]["coordination"] == pytest.approx(12, rel=0.01)
    T = np.linspace(10, 500, 12)
    u = debye_u_iso(T, 300.0, 58.69) + 0.001
    np.savetxt(tmp_path / "u.csv", np.column_stack([T, u, 0.01 * u]), delimiter=",", header="T,U,err")
    rc, out, _ = _run(capsys, "diffraction", "debye", str(tmp_path / "u.csv"), "--species", "Ni",
                      "--out", str(tmp_path / "d"), "--json")
    theta = [r for r in json.loads(out)["rows"] if r["parameter"] == "theta_D"][0]["value"]
    assert rc == 0 and theta == pytest.approx(300.0, rel=1e-3)
    fobs = tmp_path / "fobs.txt"
    fobs.write_text("1 1 1 10.0 0.5\n2 0 0 8.0 0.5\n")
    rc, out, _ = _run(capsys, "diffraction", "mem", str(cif_dir / "Ni.cif"), str(fobs), "--grid", "16", "16",
                      "16", "--out", str(tmp_path / "m"), "--json")
    assert rc == 0
    with h5py.File(tmp_path / "m" / "mem_density.h5") as h5:
        assert h5["density"].shape == (16, 16, 16) and h5.attrs["chi2"] <= 1.0


def test_cli_errors(cif_dir, tmp_path, capsys):
    rc, _, err = _run(capsys, "diffraction", "reflections", str(cif_dir / "bad_no_cell.cif"),
                      "--out", str(tmp_path))
    assert rc == 2 and "no unit cell" in err and "bad_no_cell.cif" in err
    rc, _, err = _run(capsys, "diffraction", "pattern", str(cif_dir / "NaCl.cif"), "--wavelength", "1.5",
                      "--range", "20", "120", "--out", str(tmp_path))
    assert rc == 2 and "instrument range" in err


def test_tof_back_to_back_from_the_cli(cif_dir, tmp_path, capsys):
    rc, _, _ = _run(capsys, "diffraction", "pattern", str(cif_dir / "NaCl.cif"), "--tof", "--difc", "4900",
                    "--d-range", "1.5", "3.5", "0.0005", "--profile", "back-to-back", "--alpha", "0", "0.6",
                    "--beta", "0.02", "0.01", "--out", str(tmp_path / "b"))
    assert rc == 0
    data = np.loadtxt(tmp_path / "b" / "pattern.csv", delimiter=",", comments="#", skiprows=2)
    peak = int(np.argmax(data[:, 1]))
    assert data[peak + 20, 1] > data[peak - 20, 1]            # the tail is on the long-d side
    rc, _, err = _run(capsys, "diffraction", "pattern", str(cif_dir / "NaCl.cif"), "--wavelength", "1.5",
                      "--profile", "back-to-back", "--out", str(tmp_path / "c"))
    assert rc == 2 and "--tof" in err


def test_preferred_orientation_from_the_cli(cif_dir, tmp_path, capsys):
    base = ["diffraction", "pattern", str(cif_dir / "NaCl.cif"), "--wavelength", "1.54", "--two-theta", "20",
            "80", "0.01"]
    assert _run(capsys, *base, "--out", str(tmp_path / "a"))[0] == 0
    po = ["--preferred-orientation", "0", "0", "1"]
    assert _run(capsys, *base, *po, "0.6", "--out", str(tmp_path / "b"))[0] == 0
    a = np.loadtxt(tmp_path / "a" / "pattern.csv", delimiter=",", comments="#", skiprows=2)
    b = np.loadtxt(tmp_path / "b" / "pattern.csv", delimiter=",", comments="#", skiprows=2)
    assert not np.allclose(a[:, 1], b[:, 1]) and np.allclose(a[:, 0], b[:, 0])
    assert _run(capsys, *base, *po, "-1", "--out", str(tmp_path / "c"))[0] == 2
