"""QENS on files from other instruments: geometry from the file, resolution matched by |Q|,
loud failures, model choice (issue: QENS you can trust on any facility's files)."""

import json

import h5py
import numpy as np
import pytest
import scipp as sc

from latdyn import lineshapes as ls
from latdyn.cli.main import main
from latdyn.data import make_sqe
from latdyn.data.io import load, write_mantid_nexus
from latdyn.kinematics import q_elastic
from latdyn.units import HBAR_MEV_PS, energy_to_wavelength

E = np.linspace(-0.6, 0.6, 121)
EF = 1.845                                       # IRIS PG002
TWO_THETA = np.linspace(25.0, 155.0, 8)
Q_TRUE = q_elastic(float(energy_to_wavelength(EF)), TWO_THETA)
D_TRUE = 0.05
RES = 0.85 * ls.gaussian(E, 0.0125) + 0.15 * ls.lorentzian(E, 0.0125)


def _spectra(q, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for qq in q:
        g = HBAR_MEV_PS * D_TRUE * qq**2
        line = 0.3 * RES + 0.7 * (0.85 * ls.voigt(E, 0.0125, g) + 0.15 * ls.lorentzian(E, 0.0125 + g)) + 0.05
        rows.append(rng.poisson(line * 3000.0) / 3000.0)
    y = np.array(rows)
    return y, np.sqrt(np.maximum(y * 3000.0, 1.0)) / 3000.0


def _isis_indirect(path, values, errors, angles):
    """A Mantid file as ISIS indirect reductions write it: spectrum numbers on axis2, the
    spectra's (R, 2theta, phi) in instrument/detector/detector_positions and E_fixed only in the
    analyser's entry of the instrument parameter map."""
    n = values.shape[0]
    da = sc.DataArray(sc.array(dims=["spectrum", "E"], values=values, variances=errors**2),
                      coords={"spectrum": sc.array(dims=["spectrum"], values=np.arange(1.0, n + 1)),
                              "E": sc.array(dims=["E"], values=E, unit="meV")})
    write_mantid_nexus(path, da)
    with h5py.File(path, "a") as fh:
        inst = fh["mantid_workspace_1/instrument"]
        pos = np.column_stack([np.full(n, 1.47), angles, np.zeros(n)])
        inst.create_dataset("detector/detector_positions", data=pos)
        pmap = "IRIS;string;deltaE-mode;indirect|IRIS/graphite;double;Efixed;1.845|IRIS;double;t-shift;0"
        inst.create_dataset("instrument_parameter_map/data", data=np.array([pmap.encode()]))
        del inst["name"]
        inst.create_dataset("name", data=np.array([b"IRIS"]))
    return path


@pytest.fixture
def isis_files(tmp_path):
    y, s = _spectra(Q_TRUE)
    red = _isis_indirect(tmp_path / "irs26176_graphite002_red.nxs", y, s, TWO_THETA)
    res = _isis_indirect(tmp_path / "irs26173_graphite002_res.nxs", RES[None, :] / RES.max(),
                         np.full((1, E.size), 1e-3), np.array([90.0]))
    return red, res


def test_q_from_detector_angles_and_analyser_efixed(isis_files, capsys):
    red, _ = isis_files
    loaded = load(red)
    assert loaded.meta["final_energy"] == pytest.approx(EF)
    assert "IRIS/graphite" in loaded.meta["efixed_source"]
    np.testing.assert_allclose(loaded.data.coords["Q"].values, Q_TRUE, rtol=1e-12)
    assert main(["info", str(red), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(info["group_Q"], Q_TRUE, rtol=1e-5)
    assert info["final_energy"] == pytest.approx(EF) and "detector_positions" in info["q_source"]


def test_red_file_fits_with_its_one_spectrum_res_file_without_q(isis_files, tmp_path, capsys):
    red, res = isis_files
    assert main(["qens", "fit", str(red), "--resolution", str(res), "--diffusion", "fick",
                 "--temperature", "none", "--out", str(tmp_path / "o"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    D = r["result"]["quantities"]["L1_D"]
    assert abs(D["value"] - D_TRUE) < 3 * D["error"] and r["converged"]
    np.testing.assert_allclose([row["Q"] for row in r["rows"]], Q_TRUE, rtol=1e-9)
    # --q for the groups leaves the one-spectrum resolution alone
    q = ",".join(f"{x:.6f}" for x in Q_TRUE)
    assert main(["qens", "fit", str(red), "--resolution", str(res), "--q", q, "--no-global",
                 "--temperature", "none", "--out", str(tmp_path / "o2")]) == 0


def test_resolution_groups_matched_by_q_never_by_position(tmp_path, capsys):
    q = np.linspace(0.5, 1.75, 6)
    y, s = _spectra(q)
    write_mantid_nexus(tmp_path / "s.nxs", make_sqe(q, E, y, s))
    res_q = q + 2.0                           # another |Q| list, same number of groups
    flat = np.full((6, E.size), 1e-3)
    write_mantid_nexus(tmp_path / "v.nxs", make_sqe(res_q, E, np.tile(RES, (6, 1)), flat))
    base = ["qens", "fit", str(tmp_path / "s.nxs"), "--resolution", str(tmp_path / "v.nxs"), "--no-global",
            "--temperature", "none"]
    assert main(base + ["--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "no resolution group within 0.125" in err and "2.5" in err and "0.5" in err and "\n" == err[-1]
    assert err.count("\n") == 1
    assert main(base + ["--resolution-match", "nearest", "--out", str(tmp_path / "b"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    matched = r["resolution_matching"]
    assert len(matched) == 6 and all("nearest" in v for v in matched.values())
    assert all("resolution" in row for row in r["rows"])
    assert "Resolution groups not at the data" in (tmp_path / "b" / "report.html").read_text()


def test_evaluation_limit_is_loud_and_strict_exits_2(tmp_path, capsys):
    q = np.linspace(0.5, 1.75, 6)
    y, s = _spectra(q)
    write_mantid_nexus(tmp_path / "s.nxs", make_sqe(q, E, y, s))
    write_mantid_nexus(tmp_path / "v.nxs", make_sqe(q, E, np.tile(RES, (6, 1)), np.full((6, E.size), 1e-3)))
    base = ["qens", "fit", str(tmp_path / "s.nxs"), "--resolution", str(tmp_path / "v.nxs"), "--diffusion",
            "fick", "--temperature", "none", "--max-evaluations", "3"]
    assert main(base + ["--out", str(tmp_path / "a"), "--json"]) == 0
    cap = capsys.readouterr()
    r = json.loads(cap.out)
    assert r["converged"] is False and r["result"]["converged"] is False
    assert any("evaluation limit" in w for w in r["warnings"])
    assert "latdyn: warning:" in cap.err and "evaluation limit" in cap.err
    assert "NOT CONVERGED" in (tmp_path / "a" / "report.html").read_text()
    assert main(base + ["--out", str(tmp_path / "b"), "--strict"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("latdyn: error: --strict")


def test_nan_groups_dropped_and_nan_points_masked(tmp_path, capsys):
    """A reduced file whose values hold NaN (not measured) is read with those points masked;
    the fit fits the rest and names every group it dropped or thinned."""
    q = np.linspace(0.5, 1.75, 6)
    y, s = _spectra(q)
    da = make_sqe(q, E, y, s)
    da.values[1, 40] = np.nan                            # a point: masked, noted
    da.values[3, :80] = np.nan                           # most of a group: too few points, noted
    write_mantid_nexus(tmp_path / "s.nxs", da)
    write_mantid_nexus(tmp_path / "v.nxs", make_sqe(q, E, np.tile(RES, (6, 1)), np.full((6, E.size), 1e-3)))
    assert main(["qens", "fit", str(tmp_path / "s.nxs"), "--resolution", str(tmp_path / "v.nxs"),
                 "--diffusion", "fick", "--temperature", "none", "--out", str(tmp_path / "o"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    notes = " ".join(r["notes"])
    assert "Q group 1" in notes and "1 of 121 points masked in the data" in notes
    assert "Q group 3" in notes and "80 of 121 points masked in the data" in notes
    assert r["converged"]


def test_model_auto_ranks_families_by_bic(tmp_path, capsys):
    q = np.linspace(0.5, 1.75, 6)
    y, s = _spectra(q)
    write_mantid_nexus(tmp_path / "s.nxs", make_sqe(q, E, y, s))
    write_mantid_nexus(tmp_path / "v.nxs", make_sqe(q, E, np.tile(RES, (6, 1)), np.full((6, E.size), 1e-3)))
    assert main(["qens", "fit", str(tmp_path / "s.nxs"), "--resolution", str(tmp_path / "v.nxs"),
                 "--model", "auto", "--temperature", "none", "--out", str(tmp_path / "o"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    ranking = r["ranking"]
    assert len(ranking) == 7 and sum(row["chosen"] for row in ranking) == 1
    bics = [row["bic"] for row in ranking]
    assert bics == sorted(bics) and ranking[0]["delta_bic"] == 0.0
    chosen = next(row for row in ranking if row["chosen"])
    assert chosen["converged"] and chosen["implausible"] == 0
    fick = next(row for row in ranking if row["model"] == "elastic + fick")
    assert fick["D"] == pytest.approx(D_TRUE, rel=0.1)
    assert (tmp_path / "o" / "model_ranking.csv").is_file()
    assert "ranked by BIC" in (tmp_path / "o" / "report.html").read_text()
