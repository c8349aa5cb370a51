"""latdyn against dynasor on the same trajectory, q-points and window (F_coh, F_inc, currents).

dynasor conventions matched here (read from its documentation and code): correlations are
per atom of the whole system (1/N), partials of unlike pairs A_B hold F_AB + F_BA, windows
start every ``window_step`` frames and windows near the end are shorter, velocities are in
angstrom/fs and times in fs.
"""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.md.intermediate import compute_correlations
from latdyn.md.qpoints import qpoints_in_shells
from latdyn.md.trajectory import open_trajectory

dynasor = pytest.importorskip("dynasor")


def _write_traj(path, positions, cell, symbols, velocities):
    import ase.io
    from ase import Atoms
    from ase.units import fs

    frames = []
    for x, v in zip(positions, velocities, strict=True):
        a = Atoms(symbols, positions=x, cell=cell, pbc=True)
        a.set_velocities(v / (1e3 * fs))          # angstrom/ps -> ASE units
        frames.append(a)
    ase.io.write(path, frames)


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("window, step, accelerator, method", [
    (12, 1, "numpy", "fft"), (9, 4, "numpy", "fft"), (12, 1, "auto", "fft"),
    (9, 4, "auto", "direct")])
def test_same_numbers_as_dynasor(tmp_path, two_species_walk, window, step, accelerator, method):
    if accelerator == "auto":
        pytest.importorskip("numba", reason="the compiled kernel needs numba (latdyn[fast])")
    positions, cell, symbols, velocities = two_species_walk
    path = tmp_path / "walk.traj"
    _write_traj(path, positions, cell, symbols, velocities)
    dt_ps = 0.005
    qset = qpoints_in_shells(cell, q_max=3.0, n_shells=6, max_per_shell=3, seed=1)

    traj = open_trajectory(path, dt=dt_ps)
    ours = compute_correlations(traj, qset.q, window=window, origin_step=step,
                                incoherent=True, currents=True, chunk_size=7,
                                accelerator=accelerator, self_method=method)

    dyn_traj = dynasor.Trajectory(str(path), trajectory_format="ase",
                                  atomic_indices="read_from_trajectory")
    ref = dynasor.compute_dynamic_structure_factors(
        dyn_traj, qset.q, dt=dt_ps * 1e3, window_size=window, window_step=step,
        calculate_incoherent=True, calculate_currents=True)

    assert np.allclose(ref.time * 1e-3, ours.time, rtol=1e-12)
    assert _rel(ours.total_coherent(), ref.Fqt_coh) < 1e-8
    assert _rel(ours.total_incoherent(), ref.Fqt_incoh) < 1e-8
    sp = ours.species
    assert sp == ("Li", "O")
    assert _rel(ours.f_coh[0, 0], ref.Fqt_coh_Li_Li) < 1e-8
    assert _rel(ours.f_coh[1, 1], ref.Fqt_coh_O_O) < 1e-8
    assert _rel(2 * ours.f_coh[0, 1], ref.Fqt_coh_Li_O) < 1e-8
    assert _rel(ours.f_inc[0], ref.Fqt_incoh_Li) < 1e-8
    # currents: dynasor works in angstrom/fs, latdyn in angstrom/ps
    assert _rel(ours.c_l.sum(axis=(0, 1)), ref.Clqt * 1e6) < 1e-8
    assert _rel(ours.c_t.sum(axis=(0, 1)), ref.Ctqt * 1e6) < 1e-8
    # without currents, other block sizes and the automatic method
    fused = compute_correlations(traj, qset.q, window=window, origin_step=step,
                                 chunk_size=5, accelerator=accelerator)
    assert _rel(fused.total_incoherent(), ref.Fqt_incoh) < 1e-8
    assert _rel(fused.f_inc[1], ref.Fqt_incoh_O) < 1e-8
    assert _rel(fused.total_coherent(), ref.Fqt_coh) < 1e-8
