"""Reading an extended-XYZ trajectory: latdyn's native reader against ase.io.iread.

Writes (once, cached under /tmp/latdyn_md_bench) a trajectory of --atoms atoms x --frames frames
with species, positions and velocities (the GPUMD ``vel`` column, angstrom/fs) in a triclinic
box, then times reading every frame (best of --repeats, alternating the two readers) and
checks that both give the same positions.

Usage: python benchmarks/md_extxyz_read.py [--atoms 4000] [--frames 200] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

CACHE = Path("/tmp/latdyn_md_bench")


def make_file(n_atoms: int, n_frames: int) -> Path:
    path = CACHE / f"gpumd_{n_atoms}_{n_frames}.xyz"
    if path.is_file():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    cell = np.array([[40.0, 0, 0], [2.0, 39.0, 0], [0, 1.0, 41.0]])
    lattice = " ".join(f"{x:g}" for x in cell.ravel())
    symbols = np.array(["Li", "O", "O", "O"] * (n_atoms // 4 + 1))[:n_atoms]
    tmp = path.with_suffix(".part")
    with open(tmp, "w") as f:
        for k in range(n_frames):
            f.write(f"{n_atoms}\nTime={k * 5.0} Lattice=\"{lattice}\" pbc=\"T T T\" "
                    "Properties=species:S:1:pos:R:3:vel:R:3\n")
            pos = rng.uniform(0, 40, (n_atoms, 3))
            vel = rng.normal(0, 0.01, (n_atoms, 3))
            f.writelines(f"{s} {p[0]:.8f} {p[1]:.8f} {p[2]:.8f} {v[0]:.6e} {v[1]:.6e} "
                         f"{v[2]:.6e}\n" for s, p, v in zip(symbols, pos, vel, strict=True))
    os.replace(tmp, path)
    return path


def read_all(path: Path, reader: str):
    from latdyn.md import open_trajectory

    t0 = time.perf_counter()
    traj = open_trajectory(path, dt=0.005, reader=reader)
    pos = np.concatenate([c.positions for c in traj.chunks(100, unwrap=False)])
    return time.perf_counter() - t0, pos


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--atoms", type=int, default=4000)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    path = make_file(args.atoms, args.frames)
    size = path.stat().st_size / 1e6
    print(f"{path} ({args.atoms} atoms x {args.frames} frames, {size:.0f} MB)")
    best = {"native": np.inf, "ase": np.inf}
    out = {}
    for _ in range(args.repeats):
        for reader in best:
            t, out[reader] = read_all(path, reader)
            best[reader] = min(best[reader], t)
    for reader, t in best.items():
        print(f"{reader:>6}: {t:7.2f} s  {args.frames / t:8.1f} frames/s  {size / t:6.1f} MB/s")
    print(f"native reader speed-up: {best['ase'] / best['native']:.1f}x; "
          f"same positions: {np.array_equal(out['native'], out['ase'])}")


if __name__ == "__main__":
    main()
