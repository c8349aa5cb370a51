"""The data model: labelled S(Q,E), S(E) and S(Q) as scipp DataArrays.

Conventions (DESIGN.md): dims are named ``Q`` (|Q|, 1/angstrom), ``E`` (energy transfer, meV),
and others such as ``T`` (K), ``r`` (angstrom), ``t`` (ps); uncertainties are stored as
variances (sigma**2); a coordinate one longer than its dim holds bin edges (histogram data),
one of the same length holds points.  Every builder validates: matching sizes, strictly
monotonic coordinates, finite values, finite non-negative errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipp as sc

from ..errors import InputError

__all__ = ["from_numpy", "make_sqe", "make_spectrum", "make_sq", "to_numpy", "validate",
           "DEFAULT_UNITS"]

#: Default unit of each conventional dim.
DEFAULT_UNITS = {
    "Q": "1/angstrom",
    "E": "meV",
    "T": "K",
    "r": "angstrom",
    "t": "ps",
    "d": "angstrom",
    "two_theta": "deg",
    "tof": "us",
}


def _coord(name: str, values: Any, unit: str | None, size: int, source: str) -> sc.Variable:
    if isinstance(values, sc.Variable):
        arr = np.asarray(values.values, dtype=float)
        unit = str(values.unit) if values.unit is not None else unit
    else:
        arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise InputError("coordinate must be one-dimensional", file=source, field=name,
                         value=arr.shape)
    if arr.size not in (size, size + 1):
        raise InputError(
            f"coordinate length {arr.size} matches neither {size} points nor {size + 1} bin edges",
            file=source, field=name, value=arr.size)
    if not np.all(np.isfinite(arr)):
        raise InputError("coordinate holds non-finite values", file=source, field=name,
                         value=arr[~np.isfinite(arr)][0])
    if arr.size > 1 and not np.all(np.diff(arr) > 0):
        bad = int(np.argmin(np.diff(arr) > 0))
        raise InputError("coordinate is not strictly increasing", file=source, field=name,
                         value=f"index {bad}: {arr[bad]} -> {arr[bad + 1]}")
    unit = DEFAULT_UNITS.get(name, "dimensionless") if unit is None else unit
    try:
        return sc.array(dims=[name], values=arr, unit=unit)
    except Exception as exc:
        raise InputError("unknown unit", file=source, field=name, value=unit) from exc


def from_numpy(
    values: Any,
    coords: Mapping[str, Any],
    errors: Any = None,
    unit: str = "dimensionless",
    units: Mapping[str, str] | None = None,
    name: str = "",
    source: str | None = None,
) -> sc.DataArray:
    """Build a validated DataArray from numpy arrays.

    Parameters
    ----------
    values: array whose axes follow the order of ``coords``.
    coords: ordered mapping dim -> 1-D coordinate (points, or edges one longer).
    errors: standard deviations (same shape as values) or None.
    unit: unit of the values; ``units`` overrides coordinate units (defaults: DEFAULT_UNITS).
    source: a file name or label used in error messages.
    """
    vals = np.asarray(values, dtype=float)
    dims = list(coords)
    if vals.ndim != len(dims):
        raise InputError(f"values have {vals.ndim} axes but {len(dims)} coordinates {dims}",
                         file=source, field="values", value=vals.shape)
    if not np.all(np.isfinite(vals)):
        raise InputError("values hold NaN or infinity", file=source, field="values",
                         value=int(np.sum(~np.isfinite(vals))))
    variances = None
    if errors is not None:
        err = np.asarray(errors, dtype=float)
        if err.shape != vals.shape:
            raise InputError("errors and values differ in shape", file=source, field="errors",
                             value=(err.shape, vals.shape))
        if not np.all(np.isfinite(err)) or np.any(err < 0):
            raise InputError("errors must be finite and non-negative", file=source,
                             field="errors", value=err[~(np.isfinite(err) & (err >= 0))][0])
        variances = err**2
    try:
        data = sc.array(dims=dims, values=vals, variances=variances, unit=unit)
    except Exception as exc:
        raise InputError("unknown unit", file=source, field="unit", value=unit) from exc
    units = dict(units or {})
    cs = {d: _coord(d, c, units.get(d), vals.shape[i], source or name or "data")
          for i, (d, c) in enumerate(coords.items())}
    return sc.DataArray(data=data, coords=cs, name=name)


def make_sqe(q, energy, values, errors=None, unit: str = "dimensionless", *,
             q_unit: str = "1/angstrom", energy_unit: str = "meV", name: str = "S(Q,E)",
             source: str | None = None) -> sc.DataArray:
    """S(|Q|, E) with dims ('Q', 'E'); values shape (nQ, nE); points or bin edges."""
    return from_numpy(values, {"Q": q, "E": energy}, errors, unit,
                      {"Q": q_unit, "E": energy_unit}, name=name, source=source)


def make_spectrum(energy, values, errors=None, unit: str = "dimensionless", *,
                  energy_unit: str = "meV", name: str = "S(E)",
                  source: str | None = None) -> sc.DataArray:
    """A cut S(E) with dim 'E'."""
    return from_numpy(values, {"E": energy}, errors, unit, {"E": energy_unit}, name=name,
                      source=source)


def make_sq(q, values, errors=None, unit: str = "dimensionless", *, q_unit: str = "1/angstrom",
            name: str = "S(Q)", source: str | None = None) -> sc.DataArray:
    """A structure factor or Q cut S(Q) with dim 'Q'."""
    return from_numpy(values, {"Q": q}, errors, unit, {"Q": q_unit}, name=name, source=source)


def validate(da: sc.DataArray, dims: tuple[str, ...] | None = None,
             source: str | None = None) -> sc.DataArray:
    """Check a DataArray against the conventions and return it unchanged.

    Checks: expected dims (in any order), a 1-D coordinate for every dim, strictly increasing
    coordinates, finite values and finite non-negative variances.
    """
    if not isinstance(da, sc.DataArray):
        raise InputError("expected a scipp DataArray", file=source, field="data",
                         value=type(da).__name__)
    if dims is not None and set(da.dims) != set(dims):
        raise InputError(f"expected dims {tuple(dims)}", file=source, field="dims",
                         value=tuple(da.dims))
    for d in da.dims:
        if d not in da.coords:
            raise InputError("dimension has no coordinate", file=source, field=d)
        c = da.coords[d]
        _coord(d, c.values, str(c.unit), da.sizes[d], source or da.name or "data")
    if not np.all(np.isfinite(da.values)):
        raise InputError("values hold NaN or infinity", file=source, field="values",
                         value=int(np.sum(~np.isfinite(da.values))))
    if da.variances is not None and (not np.all(np.isfinite(da.variances))
                                     or np.any(da.variances < 0)):
        raise InputError("variances must be finite and non-negative", file=source,
                         field="variances")
    return da


def to_numpy(da: sc.DataArray) -> dict[str, Any]:
    """Plain numpy view of a DataArray.

    Returns a dict with ``values``, ``errors`` (sigma, or None), ``unit``, ``dims`` and
    ``coords`` (dim -> (array, unit, is_edges)).
    """
    coords = {}
    for d in da.dims:
        c = da.coords[d]
        coords[d] = (np.asarray(c.values), str(c.unit), bool(da.coords.is_edges(d)))
    errors = None if da.variances is None else np.sqrt(da.variances)
    return {"values": np.asarray(da.values), "errors": errors, "unit": str(da.unit),
            "dims": tuple(da.dims), "coords": coords}
