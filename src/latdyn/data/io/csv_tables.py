"""CSV for tables: one header row of ``name [unit]`` cells, then one row per table row.

A per-row fit covariance (n_rows, n_par, n_par) is written as extra columns
``cov[a|b]`` (upper triangle, a <= b); a single covariance (n_par, n_par) for a table with one
row per parameter is written as columns ``cov[*|b]``, row i holding C[i, b].  Floats are written with
``repr`` (17 significant digits), so :func:`read_csv` gives back identical numbers.
A 1-D or 2-D DataArray is written in long form (coordinates, value, error).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError, InputError
from ...fileio import names_input_file, write_text_atomic
from ._common import read_text
from .container import LoadedData
from .table import Table

__all__ = ["write_csv", "read_csv", "dataarray_to_table", "read_csv_table", "looks_like_csv_table"]

_HEAD = re.compile(r"^(.*?)(?: \[(.*)\])?$")
_COV = re.compile(r"^cov\[(.+)\|(.+)\]$")


def dataarray_to_table(da: sc.DataArray) -> Table:
    """Long-form table of a 1-D or 2-D DataArray: one row per point.

    Columns: each dim's coordinate (bin centres, plus ``<dim>_lo``/``<dim>_hi`` edges for
    histograms), ``value`` and ``error`` (sigma, when there are variances), ``masked``.
    """
    if not isinstance(da, sc.DataArray) or da.ndim not in (1, 2):
        raise InputError("only 1-D and 2-D DataArrays can be written as a table", field="data",
                         value=getattr(da, "dims", type(da).__name__))
    grids = np.meshgrid(*[np.arange(da.sizes[d]) for d in da.dims], indexing="ij")
    cols: dict[str, Any] = {}
    units: dict[str, str] = {}
    for d, idx in zip(da.dims, grids, strict=True):
        c = np.asarray(da.coords[d].values, dtype=float)
        u = str(da.coords[d].unit)
        if da.coords.is_edges(d):
            cols[f"{d}_lo"], cols[f"{d}_hi"] = c[:-1][idx].ravel(), c[1:][idx].ravel()
            cols[d] = (0.5 * (c[:-1] + c[1:]))[idx].ravel()
            units.update({f"{d}_lo": u, f"{d}_hi": u})
        else:
            cols[d] = c[idx].ravel()
        units[d] = u
    cols["value"] = np.asarray(da.values, dtype=float).ravel()
    units["value"] = str(da.unit)
    if da.variances is not None:
        cols["error"] = np.sqrt(np.asarray(da.variances, dtype=float)).ravel()
        units["error"] = str(da.unit)
    if da.masks:
        m = np.zeros(da.shape, dtype=bool)
        for mask in da.masks.values():
            m |= mask.broadcast(sizes=da.sizes).values
        cols["masked"] = m.ravel()
    return Table(cols, units)


def _cell(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    return str(v)


def write_csv(path: str | Path, table: Table | sc.DataArray) -> Path:
    """Write a :class:`Table` (or a 1-D/2-D DataArray, via :func:`dataarray_to_table`) as CSV.

    Atomic.  Returns the path.
    """
    if isinstance(table, sc.DataArray):
        table = dataarray_to_table(table)
    if not isinstance(table, Table):
        raise InputError("expected a Table or a DataArray", file=path, field="table",
                         value=type(table).__name__)
    names = list(table.columns)
    header = [f"{n} [{table.units[n]}]" if table.units.get(n) else n for n in names]
    columns = [table.columns[n] for n in names]
    cov = table.covariance
    params = table.parameters
    if cov is not None and cov.ndim == 3:
        for i in range(len(params)):
            for j in range(i, len(params)):
                header.append(f"cov[{params[i]}|{params[j]}]")
                columns.append(cov[:, i, j])
    elif cov is not None:
        if table.n_rows != len(params):
            raise InputError("a single covariance goes to CSV only for a table with one row per "
                             "parameter; use write_results_h5", file=path, field="covariance",
                             value=(table.n_rows, len(params)))
        for j, name in enumerate(params):
            header.append(f"cov[*|{name}]")
            columns.append(cov[:, j])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for i in range(table.n_rows):
        writer.writerow([_cell(c[i]) for c in columns])
    return write_text_atomic(path, buf.getvalue())


def _parse_column(cells: list[str]) -> np.ndarray:
    if cells and all(c in ("true", "false") for c in cells):
        return np.array([c == "true" for c in cells])
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([float(c) for c in cells], dtype=float)
    except ValueError:
        return np.array(cells, dtype=str)


def read_csv(path: str | Path) -> Table:
    """Read a CSV written by :func:`write_csv` (or any CSV with a header row) into a Table."""
    p = Path(path)
    try:
        rows = list(csv.reader(read_text(p)))
    except csv.Error as exc:
        raise FormatError(f"not a readable CSV table ({exc})", file=p) from None
    rows = [r for r in rows if r]
    if not rows:
        raise FormatError("empty CSV file", file=p, field="line 1")
    header, body = rows[0], rows[1:]
    for i, r in enumerate(body, start=2):
        if len(r) != len(header):
            raise FormatError(f"row has {len(r)} cells, header has {len(header)}", file=p,
                              field=f"line {i}", value=r[:4])
    cols: dict[str, Any] = {}
    units: dict[str, str] = {}
    cov_cols: dict[tuple[str, str], np.ndarray] = {}
    for j, h in enumerate(header):
        data = _parse_column([r[j] for r in body])
        m = _COV.match(h)
        if m:
            cov_cols[(m.group(1), m.group(2))] = np.asarray(data, dtype=float)
            continue
        name, unit = _HEAD.match(h).groups()
        cols[name] = data
        if unit:
            units[name] = unit
    if not cov_cols:
        return Table(cols, units)
    if all(a == "*" for a, _ in cov_cols):
        params = [b for _, b in cov_cols]
        cov = np.stack([cov_cols[("*", q)] for q in params], axis=1)
        return Table(cols, units, cov, params)
    params = []
    for a, b in cov_cols:
        for q in (a, b):
            if q not in params:
                params.append(q)
    k = len(params)
    cov = np.zeros((len(body), k, k))
    for (a, b), v in cov_cols.items():
        i, j = params.index(a), params.index(b)
        cov[:, i, j] = cov[:, j, i] = v
    return Table(cols, units, cov, params)


_NAME = re.compile(r"^[A-Za-z_][\w.*/()^-]*(?: \[[^\]]*\])?$")


def looks_like_csv_table(lines: list[str]) -> bool:
    """True for a CSV results table (as latdyn writes them): a comma-separated header row of
    column names and rows of the same width, with a text cell in the body (a parameter name,
    a model) or at least four named columns.  Plain ``x,y,error`` spectra stay column ASCII."""
    try:
        rows = list(csv.reader(ln for ln in lines if ln.strip() and ln.lstrip()[0] not in "#%!"))
    except csv.Error:  # a field beyond the csv module's limit: not a table latdyn wrote
        return False
    if len(rows) < 2 or len(rows[0]) < 2:
        return False
    header = [c.strip() for c in rows[0]]
    if not all(_NAME.match(c) for c in header) or _is_dataarray_header(header):
        return False
    body = rows[1:]
    if any(len(r) != len(header) for r in body):
        return False
    text_cell = any(_parse_column([r[j] for r in body]).dtype.kind == "U" for j in range(len(header)))
    return text_cell or len(header) >= 4


def _is_dataarray_header(header: list[str]) -> bool:
    return len(header) == 3 and header[1].startswith("value") and header[2].startswith("error")


@names_input_file
def read_csv_table(path: str | Path) -> LoadedData:
    """A CSV results table (:func:`read_csv`) as :class:`LoadedData`: one entry per numeric
    column along the dim ``row``, with the unit of its header, the column ``<name>_err`` (or
    ``error`` for ``value``) as its standard error, and the text and true/false columns as
    coordinates on ``row``.  Metadata: ``columns``, ``covariance_of`` (the parameters of a
    covariance written as ``cov[a|b]`` columns)."""
    p = Path(path)
    table = read_csv(p)
    cols, units = table.columns, table.units
    n = table.n_rows
    if n == 0:
        raise FormatError("the table has a header but no rows", file=p, field="line 2")
    labels = {k: v for k, v in cols.items() if np.asarray(v).dtype.kind in "Ub"}
    errors = {k for k in cols if k.endswith("_err") and k[:-4] in cols}
    if "value" in cols and "error" in cols:
        errors.add("error")
    meta: dict[str, Any] = {"columns": list(cols)}
    if table.covariance is not None:
        meta["covariance_of"] = list(table.parameters)
    entries: dict[str, sc.DataArray] = {}
    for name, v in cols.items():
        if name in labels or name in errors:
            continue
        err_name = "error" if name == "value" and "error" in errors else f"{name}_err"
        err = np.asarray(cols[err_name], dtype=float) if err_name in errors else None
        unit = units.get(name) or "dimensionless"
        try:
            da = sc.DataArray(sc.array(dims=["row"], values=np.asarray(v, dtype=float), unit=unit,
                                       variances=None if err is None else err ** 2))
        except Exception:  # noqa: BLE001 - scipp rejects a unit it does not know
            raise FormatError("unknown unit in the header", file=p, field=name, value=unit) from None
        for k, lab in labels.items():
            da.coords[k] = sc.array(dims=["row"], values=np.asarray(lab))
        entries[name] = da
    if not entries:
        raise FormatError("the table has no numeric column", file=p, field="line 1",
                          value=list(cols)[:8])
    return LoadedData(p, "csv_table", entries, {k: dict(meta) for k in entries})
