"""A dask.distributed cluster of worker processes over a trajectory on disk that is larger than
any worker's memory limit: many tasks, each reading only its frames, give the serial sums."""

from __future__ import annotations

import resource

import numpy as np
import pytest

from latdyn.md import compute_correlations, open_trajectory, qpoints_in_shells

MIB = 1 << 20
LIMIT_MIB = 350


def _peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM of its own address space (ru_maxrss would
    also count the parent's memory at the fork before the worker's exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_large_h5md(path, n_atoms, n_frames, box, block=500):
    """A random-walk trajectory written block by block in the H5MD layout of
    :func:`latdyn.md.write_h5md` (the whole array never exists in memory)."""
    import h5py

    rng = np.random.default_rng(11)
    with h5py.File(path, "w") as f:
        g = f.create_group("particles/all")
        g.create_group("box").create_dataset("edges", data=np.eye(3) * box)
        g.create_dataset("species", data=np.array([b"Ar", b"Kr"] * (n_atoms // 2)))
        grp = g.create_group("position")
        value = grp.create_dataset("value", shape=(n_frames, n_atoms, 3), dtype=float,
                                   chunks=(1, n_atoms, 3))
        value.attrs["unit"] = "angstrom"
        grp.create_dataset("time", data=np.arange(n_frames) * 0.01).attrs["unit"] = "ps"
        last = rng.uniform(0, box, (n_atoms, 3))
        for a in range(0, n_frames, block):
            steps = rng.normal(0, 0.08, (min(block, n_frames - a), n_atoms, 3))
            walk = last + np.cumsum(steps, axis=0)
            value[a:a + walk.shape[0]] = walk
            last = walk[-1]


@pytest.mark.slow
def test_cluster_of_processes_over_a_trajectory_larger_than_a_worker(tmp_path):
    distributed = pytest.importorskip("distributed", reason="needs dask.distributed "
                                                            "(latdyn[dask])")
    import dask

    path = tmp_path / "large.h5"
    _write_large_h5md(path, 1000, 16000, 30.0)
    assert path.stat().st_size > LIMIT_MIB * MIB                 # larger than a worker's limit
    traj = open_trajectory(path)
    q = qpoints_in_shells(traj.cell, q_max=2.5, n_shells=3, max_per_shell=2, seed=2).q
    serial = compute_correlations(traj, q, 12, 4, progress=False, threads=1)
    # spilling and pausing off: a worker above 95 % of its limit is killed (the task fails)
    with dask.config.set({"distributed.worker.memory.target": False,
                          "distributed.worker.memory.spill": False,
                          "distributed.worker.memory.pause": False}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     memory_limit=f"{LIMIT_MIB}MiB",
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = compute_correlations(traj, q, 12, 4, executor="dask", scheduler=client,
                                   memory_mb=48, progress=False)
        peaks = client.run(_peak_rss_mib)
    assert res.settings["tasks"] >= 8                             # many tasks, own frames each
    assert len(peaks) == 2 and max(peaks.values()) < LIMIT_MIB, peaks
    for name in ("f_coh", "f_inc"):
        a, b = getattr(serial, name), getattr(res, name)
        assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(a)), name
    path.unlink()
