"""The public API of latdyn: one definition for the API reference and the docstring test.

A module is public when no part of its dotted name starts with ``_`` and it is not a
deprecated shim (a package whose only content is a module ``__getattr__``).  Its public names
are its ``__all__``; in a public module without ``__all__`` (the ``latdyn.cli`` command modules,
the demo steps) the public names are its documented module-level names: the functions and
classes it defines that have a docstring and a name without a leading ``_`` (the undocumented
``register``/``run`` plumbing of a command module is not API; the command is documented in
docs/).  One object exported under several names (a
package re-exporting a submodule's function) is documented once, under its *canonical* name:
the shortest exporting module that is the defining module or a package above it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings
from dataclasses import dataclass, field
from types import ModuleType

ROOT = "latdyn"


@dataclass
class Entry:
    """One public object: its canonical dotted name and every other name it is exported under."""

    module: str
    name: str
    obj: object
    kind: str  # "function", "class", "exception", "data"
    aliases: list[str] = field(default_factory=list)

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


def _is_shim(module: ModuleType) -> bool:
    """A deprecated package that only forwards names through a module ``__getattr__``."""
    if hasattr(module, "__all__"):
        return False
    own = [n for n, v in vars(module).items() if not n.startswith("_")
           and getattr(v, "__module__", None) == module.__name__]
    return "__getattr__" in vars(module) and not own


def public_modules() -> list[ModuleType]:
    """Every public module of latdyn, the root first, then sorted by dotted name."""
    root = importlib.import_module(ROOT)
    names = [m.name for m in pkgutil.walk_packages(root.__path__, ROOT + ".")
             if not any(part.startswith("_") for part in m.name.split("."))]
    out = [root]
    for name in sorted(names):
        module = importlib.import_module(name)
        if not _is_shim(module):
            out.append(module)
    return out


def public_names(module: ModuleType) -> list[str]:
    """The public names of one module (see the module docstring)."""
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not (n.startswith("__") and n.endswith("__"))]
    return sorted(n for n, v in vars(module).items()
                  if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                  and v.__module__ == module.__name__ and (v.__doc__ or "").strip())


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


def _key(name: str, obj: object) -> tuple:
    # plain values (numbers, strings, dicts) can be equal objects by chance: key them by name too
    return (id(obj),) if inspect.isclass(obj) or callable(obj) else (id(obj), name)


def _rank(module: str, obj: object) -> tuple:
    home = getattr(obj, "__module__", None) or ""
    under_home = home == module or home.startswith(module + ".")
    return (not under_home, module.count("."), module)


def public_objects() -> list[Entry]:
    """Every public object once, with its canonical name and its aliases."""
    found: dict[tuple, list[tuple[str, str, object]]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated aliases are public too
        for module in public_modules():
            for name in public_names(module):
                obj = getattr(module, name)
                if inspect.ismodule(obj):
                    continue
                found.setdefault(_key(name, obj), []).append((module.__name__, name, obj))
    modules = {m.__name__ for m in public_modules()}
    entries = []
    for names in found.values():
        # a package attribute named like its submodule (``from .x import x``) cannot be the
        # canonical name: the module already owns that dotted name
        names.sort(key=lambda t: (f"{t[0]}.{t[1]}" in modules, *_rank(t[0], t[2])))
        module, name, obj = names[0]
        entries.append(Entry(module, name, obj, _kind(obj),
                             [f"{m}.{n}" for m, n, _ in names[1:]]))
    return sorted(entries, key=lambda e: e.qualname)
