r"""Exact convolution of line shapes with a resolution function.

A line is a sum of complex poles, f(E) = -(1/pi) Im sum_k c_k / (E - p_k) with Im p_k < 0:
a Lorentzian (HWHM Gamma, centre E_c) is one pole c = 1, p = E_c - i Gamma; the damped
harmonic oscillator (:func:`latdyn.lineshapes.dho`) is two poles, c = +-E_0 / w*,
p = +-w* - i Gamma with w = sqrt(E_0^2 - Gamma^2) (complex when overdamped).  Gaussian lines
are handled separately.

Measured resolution: R is taken as the piecewise-linear function through its values R_j at
uniformly spaced energies x_j (spacing h), R(u) = sum_j R_j hat_h(u - x_j).  Then

    (R (x) f)(E) = sum_j R_j k(E - x_j),    k(x) = [Psi(x + h) - 2 Psi(x) + Psi(x - h)] / h,

with Psi the second antiderivative of f: Psi = -(1/pi) Im[c (x - p) log(x - p)] for a pole and
x P(x / sigma) + sigma^2 G(x) for a Gaussian (:func:`latdyn.lineshapes.gaussian_integral2`).
The result is exact for the piecewise-linear R at any width: as Gamma -> 0 the line becomes R
itself, so a line narrower than a bin has no grid artefact.  On a uniform data grid the sum is
a Toeplitz product evaluated by FFT.

Analytic resolution: R = (1 - eta) G_sigma + eta L_a (a pseudo-Voigt) gives closed forms:
pole (x) G = Re[c w(z)] / (sigma sqrt(2 pi)), z = (E - p) / (sigma sqrt 2), w the Faddeeva
function (the Voigt profile for a Lorentzian); pole (x) L_a = -(1/pi) Im[c / (E - p + i a)].

Detailed balance is applied to the line before convolution, to first order in the resolution
width: R (x) (B f) = B(E) (R (x) f)(E) - B'(E) ((u R) (x) f)(E) + O(B'' sigma_R^2), where the
"moment" convolution (u R) (x) f is given by the same kernels (``moment=True``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..lineshapes import gaussian_integral2, sigma_from_hwhm

__all__ = ["poles", "pole_psi", "line_psi", "hat_kernel", "hat_kernel_on_grid", "pole_conv_analytic",
           "gaussian_conv_analytic", "db_factor", "db_factor_derivative"]

_SQRT2PI = np.sqrt(2 * np.pi)


def poles(kind: str, p: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pole list [(c, p), ...] of a 'lorentzian', 'dho' (the odd D(E)) or 'dho_even' line.

    'dho_even' is the unit-area symmetric DHO (E_0/2) D(E)/E of
    :func:`latdyn.lineshapes.dho_symmetric`; arrays broadcast over groups."""
    if kind == "lorentzian":
        g = np.asarray(p["hwhm"], dtype=float)
        return [(np.ones_like(g, dtype=complex), np.asarray(p.get("center", 0.0)) - 1j * g)]
    if kind == "dho_even":
        # (E_0 / 2) D(E) / E: D's poles with c -> (E_0 / 2) c / p (the 1/E terms cancel)
        e0 = np.asarray(p["E0"], dtype=float)
        return [(0.5 * e0 * c / pk, pk) for c, pk in poles("dho", p)]
    if kind == "dho":
        e0 = np.asarray(p["E0"], dtype=float)
        g = np.asarray(p["hwhm"], dtype=float)
        w2 = (e0 * e0 - g * g).astype(complex)
        w = np.sqrt(w2)
        tiny = np.abs(w) < 1e-7 * e0  # critical damping: a removable singularity
        w = np.where(tiny, 1e-7 * e0, w)
        wc = np.conj(w)
        return [(e0 / wc, wc - 1j * g), (-e0 / wc, -wc - 1j * g)]
    raise ValueError(kind)


def pole_psi(x: np.ndarray, c, p) -> np.ndarray:
    """Second antiderivative -(1/pi) Im[c (x - p) log(x - p)] of -(1/pi) Im[c / (x - p)]."""
    z = x - p
    return -np.imag(c * z * np.log(z)) / np.pi


