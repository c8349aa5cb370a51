"""latdyn plan --compare: instruments and settings for a QENS and a phonon measurement."""

import json

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.errors import InputError
from latdyn.instruments import load_instrument
from latdyn.instruments.planning import compare_instruments


@pytest.fixture(scope="module")
def qens():
    return compare_instruments((-0.2, 0.2), (0.3, 1.8), fwhm_max=0.1)


@pytest.fixture(scope="module")
def phonons():
    return compare_instruments((5.0, 40.0), (2.0, 6.0), fwhm_max=3.0)


def _recomputed(row, e):
    inst = load_instrument(row["instrument"])
    if inst.kind == "indirect":
        name = next(n for n, a in inst.analysers.items() if a.reflection == row["setting"])
        return inst.resolution(e, analyser=name)
    kw = {}
    for part in row["setting"].split("/"):
        if part in inst.modes:
            kw["mode"] = part
        elif part in inst.packages:
            kw["package"] = part
    return inst.resolution(e, ei=row["incident/final E (meV)"], frequency=row["frequency (Hz)"], **kw)


def test_qens_question(qens):
    names = [r["instrument"] for r in qens.best()]
    assert {"BASIS", "LET", "CNCS", "IN5"} <= set(names)
    for row in qens.rows:
        assert row["coverage"] == 1.0 and row["max FWHM in range (meV)"] <= 0.1
        e = np.linspace(-0.2, 0.2, 41)
        assert float(np.max(_recomputed(row, e))) == pytest.approx(row["max FWHM in range (meV)"])
    # thermal Fermi instruments cannot resolve 0.1 meV here, and say so
    assert "resolution coarser than 0.1 meV" in qens.unreachable["MARI"]
    basis = next(r for r in qens.rows if r["instrument"] == "BASIS")
    assert basis["elastic FWHM (meV)"] == pytest.approx(0.0035)
    assert basis["flux basis"] == "unknown"


def test_phonon_question(phonons):
    names = [r["instrument"] for r in phonons.best()]
    assert {"MARI", "MERLIN", "MAPS"} <= set(names)
    assert "above the instrument's" in phonons.unreachable["LET"]
    absolute = [r for r in phonons.rows if r["flux basis"] == "absolute"]
    assert max(r["relative flux"] for r in absolute) == pytest.approx(1.0)
    best = phonons.best()
    assert best[0]["flux (n/cm^2/s)"] == max(r["flux (n/cm^2/s)"] for r in absolute)
    for row in phonons.rows:
        assert row["incident/final E (meV)"] > 40.0 and row["max FWHM in range (meV)"] <= 3.0


def test_rows_and_figure(phonons, tmp_path):
    table = phonons.table()
    assert len({tuple(r) for r in table}) == 1                   # one set of columns
    fig = phonons.figure()
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == len(phonons.best()) + 1
    paths = phonons.write(tmp_path)
    assert [p.name for p in paths] == ["plan_compare.csv", "plan_compare.png"]
    assert (tmp_path / "plan_compare.csv").read_text().count("\n") == len(table) + 1


def test_bad_requests_name_the_field():
    with pytest.raises(InputError, match="energy_range"):
        compare_instruments((1.0, 0.0), (1.0, 2.0))
    with pytest.raises(InputError, match="fwhm_max"):
        compare_instruments((0.0, 1.0), (1.0, 2.0), fwhm_max=-1)


def test_cli_plan_compare(tmp_path, capsys):
    assert main(["plan", "--compare", "--e-range", "-0.2", "0.2", "--q-range", "0.3", "1.8",
                 "--fwhm-max", "0.1", "--instruments", "BASIS", "LET", "MARI", "--json",
                 "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"] if isinstance(out, dict) else out
    assert {r["instrument"] for r in rows} == {"BASIS", "LET", "MARI"}
    assert (tmp_path / "plan_compare.png").is_file()
    assert main(["plan", "--compare", "--e-range", "0", "1"]) == 2
    assert "q-range" in capsys.readouterr().err
