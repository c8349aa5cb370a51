"""Line shapes: unit area, HWHM, detailed balance, closed-form identities."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from latdyn import lineshapes as ls
from latdyn.errors import InputError
from latdyn.units import KB_MEV_PER_K

widths = st.floats(0.01, 5.0)
centres = st.floats(-2.0, 2.0)


def _area(f, c):
    kw = dict(limit=500, epsabs=1e-13, epsrel=1e-12)
    return integrate.quad(f, -np.inf, c, **kw)[0] + integrate.quad(f, c, np.inf, **kw)[0]


@settings(max_examples=25, deadline=None)
@given(widths, centres)
def test_unit_area_and_hwhm(w, c):
    for f in (lambda e: ls.gaussian(e, w, c), lambda e: ls.lorentzian(e, w, c),
              lambda e: ls.pseudo_voigt(e, w, 0.3, c)):
        assert _area(f, c) == pytest.approx(1.0, rel=1e-8)
        peak = f(c)
        assert f(c + w) == pytest.approx(0.5 * peak, rel=1e-12)
        assert f(c - w) == pytest.approx(0.5 * peak, rel=1e-12)


def test_voigt_is_numeric_convolution():
    hg, hl = 0.3, 0.2
    e = np.array([-1.0, -0.1, 0.0, 0.25, 2.0])
    num = [integrate.quad(lambda u, x=x: ls.gaussian(u, hg) * ls.lorentzian(x - u, hl), -np.inf,
                          np.inf, epsabs=1e-14, epsrel=1e-12, limit=400)[0] for x in e]
    assert np.allclose(ls.voigt(e, hg, hl), num, rtol=1e-10, atol=0)
    assert np.allclose(ls.voigt(e, hg, 0.0), ls.gaussian(e, hg), rtol=1e-12)
    assert np.allclose(ls.voigt(e, 0.0, hl), ls.lorentzian(e, hl), rtol=1e-12)
    # Olivero-Longbothum width, 0.02 %
    half = ls.voigt(0.0, hg, hl) / 2
    from scipy.optimize import brentq
    true = brentq(lambda x: ls.voigt(x, hg, hl) - half, 0, 5)
    assert ls.voigt_hwhm(hg, hl) == pytest.approx(true, rel=3e-4)


@settings(max_examples=25, deadline=None)
@given(st.floats(-20, 20), st.floats(1.0, 600.0), widths)
def test_detailed_balance(e, T, w):
    """S(-|E|) = exp(-|E|/kT) S(|E|); the factor <= 1 side is the one computed, so a gain-side
    value below the double range (0) is compared with a product that underflows too."""
    kt = KB_MEV_PER_K * T
    loss, gain = abs(e), -abs(e)
    for f in (ls.gaussian, ls.lorentzian):
        assert f(gain, w, T=T) == pytest.approx(np.exp(-loss / kt) * f(loss, w, T=T), rel=1e-9,
                                                abs=1e-290)
    assert ls.dho(gain, 3.0, w, T=T) == pytest.approx(np.exp(-loss / kt) * ls.dho(loss, 3.0, w, T=T),
                                                       rel=1e-9, abs=1e-290)


def test_dho_two_lorentzians_and_sum_rule():
    e0, g = 5.0, 0.7
    eq = ls.dho_peak_energy(e0, g)
    e = np.linspace(-15, 15, 301)
    two = (e0 / eq) * (ls.lorentzian(e, g, eq) - ls.lorentzian(e, g, -eq))
    assert np.allclose(ls.dho(e, e0, g), two, rtol=1e-12, atol=1e-15)
    for damping in (0.1, 2.0, 8.0):  # under- and over-damped
        m1 = integrate.quad(lambda x, d=damping: x * ls.dho(x, e0, d), 0, np.inf, limit=500,
                            epsrel=1e-12)[0]
        assert m1 == pytest.approx(e0, rel=1e-9)
    # T -> 0: S = D for E > 0 and 0 below; E = 0 limit finite and continuous
    assert ls.dho(2.0, e0, g, T=1e-3) == pytest.approx(ls.dho(2.0, e0, g), rel=1e-12)
    assert ls.dho(-2.0, e0, g, T=1e-3) == pytest.approx(0.0, abs=1e-300)
    s0 = ls.dho(0.0, e0, g, T=300.0)
    assert np.isfinite(s0) and s0 == pytest.approx(ls.dho(1e-7, e0, g, T=300.0), rel=1e-6)


def test_delta_moments():
    e = np.array([-1.0, -0.4, 0.0, 0.3, 1.1, 2.0])
    d = ls.delta(e, 0.17)
    assert integrate.trapezoid(d, e) == pytest.approx(1.0, rel=1e-14)
    assert integrate.trapezoid(d * e, e) == pytest.approx(0.17, rel=1e-13)
    assert not ls.delta(e, 5.0).any()


def test_integral2_second_derivative():
    x = np.linspace(-3, 3, 13)
    h = 1e-3
    for phi, f in ((ls.lorentzian_integral2, ls.lorentzian), (ls.gaussian_integral2, ls.gaussian)):
        d2 = (phi(x + h, 0.4) - 2 * phi(x, 0.4) + phi(x - h, 0.4)) / h**2
        assert np.allclose(d2, f(x, 0.4), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call", [lambda: ls.lorentzian(0.0, -1.0), lambda: ls.gaussian(0.0, 0.0),
                                  lambda: ls.pseudo_voigt(0.0, 1.0, 1.5),
                                  lambda: ls.lorentzian(np.nan, 1.0), lambda: ls.voigt(0, 0, 0)])
def test_bad_input(call):
    with pytest.raises(InputError):
        call()


@pytest.mark.parametrize("E0,g", [(1.0, 0.1), (0.5, 0.5), (0.3, 1.2)])
def test_dho_symmetric_area_and_detailed_balance(E0, g):
    """(E0/2) D(E)/E: unit area for any damping; with T it is (E0 / 2kT) [n+1] D(E)."""
    area = _area(lambda e: ls.dho_symmetric(e, E0, g), 0.0)
    assert area == pytest.approx(1.0, rel=1e-8)
    e = np.array([-2.0, -0.3, 1e-9, 0.4, 2.5])
    T = 80.0
    np.testing.assert_allclose(ls.dho_symmetric(e, E0, g, T=T),
                               E0 / (2 * KB_MEV_PER_K * T) * ls.dho(e, E0, g, T=T), rtol=1e-9)
    assert ls.dho_symmetric(0.0, E0, g) == pytest.approx(2 * g / (np.pi * E0**2), rel=1e-14)
