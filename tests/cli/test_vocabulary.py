"""One option vocabulary over every ``latdyn`` command (docs/cli.md).

Every parser and subparser is walked; each option is classified by what it means (from its
names, metavar and help text) and must then carry the vocabulary's spelling: a temperature is
``-T/--temperature``, a |Q| range ``--q-range QMIN QMAX``, an energy range ``--e-range EMIN
EMAX``, a largest |Q| ``--q-max``, a d-spacing range ``--d-range``, an output ``-o/--out`` (with
``--force``); every command has ``--json``, ``--quiet`` and ``--verbose``; the parallel ones
``--dask``.  Hidden options must be deprecated aliases of a visible one (same dest).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from latdyn.cli import options
from latdyn.cli.main import build_parser, main

#: options that look like a vocabulary meaning but mean something else, with the reason
OTHER_MEANINGS = {
    ("ins cut", "--balance"): "energy window of the detailed-balance temperature fit, not the cut",
    ("qens msd", "--t-bin"): "width of temperature bins, not a temperature",
    ("qens msd", "--reference-range"): "temperatures of the normalisation, a range of the scan",
    ("thermo magnetocaloric", "--tc1"): "mean-field Curie temperature of phase 1",
    ("thermo magnetocaloric", "--tc2"): "mean-field Curie temperature of phase 2",
    ("thermo magnetocaloric", "--dTdH-measured"): "a slope in K/T",
    ("thermo caloric", "--dT"): "a shift of the transition temperature",
    ("md sqw", "--q-min"): "the companion of --q-max (shells from |Q| = q-min)",
}

#: commands whose work is parallel (chunks of q, frame blocks, time origins): need --dask
PARALLEL = re.compile(r"^(phonons \w+|md sqw|md vanhove)$")

#: commands whose output is named positionally, as with cp (convert IN OUT)
POSITIONAL_OUTPUT = {"convert"}

BANNED_METAVARS = {"SUBCOMMAND", "ACTION", "MD_COMMAND", "COMMAND", "MODEL"}


def _commands(parser=None, path=()):
    """(command words, parser) of every parser, groups included."""
    parser = parser or build_parser()
    yield " ".join(path) or "latdyn", parser
    for s in parser._actions:
        if isinstance(s, argparse._SubParsersAction):
            for name, sub in s.choices.items():
                yield from _commands(sub, (*path, name))


PARSERS = dict(_commands())
#: the leaf commands (parsers without subcommands)
COMMANDS = {k: p for k, p in PARSERS.items()
            if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)}


def _text(action) -> str:
    mv = action.metavar if isinstance(action.metavar, tuple) else (action.metavar or "",)
    return " ".join([*action.option_strings, *map(str, mv), str(action.help or "")])


def _meaning(command: str, action) -> str | None:
    """The vocabulary meaning an option has, judged from how it is spelled and described."""
    names = " ".join(action.option_strings).lower()
    help_ = str(action.help or "")
    mv = action.metavar if isinstance(action.metavar, tuple) else ()
    n = action.nargs if isinstance(action.nargs, int) else None
    if re.search(r"(^|\s)-o(\s|$)|--out(put)?\b", names) or re.match(r"(output (folder|file)|folder "
                                                                      r"for)\b", help_):
        return "out"
    if re.search(r"\bd-?(min|max|range)\b", names) or (mv and str(mv[0]).upper().startswith("DMIN")):
        return "d_range"
    if re.search(r"q-?max\b", names) or re.match(r"(largest \|Q\||Q_max\b)", help_):
        return "q_max"
    if n == 2 and (str(mv[0]).upper().startswith("Q") or re.search(r"\|Q\|", help_)):
        return "q_range"
    if (n == 2 and str(mv[0]).upper().startswith("E")) or re.search(r"-e(min|max)\b|energy-range", names):
        return "e_range"
    if "-T/--temperature" in help_:  # a flag that uses the vocabulary's temperature
        return None
    if re.search(r"temperature|\(K[);,]|\bin K\b|\bat T\b", help_) or re.search(r"--t\b|-T\b", " ".join(
            action.option_strings)):
        return "temperatures" if re.search(r"a:b|grid|A:B", _text(action)) else "temperature"
    return None


def _visible(parser):
    return [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS
            and not isinstance(a, argparse._HelpAction)]


def _violations(command: str, parser) -> list[str]:
    bad = []
    for action in _visible(parser):
        meaning = _meaning(command, action)
        flag = action.option_strings[-1]
        if meaning is None or (command, flag) in OTHER_MEANINGS:
            continue
        if meaning == "out" and command in POSITIONAL_OUTPUT:
            bad.append(f"{command}: {flag} (output is positional here)")
            continue
        want = options.VOCABULARY[meaning][0]
        if tuple(action.option_strings) != want or action.dest != meaning:
            bad.append(f"{command}: {'/'.join(action.option_strings)} means {meaning}: spell it "
                       f"{'/'.join(want)}")
    flags = {o for a in _visible(parser) for o in a.option_strings}
    for need in ("--json", "--quiet", "--verbose"):
        if need not in flags:
            bad.append(f"{command}: no {need}")
    if "--out" in flags and "--force" not in flags:
        bad.append(f"{command}: --out without --force")
    if PARALLEL.match(command) and "--dask" not in flags:
        bad.append(f"{command}: parallel work without --dask")
    return bad


def test_placeholders_are_meaningful():
    bad = [f"{name}: {a.metavar}" for name, p in PARSERS.items() for a in p._actions
           if isinstance(a, argparse._SubParsersAction) and a.metavar in BANNED_METAVARS]
    assert not bad


def test_every_command_is_walked():
    assert len(COMMANDS) > 40
    assert {"ins cut", "md sqw", "phonons powder", "simulate qens", "xs", "plan"} <= set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_options_follow_the_vocabulary(command):
    assert _violations(command, COMMANDS[command]) == []


def test_a_bad_option_is_caught():
    """The checks can fail: foreign spellings of each meaning are reported."""
    cases = {
        "temperature": ("--temp", {"type": float, "help": "sample temperature (K)"}),
        "q_range": ("--q", {"nargs": 2, "type": float, "metavar": ("QMIN", "QMAX")}),
        "e_range": ("--energy-window", {"nargs": 2, "type": float, "metavar": ("EMIN", "EMAX")}),
        "q_max": ("--qmax", {"type": float, "help": "largest |Q| (1/angstrom)"}),
        "d_range": ("--dmin", {"type": float}),
        "out": ("--output-folder", {"help": "output folder"}),
    }
    for meaning, (flag, kwargs) in cases.items():
        p = argparse.ArgumentParser(prog="latdyn test")
        options.add_common(p)
        p.add_argument(flag, **kwargs)
        found = _violations("test", p)
        assert any(meaning in v for v in found), (meaning, found)
    bare = argparse.ArgumentParser(prog="latdyn bare")
    assert {"bare: no --json", "bare: no --quiet", "bare: no --verbose"} <= set(_violations("bare", bare))
    p = argparse.ArgumentParser(prog="latdyn md sqw")
    options.add_common(p)
    assert _violations("md sqw", p) == ["md sqw: parallel work without --dask"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hidden_options_are_deprecated_aliases(command):
    parser = COMMANDS[command]
    visible = {a.dest for a in _visible(parser)}
    for action in parser._actions:
        if action.help != argparse.SUPPRESS or not action.option_strings:
            continue
        old = action.option_strings[0]
        assert old in options.DEPRECATED, f"{command}: hidden {old} is not a listed deprecated alias"
        target = action.dest[1:-5] if action.dest.endswith("_ends") else action.dest
        assert target in visible, f"{command}: {old} stores {action.dest}, no visible option does"


def test_aliases_store_what_the_new_spelling_stores(capsys):
    parser = build_parser()
    new = parser.parse_args(["ins", "dos", "f", "-T", "300", "--mass", "50", "--q-range", "1", "5",
                             "--e-range", "3", "40", "-o", "x"])
    old = parser.parse_args(["ins", "dos", "f", "--T", "300", "--mass", "50", "--q", "1", "5",
                             "--e", "3", "40", "--output", "x"])
    for key in ("temperature", "q_range", "e_range", "out"):
        assert getattr(new, key) == getattr(old, key)
    err = capsys.readouterr().err
    assert err.count("is deprecated") == 4 and "use -T/--temperature" in err
    args = parser.parse_args(["phonons", "powder", "p.yaml", "--qmax", "6", "--emax", "30"])
    assert args.q_max == 6 and options.range_ends(args, "e_range") == (None, 30)
    args = parser.parse_args(["diffraction", "reflections", "a.cif", "--dmin", "0.8"])
    assert options.range_ends(args, "d_range", (1.0, float("inf"))) == (0.8, float("inf"))
    args = parser.parse_args(["ins", "cut", "f", "--q-range", "1", "2", "--chi", "10"])
    assert args.chi is True and args.temperature == 10


def test_every_alias_is_documented():
    build_parser()
    text = (__import__("pathlib").Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    missing = [old for old in options.DEPRECATED if f"`{old}`" not in text]
    assert not missing, f"docs/cli.md does not list the deprecated {missing}"
    for flags, *_ in options.VOCABULARY.values():
        assert f"`{'/'.join(flags)}" in text, flags


def test_required_vocabulary_option_is_still_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ins", "dos", "f", "--mass", "5", "--q-range", "1", "2", "--e-range", "3", "4"])
    assert exc.value.code == 2
    assert "-T/--temperature" in capsys.readouterr().err


def test_simulate_mode_help_is_the_modes_own():
    out = subprocess.run([sys.executable, "-m", "latdyn.cli.main", "simulate", "qens", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--diffusion" in out and "--e0" not in out
