"""Multiphonon expansion sum rules and the generalised-DOS round trip (simulate -> extract)."""

import numpy as np
import pytest
import scipp as sc

from latdyn.data import DensityOfStates, make_sqe
from latdyn.errors import InputError
from latdyn.kinematics import coverage_direct
from latdyn.reduce import (
    PhononExpansion,
    effective_mass,
    generalized_dos,
    incoherent_sqe,
    neutron_weighted_dos,
    neutron_weighted_sqe,
    recoil_energy,
    sigma_over_mass_weights,
)
from latdyn.scattering import Composition
from latdyn.thermo import debye_dos, heat_capacity
from latdyn.units import KB_MEV_PER_K

T, M = 300.0, 40.0


def _known_dos():
    e = np.linspace(0, 40, 801)
    g = (np.where(e < 15, (e / 15) ** 2, np.exp(-((e - 15) ** 2) / 8)) * (e <= 25)
         + 1.2 * np.exp(-0.5 * ((e - 32) / 2.0) ** 2))
    return DensityOfStates.from_arrays(e, g)


@pytest.fixture(scope="module")
def expansion():
    return PhononExpansion.from_dos(_known_dos(), T, M, step=0.02, n_max=8)


def test_terms_have_unit_area_detailed_balance_and_recoil_sum_rule(expansion):
    e = np.linspace(-330, 330, 66001)
    kt = KB_MEV_PER_K * T
    for n in (1, 2, 3):
        tn = expansion.term(n, e)
        assert np.trapezoid(tn, e) == pytest.approx(1.0, abs=2e-3)
        i = np.searchsorted(e, [-12.0, 12.0])
        assert tn[i[0]] / tn[i[1]] == pytest.approx(np.exp(-12.0 / kt), rel=1e-3)
    # first moment of S(Q,E) equals the recoil energy (Placzek)
    q = 6.0
    s = expansion.sqe([q], e)[0]
    assert np.trapezoid(s * e, e) == pytest.approx(recoil_energy(q, M), rel=2e-3)


def test_debye_waller_of_a_debye_solid_high_t():
    theta = 300.0
    e = np.linspace(0, KB_MEV_PER_K * theta, 2001)
    x = PhononExpansion.from_dos(DensityOfStates.from_arrays(e, debye_dos(e, theta)), 3000.0, 50.0, n_max=2)
    # high-T Debye: <u_x^2> = 3 hbar^2 T / (M k_B theta^2)
    expected = 3 * recoil_energy(1.0, 50.0) * 2 * KB_MEV_PER_K * 3000.0 / (KB_MEV_PER_K * theta) ** 2
    assert x.msd() == pytest.approx(expected, rel=2e-3)


def _simulated(noise: bool):
    d = _known_dos()
    q = np.linspace(0.2, 12, 119)
    e = np.arange(-20, 90, 0.5)
    sim = incoherent_sqe(q, e, d, T, M, n_max=12, step=0.005, elastic_fwhm=2.0)
    cov = coverage_direct(100.0, 3.0, 135.0)
    inside = cov.contains(q[:, None], e[None, :])
    if noise:
        counts = np.random.default_rng(1).poisson(np.where(inside, 2e5 * sim.values, 0)).astype(float)
        da = make_sqe(q, e, counts, np.sqrt(np.maximum(counts, 1.0)))
    else:
        da = make_sqe(q, e, sim.values, np.full(sim.shape, 1e-6))
    da.masks["coverage"] = sc.array(dims=["Q", "E"], values=~inside)
    return d, da


@pytest.mark.parametrize("noise, l1_tol, max_tol", [(False, 5e-3, 0.01), (True, 0.02, 0.05)])
def test_round_trip_returns_the_dos(noise, l1_tol, max_tol):
    d, da = _simulated(noise)
    res = generalized_dos(da, T, M, q_range=(1.0, 11.0), e_range=(4.0, 85.0))
    assert res.converged and res.multiphonon_fraction > 0.3   # multiphonon really matters
    e = res.dos.energy
    g = res.dos.g
    g_true = np.interp(e, d.energy, d.g)
    assert np.trapezoid(g, e) == pytest.approx(3.0, rel=1e-6)
    l1 = np.trapezoid(np.abs(g - g_true), e) / np.trapezoid(g_true, e)
    sel = g_true > 0.1 * g_true.max()
    worst = np.max(np.abs(g - g_true)[sel] / g_true[sel])
    assert l1 < l1_tol and worst < max_tol
    assert res.msd == pytest.approx(PhononExpansion.from_dos(d, T, M).msd(), rel=0.01)


