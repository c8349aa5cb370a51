"""latdyn.md on a dask.distributed cluster over an H5MD trajectory larger than a worker's memory.

Writes (once, cached under /tmp/latdyn_md_bench, block by block so that the whole trajectory
never sits in memory) a synthetic diffusing liquid of --atoms atoms x --frames frames (two
species, random walk in a 1.9 atoms/A^3-scaled cubic box), starts a LocalCluster of --workers
worker processes with --worker-memory each (spilling and pausing off: a worker above 95 % of
its limit is killed, which fails the run), and computes F_coh and F_s with
``executor='dask'`` and a task budget of --task-memory MB.  Prints the file size, the number of
tasks and frames per task, each worker's peak resident memory (VmHWM), the wall time, the
time of each block task (from the cluster's task stream) and the largest difference to the
serial result (computed first in this process, with --workers threads; --skip-serial skips it).

Usage: python benchmarks/md_dask_scale.py [--atoms 20000] [--frames 5000] [--workers 2]
       [--worker-memory 1GiB] [--task-memory 256] [--window 50] [--origin-step 10]
       [--skip-serial]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

CACHE = Path("/tmp/latdyn_md_bench")


def write_trajectory(n_atoms: int, n_frames: int, block: int = 200) -> Path:
    """A random-walk liquid in the H5MD layout of latdyn.md.write_h5md, block by block."""
    import h5py

    path = CACHE / f"walk_{n_atoms}_{n_frames}.h5"
    if path.is_file():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    box = (n_atoms / 0.02) ** (1 / 3)
    rng = np.random.default_rng(3)
    tmp = path.with_suffix(".part")
    with h5py.File(tmp, "w") as f:
        g = f.create_group("particles/all")
        g.create_group("box").create_dataset("edges", data=np.eye(3) * box)
        g.create_dataset("species", data=np.array([b"Ar", b"Kr"] * (n_atoms // 2)
                                                  + [b"Ar"] * (n_atoms % 2)))
        pos = g.create_group("position")
        value = pos.create_dataset("value", shape=(n_frames, n_atoms, 3), dtype=float,
                                   chunks=(1, n_atoms, 3))
        value.attrs["unit"] = "angstrom"
        pos.create_dataset("time", data=np.arange(n_frames) * 0.01).attrs["unit"] = "ps"
        last = rng.uniform(0, box, (n_atoms, 3))
        for a in range(0, n_frames, block):
            walk = last + np.cumsum(rng.normal(0, 0.05, (min(block, n_frames - a), n_atoms, 3)),
                                    axis=0)
            value[a:a + walk.shape[0]] = walk
            last = walk[-1]
    tmp.rename(path)
    return path


def _task_settings(traj, run, method):
    from latdyn.md.engine import EngineSettings
    from latdyn.md.intermediate import _species_order

    order, counts = _species_order(traj)
    return EngineSettings(np.asarray(run["q_points"]), traj.cell, order, counts,
                          run["window"] + 1, run["origin_step"], threads=1, self_method=method)


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--atoms", type=int, default=20000)
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker-memory", default="1GiB")
    ap.add_argument("--task-memory", type=float, default=256.0, help="MB per task")
    ap.add_argument("--window", type=int, default=50)
    ap.add_argument("--origin-step", type=int, default=10)
    ap.add_argument("--skip-serial", action="store_true")
    args = ap.parse_args()

    import dask
    import distributed

    from latdyn.md import compute_correlations, open_trajectory, qpoints_in_shells

    t0 = time.perf_counter()
    path = write_trajectory(args.atoms, args.frames)
    size = path.stat().st_size / 2**30
    print(f"{path}: {args.atoms} atoms x {args.frames} frames, {size:.2f} GiB "
          f"({time.perf_counter() - t0:.0f} s to write or find)")
    traj = open_trajectory(path)
    q = qpoints_in_shells(traj.cell, q_max=2.5, n_shells=6, max_per_shell=4, seed=0).q
    run = dict(q_points=q, window=args.window, origin_step=args.origin_step, progress=False)
    serial = None
    if not args.skip_serial:
        t0 = time.perf_counter()
        serial = compute_correlations(traj, threads=args.workers, **run)
        print(f"serial ({args.workers} threads): {time.perf_counter() - t0:.1f} s, "
              f"{serial.settings['block_frames']} frames per block")
    with dask.config.set({"distributed.worker.memory.target": False,
                          "distributed.worker.memory.spill": False,
                          "distributed.worker.memory.pause": False}), \
            distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                     processes=True, memory_limit=args.worker_memory,
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        limit = next(iter(client.scheduler_info()["workers"].values()))["memory_limit"] / 2**20
        with distributed.get_task_stream(client) as stream:
            t0 = time.perf_counter()
            res = compute_correlations(traj, executor="dask", scheduler=client,
                                       memory_mb=args.task_memory, **run)
            wall = time.perf_counter() - t0
        peaks = client.run(_peak_rss_mib)
    blocks = [sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute")
              for t in stream.data if "_block_task" in str(t["key"])]
    print(f"dask ({args.workers} workers, {limit:.0f} MiB each, file {size * 1024:.0f} MiB): "
          f"{wall:.1f} s, {res.settings['tasks']} tasks of {res.settings['block_frames']} frames "
          f"(+ up to {args.window} frames of history each), task budget {args.task_memory:.0f} MB "
          f"(model {res.settings['memory_model_mb']:.0f} MB)")
    if blocks:
        print(f"block tasks: {np.mean(blocks):.2f} s on average, {np.max(blocks):.2f} s at most, "
              f"{np.sum(blocks):.1f} s in all")
    print("worker peak memory (MiB): " + ", ".join(f"{v:.0f}" for v in peaks.values()))
    # fixed cost of a task: a block of one target frame, in this process (no scheduling)
    from latdyn.md.intermediate import _block_task

    settings = _task_settings(traj, run, res.settings["self_method"])
    _block_task(traj, settings, args.window, args.window + 1, 0)
    t0 = time.perf_counter()
    for a in range(2 * args.window, 2 * args.window + 10):
        _block_task(traj, settings, a, a + 1, 0)
    one = (time.perf_counter() - t0) / 10
    print(f"a task of one target frame (reads {args.window + 1} frames, builds its engine): "
          f"{one * 1e3:.0f} ms")
    if serial is not None:
        for name in ("f_coh", "f_inc"):
            a, b = getattr(serial, name), getattr(res, name)
            print(f"{name}: largest difference to serial {np.max(np.abs(a - b)) / np.max(np.abs(a)):.1e}"
                  " (relative)")


if __name__ == "__main__":
    main()
