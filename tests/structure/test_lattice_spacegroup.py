import gemmi
import numpy as np
import pytest

from latdyn.errors import InputError
from latdyn.structure import Lattice, SpaceGroup


def test_triclinic_volume_and_reciprocal_duality():
    lat = Lattice(5.1, 6.3, 7.7, 81.0, 97.5, 104.2)
    a, b, c, al, be, ga = lat.parameters
    ca, cb, cg = np.cos(np.deg2rad([al, be, ga]))
    v = a * b * c * np.sqrt(1 - ca**2 - cb**2 - cg**2 + 2 * ca * cb * cg)
    assert lat.volume == pytest.approx(v, rel=1e-12)
    np.testing.assert_allclose(lat.matrix @ lat.reciprocal_matrix.T, 2 * np.pi * np.eye(3), atol=1e-12)
    hkl = np.array([[1, 0, 0], [1, -2, 3], [0, 4, 1]])
    np.testing.assert_allclose(np.linalg.norm(lat.q_vectors(hkl), axis=1), 2 * np.pi / lat.d_spacing(hkl))
    # gemmi's unit cell agrees on d-spacings
    cell = gemmi.UnitCell(*lat.parameters)
    np.testing.assert_allclose(lat.d_spacing(hkl), [cell.calculate_d(list(map(int, h))) for h in hkl],
                               rtol=1e-12)


def test_from_matrix_keeps_parameters():
    m = np.array([[3.0, 0.2, 0.1], [0.4, 4.0, 0.0], [0.3, 0.1, 5.0]])
    lat = Lattice.from_matrix(m)
    np.testing.assert_allclose(lat.metric, m @ m.T, rtol=1e-12)
    assert lat.volume == pytest.approx(np.linalg.det(m))


def test_u_conventions_round_trip_and_cubic_identity():
    lat = Lattice(4.9, 4.9, 5.4, 90, 90, 120)
    u = np.array([[0.010, 0.004, 0.001], [0.004, 0.012, 0.002], [0.001, 0.002, 0.008]])
    np.testing.assert_allclose(lat.u_cart_to_cif(lat.u_cif_to_cart(u)), u, atol=1e-15)
    cubic = Lattice(4.0, 4.0, 4.0)
    np.testing.assert_allclose(cubic.u_cif_to_cart(u), u, atol=1e-15)
    # isotropic U is the same in both conventions for any cell: U_cif of U*I has Ueq = U
    iso = lat.u_cart_to_cif(np.eye(3) * 0.01)
    assert np.trace(lat.u_cif_to_cart(iso)) / 3 == pytest.approx(0.01)


def test_bad_lattice():
    with pytest.raises(InputError, match="alpha"):
        Lattice(3, 3, 3, 190, 90, 90)
    with pytest.raises(InputError, match="positive"):
        Lattice(-3, 3, 3)


@pytest.mark.parametrize("symbol", ["F m -3 m", "F d -3 m:2", "I m -3 m", "P 42/m n m", "R -3 c:H",
                                    "P 63/m m c", "P 21/c", "I 41/a m d:2", "C 2/c", "P n m a"])
def test_absences_match_gemmi(symbol):
    sg = SpaceGroup.from_symbol(symbol)
    gops = gemmi.find_spacegroup_by_name(symbol).operations()
    rng = np.random.default_rng(1)
    hkl = rng.integers(-6, 7, size=(400, 3))
    hkl = hkl[np.any(hkl != 0, axis=1)]
    ours = sg.is_absent(hkl)
    ref = np.array([gops.is_systematically_absent(list(map(int, h))) for h in hkl])
    np.testing.assert_array_equal(ours, ref)
    assert ours.any()


