"""The option vocabulary shared by every ``latdyn`` command (docs/cli.md).

One spelling per meaning: ``-T/--temperature`` (K), ``--q-range QMIN QMAX`` (1/angstrom),
``--e-range EMIN EMAX`` (meV), ``--q-max`` (1/angstrom), ``--d-range DMIN DMAX`` (angstrom),
``-o/--out`` with ``--force``, ``--json``, ``--dask`` and ``--quiet``/``--verbose``.  Old
spellings stay for one release as hidden aliases (:func:`alias`): they set the same
destination and print one deprecation line on standard error.

Output rule (:func:`add_out`, applied by :func:`prepare`): a command whose result is files
writes them to ``--out``, by default ``<STEM>_<command>`` in the working folder, where STEM is
the stem of the command's first input file and <command> its words joined by '-' (for example
``water_qens-fit``), or ``latdyn-<command>`` when it reads no file; a one-file result adds its
suffix.  Commands whose result is a table write files only when ``--out`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["VOCABULARY", "DEPRECATED", "alias", "alias_ends", "range_ends", "note_deprecated",
           "add_temperature", "add_temperatures", "add_temperature_flag", "temperature_for",
           "add_q_range", "add_e_range",
           "add_q_max", "add_d_range", "add_out", "add_dask", "add_common", "prepare"]

#: meaning -> (option strings, metavar, unit, what it is)
VOCABULARY = {
    "temperature": (("-T", "--temperature"), "K", "K", "sample temperature"),
    "temperatures": (("--temperatures",), "A:B:STEP", "K", "temperature grid, a:b:step or a,b,c"),
    "q_range": (("--q-range",), ("QMIN", "QMAX"), "1/angstrom", "|Q| range"),
    "e_range": (("--e-range",), ("EMIN", "EMAX"), "meV", "energy-transfer range"),
    "q_max": (("--q-max",), "QMAX", "1/angstrom", "largest |Q|"),
    "d_range": (("--d-range",), ("DMIN", "DMAX"), "angstrom", "d-spacing range"),
    "out": (("-o", "--out"), "PATH", "", "where the results are written"),
    "force": (("--force",), None, "", "replace a non-empty --out folder that latdyn did not write"),
    "json": (("--json",), None, "", "print the results as JSON"),
    "dask": (("--dask",), None, "", "run the parallel work as Dask tasks"),
    "quiet": (("--quiet",), None, "", "results and warnings only"),
    "verbose": (("--verbose",), None, "", "also the notes of the result"),
}

#: every hidden alias ever registered: old spelling -> new spelling (filled by :func:`alias`)
DEPRECATED: dict[str, str] = {}


class _DeprecatedAlias(argparse.Action):
    """Store like the new option, after one 'deprecated' line on standard error."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        note_deprecated(option_string, self.new)
        setattr(namespace, self.dest, values)


def alias(container, old: str, new: argparse.Action) -> None:
    """Add ``old`` as a hidden spelling of the option ``new`` (same dest, nargs, type) to
    ``container`` (a parser or the group that holds ``new``)."""
    spelled = "/".join(new.option_strings)
    DEPRECATED[old] = spelled
    container.add_argument(old, dest=new.dest, nargs=new.nargs, type=new.type, action=_DeprecatedAlias,
                           new=spelled, metavar=new.metavar, choices=new.choices,
                           help=argparse.SUPPRESS, default=argparse.SUPPRESS)


def note_deprecated(old: str, new: str) -> None:
    """The one line printed on standard error when a deprecated spelling is used."""
    print(f"latdyn: note: {old} is deprecated and will be removed in the next release; use {new}",
          file=sys.stderr)


class _EndAlias(argparse.Action):
    """A deprecated one-ended spelling (``--emin``, ``--dmax``...) of a range option: fills
    one end of ``_<range>_ends``; :func:`range_ends` reads it."""

    def __init__(self, option_strings, dest, new: str = "", end: int = 0, **kwargs):
        self.new, self.end = new, end
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        note_deprecated(option_string, self.new)
        ends = list(getattr(namespace, self.dest, None) or (None, None))
        ends[self.end] = values
        setattr(namespace, self.dest, ends)


class _FlagOrOldValue(argparse.Action):
    """A flag that once took the temperature as its value (``--chi 300``): alone it sets True;
    with a value it also sets ``temperature``, after the deprecation line."""

    def __call__(self, parser, namespace, values, option_string=None):
        if values is not None:
            note_deprecated(f"{option_string} K", f"{option_string} -T K")
            namespace.temperature = values
        setattr(namespace, self.dest, True)


def add_temperature_flag(p, flag: str, help: str) -> None:
    """A flag ``flag`` that needs ``-T/--temperature`` (its old form ``flag K`` stays hidden)."""
    DEPRECATED[f"{flag} K"] = f"{flag} -T K"
    p.add_argument(flag, nargs="?", type=float, default=False, metavar="", action=_FlagOrOldValue,
                   help=f"{help}, at -T/--temperature")


def temperature_for(args: argparse.Namespace, flag: str) -> float | None:
    """The temperature of the flag ``flag`` (None when not given); an error when -T is missing."""
    if not getattr(args, flag.lstrip("-").replace("-", "_")):
        return None
    if getattr(args, "temperature", None) is None:
        args._parser.error(f"{flag} needs -T/--temperature")
    return args.temperature


def alias_ends(container, low: str, high: str, new: argparse.Action) -> None:
    """Hidden one-ended spellings ``low``/``high`` of the range option ``new``."""
    spelled = "/".join(new.option_strings)
    for end, old in enumerate((low, high)):
        DEPRECATED[old] = f"{spelled} ({new.metavar[end]})"
        container.add_argument(old, dest=f"_{new.dest}_ends", type=float, action=_EndAlias,
                               new=spelled, end=end, help=argparse.SUPPRESS, default=None)


