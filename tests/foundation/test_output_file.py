"""check_output_file: a single output file may go into any writable folder, including the
working folder that holds the input (regression: it was refused as a 'foreign' result folder)."""

import shutil
from pathlib import Path

import pytest

from latdyn.cli.main import main
from latdyn.errors import OutputError
from latdyn.examples import example_file
from latdyn.fileio import check_output_file


def test_output_file_beside_other_files(tmp_path, monkeypatch):
    (tmp_path / "data.txt").write_text("not written by latdyn\n")
    monkeypatch.chdir(tmp_path)
    assert check_output_file("out.h5") == Path("out.h5")
    assert check_output_file(tmp_path / "new" / "deeper" / "out.h5").name == "out.h5"
    with pytest.raises(OutputError, match="folder, not a file"):
        check_output_file(tmp_path)
    with pytest.raises(OutputError, match="parent of the output (path|file) is a file"):
        check_output_file(tmp_path / "data.txt" / "out.h5")


def test_convert_into_the_working_folder(tmp_path, monkeypatch, capsys):
    shutil.copy(example_file("in5_water/H2O_293K_5A.hdf"), tmp_path / "H2O_293K_5A.hdf")
    monkeypatch.chdir(tmp_path)
    assert main(["convert", "H2O_293K_5A.hdf", "h2o.nxs"]) == 0
    assert (tmp_path / "h2o.nxs").is_file()
    assert main(["convert", "H2O_293K_5A.hdf", "h2o.nxs"]) == 0      # replaced atomically
    capsys.readouterr()
