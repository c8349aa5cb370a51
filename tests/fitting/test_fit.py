"""Fits: convolution against the analytic Voigt, round trips with pulls, bad groups, selection."""

import numpy as np
import pytest

from latdyn import lineshapes as ls
from latdyn.convolution import AnalyticResolution, MeasuredResolution
from latdyn.data import make_spectrum, make_sqe
from latdyn.errors import FitError
from latdyn.fitresult import select_model
from latdyn.qens import FitSetup, fit, qens_model

E = np.linspace(-1.0, 1.0, 201)
Q = np.linspace(0.3, 1.9, 6)
RES_HW = 0.04


def _resolution(E=E):
    r = 0.9 * ls.gaussian(E, RES_HW) + 0.1 * ls.lorentzian(E, RES_HW)
    return make_spectrum(E, r, 1e-3 * r.max() + 0 * r)


def _simulate(setup, truth, seed, scale=4000.0, E=E, Q=Q):
    from latdyn.qens.spectral_fit import _Problem

    res = MeasuredResolution.from_data(_resolution(E)).prepare(E, Q)
    y0 = np.ones((Q.size, E.size))
    prob = _Problem(setup, Q, res, y0, y0, np.ones_like(y0, bool))
    m = prob.model(truth) * scale
    rng = np.random.default_rng(seed)
    counts = rng.poisson(m).astype(float)
    return make_sqe(Q, E, counts / scale, np.sqrt(np.maximum(counts, 1.0)) / scale)


def test_measured_convolution_matches_voigt():
    e = np.linspace(-1, 1, 801)
    res = MeasuredResolution.from_data(make_spectrum(e, ls.gaussian(e, 0.03))).prepare(e, Q[:1])
    for g in (1e-5, 0.01, 0.05, 0.4):
        val, _ = res.line("lorentzian", np.ones(1), {"hwhm": np.full(1, g)}, np.zeros(1))
        ref = ls.voigt(e, 0.03, g)
        # piecewise-linear resolution: error h^2/8 R'' relative to the peak, no narrow-line artefact
        assert np.max(np.abs(val[0] - ref)) < 2e-3 * ref.max()
    ana = AnalyticResolution(np.array([ls.sigma_from_hwhm(0.03)]), np.zeros(1), np.ones(1), np.zeros(1))
    val, _ = ana.prepare(E, Q[:1]).line("lorentzian", np.ones(1), {"hwhm": np.full(1, 0.05)}, np.zeros(1))
    np.testing.assert_allclose(val[0], ls.voigt(E, 0.03, 0.05), rtol=1e-10, atol=1e-13)


def _global_setup(T=None):
    s = FitSetup(qens_model(1, "flat", temperature=T))
    s.tie_diffusion("L1", "singwi-sjolander")
    s.share("shift", 0.0, -0.05, 0.05)
    return s


TRUTH = {"L1_D": 0.23, "L1_tau": 1.2, "shift": 0.003,
         **{f"elastic_amplitude_q{i}": 0.4 for i in range(6)},
         **{f"L1_amplitude_q{i}": 0.6 for i in range(6)},
         **{f"bg0_q{i}": 0.02 for i in range(6)}}


def test_global_round_trip_and_outputs(tmp_path):
    setup = _global_setup(T=293.0)
    data = _simulate(setup, TRUTH, seed=1)
    r = fit(data, _resolution(), setup)
    assert r.success and all(v == "ok" for v in r.status.values())
    D, dD = r.derived["L1_D"].value, r.derived["L1_D"].error
    tau, dtau = r.derived["L1_tau"].value, r.derived["L1_tau"].error
    assert abs(D - 0.23) < 3 * dD and abs(tau - 1.2) < 3 * dtau
    assert r.derived["L1_D"].to("cm**2/s").value == pytest.approx(D * 1e-4)
    assert 0.7 < r.reduced_chi2 < 1.3
    r.write_csv(tmp_path / "p.csv")
    r.write_hdf5(tmp_path / "p.h5")
    import h5py
    with h5py.File(tmp_path / "p.h5") as f:
        assert f["covariance/0/matrix"].shape[0] == r.n_varied
        assert "singwi" in f["model"][()].decode()
    assert (tmp_path / "p.csv").read_text().count("\n") == 7


