"""latdyn's HDF5 results file: DataArrays, fit tables with covariances, model, provenance.

Lossless round trip: :func:`read_results_h5` returns exactly what :func:`write_results_h5`
was given (values, variances, units, dtypes, coordinates incl. bin edges, unaligned and
string coordinates, masks; table columns, units and covariances; the model definition and
metadata as JSON).  Layout (every name is stored as an attribute, so any name is allowed)::

    /                      attrs latdyn_format='latdyn-results', format_version=1
    /provenance            attrs latdyn_version, created (UTC ISO 8601), command_line, python;
                           datasets input_paths, input_sha256 (one per input file)
    /model                 dataset: JSON text of the model definition ('null' when none)
    /metadata              dataset: JSON text of free metadata
    /data/<k>              one group per DataArray; attrs name, dims (JSON), unit, dtype
        values, variances  datasets
        coords/<j>         attrs name, dims, unit, aligned; datasets values [, variances]
        masks/<j>          attrs name, dims; dataset values (bool)
    /tables/<k>            attrs name, columns (JSON list), units (JSON), parameters (JSON)
        columns/<j>        one dataset per column (strings as UTF-8)
        covariance         (n_par, n_par) or (n_rows, n_par, n_par), when present
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ... import __version__
from ...errors import FormatError, InputError
from ...fileio import hdf5_writer, names_input_file
from ._common import dataset, open_hdf5, read_dataset
from .container import LoadedData
from .table import Table

__all__ = ["Results", "write_results_h5", "read_results_h5", "load_results_h5", "is_results_h5"]

FORMAT_NAME = "latdyn-results"
FORMAT_VERSION = 1


@dataclass
class Results:
    """Everything an analysis produces.

    Attributes
    ----------
    data: name -> DataArray (data, model curves, residuals, derived quantities).
    tables: name -> :class:`Table` (fit parameters with covariance, ...).
    model: JSON-serialisable model definition (e.g. components, parameter bounds and ties).
    metadata: JSON-serialisable free metadata.
    provenance: set by the writer (latdyn version, time, command line, input files with
        SHA-256); read back by :func:`read_results_h5`.
    """

    data: dict[str, sc.DataArray] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    model: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def is_results_h5(fh: Any) -> bool:
    """True when an open h5py file is a latdyn results file."""
    try:
        v = fh.attrs.get("latdyn_format")
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False
    return (v.decode("utf-8", "replace") if isinstance(v, bytes) else v) == FORMAT_NAME


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _dumps(obj: Any, field_name: str) -> str:
    try:
        return json.dumps(_jsonable(obj))
    except TypeError as exc:
        raise InputError(f"not JSON-serialisable ({exc})", field=field_name,
                         value=type(obj).__name__) from None


def _write_variable(grp: Any, var: sc.Variable, name: str) -> None:
    grp.attrs["name"] = name
    grp.attrs["dims"] = json.dumps(list(var.dims))
    grp.attrs["dtype"] = str(var.dtype)
    if var.unit is not None:
        grp.attrs["unit"] = str(var.unit)
    if var.dtype == sc.DType.string:
        import h5py

        grp.create_dataset("values", data=np.asarray(var.values, dtype=object),
                           dtype=h5py.string_dtype())
        return
    if var.dtype not in (sc.DType.float64, sc.DType.float32, sc.DType.int64, sc.DType.int32,
                         sc.DType.bool):
        raise InputError("unsupported dtype for the results file", field=name,
                         value=str(var.dtype))
    grp.create_dataset("values", data=np.asarray(var.values))
    if var.variances is not None:
        grp.create_dataset("variances", data=np.asarray(var.variances))


_DTYPES = ("float64", "float32", "int64", "int32", "bool", "string")


def _attr_text(grp: Any, key: str, file: Any, default: Any = KeyError) -> Any:
    """A text attribute of ``grp``; FormatError when missing (no default) or not text."""
    try:
        v = grp.attrs[key]
    except KeyError:
        if default is KeyError:
            raise FormatError(f"missing attribute '{key}'", file=file, field=grp.name) from None
        return default
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if not isinstance(v, str):
        raise FormatError(f"attribute '{key}' is not text", file=file, field=grp.name,
                          value=v)
    return v


def _json_attr(grp: Any, key: str, file: Any) -> Any:
    text = _attr_text(grp, key, file)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FormatError(f"attribute '{key}' is not valid JSON ({exc})", file=file,
                          field=grp.name) from None


def _read_variable(grp: Any, file: Any) -> sc.Variable:
    where = grp.name
    dims = _json_attr(grp, "dims", file)
    if not isinstance(dims, list) or not all(isinstance(d, str) for d in dims):
        raise FormatError("attribute 'dims' must be a JSON list of names", file=file, field=where,
                          value=dims)
    dtype = _attr_text(grp, "dtype", file)
    if dtype not in _DTYPES:
        raise FormatError(f"unknown dtype; expected one of {list(_DTYPES)}", file=file,
                          field=where + " (dtype)", value=dtype)
    unit = _attr_text(grp, "unit", file, None)
    if unit is not None:
        try:
            unit = str(sc.Unit(unit))
        except Exception:
            raise FormatError("unknown unit", file=file, field=where + " (unit)", value=unit) from None
    ds = dataset(grp, "values", file)
    raw = read_dataset(ds, file, where + "/values")
    if dtype == "string":
        values = np.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                           for v in np.asarray(raw, dtype=object).ravel()])
        if len(dims) != len(ds.shape):
            raise FormatError("dims do not match the stored array", file=file, field=where,
                              value=(dims, ds.shape))
        values = values.reshape(ds.shape)
        return sc.array(dims=dims, values=values, unit=unit) if dims else sc.scalar(
            str(values.item()), unit=unit)
    variances = (read_dataset(dataset(grp, "variances", file), file, where + "/variances")
                 if "variances" in grp else None)
    if variances is not None and np.shape(variances) != np.shape(raw):
        raise FormatError("variances and values differ in shape", file=file,
                          field=where + "/variances", value=(np.shape(variances), np.shape(raw)))
    if len(dims) != np.ndim(raw) or len(set(dims)) != len(dims):
        raise FormatError("dims do not match the stored array", file=file, field=where,
                          value=(dims, np.shape(raw)))
    try:
        if not dims:
            return sc.scalar(np.asarray(raw).item(), variance=None if variances is None
                             else float(variances), unit=unit, dtype=dtype)
        return sc.array(dims=dims, values=raw, variances=variances, unit=unit, dtype=dtype)
    except Exception as exc:  # scipp rejects the stored values (type, variances of ints, ...)
        raise FormatError(f"stored values do not make a {dtype} array ({exc})", file=file,
                          field=where) from None


def _group(parent: Any, name: str, file: Any) -> Any:
    import h5py

    obj = parent.get(name)
    if not isinstance(obj, h5py.Group):
        raise FormatError("missing group", file=file, field=f"{parent.name.rstrip('/')}/{name}")
    return obj


def _numbered(grp: Any, file: Any) -> list[str]:
    """The members of a group named 0, 1, 2, ... in order; FormatError otherwise."""
    names = list(grp)
    if sorted(names) != sorted(str(k) for k in range(len(names))):
        raise FormatError("members must be numbered 0, 1, 2, ...", file=file, field=grp.name,
                          value=names[:5])
    return [str(k) for k in range(len(names))]


def _write_dataarray(grp: Any, da: sc.DataArray, name: str) -> None:
    _write_variable(grp, da.data, name)
    cg = grp.create_group("coords")
    for j, (cname, coord) in enumerate(da.coords.items()):
        g = cg.create_group(str(j))
        _write_variable(g, coord, cname)
        g.attrs["aligned"] = bool(coord.aligned)
    mg = grp.create_group("masks")
    for j, (mname, mask) in enumerate(da.masks.items()):
        _write_variable(mg.create_group(str(j)), mask, mname)


def _read_dataarray(grp: Any, file: Any) -> tuple[str, sc.DataArray]:
    data = _read_variable(grp, file)
    coords, unaligned = {}, []
    cgroup = _group(grp, "coords", file)
    for key in _numbered(cgroup, file):
        g = _group(cgroup, key, file)
        cname = _attr_text(g, "name", file)
        coords[cname] = _read_variable(g, file)
        if not bool(g.attrs.get("aligned", True)):
            unaligned.append(cname)
    mgroup = _group(grp, "masks", file)
    masks = {}
    for key in _numbered(mgroup, file):
        g = _group(mgroup, key, file)
        mask = _read_variable(g, file)
        if mask.dtype != sc.DType.bool:
            raise FormatError("mask is not boolean", file=file, field=g.name, value=str(mask.dtype))
        masks[_attr_text(g, "name", file)] = mask
    name = _attr_text(grp, "name", file)
    try:
        da = sc.DataArray(data, coords=coords, masks=masks, name=name)
        for c in unaligned:
            da.coords.set_aligned(c, False)
    except Exception as exc:
        raise FormatError(f"inconsistent DataArray ({exc})", file=file, field=grp.name) from None
    return name, da


def _write_table(grp: Any, table: Table, name: str) -> None:
    import h5py

    grp.attrs["name"] = name
    grp.attrs["columns"] = json.dumps(list(table.columns))
    grp.attrs["units"] = json.dumps(table.units)
    grp.attrs["parameters"] = json.dumps(table.parameters)
    cg = grp.create_group("columns")
    for j, (cname, values) in enumerate(table.columns.items()):
        if values.dtype.kind == "U":
            ds = cg.create_dataset(str(j), data=values.astype(object), dtype=h5py.string_dtype())
            ds.attrs["kind"] = "str"
        else:
            ds = cg.create_dataset(str(j), data=values)
        ds.attrs["name"] = cname
    if table.covariance is not None:
        grp.create_dataset("covariance", data=table.covariance)


def _read_table(grp: Any, file: Any) -> tuple[str, Table]:
    names = _json_attr(grp, "columns", file)
    units = _json_attr(grp, "units", file)
    params = _json_attr(grp, "parameters", file)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or \
            not isinstance(units, dict) or not isinstance(params, list):
        raise FormatError("table attributes must be a list of column names, a dict of units and "
                          "a list of parameters", file=file, field=grp.name)
    cols = {}
    for j, cname in enumerate(names):
        ds = dataset(grp, f"columns/{j}", file)
        raw = read_dataset(ds, file, f"{grp.name}/columns/{j}")
        if np.ndim(raw) != 1:
            raise FormatError("table column must be one-dimensional", file=file,
                              field=f"{grp.name}/columns/{j}", value=np.shape(raw))
        if ds.attrs.get("kind") == "str":
            cols[cname] = np.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                                    for v in raw], dtype=str)
        else:
            cols[cname] = np.asarray(raw)
    cov = (read_dataset(dataset(grp, "covariance", file), file, f"{grp.name}/covariance")
           if "covariance" in grp else None)
    try:
        table = Table(cols, units, cov, params)
    except (InputError, ValueError, TypeError) as exc:
        raise FormatError(f"inconsistent table ({exc})", file=file, field=grp.name) from None
    return _attr_text(grp, "name", file), table


def _provenance(inputs: Iterable[str | Path], command: str | None) -> dict[str, Any]:
    from ...fileio import file_sha256

    paths, hashes = [], []
    for f in inputs:
        p = Path(f)
        if not p.is_file():
            raise InputError("input file for provenance not found", file=p, field="inputs")
        paths.append(str(p.resolve()))
        hashes.append(file_sha256(p))
    return {"latdyn_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "command_line": command if command is not None else " ".join(sys.argv),
            "python": platform.python_version(),
            "input_paths": paths, "input_sha256": hashes}


def write_results_h5(path: str | Path, results: Results, *, inputs: Iterable[str | Path] = (),
                     command: str | None = None) -> Path:
    """Write ``results`` to ``path`` atomically; provenance records ``inputs`` (SHA-256)
    and ``command`` (default: this process's command line).  Returns the path."""
    import h5py

    p = Path(path)
    if not isinstance(results, Results):
        raise InputError("expected a Results object", file=p, field="results",
                         value=type(results).__name__)
    for name, da in results.data.items():
        if not isinstance(da, sc.DataArray):
            raise InputError("data entries must be scipp DataArrays", file=p, field=name,
                             value=type(da).__name__)
    for name, t in results.tables.items():
        if not isinstance(t, Table):
            raise InputError("tables must be latdyn Table objects", file=p, field=name,
                             value=type(t).__name__)
    model_json = _dumps(results.model, "model")
    meta_json = _dumps(results.metadata, "metadata")
    prov = _provenance(inputs, command)
    with hdf5_writer(p) as fh:
        fh.attrs["latdyn_format"] = FORMAT_NAME
        fh.attrs["format_version"] = FORMAT_VERSION
        pg = fh.create_group("provenance")
        for k in ("latdyn_version", "created", "command_line", "python"):
            pg.attrs[k] = prov[k]
        pg.create_dataset("input_paths", data=np.array(prov["input_paths"], dtype=object),
                          dtype=h5py.string_dtype())
        pg.create_dataset("input_sha256", data=np.array(prov["input_sha256"], dtype=object),
                          dtype=h5py.string_dtype())
        fh.create_dataset("model", data=model_json, dtype=h5py.string_dtype())
        fh.create_dataset("metadata", data=meta_json, dtype=h5py.string_dtype())
        dg = fh.create_group("data")
        for k, (name, da) in enumerate(results.data.items()):
            _write_dataarray(dg.create_group(str(k)), da, name)
        tg = fh.create_group("tables")
        for k, (name, t) in enumerate(results.tables.items()):
            _write_table(tg.create_group(str(k)), t, name)
    return p


def _text(fh: Any, name: str, file: Any) -> str:
    v = read_dataset(dataset(fh, name, file), file, name)
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


@names_input_file
def read_results_h5(path: str | Path) -> Results:
    """Read a file written by :func:`write_results_h5` back into :class:`Results`."""
    p = Path(path)
    with open_hdf5(p) as fh:
        if not is_results_h5(fh):
            raise FormatError("not a latdyn results file", file=p, field="/ (latdyn_format)")
        raw_version = fh.attrs.get("format_version", 0)
        try:
            version = int(np.asarray(raw_version).item())
        except (TypeError, ValueError, OverflowError):
            raise FormatError("format_version is not an integer", file=p,
                              field="/ (format_version)", value=raw_version) from None
        if version > FORMAT_VERSION:
            raise FormatError("results file written by a newer latdyn", file=p,
                              field="/ (format_version)", value=version)
        parsed = {}
        for name in ("model", "metadata"):
            try:
                parsed[name] = json.loads(_text(fh, name, p))
            except (json.JSONDecodeError, RecursionError) as exc:
                raise FormatError(f"bad JSON ({exc})", file=p, field=name) from None
        dg, tg = _group(fh, "data", p), _group(fh, "tables", p)
        data = dict(_read_dataarray(_group(dg, k, p), p) for k in _numbered(dg, p))
        tables = dict(_read_table(_group(tg, k, p), p) for k in _numbered(tg, p))
        pg = _group(fh, "provenance", p)
        prov = {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
                for k, v in pg.attrs.items()}
        for k in ("input_paths", "input_sha256"):
            raw = read_dataset(dataset(pg, k, p), p, f"provenance/{k}")
            prov[k] = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                       for v in np.atleast_1d(raw)]
    return Results(data, tables, parsed["model"], parsed["metadata"], prov)


@names_input_file
def load_results_h5(path: str | Path) -> LoadedData:
    """A results file as :class:`LoadedData` (used by ``load``); metadata per entry holds
    ``provenance``, ``model``, ``metadata`` and the table names."""
    res = read_results_h5(path)
    common = {"provenance": res.provenance, "model": res.model, "metadata": res.metadata,
              "tables": list(res.tables)}
    return LoadedData(Path(path), "results_h5", dict(res.data),
                      {k: dict(common) for k in res.data})
