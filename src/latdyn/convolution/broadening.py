r"""Lines onto bins and maps along an axis: histograms and area-conserving Gaussian broadening.

Used by the phonon spectra (each mode a line of weight F_nu at E = +-E_nu, with its thermal
factor, :func:`latdyn.phonons.one_phonon.one_phonon_weights`), the phonon DOS and the virtual
experiment (:mod:`latdyn.simulate`).  Each line is spread over the bins either as a delta
(histogram) or as a unit-area Gaussian of full width at half maximum FWHM (fixed, or a callable
FWHM(x) such as an instrument resolution, evaluated at the position of the line), integrated
exactly over each bin:

.. math::

    I_j = \frac{1}{\Delta_j}\sum F \frac{1}{2}\left[\mathrm{erf}\frac{E_{j+1}-E_\nu}{\sqrt2\sigma}
        - \mathrm{erf}\frac{E_j - E_\nu}{\sqrt2\sigma}\right],\quad
        \sigma = \mathrm{FWHM} / \mathrm{FWHM\_PER\_SIGMA}

(:data:`latdyn.units.FWHM_PER_SIGMA` = 2 sqrt(2 ln 2)), so the result is a density (per unit of
the axis) whose integral equals the summed weights.

Maps are broadened along an axis the same way (:func:`broaden_axis`): each cell of a map is
spread as a unit-area Gaussian of fixed FWHM or FWHM(x) (e.g. |Q| in 1/angstrom) over the cells
of the axis, so the area of the map along that axis is kept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import erf

from ..errors import InputError
from ..units import FWHM_PER_SIGMA

__all__ = ["bin_lines", "check_edges", "Broadening", "broaden_axis", "cell_edges"]

Broadening = float | Callable[[np.ndarray], np.ndarray] | None

_FWHM_TO_SIGMA = 1.0 / FWHM_PER_SIGMA


def check_edges(edges, name: str = "energy_bins") -> np.ndarray:
    """Strictly increasing finite bin edges (at least 2)."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise InputError("bin edges must be a strictly increasing 1-D array of >= 2 values",
                         field=name, value=e.shape if e.ndim != 1 else e[:4].tolist())
    return e


def _widths(broadening: Broadening, positions: np.ndarray, field: str = "broadening",
            unit: str = "meV") -> np.ndarray | None:
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
        raise InputError(f"broadening FWHM must be positive and finite ({unit})",
                         field=field, value=float(bad.ravel()[0]))
    return fwhm * _FWHM_TO_SIGMA


def bin_lines(positions: np.ndarray, weights: np.ndarray, edges: np.ndarray,
              broadening: Broadening = None, *, field: str = "broadening",
              unit: str = "meV") -> np.ndarray:
    """Spread lines at ``positions`` (nq, m) with ``weights`` (nq, m) onto bins: (nq, nbins),
    per unit of the axis.  ``broadening``: None (histogram), FWHM (in ``unit``), or a
    callable FWHM(position); ``field`` names it in error messages."""
    pos = np.asarray(positions, dtype=float)
    wts = np.asarray(weights, dtype=float)
    edges = check_edges(edges)
    nq = pos.shape[0]
    nb = len(edges) - 1
    width = np.diff(edges)
    sigma = _widths(broadening, pos, field, unit)
    out = np.zeros((nq, nb))
    if sigma is None:
        idx = np.searchsorted(edges, pos, side="right") - 1
        ok = (idx >= 0) & (idx < nb) & (wts != 0)
        rows = np.broadcast_to(np.arange(nq)[:, None], pos.shape)
        np.add.at(out, (rows[ok], idx[ok]), wts[ok])
        return out / width
    # Gaussian: erf of all edges, chunked over rows to bound memory
    step = max(1, int(4_000_000 // max(pos.shape[1] * (nb + 1), 1)))
    for s in range(0, nq, step):
        p = pos[s:s + step, :, None]
        sg = sigma[s:s + step, :, None]
        cdf = 0.5 * erf((edges[None, None, :] - p) / (np.sqrt(2.0) * sg))
        out[s:s + step] = np.einsum("qm,qmb->qb", wts[s:s + step], np.diff(cdf, axis=-1))
    return out / width


def cell_edges(x) -> np.ndarray:
    """Edges of the cells around sample points x (strictly increasing): midpoints between
    neighbours, the first and last samples closing the outer cells."""
    x = check_edges(x, "positions")
    return np.concatenate([x[:1], 0.5 * (x[1:] + x[:-1]), x[-1:]])


def broaden_axis(values, edges, broadening: Broadening, *, positions=None, fwhm_at=None,
                 field: str = "q_broadening", unit: str = "1/angstrom") -> np.ndarray:
    r"""Gaussian broadening of a map (nx, ny) along its first axis, conserving area.

    Sample i stands for the cell [edges_i, edges_i+1] (width Delta_i) and carries the area
    S_i Delta_i; it is spread as a unit-area Gaussian centred on ``positions[i]`` (default:
    the cell centres) whose FWHM is fixed or ``broadening(fwhm_at[i])`` (``fwhm_at`` defaults
    to the positions, e.g. |Q| in 1/A), integrated exactly over every cell:

    .. math:: S'_j = \frac{1}{\Delta_j}\sum_i S_i \Delta_i \frac12\left[
        \mathrm{erf}\frac{e_{j+1}-x_i}{\sqrt2\sigma_i} - \mathrm{erf}\frac{e_j-x_i}{\sqrt2\sigma_i}\right]

    so sum_j S'_j Delta_j = sum_i S_i Delta_i except for the Gaussian tails that leave the
    range (the map has no information beyond it).  ``broadening`` None returns the values.
    """
    v = np.asarray(values, dtype=float)
    e = check_edges(edges, field)
    if v.ndim != 2 or v.shape[0] != len(e) - 1:
        raise InputError(f"values must be (n, m) with n = {len(e) - 1} cells along the axis",
                         field=field, value=v.shape)
    if broadening is None:
        return v.copy()
    width = np.diff(e)
    x = 0.5 * (e[1:] + e[:-1]) if positions is None else np.asarray(positions, dtype=float)
    at = x if fwhm_at is None else np.asarray(fwhm_at, dtype=float)
    if x.shape != width.shape or at.shape != width.shape:
        raise InputError("one position per cell is needed", field=field, value=x.shape)
    if callable(broadening):
        fwhm = np.broadcast_to(np.asarray(broadening(at), dtype=float), x.shape)
    else:
        fwhm = np.full(x.shape, float(broadening))
    lines = np.broadcast_to(x, (v.shape[1], len(x)))
    out = bin_lines(lines, (v * width[:, None]).T, e,
                    lambda p: np.broadcast_to(fwhm, p.shape), field=field, unit=unit)
    return out.T
