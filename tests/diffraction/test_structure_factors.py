import numpy as np
import pytest

from latdyn.diffraction import reflections, structure_factor
from latdyn.scattering import nuclide, xray_form_factor
from latdyn.structure import Crystal, read_cif

NC = pytest.importorskip("NCrystal")

DEBYE = {"Al": 410.0, "Ni": 450.0, "Na": 160.0, "Cl": 200.0, "Si": 645.0}
T = 293.15


def _ncmat(crystal: Crystal) -> str:
    a, b, c, al, be, ga = crystal.lattice.parameters
    lines = ["NCMAT v7", "@CELL", f"  lengths {a!r} {b!r} {c!r}", f"  angles {al!r} {be!r} {ga!r}",
             "@SPACEGROUP", f"  {crystal.space_group.number}", "@ATOMPOSITIONS"]
    at = crystal.atoms
    lines += [f"  {s} {float(x)!r} {float(y)!r} {float(z)!r}"
              for s, (x, y, z) in zip(at.species, at.frac, strict=True)]
    lines += ["@DEBYETEMPERATURE"] + [f"  {s} {DEBYE[s]}" for s in sorted(set(crystal.atoms.species))]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", ["Al", "Si", "NaCl", "Ni"])
def test_neutron_f2_matches_ncrystal(cif_dir, name):
    crystal = read_cif(cif_dir / f"{name}.cif")
    info = NC.directLoad(_ncmat(crystal), cfg_params=f"temp={T}K;dcutoff=0.45").info
    # the same Debye-Waller factors and scattering lengths as NCrystal
    lengths, u_iso = {}, {}
    for ai in info.atominfos:
        s = ai.atomData.displayLabel()
        lengths[s] = ai.atomData.coherentScatLen() * 10.0  # sqrt(barn) -> fm
        u_iso[s] = NC.vdos.debyeIsotropicMSD(debye_temperature=DEBYE[s], temperature=T,
                                               mass=ai.atomData.averageMassAMU())
        assert ai.msd == pytest.approx(u_iso[s], rel=1e-12)
    crystal = crystal.with_u_iso(u_iso)
    ours = reflections(crystal, d_min=0.45, scattering_lengths=lengths)
    ref = list(info.hklObjects())
    assert len(ref) > 20
    matched = np.zeros(len(ours), bool)
    keys = crystal.space_group.family_key(ours.hkl)
    for e in ref:
        key = crystal.space_group.family_key([e.hkl_label])[0]
        i = np.flatnonzero(np.all(keys == key, axis=1))
        assert len(i) == 1, e.hkl_label
        matched[i] = True
        assert ours.d[i[0]] == pytest.approx(e.d, rel=1e-12)
        assert ours.multiplicity[i[0]] == e.mult
        assert ours.f2[i[0]] == pytest.approx(e.f2, rel=1e-6), e.hkl_label
    # everything NCrystal leaves out is (numerically) zero
    assert np.all(ours.f2[~matched] < 1e-5)


def test_equivalent_reflections_share_f2(cif_dir):
    crystal = read_cif(cif_dir / "TiO2_rutile_aniso.cif")
    sg = crystal.space_group
    h = np.array([3, 1, 2])
    images = np.unique(np.concatenate([h @ sg.laue_rotations.transpose(0, 2, 1)]), axis=0)
    f2 = np.abs(structure_factor(crystal, images)) ** 2
    np.testing.assert_allclose(f2, f2[0], rtol=1e-10)
    # the anisotropic ADPs matter: hk0 and 00l with equal |Q| are damped differently
    iso = crystal.with_u_iso(0.005)
    assert not np.allclose(np.abs(structure_factor(iso, images)) ** 2, f2[0], rtol=1e-3)


def test_anisotropic_dw_is_rotated_tensor(cif_dir):
    """exp(-1/2 Q^T U Q) per atom against a direct evaluation with CIF beta_ij."""
    crystal = read_cif(cif_dir / "Al2O3_corundum_aniso.cif")
    hkl = np.array([[1, 0, 4], [1, 1, 3], [0, 2, 4], [1, 1, 6], [2, 1, 4], [3, 0, 0], [1, 0, 10]])
    at = crystal.atoms
    astar = crystal.lattice.reciprocal_lengths
    beta = 2 * np.pi**2 * at.u_cif * np.outer(astar, astar)
    b = np.array([nuclide(s).b_coh for s in at.species])
    ref = [np.sum(b * np.exp(2j * np.pi * at.frac @ h) * np.exp(-np.einsum("i,nij,j->n", h, beta, h)))
           for h in hkl]
    np.testing.assert_allclose(structure_factor(crystal, hkl), ref, rtol=1e-12)


def test_xray_f2_independent_evaluation(cif_dir):
    """NaCl: F(hkl all even) = 4 (f_Na T_Na + f_Cl T_Cl), F(all odd) = 4 (f_Na T_Na - f_Cl T_Cl)."""
    crystal = read_cif(cif_dir / "NaCl.cif")
    r = reflections(crystal, d_min=0.7, radiation="xray")
    q = r.q
    t_na = np.exp(-q**2 * 0.0207 / 2)
    t_cl = np.exp(-q**2 * 0.0168 / 2)
    f_na, f_cl = xray_form_factor("Na", q) * t_na, xray_form_factor("Cl", q) * t_cl
    even = np.all(r.hkl % 2 == 0, axis=1)
    expected = np.where(even, 4 * (f_na + f_cl), 4 * (f_na - f_cl)) ** 2
    np.testing.assert_allclose(r.f2, expected, rtol=1e-10)
    assert np.all(np.all(r.hkl % 2 == 0, axis=1) | np.all(r.hkl % 2 == 1, axis=1))


def test_xray_against_gemmi(cif_dir):
    """gemmi's independent calculator with IT92 form factors agrees to the table difference."""
    gemmi = pytest.importorskip("gemmi")
    for name in ("Al", "Si", "NaCl", "Ni"):
        path = cif_dir / f"{name}.cif"
        crystal = read_cif(path)
        small = gemmi.read_small_structure(str(path))
        small.change_occupancies_to_crystallographic()
        calc = gemmi.StructureFactorCalculatorX(small.cell)
        r = reflections(crystal, d_min=1.0, radiation="xray")
        ref = np.array([abs(calc.calculate_sf_from_small_structure(small, list(map(int, h)))) ** 2
                        for h in r.hkl])
        np.testing.assert_allclose(r.f2, ref, rtol=2e-3, atol=1e-9 * ref.max())


def test_neutron_isotope_contrast():
    """7Li and natural Li differ only through b (Sears): F scales as b."""
    c7 = Crystal.from_atoms(np.eye(3) * 3.5, [[0, 0, 0], [0.5, 0.5, 0.5]], ["7Li", "7Li"])
    cn = Crystal.from_atoms(np.eye(3) * 3.5, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Li", "Li"])
    h = [[1, 1, 0]]
    ratio = structure_factor(c7, h)[0] / structure_factor(cn, h)[0]
    assert ratio == pytest.approx(nuclide("7Li").b_coh / nuclide("Li").b_coh)
