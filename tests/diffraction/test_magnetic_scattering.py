"""Magnetic Bragg scattering: analytic limits, domain averages, k = (1/2,1/2,1/2) on fcc,
magnetic symmetry, supercells against the single-k formula, incommensurate satellites."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.diffraction import (
    domain_averaged_intensity,
    magnetic_intensity,
    magnetic_powder_pattern,
    magnetic_reflections,
    structure_factor,
)
from latdyn.errors import InputError
from latdyn.scattering import P_MAGNETIC_FM, magnetic_form_factor
from latdyn.structure import Crystal, Lattice, Site, SpaceGroup, magnetic_structure, read_mcif

from .conftest import DATA

MCIF = DATA / "mcif"


def _bcc_fe(u_iso=0.004):
    return Crystal(Lattice(2.8665, 2.8665, 2.8665), [Site("Fe1", "Fe", (0, 0, 0), 1.0, u_iso)],
                   SpaceGroup.from_symbol("I m -3 m"), title="Fe")


def _fcc_nio(a=4.175):
    return Crystal(Lattice(a, a, a), [Site("Ni", "Ni", (0, 0, 0)), Site("O", "O", (0.5, 0.5, 0.5))],
                   SpaceGroup.from_symbol("F m -3 m"), title="NiO")


def _sphere(n=20000):
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)


def test_ferromagnet_equals_p2_m2_f2_sin2_times_the_lattice_sum():
    """Collinear FM: |F_M perp|^2 = p^2 m^2 f^2 sin^2(alpha) |sum_j e^{2 pi i h.x_j} e^-W|^2; the
    domain average over the cubic orbit gives <sin^2 alpha> = 2/3."""
    fe = _bcc_fe()
    m = 2.2
    s = magnetic_structure(fe, {"Fe1": (0, 0, m)}, ions={"Fe1": "Fe"})
    refl = magnetic_reflections(s, 0.8)
    lattice_sum = structure_factor(fe, np.round(refl.hkl), scattering_lengths={"Fe": 1.0})
    f = magnetic_form_factor("Fe", refl.q)
    expected = P_MAGNETIC_FM**2 * m**2 * f**2 * (2 / 3) * np.abs(lattice_sum) ** 2 / 100
    assert len(refl) >= 6
    np.testing.assert_allclose(refl.f2_magnetic, expected, rtol=1e-10)
    # single domain, per reflection: sin^2 alpha with the moment along c
    h = np.array([[1, 1, 0], [0, 1, 1], [2, 0, 0], [0, 0, 2], [2, 1, 1]])
    q = h @ fe.lattice.reciprocal_matrix
    sin2 = 1 - (q[:, 2] / np.linalg.norm(q, axis=1)) ** 2
    ls = structure_factor(fe, h, scattering_lengths={"Fe": 1.0})
    single = P_MAGNETIC_FM**2 * m**2 * magnetic_form_factor("Fe", np.linalg.norm(q, axis=1)) ** 2 \
        * sin2 * np.abs(ls) ** 2 / 100
    np.testing.assert_allclose(magnetic_intensity(s, h), single, rtol=1e-10, atol=1e-14)
    assert magnetic_intensity(s, [[0, 0, 2]])[0] == pytest.approx(0.0, abs=1e-20)  # Q parallel to m


def test_powder_average_of_sin2_alpha_is_two_thirds():
    u = np.array([0.3, -0.5, 0.81])
    u /= np.linalg.norm(u)
    qhat = _sphere()
    assert np.mean(1 - (qhat @ u) ** 2) == pytest.approx(2 / 3, abs=1e-6)
    # and the domain average of a tetragonal FM over its own Laue class is not 2/3 per reflection
    c = Crystal(Lattice(3.5, 3.5, 5.0), [Site("Fe1", "Fe", (0, 0, 0))],
                SpaceGroup.from_symbol("P 4/m m m"))
    s = magnetic_structure(c, {"Fe1": (0, 0, 2.0)}, ions={"Fe1": "Fe3+"})
    r = magnetic_reflections(s, 1.2)
    p00l = np.flatnonzero(np.all(np.isclose(r.hkl[:, :2], 0), axis=1))
    assert p00l.size and np.all(r.f2_magnetic[p00l] == 0)   # Q along the moments: no intensity


def test_k_half_antiferromagnet_on_fcc_only_half_integer_peaks_with_multiplicities():
    s = magnetic_structure(_fcc_nio(), {"Ni": (1, 1, -2)}, k="1/2,1/2,1/2", ions={"Ni": "Ni2+"},
                           axes="cartesian")
    r = magnetic_reflections(s, 1.3)
    mag = r.f2_magnetic > 0
    assert mag.sum() >= 5
    frac = r.hkl[mag] - np.floor(r.hkl[mag])
    assert np.allclose(frac, 0.5)                       # every magnetic peak at half-integers
    assert np.all(r.f2_nuclear[mag] == 0) and np.all(r.f2_magnetic[~mag] == 0)
    nuc = np.round(r.hkl[~mag]).astype(int)
    assert np.all((nuc % 2 == nuc[:, :1] % 2).all(axis=1))   # fcc: h, k, l unmixed
    mult = {tuple(np.round(2 * h).astype(int)): m for h, m in zip(r.hkl[mag], r.multiplicity[mag],
                                                                  strict=True)}
    assert mult[(1, 1, 1)] == 8 and mult[(3, 1, 1)] == 24 and mult[(3, 3, 1)] == 24
    assert mult[(3, 3, 3)] == 8 and mult[(5, 1, 1)] == 24


def test_magndata_nio_in_its_magnetic_cell_matches_the_parent_cell_with_k():
    """The MAGNDATA NiO file (2a x 2b x 2c, 128 operations) and NiO built as Fm-3m + k give the
    same reflections, multiplicities and domain-averaged magnetic |F|^2 (per cell)."""
    mc = read_mcif(MCIF / "magnetic.example.NiO.mcif", ions={"Ni": "Ni2+"})
    rk = magnetic_reflections(magnetic_structure(_fcc_nio(), {"Ni": (1, 1, -2)}, k="1/2,1/2,1/2",
                                                 ions={"Ni": "Ni2+"}), 1.3)
    rm = magnetic_reflections(mc, 1.3)
    assert len(rk) == len(rm)
    np.testing.assert_allclose(rm.parent_hkl, rk.hkl, atol=1e-9)
    np.testing.assert_array_equal(rm.multiplicity, rk.multiplicity)
    # the magnetic cell holds 8 parent cells: F is 8 times larger, |F|^2 64 times
    np.testing.assert_allclose(rm.f2_magnetic, 64 * rk.f2_magnetic, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(rm.f2_nuclear, 64 * rk.f2_nuclear, rtol=1e-9)


def test_operations_of_the_magnetic_group_leave_every_intensity_unchanged():
    s = read_mcif(MCIF / "magnetic.ncl.example.GdB4.mcif", ions={"Gd": "Gd3+"})
    h = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 2, 0], [2, 1, 1], [3, 0, 1], [1, 0, 1]])
    i0 = magnetic_intensity(s, h)
    assert np.all(i0[:2] > 0)
    ops = s.symmetry
    for R, t, th in zip(ops.rotations, ops.translations, ops.time_reversal, strict=True):
        moved = s.transformed(R, t, th)
        np.testing.assert_allclose(moved.moments(), s.moments(), atol=1e-9)
        np.testing.assert_allclose(magnetic_intensity(moved, h), i0, rtol=1e-10, atol=1e-12)
    # time reversal of everything is the other (indistinguishable) 180-degree domain
    flipped = s.transformed(np.eye(3), np.zeros(3), -1)
    np.testing.assert_allclose(flipped.moments(), -s.moments(), atol=1e-12)
    np.testing.assert_allclose(magnetic_intensity(flipped, h), i0, rtol=1e-10, atol=1e-12)


def test_a_parent_operation_outside_the_magnetic_group_makes_another_domain():
    """NiO: the 3-fold axis along [111] belongs to Fm-3m but not to C_c2/c; it turns the spins
    from (1,1,-2) to (-2,1,1): single-domain intensities change, the domain average does not."""
    s = read_mcif(MCIF / "magnetic.example.NiO.mcif", ions={"Ni": "Ni2+"})
    three = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    other = s.transformed(three, np.zeros(3), 1)
    assert not np.allclose(other.moments(), s.moments(), atol=1e-6)
    h = np.array([[3, 1, 1], [1, 3, 1], [1, 1, 3], [3, 3, 1], [1, 1, 1], [5, 1, 1]])
    assert not np.allclose(magnetic_intensity(other, h), magnetic_intensity(s, h), rtol=1e-6)
    np.testing.assert_allclose(domain_averaged_intensity(other, h), domain_averaged_intensity(s, h),
                               rtol=1e-10)


def test_commensurate_supercell_equals_the_single_k_formula():
    """A helix with k = (0, 0, 1/4) on a primitive cell: the powder lines of the structure with k
    and of its 4-fold magnetic supercell (k = 0, P1) agree line by line (per parent cell)."""
    c = Crystal(Lattice(3.0, 3.0, 4.0), [Site("Mn1", "Mn", (0.1, 0.2, 0.3), 1.0, 0.005)])
    s = magnetic_structure(c, {"Mn1": (2.0, 0, 0)}, second={"Mn1": (0, 2.0, 0)}, k="0,0,1/4",
                           ions={"Mn1": "Mn2+"})
    sc = s.magnetic_cell()
    assert np.allclose(sc.lattice.abc, (3.0, 3.0, 16.0))
    assert np.allclose(np.linalg.norm(sc.moments()[sc.magnetic], axis=1), 2.0)
    ra = magnetic_reflections(s, 1.0, rotations=np.eye(3)[None])
    rb = magnetic_reflections(sc, 1.0, rotations=np.eye(3)[None])

    def lines(r):
        key = np.round(r.d, 8)
        out = {}
        for d, v in zip(key, r.multiplicity * r.f2_magnetic, strict=True):
            out[d] = out.get(d, 0.0) + v
        return out

    la, lb = lines(ra), lines(rb)
    assert set(la) == set(lb)
    for d in la:
        assert 16 * la[d] == pytest.approx(lb[d], rel=1e-9, abs=1e-12)   # 4 cells: |F|^2 x 16


def test_incommensurate_longitudinal_sdw_of_chromium():
    s = read_mcif(MCIF / "magnetic.incommensurate.example.Cr.mcif", ions={"Cr": "Cr"})
    assert np.allclose(s.k, (0, 0, 0.95))
    i = magnetic_intensity(s, [[0, 0, 0.95], [1, 0, 0.05], [1, 0, -0.05], [0, 0, 1.0]])
    assert i[0] == pytest.approx(0.0, abs=1e-20)       # Q parallel to the moments
    assert i[1] > 0 and i[1] == pytest.approx(i[2], rel=1e-9)      # (1,0,1)-k and (1,0,-1)+k
    assert i[3] == 0                                    # no satellite at integer h
    assert s.ordered_moment[0] == pytest.approx(0.6 / np.sqrt(2))
    r = magnetic_reflections(s, 1.2)
    assert np.any((r.f2_magnetic > 0) & ~np.all(np.isclose(r.hkl, np.round(r.hkl)), axis=1))
    with pytest.raises(InputError, match="not commensurate"):
        s.magnetic_cell()


def test_magnetic_pattern_parts_and_errors():
    s = magnetic_structure(_fcc_nio(), {"Ni": (1, 1, -2)}, k="1/2,1/2,1/2", ions={"Ni": "Ni2+"})
    tt = np.arange(10, 100, 0.05)
    pat = magnetic_powder_pattern(s, tt, wavelength=2.4, U=0.02, V=-0.01, W=0.01)
    lam = 2.4
    q = 4 * np.pi * np.sin(np.deg2rad(tt) / 2) / lam
    first = np.argmax(pat.magnetic)
    assert q[first] == pytest.approx(np.linalg.norm(np.array([0.5] * 3) @ s.lattice.reciprocal_matrix),
                                     abs=0.02)
    assert pat.nuclear[first] < 1e-6 * pat.magnetic[first]
    tof = magnetic_powder_pattern(s, np.linspace(1.2, 5.0, 3000), tof=True, difc=5000.0)
    assert tof.magnetic.max() > 0 and tof.nuclear.max() > 0
    with pytest.raises(InputError, match="non-magnetic site"):
        magnetic_structure(_fcc_nio(), {"O": (0, 0, 1)}, ions={"O": "O"})
    with pytest.raises(InputError, match="unknown magnetic ion"):
        magnetic_structure(_fcc_nio(), {"Ni": (0, 0, 1)}, ions={"Ni": "Ni9+"})
    with pytest.raises(InputError, match="needs its magnetic ion"):
        magnetic_structure(_fcc_nio(), {"Ni": (0, 0, 1)})
