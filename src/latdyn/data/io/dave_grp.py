"""DAVE ASCII group files (``.grp``, NIST DAVE; also written by Mantid's SaveDaveGrp).

Layout: ``#`` lines label sections, each followed by numbers::

    # Number of Energy transfer values      -> n_x
    # Number of q values                    -> n_groups
    # Energy transfer (micro eV) values     -> n_x x values (unit in parentheses)
    # q (1/Angstroms) values                -> n_groups group values
    # Group 0                               -> n_x lines 'intensity error'
    # Group 1 ...

Energies given in micro-eV are converted to meV (and their bin widths with them); the group
axis becomes ``Q`` (1/angstrom) when its label names q.  Result dims ``('Q', 'E')``.

Numbers are read with a decimal point whatever the locale: a value line holds exactly one
number and a group line exactly two, separated by blanks (or commas between plain numbers), so
decimal commas ('1,5 0,2' from a German or French locale) are a FormatError instead of being
read as four numbers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError
from ...fileio import names_input_file
from ._common import assemble, check_axis, check_bad_errors_option, read_text_lines
from .container import LoadedData

__all__ = ["read_dave_grp", "looks_like_dave_grp"]


def looks_like_dave_grp(lines: list[str]) -> bool:
    """True when the file opens with DAVE's '# Number of ...' header."""
    return bool(lines) and lines[0].lstrip().lower().startswith("# number of")


_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+(?:[eE][-+]?\d+)?$")


def _numbers(s: str, file: Path, line: int) -> list[float]:
    """The numbers of a data line; FormatError for text or decimal commas."""
    tokens = s.split()
    if any(_DECIMAL_COMMA.match(t) for t in tokens) or (";" in s and "," in s):
        raise FormatError("numbers written with decimal commas; latdyn reads decimal points only",
                          file=file, field=f"line {line}", value=s[:60])
    try:
        return [float(v) for t in tokens for v in t.split(",") if v]
    except ValueError:
        raise FormatError("line is not numeric", file=file, field=f"line {line}",
                          value=s[:60]) from None


def _sections(lines: list[str], file: Path) -> list[tuple[str, int, list[list[float]]]]:
    sections: list[tuple[str, int, list[list[float]]]] = []
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            sections.append((s.lstrip("#").strip(), i + 1, []))
            continue
        if not sections:
            raise FormatError("data before the first '#' header", file=file, field=f"line {i + 1}",
                              value=s[:60])
        sections[-1][2].append(_numbers(s, file, i + 1))
    return sections


def _column(rows: list[list[float]], title: str, line: int, file: Path) -> np.ndarray:
    """One number per line (an axis section)."""
    for k, r in enumerate(rows):
        if len(r) != 1:
            raise FormatError(f"expected one number per line, found {len(r)}", file=file,
                              field=f"'{title}' (line {line}, value {k + 1})", value=r[:4])
    return np.array([r[0] for r in rows], dtype=float)


def _x_unit(label: str) -> tuple[str, str, float]:
    low = label.lower()
    if "energy" in low or "ev" in low:
        if "micro" in low or "uev" in low or "\u00b5ev" in low:
            return "E", "meV", 1e-3
        return "E", "meV", 1.0
    if low.startswith("q") or "angstrom" in low:
        return "Q", "1/angstrom", 1.0
    if "temp" in low:
        return "T", "K", 1.0
    return "x", "dimensionless", 1.0


@names_input_file
def read_dave_grp(path: str | Path, *, bad_errors: str = "error") -> LoadedData:
    """Read a DAVE group file into S(Q, E) (meV, 1/angstrom) with variances.

    Metadata: ``x_label`` and ``group_label`` (the section titles as written), ``q_source``.
    ``bad_errors``: 'error' (default) or 'mask' for NaN, negative, or zero errors on non-zero
    values (:func:`latdyn.data.io._common.assemble`).
    """
    p = Path(path)
    check_bad_errors_option(bad_errors, p)
    lines, encoding = read_text_lines(p)
    if not looks_like_dave_grp(lines):
        raise FormatError("not a DAVE group file (no '# Number of' header)", file=p,
                          field="line 1")
    sec = _sections(lines, p)
    if len(sec) < 5:
        raise FormatError("DAVE file needs counts, axes and at least one group", file=p,
                          field="sections", value=len(sec))

    def scalar(k: int) -> int:
        title, line, rows = sec[k]
        if len(rows) != 1 or len(rows[0]) != 1 or not np.isfinite(rows[0][0]) or \
                rows[0][0] != int(rows[0][0]) or rows[0][0] < 1:
            raise FormatError("expected one positive integer", file=p, field=f"'{title}' "
                              f"(line {line})", value=rows[:2])
        return int(rows[0][0])

    n_x, n_g = scalar(0), scalar(1)
    xs_title, xs_line, xs_rows = sec[2]
    gs_title, gs_line, gs_rows = sec[3]
    x = _column(xs_rows, xs_title, xs_line, p)
    g = _column(gs_rows, gs_title, gs_line, p)
    if x.size != n_x:
        raise FormatError(f"{x.size} x values but the header says {n_x}", file=p,
                          field=f"'{xs_title}' (line {xs_line})", value=x.size)
    if g.size != n_g:
        raise FormatError(f"{g.size} group values but the header says {n_g}", file=p,
                          field=f"'{gs_title}' (line {gs_line})", value=g.size)
    groups = sec[4:]
    if len(groups) != n_g:
        raise FormatError(f"{len(groups)} groups but the header says {n_g}", file=p,
                          field="# Group sections", value=len(groups))
    y = np.empty((n_g, n_x))
    e = np.empty((n_g, n_x))
    for k, (title, line, rows) in enumerate(groups):
        if len(rows) != n_x or any(len(r) != 2 for r in rows):
            bad = next((len(r) for r in rows if len(r) != 2), len(rows))
            raise FormatError(f"group needs {n_x} lines of 'intensity error' (two numbers)",
                              file=p, field=f"'{title}' (line {line})", value=bad)
        arr = np.array([r[:2] for r in rows])
        y[k], e[k] = arr[:, 0], arr[:, 1]
    xdim, xunit, fac = _x_unit(xs_title)
    gdim, gunit, _ = _x_unit(gs_title)
    if gdim == xdim or gdim == "E":
        gdim, gunit = "spectrum", "dimensionless"
    x = x * fac
    if check_axis(x, p, f"'{xs_title}'", allow_decreasing=True) < 0:
        x, y, e = x[::-1], y[:, ::-1], e[:, ::-1]
    if check_axis(g, p, f"'{gs_title}'", allow_decreasing=True) < 0:
        g, y, e = g[::-1], y[::-1], e[::-1]
    report: dict[str, Any] = {}
    da = assemble(y, e, {gdim: g, xdim: x}, {gdim: gunit, xdim: xunit}, "dimensionless", p,
                  "groups", name=p.stem, bad_errors=bad_errors, report=report)
    meta: dict[str, Any] = {"x_label": xs_title, "group_label": gs_title,
                            "q_source": "file (group values)" if gdim == "Q" else "none", **report}
    if encoding != "utf-8":
        meta["text_encoding"] = encoding
    m = re.search(r"\(([^)]*)\)", xs_title)
    if m:
        meta["x_unit_in_file"] = m.group(1)
    return LoadedData(p, "dave_grp", {p.stem: da}, {p.stem: meta})
