"""Error messages of the cases a user met: one line naming the real problem, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from latdyn.cli.main import main

YAML = Path(__file__).resolve().parents[2] / "src" / "latdyn" / "examples" / "nacl" / "phonopy_nacl.yaml"


@pytest.mark.parametrize("ei", ["-45", "0", "nan"])
def test_powder_with_a_non_positive_ei_names_ei(ei, tmp_path, capsys):
    rc = main(["phonons", "powder", str(YAML), "--instrument", "MARI", "--ei", ei,
               "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len([ln for ln in err if ln.startswith("latdyn: error:")]) == 1
    assert "incident energy" in err[-1] and "'ei'" in err[-1] and "emax" not in err[-1]


def test_phonopy_command_on_an_hdf5_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "FILE.hdf"
    path.write_bytes((YAML.parent / "force_constants.hdf5").read_bytes())
    rc = main(["phonons", "powder", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "FILE.hdf" in err[0] and "Traceback" not in err[0]
