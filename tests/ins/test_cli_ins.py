"""``latdyn ins cut|fit|dos|thermo`` end to end on simulated files: tables, JSON, CSV, reports."""

import json

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.data import DensityOfStates, make_spectrum, make_sqe
from latdyn.data.io import load, write_csv, write_mantid_nexus
from latdyn.lineshapes import dho
from latdyn.reduce import incoherent_sqe
from latdyn.thermo import debye_dos


def _run(capsys, argv):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def sqe_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("ins")
    e = np.linspace(0, 30, 301)
    sim = incoherent_sqe(np.linspace(0.5, 8, 31), np.arange(-10, 50, 0.5),
                         DensityOfStates.from_arrays(e, debye_dos(e, 300.0)), 300.0, 50.0, elastic_fwhm=1.0)
    da = make_sqe(sim.coords["Q"].values, sim.coords["E"].values, sim.values,
                  np.full(sim.shape, 1e-5))
    path = d / "sqe.nxs"
    write_mantid_nexus(path, da)
    return path


def test_cut_table_json_and_csv(capsys, sqe_file, tmp_path):
    rc, out, _ = _run(capsys, ["ins", "cut", str(sqe_file), "--q-range", "2.0", "2.4", "--average",
                               "--balance", "3", "9", "-o", str(tmp_path / "cut.csv"), "--json"])
    assert rc == 0
    res = json.loads(out)
    assert res["temperature_fit"]["value"] == pytest.approx(300.0, rel=0.02)
    back = load(tmp_path / "cut.csv").data
    assert back.dims == ("E",) and back.sizes["E"] == len(res["rows"])
    rc, _, err = _run(capsys, ["ins", "cut", str(sqe_file), "--q-range", "0.1", "2.4", "-o",
                               str(tmp_path / "x.csv")])
    assert rc == 2 and "outside the data" in err


def test_dos_round_trip_on_the_command_line(capsys, sqe_file, tmp_path):
    rc, out, _ = _run(capsys, ["ins", "dos", str(sqe_file), "-T", "300", "--mass", "50", "--q-range", "1",
                               "7.5", "--e-range", "2", "45", "--temperatures", "100:300:100", "-o",
                               str(tmp_path / "dos"), "--json"])
    assert rc == 0
    res = json.loads(out)
    assert res["converged"] and len(res["rows"]) == 3
    assert (tmp_path / "dos" / "report.html").stat().st_size > 1000
    g = load(tmp_path / "dos" / "dos.csv").data
    e = g.coords["E"].values
    sel = (e > 3) & (e < 24)
    np.testing.assert_allclose(g.values[sel], debye_dos(e[sel], 300.0), rtol=0.03)


def test_thermo_from_a_dos_file(capsys, tmp_path):
    e = np.linspace(0, 25.85, 501)
    write_csv(tmp_path / "dos.csv", make_spectrum(e, debye_dos(e, 300.0)))
    rc, out, _ = _run(capsys, ["ins", "thermo", str(tmp_path / "dos.csv"), "--temperatures", "3000", "-o",
                               str(tmp_path / "th"), "--json"])
    assert rc == 0
    res = json.loads(out)
    assert res["rows"][0]["Cv_over_3R"] == pytest.approx(1.0, abs=1e-3)
    assert res["theta_D_n2"]["value"] == pytest.approx(300.0, rel=1e-3)
    assert (tmp_path / "th" / "thermo.csv").exists()
    rc, _, err = _run(capsys, ["ins", "thermo", str(tmp_path / "dos.csv"), "--temperatures", "0,10", "-o",
                               str(tmp_path / "th")])
    assert rc == 2 and "temperature" in err


def test_fit_command(capsys, tmp_path):
    rng = np.random.default_rng(0)
    e = np.arange(-6, 16, 0.1)
    files = []
    for T in (100.0, 200.0):
        s = 200 * dho(e, 6.0, 0.5, T=T) + 100 * np.exp(-0.5 * (e / 0.17) ** 2) / 0.426 + 1.0
        s = s * 30
        c = rng.poisson(s).astype(float)
        p = tmp_path / f"s{int(T)}.csv"
        write_csv(p, make_spectrum(e, c, np.sqrt(np.maximum(c, 1))))
        files.append(str(p))
    rc, out, _ = _run(capsys, ["ins", "fit", *files, "-T", "100,200", "--e0", "5.5", "--no-qe",
                               "--resolution", "0.4", "-o", str(tmp_path / "fit"), "--json"])
    assert rc == 0
    rows = json.loads(out)["rows"]
    for r in rows:
        assert abs(r["dho1_E0"] - 6.0) < 3 * r["dho1_E0_err"]
        assert r["dho1_overdamped"] is False
    assert (tmp_path / "fit" / "figures" / "dho_vs_T.png").exists()
    assert (tmp_path / "fit" / "fits.csv").read_text().startswith("T_K,")
