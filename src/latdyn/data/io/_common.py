"""Helpers shared by the readers: guarded HDF5 access, axis checks and DataArray assembly.

Every failure is a :class:`~latdyn.errors.FormatError` naming the file and the path inside it
(HDF5 dataset, text line or column), so a reader never returns a partly built object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError, InputError
from ..model import from_numpy

__all__ = ["open_hdf5", "dataset", "read_array", "read_text", "check_axis", "assemble",
           "decode", "bytes_to_str"]


@contextlib.contextmanager
def open_hdf5(path: str | Path) -> Iterator[Any]:
    """Open an HDF5 file read-only; FormatError when it is not readable HDF5 (e.g. truncated)."""
    import h5py

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, "No such file", str(p))
    try:
        fh = h5py.File(p, "r")
    except OSError as exc:
        raise FormatError(f"not a readable HDF5 file ({exc})", file=p, field="/") from None
    try:
        yield fh
    finally:
        fh.close()


def dataset(fh: Any, name: str, file: Any) -> Any:
    """The dataset at ``name``; FormatError naming it when missing or not a dataset."""
    import h5py

    try:
        obj = fh[name]
    except (KeyError, OSError, RuntimeError) as exc:
        raise FormatError(f"missing or unreadable dataset ({exc.__class__.__name__})",
                          file=file, field=name) from None
    if not isinstance(obj, h5py.Dataset):
        raise FormatError("expected a dataset, found a group", file=file, field=name)
    return obj


def read_array(fh: Any, name: str, file: Any, ndim: int | None = None,
               dtype: Any = float) -> np.ndarray:
    """Read the dataset at ``name`` as a numpy array of ``dtype``, checking its rank."""
    ds = dataset(fh, name, file)
    try:
        arr = np.asarray(ds[()], dtype=dtype)
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        raise FormatError(f"dataset cannot be read ({exc})", file=file, field=name) from None
    if ndim is not None and arr.ndim != ndim:
        raise FormatError(f"expected {ndim} dimension(s)", file=file, field=name, value=arr.shape)
    return arr


def bytes_to_str(v: Any) -> Any:
    """Decode bytes (and 1-element byte arrays) to str; other values pass unchanged."""
    if isinstance(v, np.ndarray) and v.dtype.kind in "SO" and v.size == 1:
        v = v.reshape(-1)[0]
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace")
    return v


def decode(fh: Any, name: str, default: str | None = None) -> str | None:
    """The text of the string dataset at ``name``, stripped (``default`` when absent)."""
    if name not in fh:
        return default
    try:
        v = fh[name][()]
    except (OSError, RuntimeError, TypeError):
        return default
    v = bytes_to_str(v)
    if isinstance(v, np.ndarray):
        v = " ".join(str(bytes_to_str(x)) for x in v.ravel())
    return str(v).strip()


def read_text(path: str | Path) -> list[str]:
    """Lines of a text file; FormatError when it is not text."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        try:
            text = p.read_text(encoding="latin-1")
        except UnicodeDecodeError:
            raise FormatError("not a text file", file=p, field="bytes") from None
    if "\x00" in text:
        raise FormatError("not a text file (NUL bytes)", file=p, field="bytes")
    return text.splitlines()


def check_axis(arr: np.ndarray, file: Any, field: str, allow_decreasing: bool = False) -> int:
    """Check a 1-D axis is finite and strictly monotonic; return +1 (increasing) or -1.

    A decreasing axis is accepted only with ``allow_decreasing`` (the caller then flips data).
    """
    if arr.ndim != 1:
        raise FormatError("axis must be one-dimensional", file=file, field=field, value=arr.shape)
    if not np.all(np.isfinite(arr)):
        raise FormatError("axis holds NaN or infinity", file=file, field=field,
                          value=arr[~np.isfinite(arr)][0])
    if arr.size < 2:
        return 1
    d = np.diff(arr)
    if np.all(d > 0):
        return 1
    if allow_decreasing and np.all(d < 0):
        return -1
    bad = int(np.argmin(d > 0))
    raise FormatError("axis is not strictly monotonic", file=file, field=field,
                      value=f"index {bad}: {arr[bad]} -> {arr[bad + 1]}")


def assemble(values: np.ndarray, errors: np.ndarray | None, coords: Mapping[str, np.ndarray],
             units: Mapping[str, str], unit: str, file: Any, field: str, *,
             mask: np.ndarray | None = None, mask_name: str = "masked",
             name: str = "") -> sc.DataArray:
    """Build a validated DataArray; masked points may hold NaN or negative errors.

    Values and errors under ``mask`` are replaced by 0 (the mask says they carry no
    information) so that the variances stay finite.  Points whose value is NaN or infinite
    (not measured, outside the kinematic range) become the bool mask ``'non_finite'``: they are
    visible to every consumer (``latdyn info`` counts them; a fit drops or masks them with a
    note), never silently zero.  A finite value must have a finite non-negative error,
    otherwise FormatError names ``field``.
    """
    values = np.array(values, dtype=float)
    errors = None if errors is None else np.array(errors, dtype=float)
    if errors is not None and errors.shape != values.shape:
        raise FormatError("errors and values differ in shape", file=file, field=field,
                          value=(errors.shape, values.shape))
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        values[mask] = 0.0
        if errors is not None:
            errors[mask] = 0.0
    bad_v = ~np.isfinite(values)
    if np.any(bad_v):
        values[bad_v] = 0.0
        if errors is not None:
            errors[bad_v] = 0.0
    if errors is not None:
        bad_e = ~np.isfinite(errors) | (errors < 0)
        if np.any(bad_e):
            first = tuple(int(i) for i in np.argwhere(bad_e)[0])
            raise FormatError("errors hold NaN, infinity or negative numbers outside masked "
                              "points", file=file, field=field + " (errors)",
                              value=f"{int(bad_e.sum())} point(s), first at {first}: "
                                    f"{errors[first]}")
    try:
        da = from_numpy(values, coords, errors, unit, units, name=name, source=str(file))
    except InputError as exc:
        raise FormatError(f"inconsistent data: {exc}", file=file, field=field) from None
    if mask is not None and np.any(mask):
        da.masks[mask_name] = sc.array(dims=list(coords), values=mask)
    if np.any(bad_v):
        da.masks["non_finite"] = sc.array(dims=list(coords), values=bad_v)
    return da


def to_scipp_unit(text: str, file: Any, field: str) -> str:
    """Validate a unit string understood by scipp; FormatError naming it otherwise."""
    try:
        return str(sc.Unit(text))
    except Exception:
        raise FormatError("unknown unit", file=file, field=field, value=text) from None
