r"""Normalised spectral line shapes of energy transfer E (meV).

Every line shape is a density in 1/meV with unit area over E, takes its width as the half
width at half maximum (HWHM, meV) and accepts an optional centre (meV):

- delta:        delta(E - E_c), represented on a grid of points by the two nearest points
                (linear-interpolation weights: area 1 and first moment E_c exactly)
- Gaussian:     G(E) = exp(-(E - E_c)^2 / (2 sigma^2)) / (sqrt(2 pi) sigma),
                sigma = HWHM / sqrt(2 ln 2)
- Lorentzian:   L(E) = (Gamma / pi) / ((E - E_c)^2 + Gamma^2)
- Voigt:        V = G (x) L, the convolution (Faddeeva function; Olivero & Longbothum,
                JQSRT 17, 233 (1977) for its width)
- pseudo-Voigt: eta L + (1 - eta) G with one common HWHM
- DHO:          damped harmonic oscillator (Fak & Dorner, Physica B 234-236, 1107 (1997))
                D(E) = (1/pi) 4 Gamma E E_0 / ((E^2 - E_0^2)^2 + 4 E^2 Gamma^2), and its
                unit-area symmetric form (E_0/2) D(E)/E (:func:`dho_symmetric`)

Detailed balance on request (``T`` in K): a classical (symmetric) line S_cl(E) becomes
S(E) = B(E) S_cl(E) with B(E) = (E / k_B T) / (1 - exp(-E / k_B T)) (:func:`latdyn.units.bose_correction`),
so that S(-E) = exp(-E / k_B T) S(E).  B(0) = 1, so the factor leaves the elastic line and the
E -> 0 limit intact.  The DHO is an odd response function; with ``T`` it is multiplied by the
detailed-balance factor n(E) + 1 (finite at E = 0 because D(E) is proportional to E).

Second antiderivatives (``*_integral2``) are given for the exact convolution of a line with a
piecewise-linear resolution (:mod:`latdyn.fitting.kernels`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .errors import InputError
from .units import FWHM_PER_SIGMA, KB_MEV_PER_K, bose_correction

__all__ = [
    "FWHM_PER_HWHM",
    "sigma_from_hwhm",
    "hwhm_from_sigma",
    "delta",
    "gaussian",
    "lorentzian",
    "voigt",
    "voigt_hwhm",
    "pseudo_voigt",
    "dho",
    "dho_symmetric",
    "dho_peak_energy",
    "detailed_balance",
    "gaussian_integral2",
    "lorentzian_integral2",
]

#: FWHM / HWHM.
FWHM_PER_HWHM = 2.0
_SQRT_2LN2 = FWHM_PER_SIGMA / 2.0        # HWHM / sigma = sqrt(2 ln 2)


def sigma_from_hwhm(hwhm):
    """Gaussian standard deviation (meV) from its HWHM (meV): sigma = HWHM / sqrt(2 ln 2)."""
    return np.asarray(hwhm, dtype=float) / _SQRT_2LN2


def hwhm_from_sigma(sigma):
    """Gaussian HWHM (meV) from its standard deviation (meV): HWHM = sqrt(2 ln 2) sigma."""
    return np.asarray(sigma, dtype=float) * _SQRT_2LN2


def _energy(E) -> np.ndarray:
    e = np.asarray(E, dtype=float)
    if not np.all(np.isfinite(e)):
        raise InputError("energy transfer must be finite", field="E",
                         value=e[~np.isfinite(e)].ravel()[0])
    return e


def _width(w, name: str, allow_zero: bool = False) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    ok = np.isfinite(w) & ((w >= 0) if allow_zero else (w > 0))
    if not np.all(ok):
        raise InputError(f"{name} must be {'non-negative' if allow_zero else 'positive'} and finite",
                         field=name, value=w[~ok].ravel()[0] if w.ndim else float(w))
    return w


def _scalar_or_array(x: np.ndarray):
    return x.item() if x.ndim == 0 else x


def detailed_balance(E, T):
    r"""Detailed-balance factor B(E) = (E/k_B T) / (1 - exp(-E/k_B T)) for a classical line.

    S(E) = B(E) S_cl(E) obeys S(-E) = exp(-E / k_B T) S(E) when S_cl is even in E; B(0) = 1.
    E in meV, T in K (T > 0).  Reference: Schofield, PRL 4, 239 (1960); Squires (2012) ch. 4.
    """
    return bose_correction(_energy(E), T)


def _apply_db(values: np.ndarray, E: np.ndarray, T) -> np.ndarray:
    return values if T is None else values * detailed_balance(E, T)


def delta(E, center: float = 0.0, T=None):
    r"""Unit-area delta(E - E_c) on a grid of points E (meV, strictly increasing).

    The delta is the sum of the hat functions of the two grid points around E_c with
    linear-interpolation weights, divided by the trapezoid weight of each point, so that the
    trapezoid integral is 1 and the first moment is E_c exactly.  A centre outside the grid
    gives zeros.  Detailed balance is irrelevant for an elastic line (B(0) = 1); ``T`` is
    accepted for a uniform interface and applied at the grid points.
    """
    e = _energy(E)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise InputError("delta needs a strictly increasing 1-D grid of at least 2 points",
                         field="E", value=e.shape)
    out = np.zeros_like(e)
    c = float(center)
    if c < e[0] or c > e[-1]:
        return out
    j = int(np.clip(np.searchsorted(e, c) - 1, 0, e.size - 2))
    f = (c - e[j]) / (e[j + 1] - e[j])
    w = np.empty_like(e)
    w[1:-1] = 0.5 * (e[2:] - e[:-2])
    w[0] = 0.5 * (e[1] - e[0])
    w[-1] = 0.5 * (e[-1] - e[-2])
    out[j] += (1.0 - f) / w[j]
    out[j + 1] += f / w[j + 1]
    return _apply_db(out, e, T)


def gaussian(E, hwhm, center=0.0, T=None):
    r"""Unit-area Gaussian G(E) = exp(-(E-E_c)^2 / 2 sigma^2) / (sqrt(2 pi) sigma).

    ``hwhm`` (meV) = sqrt(2 ln 2) sigma; ``center`` E_c (meV); with ``T`` (K) multiplied by the
    detailed-balance factor B(E).  Returns 1/meV.
    """
    e = _energy(E)
    s = sigma_from_hwhm(_width(hwhm, "hwhm"))
    x = (e - center) / s
    return _scalar_or_array(_apply_db(np.exp(-0.5 * x * x) / (np.sqrt(2 * np.pi) * s), e, T))


def lorentzian(E, hwhm, center=0.0, T=None):
    r"""Unit-area Lorentzian L(E) = (Gamma / pi) / ((E - E_c)^2 + Gamma^2).

    ``hwhm`` Gamma (meV); ``center`` E_c (meV); with ``T`` (K) multiplied by B(E).  Returns
    1/meV.  The Fourier transform is exp(-Gamma |t| / hbar) (Bee 1988, ch. 2).
    """
    e = _energy(E)
    g = _width(hwhm, "hwhm")
    x = e - center
    return _scalar_or_array(_apply_db(g / (np.pi * (x * x + g * g)), e, T))


def voigt(E, gaussian_hwhm, lorentzian_hwhm, center=0.0, T=None):
    r"""Unit-area Voigt profile V = G(sigma) (x) L(Gamma), the exact convolution.

    V(E) = Re[w(z)] / (sigma sqrt(2 pi)), z = (E - E_c + i Gamma) / (sigma sqrt 2), w the
    Faddeeva function (scipy.special.voigt_profile).  Widths are HWHM in meV; a zero
    Lorentzian width gives the Gaussian and a zero Gaussian width the Lorentzian.
    """
    e = _energy(E)
    hg = _width(gaussian_hwhm, "gaussian_hwhm", allow_zero=True)
    hl = _width(lorentzian_hwhm, "lorentzian_hwhm", allow_zero=True)
    if np.any((hg == 0) & (hl == 0)):
        raise InputError("a Voigt profile needs one positive width", field="hwhm", value=0.0)
    v = special.voigt_profile(e - center, sigma_from_hwhm(hg), hl)
    return _scalar_or_array(_apply_db(np.asarray(v, dtype=float), e, T))


def voigt_hwhm(gaussian_hwhm, lorentzian_hwhm):
    r"""Approximate HWHM of a Voigt profile (meV), Olivero & Longbothum (1977), 0.02 % accurate.

    f_V = 0.5346 f_L + sqrt(0.2166 f_L^2 + f_G^2) (any common width definition).
    """
    fg = np.asarray(gaussian_hwhm, dtype=float)
    fl = np.asarray(lorentzian_hwhm, dtype=float)
    return 0.5346 * fl + np.sqrt(0.2166 * fl * fl + fg * fg)


def pseudo_voigt(E, hwhm, eta, center=0.0, T=None):
    r"""Unit-area pseudo-Voigt eta L(Gamma) + (1 - eta) G(Gamma), one common HWHM Gamma (meV).

    ``eta`` in [0, 1] is the Lorentzian fraction.  With ``T`` multiplied by B(E).
    """
    eta_a = np.asarray(eta, dtype=float)
    if np.any(~np.isfinite(eta_a) | (eta_a < 0) | (eta_a > 1)):
        raise InputError("pseudo-Voigt mixing eta must lie in [0, 1]", field="eta", value=eta)
    e = _energy(E)
    v = eta_a * lorentzian(e, hwhm, center) + (1.0 - eta_a) * gaussian(e, hwhm, center)
    return _scalar_or_array(_apply_db(np.asarray(v), e, T))


def dho(E, E0, hwhm, T=None):
    r"""Damped harmonic oscillator D(E) = (1/pi) 4 Gamma E E_0 / ((E^2 - E_0^2)^2 + 4 E^2 Gamma^2).

    E_0 (meV) is the undamped oscillator energy, Gamma (meV) the damping: for Gamma << E_0 the
    line is two Lorentzians of HWHM Gamma at +-sqrt(E_0^2 - Gamma^2) (:func:`dho_peak_energy`)
    with unit area each, +1 at E > 0 and -1 at E < 0 (the response chi''(E) / pi of one mode;
    Fak & Dorner 1997).  Normalisation: the f-sum rule int_0^inf E D(E) dE = E_0 holds for any
    damping, as for one undamped mode of unit weight.  D is odd in E.

    With ``T`` (K) it returns S(E) = [n(E) + 1] D(E), which obeys detailed balance; at E = 0
    the product is its limit k_B T * 4 Gamma E_0 / (pi E_0^4).  Returns 1/meV.
    """
    e = _energy(E)
    e0 = _width(E0, "E0")
    g = _width(hwhm, "hwhm")
    d = (e * e - e0 * e0) ** 2 + 4.0 * e * e * g * g
    ratio = 4.0 * g * e0 / (np.pi * d)  # D(E) / E, finite at E = 0
    if T is None:
        return _scalar_or_array(ratio * e)
    kt = KB_MEV_PER_K * np.asarray(T, dtype=float)
    # [n(E)+1] E = k_B T * B(E)
    return _scalar_or_array(ratio * kt * bose_correction(e, T))


def dho_symmetric(E, E0, hwhm, T=None):
    r"""Unit-area symmetric (classical) damped harmonic oscillator.

    S_cl(E) = (E_0 / 2) D(E) / E = (2 / pi) Gamma E_0^2 / ((E^2 - E_0^2)^2 + 4 E^2 Gamma^2),
    with D of :func:`dho`; even in E, area 1 for any damping (int D(E)/E dE = 2 / E_0, the
    static susceptibility).  With ``T`` multiplied by B(E), which gives
    (E_0 / 2 k_B T) [n(E) + 1] D(E): the detailed-balanced DHO with the area of its classical
    limit.  This is the 'dho' component of :mod:`latdyn.fitting` models.  Returns 1/meV.
    """
    e = _energy(E)
    e0 = _width(E0, "E0")
    g = _width(hwhm, "hwhm")
    v = (2.0 / np.pi) * g * e0 * e0 / ((e * e - e0 * e0) ** 2 + 4.0 * e * e * g * g)
    return _scalar_or_array(_apply_db(v, e, T))


def dho_peak_energy(E0, hwhm):
    """Renormalised DHO energy sqrt(E_0^2 - Gamma^2) (meV); NaN-free: 0 when overdamped."""
    e0 = np.asarray(E0, dtype=float)
    g = np.asarray(hwhm, dtype=float)
    return _scalar_or_array(np.sqrt(np.clip(e0 * e0 - g * g, 0.0, None)))


def lorentzian_integral2(x, hwhm):
    r"""Second antiderivative of the unit-area Lorentzian (centre 0).

    Phi(x) = (1/pi) [x arctan(x / Gamma) - (Gamma / 2) ln(x^2 + Gamma^2)], so that
    Phi'' = L.  Used for exact convolution with piecewise-linear functions.
    """
    x = np.asarray(x, dtype=float)
    g = np.asarray(hwhm, dtype=float)
    return (x * np.arctan2(x, g) - 0.5 * g * np.log(x * x + g * g)) / np.pi


def gaussian_integral2(x, hwhm):
    r"""Second antiderivative of the unit-area Gaussian (centre 0).

    Phi(x) = x P(x / sigma) + sigma^2 G(x), P the standard normal distribution function, so
    that Phi'' = G.
    """
    x = np.asarray(x, dtype=float)
    s = sigma_from_hwhm(hwhm)
    u = x / s
    return x * special.ndtr(u) + s * np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
