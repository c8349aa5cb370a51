"""The quick demo, run once per session under umask 022 (about 2 CPU-minutes)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def demo_quick(tmp_path_factory):
    """Path of ``report.html`` of ``run_demo(quick=True)`` written under umask 022."""
    from latdyn.demo import run_demo

    out = tmp_path_factory.mktemp("demo_quick") / "demo"
    old = os.umask(0o022)
    try:
        return run_demo(out, quick=True, log=lambda _msg: None)
    finally:
        os.umask(old)
