"""Lazy public names of a package (PEP 562): a submodule is imported on first use of a name.

A package ``__init__`` lists which submodule defines each public name::

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {
        "composition": ("Composition", "parse_formula"),
        "nuclides": ("TABLES", "nuclide"),
    })

``from latdyn.pkg import Composition`` and ``latdyn.pkg.Composition`` work as before, but
importing the package itself loads none of its submodules, so that ``latdyn --help`` does not
pay for numpy, scipy or matplotlib.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping, Sequence

__all__ = ["lazy_exports"]


class _LazyPackage(types.ModuleType):
    """A package whose public name may equal a submodule's name (``magnetic_form_factor``):
    the import system binds each imported submodule to its package, which would hide the
    function of that name; as with an eager ``from .x import x``, the public name wins."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and name in self.__dict__.get("_lazy_shadowing", ()):
            return
        super().__setattr__(name, value)


def lazy_exports(package: str, exports: Mapping[str, Sequence[str]]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``; ``exports`` maps a submodule
    (relative name) to the public names it defines."""
    where: dict[str, str] = {}
    for module, names in exports.items():
        for name in names:
            if name in where:
                raise ValueError(f"{package}: {name!r} is exported by both {where[name]} and {module}")
            where[name] = module
    public = list(where)
    module_object = sys.modules[package]
    module_object._lazy_shadowing = frozenset(n for n, m in where.items() if n == m)
    module_object.__class__ = _LazyPackage

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        importlib.import_module(package).__dict__[name] = value  # later look-ups skip this hook
        return value

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(public))

    return __getattr__, __dir__, public
