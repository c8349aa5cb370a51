"""latdyn.md against dynasor and against the bare numpy cost of rho(q, t).

Generates (once, cached under /tmp/latdyn_md_bench) a synthetic trajectory of about 4000 atoms
x 2000 frames: an oxide-like crystal whose "O" sublattice vibrates (correlated Gaussian noise
around its sites) and whose "Li" sublattice diffuses (random walk), written as an ASE .traj
file that both tools read.  Both tools then compute F_coh(q, t) (and optionally F_inc) on the
same 100 commensurate q-points with the same window and origin step, timed back to back
(alternating, best of --repeats; the times include reading the file); the script prints the
wall times, the throughput (frames x q-points x atoms per second), the ratio dynasor/latdyn,
the largest relative difference of their F(q, t), and the ratio of latdyn's time to the bare
numpy evaluation of sum_j exp(i q . r_j) for every frame and q-point.

Usage: python benchmarks/md_vs_dynasor.py [--atoms 4000] [--frames 2000] [--window 100]
       [--origin-step 1] [--incoherent] [--self-method auto|fft|direct] [--repeats 2]
       [--bare-frames 200] [--accelerator auto|numba|numpy] [--executor serial|dask]
       [--threads 2] [--skip-dynasor]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

CACHE = Path("/tmp/latdyn_md_bench")


def make_trajectory(n_atoms: int, n_frames: int, seed: int = 0) -> Path:
    """Vibrating crystal with a diffusing sublattice, as an ASE .traj file (cached)."""
    import ase.io
    from ase import Atoms

    n_cells = max(1, round((n_atoms / 4) ** (1 / 3)))
    path = CACHE / f"crystal_{n_cells}_{n_frames}.traj"
    if path.is_file():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    a = 4.2
    rng = np.random.default_rng(seed)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 3)
    sites = ((grid[:, None, :] + basis[None]) * a).reshape(-1, 3)
    symbols = np.array((["Li"] + ["O"] * 3) * len(grid))
    li = symbols == "Li"
    cell = np.eye(3) * n_cells * a
    dt = 0.005                                              # ps
    u = rng.normal(0, 0.08, sites.shape)
    walk = np.zeros(sites.shape)
    alpha = 0.9                                             # AR(1) memory of the vibration
    tmp = path.with_suffix(".part.traj")
    with ase.io.Trajectory(tmp, "w") as out:
        for _ in range(n_frames):
            u = alpha * u + np.sqrt(1 - alpha**2) * rng.normal(0, 0.08, sites.shape)
            walk[li] += rng.normal(0, np.sqrt(2 * 0.05 * dt), (li.sum(), 3))
            out.write(Atoms(symbols, positions=sites + u + walk, cell=cell, pbc=True))
    os.replace(tmp, path)
    return path


def q_points(cell, n_q: int = 100):
    from latdyn.md import qpoints_in_shells

    qset = qpoints_in_shells(cell, q_max=4.0, n_shells=20, q_min=0.3, max_per_shell=n_q // 20,
                             seed=1)
    return qset.q[:n_q]


def run_latdyn(path, q, dt, window, step, incoherent, threads, accelerator, self_method,
               executor):
    from latdyn.md import compute_correlations, open_trajectory

    t0 = time.perf_counter()
    traj = open_trajectory(path, dt=dt)
    res = compute_correlations(traj, q, window, step, incoherent=incoherent, threads=threads,
                               progress=False, accelerator=accelerator,
                               self_method=self_method, executor=executor)
    return time.perf_counter() - t0, res


def run_dynasor(path, q, dt, window, step, incoherent):
    import logging

    import dynasor

    logging.getLogger("dynasor").setLevel(logging.WARNING)

    t0 = time.perf_counter()
    traj = dynasor.Trajectory(str(path), trajectory_format="ase",
                              atomic_indices="read_from_trajectory")
    res = dynasor.compute_dynamic_structure_factors(traj, q, dt=dt * 1e3, window_size=window,
                                                    window_step=step,
                                                    calculate_incoherent=incoherent,
                                                    logging_interval=0)
    return time.perf_counter() - t0, res


def bare_numpy(path, q, n_frames):
    """sum_j exp(i q . r_j) with numpy for n_frames frames already in memory: seconds."""
    import ase.io

    frames = [a.positions for a in ase.io.iread(str(path), index=f":{n_frames}")]
    t0 = time.perf_counter()
    for r in frames:
        np.exp(1j * (r @ q.T)).sum(axis=0)
    return time.perf_counter() - t0, len(frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--atoms", type=int, default=4000)
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--origin-step", type=int, default=1)
    ap.add_argument("--incoherent", action="store_true")
    ap.add_argument("--self-method", choices=("auto", "fft", "direct"), default="auto")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bare-frames", type=int, default=200,
                    help="frames timed for the bare numpy cost (scaled to all frames)")
    ap.add_argument("--skip-dynasor", action="store_true")
    ap.add_argument("--accelerator", choices=("auto", "numba", "numpy"), default="auto",
                    help="latdyn kernel: compiled (numba, optional) or numpy")
    ap.add_argument("--executor", choices=("serial", "dask"), default="serial")
    args = ap.parse_args()

    import ase.io

    t0 = time.perf_counter()
    path = make_trajectory(args.atoms, args.frames)
    first = ase.io.read(path, index=0)
    n_atoms, dt = len(first), 0.005
    q = q_points(first.cell.array)
    print(f"trajectory {path} ({n_atoms} atoms x {args.frames} frames; ready in "
          f"{time.perf_counter() - t0:.1f} s); {len(q)} q-points; window {args.window}, "
          f"origin step {args.origin_step}, incoherent {args.incoherent}")
    work = args.frames * len(q) * n_atoms

    run = (path, q, dt, args.window, args.origin_step, args.incoherent, args.threads,
           args.accelerator, args.self_method, args.executor)
    _, res = run_latdyn(*run)                    # warm-up (compiles the numba kernels once)
    t_lat, t_dyn, ref = np.inf, np.inf, None
    for _ in range(args.repeats):               # alternate the two tools: same conditions
        t_lat = min(t_lat, run_latdyn(*run)[0])
        if not args.skip_dynasor:
            t, ref = run_dynasor(path, q, dt, args.window, args.origin_step, args.incoherent)
            t_dyn = min(t_dyn, t)
    print(f"latdyn ({args.accelerator} kernel, self part {res.settings['self_method']}, "
          f"{args.executor}): {t_lat:8.2f} s  {work / t_lat:.3e} atom*q*frame/s")

    t_bare, n_bare = bare_numpy(path, q, args.bare_frames)
    t_bare *= args.frames / n_bare
    print(f"bare numpy exp(i q.r) sum (scaled from {n_bare} frames): {t_bare:8.2f} s")
    print(f"latdyn / bare numpy time ratio: {t_lat / t_bare:.3f} (goal <= 1.5)")

    if ref is not None:
        print(f"dynasor: {t_dyn:8.2f} s  {work / t_dyn:.3e} atom*q*frame/s")
        print(f"throughput ratio latdyn / dynasor: {t_dyn / t_lat:.2f}x (goal >= 3)")
        diff = np.max(np.abs(res.total_coherent() - ref.Fqt_coh)) / np.max(np.abs(ref.Fqt_coh))
        print(f"max relative difference F_coh: {diff:.2e}")
        if args.incoherent:
            diff = np.max(np.abs(res.total_incoherent() - ref.Fqt_incoh))
            print(f"max difference F_inc: {diff:.2e}")


if __name__ == "__main__":
    main()
