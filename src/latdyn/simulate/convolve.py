r"""Convolution of a model spectrum with an energy-dependent Gaussian resolution.

The measured spectrum at energy transfer E_i sees the resolution of that channel,

.. math::  I(E_i) = \int S(E')\,G(E_i - E';\ \sigma(E_i))\,dE'
           + \sum_j A_j\,G(E_i - E_j;\ \sigma(E_i)),

with G a unit-area Gaussian, sigma(E) = FWHM(E) / (2 sqrt(2 ln 2)) from the instrument and
A_j, E_j the areas and positions of delta lines (the elastic line, sharp modes such as
one-phonon branches), which must not be sampled on a grid.  S is sampled on a fine grid (step at most
sigma_min / oversample, range extended by 6 sigma_max) and integrated with the trapezoid rule;
rows are processed in chunks so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError
from ..instruments.base import FWHM_PER_SIGMA

__all__ = ["convolve_gaussian_variable"]


def convolve_gaussian_variable(model: Callable[[np.ndarray], np.ndarray] | None, energy: np.ndarray,
                               fwhm: np.ndarray, elastic: float = 0.0, lines=None,
                               oversample: int = 6, chunk_size: int = 256) -> np.ndarray:
    """Resolution-broadened spectrum on ``energy`` (meV).

    model: smooth S(E') (1/meV) evaluated on a fine grid, or None; fwhm: resolution FWHM
    (meV) at each ``energy``; elastic: area of a delta line at E = 0; lines: (positions meV,
    areas) of further delta lines.  Returns I(E_i) in the units of S.
    """
    e = np.asarray(energy, dtype=float)
    w = np.broadcast_to(np.asarray(fwhm, dtype=float), e.shape)
    if e.ndim != 1 or e.size < 2:
        raise InputError("energy must be a 1-D grid of at least two points", field="energy")
    if np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise InputError("resolution FWHM must be positive", field="fwhm", value=float(np.min(w)))
    sigma = w / FWHM_PER_SIGMA
    norm = 1.0 / (np.sqrt(2 * np.pi) * sigma)
    pos = [0.0]
    amp = [float(elastic)]
    if lines is not None:
        lp, la = (np.atleast_1d(np.asarray(x, dtype=float)) for x in lines)
        if lp.shape != la.shape or np.any(~np.isfinite(lp)) or np.any(~np.isfinite(la)):
            raise InputError("lines must be finite (positions, areas) of equal length", field="lines")
        pos += lp.tolist()
        amp += la.tolist()
    sharp = sum(a * norm * np.exp(-0.5 * ((e - p) / sigma) ** 2) for p, a in zip(pos, amp, strict=True))
    if model is None:
        return sharp
    step = sigma.min() / max(int(oversample), 2)
    lo, hi = e.min() - 6 * sigma.max(), e.max() + 6 * sigma.max()
    n = int(np.ceil((hi - lo) / step)) + 1
    fine = np.linspace(lo, hi, n)
    s = np.asarray(model(fine), dtype=float)
    if s.shape != fine.shape or np.any(~np.isfinite(s)):
        raise InputError("model must return finite values on the energy grid", field="model")
    wts = np.full(n, fine[1] - fine[0])
    wts[[0, -1]] *= 0.5
    sw = s * wts
    out = np.empty_like(e)
    for start in range(0, e.size, max(int(chunk_size), 1)):
        sl = slice(start, start + max(int(chunk_size), 1))
        d = (e[sl, None] - fine[None, :]) / sigma[sl, None]
        out[sl] = norm[sl] * (np.exp(-0.5 * d**2) @ sw)
    return out + sharp