def line_psi(kind: str, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """Second antiderivative Psi of a unit-area line (module docstring) at x; parameters
    broadcast against x (groups first)."""
    if kind == "gaussian":
        return gaussian_integral2(x - np.asarray(p.get("center", 0.0)), np.asarray(p["hwhm"]))
    out = 0.0
    for c, pk in poles(kind, p):
        out = out + pole_psi(x, c, pk)
    return out


def hat_kernel(kind: str, x: np.ndarray, h: float, p: dict[str, np.ndarray]) -> np.ndarray:
    """k(x) = (f (x) hat_h)(x) = [Psi(x + h) - 2 Psi(x) + Psi(x - h)] / h for a line f;
    parameters broadcast against x (groups first)."""
    return (line_psi(kind, x + h, p) - 2 * line_psi(kind, x, p) + line_psi(kind, x - h, p)) / h


#: a pole's hat kernel is evaluated with the exact second difference of Psi within this many
#: grid steps of the pole, and with its moment series beyond (relative error below 1e-10)
_NEAR = 5.0


def _pole_hat_series(x: np.ndarray, h: float, c, p) -> tuple[np.ndarray, np.ndarray]:
    """(k, |z|) of one pole from the moment series of the hat average (module docstring):
    the hat (triangle) of half-width h has moments mu_2n = 2 h^2n / ((2n+1)(2n+2)), so
    k(x) = -(h/pi) Im[c (1/z) sum_n 2 u^n / ((2n+1)(2n+2))], u = (h/z)^2, z = x - p, which
    converges for |z| > h; terms to u^5 leave (h/z)^12 / 91 relative."""
    z = x - p
    w = 1.0 / z
    u = (h * w) ** 2
    series = 1.0 + u * (1 / 6 + u * (1 / 15 + u * (1 / 28 + u * (1 / 45 + u / 66))))
    return -(h / np.pi) * np.imag(c * w * series), np.abs(z)


def hat_kernel_on_grid(kind: str, x: np.ndarray, h: float, p: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`hat_kernel` on a uniform grid x (last axis, spacing h).

    Pole lines (Lorentzian, DHO): the moment series of :func:`_pole_hat_series` wherever the
    pole is more than 5 steps away, the exact second difference of Psi nearer (relative
    difference between the two below 1e-10); Gaussians: Psi evaluated once on the grid extended
    by one point at each end and second-differenced."""
    if kind == "gaussian":
        ext = np.concatenate([x[..., :1] - h, x, x[..., -1:] + h], axis=-1)
        psi = line_psi(kind, ext, p)
        return (psi[..., 2:] - 2 * psi[..., 1:-1] + psi[..., :-2]) / h
    out = 0.0
    for c, pk in poles(kind, p):
        k, dist = _pole_hat_series(x, h, c, pk)
        near = dist < _NEAR * h
        if near.any():
            xs = x if x.shape == near.shape else np.broadcast_to(x, near.shape)
            cs = np.broadcast_to(c, near.shape)[near]
            ps = np.broadcast_to(pk, near.shape)[near]
            xn = xs[near]
            k[near] = (pole_psi(xn + h, cs, ps) - 2 * pole_psi(xn, cs, ps) + pole_psi(xn - h, cs, ps)) / h
        out = out + k
    return out


def pole_conv_analytic(x, c, p, sigma, eta, a, moment: bool = False):
    """Pole (x) [(1-eta) G_sigma + eta L_a] at x; with ``moment`` the (u R) (x) f convolution."""
    z = (x - p) / (sigma * np.sqrt(2.0))
    w = special.wofz(z)
    if moment:
        dw = -2.0 * z * w + 2j / np.sqrt(np.pi)
        g_part = -sigma**2 * np.real(c * dw) / (sigma * _SQRT2PI * sigma * np.sqrt(2.0))
        l_part = a / np.pi * np.real(c / (x - p + 1j * a))
    else:
        g_part = np.real(c * w) / (sigma * _SQRT2PI)
        l_part = -np.imag(c / (x - p + 1j * a)) / np.pi
    return (1.0 - eta) * g_part + eta * l_part


def gaussian_conv_analytic(x, hwhm, center, sigma, eta, a, moment: bool = False):
    """Gaussian line (HWHM, centre) (x) [(1-eta) G_sigma + eta L_a]; ``moment`` as above."""
    s = sigma_from_hwhm(hwhm)
    xc = x - center
    st2 = sigma**2 + s**2
    gg = np.exp(-0.5 * xc * xc / st2) / np.sqrt(2 * np.pi * st2)
    z = (xc + 1j * a) / (s * np.sqrt(2.0))
    w = special.wofz(z)
    v = np.real(w) / (s * _SQRT2PI)
    if moment:
        dv = np.real(-2.0 * z * w + 2j / np.sqrt(np.pi)) / (s * _SQRT2PI * s * np.sqrt(2.0))
        return (1.0 - eta) * sigma**2 * xc / st2 * gg + eta * (xc * v + s * s * dv)
    return (1.0 - eta) * gg + eta * v


def db_factor(E, T):
    """B(E) = x / (1 - exp(-x)), x = E / k_B T (1 at E = 0); T in K, E in meV."""
    from ..units import bose_correction

    return np.asarray(bose_correction(E, T))


def db_factor_derivative(E, T):
    """dB/dE = [1 - exp(-x)(1 + x)] / (1 - exp(-x))^2 / k_B T (1/(2 k_B T) at E = 0)."""
    from ..units import KB_MEV_PER_K

    kt = KB_MEV_PER_K * float(T)
    x = np.asarray(E, dtype=float) / kt
    small = np.abs(x) < 1e-4
    xs = np.where(small, 1.0, x)
    em = -np.expm1(-xs)
    with np.errstate(over="ignore", invalid="ignore"):
        val = (em - xs * np.exp(-xs)) / em**2
    val = np.where(np.isfinite(val), val, 0.0)
    return np.where(small, 0.5 + x / 6.0, val) / kt
