"""CLI: instrument, plan and simulate commands (tables, JSON, errors, written files)."""

import json

import pytest
import scipp as sc

from latdyn.cli.main import main
from latdyn.instruments import load_instrument


def test_resolution_json(capsys):
    assert main(["instrument", "resolution", "AMATERAS", "--ei", "3.134", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["rows"]) == 11 and out["rows"][0]["FWHM"] > 0


def test_plan_writes_report(tmp_path, capsys):
    assert main(["plan", "LET", "--ei", "3.7", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "plan.html").is_file()
    assert (tmp_path / "figures" / "coverage.png").is_file()


def test_bad_ei_exits_2(capsys):
    assert main(["plan", "MARI", "--ei", "12", "--package", "A", "--frequency", "400"]) == 2
    assert "transmits no neutrons" in capsys.readouterr().err
    assert main(["plan", "MARI", "--ei", "2"]) == 2
    assert "cannot deliver" in capsys.readouterr().err


def test_simulate_writes_dataarray(tmp_path, capsys):
    out = tmp_path / "sim.h5"
    assert main(["simulate", "qens", "--instrument", "IRIS", "--out", str(out), "--seed", "1"]) == 0
    da = sc.io.load_hdf5(out)
    assert da.variances is not None and "outside_coverage" in da.masks


def test_tas_table(capsys):
    assert main(["instrument", "tas", "TAS-COLD", "--q", "1.2", "--energy", "0", "1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 2


def test_plan_prints_vanadium_rate(capsys):
    """MARI has published fluxes: the plan gives the elastic rate of a vanadium standard, the
    same as latdyn.simulate.elastic_count_rate; AMATERAS has none and says which field is missing."""
    from latdyn.instruments import load_instrument
    from latdyn.simulate import Sample, elastic_count_rate

    assert main(["plan", "MARI", "--ei", "25", "--package", "S", "--frequency", "150",
                 "--vanadium-mass", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rate = elastic_count_rate(load_instrument("MARI"), Sample("V", 5.0), ei=25.0, package="S",
                              frequency=150.0)
    assert out["vanadium_rate"]["value"] == pytest.approx(rate, rel=1e-9)
    assert main(["plan", "AMATERAS", "--ei", "3.134", "--json"]) == 0
    assert "flux.points" in json.loads(capsys.readouterr().out)["vanadium_rate_unavailable"]


def test_simulate_sample_counts(tmp_path, capsys):
    out = tmp_path / "van.h5"
    args = ["simulate", "qens", "--instrument", "MERLIN", "--ei", "50", "--q", "1", "2", "3",
            "--sample", "V", "--mass", "5", "--hours", "0.5", "--flux", "2e4", "--eisf", "1",
            "--background", "0", "--cross-section", "incoherent", "--out", str(out), "--seed", "3",
            "--json"]
    assert main(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["total counts"] > 1000 and sc.io.load_hdf5(out).variances is not None
    doubled = args[:args.index("--hours") + 1] + ["1.0"] + args[args.index("--hours") + 2:]
    assert main(doubled) == 0
    ratio = json.loads(capsys.readouterr().out)["total counts"] / res["total counts"]
    assert ratio == pytest.approx(2.0, rel=0.05)          # Poisson noise only
    assert main(["simulate", "qens", "--instrument", "MERLIN", "--ei", "50", "--sample", "V",
                 "--out", str(out)]) == 2
    assert "--mass" in capsys.readouterr().err


def test_plan_adds_q_resolution_on_direct_instruments(capsys):
    assert main(["plan", "MARI", "--ei", "100", "--package", "S", "--frequency", "400", "--q", "3",
                 "--points", "6", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    mari = load_instrument("MARI")
    first = rows[0]
    assert first["Q_FWHM"] == pytest.approx(
        float(mari.q_resolution(3.0, first["E"], 100.0, package="S", frequency=400.0)))
    assert rows[-1]["Q_FWHM"] is None          # 90 meV: |Q| = 3 lies below the detectors
