"""DensityOfStates: normalisation 3 per atom, partial sum rule, neutron weighting against a hand
computation, the thermodynamic quadrature, scipp and HDF5 round trips, bad input, aliases."""

import importlib
import sys

import numpy as np
import pytest
import scipp as sc

from latdyn.data import DensityOfStates, as_density_of_states
from latdyn.errors import InputError
from latdyn.scattering import nuclide, sigma_over_mass

E = np.linspace(0.0, 40.0, 401)


def _two_partials(normalise=True):
    g_na = np.exp(-0.5 * ((E - 25.0) / 3.0) ** 2)
    g_cl = 5.0 * np.exp(-0.5 * ((E - 12.0) / 2.0) ** 2)       # any scale: normalised to 3
    return DensityOfStates.from_arrays(E, np.array([g_na, g_cl]), labels=["Na", "Cl"],
                                       counts=[1.0, 3.0], errors=0.01 * np.ones((2, E.size)),
                                       normalise=normalise)


def test_partials_and_total_hold_three_states_per_atom():
    d = _two_partials()
    assert d.integral("Na") == pytest.approx(3.0, rel=1e-12)
    assert d.integral("Cl") == pytest.approx(3.0, rel=1e-12)
    assert d.integral() == pytest.approx(3.0, rel=1e-6)
    assert d.atoms_per_formula_unit == 4.0
    assert np.trapezoid(d.total.values, E) == pytest.approx(3.0, rel=1e-4)
    assert d.weights.sum() == pytest.approx(3.0, rel=1e-14)
    assert str(d.total.unit) == "1/meV" and str(d.total.coords["E"].unit) == "meV"


def test_partial_sum_rule_on_a_histogram():
    edges = np.linspace(0.0, 30.0, 61)
    rng = np.random.default_rng(3)
    g = rng.random((3, 60))
    d = DensityOfStates.from_arrays(edges, g, labels=["a", "b", "c"], counts=[2, 1, 0.5],
                                    species=["Li", "O", "O"])
    de = np.diff(edges)
    fu = d.per_formula_unit()
    assert np.sum(fu.values * de) == pytest.approx(3.0 * 3.5, rel=1e-12)
    np.testing.assert_allclose(fu.values, sum(d.partial(k, per_formula_unit=True).values
                                              for k in d.labels), rtol=1e-13)
    np.testing.assert_allclose(d.total.values * 3.5, fu.values, rtol=1e-13)
    s = d.by_species()
    assert s.labels == ("Li", "O") and list(s.counts) == [2.0, 1.5]
    assert s.integral("O") == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_allclose(s.total.values, d.total.values, rtol=1e-13)
    # partial(label) is per atom of the label, per_formula_unit=True multiplies by n_k
    np.testing.assert_allclose(d.partial("a", per_formula_unit=True).values,
                               2 * d.partial("a").values, rtol=1e-15)


def test_neutron_weighting_against_a_hand_computation():
    d = _two_partials()
    na, cl = nuclide("Na"), nuclide("Cl")
    w_na = (na.sigma_coh + na.sigma_inc) / na.mass
    w_cl = (cl.sigma_coh + cl.sigma_inc) / cl.mass
    # Sears 1992 total bound scattering cross sections (3 digits): Na 3.28 b, Cl 16.8 b
    assert w_na == pytest.approx(3.28 / 22.98977, rel=2e-3)
    assert w_cl == pytest.approx(16.8 / 35.453, rel=2e-3)
    np.testing.assert_allclose(sigma_over_mass(["Na", "Cl"]), [w_na, w_cl], rtol=1e-15)
    g_na, g_cl = d.partial("Na").values, d.partial("Cl").values
    expected = (1 * w_na * g_na + 3 * w_cl * g_cl) / (1 * w_na + 3 * w_cl)
    gn = d.neutron_weighted()
    np.testing.assert_allclose(gn.values, expected, rtol=1e-13)
    assert np.trapezoid(gn.values, E) == pytest.approx(3.0, rel=1e-4)
    absolute = d.neutron_weighted(normalise=False)
    assert absolute.unit == sc.Unit("mbarn/meV")
    np.testing.assert_allclose(absolute.values, 1e3 * (w_na * g_na + 3 * w_cl * g_cl), rtol=1e-13)
    # variances follow the same linear combination
    c = np.array([w_na, 3 * w_cl]) / (w_na + 3 * w_cl)
    np.testing.assert_allclose(gn.variances, (c**2) @ d.variances, rtol=1e-13)
    # a mass given per label replaces the table's
    heavy = DensityOfStates.from_arrays(E, g_na, labels=["Na"], masses=[2 * na.mass])
    assert heavy.neutron_weights()[0] == pytest.approx(w_na / 2, rel=1e-14)
    assert d.neutron_weights(kind="incoherent")[0] == pytest.approx(na.sigma_inc / na.mass)


