"""Fixtures of the data/io tests (``shared_data`` until tests/conftest.py provides it)."""

from pathlib import Path

import pytest


@pytest.fixture
def shared_data() -> Path:
    """Path to ../shared/data relative to the repository; skip when it is absent."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared reference data not found at {path}")
    return path
