"""CLI: instrument, plan and simulate commands (tables, JSON, errors, written files)."""

import json

import scipp as sc

from latdyn.cli.main import main


def test_resolution_json(capsys):
    assert main(["instrument", "resolution", "AMATERAS", "--ei", "3.134", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["rows"]) == 11 and out["rows"][0]["FWHM (meV)"] > 0


def test_plan_writes_report(tmp_path, capsys):
    assert main(["plan", "LET", "--ei", "3.7", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "plan.html").is_file()
    assert (tmp_path / "figures" / "coverage.png").is_file()


def test_bad_ei_exits_2(capsys):
    assert main(["plan", "MARI", "--ei", "12"]) == 2
    assert "transmits no neutrons" in capsys.readouterr().err


def test_simulate_writes_dataarray(tmp_path, capsys):
    out = tmp_path / "sim.h5"
    assert main(["simulate", "qens", "--instrument", "IRIS", "--out", str(out), "--seed", "1"]) == 0
    da = sc.io.load_hdf5(out)
    assert da.variances is not None and "outside_coverage" in da.masks


def test_tas_table(capsys):
    assert main(["instrument", "tas", "TAS-COLD", "--q", "1.2", "--energy", "0", "1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 2
