"""Model rules inside fits: EISF ties, geometry series, translation x rotation, DHO, MCMC.

Each test simulates Poisson counts from the model with known parameters, convolved with a
realistic resolution, and fits them back: the truth must lie within 3 standard errors.
"""

import numpy as np
import pytest

from latdyn import lineshapes as ls
from latdyn.convolution import MeasuredResolution
from latdyn.data import make_spectrum, make_sqe
from latdyn.qens import Component, FitSetup, SpectrumModel, fit, get_geometry_model, qens_model
from latdyn.qens.spectral_fit import _Problem
from latdyn.units import KB_MEV_PER_K

RES_HW = 0.03


def _resolution(E):
    r = 0.85 * ls.gaussian(E, RES_HW) + 0.15 * ls.lorentzian(E, RES_HW)
    return make_spectrum(E, r, 1e-3 * r.max() + 0 * r)


def _simulate(setup, truth, E, Q, seed, scale):
    res = MeasuredResolution.from_data(_resolution(E)).prepare(E, Q)
    y0 = np.ones((Q.size, E.size))
    m = _Problem(setup, Q, res, y0, y0, y0 > 0).model(truth) * scale
    counts = np.random.default_rng(seed).poisson(np.clip(m, 0, None)).astype(float)
    return make_sqe(Q, E, counts / scale, np.sqrt(np.maximum(counts, 1.0)) / scale)


def _within(result, truth, names, n_sigma=3.0):
    pv = {p["name"]: (p["value"], p["error"]) for p in result.params}
    for n in names:
        v, e = pv[n]
        assert np.isfinite(e) and e > 0, n
        assert abs(v - truth[n]) < n_sigma * e, (n, v, e, truth[n])


def test_tie_eisf_round_trip():
    E = np.linspace(-1.0, 1.0, 161)
    Q = np.linspace(0.4, 2.0, 6)
    s = FitSetup(qens_model(1, "flat"))
    s.tie_eisf("circle:3", "L1", immobile=True, init={"radius": 1.2, "immobile": 0.2})
    s.share("L1_hwhm", 0.15, 1e-3, 5.0)
    s.share("shift", 0.0, -0.05, 0.05)
    truth = {"eisf_radius": 1.0, "immobile": 0.25, "L1_hwhm": 0.12, "shift": 0.002,
             **{f"intensity_q{i}": 1.0 for i in range(Q.size)}, **{f"bg0_q{i}": 0.01 for i in range(Q.size)}}
    assert "eisf_tau" not in s.rules["elastic_amplitude"].globals  # a rate has no effect on the EISF
    data = _simulate(s, truth, E, Q, seed=11, scale=3000.0)
    r = fit(data, _resolution(E), s)
    assert r.success and all(v == "ok" for v in r.status.values())
    _within(r, truth, ["eisf_radius", "immobile", "L1_hwhm"])
    # the fitted elastic fraction of each group is the model EISF at its Q
    gm = get_geometry_model("circle:3")
    pv = r.values
    ef = np.array([float(g.values["elastic_fraction"]) for g in r.groups])
    np.testing.assert_allclose(ef, gm.eisf(Q, immobile=pv["immobile"], radius=pv["eisf_radius"], tau=1.0),
                               rtol=1e-9)
    assert r.derived["circle:3_radius"].value == pytest.approx(pv["eisf_radius"])


def test_expand_geometry_round_trip():
    E = np.linspace(-1.5, 1.5, 201)
    Q = np.array([0.5, 1.0, 1.5, 2.0])
    s = FitSetup(qens_model(1, "flat"))
    s.expand_geometry("two-site", "L1", init={"d": 1.8, "tau": 5.0})
    truth = {"eisf_d": 2.2, "eisf_tau": 4.0, **{f"intensity_q{i}": 1.0 for i in range(Q.size)},
             **{f"shift_q{i}": 0.0 for i in range(Q.size)}, **{f"bg0_q{i}": 0.005 for i in range(Q.size)}}
    data = _simulate(s, truth, E, Q, seed=5, scale=4000.0)
    r = fit(data, _resolution(E), s)
    _within(r, truth, ["eisf_d", "eisf_tau"])
    # two-site: one Lorentzian of HWHM 2 hbar / tau
    from latdyn.units import HBAR_MEV_PS

    hw = np.ravel(r.groups[0].values["L1_hwhm"])
    assert hw == pytest.approx(2 * HBAR_MEV_PS / r.values["eisf_tau"], rel=1e-12)


