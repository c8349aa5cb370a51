"""A check of a written report for the slips a reader notices first.

:func:`check_report` reads ``report.html`` and lists, as sentences:

- unrounded numbers: a decimal number in a table cell, caption or paragraph with more than
  :data:`latdyn.report.numbers.SIGNIFICANT` significant digits, unless it is a value rounded to
  its stated uncertainty (``v ± e`` with the error to at most 2 significant digits and the value
  to the same decimal place, or a cell rounded to its error column);
- zero uncertainties printed (``± 0.000``);
- ``None``, ``nan`` or ``NaN`` printed as text;
- empty table cells and figures without a caption;
- curves drawn outside their data's x-range (from the ``data-ranges`` each figure records,
  :func:`latdyn.report.plotcheck.curves_outside_data`).

The provenance section (paths, hashes, versions) and ``<code>`` are not checked.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from .numbers import ERROR_DIGITS, SIGNIFICANT
from .plotcheck import curves_outside_data

__all__ = ["check_report", "check_html"]

_NUMBER = re.compile(r"(?<![\w.])[-+−]?(\d+\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
_PAIR = re.compile(r"(?<![\w.])[-+−]?(\d+(?:\.\d+)?)\s*(?:±|\+-|\+/-)\s*(\d+(?:\.\d+)?)")
_MISSING_WORDS = re.compile(r"\b(None|nan|NaN)\b")


def _significant(digits: str) -> int:
    """Significant digits of a printed number (trailing zeros of an integer do not count)."""
    if "." not in digits:
        digits = digits.rstrip("0") or "0"
    return len(digits.replace(".", "").lstrip("0")) or 1


def _decimals(digits: str) -> int:
    return len(digits.split(".")[1]) if "." in digits else 0


class _Collect(HTMLParser):
    """Texts of cells, captions and paragraphs (with their context), empty cells, figures."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[str, str, dict]] = []    # (where, text, attributes)
        self.figures: list[dict] = []
        self._stack: list[tuple[str, dict, list[str]]] = []
        self._skip = 0
        self._section = ""
        self._heading: list[str] | None = None
        self._in_prov = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("code", "style", "script"):
            self._skip += 1
        if tag in ("h2", "h3"):
            self._heading = []
        if tag == "figure":
            self.figures.append({"id": a.get("id", ""), "ranges": a.get("data-ranges"), "caption": None})
        if tag in ("td", "th", "p", "figcaption"):
            self._stack.append((tag, a, []))

    def handle_endtag(self, tag):
        if tag in ("code", "style", "script"):
            self._skip = max(0, self._skip - 1)
        if tag in ("h2", "h3") and self._heading is not None:
            text = "".join(self._heading).strip()
            if tag == "h2":
                self._in_prov = text == "Provenance"
            self._section = text
            self._heading = None
        if self._stack and self._stack[-1][0] == tag:
            _, a, parts = self._stack.pop()
            text = " ".join("".join(parts).split())
            if tag == "figcaption" and self.figures:
                self.figures[-1]["caption"] = text
            if not self._in_prov:
                self.texts.append((f"{tag} in '{self._section}'", text, a))

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)
        if self._skip or not self._stack:
            return
        self._stack[-1][2].append(data)


def _number_problems(where: str, text: str, attrs: dict) -> list[str]:
    out = []
    paired = set()
    for m in _PAIR.finditer(text):
        val, err = m.group(1), m.group(2)
        paired.update({m.start(1), m.start(2)})
        if float(err) == 0:
            out.append(f"{where}: zero uncertainty printed in {m.group(0)!r}")
        elif _significant(err) > ERROR_DIGITS or _decimals(val) != _decimals(err):
            out.append(f"{where}: {m.group(0)!r} is not rounded to its uncertainty")
    if "data-error" in attrs:
        err = attrs["data-error"].split("e")[0]
        val = text.split("e")[0].lstrip("-+−")
        if _significant(err) > ERROR_DIGITS or _decimals(val) != _decimals(err):
            out.append(f"{where}: {text!r} is not rounded to its error {attrs['data-error']}")
        return out
    for m in _NUMBER.finditer(text):
        if m.start(1) in paired:
            continue
        if _significant(m.group(1)) > SIGNIFICANT:
            out.append(f"{where}: unrounded number {m.group(0)!r} in {text[:80]!r}")
    return out


def check_html(text: str) -> list[str]:
    """The problems of a report given as HTML text (see the module docstring)."""
    p = _Collect()
    p.feed(text)
    problems = []
    for where, t, attrs in p.texts:
        if where.startswith("td") and not t:
            problems.append(f"{where}: empty table cell")
        for m in _MISSING_WORDS.finditer(t):
            problems.append(f"{where}: {m.group(0)!r} printed in {t[:80]!r}")
        problems += _number_problems(where, t, attrs)
    for f in p.figures:
        if not f["caption"]:
            problems.append(f"figure {f['id']}: empty or missing caption")
        if f["ranges"] is None:
            problems.append(f"figure {f['id']}: no record of its plotted ranges")
            continue
        problems += [f"figure {f['id']}: {s}" for s in curves_outside_data(json.loads(f["ranges"]))]
    return problems


def check_report(path: str | Path) -> list[str]:
    """The problems of the report at ``path`` (``report.html``), one sentence each; empty when
    the report passes."""
    return check_html(Path(path).read_text(encoding="utf-8"))
