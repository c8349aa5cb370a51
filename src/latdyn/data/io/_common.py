"""Helpers shared by the readers: guarded HDF5 access, axis checks and DataArray assembly.

Every failure is a :class:`~latdyn.errors.FormatError` naming the file and the path inside it
(HDF5 dataset, text line or column), so a reader never returns a partly built object.
Before a dataset is read its declared size is compared with the memory budget
(:func:`latdyn.fileio.read_budget`) and with what the file stores, so a damaged size field
cannot make a small file allocate gigabytes; text is decoded by
:func:`latdyn.fileio.decode_text` (byte-order marks removed, Latin-1 fallback).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError, InputError, LatdynError
from ...fileio import check_read_size, input_file, read_text_file
from ..model import from_numpy

__all__ = ["open_hdf5", "dataset", "read_array", "read_text", "read_text_lines", "check_axis",
           "assemble", "decode", "bytes_to_str", "check_dataset", "read_dataset", "BAD_ERRORS"]

#: what a reader does with a finite value whose error is NaN, infinite, negative, or zero
#: while the value is not: 'error' (FormatError, the default) or 'mask' (mask them and
#: report the count in the metadata as ``masked_bad_errors``)
BAD_ERRORS = ("error", "mask")

#: exceptions h5py raises on damaged files (turned into FormatError naming the file)
_H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError,
              UnicodeDecodeError, OverflowError)

#: largest ratio of declared to stored bytes of a compressed dataset (deflate's limit is 1032)
_MAX_COMPRESSION = 1100


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def open_hdf5(path: str | Path) -> Iterator[Any]:
    """Open an HDF5 file read-only; FormatError when it is not readable HDF5 (e.g. truncated).

    Inside the block, an error h5py raises on damaged content (a broken B-tree, a missing
    object, an unreadable attribute) becomes a FormatError naming the file."""
    import h5py

    p = input_file(path)
    try:
        fh = h5py.File(p, "r")
    except _H5_ERRORS as exc:
        raise FormatError(f"not a readable HDF5 file ({_short(exc)})", file=p, field="/") from None
    try:
        yield fh
    except LatdynError:
        raise
    except _H5_ERRORS as exc:
        raise FormatError(f"damaged or unexpected HDF5 content ({exc.__class__.__name__}: "
                          f"{_short(exc)})", file=p) from None
    finally:
        with contextlib.suppress(*_H5_ERRORS):
            fh.close()


def dataset(fh: Any, name: str, file: Any) -> Any:
    """The dataset at ``name``; FormatError naming it when missing or not a dataset."""
    import h5py

    try:
        obj = fh[name]
    except _H5_ERRORS as exc:
        raise FormatError(f"missing or unreadable dataset ({exc.__class__.__name__})",
                          file=file, field=name) from None
    if not isinstance(obj, h5py.Dataset):
        raise FormatError("expected a dataset, found a group", file=file, field=name)
    return obj


def check_dataset(ds: Any, file: Any, field: str, whole: bool = True) -> None:
    """Check, before reading, that the dataset's declared size fits the memory budget (when
    it is read ``whole``; a reader that streams slices passes False) and agrees with the bytes
    the file stores for it (FormatError naming ``field`` otherwise)."""
    import h5py

    try:
        shape, dtype = ds.shape, ds.dtype
        dcpl = ds.id.get_create_plist()
        filtered = dcpl.get_nfilters() > 0
        stored = int(ds.id.get_storage_size())
    except _H5_ERRORS as exc:
        raise FormatError(f"unreadable dataset header ({_short(exc)})", file=file,
                          field=field) from None
    if shape is None:
        raise FormatError("dataset has no dataspace (null)", file=file, field=field)
    n = int(np.prod(shape, dtype=float)) if shape else 1
    variable = h5py.check_vlen_dtype(dtype) is not None or dtype.kind == "O"
    nbytes = float(n) * max(dtype.itemsize, 16 if variable else 1)
    if whole:
        check_read_size(nbytes, file=file, field=field, what=f"dataset of shape {shape}")
    if n == 0 or variable:
        return
    try:
        size = os.path.getsize(file)
    except (OSError, TypeError):
        size = None
    if size is not None and stored > size:
        raise FormatError(f"dataset stores {stored} bytes in a file of {size} bytes (truncated?)",
                          file=file, field=field, value=shape)
    if not filtered and stored < nbytes:
        raise FormatError(f"dataset declares shape {shape} ({int(nbytes)} bytes) but the file "
                          f"stores {stored} bytes for it (a damaged size, or values never "
                          "written)", file=file, field=field, value=shape)
    if filtered and nbytes > _MAX_COMPRESSION * max(stored, 1):
        raise FormatError(f"compressed dataset declares shape {shape} ({int(nbytes)} bytes) from "
                          f"{stored} stored bytes, more than any compression gives", file=file,
                          field=field, value=shape)


def read_dataset(ds: Any, file: Any, field: str) -> Any:
    """The whole dataset (numpy array or scalar) after :func:`check_dataset`; FormatError
    naming ``field`` when h5py cannot read it."""
    check_dataset(ds, file, field)
    try:
        return ds[()]
    except _H5_ERRORS as exc:
        raise FormatError(f"dataset cannot be read ({_short(exc)})", file=file, field=field) from None


def read_array(fh: Any, name: str, file: Any, ndim: int | None = None,
               dtype: Any = float) -> np.ndarray:
    """Read the dataset at ``name`` as a numpy array of ``dtype``, checking its rank."""
    ds = dataset(fh, name, file)
    raw = read_dataset(ds, file, name)
    try:
        arr = np.asarray(raw, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as exc:
        raise FormatError(f"dataset cannot be read as {np.dtype(dtype).name} ({_short(exc)})",
                          file=file, field=name) from None
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
    """The text of the string dataset at ``name``, stripped (``default`` when absent or
    unreadable, including a declared size beyond the read budget)."""
    try:
        if name not in fh:
            return default
        ds = fh[name]
        v = read_dataset(ds, fh.file.filename, name)
    except (*_H5_ERRORS, AttributeError, FormatError):
        return default
    v = bytes_to_str(v)
    if isinstance(v, np.ndarray):
        v = " ".join(str(bytes_to_str(x)) for x in v.ravel())
    return str(v).strip()


def read_text_lines(path: str | Path) -> tuple[list[str], str]:
    """(lines, encoding) of a text file: UTF-8 with any byte-order mark removed, else Latin-1
    (:func:`latdyn.fileio.decode_text`); FormatError when it is not text."""
    text, encoding = read_text_file(path)
    return text.splitlines(), encoding


def read_text(path: str | Path) -> list[str]:
    """Lines of a text file (:func:`read_text_lines`)."""
    return read_text_lines(path)[0]


def check_axis(arr: np.ndarray, file: Any, field: str, allow_decreasing: bool = False) -> int:
    """Check a 1-D axis is non-empty, finite and strictly monotonic; return +1 (increasing)
    or -1.  A decreasing axis is accepted only with ``allow_decreasing`` (the caller then
    flips data)."""
    if arr.ndim != 1:
        raise FormatError("axis must be one-dimensional", file=file, field=field, value=arr.shape)
    if arr.size == 0:
        raise FormatError("axis is empty (zero length)", file=file, field=field)
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


def check_bad_errors_option(bad_errors: str, file: Any = None) -> str:
    """``bad_errors`` after checking it is one of :data:`BAD_ERRORS`."""
    if bad_errors not in BAD_ERRORS:
        raise InputError(f"bad_errors must be one of {list(BAD_ERRORS)}", file=file,
                         field="bad_errors", value=bad_errors)
    return bad_errors


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def assemble(values: np.ndarray, errors: np.ndarray | None, coords: Mapping[str, np.ndarray],
             units: Mapping[str, str], unit: str, file: Any, field: str, *,
             mask: np.ndarray | None = None, mask_name: str = "masked",
             name: str = "", bad_errors: str = "error",
             report: dict[str, Any] | None = None,
             zero_errors_allowed: bool = False) -> sc.DataArray:
    """Build a validated DataArray from what a reader found.

    Points under ``mask`` (what the file marks as not measured) get value and error 0 and the
    boolean mask ``mask_name``.  Points whose value is NaN or infinite (not measured, outside
    the kinematic range) get value and error 0 and the bool mask ``'non_finite'``: they are
    visible to every consumer (``latdyn info`` counts them; a fit drops or masks them with a
    note), never silently zero.  Every other point must have an error that is finite and
    positive; an error of exactly 0 is accepted only where the value is 0 too (a bin without
    counts).  Otherwise (NaN, infinite or negative error, or a zero error on a non-zero value)
    ``bad_errors='error'`` raises FormatError naming ``field``, the count and the first point;
    ``bad_errors='mask'`` masks those points (mask ``'bad_errors'``).  ``report`` (a metadata
    dict) receives ``masked_bad_errors``, ``non_finite_points`` and ``zero_count_points`` when
    non-zero.  Zero-length data are refused.  ``zero_errors_allowed``: for tables latdyn wrote
    itself, where sigma = 0 marks a value computed without an uncertainty (a model or an
    extrapolation): zero errors on non-zero values are then kept and counted as
    ``zero_error_points``.
    """
    check_bad_errors_option(bad_errors, file)
    values = np.array(values, dtype=float)
    if values.size == 0:
        raise FormatError("no data points (zero-length data)", file=file, field=field,
                          value=values.shape)
    errors = None if errors is None else np.array(errors, dtype=float)
    if errors is not None and errors.shape != values.shape:
        raise FormatError("errors and values differ in shape", file=file, field=field,
                          value=(errors.shape, values.shape))
    if mask is None:
        mask = np.zeros(values.shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != values.shape:
        raise FormatError("mask and values differ in shape", file=file, field=field,
                          value=(mask.shape, values.shape))
    mask = mask.astype(bool)
    values[mask] = 0.0
    if errors is not None:
        errors[mask] = 0.0
    bad_v = ~np.isfinite(values)
    if np.any(bad_v):
        values[bad_v] = 0.0
        if errors is not None:
            errors[bad_v] = 0.0
        if report is not None:
            report["non_finite_points"] = int(bad_v.sum())
    bad_mask = np.zeros(values.shape, dtype=bool)
    if errors is not None:
        zero_counts = (errors == 0) & (values == 0) & ~mask & ~bad_v
        zero_on_value = (errors == 0) & (values != 0) & ~mask
        bad_e = ~np.isfinite(errors) | (errors < 0)
        if zero_errors_allowed:
            if report is not None and zero_on_value.any():
                report["zero_error_points"] = int(zero_on_value.sum())
        else:
            bad_e |= zero_on_value
        bad_e &= ~mask & ~bad_v
        if np.any(bad_e):
            first = _first(bad_e)
            if bad_errors == "error":
                raise FormatError(
                    "errors are NaN, infinite, negative, or zero on a non-zero value, outside "
                    "masked points (load with bad_errors='mask' to mask them; CLI --bad-errors "
                    "mask)", file=file, field=field + " (errors)",
                    value=f"{int(bad_e.sum())} point(s), first at {first}: value "
                          f"{values[first]}, error {errors[first]}")
            bad_mask = bad_e
            values[bad_e] = 0.0
            errors[bad_e] = 0.0
            if report is not None:
                report["masked_bad_errors"] = int(bad_e.sum())
        if report is not None and zero_counts.any():
            report["zero_count_points"] = int(zero_counts.sum())
    try:
        da = from_numpy(values, coords, errors, unit, units, name=name, source=str(file))
    except InputError as exc:
        raise FormatError(f"inconsistent data: {exc}", file=file, field=field) from None
    if np.any(mask):
        da.masks[mask_name] = sc.array(dims=list(coords), values=mask)
    if np.any(bad_v):
        da.masks["non_finite"] = sc.array(dims=list(coords), values=bad_v)
    if np.any(bad_mask):
        da.masks["bad_errors"] = sc.array(dims=list(coords), values=bad_mask)
    return da


def to_scipp_unit(text: str, file: Any, field: str) -> str:
    """Validate a unit string understood by scipp; FormatError naming it otherwise."""
    try:
        return str(sc.Unit(text))
    except Exception:
        raise FormatError("unknown unit", file=file, field=field, value=text) from None