def test_cubic_multiplicities():
    sg = SpaceGroup.from_symbol("Fm-3m")
    hkl = np.array([(h, k, l) for h in range(-3, 4) for k in range(-3, 4) for l in range(-3, 4)
                    if (h, k, l) != (0, 0, 0)])
    keys = sg.family_key(hkl)
    fam, counts = np.unique(keys, axis=0, return_counts=True)
    mult = {tuple(f): c for f, c in zip(fam, counts, strict=True)}
    assert mult[(1, 0, 0)] == 6 and mult[(1, 1, 0)] == 12 and mult[(1, 1, 1)] == 8
    assert mult[(2, 1, 0)] == 24 and mult[(3, 2, 1)] == 48
    p1 = SpaceGroup.p1()
    _, c1 = np.unique(p1.family_key(hkl), axis=0, return_counts=True)
    assert set(c1) == {2}


def test_triplets_round_trip_and_closure():
    sg = SpaceGroup.from_symbol("P 42/m n m")
    again = SpaceGroup.from_triplets(sg.triplets)
    assert again.number == 136 and len(again) == 16
    with pytest.raises(InputError, match="group"):
        SpaceGroup.from_triplets(["x,y,z", "-y,x,z"])
    with pytest.raises(InputError, match="malformed"):
        SpaceGroup.from_triplets(["x,y,w"])
    with pytest.raises(InputError, match="unknown space-group"):
        SpaceGroup.from_symbol("Q 9/z")


def test_from_matrix_keeps_its_frame_and_owns_the_reciprocal_vectors():
    m = np.array([[3.0, 0.2, 0.1], [0.4, 4.0, 0.0], [0.3, 0.1, 5.0]])
    lat = Lattice.from_matrix(m)
    assert np.array_equal(lat.matrix, m)                        # the given Cartesian frame
    std = lat.standard_matrix
    assert std[0, 1] == std[0, 2] == std[1, 2] == 0.0 and np.allclose(std @ std.T, m @ m.T)
    b = lat.reciprocal_matrix
    np.testing.assert_allclose(m @ b.T, 2 * np.pi * np.eye(3), atol=1e-12)
    hkl = np.array([[1, 0, 0], [1, -2, 3], [0.5, 0.25, 0.1]])
    np.testing.assert_allclose(lat.reduced_q(lat.q_vectors(hkl)), hkl, atol=1e-12)
    np.testing.assert_allclose(lat.plane_spacings(), lat.d_spacing(np.eye(3)), rtol=1e-12)
    with pytest.raises(ValueError):
        b[0, 0] = 1.0                                           # the cached vectors are read-only
    left = Lattice.from_matrix(m[[1, 0, 2]])                    # a left-handed set (some MD boxes)
    assert not left.is_right_handed and left.volume == pytest.approx(abs(np.linalg.det(m)))
    np.testing.assert_allclose(m[[1, 0, 2]] @ left.reciprocal_matrix.T, 2 * np.pi * np.eye(3),
                               atol=1e-12)
    with pytest.raises(InputError, match="volume"):
        Lattice.from_matrix([[1, 0, 0], [2, 0, 0], [0, 0, 1]])


def test_md_box_uses_the_lattice():
    from latdyn.md import Trajectory, reciprocal_cell

    box = np.array([[10.0, 0.0, 0.0], [1.0, 9.0, 0.0], [0.5, 0.3, 8.0]])
    traj = Trajectory.from_arrays(np.zeros((2, 1, 3)), box, ["Ar"], dt=0.01)
    assert np.array_equal(traj.lattice.matrix, box)
    assert np.array_equal(traj.reciprocal_cell(), Lattice.from_matrix(box).reciprocal_matrix)
    assert np.array_equal(reciprocal_cell(box), traj.reciprocal_cell())
    assert traj.volume == pytest.approx(np.linalg.det(box))


def test_crystal_module_does_not_import_cif():
    """structure.crystal knows no file format (the cif <-> crystal cycle is gone); the
    deprecated Crystal.from_cif/to_cif still work through the format table."""
    import ast
    from pathlib import Path

    import latdyn.structure.crystal as crystal_module

    tree = ast.parse(Path(crystal_module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and ("cif" in m or "mcif" in m) for m in imported), imported
