"""Table-of-contents entries for the pages other work adds: the gallery and getting-started.

The index includes ``docs/_generated/optional_toc.md``, written here at every build, so that the
site lists ``docs/getting-started/*.md`` and the gallery when they exist and builds without a
warning when they do not.  Without sphinx-gallery (or a gallery header), each
``examples/gallery/plot_*.py`` becomes a page in ``docs/gallery/`` showing the script.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path


def _docstring_title(script: Path) -> tuple[str, str]:
    """(title, rest) of a script's module docstring: its first line and the lines after the
    reST underline (or the file name when it has none)."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    lines = [line.rstrip() for line in doc.splitlines()]
    while lines and (not lines[0] or set(lines[0]) <= set("=-~^*#")):
        lines.pop(0)
    if not lines:
        return script.stem, ""
    rest = lines[1:]
    if rest and rest[0] and set(rest[0]) <= set("=-~^*#"):
        rest = rest[1:]
    return lines[0], "\n".join(rest).strip()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _literal_gallery(docs: Path, scripts: list[Path]) -> None:
    """One page per script (its docstring and its source) and an index, in docs/gallery/."""
    out = docs / "gallery"
    keep = {"index.rst"}
    entries = []
    for script in scripts:
        title, rest = _docstring_title(script)
        rel = Path("..", "..", script.relative_to(docs.parent)).as_posix()
        text = "\n".join([title, "=" * len(title), "", rest, "",
                          f"Run it alone: ``python {script.relative_to(docs.parent).as_posix()}``.", "",
                          f".. literalinclude:: {rel}", "   :language: python", ""])
        _write(out / f"{script.stem}.rst", text)
        keep.add(f"{script.stem}.rst")
        entries.append(script.stem)
    _write(out / "index.rst", "\n".join(["Gallery", "=======", "",
                                         "Runnable examples (``examples/gallery``).", "",
                                         ".. toctree::", "   :maxdepth: 1", ""]
                                        + [f"   {e}" for e in entries] + [""]))
    for stale in out.glob("*.rst"):
        if stale.name not in keep:
            stale.unlink()


def write_toc(docs: Path, gallery: Path, sphinx_gallery: bool) -> None:
    """Write ``docs/_generated/optional_toc.md`` (and the literal gallery pages if needed)."""
    blocks = []
    guides = sorted(docs.glob("getting-started/*.md"))
    if guides:
        names = [g.relative_to(docs).with_suffix("").as_posix() for g in guides]
        if "getting-started/index" in names:  # an index page of its own lists the others
            names = ["getting-started/index"]
        blocks.append(["```{toctree}", ":maxdepth: 1", ":caption: Getting started", "", *names, "```"])
    scripts = sorted(gallery.glob("plot_*.py"))
    if scripts and sphinx_gallery:
        blocks.append(["```{toctree}", ":maxdepth: 1", ":caption: Gallery", "",
                       "auto_examples/index", "```"])
    if scripts and not sphinx_gallery:
        _literal_gallery(docs, scripts)
        blocks.append(["```{toctree}", ":maxdepth: 1", ":caption: Gallery", "", "gallery/index", "```"])
    elif (docs / "gallery").is_dir():
        shutil.rmtree(docs / "gallery")
    text = "\n\n".join("\n".join(b) for b in blocks) + "\n" if blocks else "\n"
    _write(docs / "_generated" / "optional_toc.md", text)
