"""Self-contained HTML reports: figures embedded, tables, fit parameters, provenance.

A :class:`Report` collects sections; :meth:`Report.write` writes one HTML file (images embedded
as base64 PNG, so it reads offline and prints) and, next to it, every figure as PNG and SVG.
Provenance (latdyn version, command line, Python, time, input files with SHA-256) closes the
report.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fileio import file_sha256, write_bytes_atomic, write_text_atomic

__all__ = ["Report", "file_sha256"]


def _fmt(v: Any) -> str:
    if isinstance(v, float) or type(v).__name__.startswith("float"):
        f = float(v)
        return html.escape(f"{f:.6g}") if math.isfinite(f) else "—"
    return html.escape(str(v))


def format_value_error(value: float, error: float | None) -> str:
    """'1.234(5)'-free plain form: '1.234 ± 0.005', with the error to 2 significant digits."""
    if error is None or not math.isfinite(error) or error <= 0:
        return f"{value:.6g}"
    digits = max(0, 1 - int(math.floor(math.log10(error))))
    return f"{value:.{digits}f} ± {error:.{digits}f}"


@dataclass
class _Figure:
    name: str
    caption: str
    png: bytes
    svg: bytes


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
        """Embed a matplotlib figure; it is also written as ``name``.png/.svg by write()."""
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=110)
        fig.savefig(svg, format="svg")
        f = _Figure(name, caption, png.getvalue(), svg.getvalue())
        self._figures.append(f)
        self._blocks.append(("figure", f))

    def add_table(self, heading: str | None, rows: list[dict[str, Any]],
                  columns: list[str] | None = None) -> None:
        """A table from dicts sharing keys (values formatted to 6 significant digits)."""
        if heading:
            self._blocks.append(("h3", heading))
        cols = list(columns or (rows[0].keys() if rows else []))
        self._blocks.append(("table", (cols, rows)))

    def add_parameters(self, heading: str | None,
                       params: dict[str, tuple[float, float | None, str]]) -> None:
        """Fit parameters: name -> (value, standard error or None, unit)."""
        rows = [{"parameter": k, "value": format_value_error(v, e), "unit": u}
                for k, (v, e, u) in params.items()]
        self.add_table(heading, rows, ["parameter", "value", "unit"])

    # --- rendering --------------------------------------------------------------------------
    def _render_block(self, kind: str, obj: Any) -> str:
        if kind in ("h2", "h3"):
            return f"<{kind}>{html.escape(obj)}</{kind}>"
        if kind == "p":
            return "".join(f"<p>{html.escape(p.strip())}</p>" for p in obj.split("\n\n") if p.strip())
        if kind == "figure":
            b64 = base64.b64encode(obj.png).decode("ascii")
            cap = f"<figcaption>{html.escape(obj.caption)}</figcaption>" if obj.caption else ""
            alt = html.escape(obj.caption or obj.name)
            return (f'<figure id="fig-{html.escape(obj.name)}"><img alt="{alt}" '
                    f'src="data:image/png;base64,{b64}">{cap}</figure>')
        if kind == "table":
            cols, rows = obj
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
            body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in cols)
                           + "</tr>" for r in rows)
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
        """Write the HTML file atomically; with ``figures`` also PNG and SVG files beside it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if figures:
            fig_dir = path.parent / "figures"
            for f in self._figures:
                write_bytes_atomic(fig_dir / f"{f.name}.png", f.png)
                write_bytes_atomic(fig_dir / f"{f.name}.svg", f.svg)
        write_text_atomic(path, self.to_html())
        return path


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
