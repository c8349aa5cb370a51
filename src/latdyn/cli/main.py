"""Entry point of the ``latdyn`` command.

Each module in ``latdyn.cli`` (other than this one and ``output``) is a command group: it
defines ``register(subparsers)`` that adds its sub-parser and sets ``func`` to a callable
taking the parsed arguments and returning an exit code.  Errors derived from
``LatdynError`` (and missing files) print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from .. import __version__
from ..errors import LatdynError

_NOT_GROUPS = {"main", "output"}


def _group_modules():
    import latdyn.cli as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)
                   if m.name not in _NOT_GROUPS and not m.name.startswith("_"))
    return [importlib.import_module(f"latdyn.cli.{n}") for n in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latdyn",
        description="Neutron scattering and lattice dynamics of energy materials: "
                    "plan -> read -> model S(Q,E) -> fit -> physics -> report.",
    )
    parser.add_argument("--version", action="version", version=f"latdyn {__version__}")
    sub = parser.add_subparsers(title="command groups", dest="command", metavar="COMMAND")
    for module in _group_modules():
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except LatdynError as exc:
        print(f"latdyn: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"latdyn: error: {exc.strerror or exc}: '{exc.filename}'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("latdyn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
