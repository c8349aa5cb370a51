r"""Cuts, slices and rebinning of gridded data S(Q,E) (and S(Q,E,T), ...) with exact bin fractions.

Every coordinate is read as bins: given bin edges as they are, given points as bins whose edges
lie half-way between neighbouring points (the outer edges half a step outside).  A new bin
[a, b] receives from each old bin [e_j, e_{j+1}] the overlap

.. math::  \ell_j = \max(0, \min(b, e_{j+1}) - \max(a, e_j)),

and, for density data (S per meV or per 1/angstrom; the default),

.. math::

    I = \sum_j \ell_j S_j \ (\text{integrate}), \qquad
    \bar S = \frac{\sum_j \ell_j S_j}{\sum_j \ell_j} \ (\text{average}), \qquad
    \sigma_I^2 = \sum_j \ell_j^2 \sigma_j^2

(first-order propagation of independent errors; Bevington & Robinson ch. 3).  Extensive data
(counts per bin) use the fractions ell_j / (e_{j+1} - e_j) instead of ell_j.  Masked elements
(scipp masks, e.g. outside the kinematic coverage) get zero weight; an output element with no
unmasked input is masked ``no_coverage`` with value 0.
"""

from __future__ import annotations

import numpy as np
import scipp as sc

from ..data.model import validate
from ..errors import InputError

__all__ = ["bin_edges", "overlap_matrix", "rebin", "cut", "cut_range_check"]


def bin_edges(da: sc.DataArray, dim: str) -> np.ndarray:
    """Bin edges along ``dim`` (in the coordinate's unit): the edges, or mid-points of points."""
    if dim not in da.dims:
        raise InputError("the data have no such dimension", field="dim", value=dim)
    c = np.asarray(da.coords[dim].values, dtype=float)
    if da.coords.is_edges(dim):
        return c
    if c.size < 2:
        raise InputError("need at least two points to define bins", field=dim, value=c.size)
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def overlap_matrix(old_edges: np.ndarray, new_edges: np.ndarray) -> np.ndarray:
    """Overlap lengths ell[i, j] of new bin i and old bin j (formula in the module docstring)."""
    lo = np.maximum(new_edges[:-1, None], old_edges[None, :-1])
    hi = np.minimum(new_edges[1:, None], old_edges[None, 1:])
    return np.clip(hi - lo, 0.0, None)


def _keep(da: sc.DataArray) -> np.ndarray:
    """Boolean array (shape of the data): True where no mask is set."""
    keep = np.ones(da.shape, dtype=bool)
    for m in da.masks.values():
        mv = sc.broadcast(m, sizes=da.sizes).transpose(da.dims).values
        keep &= ~np.asarray(mv, dtype=bool)
    return keep


def _to_unit(value, unit: str, name: str) -> float:
    if isinstance(value, sc.Variable):
        try:
            return float(sc.to_unit(value, unit).value)
        except Exception as exc:
            raise InputError(f"{name} has unit '{value.unit}', not convertible to '{unit}'",
                             field=name, value=str(value.unit)) from exc
    v = float(value)
    if not np.isfinite(v):
        raise InputError(f"{name} must be finite", field=name, value=value)
    return v


def _apply(da: sc.DataArray, dim: str, weights: np.ndarray, average: bool,
           new_coord: sc.Variable | None, unit: sc.Unit) -> sc.DataArray:
    """Contract ``dim`` with weights[i, j] (new i, old j); masked inputs get zero weight."""
    axis = da.dims.index(dim)
    vals = np.moveaxis(np.asarray(da.values, dtype=float), axis, -1)
    keep = np.moveaxis(_keep(da), axis, -1).astype(float)
    num = (vals * keep) @ weights.T
    wsum = keep @ weights.T
    covered = wsum > 0
    var = None
    if da.variances is not None:
        var = (np.moveaxis(da.variances, axis, -1) * keep) @ (weights.T ** 2)
    if average:
        denom = np.where(covered, wsum, 1.0)
        num = num / denom
        if var is not None:
            var = var / denom**2
    num = np.where(covered, num, 0.0)
    if var is not None:
        var = np.where(covered, var, 0.0)
    other = [d for d in da.dims if d != dim]
    if new_coord is None:
        num, covered = num[..., 0], covered[..., 0]
        var = None if var is None else var[..., 0]
        dims = other
    else:
        dims = [*other, dim]
    out = sc.DataArray(sc.array(dims=dims, values=num, variances=var, unit=unit), name=da.name)
    for name, c in da.coords.items():
        if dim not in c.dims:
            out.coords[name] = c.copy()
    for name, m in da.masks.items():
        if dim not in m.dims:
            out.masks[name] = m.copy()
    if new_coord is not None:
        out.coords[dim] = new_coord
    if not np.all(covered):
        out.masks["no_coverage"] = sc.array(dims=dims, values=~covered)
    order = [d for d in da.dims if d in dims]
    return out.transpose(order).copy()


