"""latdyn.progress: bars only on a terminal, never inside ``silenced`` (``--json``), and the
explicit ``progress=True/False`` of a call wins."""

from __future__ import annotations

import io
import sys

from latdyn import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _tty_stderr(monkeypatch) -> _Terminal:
    """Standard error replaced by a terminal (in the test body: pytest's output capture
    swaps sys.stderr back after fixtures are set up)."""
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_bar_on_a_terminal_only(monkeypatch):
    tty_stderr = _tty_stderr(monkeypatch)
    assert list(progress.track(range(3), "steps")) == [0, 1, 2]
    assert "steps" in tty_stderr.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())      # piped: not a tty_stderr
    items = range(3)
    assert progress.track(items, "steps") is items
    assert not progress.shown()


def test_silenced_and_explicit_choice(monkeypatch):
    tty_stderr = _tty_stderr(monkeypatch)
    with progress.silenced():
        assert not progress.shown()
        assert progress.shown(True)                     # an explicit request is kept
        with progress.progress_bar(5, "quiet") as bar:
            bar.update(5)
    assert tty_stderr.getvalue() == ""
    assert progress.shown() and not progress.shown(False)
    assert not progress.shown(None, steps=1)            # one step: nothing to show


def test_json_command_draws_no_bar(monkeypatch, capsys):
    """``latdyn ... --json`` runs the command inside ``silenced``."""
    from latdyn.cli import main as cli_main

    seen = {}

    def fake_run(args):
        seen["shown"] = progress.shown()
        return 0

    _tty_stderr(monkeypatch)
    parser = cli_main.build_parser()
    args = parser.parse_args(["xs", "V", "--json"])
    args.func = fake_run
    monkeypatch.setattr(cli_main, "build_parser", lambda: _Fixed(parser, args))
    assert cli_main.main(["xs", "V", "--json"]) == 0
    assert seen["shown"] is False
    args.json = False
    assert cli_main.main(["xs", "V"]) == 0
    assert seen["shown"] is True


class _Fixed:
    """A parser returning a prepared namespace."""

    def __init__(self, parser, args):
        self.parser, self.args = parser, args

    def parse_args(self, argv):
        return self.args

    def print_help(self):
        self.parser.print_help()
