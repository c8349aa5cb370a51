"""Implausible values of a fit are flagged (latdyn.fitresult.implausible_values), and every
fit command prints them as warnings and carries them in its JSON."""

from __future__ import annotations

import json
import math

import numpy as np

from latdyn.cli.main import main
from latdyn.fitresult import Parameter, implausible_values


def test_error_larger_than_a_physical_value_is_flagged():
    ps = [Parameter("D", 0.1, 0.5, "angstrom**2/ps"), Parameter("shift", 0.001, 0.01, "meV")]
    out = implausible_values(ps, significant=("D",))
    assert len(out) == 1 and out[0].startswith("D = 0.1") and "larger than the value" in out[0]


def test_non_finite_error_of_a_varied_parameter_is_flagged_fixed_is_not():
    ps = [Parameter("a", 1.0, math.nan), Parameter("b", 1.0, math.inf),
          Parameter("c", 1.0, math.nan, vary=False)]
    assert [r.split(" =")[0] for r in implausible_values(ps)] == ["a", "b"]


def test_width_and_position_outside_the_window():
    ps = [Parameter("dho1_gamma", 30.0, 1.0, "meV"), Parameter("dho1_E0", 25.0, 0.1, "meV"),
          Parameter("dho2_E0", 5.0, 0.1, "meV")]
    out = implausible_values(ps, widths=("dho*_gamma",), positions=("dho*_E0",), window=(-2.0, 20.0))
    assert len(out) == 2 and "wider than the data window" in out[0] and "dho1_E0" in out[1]


def test_a_good_fit_has_nothing_to_flag():
    ps = [Parameter("D", 0.1, 0.01), Parameter("dho1_gamma", 1.0, 0.1), Parameter("dho1_E0", 10.0, 0.1)]
    assert implausible_values(ps, significant=("D", "dho*"), widths=("dho*_gamma",),
                              positions=("dho*_E0",), window=(0.0, 20.0)) == []


def test_arrhenius_of_data_that_fix_nothing_warns_and_marks(tmp_path, capsys):
    rng = np.random.default_rng(3)
    t = np.array([300.0, 310.0, 320.0])
    y = 1.0 + 0.5 * rng.standard_normal(3) ** 2
    path = tmp_path / "arr.txt"
    path.write_text("".join(f"{a} {b} 5.0\n" for a, b in zip(t, y, strict=True)))
    assert main(["thermo", "arrhenius", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    res = json.loads(out)
    assert any("activation_energy" in r for r in res["implausible"])
    warnings = [ln for ln in err.splitlines() if ln.startswith("latdyn: warning:")]
    assert warnings and "activation_energy" in warnings[0] and "larger than the value" in warnings[0]
