"""Plain-text tables of the diffraction results: numeric input tables and CSV output.

* :func:`read_numeric_table`: whitespace- or comma-separated numbers, ``#`` comments, a header
  line of words allowed (U_iso(T) tables, S(Q), observed structure factors).
* :func:`write_columns_csv`: ``#`` comment lines, a header row, then one row per point with
  numbers to 10 significant digits (strings as they are), written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FormatError
from ..fileio import read_text_file, write_text_atomic

__all__ = ["read_numeric_table", "write_columns_csv"]


def read_numeric_table(path, min_cols: int, field: str) -> np.ndarray:
    """The numeric rows of a text table (rows, columns), at least ``min_cols`` columns.

    Lines starting with '#' and rows whose first cell is a word (a header) are skipped; commas
    count as whitespace.  FileNotFoundError when the file is missing, FormatError naming
    ``field`` when the rows are ragged, non-numeric or too narrow, or the file is not text
    (:func:`latdyn.fileio.read_text_file`)."""
    path = Path(path)
    text = read_text_file(path)[0].replace(",", " ")
    rows = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        rows = [list(map(float, r)) for r in rows if not r[0].isalpha()]
        arr = np.array(rows, dtype=float)
    except ValueError as exc:
        raise FormatError("table holds non-numeric values or ragged rows", file=path, field=field) from exc
    if arr.ndim != 2 or arr.shape[1] < min_cols or len(arr) == 0:
        raise FormatError(f"expected at least {min_cols} numeric columns", file=path, field=field,
                          value=arr.shape)
    return arr


def write_columns_csv(path, header, columns, comment: str = "") -> Path:
    """Write ``columns`` (equal lengths) under ``header`` into the CSV file ``path``, after one
    ``# `` line per line of ``comment``; numbers as ``%.10g``, strings unchanged."""
    lines = [f"# {c}" for c in comment.splitlines() if c] + [",".join(header)]
    for row in zip(*columns, strict=True):
        lines.append(",".join(v if isinstance(v, str) else f"{v:.10g}" for v in row))
    return write_text_atomic(path, "\n".join(lines) + "\n")
