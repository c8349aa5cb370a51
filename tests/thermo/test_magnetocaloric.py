"""Entropy balance of magnetostructural transitions: Brillouin limits, the mean-field entropy and
its Maxwell relation, the field Clausius-Clapeyron slope and the lattice + magnetic balance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import constants as C

from latdyn.cli.main import main
from latdyn.errors import InputError
from latdyn.thermo import (
    as_dos,
    brillouin,
    clausius_clapeyron_field,
    debye_dos,
    debye_entropy,
    entropy_balance,
    magnetic_entropy,
    magnetic_entropy_bound,
    mean_field_magnetisation,
)

MU_B = C.physical_constants["Bohr magneton"][0]


def test_brillouin_limits():
    x = np.linspace(-5, 5, 101)
    assert np.allclose(brillouin(0.5, x), np.tanh(x))
    assert np.allclose(brillouin(3.5, 1e-6), (3.5 + 1) / (3 * 3.5) * 1e-6)
    big = 200.0
    langevin = 1 / np.tanh(x[x != 0]) - 1 / x[x != 0]
    assert np.allclose(brillouin(big, x[x != 0]), langevin, atol=5e-3)
    with pytest.raises(InputError):
        brillouin(0.7, 1.0)


def test_entropy_limits_and_the_mean_field_transition():
    J = 2.5
    assert magnetic_entropy(1e4, J) == pytest.approx(C.R * np.log(6), rel=1e-9)   # no order, no field
    assert magnetic_entropy(1.0, J, T_c=300.0) < 1e-6                               # saturated
    assert magnetic_entropy_bound(J, 2) == pytest.approx(2 * C.R * np.log(6))
    sig = mean_field_magnetisation(np.array([100.0, 299.0, 301.0]), J, T_c=300.0)
    assert sig[0] > 0.9 and 0 < sig[1] < 0.2 and sig[2] == 0.0
    # sigma -> 1 - small at T << T_c, and the paramagnetic Curie law sigma = g mu_B (J+1) B / 3 k T
    s = mean_field_magnetisation(300.0, 0.5, 0.0, 0.1)
    assert s == pytest.approx(np.tanh(2 * 0.5 * MU_B * 0.1 / (C.k * 300)), rel=1e-9)


@pytest.mark.parametrize("T_c", [0.0, 250.0])
def test_maxwell_relation_dS_dB_equals_dM_dT(T_c):
    """(dS/dB)_T = (dM/dT)_B with M = N_A g J mu_B sigma per mole of ions: the mean-field entropy
    is the one of its own free energy."""
    J, g, T, B, h = 1.5, 2.0, 280.0, 1.0, 1e-3

    def m(t, b):
        return C.N_A * g * J * MU_B * mean_field_magnetisation(t, J, T_c, b, g)

    dsdb = (magnetic_entropy(T, J, T_c, B + h, g) - magnetic_entropy(T, J, T_c, B - h, g)) / (2 * h)
    dmdt = (m(T + 1e-2, B) - m(T - 1e-2, B)) / 2e-2
    assert dsdb == pytest.approx(dmdt, rel=1e-4)
    assert dsdb < 0


def test_clausius_clapeyron_in_field():
    # one Bohr magneton per formula unit is N_A mu_B = 5.585 J/(T mol)
    slope = clausius_clapeyron_field(1.0, -C.N_A * MU_B)
    assert slope == pytest.approx(1.0, rel=1e-12)
    assert clausius_clapeyron_field(2.0, -5.0) > 0     # the high-moment, low-entropy phase is favoured
    with pytest.raises(InputError):
        clausius_clapeyron_field(1.0, 0.0)


def test_balance_of_lattice_and_magnetic_terms_and_its_sign():
    e = np.linspace(0, 40, 4001)
    d1, d2 = as_dos(e, debye_dos(e, 330.0)), as_dos(e, debye_dos(e, 300.0))
    r = entropy_balance(1500.0, J=1.5, T_c1=0.0, T_c2=2000.0, dos_1=d1, dos_2=d2,
                        atoms_per_formula_unit=3, delta_m=2.0, measured=1.0, molar_mass=180.0)
    # the Debye functions, and at high T 3 R n ln(theta_1 / theta_2)
    exact = 3 * (debye_entropy(1500.0, 300.0) - debye_entropy(1500.0, 330.0))
    assert r.delta_s_lattice == pytest.approx(exact, rel=3e-3)     # DOS sampled every 0.01 meV
    assert r.delta_s_lattice == pytest.approx(9 * C.R * np.log(330 / 300), rel=1e-2)
    assert r.delta_s_magnetic < 0 and r.same_sign is False
    assert "opposite signs" in r.sign_statement()
    assert r.slope == pytest.approx(clausius_clapeyron_field(2.0, r.delta_s_model))
    rows = {row["quantity"]: row for row in r.rows()}
    assert rows["measured - model"]["value"] == pytest.approx(1.0 - r.delta_s_model)
    assert rows["Delta S measured"]["per_kg"] == pytest.approx(1.0 / 0.180)
    slope = entropy_balance(300.0, J=1.5, T_c2=400.0, delta_m=3.0, measured_slope=2.0)
    assert slope.measured == pytest.approx(-3.0 * C.N_A * MU_B / 2.0)
    with pytest.raises(InputError, match="both phases"):
        entropy_balance(300.0, J=1.5, dos_1=d1)


def test_magnetocaloric_command(tmp_path, capsys):
    e = np.linspace(0, 40, 401)
    for name, th in (("d1.txt", 330.0), ("d2.txt", 300.0)):
        np.savetxt(tmp_path / name, np.column_stack([e, debye_dos(e, th)]))
    args = ["thermo", "magnetocaloric", "-T", "300", "--J", "1.5", "--tc2", "350", "--field", "2",
            "--dos1", str(tmp_path / "d1.txt"), "--dos2", str(tmp_path / "d2.txt"), "--atoms", "3",
            "--dM", "2.5", "--dS-measured", "-5", "--molar-mass", "186.8", "-o", str(tmp_path / "o"),
            "--json"]
    assert main(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["same_sign"] is False and "compensate" in res["sign"]
    assert (tmp_path / "o" / "entropy_balance.csv").is_file() and (tmp_path / "o" / "report.html").is_file()
    assert main(["thermo", "magnetocaloric", "-T", "300", "--J", "0.7"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
