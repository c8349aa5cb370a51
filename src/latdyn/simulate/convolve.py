r"""Convolution of a model spectrum with an energy-dependent Gaussian resolution.

The measured spectrum at energy transfer E_i sees the resolution of that channel,

.. math::  I(E_i) = \int S(E')\,G(E_i - E';\ \sigma(E_i))\,dE'
           + \sum_j A_j\,G(E_i - E_j;\ \sigma(E_i)),

with G a unit-area Gaussian, sigma(E) = FWHM(E) / (2 sqrt(2 ln 2)) from the instrument and
A_j, E_j the areas and positions of delta lines (the elastic line, sharp modes such as
one-phonon branches), which must not be sampled on a grid.  S is sampled on a fine grid (step at most
sigma_min / oversample, range extended by 6 sigma_max) and integrated with the trapezoid rule;
rows are processed in chunks so memory stays bounded, and each chunk of kernel rows serves every
spectrum of a data set at once (the resolution of TOF instruments does not depend on Q).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError
from ..units import FWHM_PER_SIGMA

__all__ = ["convolve_gaussian_variable", "convolve_sampled", "fine_grid", "sharp_lines"]


def fine_grid(energy: np.ndarray, sigma: np.ndarray, oversample: int = 6) -> np.ndarray:
    """The uniform grid (meV) on which a smooth model is sampled for the convolution: step
    sigma_min / oversample, range extended by 6 sigma_max on both sides."""
    e = np.asarray(energy, dtype=float)
    step = float(np.min(sigma)) / max(int(oversample), 2)
    lo, hi = e.min() - 6 * float(np.max(sigma)), e.max() + 6 * float(np.max(sigma))
    return np.linspace(lo, hi, int(np.ceil((hi - lo) / step)) + 1)


def convolve_sampled(values: np.ndarray, fine: np.ndarray, energy: np.ndarray, sigma: np.ndarray,
                     chunk_size: int = 256, progress=None) -> np.ndarray:
    """Gaussian-broadened spectra at ``energy`` from models sampled on the uniform ``fine`` grid.

    values: (n_spectra, n_fine) in 1/meV; sigma: (n_energy,) resolution sigma (meV) of each
    output channel.  The kernel rows are built once per chunk of channels and applied to all
    spectra (memory ~ chunk_size x n_fine).  ``progress``: a tqdm-like callable wrapping the
    chunk iterator, or None.  Returns (n_spectra, n_energy).
    """
    vals = np.atleast_2d(np.asarray(values, dtype=float))
    e = np.asarray(energy, dtype=float)
    sig = np.asarray(sigma, dtype=float)
    wts = np.full(fine.size, fine[1] - fine[0])
    wts[[0, -1]] *= 0.5
    sw = (vals * wts[None, :]).T                                # (n_fine, n_spectra)
    norm = 1.0 / (np.sqrt(2 * np.pi) * sig)
    out = np.empty((vals.shape[0], e.size))
    size = max(int(chunk_size), 1)
    starts = range(0, e.size, size)
    for start in (progress(starts) if progress is not None else starts):
        sl = slice(start, start + size)
        d = (e[sl, None] - fine[None, :]) / sig[sl, None]
        out[:, sl] = (norm[sl, None] * (np.exp(-0.5 * d**2) @ sw)).T
    return out


def sharp_lines(energy: np.ndarray, sigma: np.ndarray, elastic: float = 0.0, lines=None) -> np.ndarray:
    """Delta lines (elastic area at E = 0 and (positions, areas)) broadened by Gaussians of
    the channels' sigma (meV); never sampled on a grid."""
    e = np.asarray(energy, dtype=float)
    norm = 1.0 / (np.sqrt(2 * np.pi) * sigma)
    pos = [0.0]
    amp = [float(elastic)]
    if lines is not None:
        lp, la = (np.atleast_1d(np.asarray(x, dtype=float)) for x in lines)
        if lp.shape != la.shape or np.any(~np.isfinite(lp)) or np.any(~np.isfinite(la)):
            raise InputError("lines must be finite (positions, areas) of equal length", field="lines")
        pos += lp.tolist()
        amp += la.tolist()
    return sum(a * norm * np.exp(-0.5 * ((e - p) / sigma) ** 2) for p, a in zip(pos, amp, strict=True))


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
    sharp = sharp_lines(e, sigma, elastic, lines)
    if model is None:
        return sharp
    fine = fine_grid(e, sigma, oversample)
    s = np.asarray(model(fine), dtype=float)
    if s.shape != fine.shape or np.any(~np.isfinite(s)):
        raise InputError("model must return finite values on the energy grid", field="model")
    return convolve_sampled(s, fine, e, sigma, chunk_size)[0] + sharp
