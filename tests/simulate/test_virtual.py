"""Virtual experiments: analytic convolution limits and simulate-then-fit round trips.

The round trips analyse the virtual data with latdyn.fitting (resolution convolution, model
composition) and Poisson weights (latdyn.simulate.fit_poisson): every parameter, background
included, must come back unbiased and within 2 sigma for most noise seeds.
"""

import numpy as np
import pytest
from scipy.special import voigt_profile

from latdyn.convolution import AnalyticResolution
from latdyn.errors import InputError
from latdyn.instruments import FWHM_PER_SIGMA, load_instrument
from latdyn.lineshapes import dho
from latdyn.qens import Component, FitSetup, SpectrumModel, fit, qens_model
from latdyn.simulate import (
    convolve_gaussian_variable,
    counts_per_unit,
    fit_poisson,
    pearson_variances,
    simulate_sqe,
    virtual_qens,
)
from latdyn.units import KB_MEV_PER_K


def test_lorentzian_convolution_is_voigt():
    e = np.linspace(-0.3, 0.3, 121)
    fwhm = 0.02 + 0.05 * np.abs(e)
    gamma = 0.03
    out = convolve_gaussian_variable(lambda x: gamma / np.pi / (x**2 + gamma**2), e, fwhm,
                                     elastic=0.5, oversample=10)
    sig = fwhm / FWHM_PER_SIGMA
    expected = voigt_profile(e, sig, gamma) + 0.5 * np.exp(-0.5 * (e / sig) ** 2) / (np.sqrt(2 * np.pi) * sig)
    assert np.allclose(out, expected, rtol=2e-3, atol=1e-4 * expected.max())


def test_area_is_conserved():
    e = np.linspace(-2, 2, 801)
    out = convolve_gaussian_variable(lambda x: np.exp(-x**2 / 0.02), e, np.full(e.size, 0.1))
    assert np.trapezoid(out, e) == pytest.approx(np.sqrt(np.pi * 0.02), rel=1e-4)


def test_coverage_mask_and_bad_input():
    a = load_instrument("AMATERAS")
    da = simulate_sqe(lambda q, e: np.ones_like(e), a, [0.2, 1.0, 4.0], np.linspace(-2, 3.0, 51),
                      ei=3.134, seed=0)
    mask = da.masks["outside_coverage"].values
    assert mask[2].all() and not mask[1].all()
    assert np.all(da.values[mask] == 0)
    with pytest.raises(InputError):
        simulate_sqe(lambda q, e: -np.ones_like(e), a, [1.0], np.linspace(-1, 1, 11), ei=3.134)


def test_shared_kernels_equal_per_q_convolution():
    """simulate_sqe builds one set of resolution kernels for all |Q|; it must equal the per-|Q|
    convolution (noise-free values are the broadened S)."""
    a = load_instrument("AMATERAS")
    q, e = np.array([0.5, 1.0, 2.0]), np.linspace(-1.0, 2.5, 141)

    def model(qi, x):
        return 0.2 * dho(x, 0.5 + qi, 0.1, 50.0) + 0.01

    da = simulate_sqe(model, a, q, e, ei=3.134, noise=False, chunk_size=17, progress=True,
                      lines=lambda qi: ([1.0], [0.1 * qi]))
    fwhm = a.resolution(e, ei=3.134)
    for i, qi in enumerate(q):
        ref = convolve_gaussian_variable(lambda x, qi=qi: model(qi, x), e, fwhm, lines=([1.0], [0.1 * qi]))
        inside = ~da.masks["outside_coverage"].values[i]
        assert np.allclose(da.values[i][inside], ref[inside], rtol=1e-12, atol=0)


def _gaussian_resolution(fwhm: float) -> AnalyticResolution:
    """The instrument's Gaussian resolution (meV FWHM) as a latdyn.fitting resolution."""
    return AnalyticResolution(np.array([fwhm / FWHM_PER_SIGMA]), np.zeros(1), np.zeros(1), np.zeros(1))


def _once(resolution, setup):
    """latdyn.fitting.fit as the least-squares step of fit_poisson."""
    def run(data, start):
        result = fit(data, resolution, setup, start=start)
        model = np.full(data.values.shape, np.nan)
        for g in result.groups:
            model[g.index] = g.model
        return result, model, result.values
    return run