def test_quadrature_matches_the_debye_law_and_moments():
    e_d = 25.0
    e = np.linspace(0.0, e_d, 2001)
    d = DensityOfStates.from_arrays(e, 9 * e**2 / e_d**3)
    # Debye moments <E> = 3 E_D / 4, <E^2> = 3 E_D^2 / 5, <E^-2> = 3 / E_D^2; measured errors
    # of the piecewise-linear E^2 on 2001 points: 4e-8, 6e-8, 8e-5
    assert d.mean_energy == pytest.approx(0.75 * e_d, rel=1e-6)
    assert d.moment(2.0) == pytest.approx(0.6 * e_d**2, rel=1e-6)
    assert d.moment(-2.0) == pytest.approx(3.0 / e_d**2, rel=2e-4)
    assert d.integrate(lambda x: np.ones_like(x)) == pytest.approx(3.0, rel=1e-14)


def test_scipp_and_file_round_trips(tmp_path):
    d = _two_partials()
    edges = DensityOfStates.from_arrays(np.linspace(0, 10, 11), np.arange(1.0, 11.0),
                                        masses=[12.0], species=["C"], per="primitive cell")
    gen = DensityOfStates.from_arrays(E, np.ones(E.size), labels=["generalised"],
                                      weighting="neutron", normalise=False, name="generalised DOS")
    for k, x in enumerate((d, edges, gen)):
        da = x.to_dataarray()
        assert da.dims == ("label", "E")
        back = DensityOfStates.from_dataarray(da, normalise=False)
        assert sc.identical(back.to_dataarray(), da)
        path = x.write(tmp_path / f"dos{k}.h5")
        read = DensityOfStates.read(path)
        assert sc.identical(read.to_dataarray(), da)
        assert read.histogram == x.histogram and read.per == x.per and read.name == x.name
        assert read.weighting == x.weighting and read.labels == x.labels
        np.testing.assert_allclose(read.weights, x.weights, rtol=1e-14)
    assert sc.identical(DensityOfStates.read(tmp_path / "dos0.h5").total, d.total)
    # the one-dimensional DataArray of a DOS (as in a CSV file) is normalised on request
    one = DensityOfStates.from_dataarray(d.total * sc.scalar(7.0))
    np.testing.assert_allclose(one.g, d.g, rtol=1e-12)


def test_as_density_of_states_and_bad_input():
    d = _two_partials()
    assert as_density_of_states(d) is d
    np.testing.assert_allclose(as_density_of_states((E, 2 * d.g)).g, d.g, rtol=1e-12)
    with pytest.raises(InputError, match="energies must be >= 0"):
        as_density_of_states(DensityOfStates.from_arrays(E - 1.0, d.g, normalise=False))
    with pytest.raises(InputError, match="finite and >= 0"):
        as_density_of_states(DensityOfStates.from_arrays(E, d.g - 0.1, normalise=False))
    with pytest.raises(InputError, match="no partial DOS 'K'"):
        d.partial("K")
    with pytest.raises(InputError, match="labels"):
        DensityOfStates.from_arrays(E, np.ones((2, E.size)))
    with pytest.raises(InputError, match="atom count"):
        DensityOfStates.from_arrays(E, np.ones((2, E.size)), labels=["a", "b"], counts=[1, 0])
    with pytest.raises(InputError, match="already neutron-weighted"):
        DensityOfStates.from_arrays(E, np.ones(E.size), weighting="neutron").neutron_weighted()
    with pytest.raises(InputError, match="no neutron data for species 'total'"):
        DensityOfStates.from_arrays(E, np.ones(E.size)).neutron_weighted()
    with pytest.raises(InputError, match="a weight is needed"):
        d.weighted({"Na": 1.0})
    with pytest.raises(InputError, match="1/energy"):
        DensityOfStates.from_dataarray(d.total * sc.scalar(1.0, unit="m"), normalise=False)


def test_a_dos_that_misses_modes_warns_in_the_integrals():
    d = DensityOfStates.from_arrays(np.linspace(0, 10, 11), np.full(10, 0.2), normalise=False)
    with pytest.warns(UserWarning, match="integral 2 states per atom"):
        assert d.integrate(lambda e: np.ones_like(e)) == pytest.approx(3.0)


def test_deprecated_aliases():
    from latdyn import thermo, units
    from latdyn.thermo import harmonic, transport

    with pytest.deprecated_call():
        d = thermo.as_dos(E, np.ones(E.size))
    assert isinstance(d, DensityOfStates)
    with pytest.deprecated_call():
        assert thermo.DOS is DensityOfStates
    assert harmonic.check_temperature is units.check_temperature
    assert transport.lifetime is units.lifetime and thermo.mean_free_path is units.mean_free_path
    for name in ("latdyn.phonons.dos", "latdyn.md.dos"):
        sys.modules.pop(name, None)
        with pytest.deprecated_call():
            importlib.import_module(name)
