"""scipp's own HDF5 layout (``scipp.io.save_hdf5``), as latdyn's commands write it.

``latdyn simulate`` writes one DataArray, ``latdyn phonons`` one DataArray per map and
``latdyn md`` a DataGroup of DataArrays.  The root attribute ``scipp-type`` names what the file
holds: a ``DataArray`` (one entry, named by the root's ``name`` attribute or ``data``), a
``Dataset`` (one entry per item) or a ``DataGroup`` (one entry per DataArray or Variable with
dims, nested groups joined as ``outer/inner``; scalars and text become metadata).  A
``Variable`` with dims is one entry.

Scalar (0-D) coordinates named as latdyn's metadata keys (``final_energy``,
``incident_energy``, ``sample_temperature``, in meV and K) are copied into the metadata, so a
simulated measurement carries its fixed energy to the fit.  Points whose value is NaN or
infinite become the mask ``non_finite`` (value and error 0, counted as
``non_finite_points``), as for the facility readers.

Hostile input: every dataset's declared size is checked against the read budget and the bytes
the file stores before scipp reads anything (:func:`latdyn.data.io._common.check_dataset`);
any error while scipp decodes the file becomes a FormatError naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError
from ...fileio import names_input_file
from ._common import check_dataset, open_hdf5
from .container import LoadedData

__all__ = ["is_scipp_h5", "read_scipp_h5", "SCIPP_TYPES"]

#: root ``scipp-type`` attributes this reader understands
SCIPP_TYPES = ("DataArray", "Dataset", "DataGroup", "Variable")

#: scalar coordinates copied into the metadata: name -> unit of the metadata value
_META_COORDS = {"final_energy": "meV", "incident_energy": "meV", "sample_temperature": "K"}


def _attr(obj: Any, key: str) -> str | None:
    v = obj.attrs.get(key)
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    return v if isinstance(v, str) else None


def is_scipp_h5(fh: Any) -> bool:
    """True when an open h5py file was written by ``scipp.io.save_hdf5``."""
    try:
        return _attr(fh, "scipp-type") in SCIPP_TYPES
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False


def _check_sizes(fh: Any, file: Path) -> None:
    import h5py

    found: list[tuple[str, Any]] = []
    fh.visititems(lambda name, obj: found.append((name, obj)) if isinstance(obj, h5py.Dataset)
                  else None)
    for name, ds in found:
        check_dataset(ds, file, name)


def _metadata_value(var: sc.Variable, unit: str) -> float | None:
    try:
        return float(sc.to_unit(var, unit, copy=True).value)
    except Exception:  # noqa: BLE001 - a wrong unit or dtype: not metadata, stays a coordinate
        return None


def _entry(da: sc.DataArray, meta: dict[str, Any]) -> sc.DataArray:
    """``da`` with non-finite values masked and its scalar metadata coordinates read."""
    for key, unit in _META_COORDS.items():
        if key in da.coords and da.coords[key].ndim == 0:
            value = _metadata_value(da.coords[key], unit)
            if value is not None:
                meta[key] = value
    if da.dtype not in (sc.DType.float64, sc.DType.float32):
        return da
    bad = ~np.isfinite(da.values)
    if da.variances is not None:
        bad |= ~np.isfinite(da.variances)
    if not bad.any():
        return da
    da = da.copy()
    da.values[bad] = 0.0
    if da.variances is not None:
        da.variances[bad] = 0.0
    da.masks["non_finite"] = sc.array(dims=list(da.dims), values=bad)
    meta["non_finite_points"] = int(bad.sum())
    return da


def _flatten(obj: Any, prefix: str, entries: dict, scalars: dict) -> None:
    if isinstance(obj, sc.DataGroup):
        for k, v in obj.items():
            _flatten(v, f"{prefix}{k}" if not prefix else f"{prefix}/{k}", entries, scalars)
    elif isinstance(obj, sc.Dataset):
        for k in obj.keys():
            entries[k if not prefix else f"{prefix}/{k}"] = obj[k].copy()
    elif isinstance(obj, sc.DataArray):
        entries[prefix or obj.name or "data"] = obj
    elif isinstance(obj, sc.Variable) and obj.ndim > 0:
        entries[prefix or "data"] = sc.DataArray(obj)
    elif isinstance(obj, sc.Variable):
        scalars[prefix or "value"] = obj.value if obj.unit in (None, sc.units.one) \
            else f"{obj.value} {obj.unit}"
    else:
        scalars[prefix or "value"] = obj if isinstance(obj, (str, int, float, bool)) else str(obj)


@names_input_file
def read_scipp_h5(path: str | Path) -> LoadedData:
    """Read a file written by ``scipp.io.save_hdf5`` (module docstring): entries are its
    DataArrays; metadata holds ``scipp_type``, the group's scalars and the fixed energies and
    temperature given as scalar coordinates."""
    p = Path(path)
    with open_hdf5(p) as fh:
        kind = _attr(fh, "scipp-type")
        if kind not in SCIPP_TYPES:
            raise FormatError("not a scipp HDF5 file", file=p, field="/ (scipp-type)", value=kind)
        _check_sizes(fh, p)
    try:
        obj = sc.io.load_hdf5(p)
    except Exception as exc:  # noqa: BLE001 - scipp raises many kinds on damaged content
        raise FormatError(f"damaged scipp HDF5 content ({exc.__class__.__name__}: "
                          f"{' '.join(str(exc).split())[:160]})", file=p) from None
    entries: dict[str, sc.DataArray] = {}
    scalars: dict[str, Any] = {}
    _flatten(obj, "", entries, scalars)
    if not entries:
        raise FormatError("the scipp file holds no DataArray", file=p, field="/", value=kind)
    metadata = {}
    for name in list(entries):
        meta: dict[str, Any] = {"scipp_type": kind}
        if scalars:
            meta["logs"] = dict(scalars)
        entries[name] = _entry(entries[name], meta)
        metadata[name] = meta
    return LoadedData(p, "scipp_h5", entries, metadata)
