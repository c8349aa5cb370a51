"""Sphinx extension: read latdyn's plain-text docstrings as reStructuredText.

latdyn's docstrings are written for ``help()``: moduli as a physicist writes them (``|Q|``,
``|F(Q)|^2``), subscripts with underscores (``sigma_-``), and argument lists as
``name: description`` lines whose continuation lines are indented.  reStructuredText reads the
first as substitutions, the second as references and the third as broken definition lists.
Before numpydoc and docutils see a docstring, this ``autodoc-process-docstring`` hook

* escapes ``|`` and a word-final ``_`` in text (not in inline literals, literal blocks,
  directives, doctests, grid tables or line blocks);
* turns each block of ``name: description`` lines that has indented continuation lines into a
  field list, and separates such lists, definition-list items and paragraphs by blank lines.

From the first numpydoc section header on (``Parameters`` over a dashed line) the docstring is
numpydoc's to parse: the text is escaped, and ``name: description`` lines of parameter sections
become numpydoc's ``name`` over an indented description.
"""

from __future__ import annotations

import inspect
import re

_BAR = re.compile(r"(?<!\\)\|")
_UNDERSCORE = re.compile(r"(?<=[A-Za-z0-9])_(?=[^\w`]|$)")
_INLINE = re.compile(r"``.*?``|:\w+:`[^`]*`|`[^`]*`")
_TABLE = re.compile(r"\s*(\|(\s|$)|\+[-=])")
_KEY = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:, ?[A-Za-z_][\w.]*)*): (\S.*)$")
_HEADER_RULE = re.compile(r"^\s*-{3,}\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _escape(line: str) -> str:
    """Escape bars and word-final underscores outside inline literals and roles."""
    if _TABLE.match(line) or line.lstrip().startswith(">>>"):
        return line
    out, pos = [], 0
    for m in _INLINE.finditer(line):
        text = line[pos:m.start()]
        out.append(_UNDERSCORE.sub(r"\\_", _BAR.sub(r"\\|", text)))
        out.append(m.group(0))
        pos = m.end()
    out.append(_UNDERSCORE.sub(r"\\_", _BAR.sub(r"\\|", line[pos:])))
    return "".join(out)


def _segments(lines: list[str]):
    """Split into (kind, lines): 'verbatim' (literal blocks, directives with their bodies),
    'numpydoc' (everything from the first section header on), 'blank' lines and 'text' runs."""
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if i + 1 < n and _HEADER_RULE.match(lines[i + 1]) and line.strip():
            yield "numpydoc", lines[i:]
            return
        if not line.strip():
            yield "blank", [line]
            i += 1
            continue
        if line.lstrip().startswith(".. ") or line.rstrip().endswith("::"):
            base, j = _indent(line), i + 1
            while j < n and (not lines[j].strip() or _indent(lines[j]) > base):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():  # trailing blank lines stay outside
                j -= 1
            if line.lstrip().startswith(".. "):
                yield "verbatim", lines[i:j]
            else:  # the paragraph text before '::' is text, the block after it verbatim
                yield "text", [line]
                yield "verbatim", lines[i + 1:j]
            i = j
            continue
        j = i + 1
        while j < n and lines[j].strip() and not (j + 1 < n and _HEADER_RULE.match(lines[j + 1])) \
                and not lines[j].lstrip().startswith(".. ") and not lines[j - 1].rstrip().endswith("::"):
            j += 1
        if lines[j - 1].rstrip().endswith("::") and j - 1 > i:
            j -= 1
        yield "text", lines[i:j]
        i = j


def _items(block: list[str]):
    """(head, continuation lines) of a run of lines: heads at the run's indentation."""
    base = _indent(block[0])
    items = []
    for line in block:
        if _indent(line) > base and items:
            items[-1][1].append(line)
        else:
            items.append((line, []))
    return items


def _text_block(block: list[str]) -> list[str]:
    """A run of text lines as valid reST (see the module docstring)."""
    block = [_escape(line) for line in block]
    items = _items(block)
    if all(not cont for _, cont in items):
        return block
    out, previous = [], None
    for head, cont in items:
        key = _KEY.match(head)
        kind = "field" if key else "item" if cont else "text"
        if previous is not None and kind != previous:
            out.append("")
        if key:
            head = f"{key.group(1)}:{key.group(2)}: {key.group(3)}"
        out.append(head)
        out.extend(cont)
        previous = kind
    return out


_PARAM_SECTIONS = ("Parameters", "Other Parameters", "Attributes", "Keyword Arguments")


def _numpydoc(lines: list[str]) -> list[str]:
    """Numpydoc sections: text escaped, and ``name: description`` lines of parameter sections
    written as numpydoc's ``name`` over an indented description."""
    out, section, literal = [], None, None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and _HEADER_RULE.match(lines[i + 1]) and line.strip():
            section = line.strip()
        if literal is not None and line.strip() and _indent(line) <= literal:
            literal = None
        if literal is not None:
            out.append(line)
            continue
        if line.rstrip().endswith("::"):
            literal = _indent(line)
        key = _KEY.match(line) if section in _PARAM_SECTIONS else None
        if key:
            out += [_escape(f"{key.group(1)}{key.group(2)}"), _escape(f"{key.group(1)}    {key.group(3)}")]
        else:
            out.append(_escape(line))
    return out


def normalise(lines: list[str]) -> list[str]:
    """The docstring's lines as reST (see the module docstring)."""
    out, listed = [], False
    for kind, seg in _segments(lines):
        if listed and kind != "blank":  # a list needs a blank line after it
            out.append("")
        new = _text_block(seg) if kind == "text" else _numpydoc(seg) if kind == "numpydoc" else seg
        listed = kind == "text" and any(cont for _, cont in _items(seg))
        out.extend(new)
    return out


def process_docstring(app, what, name, obj, options, lines) -> None:
    """``autodoc-process-docstring`` handler: rewrite ``lines`` in place.  A module constant
    (a dict, a tuple) without a docstring of its own shows no text rather than its type's."""
    if what in ("data", "attribute") and not callable(obj):
        own = inspect.getdoc(type(obj)) or ""
        if own and "\n".join(lines).strip() == own.strip():
            lines[:] = []
            return
    lines[:] = normalise(lines)


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring, priority=100)  # before numpydoc
    return {"parallel_read_safe": True, "parallel_write_safe": True}
