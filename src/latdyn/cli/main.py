"""Entry point of the ``latdyn`` command.

Each module in ``latdyn.cli`` (other than this one, ``output`` and ``options``, the shared
option vocabulary of docs/cli.md) is a command group: it
defines ``register(subparsers)`` that adds its sub-parser and sets ``func`` to a callable
taking the parsed arguments and returning an exit code.  Errors derived from
``LatdynError`` (and missing files) print one line on stderr and exit with status 2; Python
warnings print as one 'latdyn: warning:' line each, without internal file names.

Interrupts: Ctrl-C at any moment (also while the command groups are imported) prints one
line and exits with status 130; SIGTERM raises :class:`Terminated` so that every open result
folder and temporary file is cleaned up on the way out, then exits with status 143.
"""

from __future__ import annotations

import sys

# Nothing else is imported at module level: the console script imports this module before
# ``main`` can catch Ctrl-C, so that window is kept as short as possible.
_NOT_GROUPS = {"main", "output", "options"}


class Terminated(BaseException):  # noqa: N818 - named after the signal, like KeyboardInterrupt
    """Raised in the main thread when the process receives SIGTERM (exit status 143)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def _group_modules():
    import importlib
    import pkgutil

    import latdyn.cli as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)
                   if m.name not in _NOT_GROUPS and not m.name.startswith("_"))
    return [importlib.import_module(f"latdyn.cli.{n}") for n in names]


def _version_action():
    """An argparse action printing ``latdyn VERSION``; the version is looked up (importlib.metadata,
    ~30 ms) only when ``--version`` is given."""
    import argparse

    class VersionAction(argparse.Action):
        def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                     help="show the version of latdyn and exit"):
            super().__init__(option_strings, dest, nargs=0, default=default, help=help)

        def __call__(self, parser, namespace, values, option_string=None):
            from .. import __version__

            print(f"latdyn {__version__}", file=sys.stdout)
            parser.exit()

    return VersionAction


def build_parser():
    import argparse

    parser = argparse.ArgumentParser(
        prog="latdyn",
        description="Neutron scattering and lattice dynamics of energy materials: "
                    "plan -> read -> model S(Q,E) -> fit -> physics -> report.",
    )
    parser.add_argument("--version", action=_version_action())
    sub = parser.add_subparsers(title="command groups", dest="command")
    for module in _group_modules():
        module.register(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings as one 'latdyn: warning: ...' line, without the internal file and line
    the default format names."""
    try:
        print(f"latdyn: warning: {_one_line(message)}", file=file or sys.stderr)
    except (OSError, ValueError):
        pass


def _run(argv: list[str] | None) -> int:
    import warnings

    from ..errors import LatdynError
    from ..progress import silenced

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    from .options import prepare

    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        with prepare(args):
            if getattr(args, "json", False):
                with silenced():  # no progress bars around machine-read output
                    return int(args.func(args) or 0)
            return int(args.func(args) or 0)
    except LatdynError as exc:
        print(f"latdyn: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        print(f"latdyn: error: {exc.strerror or exc}: '{exc.filename}'", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = shown


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _quiet_exit(message: str, status: int) -> int:
    """Print ``message`` once, with further interrupts ignored meanwhile; return ``status``."""
    old = {}
    try:
        import signal

        for s in (signal.SIGINT, signal.SIGTERM):
            old[s] = signal.signal(s, signal.SIG_IGN)
    except (ImportError, ValueError, OSError):  # not the main thread, or an interrupted import
        signal = None
    try:
        print(message, file=sys.stderr)
    except (OSError, ValueError):
        pass
    for s, handler in old.items():
        try:
            signal.signal(s, handler)
        except (ValueError, OSError, TypeError):
            pass
    return status


def _install_sigterm():
    """Make SIGTERM raise :class:`Terminated`; the previous handler (None off the main thread)."""
    import signal

    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. called from a test runner thread)
        return None


def _restore_sigterm(previous) -> None:
    import signal

    try:
        signal.signal(signal.SIGTERM, previous)
    except (ValueError, OSError, TypeError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the ``latdyn`` command; returns the exit status."""
    try:
        previous = _install_sigterm()
        try:
            return _run(argv)
        finally:
            if previous is not None:
                _restore_sigterm(previous)
    except KeyboardInterrupt:
        return _quiet_exit("latdyn: interrupted", 130)
    except Terminated:
        return _quiet_exit("latdyn: terminated", 143)
    except ImportError as exc:
        # an extension module interrupted while it initialises (numpy, h5py) turns the
        # KeyboardInterrupt into "ImportError: initialization failed"
        cause = _interrupt_in_chain(exc)
        if cause is None:
            raise
        return _quiet_exit(*(("latdyn: interrupted", 130) if isinstance(cause, KeyboardInterrupt)
                             else ("latdyn: terminated", 143)))


def _interrupt_in_chain(exc: BaseException) -> BaseException | None:
    """The KeyboardInterrupt or Terminated behind ``exc`` (its cause or context), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
