import numpy as np
import pytest

from latdyn.errors import FormatError, InputError
from latdyn.structure import (
    Crystal,
    Lattice,
    Site,
    SpaceGroup,
    read_cif,
    species_from_type_symbol,
    write_cif,
)


def _match(frac_a, frac_b):
    """Index j in b of each position in a (periodic), and the largest mismatch."""
    d = frac_a[:, None, :] - frac_b[None, :, :]
    d -= np.round(d)
    dist = np.linalg.norm(d, axis=2)
    j = np.argmin(dist, axis=1)
    return j, dist[np.arange(len(j)), j].max()


@pytest.mark.parametrize("name", ["TiO2_rutile_aniso", "Al2O3_corundum_aniso", "AgI_alpha"])
def test_expansion_and_rotated_uij_match_diffpy(cif_dir, name):
    diffpy_structure = pytest.importorskip("diffpy.structure")
    path = cif_dir / f"{name}.cif"
    ours = read_cif(path)
    ref = diffpy_structure.loadStructure(str(path))
    assert len(ours.atoms) == len(ref)
    j, worst = _match(ours.atoms.frac, np.mod(ref.xyz, 1.0))
    assert worst < 1e-9
    assert len(set(j)) == len(j)
    u_ref = np.array([a.U for a in ref])[j]
    np.testing.assert_allclose(ours.atoms.u_cif, u_ref, atol=1e-12)
    np.testing.assert_allclose(ours.atoms.occupancy, np.asarray(ref.occupancy)[j], atol=1e-12)
    # the rotated tensors differ between images (the test is not trivially passed by copying)
    if "aniso" in name:
        per_site = ours.atoms.u_cif[ours.atoms.site == 1]
        assert np.ptp(per_site, axis=0).max() > 1e-4


def test_special_position_counts_and_partial_occupancy(cif_dir):
    agi = read_cif(cif_dir / "AgI_alpha.cif")
    assert list(agi.site_multiplicities()) == [2, 12]
    assert agi.composition["Ag"] == pytest.approx(2.0, rel=1e-4)
    assert agi.atoms_per_cell == pytest.approx(4.0, rel=1e-4)
    assert agi.n_atoms == len(agi.atoms) == 14         # positions in the cell, whatever the occupancy
    assert agi.number_density == pytest.approx(4.0 / 5.07**3, rel=1e-4)
    si = read_cif(cif_dir / "Si.cif")
    assert len(si.atoms) == 8 and si.space_group.number == 227
    # nearest-neighbour distance of diamond: sqrt(3) a / 4
    d = si.atoms.cart[:, None] - si.atoms.cart[None]
    cells = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    shifts = cells @ si.lattice.matrix
    dist = np.linalg.norm(d[:, :, None, :] + shifts[None, None], axis=3)
    assert np.min(dist[dist > 0.1]) == pytest.approx(np.sqrt(3) * 5.431 / 4)


def test_b_values_and_aniso_convert(cif_dir):
    ni = read_cif(cif_dir / "Ni.cif")
    assert ni.sites[0].species == "Ni"
    assert ni.atoms.u_iso[0] == pytest.approx(0.37 / (8 * np.pi**2))
    cor = read_cif(cif_dir / "Al2O3_corundum_aniso.cif")
    assert cor.sites[0].u_aniso[0][0] == pytest.approx(0.24 / (8 * np.pi**2))


def test_cif_round_trip(tmp_path, cif_dir):
    for name in ("TiO2_rutile_aniso", "AgI_alpha", "NaCl"):
        c = read_cif(cif_dir / f"{name}.cif")
        out = tmp_path / f"{name}.cif"
        write_cif(c, out)
        back = read_cif(out)
        assert back.lattice == c.lattice
        j, worst = _match(c.atoms.frac, back.atoms.frac)
        assert worst < 1e-9
        np.testing.assert_allclose(back.atoms.u_cart[j], c.atoms.u_cart, atol=1e-12)
        np.testing.assert_allclose(back.atoms.occupancy[j], c.atoms.occupancy)
        assert list(back.atoms.species[j]) == list(c.atoms.species)


def test_isotopes_and_type_symbols():
    assert species_from_type_symbol("O2-") == "O"
    assert species_from_type_symbol("Ag1+") == "Ag"
    assert species_from_type_symbol("7Li") == "7Li"
    assert species_from_type_symbol("D") == "D"
    assert species_from_type_symbol("Cl1") == "Cl"
    with pytest.raises(InputError, match="Xq"):
        species_from_type_symbol("Xq")


def test_from_atoms_p1_for_phonon_code():
    c = Crystal.from_atoms(np.eye(3) * 4.0, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Cs", "Cl"], u_iso=0.01)
    lattice, frac, numbers = c.to_spglib()
    assert list(numbers) == [55, 17] and frac.shape == (2, 3)
    assert c.to_ase().get_chemical_formula() == "ClCs"


def test_bad_inputs(cif_dir, tmp_path):
    with pytest.raises(FormatError, match="no unit cell.*bad_no_cell.cif.*_cell_length_a"):
        read_cif(cif_dir / "bad_no_cell.cif")
    with pytest.raises(InputError, match="unknown site symbol.*bad_symbol.cif.*Qx"):
        read_cif(cif_dir / "bad_symbol.cif")
    junk = tmp_path / "junk.cif"
    junk.write_text("this is not a cif\n")
    with pytest.raises(FormatError):
        read_cif(junk)
    with pytest.raises(InputError, match="occupancy"):
        Site("A", "Al", (0, 0, 0), occupancy=1.5)
    with pytest.raises(InputError, match="positive semi-definite"):
        Site("A", "Al", (0, 0, 0), u_aniso=(0.01, 0.01, -0.02, 0, 0, 0))
    with pytest.raises(InputError, match="unknown species"):
        Crystal(Lattice(4, 4, 4), [Site("A", "Zz", (0, 0, 0))], SpaceGroup.p1())


def test_deprecated_from_cif_to_cif(tmp_path, cif_dir):
    c = read_cif(cif_dir / "NaCl.cif")
    with pytest.warns(DeprecationWarning, match="write_cif"):
        c.to_cif(tmp_path / "x.cif")
    with pytest.warns(DeprecationWarning, match="read_cif"):
        back = Crystal.from_cif(tmp_path / "x.cif")
    assert back.symbols == c.symbols and np.allclose(back.positions, c.positions)


def test_per_atom_arrays_follow_the_expanded_cell(cif_dir):
    agi = read_cif(cif_dir / "AgI_alpha.cif")
    assert agi.n_atoms == len(agi.symbols) == len(agi.masses) == len(agi.b_coh) == 14
    assert agi.symbols == tuple(agi.atoms.species)
    ag = agi.symbols.index("Ag")
    assert agi.masses[ag] == pytest.approx(107.8682, rel=1e-4)
    assert set(agi.elements) == {"Ag", "I"} and agi.symbols.count("I") == 2
    np.testing.assert_array_equal(agi.r_cart, agi.atoms.cart)
    heavy = agi.with_isotopes({"Ag": "109Ag"})
    assert heavy.symbols.count("109Ag") == 12 and heavy.space_group.number == agi.space_group.number
    assert heavy.masses[ag] == pytest.approx(108.905, abs=1e-3)
