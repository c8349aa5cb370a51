"""One structure object for diffraction and phonons: a phonon cell becomes a latdyn.structure
Crystal (with the phonon Debye-Waller factors as ADPs) and a Crystal gives the species
(isotopes) of a force-constant model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.diffraction import structure_factor
from latdyn.errors import InputError
from latdyn.phonons import PhononCrystal, load_phonopy
from latdyn.phonons.debye_waller import debye_waller
from latdyn.phonons.modes import calculate_modes
from latdyn.structure import Crystal, Lattice, Site, SpaceGroup, write_cif

A_NACL = 5.69030148          # the cell of the phonondb NaCl calculation, angstrom
HKL = np.array([[1, 1, 1], [2, 0, 0], [2, 2, 0], [3, 1, 1], [4, 2, 2], [5, 3, 1], [1, 2, 3]])


def _rocksalt(na="Na", cl="Cl", a=A_NACL, occupancy=1.0):
    sites = [Site("Na1", na, (0.0, 0.0, 0.0), occupancy), Site("Cl1", cl, (0.5, 0.5, 0.5))]
    return Crystal(Lattice(a, a, a), sites, SpaceGroup.from_symbol("F m -3 m"), title="NaCl")


def _phonon_amplitude(cell: Crystal, hkl, dw):
    """F(hkl) = sum_k b_k exp(i Q.r_k) exp(-Q^T W_k Q) from the phonon side (fm)."""
    q = np.asarray(hkl, float) @ cell.reciprocal
    return np.sum(cell.b_coh * np.exp(1j * q @ cell.r_cart.T)
                  * np.exp(-np.einsum("qa,kab,qb->qk", q, dw, q)), axis=1)


def test_to_crystal_carries_species_and_phonon_adps(nacl_model):
    w = debye_waller(nacl_model, 300.0, 4)
    cr = nacl_model.crystal.with_debye_waller(w)
    assert len(cr.atoms) == 8 and cr.space_group.symbol in ("P 1", "P1")
    assert list(cr.atoms.species) == list(nacl_model.crystal.symbols)
    assert np.allclose(cr.atoms.u_iso, np.trace(2 * w, axis1=1, axis2=2) / 3, rtol=1e-12)
    assert cr.formula == "Na4Cl4"
    # diffraction |F| with the phonon Debye-Waller factors = the phonon-side sum
    f = structure_factor(cr, HKL)
    ref = _phonon_amplitude(nacl_model.crystal, HKL, w)
    assert np.allclose(f, ref, rtol=1e-12, atol=1e-12)
    # and the thermal factor matters: at 300 K the (5,3,1) reflection is damped by > 10 %
    static = structure_factor(cr, HKL, debye_waller=False)
    assert abs(f[5]) < 0.9 * abs(static[5])


def test_to_crystal_in_a_rotated_frame(nacl_model, nacl_rotated):
    """ADPs are turned into the CIF convention with the cell's own orientation."""
    w = debye_waller(nacl_rotated, 300.0, 3)
    cr = nacl_rotated.crystal.with_debye_waller(w)
    ref = _phonon_amplitude(nacl_rotated.crystal, HKL, w)
    assert np.allclose(structure_factor(cr, HKL), ref, rtol=1e-10, atol=1e-12)
    w0 = debye_waller(nacl_model, 300.0, 3)
    assert np.allclose(cr.atoms.u_cif, nacl_model.crystal.with_debye_waller(w0).atoms.u_cif,
                       atol=1e-12)


@pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")
def test_from_crystal_round_trip_and_partial_occupancy(nacl_model):
    """The deprecated PhononCrystal.from_crystal / to_crystal (one release) still work."""
    cell = PhononCrystal.from_crystal(nacl_model.crystal.to_crystal())
    assert cell.symbols == nacl_model.crystal.symbols
    assert np.allclose(cell.cell, nacl_model.crystal.cell)
    assert np.allclose(cell.positions, nacl_model.crystal.positions)
    assert np.allclose(cell.masses, nacl_model.crystal.masses, rtol=1e-4)
    fm3m = PhononCrystal.from_crystal(_rocksalt(cl="37Cl"))
    assert fm3m.n_atoms == 8 and fm3m.symbols.count("37Cl") == 4
    assert fm3m.masses[fm3m.symbols.index("37Cl")] == pytest.approx(36.966, abs=1e-3)
    with pytest.raises(InputError, match="occupancy"):
        PhononCrystal.from_crystal(_rocksalt(occupancy=0.9))


def test_load_with_a_crystal_takes_its_isotopes(nacl_dir):
    path = nacl_dir / "phonopy_nacl.yaml"
    by_crystal = load_phonopy(path, crystal=_rocksalt(cl="37Cl"))
    by_mapping = load_phonopy(path, isotopes={"Cl": "37Cl"})
    plain = load_phonopy(path, crystal=_rocksalt())
    assert by_crystal.crystal.symbols == by_mapping.crystal.symbols
    assert np.array_equal(by_crystal.crystal.masses, by_mapping.crystal.masses)
    assert np.array_equal(by_crystal.crystal.b_coh, by_mapping.crystal.b_coh)
    assert np.array_equal(plain.crystal.masses, load_phonopy(path).crystal.masses)
    q = np.array([[0.3, 0.1, 0.2]])
    e_iso = calculate_modes(by_crystal, q).energies
    assert np.allclose(e_iso, calculate_modes(by_mapping, q).energies, rtol=1e-13)
    assert e_iso[0, -1] < calculate_modes(plain, q).energies[0, -1]


@pytest.mark.parametrize("crystal, match", [
    (lambda: _rocksalt(na="K"), "Na in the force constants but K"),
    (lambda: _rocksalt(a=5.5), "matches neither"),
    (lambda: Crystal(Lattice(A_NACL, A_NACL, A_NACL), [Site("Na1", "Na", (0.1, 0, 0)),
                                                         Site("Cl1", "Cl", (0.5, 0.5, 0.5))],
                     SpaceGroup.from_symbol("F m -3 m")), "no atom of the Crystal"),
])
def test_crystal_that_does_not_fit(nacl_dir, crystal, match):
    with pytest.raises(InputError, match=match):
        load_phonopy(nacl_dir / "phonopy_nacl.yaml", crystal=crystal())


def test_crystal_and_isotopes_together_is_an_error(nacl_dir):
    with pytest.raises(InputError, match="not both"):
        load_phonopy(nacl_dir / "phonopy_nacl.yaml", crystal=_rocksalt(), isotopes={"Cl": "37Cl"})


def test_cli_crystal_from_cif(nacl_dir, tmp_path, capsys):
    cif = tmp_path / "nacl_37cl.cif"
    write_cif(_rocksalt(cl="37Cl"), cif)
    args = ["phonons", "modes", str(nacl_dir / "phonopy_nacl.yaml"), "--q", "0.3,0.1,0.2", "--json"]
    assert main(args) == 0
    plain = json.loads(capsys.readouterr().out)["rows"]
    assert main(args + ["--crystal", str(cif)]) == 0
    heavy = json.loads(capsys.readouterr().out)["rows"]
    assert heavy[-1]["E"] < plain[-1]["E"]
