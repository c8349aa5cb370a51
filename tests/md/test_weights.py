"""Scattering weights of partial correlations; the numpy fallback without numba."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.errors import InputError
from latdyn.md import compute_correlations, qpoints_in_shells
from latdyn.md import phases as phases_module
from latdyn.md.trajectory import Trajectory
from latdyn.md.weights import species_weights, weighted_coherent, weighted_incoherent
from latdyn.scattering import nuclide


def _result(two_species_walk, **kw):
    positions, cell, symbols, _ = two_species_walk
    traj = Trajectory.from_arrays(positions, cell, symbols, dt=0.01)
    qset = qpoints_in_shells(cell, 3.5, n_shells=5, max_per_shell=3)
    return compute_correlations(traj, qset.q, window=6, **kw)


def test_neutron_weights_follow_the_formula(two_species_walk):
    res = _result(two_species_walk)
    b, b_inc = species_weights(res.species, res.q_norm, "neutron")
    li, o = nuclide("Li"), nuclide("O")
    assert np.allclose(b[:, 0], [li.b_coh, o.b_coh]) and np.allclose(b_inc[:, 0], [li.b_inc, o.b_inc])
    c = res.concentrations
    coh = weighted_coherent(res.f_coh, c, b)
    manual = sum(np.real(b[x, 0] * np.conj(b[y, 0])) * res.f_coh[x, y] for x in range(2)
                 for y in range(2)) / np.sum(c * np.abs(b[:, 0]) ** 2)
    assert np.allclose(coh, manual)
    inc = weighted_incoherent(res.f_inc, c, b_inc)
    assert np.allclose(inc[:, 0], 1.0)                          # F_s,a(q, 0) = c_a
    barn = weighted_incoherent(res.f_inc, c, b_inc, normalize=False)
    assert np.allclose(barn[:, 0], (c[0] * li.sigma_inc + c[1] * o.sigma_inc) / (4 * np.pi))


def test_single_species_weighting_is_neutral(random_walk):
    pos = random_walk(20, 30, 8.0, 0.05, seed=1)
    traj = Trajectory.from_arrays(pos, np.eye(3) * 8.0, ["Ni"] * 30, dt=0.01)
    qset = qpoints_in_shells(traj.cell, 3.0, 3, max_per_shell=3)
    res = compute_correlations(traj, qset.q, window=4)
    for kind in ("neutron", "xray"):
        b, _ = species_weights(res.species, res.q_norm, kind)
        assert np.allclose(weighted_coherent(res.f_coh, res.concentrations, b),
                           res.total_coherent())


def test_xray_weights_fall_with_q_and_isotopes_differ():
    b, b_inc = species_weights(["O"], [0.0, 4.0], "xray")
    assert b_inc is None and b[0, 0].real == pytest.approx(8.0, abs=0.01) and b[0, 1].real < 4
    b6, _ = species_weights(["6Li"], [1.0])
    b7, _ = species_weights(["7Li"], [1.0])
    assert np.sign(b6[0, 0].real) != np.sign(b7[0, 0].real)
    with pytest.raises(InputError, match="Xx"):
        species_weights(["Xx"], [1.0])


def test_numpy_fallback_without_numba(monkeypatch, two_species_walk):
    from latdyn.md import _numba_kernel

    compiled = _result(two_species_walk, origin_step=2)
    monkeypatch.setattr(_numba_kernel, "load", lambda: None)
    kernel = phases_module.PhaseKernel(compiled.q_points, np.eye(3) * 9.0)
    assert not kernel.compiled
    fallback = _result(two_species_walk, origin_step=2)
    assert np.allclose(fallback.f_coh, compiled.f_coh, rtol=0, atol=1e-12)
    assert np.allclose(fallback.f_inc, compiled.f_inc, rtol=0, atol=1e-12)
