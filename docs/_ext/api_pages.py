"""Write the API reference pages (``docs/api/*.rst``) from :mod:`public_api`.

One page per top-level module or package of latdyn; on it, one section per public module with
the module docstring, a summary table and the full entry of every object whose canonical name
lives there; names re-exported from elsewhere point to their canonical entry.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import public_api

DIRECTIVE = {"function": "autofunction", "class": "autoclass", "exception": "autoexception",
             "data": "autodata"}


def _title(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _top(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _module_section(module, entries, aliases, char) -> list[str]:
    name = module.__name__
    lines = _title(f"``{name}``", char)
    lines += [f".. automodule:: {name}", "   :no-members:", ""]
    if entries:
        lines += [".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {e.name}" for e in entries] + [""]
    if aliases:
        refs = ", ".join(f":py:obj:`{alias.rsplit('.', 1)[1]} <{target}>`" for alias, target in aliases)
        lines += [f"Also exported here: {refs}.", ""]
    for e in entries:
        lines += [f".. {DIRECTIVE[e.kind]}:: {e.qualname}"]
        if e.kind in ("class", "exception"):
            lines += ["   :members:", "   :show-inheritance:"]
        if e.kind == "data" and not isinstance(e.obj, int | float | str):
            lines += ["   :no-value:"]
        lines += [""]
    return lines


def write_pages(out: Path) -> list[str]:
    """Write the pages into ``out`` (only those whose text changed); return their names."""
    entries = public_api.public_objects()
    by_module = defaultdict(list)
    aliases = defaultdict(list)
    for e in entries:
        by_module[e.module].append(e)
        for alias in e.aliases:
            aliases[alias.rsplit(".", 1)[0]].append((alias, e.qualname))
    pages = defaultdict(list)
    for module in public_api.public_modules():
        if module.__name__ != public_api.ROOT:
            pages[_top(module.__name__)].append(module)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for top, modules in sorted(pages.items()):
        lines = []
        for i, module in enumerate(modules):
            name = module.__name__
            lines += _module_section(module, by_module[name], sorted(aliases[name]), "=" if i == 0 else "-")
        page = top.split(".")[-1]
        _write(out / f"{page}.rst", "\n".join(lines))
        written.append(page)
    index = _title("API reference", "=") + [
        f".. automodule:: {public_api.ROOT}", "   :no-members:", "",
        f"Every public object of latdyn ({len(entries)}), one page per subpackage or module. "
        "Units are meV, angstrom, 1/angstrom, K, ps, barn, fm and amu unless a name says "
        "otherwise.", "",
        ".. toctree::", "   :maxdepth: 1", ""] + [f"   {top}" for top in written] + [""]
    _write(out / "index.rst", "\n".join(index))
    for stale in out.glob("*.rst"):
        if stale.stem not in {*written, "index"}:
            stale.unlink()
    return written


def _write(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")

