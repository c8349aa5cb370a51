import numpy as np
import pytest

from latdyn.errors import InputError
from latdyn.scattering import Composition, nuclide, parse_formula, xray_form_factor


def test_published_sears_values():
    assert nuclide("H").sigma_inc == pytest.approx(80.26)
    assert nuclide("V").sigma_inc == pytest.approx(5.08)
    assert nuclide("V").b_coh.real == pytest.approx(-0.3824)
    assert nuclide("Ni").b_coh.real == pytest.approx(10.3)
    assert nuclide("D").b_coh.real == pytest.approx(6.671)
    assert nuclide("7Li").b_coh.real == pytest.approx(-2.22)
    assert nuclide("Li").sigma_abs == pytest.approx(70.5)


def test_rauch_table_differs_where_documented():
    assert nuclide("V", table="rauch").b_coh.real == pytest.approx(-0.443)
    assert nuclide("H", table="rauch").b_coh.real == pytest.approx(-3.7409)
    assert nuclide("Li", table="rauch").b_coh.real == pytest.approx(-1.90, abs=0.05)
    assert nuclide("H", table="rauch").sigma_inc == pytest.approx(80.26, rel=1e-3)


def test_complex_length_follows_absorption():
    gd = nuclide("Gd")
    # sigma_abs = 2 lambda0 b'' (optical theorem): Sears lists Gd b = 6.5 - 13.82i fm
    assert gd.b_coh.imag == pytest.approx(-13.82, abs=0.01)
    assert nuclide("V").sigma_abs_at(2 * 1.7982) == pytest.approx(2 * 5.08, rel=1e-3)


def test_isotope_spellings():
    for s in ("7Li", "Li7", "Li-7", "^7Li"):
        assert nuclide(s).A == 7
    assert nuclide("D") == nuclide("2H")


def test_formula_parsing():
    assert parse_formula("Ag8SnSe6") == [("Ag", 8.0), ("Sn", 1.0), ("Se", 6.0)]
    assert parse_formula("[NH4]I") == parse_formula("NH4I") == [("N", 1.0), ("H", 4.0), ("I", 1.0)]
    assert parse_formula("(NH4)2SO4") == [("N", 2.0), ("H", 8.0), ("S", 1.0), ("O", 4.0)]
    assert parse_formula("7Li3N") == [("7Li", 3.0), ("N", 1.0)]
    assert parse_formula("Li3^15N") == [("Li", 3.0), ("15N", 1.0)]
    assert parse_formula("Li0.5La0.5TiO3")[0] == ("Li", 0.5)


@pytest.mark.parametrize("bad", ["", "Ag8(Sn", "Li)", "Ag$", "Ag0", "3", "Xx2"])
def test_bad_formulas(bad):
    with pytest.raises(InputError):
        Composition(bad)


def test_composition_sums_and_weights():
    c = Composition("NH4I")
    h, n, i = nuclide("H"), nuclide("N"), nuclide("I")
    assert c.sigma_inc == pytest.approx(4 * h.sigma_inc + n.sigma_inc + i.sigma_inc)
    assert c.n_atoms == 6
    assert c.per_atom()["sigma_coh"] == pytest.approx(c.sigma_coh / 6)
    w = c.sigma_over_mass()
    assert w["H"] == pytest.approx((h.sigma_coh + h.sigma_inc) / h.mass)
    deut = Composition("ND4I")
    assert deut.sigma_inc < c.sigma_inc / 10
    assert c.sigma_abs(2 * 1.7982) == pytest.approx(2 * c.sigma_abs(), rel=1e-3)


def test_xray_form_factor():
    assert xray_form_factor("Ag", 0.0) == pytest.approx(47.0, abs=0.01)
    f = xray_form_factor("7Li", np.array([0.0, 2.0, 8.0]))
    assert f[0] == pytest.approx(3.0, abs=0.01) and np.all(np.diff(f) < 0)
    with pytest.raises(InputError):
        xray_form_factor("Xx", 1.0)
    with pytest.raises(InputError):
        xray_form_factor("Ag", -1.0)