def test_without_multiphonon_correction_the_dos_is_wrong():
    d, da = _simulated(False)
    res = generalized_dos(da, T, M, q_range=(1.0, 11.0), e_range=(4.0, 85.0), max_iter=1)
    e = res.dos.energy
    g_true = np.interp(e, d.energy, d.g)
    assert np.trapezoid(np.abs(res.dos.g - g_true), e) / 3.0 > 0.1


def test_the_generalised_dos_is_a_density_of_states():
    _, da = _simulated(False)
    res = generalized_dos(da, T, M, q_range=(1.0, 11.0), e_range=(4.0, 85.0), max_iter=2)
    d = res.dos
    assert isinstance(d, DensityOfStates) and d.weighting == "neutron" and d.labels == ("generalised",)
    assert d.total.variances is not None and d.total.name == "generalised DOS"
    assert d.energy[0] == 0.0 and not d.histogram
    # thermodynamics of the object and of its DataArray (the former GDOSResult.dos) agree
    t = np.array([50.0, 300.0])
    np.testing.assert_array_equal(heat_capacity(d, t), heat_capacity(d.total, t))
    with pytest.raises(InputError, match="already neutron-weighted"):
        d.neutron_weighted()


def test_bad_input():
    _, da = _simulated(False)
    with pytest.raises(InputError, match="Q range"):
        generalized_dos(da, T, M, q_range=(0.05, 11.0), e_range=(4.0, 85.0))
    with pytest.raises(InputError, match="E range"):
        generalized_dos(da, T, M, q_range=(1.0, 11.0), e_range=(4.0, 120.0))
    with pytest.raises(InputError, match="temperature"):
        generalized_dos(da, 0.0, M, q_range=(1.0, 11.0), e_range=(4.0, 85.0))
    with pytest.raises(InputError, match="mass"):
        generalized_dos(da, T, -1.0, q_range=(1.0, 11.0), e_range=(4.0, 85.0))


def test_neutron_weights_and_effective_mass():
    w = sigma_over_mass_weights("NaCl")
    comp = Composition("NaCl")
    som = comp.sigma_over_mass()
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["Na"] / w["Cl"] == pytest.approx(som["Na"] / som["Cl"])
    na, cl = (a for a, _ in comp.atoms)
    m = effective_mass("NaCl")
    assert 1 / m == pytest.approx((na.sigma_scatt / na.mass + cl.sigma_scatt / cl.mass)
                                  / (na.sigma_scatt + cl.sigma_scatt))
    e = np.linspace(0, 30, 301)
    g_na, g_cl = np.exp(-0.5 * ((e - 20) / 2) ** 2), np.exp(-0.5 * ((e - 10) / 2) ** 2)
    gn = neutron_weighted_dos(e, {"Na": (e, g_na), "Cl": (e, g_cl)}, "NaCl")
    assert np.trapezoid(gn.values, e) == pytest.approx(3.0, rel=1e-3)
    assert gn.values[200] / gn.values[100] == pytest.approx(w["Na"] / w["Cl"], rel=1e-3)
    with pytest.raises(InputError, match="partial DOS"):
        neutron_weighted_dos(e, {"Na": (e, g_na)}, "NaCl")


def test_compound_sqe_is_the_weighted_sum():
    e = np.linspace(0, 30, 301)
    g = e**2 * (e < 25)
    q, en = np.array([2.0, 5.0]), np.linspace(-10, 40, 101)
    s = neutron_weighted_sqe(q, en, {"Na": (e, g), "Cl": (e, g)}, "NaCl", T)
    na = incoherent_sqe(q, en, (e, g), T, Composition("Na").mass)
    cl = incoherent_sqe(q, en, (e, g), T, Composition("Cl").mass)
    comp = Composition("NaCl")
    sna, scl = (a.sigma_scatt for a, _ in comp.atoms)
    np.testing.assert_allclose(s.values, (sna * na.values + scl * cl.values) / (sna + scl), rtol=1e-10)
