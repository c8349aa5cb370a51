"""Back-to-back exponential TOF peaks (Von Dreele, Jorgensen & Windsor 1982): unit area, the
numerical convolution, the Gaussian limit, no overflow, and TOF patterns built from them."""

import numpy as np
import pytest
from scipy.signal import fftconvolve

from latdyn.diffraction import reflections
from latdyn.diffraction.patterns import tof_pattern
from latdyn.diffraction.profiles import back_to_back_gaussian, tof_exponents
from latdyn.errors import InputError
from latdyn.kinematics import difc
from latdyn.structure import read_cif


@pytest.mark.parametrize("alpha, beta, sigma", [(0.5, 0.05, 3.0), (5.0, 0.02, 1.0),
                                                 (0.01, 0.01, 10.0), (50.0, 50.0, 0.5)])
def test_unit_area_and_finite(alpha, beta, sigma):
    x = np.linspace(-3000.0, 3000.0, 1_200_001)
    y = back_to_back_gaussian(x, alpha, beta, sigma)
    assert np.all(np.isfinite(y)) and np.all(y >= 0)
    assert np.trapezoid(y, x) == pytest.approx(1.0, abs=1e-6)


def test_equals_numerical_convolution():
    a, b, s = 0.3, 0.05, 4.0
    t = np.linspace(-400.0, 400.0, 80001)
    dt = t[1] - t[0]
    h = np.where(t < 0, np.exp(a * t), np.exp(-b * t)) * a * b / (a + b)
    g = np.exp(-0.5 * (t / s) ** 2) / (np.sqrt(2 * np.pi) * s)
    conv = fftconvolve(h, g, mode="same") * dt   # np.convolve's direct sum: 6e9 products, ~1 min
    y = back_to_back_gaussian(t, a, b, s)
    assert np.max(np.abs(conv - y)) < 1e-5 * y.max()


def test_gaussian_limit_and_asymmetry():
    x = np.linspace(-20.0, 20.0, 401)
    gauss = np.exp(-0.5 * (x / 2.0) ** 2) / (np.sqrt(2 * np.pi) * 2.0)
    fast = back_to_back_gaussian(x, 1e4, 1e4, 2.0)
    assert np.max(np.abs(fast - gauss)) < 1e-3 * gauss.max()
    slow_decay = back_to_back_gaussian(x, 5.0, 0.1, 2.0)
    assert x[np.argmax(slow_decay)] > 0                       # the slow decay pulls the peak up
    assert slow_decay[x > 8].sum() > 10 * slow_decay[x < -8].sum()


def test_gsas_d_dependence():
    a, b = tof_exponents(np.array([1.0, 2.0]), (0.1, 0.4), (0.02, 0.16))
    assert a == pytest.approx([0.5, 0.3]) and b == pytest.approx([0.18, 0.03])
    with pytest.raises(InputError, match="alpha"):
        tof_exponents(1.0, (1, 2, 3), 0.1)
    with pytest.raises(InputError, match="sigma"):
        back_to_back_gaussian(0.0, 1.0, 1.0, 0.0)


def test_tof_pattern_keeps_the_integrated_intensities(cif_dir):
    nacl = read_cif(cif_dir / "NaCl.cif")
    c = difc(95.0, 90.0)
    d = np.linspace(0.9, 3.6, 40000)
    kw = {"difc": c, "dd_over_d": 0.003}
    pv = tof_pattern(nacl, d, **kw)
    b2b = tof_pattern(nacl, d, profile="back-to-back", alpha=(0.0, 0.6), beta=(0.02, 0.01), **kw)
    refl = reflections(nacl, 0.7, 4.0)
    i = int(np.argmax(refl.d < 3.5))                          # the strongest low-angle peak
    win = (d > refl.d[i] - 0.02 * refl.d[i]) & (d < refl.d[i] + 0.06 * refl.d[i])
    expect = refl.multiplicity[i] * refl.f2[i] * refl.d[i] ** 4
    assert np.trapezoid(b2b.values[win], d[win]) == pytest.approx(expect, rel=5e-3)
    assert d[win][np.argmax(b2b.values[win])] > refl.d[i]     # peak maximum after d_hkl
    assert b2b.values.max() < pv.values.max()                 # same area, spread further
    with pytest.raises(InputError, match="alpha"):
        tof_pattern(nacl, d, profile="back-to-back", beta=0.02, **kw)
    with pytest.raises(InputError, match="profile"):
        tof_pattern(nacl, d, profile="lorentz", **kw)
