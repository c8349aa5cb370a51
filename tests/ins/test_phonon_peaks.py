"""Phonon-peak fits: exact convolution limits and simulate -> fit round trips."""

import numpy as np
import pytest
import scipp as sc

from latdyn.convolution import EnergyResolution, thermal_conv
from latdyn.convolution.kernels import poles
from latdyn.data import from_numpy, make_spectrum
from latdyn.errors import InputError
from latdyn.inelastic import PhononPeakModel, fit_phonon_peaks, fit_temperature_series
from latdyn.lineshapes import dho, lorentzian
from latdyn.thermo import lifetime
from latdyn.units import KB_MEV_PER_K, bose_correction

RES = [0.45, -0.012, 1.5e-4]          # FWHM(E) = 0.45 - 0.012 E + 1.5e-4 E^2 meV
E_GRID = np.arange(-10.0, 22.0, 0.1)


def _truth(T):
    return {"shift": 0.0, "elastic_area": 400.0, "qe_area": 150.0, "qe_hwhm": 0.6 + 0.002 * T,
            "dho1_area": 300.0, "dho1_E0": 5.0 - 0.002 * T, "dho1_gamma": 0.25 + 0.001 * T,
            "dho2_area": 500.0, "dho2_E0": 11.0, "dho2_gamma": 13.0, "bg0": 2.0}


def _brute_force(E, T, p):
    """Independent reference: S(E') on a fine grid, convolved point by point with G(sigma(E_i))."""
    res = EnergyResolution.from_spec(RES)
    sig = res.sigma(E)
    fine = np.arange(E[0] - 4.0, E[-1] + 4.0, 0.0025)
    s = (p["qe_area"] * lorentzian(fine, p["qe_hwhm"], T=T)
         + p["dho1_area"] * dho(fine, p["dho1_E0"], p["dho1_gamma"], T=T)
         + p["dho2_area"] * dho(fine, p["dho2_E0"], p["dho2_gamma"], T=T))
    out = np.empty_like(E)
    for i, (e, sg) in enumerate(zip(E, sig, strict=True)):
        g = np.exp(-0.5 * ((e - fine) / sg) ** 2) / (np.sqrt(2 * np.pi) * sg)
        out[i] = np.trapezoid(g * s, fine)
    elastic = p["elastic_area"] * np.exp(-0.5 * (E / sig) ** 2) / (np.sqrt(2 * np.pi) * sig)
    return out + elastic + p["bg0"]


def test_convolution_matches_brute_force():
    T = 60.0   # k_B T = 5.2 meV: the Bose factor varies strongly across the elastic region
    p = _truth(T)
    model = PhononPeakModel(n_dho=2)
    res = EnergyResolution.from_spec(RES)
    ours = model.evaluate(E_GRID, res.sigma(E_GRID), p, T)
    ref = _brute_force(E_GRID, T, p)
    np.testing.assert_allclose(ours, ref, rtol=2e-4, atol=1e-3)


def test_narrow_resolution_gives_the_bare_lines():
    e = np.linspace(-8, 15, 47)
    sig = np.full(e.shape, 1e-5)
    pl = poles("dho", {"E0": 6.0, "hwhm": 9.0})
    even = [(KB_MEV_PER_K * 300.0 * c / pk, pk) for c, pk in pl]   # k_B T D(E) / E
    np.testing.assert_allclose(thermal_conv(e, sig, even, 300.0), dho(e, 6.0, 9.0, T=300.0),
                               rtol=1e-6)
    lor = thermal_conv(e, sig, poles("lorentzian", {"hwhm": 0.7}), 40.0)
    np.testing.assert_allclose(lor, lorentzian(e, 0.7) * bose_correction(e, 40.0), rtol=1e-6)


def _simulate(T, seed, scale=20.0):
    rng = np.random.default_rng(seed)
    mean = scale * _brute_force(E_GRID, T, _truth(T))
    counts = rng.poisson(mean).astype(float)
    return make_spectrum(E_GRID, counts / scale, np.sqrt(np.maximum(counts, 1.0)) / scale)


