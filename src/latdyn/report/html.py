"""HTML reports: figures, tables, fit parameters, provenance.

A :class:`Report` collects sections; :meth:`Report.write` writes one HTML file and, next to it,
every figure in ``figures/``.  Figures up to :data:`EMBED_LIMIT` bytes are embedded as base64
PNG (the report reads offline and prints); a larger one is linked to its file instead, so the
HTML stays small.  Figures are PNG; SVG is optional (``figure_formats=("png", "svg")`` or the
environment variable ``LATDYN_FIGURE_FORMATS=png,svg``): a dense map or a phonon dispersion
with thousands of segments makes SVGs of several MB, which the report does not need.
Numbers are printed by :mod:`latdyn.report.numbers` (rounded to their uncertainty), and each
figure records the x-ranges of its data points and drawn curves (``data-ranges``) so
:func:`latdyn.report.check.check_report` can verify no curve runs outside the data.
Provenance (latdyn version, command line, Python, time, input files with SHA-256) closes the
report.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fileio import file_sha256, write_bytes_atomic, write_text_atomic
from .numbers import MISSING, format_cell, format_value_error, round_to_error
from .plotcheck import plotted_ranges

__all__ = ["Report", "file_sha256"]


#: figures larger than this (bytes of PNG) are linked, not embedded
EMBED_LIMIT = 1_000_000
#: figure file formats written beside the report by default (PNG is always written)
DEFAULT_FIGURE_FORMATS = ("png",)


def figure_formats_setting() -> tuple[str, ...]:
    """Figure formats from ``LATDYN_FIGURE_FORMATS`` (comma-separated, ``png`` and/or ``svg``),
    else :data:`DEFAULT_FIGURE_FORMATS`; PNG is always included (the report shows it)."""
    raw = os.environ.get("LATDYN_FIGURE_FORMATS", "")
    fmts = [f.strip().lower() for f in raw.split(",") if f.strip()]
    bad = [f for f in fmts if f not in ("png", "svg")]
    if bad:
        from ..errors import InputError
        raise InputError(f"unknown figure format {bad[0]!r} (png, svg)", field="LATDYN_FIGURE_FORMATS",
                         value=raw)
    return tuple(dict.fromkeys(["png", *fmts])) if fmts else DEFAULT_FIGURE_FORMATS


@dataclass
class _Figure:
    name: str
    caption: str
    files: dict[str, bytes]
    ranges: list[dict]

    @property
    def png(self) -> bytes:
        return self.files["png"]


@dataclass
class Report:
    """An HTML report under construction.

    Example::

        rep = Report("QENS fit of water", command="latdyn qens fit ...")
        rep.add_input("data.hdf")
        rep.add_text("Model", "elastic + Lorentzian convolved with the vanadium resolution")
        rep.add_figure("fits", fig, "Fits per Q group")
        rep.add_table("Parameters", rows)
        rep.write("out/report.html")
    """

    title: str
    command: str | None = None
    figure_formats: tuple[str, ...] | None = None
    _blocks: list[tuple[str, Any]] = field(default_factory=list)
    _inputs: list[tuple[str, str]] = field(default_factory=list)
    _figures: list[_Figure] = field(default_factory=list)

    def add_input(self, path: str | Path) -> None:
        """Record an input file and its SHA-256 for the provenance section."""
        self._inputs.append((str(path), file_sha256(path)))

    def add_heading(self, text: str) -> None:
        self._blocks.append(("h2", text))

    def add_text(self, heading: str | None, text: str) -> None:
        """A paragraph (plain text; blank lines split paragraphs)."""
        if heading:
            self._blocks.append(("h3", heading))
        self._blocks.append(("p", text))

    def add_figure(self, name: str, fig, caption: str = "") -> None:
        """Add a matplotlib figure (written as ``figures/name.png``, and ``.svg`` when asked);
        its data and curve x-ranges are recorded for the report check."""
        formats = self.figure_formats or figure_formats_setting()
        files = {}
        for fmt in dict.fromkeys(["png", *formats]):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=110)
            files[fmt] = buf.getvalue()
        f = _Figure(name, caption, files, plotted_ranges(fig))
        self._figures.append(f)
        self._blocks.append(("figure", f))

    def add_table(self, heading: str | None, rows: list[dict[str, Any]],
                  columns: list[str] | None = None, errors: dict[str, str] | None = None) -> None:
        """A table from dicts sharing keys.  Numbers print by :func:`latdyn.report.numbers.format_cell`;
        ``errors`` maps a value column to its error column: those values are rounded to their
        error (2 significant digits), as is the error.  Without ``errors`` a column ``X`` is
        paired with a column ``X_err`` or ``X err`` when the table has one."""
        if heading:
            self._blocks.append(("h3", heading))
        cols = list(columns or (rows[0].keys() if rows else []))
        if errors is None:
            keys = {str(k) for r in rows for k in r}
            errors = {c: e for c in cols for e in (f"{c}_err", f"{c} err") if e in keys}
        self._blocks.append(("table", (cols, rows, dict(errors))))

    def add_parameters(self, heading: str | None,
                       params: dict[str, tuple[float, float | None, str]]) -> None:
        """Fit parameters: name -> (value, standard error or None, unit)."""
        rows = [{"parameter": k, "value": format_value_error(v, e), "unit": u or MISSING}
                for k, (v, e, u) in params.items()]
        self.add_table(heading, rows, ["parameter", "value", "unit"])

    # --- rendering --------------------------------------------------------------------------
    def _render_block(self, kind: str, obj: Any) -> str:
        if kind in ("h2", "h3"):
            return f"<{kind}>{html.escape(obj)}</{kind}>"
        if kind == "p":
            return "".join(f"<p>{html.escape(p.strip())}</p>" for p in obj.split("\n\n") if p.strip())
        if kind == "figure":
            if len(obj.png) > EMBED_LIMIT:
                src = f"figures/{html.escape(obj.name)}.png"
            else:
                src = "data:image/png;base64," + base64.b64encode(obj.png).decode("ascii")
            cap = f"<figcaption>{html.escape(obj.caption)}</figcaption>" if obj.caption else ""
            alt = html.escape(obj.caption or obj.name)
            ranges = html.escape(json.dumps(obj.ranges, separators=(",", ":")))
            return (f'<figure id="fig-{html.escape(obj.name)}" data-ranges="{ranges}"><img alt="{alt}" '
                    f'src="{src}">{cap}</figure>')
        if kind == "table":
            cols, rows, errors = obj
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
            body = "".join("<tr>" + "".join(_cell(r, c, errors) for c in cols) + "</tr>" for r in rows)
            return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
                    f"<tbody>{body}</tbody></table></div>")
        raise ValueError(kind)

    def to_html(self) -> str:
        from .. import __version__

        now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        cmd = self.command if self.command is not None else " ".join(["latdyn", *sys.argv[1:]])
        prov_rows = [
            ("latdyn version", __version__),
            ("command", cmd),
            ("python", platform.python_version()),
            ("platform", platform.platform()),
            ("written", now),
        ]
        prov = "".join(f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>"
                       for k, v in prov_rows)
        inputs = "".join(f"<tr><td><code>{html.escape(p)}</code></td><td><code>{h}</code></td></tr>"
                         for p, h in self._inputs) or '<tr><td colspan="2">none</td></tr>'
        body = "\n".join(self._render_block(k, o) for k, o in self._blocks)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="latdyn {html.escape(__version__)}">
<title>{html.escape(self.title)}</title>
<style>{_CSS}</style></head>
<body><main>
<h1>{html.escape(self.title)}</h1>
{body}
<h2>Provenance</h2>
<table class="prov">{prov}</table>
<h3>Inputs</h3>
<table><thead><tr><th>file</th><th>SHA-256</th></tr></thead><tbody>{inputs}</tbody></table>
</main></body></html>
"""

    def write(self, path: str | Path, figures: bool = True) -> Path:
        """Write the HTML file atomically and, in ``figures/`` beside it, each figure in the
        chosen formats (with ``figures=False`` only the figures the HTML links to)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig_dir = path.parent / "figures"
        for f in self._figures:
            for fmt, data in f.files.items():
                if figures or (fmt == "png" and len(data) > EMBED_LIMIT):
                    write_bytes_atomic(fig_dir / f"{f.name}.{fmt}", data)
        write_text_atomic(path, self.to_html())
        return path


def _cell(row: dict[str, Any], col: str, errors: dict[str, str]) -> str:
    """One ``<td>``: a value rounded to its error column (``data-error`` records the error the
    value was rounded to), an error to 2 significant digits, anything else by format_cell."""
    v = row.get(col)
    err_col = errors.get(col)
    if err_col is not None:
        e = row.get(err_col)
        if _finite_positive(v, e):
            text, err, suffix = round_to_error(v, e)
            return f'<td data-error="{html.escape(err + suffix)}">{html.escape(text + suffix)}</td>'
    if col in errors.values():
        val_col = next(k for k, c in errors.items() if c == col)
        if _finite_positive(row.get(val_col), v):
            _, err, suffix = round_to_error(row[val_col], v)
            return f'<td data-error="{html.escape(err + suffix)}">{html.escape(err + suffix)}</td>'
    return f"<td>{html.escape(format_cell(v))}</td>"


def _finite_positive(value: Any, error: Any) -> bool:
    try:
        v, e = float(value), float(error)
    except (TypeError, ValueError):
        return False
    return bool(v == v and abs(v) != float("inf") and e > 0 and e != float("inf"))


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;margin:0;background:#fafafa}
main{max-width:980px;margin:0 auto;padding:1.5rem 2rem;background:#fff}
h1{font-size:1.7rem;border-bottom:2px solid #2a6f97;padding-bottom:.3rem}
h2{font-size:1.3rem;color:#2a6f97;margin-top:2rem}
h3{font-size:1.05rem;margin-top:1.2rem}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th{background:#eef3f7}
table.prov th,table.prov td{text-align:left}
figure{margin:1rem 0;text-align:center;page-break-inside:avoid}
figure img{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#555;margin-top:.3rem}
code{font-size:.85rem;word-break:break-all}
@media print{body{background:#fff}main{padding:0}}
"""
