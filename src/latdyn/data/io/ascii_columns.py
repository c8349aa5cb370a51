"""Plain column ASCII: ``x y [error]`` with optional header blocks naming Q or T.

Variants read (the common ones in the wild):

* a bare table ``x y e`` (whitespace, comma or semicolon separated), e.g. spectra exported
  from Mantid or QENSmodels' IRIS files;
* comment lines (``#``, ``%``, ``!``) and a column-name line anywhere before the numbers;
  a unit in the header such as ``ueV``/``micro eV``/``meV`` sets the x unit;
* several blocks, each introduced by a header line holding ``Q = 0.5`` (or ``q``) or
  ``T = 300`` (``Temp``), all with the same x values: a 2-D array ``('Q', 'E')``
  (or ``('T', 'E')``).

Two columns mean no errors (the DataArray then has no variances); extra columns after the
third are ignored.  x is energy transfer in meV by default (``x_dim``/``x_unit`` override).

A table latdyn wrote itself (header ``E [meV],value [unit],error [unit]``) may hold errors of
0 on non-zero values (values computed without an uncertainty); they are kept and counted in
``metadata['zero_error_points']``.  In any other file they are refused unless masked
(``bad_errors``).

Strictness: once a block's numbers have started, a line that is neither numeric, nor a
comment, nor a new block header (``Q = ...``) is a FormatError naming it (a damaged row is
never dropped silently); numbers with decimal commas ('1,5 2,0', or ';' separators with ','
inside numbers) are a FormatError; a byte-order mark is removed before parsing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError, InputError
from ...fileio import names_input_file
from ._common import assemble, check_axis, check_bad_errors_option, read_text_lines
from .container import LoadedData

__all__ = ["read_ascii_columns"]

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_GROUP_RE = re.compile(rf"(?<![A-Za-z])(Q|q|T|Temp\w*|temp\w*)\s*[=:]\s*({_NUM})")
_SPLIT = re.compile(r"[\s,;]+")
_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+(?:[eE][-+]?\d+)?$")
#: the header row of a 1-D DataArray written by latdyn's write_csv: 'E [meV],value [..],error [..]'
_LATDYN_TABLE = re.compile(r"^[A-Za-z_]\w* \[[^\]]*\],value \[[^\]]*\],error \[[^\]]*\]$")


def _numbers(line: str) -> list[float] | None:
    parts = [s for s in _SPLIT.split(line.strip()) if s]
    if not parts:
        return None
    try:
        return [float(s) for s in parts]
    except ValueError:
        return None


def _decimal_commas(line: str) -> bool:
    """True when a numeric-looking line writes its numbers with decimal commas."""
    tokens = line.split()
    return (len(tokens) > 1 and any(_DECIMAL_COMMA.match(t) for t in tokens)) or \
        (";" in line and re.search(r"\d,\d", line) is not None)


def _unit_from_header(text: str) -> tuple[str, float] | None:
    low = text.lower()
    if re.search(r"(\bu|micro\s*|\u00b5)ev", low):
        return "meV", 1e-3
    if re.search(r"\bmev\b", low):
        return "meV", 1.0
    return None


@names_input_file
def read_ascii_columns(path: str | Path, *, x_dim: str = "E", x_unit: str | None = None,
                       value_unit: str = "dimensionless", bad_errors: str = "error") -> LoadedData:
    """Read column ASCII into a 1-D spectrum (dim ``x_dim``) or 2-D ``(Q|T, x_dim)`` array.

    Parameters
    ----------
    x_dim: name of the x dim (default ``'E'``, energy transfer).
    x_unit: unit of x in the file; for energies 'ueV' values are converted to meV.  Default:
        from the header when it names one, else meV for ``E``.
    value_unit: unit of the intensities.
    bad_errors: 'error' (default) or 'mask' for NaN, negative, or zero errors on non-zero
        values (:func:`latdyn.data.io._common.assemble`).

    Metadata: ``header`` (the header lines), ``group_values`` and ``q_source``.
    """
    p = Path(path)
    check_bad_errors_option(bad_errors, p)
    lines, encoding = read_text_lines(p)
    blocks: list[dict[str, Any]] = []
    header: list[str] = []
    ncol = None
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        comment = line[0] in "#%!"
        if not comment and _decimal_commas(line):
            raise FormatError("numbers written with decimal commas; latdyn reads decimal points "
                              "only", file=p, field=f"line {i + 1}", value=line[:60])
        nums = None if comment else _numbers(line)
        if nums is None:
            m = _GROUP_RE.search(line)
            if not comment and not m and blocks and blocks[-1]["rows"]:
                raise FormatError("a text line among the numbers (a damaged row?)", file=p,
                                  field=f"line {i + 1}", value=line[:60])
            header.append(line)
            if m:
                group = {"label": m.group(1), "value": float(m.group(2)), "line": i + 1}
                if blocks and not blocks[-1]["rows"]:
                    blocks[-1].update(group)
                else:
                    blocks.append({**group, "rows": []})
            continue
        if len(nums) < 2:
            raise FormatError("a data line needs at least x and y", file=p, field=f"line {i + 1}",
                              value=line[:60])
        if not blocks:
            blocks.append({"label": None, "value": None, "line": i + 1, "rows": []})
        width = min(len(nums), 3)
        if ncol is None:
            ncol = width
        elif width < ncol:
            raise FormatError(f"expected {ncol} columns", file=p, field=f"line {i + 1}",
                              value=line[:60])
        blocks[-1]["rows"].append(nums[:ncol])
    blocks = [b for b in blocks if b["rows"]]
    if not blocks:
        raise FormatError("no numeric columns found", file=p, field="lines")
    unit_e, fac = "meV", 1.0
    if x_unit is not None:
        if x_unit in ("ueV", "micro eV", "\u00b5eV"):
            fac = 1e-3
        else:
            unit_e = x_unit
    elif x_dim == "E":
        found = _unit_from_header(" ".join(header))
        if found:
            unit_e, fac = found
    elif x_dim != "E":
        unit_e = "dimensionless"
    arrays = [np.asarray(b["rows"], dtype=float) for b in blocks]
    x = arrays[0][:, 0]
    for b, a in zip(blocks[1:], arrays[1:], strict=True):
        if a.shape[0] != x.size or not np.allclose(a[:, 0], x, rtol=1e-9, atol=0):
            raise FormatError("blocks have different x values; cannot form one grid", file=p,
                              field=f"block at line {b['line']}", value=a.shape[0])
    x = x * fac
    y = np.stack([a[:, 1] for a in arrays])
    e = np.stack([a[:, 2] for a in arrays]) if ncol == 3 else None
    if check_axis(x, p, "column 1 (x)", allow_decreasing=True) < 0:
        x, y = x[::-1], y[:, ::-1]
        e = None if e is None else e[:, ::-1]
    meta: dict[str, Any] = {"header": header, "q_source": "none"}
    if encoding != "utf-8":
        meta["text_encoding"] = encoding
    units = {x_dim: unit_e}
    latdyn_table = any(_LATDYN_TABLE.match(h) for h in header[:1])
    if len(blocks) == 1:
        da = assemble(y[0], None if e is None else e[0], {x_dim: x}, units, value_unit, p,
                      "columns 2-3", name=p.stem, bad_errors=bad_errors, report=meta,
                      zero_errors_allowed=latdyn_table)
        return LoadedData(p, "ascii_columns", {p.stem: da}, {p.stem: meta})
    labels = {str(b["label"])[0].upper() for b in blocks if b["label"]}
    values = np.array([np.nan if b["value"] is None else b["value"] for b in blocks])
    if len(labels) != 1 or not np.all(np.isfinite(values)):
        raise FormatError("several blocks but their headers do not all give Q = or T =", file=p,
                          field="block headers", value=sorted(labels))
    gdim = labels.pop()
    if gdim == x_dim:
        raise InputError("group and x dims coincide", file=p, field="x_dim", value=x_dim)
    units[gdim] = "1/angstrom" if gdim == "Q" else "K"
    order = np.argsort(values, kind="stable")
    values, y = values[order], y[order]
    e = None if e is None else e[order]
    check_axis(values, p, "block headers (Q/T values)")
    da = assemble(y, e, {gdim: values, x_dim: x}, units, value_unit, p, "columns 2-3",
                  name=p.stem, bad_errors=bad_errors, report=meta)
    meta["group_values"] = values.tolist()
    if gdim == "Q":
        meta["q_source"] = "file (block headers)"
    return LoadedData(p, "ascii_columns", {p.stem: da}, {p.stem: meta})
