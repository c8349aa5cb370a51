"""The phonon DOS as a DensityOfStates: partials per site, the former PhononDOS arrays, and the
thermodynamics of NaCl unchanged by the move from latdyn.thermo.dos."""

import numpy as np
import pytest
import scipp as sc

from latdyn.data import DensityOfStates
from latdyn.phonons import PhononDOS, load_phonopy, phonon_dos
from latdyn.thermo import thermodynamics

T = np.array([20.0, 100.0, 300.0])
# thermodynamics(phonon_dos(model, 8, linspace(0, 35, 351)).total, T) of the non-polar NaCl
# model, computed with latdyn.thermo.dos before it became latdyn.data.DensityOfStates
# (commit fec6d7f)
CV_BEFORE = [0.9297514711093341, 18.206256512547085, 24.023153694978294]
S_BEFORE = [0.28104232904558635, 13.426703534788782, 37.51359683793612]
ZPE_BEFORE = 2426.116138324058


@pytest.fixture(scope="module")
def nacl_dos(nacl_dir):
    model = load_phonopy(nacl_dir / "phonopy_nacl.yaml", nac=False)
    return model, phonon_dos(model, 8, np.linspace(0.0, 35.0, 351))


def test_heat_capacity_is_what_it_was(nacl_dos):
    _, dos = nacl_dos
    assert isinstance(dos, DensityOfStates)
    for d in (dos, dos.total, dos.per_formula_unit()):
        tab = thermodynamics(d, T)
        np.testing.assert_allclose(tab["Cv"], CV_BEFORE, rtol=1e-12)
        np.testing.assert_allclose(tab["S"], S_BEFORE, rtol=1e-12)
        assert tab["ZPE"] == pytest.approx(ZPE_BEFORE, rel=1e-12)


def test_sites_species_and_the_former_arrays(nacl_dos):
    model, dos = nacl_dos
    c = model.crystal
    assert dos.labels == ("Na1", "Na2", "Na3", "Na4", "Cl1", "Cl2", "Cl3", "Cl4")
    assert dos.atoms_per_formula_unit == 8 and dos.per == "primitive cell" and dos.histogram
    for lab in dos.labels:
        assert dos.integral(lab) == pytest.approx(3.0, rel=1e-10)
    de = np.diff(dos.energy)
    assert np.sum(dos.per_formula_unit().values * de) == pytest.approx(24.0, rel=1e-10)
    species = dos.by_species()
    assert species.labels == ("Na", "Cl") and list(species.counts) == [4.0, 4.0]
    with pytest.deprecated_call():
        old = PhononDOS.from_density_of_states(dos)
    # the former PhononDOS built these from the site partials (phonons/dos.py at fec6d7f)
    site = [dos.partials[k] for k in range(c.n_atoms)]
    for lab, v in zip(dos.labels, site, strict=True):
        assert sc.identical(old.sites[lab], dos.partial(lab, per_formula_unit=True))
        np.testing.assert_array_equal(old.sites[lab].values, v)
    for el in c.elements:
        expected = sum(site[k] for k in range(c.n_atoms) if c.symbols[k] == el)
        np.testing.assert_array_equal(old.elements[el].values, expected)
        np.testing.assert_allclose(species.partial(el, per_formula_unit=True).values, expected,
                                   rtol=1e-13)
    sig = (c.sigma_coh + c.sigma_inc) / c.masses
    np.testing.assert_array_equal(old.neutron_weighted.values,
                                  sum(sig[k] * site[k] for k in range(c.n_atoms)) * 1e3)
    assert old.neutron_weighted.unit == sc.Unit("mbarn/meV")
    np.testing.assert_allclose(dos.neutron_weighted(normalise=False).values,
                               old.neutron_weighted.values, rtol=1e-13)
    np.testing.assert_allclose(old.total.values, sum(site), rtol=1e-13)
    with pytest.deprecated_call():
        assert sc.identical(dos.sites["Cl2"], old.sites["Cl2"])
    # normalised neutron weighting: area 3
    gn = dos.neutron_weighted()
    assert np.sum(gn.values * de) == pytest.approx(3.0, rel=1e-10)
