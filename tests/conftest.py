"""Shared fixtures: the reference data in ../shared/data and a headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

#: CI (``.ci/run`` sets LATDYN_HYPOTHESIS_PROFILE=ci) draws the same property-test examples on
#: every run, so a red build is reproducible; locally each run explores new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("LATDYN_HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parents[1]
#: ../shared/data next to the checkout, or wherever LATDYN_SHARED_DATA points.
SHARED_DATA = Path(os.environ.get("LATDYN_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the reference data (../shared/data next to the checkout); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (clone next to ../shared, or set "
                    "LATDYN_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
