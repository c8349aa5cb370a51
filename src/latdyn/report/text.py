"""Plain-text lines of a result's JSON summary, for the lines printed under a result table."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .numbers import format_number, format_value_error

__all__ = ["summary_lines"]


def _text(v: Any) -> str:
    if isinstance(v, Mapping) and "value" in v and "unit" in v:
        val, err, unit = v["value"], v.get("error"), v.get("unit") or ""
        if isinstance(val, (list, tuple)):
            body = ", ".join(_text(x) for x in val)
        elif isinstance(val, (int, float)) and not isinstance(val, bool):
            body = format_value_error(float(val), err) if math.isfinite(val) else format_number(val)
        else:
            body = str(val)
        return f"{body} {unit}".rstrip() if unit != "dimensionless" else body
    if isinstance(v, float):
        return format_number(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v)
    return str(v)


def summary_lines(summary: Mapping[str, Any], outputs: Iterable[Any] = (),
                  skip: Iterable[str] = ()) -> list[str]:
    """``name: value`` lines of a JSON summary (values with error and unit written as
    '1.23 ± 0.04 unit'; ``units`` {column: unit} as one line; nested tables, empty values and
    the keys in ``skip`` left out), then where the ``outputs`` are (their common folder, or
    the one file)."""
    out = []
    for k, v in summary.items():
        if k == "units" and isinstance(v, Mapping) and k not in skip:
            out.append("units: " + ", ".join(f"{c} {u}" for c, u in v.items()))
            continue
        if k in skip or v is None or v == []:
            continue
        if isinstance(v, Mapping) and "value" not in v:
            # a group of values with units (e.g. fit parameters): one line each
            out += [f"{sub}: {_text(q)}" for sub, q in v.items() if isinstance(q, Mapping) and "value" in q]
            continue
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], Mapping):
            continue
        out.append(f"{k}: {_text(v)}")
    paths = [os.fspath(p) for p in outputs]
    if paths:
        out.append("outputs: " + os.path.commonpath(paths))
    return out