def test_round_trip_series_within_two_sigma():
    temps = [100.0, 200.0, 300.0]
    series = fit_temperature_series([_simulate(T, 11 + i) for i, T in enumerate(temps)], temps, RES,
                                    n_dho=2, e0=[4.5, 10.0], gamma=[0.5, 8.0],
                                    group_velocity=[1500.0, 800.0])
    pulls = []
    for f in series.fits:
        truth = _truth(f.temperature)
        assert f.success and 0.7 < f.reduced_chi2 < 1.4
        for k, v in truth.items():
            pulls.append((f.values[k] - v) / f.errors[k])
        d1, d2 = f.derived
        assert not d1["overdamped"] and d2["overdamped"]      # the criterion Gamma >= E0
        assert d2["overdamping_significance"] > 2
        assert d1["lifetime_ps"] == pytest.approx(lifetime(f.values["dho1_gamma"]))
        assert d1["mean_free_path_A"] == pytest.approx(1500.0 * d1["lifetime_ps"] * 1e-2)
    pulls = np.abs(np.array(pulls))
    assert np.all(pulls < 3.0)
    assert np.mean(pulls < 2.0) >= 0.9
    rows = series.rows()
    assert [r["T_K"] for r in rows] == temps and "dho2_overdamped" in rows[0]


def test_sequential_over_a_t_dimension_and_csv(tmp_path):
    temps = np.array([150.0, 250.0])
    vals = np.stack([_simulate(T, 3).values for T in temps])
    errs = np.stack([np.sqrt(_simulate(T, 3).variances) for T in temps])
    da = from_numpy(vals, {"T": temps, "E": E_GRID}, errors=errs)
    series = fit_temperature_series(da, None, lambda e: np.polynomial.polynomial.polyval(e, RES),
                                    n_dho=2, e0=[4.5, 10.0], gamma=[0.5, 8.0])
    out = series.write_csv(tmp_path / "fits.csv")
    text = out.read_text().splitlines()
    assert text[0].startswith("T_K,shift,shift_err") and len(text) == 3


def test_masked_points_are_ignored():
    spec = _simulate(200.0, 5)
    spec.values[10:20] = 1e6
    spec.masks["spurion"] = sc.array(dims=["E"], values=np.arange(E_GRID.size) // 10 == 1)
    f = fit_phonon_peaks(spec, 200.0, RES, n_dho=2, e0=[4.5, 10.0], gamma=[0.5, 8.0])
    assert f.n_points == E_GRID.size - 10 and f.reduced_chi2 < 1.5


def test_bad_input():
    spec = _simulate(200.0, 1)
    with pytest.raises(InputError, match="temperature"):
        fit_phonon_peaks(spec, 0.0, RES, n_dho=1, e0=[5.0])
    with pytest.raises(InputError, match="initial oscillator energies"):
        fit_phonon_peaks(spec, 200.0, RES, n_dho=2, e0=[5.0])
    with pytest.raises(InputError, match="not positive"):
        fit_phonon_peaks(spec, 200.0, [0.1, -0.1], n_dho=1, e0=[5.0])
    with pytest.raises(InputError, match="uncertainties"):
        fit_phonon_peaks(make_spectrum(E_GRID, np.ones(E_GRID.size)), 200.0, RES, n_dho=1, e0=[5.0])


def test_instrument_resolution_is_used_as_given():
    from latdyn.instruments import load_instrument

    cncs = load_instrument("CNCS")
    e = np.array([-1.0, 0.0, 1.0, 2.0])
    res = EnergyResolution.from_spec(cncs, ei=3.32)
    np.testing.assert_allclose(res.fwhm(e), cncs.resolution(e, ei=3.32))
    assert np.all(np.diff(res.fwhm(e)) < 0)   # direct geometry: sharper at energy loss
