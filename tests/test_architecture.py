"""The package's shape (docs/architecture.md): one-way layers, no import cycles, a thin CLI.

Every module of src/latdyn is parsed (no import is executed); each ``import latdyn...`` or
relative import, at module level or inside a function, is an edge.  Edges may point to the
same layer or below, never up, and the subpackage graph has no cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "latdyn"

#: bottom to top; a subpackage (or top-level module) belongs to exactly one layer
LAYERS = [
    ("foundation", {"latdyn", "errors", "units", "kinematics", "fileio", "fitresult", "lineshapes",
                    "console", "lazy", "progress", "scattering"}),
    ("data and structure", {"data", "structure", "report", "examples"}),
    ("forward models", {"convolution", "phonons", "md", "diffraction", "instruments"}),
    ("analysis", {"qens", "inelastic", "reduce", "simulate", "polarisation"}),
    ("physics", {"thermo"}),
    ("interfaces", {"cli", "demo"}),
    ("deprecated aliases", {"fitting", "ins"}),
]
RANK = {name: k for k, (_, names) in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The layer unit of a module: its subpackage, or the top-level module's own name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "latdyn"


def _edges() -> list[tuple[str, str, int]]:
    out = []
    for path in SRC.rglob("*.py"):
        mod = _module_name(path)
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    targets = [".".join(base + ([node.module] if node.module else []))]
                else:
                    targets = [node.module or ""]
                if node.module is None or targets[0] in ("latdyn",):  # from . import x / from latdyn import x
                    targets = [f"{targets[0]}.{a.name}" for a in node.names]
            for t in targets:
                if t == "latdyn" or t.startswith("latdyn."):
                    out.append((mod, t, node.lineno))
    return out


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(p)) for p in SRC.rglob("*.py")}
    missing = sorted(u for u in units if u not in RANK)
    assert not missing, f"add these to a layer in tests/test_architecture.py and docs: {missing}"


def test_imports_point_down():
    up = []
    for src, dst, line in _edges():
        a, b = _unit(src), _unit(dst)
        if b in RANK and a in RANK and RANK[b] > RANK[a]:
            up.append(f"{src}:{line} ({LAYERS[RANK[a]][0]}) imports {dst} ({LAYERS[RANK[b]][0]})")
    assert not up, "upward imports:\n" + "\n".join(sorted(up))


def test_no_cycles_between_subpackages():
    graph = defaultdict(set)
    for src, dst, _ in _edges():
        a, b = _unit(src), _unit(dst)
        if a != b and b != "latdyn":
            graph[a].add(b)
    seen, stack, cycles = set(), [], []

    def visit(n):
        if n in stack:
            cycles.append(stack[stack.index(n):] + [n])
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for m in sorted(graph[n]):
            visit(m)
        stack.pop()

    for n in sorted(graph):
        visit(n)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


#: CLI modules whose logic is still being moved into the library (strict: remove when done)
_PENDING: set[str] = set()


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="not thin yet"))
                                  if p.name in _PENDING else p for p in sorted((SRC / "cli").glob("*.py"))],
                         ids=lambda p: p.name)
def test_cli_module_only_parses_and_prints(path):
    """A CLI module parses arguments, calls the library and prints: at most ~250 lines, no
    numpy/scipp/matplotlib (no arithmetic or figures), except the shared output module."""
    text = path.read_text(encoding="utf-8")
    n = len(text.splitlines())
    assert n <= 260, f"{path.name} has {n} lines: move the logic into the library"
    if path.name == "output.py":
        return
    banned = ("numpy", "scipp", "matplotlib")
    heavy = [f"{path.name}:{node.lineno}" for node in ast.walk(ast.parse(text))
             if isinstance(node, ast.Import | ast.ImportFrom)
             and any((getattr(node, "module", None) or a.name).split(".")[0] in banned for a in node.names)]
    assert not heavy, f"numpy/scipp/matplotlib imported in the CLI: {heavy}"
