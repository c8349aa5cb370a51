"""k_i/k_f, Bose factor to chi'' and the detailed-balance temperature fit."""

import numpy as np
import pytest

from latdyn.data import from_numpy, make_spectrum, make_sqe
from latdyn.errors import InputError
from latdyn.lineshapes import dho
from latdyn.reduce import bose_to_chi, chi_to_sqe, detailed_balance_check, kf_ki_correction
from latdyn.units import E_PER_K2, KB_MEV_PER_K


def test_kf_ki_direct_and_indirect():
    e = np.array([-5.0, 0.0, 10.0])
    da = make_spectrum(e, np.ones(3), np.full(3, 0.1))
    out = kf_ki_correction(da, ei=25.0)
    np.testing.assert_allclose(out.values, np.sqrt(25.0 / (25.0 - e)))
    np.testing.assert_allclose(np.sqrt(out.variances), 0.1 * np.sqrt(25.0 / (25.0 - e)))
    ind = kf_ki_correction(da, ef=8.0)
    np.testing.assert_allclose(ind.values, np.sqrt((8.0 + e) / E_PER_K2) / np.sqrt(8.0 / E_PER_K2))
    with pytest.raises(InputError, match="not reachable"):
        kf_ki_correction(da, ef=2.08)
    with pytest.raises(InputError, match="not reachable"):
        kf_ki_correction(da, ei=8.0)
    with pytest.raises(InputError, match="exactly one"):
        kf_ki_correction(da)


def test_chi_of_a_dho_is_temperature_independent():
    e = np.linspace(-20, 20, 201)
    chi_ref = np.pi * dho(e, 8.0, 1.0)
    for T in (10.0, 300.0):
        s = dho(e, 8.0, 1.0, T=T)
        chi = bose_to_chi(make_spectrum(e, s), T)
        np.testing.assert_allclose(chi.values, chi_ref, atol=1e-12)
    back = chi_to_sqe(make_spectrum(e[e != 0], chi_ref[e != 0]), 300.0)
    np.testing.assert_allclose(back.values, dho(e[e != 0], 8.0, 1.0, T=300.0), rtol=1e-12)


def test_chi_uses_a_temperature_dimension():
    e = np.linspace(-10, 10, 41)
    t = np.array([50.0, 300.0])
    s = np.stack([dho(e, 5.0, 0.5, T=x) for x in t], axis=-1)
    da = from_numpy(s[None], {"Q": [1.0], "E": e, "T": t})
    chi = bose_to_chi(da)
    np.testing.assert_allclose(chi.values[0, :, 0], chi.values[0, :, 1], atol=1e-12)
    with pytest.raises(InputError, match="temperature must be finite and > 0"):
        bose_to_chi(make_sqe([1.0, 2.0], e, np.ones((2, 41))), 0.0)


def test_detailed_balance_recovers_the_temperature():
    rng = np.random.default_rng(7)
    e = np.linspace(-15, 15, 301)
    T = 180.0
    s = 1e4 * (dho(e, 6.0, 1.5, T=T) + 0.02 * np.exp(-0.5 * (e / 0.3) ** 2))
    counts = rng.poisson(s).astype(float)
    da = make_spectrum(e, counts, np.sqrt(np.maximum(counts, 1)))
    res = detailed_balance_check(da, 2.0, 12.0, expected_temperature=T)
    assert abs(res.temperature - T) < 3 * res.temperature_error
    assert res.temperature_error < 10
    assert 0.5 < res.reduced_chi2 < 2.0
    wrong = detailed_balance_check(make_spectrum(e, s, np.sqrt(s)), 2.0, 12.0)
    assert wrong.temperature == pytest.approx(T, rel=1e-3)
    # a spectrum that breaks detailed balance (symmetric) reads as a very high T
    sym = make_spectrum(e, 1e4 * dho(np.abs(e) + 1e-9, 6.0, 1.5) + 1, np.full(301, 1.0))
    assert detailed_balance_check(sym, 2.0, 12.0).temperature > 1e4 * KB_MEV_PER_K


def test_detailed_balance_bad_range():
    da = make_spectrum(np.linspace(-5, 15, 81), np.ones(81), np.ones(81))
    with pytest.raises(InputError, match="outside the data"):
        detailed_balance_check(da, 1.0, 10.0)
    with pytest.raises(InputError, match="e_min"):
        detailed_balance_check(da, 0.0, 4.0)
