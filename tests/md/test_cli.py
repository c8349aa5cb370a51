"""``latdyn md ...`` end to end on a small trajectory file."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import scipp as sc

from latdyn.cli.main import main
from latdyn.md.trajectory import write_h5md


@pytest.fixture
def h5md_file(tmp_path, two_species_walk):
    positions, cell, symbols, velocities = two_species_walk
    return write_h5md(tmp_path / "walk.h5", positions, cell, symbols, 0.01, velocities)


def _run(capsys, argv):
    code = main(argv + ["--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_md_sqw(tmp_path, capsys, h5md_file):
    out = tmp_path / "sqw"
    res = _run(capsys, ["md", "sqw", str(h5md_file), "--window", "10", "--q-max", "3",
                        "--shells", "5", "--max-per-shell", "4", "--currents", "--out", str(out)])
    assert len(res["rows"]) == 4                     # the shell below 2 pi / 9 A is empty
    dg = sc.io.load_hdf5(out / "md_sqw.h5")
    assert {"F_coh", "F_inc", "S_coh", "S_inc", "S_Q", "C_L", "C_T", "F_Li_O"} <= set(dg.keys())
    assert dg["S_coh"].dims == ("Q", "E") and str(dg["S_coh"].unit) == "1/meV"
    assert np.allclose(dg["F_inc"].values[:, 0], 1.0)          # normalised neutron weighting
    assert (out / "report.html").is_file() and (out / "figures" / "S_coh.png").is_file()


def test_md_sqw_dask_and_methods_agree(tmp_path, capsys, h5md_file):
    pytest.importorskip("dask", reason="--dask needs dask (latdyn[dask])")
    base = ["md", "sqw", str(h5md_file), "--window", "8", "--q-max", "3", "--shells", "4",
            "--max-per-shell", "3", "--chunk-size", "7"]
    serial = _run(capsys, base + ["--self-method", "fft", "--out", str(tmp_path / "a")])
    dask_ = _run(capsys, base + ["--dask", "--memory", "16", "--out", str(tmp_path / "b")])
    assert serial["executor"] == "serial" and dask_["executor"] == "dask"
    assert serial["self_method"] == "fft"
    a = sc.io.load_hdf5(tmp_path / "a" / "md_sqw.h5")
    b = sc.io.load_hdf5(tmp_path / "b" / "md_sqw.h5")
    for key in ("F_coh", "F_inc", "S_coh"):
        assert np.allclose(a[key].values, b[key].values, rtol=1e-11, atol=1e-13)


def test_md_sqw_path(tmp_path, capsys, h5md_file):
    res = _run(capsys, ["md", "sqw", str(h5md_file), "--window", "5", "--path", "0,0,0;1,0,0",
                        "--supercell", "4,4,4", "--out", str(tmp_path / "p")])
    assert len(res["rows"]) == 5                     # Gamma and the 4 steps of the 4x supercell
    assert res["rows"][0]["q"] == 0.0 and res["rows"][0]["F_inc"] == pytest.approx(1.0)
    assert res["time"] == {"value": pytest.approx(0.03), "error": None, "unit": "ps"}


def test_md_msd_vanhove_dos(tmp_path, capsys, h5md_file):
    msd = _run(capsys, ["md", "msd", str(h5md_file), "--window", "20", "--blocks", "3",
                        "--out", str(tmp_path / "m")])
    assert {r["species"] for r in msd["rows"]} == {"Li", "O"}
    vh = _run(capsys, ["md", "vanhove", str(h5md_file), "--lags", "0,5", "--bins", "20",
                       "--origin-step", "5", "--out", str(tmp_path / "v")])
    assert len(vh["rows"]) == 4
    assert sc.io.load_hdf5(tmp_path / "v" / "md_vanhove.h5")["G_d_Li_O"].dims == ("t", "r")
    if importlib.util.find_spec("dask") is not None:
        vh_dask = _run(capsys, ["md", "vanhove", str(h5md_file), "--lags", "0,5", "--bins",
                                "20", "--origin-step", "5", "--dask", "--out",
                                str(tmp_path / "vd")])
        assert vh_dask["rows"] == vh["rows"]
    dos = _run(capsys, ["md", "dos", str(h5md_file), "--window", "15", "--out", str(tmp_path / "d")])
    assert dos["velocities"] == "from file"
    assert "g_neutron" in sc.io.load_hdf5(tmp_path / "d" / "md_dos.h5")


def test_md_bad_input_exits_2(tmp_path, capsys):
    bad = tmp_path / "t.xyz"
    bad.write_text("2\nLattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3\n"
                   "Ar 0 0 0\nAr 1 1 1\n3\nLattice=\"5 0 0 0 5 0 0 0 5\" "
                   "Properties=species:S:1:pos:R:3\nAr 0 0 0\nAr 1 1 1\nAr 2 2 2\n")
    code = main(["md", "msd", str(bad), "--dt", "0.01", "--window", "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "frame 1 has 3 atoms" in err
