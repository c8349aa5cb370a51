"""The library calls behind ``latdyn instrument ...`` and ``latdyn plan``: the CLI's JSON equals
the Python result; ``write`` gives the documented files."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.instruments import (
    compare_instruments,
    coverage_table,
    describe_instrument,
    library_table,
    list_instruments,
    load_instrument,
    resolution_table,
    tas_table,
)
from latdyn.simulate import plan_experiment


def test_tables_python_equal_cli(cli_matches, capsys):
    lib = library_table()
    cli_matches(["instrument", "list"], lib)
    assert [r["name"] for r in lib.rows()] == list_instruments()
    cli_matches(["instrument", "show", "MARI"], describe_instrument("MARI"))
    res = resolution_table("AMATERAS", ei=3.134)
    cli_matches(["instrument", "resolution", "AMATERAS", "--ei", "3.134"], res)
    e = np.linspace(-0.5 * 3.134, 0.9 * 3.134, 11)
    np.testing.assert_allclose([r["FWHM"] for r in res.rows()],
                               load_instrument("AMATERAS").resolution(e, ei=3.134))
    assert res.to_json()["units"] == {"E": "meV", "FWHM": "meV"}
    cov = coverage_table("LET", ei=3.7, points=5)
    cli_matches(["instrument", "coverage", "LET", "--ei", "3.7", "--points", "5"], cov)
    assert all(r["Q_min"] <= r["Q_max"] for r in cov.rows())
    assert cov.rows()[2]["Q_min"] < cov.rows()[2]["Q_max"]          # E = 0: a real |Q| window
    tas = tas_table("TAS-COLD", 1.2, [0.0, 1.0])
    cli_matches(["instrument", "tas", "TAS-COLD", "--q", "1.2", "--energy", "0", "1"], tas)
    assert tas.rows()[1]["E"] == 1.0 and tas.to_json()["units"]["dQ_parallel"] == "1/angstrom"
    with pytest.raises(Exception, match="--ei"):
        coverage_table("LET")


def test_plan_python_equals_cli_and_writes_plan_html(cli_matches, tmp_path, capsys):
    p = plan_experiment("MARI", ei=100.0, package="S", frequency=400.0, q=3.0, points=6)
    cli_matches(["plan", "MARI", "--ei", "100", "--package", "S", "--frequency", "400", "--q", "3",
                   "--points", "6"], p)
    assert p.to_json()["vanadium_rate"]["unit"] == "counts/s"
    files = [f.relative_to(tmp_path / "p").as_posix() for f in p.write(tmp_path / "p")]
    assert files[0] == "plan.html" and {"figures/coverage.png", "figures/resolution.png"} <= set(files)
    cmp = compare_instruments((-0.2, 0.2), (0.3, 1.8), 0.1, ["BASIS", "LET", "MARI"])
    cli_matches(["plan", "--compare", "--e-range", "-0.2", "0.2", "--q-range", "0.3", "1.8",
                   "--fwhm-max", "0.1", "--instruments", "BASIS", "LET", "MARI"], cmp, rows=cmp.table())
    assert cmp.to_json()["fwhm_max"] == {"value": 0.1, "error": None, "unit": "meV"}