def range_ends(args: argparse.Namespace, meaning: str, default=(None, None)) -> tuple:
    """(low, high) of a range option, from its new spelling or its one-ended old ones (an end
    not given there takes ``default``)."""
    value = getattr(args, meaning, None)
    if value is not None:
        return tuple(value)
    ends = getattr(args, f"_{meaning}_ends", None) or (None, None)
    return tuple(d if e is None else e for e, d in zip(ends, default, strict=True))


def _add(container, meaning: str, old=(), help=None, required=False, ends=(),
         **kwargs) -> argparse.Action:
    flags, metavar, unit, what = VOCABULARY[meaning]
    if isinstance(metavar, tuple) and kwargs.get("nargs") is None:
        kwargs["nargs"] = len(metavar)
    kwargs.setdefault("metavar", metavar)
    kwargs.setdefault("type", float)
    text = help or f"{what} ({unit})"
    if required:
        text += " [required]"
    action = container.add_argument(*flags, dest=meaning, help=text, **kwargs)
    for spelling in old:
        alias(container, spelling, action)
    if ends:
        alias_ends(container, *ends, action)
    if required:  # checked in prepare(), so that an old spelling satisfies it too
        container.set_defaults(**{f"_required_{meaning}": "/".join(flags)})
    return action


def add_temperature(p, old=("--T",), **kw) -> argparse.Action:
    """``-T/--temperature`` in K (``type=str`` for a list or a keyword like 'none')."""
    return _add(p, "temperature", old, **kw)


def add_temperatures(p, help: str, old=("--T-range",), default: str = "10:600:10") -> argparse.Action:
    """``--temperatures A:B:STEP`` (or a,b,c) in K: the grid a result is computed on."""
    return _add(p, "temperatures", old, type=str, default=default, help=f"{help} (default {default})")


def add_q_range(p, old=(), **kw) -> argparse.Action:
    """``--q-range QMIN QMAX`` in 1/angstrom."""
    return _add(p, "q_range", old, **kw)


def add_e_range(p, old=(), **kw) -> argparse.Action:
    """``--e-range EMIN EMAX`` in meV."""
    return _add(p, "e_range", old, **kw)


def add_q_max(p, old=(), **kw) -> argparse.Action:
    """``--q-max QMAX`` in 1/angstrom."""
    return _add(p, "q_max", old, **kw)


def add_d_range(p, old=(), **kw) -> argparse.Action:
    """``--d-range DMIN DMAX`` in angstrom."""
    return _add(p, "d_range", old, **kw)


def add_dask(p, help="run the parallel work as Dask tasks (needs latdyn[dask])") -> None:
    """``--dask``: run the command's parallel chunks as Dask tasks (the scheduler in use)."""
    p.add_argument("--dask", action="store_true", help=help)


def add_out(p, *, inputs=(), suffix: str = "", on_request: bool = False, what: str = "folder",
            help: str | None = None) -> None:
    """``-o/--out`` (alias ``--output``) and ``--force``.  The default follows the module's
    output rule: ``<STEM>_<command><suffix>`` from the first of the argument names ``inputs``
    that holds a path, else ``latdyn-<command><suffix>``; ``on_request``: no default, nothing
    written unless given."""
    command = "-".join(p.prog.split()[1:]) or "latdyn"
    default = "written only when given" if on_request else \
        (f"<STEM>_{command}{suffix}" if inputs else f"latdyn-{command}{suffix}")
    action = p.add_argument("-o", "--out", dest="out", type=Path, default=None, metavar="PATH",
                            help=f"{help or 'output ' + what} (default: {default})")
    alias(p, "--output", action)
    p.add_argument("--force", action="store_true", help="replace --out even if it is a non-empty "
                   "folder that latdyn did not write (never the working folder or one above it)")
    p.set_defaults(_out_rule=(command, tuple(inputs), suffix, on_request))


def add_common(p, *, dask: bool = False) -> argparse.ArgumentParser:
    """``--json``, ``--quiet``/``--verbose`` (and ``--dask``) on a command that prints results."""
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quiet", action="store_true",
                   help="print the results and warnings only (no progress bars, no other lines)")
    g.add_argument("--verbose", action="store_true", help="also print the notes of the result")
    if dask:
        add_dask(p)
    p.set_defaults(_parser=p)
    return p


def _stem(value) -> str | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    return Path(str(value).rstrip("/\\")).stem or None


@contextlib.contextmanager
def prepare(args: argparse.Namespace) -> Iterator[None]:
    """Around a command: check the required vocabulary options, fill in the default ``--out``,
    set the verbosity (:mod:`latdyn.console`) and, with ``--force``, allow replacing ``--out``
    (:func:`latdyn.fileio.replacing_allowed`)."""
    from ..console import NORMAL, QUIET, VERBOSE, use_verbosity
    from ..fileio import replacing_allowed

    parser = getattr(args, "_parser", None)
    for key, flags in list(vars(args).items()):
        if key.startswith("_required_") and getattr(args, key[len("_required_"):], None) is None:
            (parser or argparse.ArgumentParser(prog="latdyn")).error(
                f"the following arguments are required: {flags}")
    rule = getattr(args, "_out_rule", None)
    if rule is not None and getattr(args, "out", None) is None and not rule[3]:
        command, inputs, suffix, _ = rule
        stem = next((s for s in (_stem(getattr(args, i, None)) for i in inputs) if s), None)
        args.out = Path(f"{stem}_{command}{suffix}" if stem else f"latdyn-{command}{suffix}")
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    forced = args.out if getattr(args, "force", False) else None
    with use_verbosity(QUIET if quiet else VERBOSE if verbose else NORMAL), replacing_allowed(forced):
        yield
