"""Shared fixtures: the reference data in ../shared/data and a headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

#: CI (``.ci/run`` sets LATDYN_HYPOTHESIS_PROFILE=ci) draws the same property-test examples on
#: every run, so a red build is reproducible; locally each run explores new examples.  Neither
#: profile has a per-example deadline: on a busy machine a wall-clock limit fails correct code
#: (speed is measured in benchmarks/, never asserted in a test).
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("LATDYN_HYPOTHESIS_PROFILE", "dev"))

REPO = Path(__file__).resolve().parents[1]
#: ../shared/data next to the checkout, or wherever LATDYN_SHARED_DATA points.
SHARED_DATA = Path(os.environ.get("LATDYN_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the reference data (../shared/data next to the checkout); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_SKIP} at {SHARED_DATA}")
    return SHARED_DATA


#: every skip for absent reference data says this, so that the run ends with one count of them
SHARED_SKIP = "reference data ../shared/data not found"


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_terminal_summary(terminalreporter):
    """One line at the end: how many tests skipped because ../shared/data is absent."""
    skipped = terminalreporter.stats.get("skipped", [])
    n = sum(SHARED_SKIP in _skip_reason(r) for r in skipped)
    if n:
        terminalreporter.write_line(
            f"{n} test{'s' if n != 1 else ''} skipped: {SHARED_SKIP} at {SHARED_DATA} (clone the "
            "shared data next to the checkout, or set LATDYN_SHARED_DATA)", yellow=True, bold=True)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def cli_matches(capsys):
    """``check(argv, result, rows=None)``: ``latdyn ARGV --json`` exits 0 and prints the
    result's heading, its ``rows()`` (or ``rows``) and its ``to_json()`` (the Python call and
    the command give the same results); returns the printed JSON."""
    import json

    from latdyn.cli.main import main
    from latdyn.cli.output import to_jsonable

    def plain(obj):
        return json.loads(json.dumps(to_jsonable(obj)))

    def check(argv, result, rows=None) -> dict:
        assert main([*map(str, argv), "--json"]) == 0
        payload = json.loads(capsys.readouterr().out)
        assert payload["rows"] == plain(result.rows() if rows is None else rows)
        assert payload["title"] == result.heading
        summary = {k: v for k, v in payload.items() if k not in ("title", "rows", "outputs")}
        assert summary == plain(result.to_json())
        return payload

    return check
