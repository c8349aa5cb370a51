r"""Energy-dependent Gaussian resolution of an inelastic spectrometer and exact line convolutions.

The resolution at energy transfer E is a Gaussian of FWHM(E) (meV), sigma(E) = FWHM / sqrt(8 ln 2),
given as a callable, polynomial coefficients FWHM(E) = sum_k c_k E^k, a constant, or an
instrument of :mod:`latdyn.instruments` with its setting (``instrument.resolution(E, ei=...)``).
The measured spectrum at E_i is the line convolved with the Gaussian of width sigma_i =
sigma(E_i) (the width at the measured energy transfer):

.. math::  M(E_i) = \int G(E_i - E'; \sigma_i)\, S(E')\, dE'

For a line written as poles, f(E) = -(1/pi) Im sum_k c_k / (E - p_k) (Lorentzian, DHO;
:func:`latdyn.fitting.kernels.poles`), the convolution is the Faddeeva sum
V(E) = sum_k Re[c_k w(z_k)] / (sigma sqrt(2 pi)), z_k = (E - p_k) / (sigma sqrt 2), and its
E-derivatives follow from w' = -2 z w + 2i/sqrt(pi), w'' = -2 w - 2 z w'.  A thermal factor
B(E) (detailed balance) is applied to second order in sigma, with u = E - E':

.. math::

    G \otimes (B f) = B V + B' \sigma^2 V' + \tfrac{1}{2} B'' (\sigma^2 V + \sigma^4 V'')
                      + O(B''' \sigma^3)

from B(E - u) = B - B' u + B'' u^2 / 2 with u G = -sigma^2 G' and u^2 G = sigma^2 G +
sigma^4 G'' (so that int u G(u) f(E - u) du = -sigma^2 V').  The relative error is of order
(sigma / k_B T)^3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ..errors import InputError
from ..units import FWHM_PER_SIGMA, KB_MEV_PER_K, bose_correction

__all__ = ["EnergyResolution", "gaussian", "pole_gaussian_conv", "thermal_conv"]

_SQRT2PI = np.sqrt(2.0 * np.pi)


@dataclass
class EnergyResolution:
    """Gaussian resolution with FWHM(E) in meV; build with :meth:`from_spec`."""

    fwhm_function: Callable[[np.ndarray], np.ndarray]
    description: str

    @classmethod
    def from_spec(cls, spec: Any, **settings) -> EnergyResolution:
        """From a callable FWHM(E), polynomial coefficients [c0, c1, ...] (FWHM = sum c_k E^k),
        a number (constant FWHM), an EnergyResolution, or an instrument object with
        ``resolution(E, **settings)`` (e.g. ``load_instrument('MARI')`` with ``ei=``)."""
        if isinstance(spec, EnergyResolution):
            return spec
        if hasattr(spec, "resolution") and callable(spec.resolution):
            name = getattr(spec, "name", type(spec).__name__)
            return cls(lambda e: np.asarray(spec.resolution(e, **settings), dtype=float),
                       f"instrument {name} {settings}")
        if callable(spec):
            return cls(lambda e: np.asarray(spec(e), dtype=float), "user FWHM(E) function")
        if isinstance(spec, (int, float, np.floating)):
            c = float(spec)
            return cls(lambda e: np.full(np.shape(e), c), f"constant FWHM {c:g} meV")
        if isinstance(spec, (Sequence, np.ndarray)):
            coeffs = np.asarray(spec, dtype=float)
            if coeffs.ndim != 1 or coeffs.size == 0 or not np.all(np.isfinite(coeffs)):
                raise InputError("resolution polynomial needs finite coefficients c0, c1, ...",
                                 field="resolution", value=spec)
            return cls(lambda e: np.polynomial.polynomial.polyval(np.asarray(e, float), coeffs),
                       "FWHM(E) = " + " + ".join(f"{c:g} E^{k}" for k, c in enumerate(coeffs)))
        raise InputError("resolution must be a callable, polynomial coefficients, a number or an "
                         "instrument", field="resolution", value=type(spec).__name__)

    def fwhm(self, energy) -> np.ndarray:
        """FWHM (meV) at energy transfers E (meV); InputError unless finite and > 0."""
        e = np.asarray(energy, dtype=float)
        f = np.broadcast_to(np.asarray(self.fwhm_function(e), dtype=float), e.shape)
        bad = ~np.isfinite(f) | (f <= 0)
        if np.any(bad):
            raise InputError(f"resolution FWHM is not positive at E = {e[bad].ravel()[0]:g} meV "
                             f"({self.description})", field="resolution",
                             value=float(f[bad].ravel()[0]))
        return np.array(f)

    def sigma(self, energy) -> np.ndarray:
        """Gaussian standard deviation (meV): FWHM / sqrt(8 ln 2)."""
        return self.fwhm(energy) / FWHM_PER_SIGMA


def gaussian(x: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Unit-area Gaussian G(x; sigma) (1/meV): the resolution-broadened elastic line."""
    return np.exp(-0.5 * (x / sigma) ** 2) / (_SQRT2PI * sigma)


def pole_gaussian_conv(x: np.ndarray, sigma: np.ndarray, pole_list) -> tuple[np.ndarray, ...]:
    """(V, V', V'') of G(sigma) (x) f for f = -(1/pi) Im sum c/(E - p) (module docstring)."""
    v = np.zeros(np.broadcast(x, sigma).shape)
    v1, v2 = np.zeros_like(v), np.zeros_like(v)
    s2 = sigma * np.sqrt(2.0)
    norm = 1.0 / (sigma * _SQRT2PI)
    for c, p in pole_list:
        z = (x - p) / s2
        w = special.wofz(z)
        w1 = -2.0 * z * w + 2j / np.sqrt(np.pi)
        w2 = -2.0 * w - 2.0 * z * w1
        v += np.real(c * w) * norm
        v1 += np.real(c * w1) * norm / s2
        v2 += np.real(c * w2) * norm / s2**2
    return v, v1, v2


def _b_derivatives(x: np.ndarray, T: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """B(E), B'(E), B''(E) of B = (E/kT) / (1 - exp(-E/kT)) by central differences (h = 1e-3 kT)."""
    h = 1e-3 * KB_MEV_PER_K * T
    b0 = bose_correction(x, T)
    bp = bose_correction(x + h, T)
    bm = bose_correction(x - h, T)
    return b0, (bp - bm) / (2 * h), (bp - 2 * b0 + bm) / h**2


def thermal_conv(x: np.ndarray, sigma: np.ndarray, pole_list, T: float | None) -> np.ndarray:
    """G(sigma) (x) [B f] at x (meV) to second order in sigma; B = 1 when T is None."""
    v, v1, v2 = pole_gaussian_conv(x, sigma, pole_list)
    if T is None:
        return v
    b, db, d2b = _b_derivatives(x, T)
    s2 = sigma * sigma
    return b * v + db * s2 * v1 + 0.5 * d2b * (s2 * v + s2 * s2 * v2)