def _pulls(results, truth):
    """(fit - input) / standard error of one group per result, one row per seed."""
    return np.array([[(r.groups[0].values[k] - v) / r.groups[0].errors[k] for k, v in truth.items()]
                     for r in results])


def _assert_unbiased(pulls):
    """Within 2 sigma for most seeds and unbiased on average (|mean pull| < 3 / sqrt(n))."""
    assert np.all(np.mean(np.abs(pulls) < 2, axis=0) >= 0.8)
    assert np.all(np.abs(pulls.mean(axis=0)) < 3 / np.sqrt(len(pulls)))


SEEDS = range(12)


def test_counts_per_unit_recovers_the_scale():
    a = load_instrument("AMATERAS")
    e = np.linspace(0.5, 2.0, 31)
    da = simulate_sqe(lambda q, x: np.full_like(x, 0.02), a, [1.5], e, ei=3.134, counts_scale=50.0,
                      seed=3)
    f = counts_per_unit(da.values, da.variances)
    assert np.allclose(f, 50.0 * np.sqrt((3.134 - e) / 3.134))   # C k_f / k_i, zero counts included
    model = np.full(da.values.shape, 0.02)
    assert np.allclose(pearson_variances(da, model).variances, 0.02 / f)
    with pytest.raises(InputError):
        counts_per_unit([1.0], [0.0])


def test_virtual_ins_round_trip():
    """A damped phonon (DHO, E0 = 1.5 meV, Gamma = 0.05 meV) on a flat background of ~10 counts per
    bin, measured on AMATERAS at Ei = 3.134 meV and 2 K (Bose factor 1 at E > 0), fitted with
    latdyn.fitting's DHO convolved with the instrument resolution at E0."""
    a = load_instrument("AMATERAS")
    ei, e0, gamma, area, bg = 3.134, 1.5, 0.05, 1.0, 0.05
    e = np.linspace(0.9, 2.1, 121)
    resolution = _gaussian_resolution(float(a.resolution(e0, ei=ei)))
    setup = FitSetup(SpectrumModel((Component("ph", "dho"),), elastic=False, background="flat",
                                   temperature=2.0))
    setup.set("ph_E0", 1.45, 0.5, 3.0).set("ph_hwhm", 0.08, 1e-4, 1.0).set("ph_amplitude", 0.2, 0, 10)
    setup.fix("shift", 0.0)
    # the fitting 'dho' is the unit-area classical DHO times B(E): amplitude = area 2 k_B T / E0
    amplitude = area * 2.0 * KB_MEV_PER_K * 2.0 / e0
    truth = {"ph_amplitude": amplitude, "ph_E0": e0, "ph_hwhm": gamma, "bg0": bg}
    poisson, neyman = [], []
    for seed in SEEDS:
        da = simulate_sqe(lambda q, x: area * dho(x, e0, gamma, 2.0) + bg, a, [1.5], e, ei=ei,
                          counts_scale=200.0, seed=seed)
        poisson.append(fit_poisson(da, _once(resolution, setup))[0])
        neyman.append(fit(da, resolution, setup))
    _assert_unbiased(_pulls(poisson, truth))
    # observed-count variances (Neyman's chi^2) put the background about one count low
    assert _pulls(neyman, {"bg0": bg}).mean() < -1.0


def test_virtual_qens_round_trip():
    """Elastic (EISF 0.3) + Lorentzian (HWHM 40 ueV) + background of ~1.5 counts per bin on IRIS,
    fitted with latdyn.fitting's elastic + Lorentzian model and the instrument's elastic
    resolution."""
    iris = load_instrument("IRIS")
    gamma, eisf, bg = 0.04, 0.3, 0.0005
    resolution = _gaussian_resolution(float(iris.resolution(0.0)))
    setup = FitSetup(qens_model(1, "flat"))
    setup.set("L1_hwhm", 0.03, 1e-4, 1.0)
    setup.fix("shift", 0.0)
    truth = {"elastic_amplitude": eisf, "L1_amplitude": 1 - eisf, "L1_hwhm": gamma, "bg0": bg}
    results = []
    for seed in SEEDS:
        da = virtual_qens(lambda q, x: (1 - eisf) * gamma / np.pi / (x**2 + gamma**2) + bg, iris, [1.0],
                          elastic=lambda q: eisf, counts_scale=3000.0, seed=seed)
        results.append(fit_poisson(da, _once(resolution, setup))[0])
    _assert_unbiased(_pulls(results, truth))
