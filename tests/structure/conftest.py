"""Paths to the small CIF files shared by the structure and diffraction tests."""

from __future__ import annotations

from pathlib import Path

import pytest

CIF_DIR = Path(__file__).resolve().parents[1] / "diffraction" / "data"


@pytest.fixture(scope="session")
def cif_dir() -> Path:
    return CIF_DIR
