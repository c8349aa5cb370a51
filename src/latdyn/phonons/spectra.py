r"""From mode intensities to spectra: energy binning with thermal factors and broadening.

Each mode nu at wave vector Q contributes F_nu (n+1) at E = +E_nu and F_nu n at E = -E_nu
(:func:`latdyn.phonons.structure_factor.one_phonon_weights`), so the spectra obey detailed
balance S(Q, -E) = exp(-E/k_B T) S(Q, E) exactly.  Each contribution is spread over the energy
bins either as a delta (histogram) or as a unit-area Gaussian of full width at half maximum
FWHM (fixed, or a callable FWHM(E) in meV such as an instrument resolution, evaluated at the
energy transfer of the line), integrated exactly over each bin:

.. math::

    I_j = \frac{1}{\Delta_j}\sum F \frac{1}{2}\left[\mathrm{erf}\frac{E_{j+1}-E_\nu}{\sqrt2\sigma}
        - \mathrm{erf}\frac{E_j - E_\nu}{\sqrt2\sigma}\right],\quad
        \sigma = \frac{\mathrm{FWHM}}{2\sqrt{2\ln 2}}

so the result is an intensity density (per meV) whose integral equals the summed weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import erf

from ..errors import InputError

__all__ = ["bin_lines", "check_edges", "Broadening"]

Broadening = float | Callable[[np.ndarray], np.ndarray] | None

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def check_edges(edges, name: str = "energy_bins") -> np.ndarray:
    """Strictly increasing finite bin edges (at least 2)."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise InputError("bin edges must be a strictly increasing 1-D array of >= 2 values",
                         field=name, value=e.shape if e.ndim != 1 else e[:4].tolist())
    return e


def _widths(broadening: Broadening, positions: np.ndarray) -> np.ndarray | None:
    if broadening is None:
        return None
    if callable(broadening):
        fwhm = np.asarray(broadening(positions), dtype=float)
        if fwhm.shape != positions.shape:
            fwhm = np.broadcast_to(fwhm, positions.shape)
    else:
        fwhm = np.full(positions.shape, float(broadening))
    if not np.all(np.isfinite(fwhm)) or np.any(fwhm <= 0):
        bad = fwhm[~(np.isfinite(fwhm) & (fwhm > 0))]
        raise InputError("broadening FWHM must be positive and finite (meV)",
                         field="broadening", value=float(bad.ravel()[0]))
    return fwhm * _FWHM_TO_SIGMA


def bin_lines(positions: np.ndarray, weights: np.ndarray, edges: np.ndarray,
              broadening: Broadening = None) -> np.ndarray:
    """Spread lines at ``positions`` (nq, m) with ``weights`` (nq, m) onto bins: (nq, nbins),
    per meV.  ``broadening``: None (histogram), FWHM in meV, or a callable FWHM(E)."""
    pos = np.asarray(positions, dtype=float)
    wts = np.asarray(weights, dtype=float)
    edges = check_edges(edges)
    nq = pos.shape[0]
    nb = len(edges) - 1
    width = np.diff(edges)
    sigma = _widths(broadening, pos)
    out = np.zeros((nq, nb))
    if sigma is None:
        idx = np.searchsorted(edges, pos, side="right") - 1
        ok = (idx >= 0) & (idx < nb) & (wts != 0)
        rows = np.broadcast_to(np.arange(nq)[:, None], pos.shape)
        np.add.at(out, (rows[ok], idx[ok]), wts[ok])
        return out / width
    # Gaussian: only edges within 8 sigma of a line matter; erf of all edges, chunked
    step = max(1, int(4_000_000 // max(pos.shape[1] * (nb + 1), 1)))
    for s in range(0, nq, step):
        p = pos[s:s + step, :, None]
        sg = sigma[s:s + step, :, None]
        cdf = 0.5 * erf((edges[None, None, :] - p) / (np.sqrt(2.0) * sg))
        out[s:s + step] = np.einsum("qm,qmb->qb", wts[s:s + step], np.diff(cdf, axis=-1))
    return out / width
