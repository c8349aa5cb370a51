"""Thermodynamics from a DOS: Debye limits, Dulong-Petit, S = -dF/dT, moments, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import constants as C
from scipy.integrate import quad

from latdyn.data import DensityOfStates
from latdyn.errors import InputError
from latdyn.thermo import (
    DULONG_PETIT,
    band_centre,
    debye_dos,
    debye_entropy,
    debye_heat_capacity,
    debye_temperature_from_moments,
    einstein_heat_capacity,
    entropy,
    entropy_difference,
    free_energy,
    heat_capacity,
    internal_energy,
    thermodynamics,
    zero_point_energy,
)
from latdyn.units import KB_MEV_PER_K

THETA = 300.0
E_D = KB_MEV_PER_K * THETA


@pytest.fixture(scope="module")
def debye():
    e = np.linspace(0.0, E_D, 20001)
    return DensityOfStates.from_arrays(e, debye_dos(e, THETA))


def test_debye_function_against_quad():
    T = np.array([3.0, 10.0, 40.0, 150.0, 300.0, 2000.0])
    ref = [9 * C.R * (t / THETA) ** 3 * quad(lambda x: x**4 * np.exp(x) / np.expm1(x) ** 2, 0,
                                             THETA / t, epsabs=0, epsrel=1e-13, limit=200)[0]
           for t in T]
    np.testing.assert_allclose(debye_heat_capacity(T, THETA), ref, rtol=1e-9)


def test_heat_capacity_of_debye_dos_equals_debye_function(debye):
    T = np.array([5.0, 10.0, 30.0, 100.0, 300.0, 1000.0])
    cv = heat_capacity(debye, T)
    np.testing.assert_allclose(cv, debye_heat_capacity(T, THETA), rtol=1e-6)
    np.testing.assert_allclose(entropy(debye, T), debye_entropy(T, THETA), rtol=2e-6)


def test_low_temperature_t_cubed(debye):
    T = np.array([1.0, 2.0])
    ref = 12 * np.pi**4 / 5 * C.R * (T / THETA) ** 3
    np.testing.assert_allclose(heat_capacity(debye, T), ref, rtol=1e-3)


def test_high_temperature_dulong_petit(debye):
    assert heat_capacity(debye, 1e5) == pytest.approx(DULONG_PETIT, rel=1e-6)
    assert heat_capacity(debye, 1e5, atoms_per_formula_unit=15) == pytest.approx(
        15 * DULONG_PETIT, rel=1e-6)


def test_entropy_is_minus_dfdt_and_f_is_u_minus_ts(debye):
    T = np.array([20.0, 77.0, 300.0, 900.0])
    h = 1e-3 * T
    dfdt = (free_energy(debye, T + h) - free_energy(debye, T - h)) / (2 * h)
    np.testing.assert_allclose(entropy(debye, T), -dfdt, rtol=1e-6)
    np.testing.assert_allclose(free_energy(debye, T),
                               internal_energy(debye, T) - T * entropy(debye, T), rtol=1e-10)
    dudt = (internal_energy(debye, T + h) - internal_energy(debye, T - h)) / (2 * h)
    np.testing.assert_allclose(heat_capacity(debye, T), dudt, rtol=1e-6)


def test_zero_point_energy_of_debye():
    e = np.linspace(0.0, E_D, 2001)
    zpe = zero_point_energy(DensityOfStates.from_arrays(e, debye_dos(e, THETA)))
    expected = 9.0 / 8.0 * C.R * THETA  # 9/8 N_A k_B theta_D
    assert zpe == pytest.approx(expected, rel=1e-6)


def test_moments_give_the_debye_temperature(debye):
    for n in (-2.0, -1.0, 0.0, 1.0, 2.0):
        assert debye_temperature_from_moments(debye, n) == pytest.approx(THETA, rel=1e-5)
    assert band_centre(debye) == pytest.approx(0.75 * E_D, rel=1e-8)


def test_einstein_limit_of_a_narrow_dos():
    e0 = 10.0
    e = np.linspace(e0 - 0.01, e0 + 0.01, 41)
    g = np.exp(-0.5 * ((e - e0) / 0.002) ** 2)
    T = np.array([10.0, 50.0, 300.0])
    np.testing.assert_allclose(heat_capacity(DensityOfStates.from_arrays(e, g), T),
                               einstein_heat_capacity(T, e0 / KB_MEV_PER_K), rtol=1e-5)


def test_histogram_dos_and_table(debye):
    edges = np.linspace(0, 20, 201)
    g = np.ones(200)
    d = DensityOfStates.from_arrays(edges, g)
    assert d.histogram
    assert np.isclose(d.weights.sum(), 3.0)
    tab = thermodynamics(d, [100.0, 300.0])
    assert set(tab) >= {"T", "Cv", "Cv_over_3R", "S", "F", "U", "ZPE"}
    kt = KB_MEV_PER_K * np.array([100.0, 300.0])
    ref = [quad(lambda e, k=k: (e / k) ** 2 * np.exp(-e / k) / np.expm1(-e / k) ** 2, 0, 20)[0] / 20
           for k in kt]
    np.testing.assert_allclose(tab["Cv_over_3R"], ref, rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.5, 2.0))
def test_softening_raises_entropy(scale):
    """Scaling all energies by s changes S by -3R ln s at high T (Fultz 2010)."""
    e = np.linspace(0, 30, 301)
    g = e**2 * np.exp(-e / 6)
    d1 = DensityOfStates.from_arrays(e, g)
    d2 = DensityOfStates.from_arrays(e * scale, g)
    ds = entropy_difference(d2, d1, 1e5)
    assert ds == pytest.approx(-3 * C.R * np.log(scale), abs=1e-3)


@pytest.mark.parametrize("energy, g, match", [
    ([-1.0, 0.0, 1.0], [0.0, 1.0, 1.0], "energies must be >= 0"),
    ([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], "not normalisable"),
    ([0.0, 1.0, 2.0], [0.0, -1.0, 1.0], "finite and >= 0"),
    ([0.0, 1.0, 2.0], [0.0, np.nan, 1.0], "finite and >= 0"),
    ([0.0, 2.0, 1.0], [0.0, 1.0, 1.0], "strictly increasing"),
    ([0.0, 1.0], [1.0, 1.0, 1.0], "match the values"),
])
def test_bad_dos(energy, g, match):
    with pytest.raises(InputError, match=match):
        DensityOfStates.from_arrays(energy, g)


@pytest.mark.parametrize("T", [0.0, -5.0, np.nan, [100.0, 0.0]])
def test_bad_temperature(debye, T):
    with pytest.raises(InputError, match="temperature must be finite and > 0"):
        heat_capacity(debye, T)
