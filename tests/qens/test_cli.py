"""``latdyn qens``: fit/msd/models from the command line on synthetic files (JSON, outputs, errors)."""

import json

import h5py
import numpy as np
import pytest

from latdyn import lineshapes as ls
from latdyn.cli.main import main
from latdyn.data import make_sqe
from latdyn.data.io import read_results_h5, write_mantid_nexus
from latdyn.report import file_sha256
from latdyn.units import HBAR_MEV_PS

E = np.linspace(-1.0, 1.0, 121)
Q = np.linspace(0.5, 1.75, 6)
D_TRUE = 0.15


def _files(tmp_path, seed=0):
    r = 0.85 * ls.gaussian(E, 0.03) + 0.15 * ls.lorentzian(E, 0.03)
    res = make_sqe(Q, E, np.tile(r, (Q.size, 1)), np.tile(1e-3 * r.max() + 0 * r, (Q.size, 1)))
    rng = np.random.default_rng(seed)
    rows = []
    for q in Q:
        g = HBAR_MEV_PS * D_TRUE * q**2
        # R (x) L exactly: Gaussian part -> Voigt, Lorentzian part -> Lorentzian of summed widths
        line = 0.4 * r + 0.6 * (0.85 * ls.voigt(E, 0.03, g) + 0.15 * ls.lorentzian(E, 0.03 + g)) + 0.02
        c = rng.poisson(line * 3000.0).astype(float)
        rows.append(c)
    c = np.array(rows)
    data = make_sqe(Q, E, c / 3000.0, np.sqrt(np.maximum(c, 1)) / 3000.0)
    write_mantid_nexus(tmp_path / "sample.nxs", data)
    write_mantid_nexus(tmp_path / "vana.nxs", res)
    return tmp_path / "sample.nxs", tmp_path / "vana.nxs"


