"""Shared output of CLI commands: a readable table on the terminal, or JSON with ``--json``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["add_json_flag", "emit", "to_jsonable", "print_result_lines", "warn", "result_warnings"]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print the results as JSON instead of a table")


def to_jsonable(obj: Any) -> Any:
    """Convert numpy and scipp objects to plain JSON values (NaN and inf become null)."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    return obj


#: longest text shown in a table cell or under the table; --json prints values whole
MAX_SHOWN = 400

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f)}


def _fmt(v: Any) -> str:
    """A value as terminal text: numbers to 6 significant digits; text from files with
    control characters made visible and cut to :data:`MAX_SHOWN` characters (a 100 kB title
    must neither flood the terminal nor slow the table layout)."""
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return str(f)
        return f"{f:.6g}"
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
    if lines is not None:
        for line in lines:
            console.print(_fmt(line) if len(str(line)) > MAX_SHOWN else str(line).translate(_CONTROL))
        return
    for k, v in (extra or {}).items():
        console.print(f"{k}: {_fmt(v)}")


def _quantities_text(q: Mapping[str, Mapping[str, Any]]) -> str:
    from ..report.html import format_value_error

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
