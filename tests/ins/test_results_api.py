"""The library calls behind ``latdyn ins``: the CLI's JSON equals the Python result and
``write`` gives the documented files."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.data import DensityOfStates, make_spectrum, make_sqe
from latdyn.data.io import load, write_csv, write_mantid_nexus
from latdyn.inelastic import cut_measurement, fit_phonon_series, separate_magnetic
from latdyn.lineshapes import dho
from latdyn.reduce import incoherent_sqe
from latdyn.thermo import debye_dos, generalized_dos_thermodynamics, temperature_grid, thermodynamics_from_dos


@pytest.fixture(scope="module")
def sqe_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("ins_api")
    e = np.linspace(0, 30, 301)
    sim = incoherent_sqe(np.linspace(0.5, 8, 31), np.arange(-10, 50, 0.5),
                         DensityOfStates.from_arrays(e, debye_dos(e, 300.0)), 300.0, 50.0, elastic_fwhm=1.0)
    da = make_sqe(sim.coords["Q"].values, sim.coords["E"].values, sim.values, np.full(sim.shape, 1e-5))
    return write_mantid_nexus(d / "sqe.nxs", da)


def test_cut_python_equals_cli(cli_matches, sqe_file, tmp_path, capsys):
    r = cut_measurement(sqe_file, q=(2.0, 2.4), average=True, balance=(3, 9))
    cli_matches(["ins", "cut", sqe_file, "--q-range", "2.0", "2.4", "--average", "--balance", "3", "9",
                   "-o", tmp_path / "cli.csv"], r)
    assert r.to_json()["temperature_fit"]["value"] == pytest.approx(300.0, rel=0.02)
    assert r.to_json()["range"] == {"value": [2.0, 2.4], "error": None, "unit": "1/angstrom"}
    (path,) = r.write(tmp_path / "cut.csv")
    assert path.read_text() == (tmp_path / "cli.csv").read_text()
    assert load(path).data.sizes["E"] == len(r.rows())
    with pytest.raises(Exception, match="one of"):
        cut_measurement(sqe_file)


def test_dos_and_thermo_python_equal_cli(cli_matches, sqe_file, tmp_path, capsys):
    g = generalized_dos_thermodynamics(sqe_file, 300.0, q_range=(1, 7.5), e_range=(2, 45), mass=50.0,
                                       temperatures="100:300:100")
    cli_matches(["ins", "dos", sqe_file, "-T", "300", "--mass", "50", "--q-range", "1", "7.5",
                   "--e-range", "2", "45", "--temperatures", "100:300:100", "-o", tmp_path / "c"], g)
    files = {p.relative_to(tmp_path / "g").as_posix() for p in g.write(tmp_path / "g")}
    assert {"dos.csv", "thermo.csv", "report.html", "figures/dos.png", "figures/cv.png"} <= files
    assert (tmp_path / "g" / "thermo.csv").read_text() == (tmp_path / "c" / "thermo.csv").read_text()
    e = np.linspace(0, 25.85, 501)
    write_csv(tmp_path / "dos.csv", make_spectrum(e, debye_dos(e, 300.0)))
    t = thermodynamics_from_dos(tmp_path / "dos.csv", "3000", atoms=2)
    cli_matches(["ins", "thermo", tmp_path / "dos.csv", "--temperatures", "3000", "--atoms", "2", "-o",
                   tmp_path / "th"], t)
    assert t.rows()[0]["Cv_over_3R"] == pytest.approx(1.0, abs=1e-3)
    assert t.to_json()["theta_D_n2"] == {"value": pytest.approx(300.0, rel=1e-3), "error": None, "unit": "K"}
    assert [p.name for p in t.write(tmp_path / "t")][:2] == ["thermo.csv", "report.html"]


def test_temperature_grid():
    np.testing.assert_array_equal(temperature_grid("10:30:10"), [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(temperature_grid("5,7.5"), [5.0, 7.5])
    np.testing.assert_array_equal(temperature_grid([1, 2]), [1.0, 2.0])
    for bad in ("30:10:10", "1:2", "a,b"):
        with pytest.raises(Exception, match="temperature|numbers"):
            temperature_grid(bad)


def test_phonon_series_and_magnetic_separation_from_files(tmp_path):
    rng = np.random.default_rng(1)
    e = np.arange(-6, 16, 0.1)
    files = []
    for T in (100.0, 200.0):
        c = rng.poisson(30 * (200 * dho(e, 6.0, 0.5, T=T) + 100 * np.exp(-0.5 * (e / 0.17) ** 2) / 0.426
                              + 1.0)).astype(float)
        files.append(write_csv(tmp_path / f"s{int(T)}.csv", make_spectrum(e, c, np.sqrt(np.maximum(c, 1)))))
    s = fit_phonon_series(files, [100, 200], e0=[5.5], quasielastic=False, resolution=[0.4])
    assert s.converged and s.inputs == files
    assert "dho1_E0" in s.table_columns and s.to_json()["units"]["dho1_E0"] == "meV"
    names = {p.name for p in s.write(tmp_path / "fit")}
    assert {"fits.csv", "report.html", "dho_vs_T.png"} <= names
    with pytest.raises(Exception, match="one temperature per file"):
        fit_phonon_series(files, [100], e0=[5.5], resolution=[0.4])
    q, en = np.linspace(0.5, 6, 40), np.linspace(2, 20, 10)
    sqe = make_sqe(q, en, np.outer(q**2 * np.exp(-0.01 * q**2), 0.01 * en) + 1e-3, 1e-4 * np.ones((40, 10)))
    path = write_mantid_nexus(tmp_path / "m.nxs", sqe)
    sep = separate_magnetic(path, ion="Mn2+", u_iso=0.01)
    assert sep.inputs == [path] and sep.to_json()["u_iso"]["unit"] == "angstrom**2"
    assert {p.name for p in sep.write(tmp_path / "sep")} >= {"separation.csv", "maps.h5", "report.html"}
