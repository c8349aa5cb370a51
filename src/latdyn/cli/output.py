"""Shared output of CLI commands: a readable table on the terminal, or JSON with ``--json``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["add_json_flag", "emit", "to_jsonable"]


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


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return str(f)
        return f"{f:.6g}"
    return str(v)


def emit(
    rows: Sequence[Mapping[str, Any]],
    *,
    as_json: bool,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    stream=None,
) -> None:
    """Print ``rows`` (dicts sharing keys) as a table, or as JSON ``{"title", "rows", ...}``.

    ``extra`` holds scalar results shown under the table (and merged into the JSON object).
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
    console = Console(file=stream, width=None if is_tty else 200)
    cols = list(columns or (rows[0].keys() if rows else []))
    if rows:
        table = Table(title=title, show_lines=False)
        for c in cols:
            table.add_column(str(c), justify="right")
        for r in rows:
            table.add_row(*(_fmt(r.get(c, "")) for c in cols))
        console.print(table)
    elif title:
        console.print(title)
    for k, v in (extra or {}).items():
        console.print(f"{k}: {_fmt(v)}")
