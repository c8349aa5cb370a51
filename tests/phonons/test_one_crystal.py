"""The phonon model holds a latdyn.structure.Crystal: its atoms keep the order of the force
constants, its per-atom data follow isotopes and file masses, and the old PhononCrystal API is a
deprecated alias that gives the same Crystal."""

from __future__ import annotations

import importlib
import sys
import warnings

import numpy as np
import pytest
import yaml

from latdyn.errors import InputError
from latdyn.phonons import ForceConstants, PhononCrystal, load_phonopy, phonon_crystal
from latdyn.phonons.modes import calculate_modes
from latdyn.scattering import nuclide
from latdyn.structure import Crystal, Lattice, Site, SpaceGroup


def _phonopy_primitive(path):
    """(cell, scaled positions, symbols, masses) of phonopy's own primitive cell of a yaml."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    d = yaml.safe_load(path.read_text())
    pts = d["unit_cell"]["points"]
    atoms = PhonopyAtoms(symbols=[p["symbol"] for p in pts], cell=d["unit_cell"]["lattice"],
                         scaled_positions=[p["coordinates"] for p in pts],
                         masses=[p["mass"] for p in pts])
    prim = Phonopy(atoms, supercell_matrix=d["supercell_matrix"], primitive_matrix="P").primitive
    return prim.cell, prim.scaled_positions, list(prim.symbols), prim.masses


def test_model_crystal_is_a_crystal_in_phonopys_atom_order(nacl_dir, nacl_model):
    cell, frac, symbols, masses = _phonopy_primitive(nacl_dir / "phonopy_nacl.yaml")
    c = nacl_model.crystal
    assert isinstance(c, Crystal) and c.space_group.number == 1
    assert c.symbols == tuple(symbols)                       # the order of the force constants
    assert np.array_equal(c.positions, frac - np.floor(frac))
    assert np.array_equal(c.lattice.matrix, cell)             # the calculation's Cartesian frame
    assert np.array_equal(c.masses, masses)                   # the file's masses, not the table's
    assert c.n_atoms == 8 and isinstance(c.n_atoms, int)
    assert [s.label for s in c.sites] == ["Na1", "Na2", "Na3", "Na4", "Cl1", "Cl2", "Cl3", "Cl4"]
    np.testing.assert_allclose(c.lattice.matrix @ c.reciprocal.T, 2 * np.pi * np.eye(3), atol=1e-12)
    np.testing.assert_allclose(c.r_cart, frac @ cell, atol=1e-12)
    assert np.array_equal(c.b_coh, [nuclide(s).b_coh for s in symbols])
    assert np.array_equal(c.sigma_inc, [nuclide(s).sigma_inc for s in symbols])


def test_atom_order_never_changes():
    """P1 atoms keep the order given (any permutation); a symmetric crystal lists site by site,
    images in operation order, and its P1 copy keeps that order."""
    rng = np.random.default_rng(3)
    frac = rng.random((7, 3))
    species = ["Li", "O", "7Li", "O", "D", "Si", "O"]
    for order in (np.arange(7), np.arange(7)[::-1], rng.permutation(7)):
        c = Crystal.from_atoms(np.diag([4.0, 5.0, 6.0]), frac[order], [species[i] for i in order],
                               masses=np.arange(1.0, 8.0)[order])
        assert c.symbols == tuple(species[i] for i in order)
        assert np.array_equal(c.positions, frac[order])
        assert np.array_equal(c.masses, np.arange(1.0, 8.0)[order])
        assert np.array_equal(c.to_p1().positions, c.positions)
    sg = SpaceGroup.from_symbol("F m -3 m")
    rock = Crystal(Lattice(5.6, 5.6, 5.6), [Site("Na1", "Na", (0, 0, 0)),
                                            Site("Cl1", "Cl", (0.5, 0.5, 0.5))], sg)
    at = rock.atoms
    assert list(at.site) == [0] * 4 + [1] * 4
    assert all(np.all(np.diff(at.op[at.site == s]) > 0) for s in (0, 1))
    again = Crystal(rock.lattice, rock.sites, sg)
    assert np.array_equal(again.positions, rock.positions) and again.symbols == rock.symbols
    p1 = rock.to_p1()
    assert np.array_equal(p1.positions, rock.positions) and p1.symbols == rock.symbols
    assert [s.label for s in p1.sites] == ["Na1", "Na2", "Na3", "Na4", "Cl1", "Cl2", "Cl3", "Cl4"]


def test_permuted_atoms_give_the_same_energies(nacl_model):
    """Force constants depend on the atom order: the same permutation of the atoms and of the
    force-constant rows and columns gives the same energies; the atoms alone do not."""
    c = nacl_model.crystal
    perm = np.array([4, 0, 5, 1, 6, 2, 7, 3])
    turned = phonon_crystal(c.cell, c.positions[perm], [c.symbols[i] for i in perm], c.masses[perm])
    assert turned.symbols == tuple(c.symbols[i] for i in perm)
    idx = (3 * perm[:, None] + np.arange(3)).ravel()
    blocks = nacl_model.short_blocks[:, idx][:, :, idx]
    q = np.array([[0.1, 0.2, 0.3], [0.5, 0.0, 0.25]])
    ref = calculate_modes(ForceConstants(c, nacl_model.short_cells, nacl_model.short_blocks),
                          q).energies
    same = calculate_modes(ForceConstants(turned, nacl_model.short_cells, blocks), q).energies
    np.testing.assert_allclose(same, ref, rtol=1e-10, atol=1e-8)
    wrong = calculate_modes(ForceConstants(turned, nacl_model.short_cells,
                                           nacl_model.short_blocks), q).energies
    assert np.max(np.abs(wrong - ref)) > 0.1


def test_isotopes_masses_and_tables():
    cell = np.diag([3.0, 3.0, 3.0])
    frac = [[0, 0, 0], [0.5, 0.5, 0.5]]
    c = Crystal.from_atoms(cell, frac, ["H", "Li"], masses=[1.1, 6.9], isotopes={"H": "D"})
    assert c.symbols == ("D", "Li")
    assert c.masses[0] == pytest.approx(nuclide("D").mass) and c.masses[1] == 6.9
    assert c.b_coh[0] == nuclide("D").b_coh
    per_atom = c.with_isotopes(["D", "7Li"])
    assert per_atom.symbols == ("D", "7Li") and per_atom.masses[1] == pytest.approx(nuclide("7Li").mass)
    assert [s.label for s in per_atom.sites] == [s.label for s in c.sites]
    rauch = Crystal.from_atoms(cell, frac, ["V", "V"], table="rauch")
    assert rauch.b_coh[0] == nuclide("V", table="rauch").b_coh != nuclide("V").b_coh
    with pytest.raises(InputError, match="isotopes"):
        Crystal.from_atoms(cell, frac, ["H", "Li"], isotopes=["D"])
    with pytest.raises(InputError, match="mass"):
        Crystal.from_atoms(cell, frac, ["H", "Li"], masses=[1.0, -2.0])
    with pytest.raises(InputError, match="table"):
        Crystal.from_atoms(cell, frac, ["H", "Li"], table="nist")
    with pytest.raises(InputError, match="occupancy"):
        ForceConstants(Crystal.from_atoms(cell, frac, ["H", "Li"], occupancy=[1.0, 0.5]),
                       [[0, 0, 0]], np.zeros((1, 6, 6)))


def test_deprecated_phonon_crystal_alias(nacl_model):
    c = nacl_model.crystal
    with pytest.warns(DeprecationWarning, match="PhononCrystal.build"):
        built = PhononCrystal.build(c.cell, c.positions, c.symbols, c.masses, isotopes={"Cl": "37Cl"})
    new = phonon_crystal(c.cell, c.positions, c.symbols, c.masses, isotopes={"Cl": "37Cl"})
    assert isinstance(built, Crystal) and built.symbols == new.symbols
    assert np.array_equal(built.masses, new.masses)
    with pytest.warns(DeprecationWarning, match="PhononCrystal"):
        direct = PhononCrystal(cell=c.cell, positions=c.positions, symbols=c.symbols,
                               masses=c.masses, nuclides=c.nuclides)
    assert np.array_equal(direct.masses, c.masses) and isinstance(c, PhononCrystal)
    with pytest.warns(DeprecationWarning, match="from_crystal"):
        back = PhononCrystal.from_crystal(c)
    assert back.symbols == c.symbols and np.array_equal(back.positions, c.positions)
    w = np.tile(np.eye(3) * 0.004, (8, 1, 1))
    with pytest.warns(DeprecationWarning, match="to_crystal"):
        old = c.to_crystal(dw=w)
    np.testing.assert_array_equal(old.atoms.u_cif, c.with_debye_waller(w).atoms.u_cif)
    with pytest.warns(DeprecationWarning, match="input_matrix"):
        assert np.array_equal(c.lattice.input_matrix, c.lattice.matrix)


@pytest.mark.parametrize("old, new", [("latdyn.phonons.structure_factor", "latdyn.phonons.one_phonon"),
                                      ("latdyn.phonons.spectra", "latdyn.convolution.broadening")])
def test_deprecated_module_aliases(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new):
        mod = importlib.import_module(old)
    target = importlib.import_module(new)
    assert all(getattr(mod, name) is getattr(target, name) for name in mod.__all__)


def test_load_phonopy_isotopes_keep_order_and_labels(nacl_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = load_phonopy(nacl_dir / "phonopy_nacl.yaml", isotopes={"Cl": "37Cl"})
    c = m.crystal
    assert c.symbols == ("Na",) * 4 + ("37Cl",) * 4
    assert [s.label for s in c.sites][4:] == ["37Cl1", "37Cl2", "37Cl3", "37Cl4"]
    assert c.masses[4] == pytest.approx(nuclide("37Cl").mass)
