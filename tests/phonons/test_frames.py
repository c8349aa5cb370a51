"""The same crystal in a rotated Cartesian frame (a non-symmetric lattice matrix): scalars are
unchanged, vectors and tensors turn with the crystal.  Code that mixes up the lattice matrix
and its transpose passes every cubic test and fails here."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from latdyn.convolution.broadening import bin_lines
from latdyn.phonons.debye_waller import debye_waller
from latdyn.phonons.maps import fibonacci_sphere, powder_map, sqe_lines
from latdyn.phonons.modes import SPLIT_DIRECTION, calculate_modes, degenerate_sets, group_velocities
from latdyn.phonons.one_phonon import coherent_structure_factors
from latdyn.units import HBAR_MEV_PS

#: the rotation of the ``nacl_rotated`` fixture (conftest.ROTATION)
ROT = Rotation.from_euler("zyx", [0.3, 0.7, -0.4]).as_matrix()
Q = np.vstack([np.random.default_rng(3).random((30, 3)) * 2 - 1,
               [[0.2, 0.0, 0.0], [0.25, 0.25, 0.0], [0.1, 0.1, 0.1]]])      # lines with degeneracy


def test_rotation_fixture_is_a_generic_rotation(nacl_model, nacl_rotated):
    rot = np.linalg.solve(nacl_model.crystal.cell, nacl_rotated.crystal.cell).T
    assert np.allclose(rot, ROT, atol=1e-12)
    assert not np.allclose(nacl_rotated.crystal.cell, nacl_rotated.crystal.cell.T, atol=0.1)


def test_energies_and_intensities_do_not_turn(nacl_model, nacl_rotated):
    a, b = calculate_modes(nacl_model, Q), calculate_modes(nacl_rotated, Q)
    assert np.allclose(a.energies, b.energies, rtol=1e-10, atol=1e-7)
    fa = coherent_structure_factors(a, sum_degenerate=True)
    fb = coherent_structure_factors(b, sum_degenerate=True)
    assert np.allclose(fa, fb, rtol=1e-8, atol=1e-10 * fa.max())


def test_group_velocities_turn_with_the_crystal(nacl_model, nacl_rotated):
    """All modes, degenerate sets included: each velocity is one consistent vector."""
    a, b = calculate_modes(nacl_model, Q), calculate_modes(nacl_rotated, Q)
    va, vb = group_velocities(nacl_model, a), group_velocities(nacl_rotated, b)
    assert np.any(np.diff(degenerate_sets(a.energies), axis=1) == 0)
    assert np.max(np.abs(va @ ROT.T - vb)) < 1e-5 * np.max(np.abs(va))


def test_degenerate_velocities_are_the_band_slopes(nacl_rotated):
    """At points where bands are degenerate, v . d along the splitting direction d are the
    slopes of the bands leaving the degeneracy (one-sided differences, step 1e-6 1/A)."""
    model = nacl_rotated
    d = model.crystal.to_cartesian_q(np.array(SPLIT_DIRECTION))
    d /= np.linalg.norm(d)
    h = 1e-6
    checked = 0
    for q in Q[-3:]:
        modes = calculate_modes(model, q[None])
        e0 = modes.energies[0]
        slope = group_velocities(model, modes)[0] @ d
        ep = calculate_modes(model, (q + model.crystal.to_reduced_q(h * d))[None],
                             eigenvectors=False).energies[0]
        numeric = (ep - e0) / h / HBAR_MEV_PS
        sets = degenerate_sets(e0[None])[0]
        for sid in np.unique(sets):
            idx = np.flatnonzero(sets == sid)
            if len(idx) > 1 and e0[idx[0]] > 0.5:
                assert np.allclose(np.sort(slope[idx]), np.sort(numeric[idx]), atol=2e-3)
                checked += 1
    assert checked >= 3


def test_debye_waller_tensors_turn_with_the_crystal(nacl_model, nacl_rotated):
    wa = debye_waller(nacl_model, 300.0, 3, symmetrise=False)
    wb = debye_waller(nacl_rotated, 300.0, 3, symmetrise=False)
    assert np.allclose(np.einsum("ab,kbc,dc->kad", ROT, wa, ROT), wb, rtol=1e-8, atol=1e-12)
    sa = debye_waller(nacl_model, 300.0, 3)
    sb = debye_waller(nacl_rotated, 300.0, 3)
    assert np.allclose(np.einsum("ab,kbc,dc->kad", ROT, sa, ROT), sb, rtol=1e-8, atol=1e-12)


def test_powder_average_samples_the_right_spheres(nacl_model, nacl_rotated):
    """The rotated crystal's powder map equals the original crystal averaged over the
    counter-rotated direction set: exact, so |Q| and the directions are right."""
    q_bins = np.array([1.0, 2.0, 3.0])
    e_bins = np.linspace(-20.0, 30.0, 26)
    npts = 24
    got = powder_map(nacl_rotated, q_bins, e_bins, 200.0, npts=npts, n_sets=1, broadening=1.5,
                     progress=False).data.values / 1e3
    dirs = fibonacci_sphere(npts) @ ROT          # Q' = R Q  <=>  Q = Q' R (rows)
    ref = []
    for q_abs in 0.5 * (q_bins[1:] + q_bins[:-1]):
        q_frac = nacl_model.crystal.to_reduced_q(q_abs * dirs)
        pos, w = sqe_lines(nacl_model, q_frac, 200.0)
        ref.append(bin_lines(pos, w, e_bins, 1.5).mean(axis=0))
    assert np.allclose(got, np.array(ref), rtol=1e-8, atol=1e-12)
