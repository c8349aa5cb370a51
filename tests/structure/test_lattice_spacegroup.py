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
