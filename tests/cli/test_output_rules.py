"""The output rule of docs/cli.md: default ``--out``, ``--force``, ``--quiet``/``--verbose``."""

from __future__ import annotations

from pathlib import Path

import pytest

import latdyn
from latdyn.cli.main import main
from latdyn.console import QUIET, use_verbosity
from latdyn.progress import shown

CIF = Path(latdyn.__file__).parent / "examples" / "agi" / "AgI_alpha.cif"


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_default_out_is_stem_and_command(in_tmp, capsys):
    assert main(["diffraction", "reflections", str(CIF), "--d-range", "2", "inf"]) == 0
    out = in_tmp / "AgI_alpha_diffraction-reflections"
    assert (out / ".latdyn-result").is_file() and (out / "reflections.csv").is_file()
    assert "outputs: AgI_alpha_diffraction-reflections" in capsys.readouterr().out


def test_force_replaces_a_foreign_folder_but_never_the_working_folder(in_tmp, capsys):
    other = in_tmp / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    args = ["diffraction", "reflections", str(CIF), "--d-range", "2", "inf", "-o", "other"]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err and (other / "keep.txt").is_file()
    assert main([*args, "--force"]) == 0
    assert not (other / "keep.txt").exists() and (other / "reflections.csv").is_file()
    assert main([*args[:-2], "-o", ".", "--force"]) == 2
    assert "working folder" in capsys.readouterr().err


def test_quiet_leaves_out_locations_and_old_spelling_notes_once(in_tmp, capsys):
    assert main(["diffraction", "reflections", str(CIF), "--dmin", "2", "--output", "r", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "outputs:" not in captured.out and "n_reflections: 3" in captured.out
    assert captured.err.count("is deprecated") == 2 and len(captured.err.splitlines()) == 2


def test_quiet_turns_progress_bars_off():
    with use_verbosity(QUIET):
        assert shown(True) is False
    assert shown(True) is True
