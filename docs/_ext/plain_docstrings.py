"""Sphinx extension: read latdyn's plain-text notation in docstrings as text.

latdyn's docstrings write moduli the way a physicist does, ``|Q|``, ``|F(Q)|^2``; reStructuredText
would read ``|...|`` as a substitution.  This hook escapes those bars before numpydoc and
docutils see the docstring, outside literal blocks and tables (lines that start with ``| `` or
``+-`` are grid-table or line-block syntax and stay as they are).
"""

from __future__ import annotations

import re

_BAR = re.compile(r"(?<!\\)\|")
_LITERAL = re.compile(r"``.*?``")


def _escape(line: str) -> str:
    if re.match(r"\s*(\|(\s|$)|\+[-=])", line):  # grid-table row or line block
        return line
    out, pos = [], 0
    for m in _LITERAL.finditer(line):  # keep inline literals as written
        out.append(_BAR.sub(r"\\|", line[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_BAR.sub(r"\\|", line[pos:]))
    return "".join(out)


def escape_bars(app, what, name, obj, options, lines) -> None:
    """``autodoc-process-docstring`` handler: escape ``|`` in place, outside literal blocks."""
    in_literal, indent = False, 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        width = len(line) - len(line.lstrip())
        if in_literal and stripped and width <= indent:
            in_literal = False
        if not in_literal:
            lines[i] = _escape(line)
            if stripped.endswith("::"):
                in_literal, indent = True, width
        if stripped.startswith(">>>"):
            lines[i] = line


def setup(app):
    app.connect("autodoc-process-docstring", escape_bars, priority=100)  # before numpydoc (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
