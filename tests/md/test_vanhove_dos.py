"""Van Hove functions and the vibrational DOS against analytic results."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.data import DensityOfStates
from latdyn.errors import InputError
from latdyn.md import (
    compute_vacf,
    neutron_dos_weights,
    vibrational_density_of_states,
    vibrational_dos,
)
from latdyn.md.trajectory import Trajectory
from latdyn.md.vanhove import compute_van_hove
from latdyn.units import HBAR_MEV_PS


def test_self_van_hove_of_brownian_motion_is_gaussian(random_walk):
    d_in, dt, box = 0.4, 0.01, 12.0
    pos = random_walk(120, 600, box, np.sqrt(2 * d_in * dt), seed=4)
    traj = Trajectory.from_arrays(pos, np.eye(3) * box, ["Li"] * 600, dt=dt)
    res = compute_van_hove(traj, lags=[0, 25, 50], r_max=3.0, n_bins=60, origin_step=10,
                           max_origins=7, distinct=False)
    r, shell = res.r, 4 / 3 * np.pi * np.diff(res.r_edges**3)
    assert np.isclose(np.sum(res.g_self[0, 0] * shell), 1.0)   # all weight in the first bin at t=0
    assert res.g_self[0, 0, 0] > 0 and np.all(res.g_self[0, 0, 1:] == 0)
    for k, t in enumerate(res.time[1:], start=1):
        expected = (4 * np.pi * d_in * t) ** -1.5 * np.exp(-r**2 / (4 * d_in * t))
        assert np.isclose(np.sum(res.g_self[0, k] * shell), 1.0, atol=2e-3)
        # cumulative distribution of |dr| (Kolmogorov-Smirnov distance; 4200 samples)
        cdf, cdf_expected = np.cumsum(res.g_self[0, k] * shell), np.cumsum(expected * shell)
        assert np.max(np.abs(cdf - cdf_expected)) < 0.03


def test_distinct_van_hove_simple_cubic_coordination():
    """G_d(r, 0) of a simple cubic lattice: 6 neighbours at a, 12 at a sqrt 2; density at large r."""
    a, n = 2.5, 6
    sites = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    rng = np.random.default_rng(0)
    pos = sites + rng.normal(0, 0.03, (4,) + sites.shape)
    traj = Trajectory.from_arrays(pos, np.eye(3) * n * a, ["Na"] * len(sites), dt=0.01)
    res = compute_van_hove(traj, lags=[0], r_max=7.0, n_bins=140, origin_step=1, max_origins=4)
    g = res.g_distinct[0, 0, 0]
    shell = 4 / 3 * np.pi * np.diff(res.r_edges**3)
    r = res.r
    assert np.isclose(np.sum((g * shell)[(r > 0.8 * a) & (r < 1.2 * a)]), 6.0)
    assert np.isclose(np.sum((g * shell)[(r > 1.3 * a) & (r < 1.5 * a)]), 12.0)
    # running coordination number: all neighbours within r_max
    assert np.sum(g * shell) == pytest.approx(np.sum(np.linalg.norm(
        _min_image(sites - sites[0], n * a), axis=1)[1:] < 7.0), abs=1)


def _min_image(d, box):
    return d - box * np.round(d / box)


def test_distinct_van_hove_two_species_density_limit():
    rng = np.random.default_rng(2)
    box = 14.0
    pos = rng.uniform(0, box, (3, 400, 3))
    symbols = ["O"] * 300 + ["H"] * 100
    traj = Trajectory.from_arrays(pos, np.eye(3) * box, symbols, dt=0.01)
    res = compute_van_hove(traj, lags=[0, 1], r_max=6.0, n_bins=12, origin_step=1, max_origins=2)
    assert res.species == ("H", "O")
    far = res.r > 2.0
    # uncorrelated atoms: G_d,ab -> N_b / V everywhere
    assert np.allclose(res.g_distinct[0, 1, :, far], 300 / box**3, rtol=0.1)
    assert np.allclose(res.g_distinct[1, 0, :, far], 100 / box**3, rtol=0.15)


@pytest.mark.parametrize("r_max", [None, 2.0, 0.7])
def test_cell_list_kernel_gives_the_all_pairs_histogram(r_max):
    """Triclinic box, atoms outside it, two species: the compiled cell-list histogram equals
    the numpy all-pairs one bin for bin."""
    pytest.importorskip("numba", reason="the cell-list kernel needs numba (latdyn[fast])")
    from latdyn.md.vanhove import max_pair_distance

    rng = np.random.default_rng(0)
    cell = np.array([[14.0, 0, 0], [3.0, 13.0, 0], [-2.0, 1.5, 15.0]])
    pos = rng.uniform(-5, 25, (4, 300, 3))
    traj = Trajectory.from_arrays(pos, cell, ["O"] * 180 + ["H"] * 120, dt=0.01)
    r_max = max_pair_distance(cell) if r_max is None else r_max
    a = compute_van_hove(traj, [0, 2], r_max, 40, origin_step=1, max_origins=2,
                         accelerator="numpy")
    b = compute_van_hove(traj, [0, 2], r_max, 40, origin_step=1, max_origins=2,
                         accelerator="numba", threads=2)
    assert a.g_distinct.sum() > 0
    assert np.array_equal(a.g_distinct, b.g_distinct)
    assert np.array_equal(a.g_self, b.g_self)


def test_cell_grid_slabs_are_thick_enough():
    from latdyn.md.vanhove import cell_grid

    cell = np.array([[20.0, 0, 0], [8.0, 18.0, 0], [0, 0, 9.0]])
    widths = [abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[(i + 1) % 3],
                                                               cell[(i + 2) % 3]))
              for i in range(3)]
    n = cell_grid(cell, 4.0, 10_000)
    assert np.all(np.asarray(widths) / n >= 4.0) and np.all(n >= 1)
    assert np.prod(cell_grid(cell, 0.01, 10)) <= 80               # capped at ~8 N cells


def test_compiled_van_hove_without_numba(monkeypatch):
    from latdyn.errors import DependencyError
    from latdyn.md import _numba_kernel

    monkeypatch.setattr(_numba_kernel, "load", lambda: None)
    traj = Trajectory.from_arrays(np.zeros((2, 2, 3)) + [[0, 0, 0], [1, 1, 1]], np.eye(3) * 10,
                                  ["Ar", "Ar"], dt=0.1)
    with pytest.raises(DependencyError, match=r"latdyn\[fast\]"):
        compute_van_hove(traj, [0], 4.0, accelerator="numba")
    res = compute_van_hove(traj, [0], 4.0, n_bins=4, origin_step=1)        # numpy fallback
    assert res.g_distinct[0, 0, 0].sum() > 0


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_van_hove_dask_tasks_give_the_serial_histograms(tmp_path, random_walk, scheduler):
    pytest.importorskip("dask", reason="the Dask executor needs dask (latdyn[dask])")
    from latdyn.md import open_trajectory, write_h5md

    box = 8.0
    pos = random_walk(60, 70, box, 0.3, seed=6)             # atoms cross the box: unwrapping
    symbols = ["Li", "O"] * 35
    traj = open_trajectory(write_h5md(tmp_path / "w.h5", pos % box, np.eye(3) * box, symbols,
                                      0.01))
    kw = dict(lags=[0, 7, 40, 55], r_max=3.9, n_bins=30, origin_step=6, max_origins=9)
    serial = compute_van_hove(traj, **kw)
    dask_ = compute_van_hove(traj, executor="dask", scheduler=scheduler, **kw)
    assert serial.n_origins == dask_.n_origins == 9
    assert np.array_equal(serial.time, dask_.time)              # lag 55 lacks late origins
    assert np.array_equal(serial.g_self, dask_.g_self)
    assert np.array_equal(serial.g_distinct, dask_.g_distinct)
    with pytest.raises(InputError, match="executor"):
        compute_van_hove(traj, executor="mpi", **kw)


def test_r_max_beyond_half_box_is_refused():
    traj = Trajectory.from_arrays(np.zeros((2, 1, 3)), np.eye(3) * 10, ["Ar"], dt=0.1)
    with pytest.raises(InputError, match="half the box"):
        compute_van_hove(traj, lags=[1], r_max=6.0)


def _einstein(n_atoms=300, n_frames=400, dt=0.005, omega=30.0, sigma=0.1, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, sigma, (n_atoms, 3))
    b = rng.normal(0, sigma, (n_atoms, 3))
    t = np.arange(n_frames) * dt
    c, s = np.cos(omega * t)[:, None, None], np.sin(omega * t)[:, None, None]
    pos = 5.0 + c * a + s * b
    vel = omega * (-s * a + c * b)
    return pos, vel, dt


def test_vacf_and_dos_of_einstein_oscillators():
    omega = 30.0                                        # rad/ps -> E = hbar omega ~ 19.7 meV
    pos, vel, dt = _einstein(omega=omega)
    traj = Trajectory.from_arrays(pos, np.eye(3) * 10, ["Si"] * pos.shape[1], dt, velocities=vel)
    res = compute_vacf(traj, window=200, origin_step=2)
    expected = 3 * 0.1**2 * omega**2 * np.cos(omega * res.time)
    assert np.allclose(res.vacf[0], expected, rtol=0.05, atol=0.05 * expected[0])
    with pytest.deprecated_call():
        energy, g, total = vibrational_dos(res)
    assert np.isclose(np.sum(total) * (energy[1] - energy[0]), 1.0, rtol=1e-9)
    assert abs(energy[np.argmax(total)] - HBAR_MEV_PS * omega) < 2 * (energy[1] - energy[0])
    # velocities from positions: same spectrum up to the finite-difference correction
    traj_x = Trajectory.from_arrays(pos, np.eye(3) * 10, ["Si"] * pos.shape[1], dt)
    with pytest.deprecated_call():
        e2, _, total_x = vibrational_dos(compute_vacf(traj_x, window=200, origin_step=2))
    peak = np.argmax(total)
    assert abs(total_x[peak] - total[peak]) < 0.05 * total[peak]


def test_neutron_weighted_dos_weights_hydrogen_heavily():
    with pytest.deprecated_call():
        w = neutron_dos_weights(["H", "O"])
    assert w[0] / w[1] > 100


def test_vibrational_density_of_states_is_the_former_tuple_times_three():
    pos, vel, dt = _einstein(n_atoms=60, omega=30.0)
    species = ["H"] * 20 + ["O"] * 40
    traj = Trajectory.from_arrays(pos, np.eye(3) * 10, species, dt, velocities=vel)
    res = compute_vacf(traj, window=200, origin_step=2)
    dos = vibrational_density_of_states(res)
    assert isinstance(dos, DensityOfStates)
    assert dos.labels == ("H", "O") and list(dos.counts) == [20.0, 40.0] and not dos.histogram
    with pytest.deprecated_call():
        energy, g, total = vibrational_dos(res)
    np.testing.assert_array_equal(dos.energy, energy)
    # 3 per atom; E = 0 holds the density itself, which the tuple halved as a sum weight
    np.testing.assert_allclose(dos.partials[:, 1:], 3 * g[:, 1:], rtol=1e-15)
    np.testing.assert_allclose(dos.partials[:, 0], 6 * g[:, 0], rtol=1e-15)
    np.testing.assert_allclose(dos.g[1:], 3 * total[1:], rtol=1e-13)
    for lab in dos.labels:
        assert dos.integral(lab) == pytest.approx(3.0, rel=1e-3)
        assert dos.moment(1.0, lab) == pytest.approx(HBAR_MEV_PS * 30.0, rel=0.02)
    with pytest.deprecated_call():
        w = neutron_dos_weights(["H", "O"])
        _, _, neutron = vibrational_dos(res, weights=w)
    np.testing.assert_allclose(dos.neutron_weighted().values[1:], 3 * neutron[1:], rtol=1e-13)