def test_fit_json_outputs_and_provenance(tmp_path, capsys):
    s, v = _files(tmp_path)
    out = tmp_path / "out"
    assert main(["qens", "fit", str(s), "--resolution", str(v), "--lorentzians", "1,2", "--diffusion", "fick",
                 "--temperature", "none", "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["chosen_lorentzians"] == 1
    assert len(res["rows"]) == Q.size and {"Q", "hwhm_1", "hwhm_1_err", "eisf"} <= set(res["rows"][0])
    D, dD = res["result"]["quantities"]["L1_D"]["value"], res["result"]["quantities"]["L1_D"]["error"]
    assert abs(D - D_TRUE) < 3 * dD
    assert res["result"]["source"] == "global fit" and res["result"]["quantities"]["L1_D"]["unit"] == \
        "angstrom**2/ps"
    for name in ("report.html", "results.h5", "perq.csv", "model_selection.csv", "hwhm_fits.csv",
                 "global_groups.csv", "global_parameters.csv", "fit_perq_1L.h5", "fit_perq_2L.h5",
                 "fit_global.h5", "figures/fits_perq_1L.png", "figures/hwhm.png", "figures/eisf.png"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert file_sha256(s) in html and file_sha256(v) in html and "Model selection" in html
    r = read_results_h5(out / "results.h5")
    assert r.provenance["input_sha256"][0] == file_sha256(s)
    t = r.tables["global_parameters"]
    k = list(t.columns["name"]).index("L1_D")
    assert t.covariance[k, k] == pytest.approx(dD**2, rel=1e-6)
    assert r.model["global"]["rules"]["L1_hwhm"].startswith("HWHM from diffusion model fick")
    with h5py.File(out / "fit_global.h5") as f:
        assert f.attrs["n_varied"] == t.covariance.shape[0] - np.isnan(np.diag(t.covariance)).sum()
    sel = (out / "model_selection.csv").read_text().splitlines()
    assert sel[0].startswith("lorentzians,chi2,n_points,k") and len(sel) == 3


def test_fit_table_and_errors(tmp_path, capsys):
    s, v = _files(tmp_path)
    assert main(["qens", "fit", str(s), "--resolution", str(v), "--no-global", "--temperature", "300",
                 "--e-range", "-0.8", "0.8", "--out", str(tmp_path / "o")]) == 0
    text = capsys.readouterr().out
    assert "QENS fit of sample.nxs" in text and "hwhm_1" in text
    assert main(["qens", "fit", str(s), "--resolution", str(v), "--q", "1,2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("latdyn: error:") and "2 Q values given for 6 groups" in err and "\n" not in err
    assert main(["qens", "fit", str(s), "--resolution", str(v), "--e-range", "5", "6"]) == 2
    assert "fewer than 3 energy points" in capsys.readouterr().err
    assert main(["qens", "fit", str(s), "--resolution", str(v), "--model", "translation-rotation"]) == 2
    assert "needs --diffusion" in capsys.readouterr().err
    assert main(["qens", "fit", str(s), "--resolution", str(v), "--fix", "shift"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_models_json(capsys):
    assert main(["qens", "models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    names = " ".join(r["name"] for r in rows)
    for n in ("singwi-sjolander (ss)", "circle:N", "sphere-diffusion", "translation-rotation"):
        assert n in names


def test_fit_with_the_paalman_pings_container_correction(tmp_path, capsys):
    """Sample-plus-can and empty-can files built with the Paalman-Pings factors of a water
    annulus in an aluminium can; the CLI's container correction recovers D."""
    from latdyn.kinematics import q_direct
    from latdyn.reduce import paalman_pings
    from latdyn.simulate import Sample
    from latdyn.units import energy_to_wavelength

    s, v = _files(tmp_path)
    from latdyn.data.io import load

    pure = load(s).data
    ei = 3.27
    water = Sample("H2O", 0.3, outer_radius_mm=5.0, inner_radius_mm=4.8, height_mm=40.0)
    can = Sample("Al", 2.0, outer_radius_mm=5.5, inner_radius_mm=5.0, height_mm=40.0)
    angles = np.linspace(0.01, 180.0, 20001)
    tt = np.array([[np.interp(q, q_direct(ei=ei, energy_transfer=e, two_theta=angles), angles) for e in E]
                   for q in Q])
    li, lf = energy_to_wavelength(ei), energy_to_wavelength(ei - E)[None, :]
    f = paalman_pings(tt, (4.8, 5.0, water.mu_per_cm(li), water.mu_per_cm(lf)),
                      (5.0, 5.5, can.mu_per_cm(li), can.mu_per_cm(lf)))
    can_signal = 0.05 + 0.0 * tt
    both = make_sqe(Q, E, f["A_s_sc"] * pure.values + f["A_c_sc"] * can_signal,
                    f["A_s_sc"] * np.sqrt(pure.variances))
    empty = make_sqe(Q, E, f["A_c_c"] * can_signal, 1e-6 + 0.0 * tt)
    write_mantid_nexus(tmp_path / "both.nxs", both)
    write_mantid_nexus(tmp_path / "empty.nxs", empty)
    base = ["qens", "fit", str(tmp_path / "both.nxs"), "--resolution", str(v), "--diffusion", "fick",
            "--temperature", "none", "--out", str(tmp_path / "pp"), "--empty", str(tmp_path / "empty.nxs")]
    geometry = ["--sample-cylinder", "H2O", "0.3", "4.8", "5.0", "40", "--can-cylinder", "Al", "2.0",
                "5.0", "5.5", "40"]
    assert main(base + geometry + ["--ei", str(ei), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    D = res["result"]["quantities"]["L1_D"]
    assert abs(D["value"] - D_TRUE) < 3 * D["error"]
    assert main(base + geometry) == 2                                      # no Ei in the file
    assert "--ei" in capsys.readouterr().err
    assert main(base + geometry[6:] + ["--ei", "3.27"]) == 2                 # a can but no sample
