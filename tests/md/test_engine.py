"""The block engine: every self-part method and block size gives the brute-force sums; the Dask
executor gives the serial results."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

from latdyn.errors import DependencyError, InputError
from latdyn.md import Trajectory, compute_correlations, qpoints_in_shells, write_h5md
from latdyn.md.engine import segment_length
from latdyn.md.trajectory import open_trajectory

try:
    import numba as _numba  # noqa: F401
    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False


@pytest.fixture(scope="module")
def walk():
    """41 frames of 23 atoms (two species, interleaved in the file) diffusing in a 9 A box."""
    rng = np.random.default_rng(7)
    n_f, n_a, box = 41, 23, 9.0
    pos = rng.uniform(0, box, (n_a, 3)) + np.cumsum(rng.normal(0, 0.4, (n_f, n_a, 3)), axis=0)
    vel = rng.normal(0, 4.0, (n_f, n_a, 3))
    symbols = ["O" if i % 3 else "Li" for i in range(n_a)]
    cell = np.eye(3) * box
    q = qpoints_in_shells(cell, q_max=3.0, n_shells=4, max_per_shell=2, seed=3).q
    return pos, vel, symbols, cell, q


def _brute_force(pos, symbols, q, window, step):
    """F_s,a and F_ab of the definitions, by explicit double sums over origins and lags."""
    species = sorted(set(symbols))
    sym = np.array(symbols)
    e = np.exp(1j * np.einsum("fac,qc->qfa", pos, q))
    n_f, n_a = pos.shape[:2]
    fs = np.zeros((len(species), len(q), window + 1))
    fc = np.zeros((len(species), len(species), len(q), window + 1))
    counts = np.zeros(window + 1)
    for t0 in range(0, n_f, step):
        for lag in range(min(window + 1, n_f - t0)):
            counts[lag] += 1
            prod = np.real(e[:, t0 + lag] * np.conj(e[:, t0]))
            rho0 = [e[:, t0, sym == s].sum(-1) for s in species]
            rho1 = [e[:, t0 + lag, sym == s].sum(-1) for s in species]
            for a, s in enumerate(species):
                fs[a, :, lag] += prod[:, sym == s].sum(-1)
                for b in range(len(species)):
                    fc[a, b, :, lag] += np.real(np.conj(rho0[a]) * rho1[b])
    fs /= counts * n_a
    fc /= counts * n_a
    return fs, 0.5 * (fc + fc.transpose(1, 0, 2, 3))


CASES = [("numpy", "fft"), ("numpy", "direct"), ("auto", "fft"), ("auto", "direct")]


@pytest.mark.parametrize("accelerator, method", CASES)
@pytest.mark.parametrize("window, step, chunk", [(9, 1, None), (9, 1, 4), (12, 3, 7), (6, 4, 5),
                                                 (5, 11, 13)])
def test_methods_and_blocks_give_the_brute_force_sums(walk, accelerator, method, window, step,
                                                      chunk):
    if accelerator == "auto" and not HAVE_NUMBA:
        pytest.skip("the compiled kernel needs numba (latdyn[fast])")
    pos, _, symbols, cell, q = walk
    traj = Trajectory.from_arrays(pos, cell, symbols, 0.01)
    res = compute_correlations(traj, q, window, step, chunk_size=chunk, accelerator=accelerator,
                               self_method=method, progress=False)
    fs, fc = _brute_force(pos, symbols, q, window, step)
    assert res.settings["self_method"] == method
    assert np.max(np.abs(res.f_inc - fs)) < 1e-12
    assert np.max(np.abs(res.f_coh - fc)) < 1e-12
    assert np.allclose(res.total_incoherent()[:, 0], 1.0, atol=1e-13)       # F_s(q, 0) = 1


@pytest.mark.parametrize("accelerator", ["auto", "numpy"])
def test_automatic_choice_takes_the_method_the_probe_measures_cheaper(walk, accelerator,
                                                                      monkeypatch):
    from latdyn.md import probe

    pos, _, symbols, cell, q = walk
    traj = Trajectory.from_arrays(pos, cell, symbols, 0.01)
    few = compute_correlations(traj, q, 100, 50, progress=False, accelerator=accelerator)
    costs = few.settings["self_method_costs_ns"]
    assert set(costs) == {"direct", "fft"} and all(c > 0 for c in costs.values())
    assert few.settings["self_method"] == min(costs, key=costs.get)
    assert few.settings["self_method"] == "direct"          # 3 open origins against transforms
    assert few.time.size == 41                              # lags <= frames - 1
    assert few.settings["compiled"] == (accelerator == "auto" and HAVE_NUMBA)
    # the measurement decides, whatever the number of open origins
    monkeypatch.setattr(probe, "_cache", {})
    monkeypatch.setattr(probe, "measure_costs", lambda settings: {"direct": 5.0, "fft": 1.0})
    forced = compute_correlations(traj, q, 100, 50, progress=False, accelerator=accelerator)
    assert forced.settings["self_method"] == "fft"
    assert np.max(np.abs(forced.f_inc - few.f_inc)) < 1e-12


@pytest.mark.parametrize("w, s", [(1, 1), (100, 1), (100, 20), (37, 3), (5, 40), (5, 11)])
def test_segment_length(w, s):
    length = segment_length(w + 1, s)
    n = 2 * length
    assert length >= w and n % s == 0
    if s == 1:
        assert length & (length - 1) == 0                   # a power of two when possible
    elif s != 11:
        for p in (2, 3, 5):                                 # else a fast (5-smooth) length
            while n % p == 0:
                n //= p
        assert n == 1


def test_currents_by_blocks_match_one_block(walk):
    pos, vel, symbols, cell, q = walk
    traj = Trajectory.from_arrays(pos, cell, symbols, 0.01, velocities=vel)
    one = compute_correlations(traj, q, 8, 2, currents=True, chunk_size=1000, progress=False,
                               accelerator="numpy")
    many = compute_correlations(traj, q, 8, 2, currents=True, chunk_size=3, progress=False)
    for a, b in ((one.c_l, many.c_l), (one.c_t, many.c_t), (one.f_coh, many.f_coh)):
        assert np.max(np.abs(a - b)) < 1e-12 * np.max(np.abs(a))


def test_bad_settings(walk):
    pos, _, symbols, cell, q = walk
    traj = Trajectory.from_arrays(pos, cell, symbols, 0.01)
    with pytest.raises(InputError, match="self-part method"):
        compute_correlations(traj, q, 5, self_method="magic")
    with pytest.raises(InputError, match="executor"):
        compute_correlations(traj, q, 5, executor="mpi")
    with pytest.raises(InputError, match="chunk size"):
        compute_correlations(traj, q, 5, chunk_size=0)


# --- Dask ---------------------------------------------------------------------------------------

def test_dask_missing_names_the_extra(walk, monkeypatch):
    pos, _, symbols, cell, q = walk
    traj = Trajectory.from_arrays(pos, cell, symbols, 0.01)
    monkeypatch.setitem(sys.modules, "dask", None)                 # import dask -> ImportError
    with pytest.raises(DependencyError, match=r"latdyn\[dask\]"):
        compute_correlations(traj, q, 5, executor="dask")


def _write(tmp_path, kind, pos, vel, symbols, cell):
    if kind == "h5md":
        return write_h5md(tmp_path / "walk.h5", pos, cell, symbols, 0.01, vel)
    import ase.io
    from ase import Atoms
    from ase.units import fs

    frames = []
    for x, v in zip(pos, vel, strict=True):
        a = Atoms(symbols, positions=x, cell=cell, pbc=True)
        a.set_velocities(v / (1e3 * fs))
        frames.append(a)
    path = tmp_path / "walk.extxyz"
    ase.io.write(path, frames, format="extxyz")
    return path


@pytest.mark.parametrize("window, step, kind", [(9, 1, "h5md"), (7, 3, "extxyz")])
def test_dask_gives_the_serial_results(tmp_path, walk, window, step, kind):
    pytest.importorskip("dask", reason="the Dask executor needs dask (latdyn[dask])")
    pos, vel, symbols, cell, q = walk
    traj = open_trajectory(_write(tmp_path, kind, pos, vel, symbols, cell), dt=0.01)
    serial = compute_correlations(traj, q, window, step, currents=True, chunk_size=6,
                                  progress=False)
    dask_ = compute_correlations(traj, q, window, step, currents=True, chunk_size=5,
                                 executor="dask", threads=2, progress=False)
    assert dask_.settings["executor"] == "dask"
    for name in ("f_coh", "f_inc", "c_l", "c_t"):
        a, b = getattr(serial, name), getattr(dask_, name)
        assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(a)), name
    # a frame range: tasks read their own frames from the file
    part = compute_correlations(traj, q, window, step, start=4, stop=33, chunk_size=5,
                                executor="dask", scheduler="synchronous", progress=False)
    ref = compute_correlations(traj, q, window, step, start=4, stop=33, progress=False)
    assert part.settings["frames"] == 29
    assert np.max(np.abs(part.f_inc - ref.f_inc)) < 1e-12
    assert np.max(np.abs(part.f_coh - ref.f_coh)) < 1e-12


def test_dask_tasks_are_picklable_for_a_distributed_scheduler(tmp_path, walk):
    pytest.importorskip("dask", reason="the Dask executor needs dask (latdyn[dask])")
    from latdyn.md.engine import EngineSettings
    from latdyn.md.intermediate import _block_task, _species_order

    pos, _, symbols, cell, q = walk
    traj = open_trajectory(write_h5md(tmp_path / "w.h5", pos, cell, symbols, 0.01))
    order, counts = _species_order(traj)
    settings = EngineSettings(q, cell, order, counts, 8, 2, threads=1)
    clone_traj, clone_settings = pickle.loads(pickle.dumps((traj, settings)))
    a = _block_task(traj, settings, 10, 20, 0)
    b = _block_task(clone_traj, clone_settings, 10, 20, 0)
    assert np.array_equal(a.self_sums, b.self_sums)
    assert a.n_frames == 20


def test_dask_refuses_off_lattice_q(walk):
    pytest.importorskip("dask", reason="the Dask executor needs dask (latdyn[dask])")
    pos, _, symbols, cell, q = walk
    traj = Trajectory.from_arrays(pos, cell, symbols, 0.01)
    with pytest.raises(InputError, match="reciprocal lattice"):
        compute_correlations(traj, q + 0.01, 5, executor="dask")


def test_cupy_backend_names_the_extra(walk):
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed; this checks the message when it is missing")
    except ImportError:
        pass
    pos, _, symbols, cell, q = walk
    traj = Trajectory.from_arrays(pos, cell, symbols, 0.01)
    with pytest.raises(DependencyError, match=r"latdyn\[gpu\]"):
        compute_correlations(traj, q, 5, backend="cupy")