@pytest.mark.slow
def test_pulls_over_100_seeds():
    """Pull (fit - truth) / sigma of D and tau: mean within 0.2, std in 0.8-1.2 over 100 seeds."""
    e = np.linspace(-0.8, 0.8, 81)
    q = np.array([0.5, 1.0, 1.5])
    setup = _global_setup()
    truth = {k: v for k, v in TRUTH.items() if not k[-1].isdigit() or int(k[-1]) < 3}
    pulls = []
    for seed in range(100):
        data = _simulate(setup, truth, seed, scale=3000.0, E=e, Q=q)
        r = fit(data, _resolution(e), setup, start=truth)
        pv = {p["name"]: (p["value"], p["error"]) for p in r.params}
        pulls.append([(pv[k][0] - truth[k]) / pv[k][1] for k in ("L1_D", "L1_tau", "shift")])
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls.mean(axis=0)) < 0.2), pulls.mean(axis=0)
    assert np.all((pulls.std(axis=0) > 0.8) & (pulls.std(axis=0) < 1.2)), pulls.std(axis=0)


def test_bad_groups_reported_others_fitted():
    setup = FitSetup(qens_model(1))
    truth = {k: v for k, v in TRUTH.items() if not k.startswith("L1_") or "amplitude" in k}
    truth |= {f"L1_hwhm_q{i}": 0.1 for i in range(6)} | {f"shift_q{i}": 0.0 for i in range(6)}
    data = _simulate(setup, truth, seed=3)
    data.values[1, 10] = np.nan                      # one point: masked, the group fitted, a note
    data.values[4, : data.sizes["E"] // 2] = np.inf   # half the group: dropped
    data.variances[2, 5] = 0.0
    data.values[3] = 0.0
    r = fit(data, _resolution(), setup, mode="per-q", progress=False)
    assert "1 NaN or infinite point(s) masked" in r.status[1] and "Q group 1" in r.status[1]
    assert "NaN or infinite" in r.status[4] and "skipped" in r.status[4]
    assert "zero" in r.status[2] and "empty" in r.status[3]
    assert [g.index for g in r.groups] == [0, 1, 5]
    assert r.groups[1].mask.sum() == data.sizes["E"] - 1
    r2 = fit(data, _resolution(), setup, mode="per-q", zero_errors="mask", progress=False)
    assert "1 point(s) with zero or negative error masked" in r2.status[2]
    far = make_spectrum(E + 50.0, ls.gaussian(E, RES_HW))
    with pytest.raises(FitError, match="does not overlap"):
        fit(data, far, setup, mode="per-q", progress=False)


def test_resampled_resolution_and_model_selection():
    setup1 = FitSetup(qens_model(1))
    truth = {f"elastic_amplitude_q{i}": 0.4 for i in range(6)} | {f"L1_amplitude_q{i}": 0.6 for i in range(6)}
    truth |= {f"L1_hwhm_q{i}": 0.15 for i in range(6)} | {f"shift_q{i}": 0.0 for i in range(6)}
    truth |= {f"bg0_q{i}": 0.01 for i in range(6)}
    data = _simulate(setup1, truth, seed=5)
    fine = np.linspace(-1.5, 1.5, 1201)  # a resolution on another grid is resampled
    r1 = fit(data, _resolution(fine), setup1, mode="sequential", progress=False)
    hw = np.array([g.values["L1_hwhm"] for g in r1.groups])
    err = np.array([g.errors["L1_hwhm"] for g in r1.groups])
    assert np.all(np.abs(hw - 0.15) < 4 * err)
    r2 = fit(data, _resolution(fine), FitSetup(qens_model(2)).set("L2_hwhm", 0.5), mode="per-q",
             progress=False)
    best, rows = select_model({"1L": r1, "2L": r2}, "bic")
    assert best == "1L" and abs(sum(r["weight"] for r in rows) - 1) < 1e-12