def test_translation_rotation_round_trip():
    """Jump diffusion x isotropic rotation (the Teixeira water model) fitted back."""
    E = np.linspace(-1.5, 1.5, 121)
    Q = np.linspace(0.5, 2.0, 6)
    T = 293.0
    s = FitSetup(qens_model(1, "flat", temperature=T, elastic=False))
    s.tie_translation("L1", "singwi-sjolander", "sphere-rotation:3",
                      init={"D": 0.2, "tau": 1.0, "radius": 0.9, "D_r": 0.2})
    s.share("shift", 0.0, -0.05, 0.05)
    truth = {"L1_D": 0.23, "L1_tau": 1.25, "eisf_radius": 0.98, "eisf_D_r": 0.15, "shift": 0.001,
             **{f"intensity_q{i}": 1.0 for i in range(Q.size)}, **{f"bg0_q{i}": 0.003 for i in range(Q.size)}}
    data = _simulate(s, truth, E, Q, seed=3, scale=20000.0)
    r = fit(data, _resolution(E), s)
    assert 0.7 < r.reduced_chi2 < 1.4
    _within(r, truth, ["L1_D", "L1_tau", "eisf_radius", "eisf_D_r"])
    d = r.derived
    assert d["sphere-rotation_tau1_ps"][0] == pytest.approx(1 / (6 * r.values["eisf_D_r"]), rel=1e-9)
    # the first term is the translational Lorentzian: weight j0(Qa)^2, width Gamma_t(Q)
    from latdyn.qens import singwi_sjolander

    g = r.groups[-1]
    assert np.ravel(g.values["L1_hwhm"])[0] == pytest.approx(
        singwi_sjolander(g.Q, r.values["L1_D"], r.values["L1_tau"]), rel=1e-12)


@pytest.mark.parametrize("E0,gamma", [(1.0, 0.15), (0.4, 0.9)], ids=["underdamped", "overdamped"])
def test_dho_round_trip(E0, gamma):
    T = 150.0
    E = np.linspace(-3.0, 3.0, 241)
    Q = np.array([1.0, 2.0])
    model = SpectrumModel((Component("P", "dho"),), elastic=True, background="flat", temperature=T)
    s = FitSetup(model)
    s.set("P_E0", 0.7, 1e-3, 10).set("P_hwhm", 0.4, 1e-3, 10)
    truth = {}
    for i in range(Q.size):
        truth |= {f"shift_q{i}": 0.0, f"elastic_amplitude_q{i}": 0.5, f"P_amplitude_q{i}": 1.0,
                  f"P_E0_q{i}": E0, f"P_hwhm_q{i}": gamma, f"bg0_q{i}": 0.002}
    data = _simulate(s, truth, E, Q, seed=7, scale=5000.0)
    r = fit(data, _resolution(E), s, mode="per-q", progress=False)
    for g in r.groups:
        for p, t in (("P_E0", E0), ("P_hwhm", gamma), ("P_amplitude", 1.0)):
            assert abs(g.values[p] - t) < 3 * g.errors[p], (p, g.values[p], g.errors[p])
    # the model line obeys detailed balance: S(-E) = exp(-E/kT) S(E) away from the elastic line
    part = r.groups[0].parts["P"]
    i_pos, i_neg = np.searchsorted(E, 1.5), np.searchsorted(E, -1.5)
    assert part[i_neg] / part[i_pos] == pytest.approx(np.exp(-1.5 / (KB_MEV_PER_K * T)), rel=0.02)


def test_mcmc_posterior_matches_covariance():
    """emcee through lmfit on a small problem: posterior mean and width close to least squares."""
    pytest.importorskip("emcee")
    E = np.linspace(-0.6, 0.6, 61)
    Q = np.array([1.0])
    s = FitSetup(qens_model(1, "flat"))
    s.set("L1_hwhm", 0.1, 1e-3, 2.0)
    s.fix("shift", 0.0)
    truth = {"elastic_amplitude_q0": 0.4, "L1_amplitude_q0": 0.6, "L1_hwhm_q0": 0.1, "bg0_q0": 0.02}
    data = _simulate(s, truth, E, Q, seed=2, scale=5000.0)
    ls_fit = fit(data, _resolution(E), s, mode="global")
    mc = fit(data, _resolution(E), s, mode="global",
             mcmc={"steps": 600, "burn": 200, "thin": 2, "nwalkers": 16, "seed": 1})
    assert "MCMC" in mc.messages[0]
    a = {p["name"]: p for p in ls_fit.params}
    b = {p["name"]: p for p in mc.params}
    for n in ("L1_hwhm_q0", "elastic_amplitude_q0", "L1_amplitude_q0"):
        assert abs(b[n]["value"] - a[n]["value"]) < 1.0 * a[n]["error"]
        assert 0.6 < b[n]["error"] / a[n]["error"] < 1.6
        assert abs(b[n]["value"] - truth[n]) < 4 * b[n]["error"]


def test_nonuniform_grid_matches_voigt():
    """Data on a non-uniform energy grid: FFT on the fine grid + interpolation vs the Voigt."""
    rng = np.random.default_rng(0)
    e = np.sort(np.concatenate([np.linspace(-1, 1, 301), rng.uniform(-0.99, 0.99, 200)]))
    e = np.unique(np.round(e, 6))
    fine = np.linspace(-1.2, 1.2, 2401)
    res = MeasuredResolution.from_data(make_spectrum(fine, ls.gaussian(fine, 0.03))).prepare(e, np.ones(1))
    assert not res.uniform
    for g in (1e-4, 0.02, 0.2):
        val, _ = res.line("lorentzian", np.ones(1), {"hwhm": np.full(1, g)}, np.zeros(1))
        ref = ls.voigt(e, 0.03, g)
        assert np.max(np.abs(val[0] - ref)) < 3e-3 * ref.max()
