"""Paths to the small CIF files of the diffraction tests."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def cif_dir() -> Path:
    return DATA