def cut_range_check(da: sc.DataArray, dim: str, lo: float, hi: float, source: str | None = None):
    """Raise InputError unless lo < hi lies inside the data's bins along ``dim``."""
    edges = bin_edges(da, dim)
    unit = str(da.coords[dim].unit)
    if not hi > lo:
        raise InputError(f"empty {dim} range: the upper limit must exceed the lower", file=source,
                         field=f"{dim} range", value=(lo, hi))
    tol = 1e-9 * max(1.0, abs(edges[-1] - edges[0]))
    if lo < edges[0] - tol or hi > edges[-1] + tol:
        raise InputError(f"{dim} range [{lo:g}, {hi:g}] {unit} lies outside the data, which cover "
                         f"[{edges[0]:g}, {edges[-1]:g}] {unit}", file=source, field=f"{dim} range",
                         value=(lo, hi))


def cut(da: sc.DataArray, dim: str, lo, hi, *, average: bool = False,
        extensive: bool = False, source: str | None = None) -> sc.DataArray:
    """Integrate (or average) ``da`` over lo <= ``dim`` <= hi with bin fractions.

    Parameters
    ----------
    da: DataArray with ``dim`` among its dims (e.g. S(Q,E) or S(Q,E,T)); masks respected.
    dim: the dimension removed, e.g. 'Q' for a constant-Q-integrated energy cut S(E).
    lo, hi: range in the coordinate's unit (floats) or scipp scalars with units.
    average: divide by the covered width (the mean S in the range) instead of integrating.
    extensive: the values are counts per bin (not densities).

    Returns a DataArray without ``dim``; its unit is the data unit times the ``dim`` unit for an
    integral of a density.  Scalar coords ``<dim>_min``/``<dim>_max`` record the range.
    Raises InputError when the range lies (partly) outside the data or nothing is covered.
    """
    validate(da, source=source)
    unit = str(da.coords[dim].unit) if dim in da.coords else None
    lo_v, hi_v = _to_unit(lo, unit, f"{dim}_min"), _to_unit(hi, unit, f"{dim}_max")
    cut_range_check(da, dim, lo_v, hi_v, source)
    edges = bin_edges(da, dim)
    w = overlap_matrix(edges, np.array([lo_v, hi_v]))
    if extensive:
        w = w / np.diff(edges)[None, :]
    integral_of_density = not (average or extensive)
    unit_out = da.unit * da.coords[dim].unit if integral_of_density else da.unit
    out = _apply(da, dim, w, average and not extensive, None, unit_out)
    if "no_coverage" in out.masks and np.all(out.masks["no_coverage"].values):
        raise InputError(f"no unmasked data in the {dim} range", file=source,
                         field=f"{dim} range", value=(lo_v, hi_v))
    out.coords[f"{dim}_min"] = sc.scalar(lo_v, unit=unit)
    out.coords[f"{dim}_max"] = sc.scalar(hi_v, unit=unit)
    return out


def rebin(da: sc.DataArray, dim: str, edges, *, extensive: bool = False,
          source: str | None = None) -> sc.DataArray:
    """Rebin ``da`` along ``dim`` onto new bin ``edges`` (coordinate unit) with exact fractions.

    Density data (default) are averaged over each new bin (a flat spectrum stays flat);
    extensive data (counts) are summed with fractional overlaps (the total is conserved).
    The new edges must lie inside the data's range.  Variances follow the module formula.
    """
    validate(da, source=source)
    new = np.asarray(edges, dtype=float)
    if new.ndim != 1 or new.size < 2 or np.any(np.diff(new) <= 0) or not np.all(np.isfinite(new)):
        raise InputError("new bin edges must be a strictly increasing 1-D array of >= 2 values",
                         file=source, field="edges", value=new.shape)
    cut_range_check(da, dim, new[0], new[-1], source)
    old = bin_edges(da, dim)
    w = overlap_matrix(old, new)
    if extensive:
        w = w / np.diff(old)[None, :]
    coord = sc.array(dims=[dim], values=new, unit=da.coords[dim].unit)
    return _apply(da, dim, w, not extensive, coord, da.unit)
