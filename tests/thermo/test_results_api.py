"""The library calls behind ``latdyn thermo``: the CLI's JSON equals the Python result, units
travel with the values, ``write`` gives the documented files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import constants as C

from latdyn.thermo import (
    arrhenius,
    caloric_balance,
    debye_dos,
    entropy_balance,
    fit_arrhenius_file,
    kinetic_kappa,
    lifetime,
)


def test_arrhenius_file_python_equals_cli(cli_matches, tmp_path, capsys):
    T = np.linspace(300, 600, 7)
    y = arrhenius(T, 0.45, 2e2)
    p = tmp_path / "d.txt"
    p.write_text("T, y\n" + "\n".join(f"{a}, {b}" for a, b in zip(T, y, strict=True)))
    r = fit_arrhenius_file(p)
    cli_matches(["thermo", "arrhenius", p, "-o", tmp_path / "c"], r)
    ea = r.to_json()["parameters"]["activation_energy"]
    assert ea["value"] == pytest.approx(0.45, rel=1e-9) and ea["unit"] == "eV"
    assert [f.name for f in r.write(tmp_path / "a")] == ["arrhenius.csv", "report.html", "arrhenius.png"]
    assert (tmp_path / "a" / "arrhenius.csv").read_text() == (tmp_path / "c" / "arrhenius.csv").read_text()
    assert (tmp_path / "a" / "arrhenius.csv").read_text().startswith("T [K],y,y_err,fit")


def test_caloric_and_kappa_quantities(cli_matches, tmp_path, capsys):
    c = caloric_balance(1, 2, dV=3.0, units=2, dS_vib=-1.0)
    cli_matches(["thermo", "caloric", "--omega", "1", "2", "--units", "2", "--dS-vib", "-1", "--dV", "3"],
          c)
    s = 2 * C.R * np.log(2) - 1.0
    assert c["dS_total"].value == pytest.approx(s) and c["dS_total"].unit == "J/(mol*K)"
    assert c["dT_dP"].value == pytest.approx(3.0 / s)           # cm^3/J = K/MPa
    assert "driving_pressure" not in c.to_json()
    k = kinetic_kappa(1e6, 2000.0, gamma=0.25)
    cli_matches(["thermo", "kappa", "--C", "1e6", "--v", "2000", "--gamma", "0.25"], k)
    tau = lifetime(0.25)
    assert k["tau"].value == pytest.approx(tau)
    assert k["kappa"].value == pytest.approx(1e6 * 2000.0**2 * tau * 1e-12 / 3)
    assert k["mean_free_path"].value == pytest.approx(2000.0 * tau * 1e-12 / 1e-10)
    assert {p.name for p in k.write(tmp_path / "k")} == {"quantities.csv", "report.html"}
    with pytest.raises(Exception, match="one of"):
        kinetic_kappa(1e6, 2000.0)


def test_entropy_balance_writes_and_equals_cli(cli_matches, tmp_path, capsys):
    e = np.linspace(0, 40, 401)
    for name, th in (("d1.txt", 330.0), ("d2.txt", 300.0)):
        np.savetxt(tmp_path / name, np.column_stack([e, debye_dos(e, th)]))
    r = entropy_balance(300.0, J=1.5, T_c2=350.0, field_T=2.0, dos_1=tmp_path / "d1.txt",
                        dos_2=tmp_path / "d2.txt", atoms_per_formula_unit=3, molar_mass=180.0)
    cli_matches(["thermo", "magnetocaloric", "-T", "300", "--J", "1.5", "--tc2", "350", "--field", "2",
                   "--dos1", tmp_path / "d1.txt", "--dos2", tmp_path / "d2.txt", "--atoms", "3",
                   "--molar-mass", "180", "-o", tmp_path / "c"], r)
    assert r.to_json()["delta_s_lattice"]["unit"] == "J/(mol*K)"
    row = r.rows()[0]
    assert row["per_kg"] == pytest.approx(row["value"] / 0.180)
    assert [f.name for f in r.write(tmp_path / "o")][:2] == ["entropy_balance.csv", "report.html"]
    assert (tmp_path / "o" / "entropy_balance.csv").read_text() == \
        (tmp_path / "c" / "entropy_balance.csv").read_text()
