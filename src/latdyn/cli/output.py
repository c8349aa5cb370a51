"""Shared output of CLI commands: a readable table on the terminal, or JSON with ``--json``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["add_json_flag", "emit", "to_jsonable", "print_result_lines", "warn", "result_warnings"]


def add_json_flag(parser: argparse.ArgumentParser, dask: bool = False) -> None:
    """``--json``, ``--quiet``/``--verbose`` (and ``--dask``): :func:`latdyn.cli.options.add_common`."""
    from .options import add_common

    add_common(parser, dask=dask)


#: lines under a table that only say where files went (left out with --quiet)
_LOCATION_PREFIXES = ("outputs:", "report:", "results:", "file:", "mCIF:")


def _shown_lines(lines: Sequence[str], notes: Sequence[str]) -> list[str]:
    """The lines printed under a table at the current verbosity (:mod:`latdyn.console`):
    --quiet leaves out notes and where the files went; --verbose adds ``notes``."""
    from ..console import QUIET, VERBOSE, verbosity

    level = verbosity()
    out = [str(line) for line in lines]
    if level <= QUIET:
        return [line for line in out if not line.startswith(("note:", *_LOCATION_PREFIXES))]
    if level >= VERBOSE:
        out += [f"note: {n}" for n in notes if f"note: {n}" not in out]
    return out


def _numpy():
    """numpy if it has been imported, else None: without numpy there are no numpy values to
    convert, and the command line starts without loading it."""
    return sys.modules.get("numpy")


def to_jsonable(obj: Any) -> Any:
    """Convert numpy and scipp objects to plain JSON values (NaN and inf become null)."""
    np = _numpy()
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if np is not None and isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, float) or (np is not None and isinstance(obj, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if np is not None and isinstance(obj, np.integer):
        return int(obj)
    if np is not None and isinstance(obj, np.bool_):
        return bool(obj)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    return obj


#: longest text shown in a table cell or under the table; --json prints values whole
MAX_SHOWN = 400

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f)}


def _fmt(v: Any) -> str:
    """A value as terminal text: numbers by :func:`latdyn.report.numbers.format_cell` (4
    significant digits; None and NaN as a dash); text from files with control characters made
    visible and cut to :data:`MAX_SHOWN` characters (a 100 kB title must neither flood the
    terminal nor slow the table layout)."""
    from ..report.numbers import format_cell

    np = _numpy()
    if v is None or isinstance(v, (bool, int, float)) or (np is not None and isinstance(v, np.generic)):
        return format_cell(v)
    text = str(v)
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN] + f"... ({len(text)} characters; --json prints it whole)"
    return text.translate(_CONTROL)


def emit(
    rows: Sequence[Mapping[str, Any]],
    *,
    as_json: bool,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    stream=None,
    lines: Sequence[str] | None = None,
) -> None:
    """Print ``rows`` (dicts sharing keys) as a table, or as JSON ``{"title", "rows", ...}``.

    ``extra`` holds results merged into the JSON object and, unless ``lines`` is given, shown
    under the table as ``key: value``; ``lines`` are the text shown under the table instead.
    With ``--quiet`` the lines saying where files went and the notes are left out; with
    ``--verbose`` the ``notes`` of ``extra`` are added (:mod:`latdyn.console`).
    """
    stream = stream or sys.stdout
    if as_json:
        payload: dict[str, Any] = {"title": title, "rows": list(rows)}
        payload.update(extra or {})
        stream.write(json.dumps(to_jsonable(payload), indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    is_tty = hasattr(stream, "isatty") and stream.isatty()
    # text from files is printed as it is: no [markup], no :emoji: codes, no highlighting
    console = Console(file=stream, width=None if is_tty else 200, markup=False, highlight=False,
                      emoji=False)
    cols = list(columns or (rows[0].keys() if rows else []))
    if rows:
        table = Table(title=None if title is None else _fmt(title), show_lines=False)
        for c in cols:
            table.add_column(str(c), justify="right")
        for r in rows:
            table.add_row(*(_fmt(r.get(c, "")) for c in cols))
        console.print(table)
    elif title:
        console.print(_fmt(title))
    notes = (extra or {}).get("notes") or []
    notes = [notes] if isinstance(notes, str) else list(notes) if isinstance(notes, (list, tuple)) else []
    # each value (or given line) is cut once, so the count it states is the original length
    shown = ([f"{k}: {_fmt(v)}" for k, v in (extra or {}).items()] if lines is None
             else [_fmt(line) for line in lines])
    for line in _shown_lines(shown, notes):
        console.print(str(line).translate(_CONTROL))


def _quantities_text(q: Mapping[str, Mapping[str, Any]]) -> str:
    from ..report.numbers import format_value_error

    parts = []
    for name, d in q.items():
        v, e, u = d.get("value"), d.get("error"), d.get("unit") or ""
        if v is None:
            continue
        parts.append(f"{name} = {format_value_error(v, e)}" + (f" {u}" if u and u != "dimensionless" else ""))
    return ", ".join(parts)


def warn(messages: Sequence[str], stream=None) -> None:
    """One 'latdyn: warning: ...' line per message on standard error (also with --json)."""
    stream = stream or sys.stderr
    for m in messages:
        stream.write(f"latdyn: warning: {' '.join(str(m).split())}\n")


def result_warnings(result: Any) -> list[str]:
    """The result's ``warnings()`` (reasons not to trust it, implausible values); [] for a
    result without fits."""
    method = getattr(result, "warnings", None)
    return list(method()) if callable(method) else []


def print_result_lines(headline: Mapping[str, Any], cross_checks: Mapping[str, Any] | None = None,
                       warnings: Sequence[str] = (), outputs: Sequence[Any] = ()) -> list[str]:
    """Text lines under a result table: the one result to use (with its source and whether it
    converged), the cross-checks, and the files written; ``warnings`` go to standard error
    (:func:`warn`)."""
    status = "converged" if headline.get("converged", True) else "NOT CONVERGED"
    if headline.get("implausible"):
        status += ", IMPLAUSIBLE VALUES"
    out = [f"result ({headline.get('source', '')}, {status}): "
           + (_quantities_text(headline.get("quantities", {})) or "no derived quantities")]
    for name, c in (cross_checks or {}).items():
        out.append(f"cross-check {name}: {_quantities_text(c.get('quantities', {}))}"
                   + ("" if c.get("converged", True) else " (not converged)"))
    warn(warnings)
    if outputs:
        folders = sorted({str(getattr(p, "parent", p)) for p in outputs})
        out.append("outputs: " + ", ".join(folders))
    return out
