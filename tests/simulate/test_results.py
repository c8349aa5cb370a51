"""``latdyn simulate mode|qens`` as one library call (latdyn.simulate.simulate_measurement),
and the subcommands' own help."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipp as sc

from latdyn.cli.main import main
from latdyn.cli.output import to_jsonable
from latdyn.errors import InputError
from latdyn.instruments import load_instrument
from latdyn.lineshapes import lorentzian
from latdyn.simulate import Sample, simulate_measurement, simulate_sqe
from latdyn.units import HBAR_MEV_PS


def test_call_gives_the_cli_json_and_file(tmp_path, capsys):
    out = tmp_path / "van.h5"
    assert main(["simulate", "qens", "--instrument", "MERLIN", "--ei", "50", "--q", "1", "2", "3",
                 "--sample", "V", "--mass", "5", "--hours", "0.5", "--flux", "2e4", "--eisf", "1",
                 "--background", "0", "--cross-section", "incoherent", "--out", str(out),
                 "--seed", "3", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    r = simulate_measurement("qens", "MERLIN", ei=50.0, q=[1, 2, 3], sample="V", mass=5.0, hours=0.5,
                             flux=2e4, eisf=1.0, background=0.0, cross_section="incoherent", seed=3)
    assert cli == to_jsonable({"title": r.title, "rows": r.rows(), "file": str(out), **r.to_json()})
    assert sc.identical(r.data, sc.io.load_hdf5(out))
    assert cli["mass"] == {"value": 5.0, "error": None, "unit": "g"}
    assert cli["time"] == {"value": 0.5, "error": None, "unit": "h"}
    assert sum(row["counts"] for row in cli["rows"]) == cli["total counts"]


def test_qens_model_is_simulate_sqe_of_the_documented_formula(tmp_path):
    """EISF delta(E) + (1 - EISF) L(E; hbar D Q^2) + b on IRIS, same seed: the same array."""
    iris = load_instrument("IRIS")
    r = simulate_measurement("qens", iris, q=[0.5, 1.0], eisf=0.4, diffusion=0.1, background=0.02,
                             seed=5)
    e = np.linspace(iris.e_min, iris.e_max, 201)
    ref = simulate_sqe(lambda q, x: 0.6 * lorentzian(x, HBAR_MEV_PS * 0.1 * q**2) + 0.02, iris,
                       [0.5, 1.0], e, elastic=lambda q: 0.4, seed=5)
    assert sc.identical(r.data, ref)
    files = r.write(tmp_path / "sim.h5")
    assert files == [tmp_path / "sim.h5"] and sc.identical(sc.io.load_hdf5(files[0]), ref)
    html = r.report().to_html()
    assert "Fick" in html and 'id="fig-simulated"' in html
    assert r.to_json()["units"] == {"Q": "1/angstrom", "sum S (in coverage)": "1/meV"}


def test_mode_with_a_sample_object():
    mari = load_instrument("MARI")
    v = Sample("V", 5.0)
    r = simulate_measurement("mode", mari, ei=25.0, package="S", frequency=150.0, q=[1.0, 2.0],
                             sample=v, hours=1.0, flux=1e4, cross_section="incoherent", seed=1)
    assert r.sample is v and r.counts.shape == r.data.shape
    assert np.all(r.counts[r.masked] == 0) and r.to_json()["total counts"] > 0
    with pytest.raises(InputError, match="Sample given"):
        simulate_measurement("mode", mari, ei=25.0, sample=v, mass=5.0, hours=1.0)


def test_bad_input():
    with pytest.raises(InputError, match="model"):
        simulate_measurement("phonon", "IRIS")
    with pytest.raises(InputError, match="--ei"):
        simulate_measurement("mode", "MARI")
    with pytest.raises(InputError, match="EISF"):
        simulate_measurement("qens", "IRIS", eisf=1.5)
    with pytest.raises(InputError, match="two --q"):
        simulate_measurement("qens", "MERLIN", ei=50.0, q=[1.0], sample="V", mass=5.0, hours=1.0)


@pytest.mark.parametrize(("model", "own", "other"), [("mode", "--e0", "--eisf"),
                                                     ("qens", "--eisf", "--e0")])
def test_each_model_is_a_subcommand_with_its_own_help(model, own, other, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", model, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert own in text and other not in text and "--instrument" in text
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", model, "--instrument", "IRIS", other, "1", "--out", str(tmp_path / "x.h5")])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    assert "mode" in text and "qens" in text and "--e0" not in text
