"""latdyn.md against dynasor on Lennard-Jones liquids: CPU time, wall time, peak memory, agreement
and the cost of the arithmetic itself.

Trajectories (generated once by this script, cached under /tmp/latdyn_md_bench): classical MD
of liquid argon (one species) and of an equimolar argon-krypton liquid (two species),
Lennard-Jones pair potentials (Ar: epsilon/k_B = 119.8 K, sigma = 3.405 A; Kr: 164.0 K, 3.65 A;
Lorentz-Berthelot mixing), cut at 2.5 sigma, velocity Verlet with a 5 fs step, 2000 steps of
equilibration with velocity rescaling (Ar at 110 K, 0.0200 atoms/A^3; Ar-Kr at 130 K, 0.0180
atoms/A^3), then NVE, a frame every 10 fs.  --cells 5 gives 500 atoms; written as extended XYZ
(positions and velocities), which both tools read: latdyn with its native reader, dynasor through
ASE (trajectory_format='ase'; its own 'extxyz' reader, which parses with ASE in a process pool,
took 1.8x more CPU here).

Every case (F_coh or F_coh + F_s, origin steps 1, 10 and 20, one and two species; window 200
frames, about 285 q-points in 20 |Q| shells up to 4 1/A) runs each tool in its own Python
process with the same thread settings (NUMBA_NUM_THREADS, OMP/OPENBLAS/MKL_NUM_THREADS and
latdyn's ``threads`` all equal to --threads), after a warm-up run in that process (numba
compilation or cache loading), with the order of the two tools alternating between repeats;
each process reports the CPU time (user + system, its children included) and the wall time of
the timed run (best of --repeats) and its peak resident memory (VmHWM: imports, warm-up and run).
The script stops with an error when latdyn's F_coh or F_s differs from dynasor's by more than
1e-10 relative.

Arithmetic reference: the floating-point operations the job needs per atom, q-point and frame,
divided by this machine's double-precision rate on one core (a 1500 x 1500 matrix product on
one BLAS thread): F_coh 14 flops (the phase u1^h u2^k u3^l from power tables, two complex
products, and its addition to rho); F_s the cheaper of 4 (W / s + 1) (one product per open time
origin) and 10 log2(2L) + 22 + 16 s [s > 1] (the transforms of segments of L frames padded to
2L, and the spectral products).

Usage: python benchmarks/md_vs_dynasor.py [--cells 5] [--frames 1600] [--window 200]
       [--threads 2] [--repeats 2] [--steps 1,10,20] [--species 1,2] [--parts coh,inc]
       [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path("/tmp/latdyn_md_bench")
DT_PS = 0.010                                      # time between stored frames
MD_STEP_PS = 0.005
EPS_K = np.array([119.8, 164.0])                   # Ar, Kr: epsilon / k_B (K)
SIGMA = np.array([3.405, 3.65])                    # angstrom
MASS = np.array([39.948, 83.798])                  # amu
TOLERANCE = 1e-10


# --- the trajectories ---------------------------------------------------------------------------

def _forces_kernel():
    import numba

    @numba.njit(fastmath=True, cache=True)
    def forces(r, box, species, eps, sig2, rc2, f):
        """Lennard-Jones forces (eV/A) with the minimum image in a cubic box."""
        n = r.shape[0]
        f[:] = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                dx = r[j, 0] - r[i, 0]
                dy = r[j, 1] - r[i, 1]
                dz = r[j, 2] - r[i, 2]
                dx -= box * round(dx / box)
                dy -= box * round(dy / box)
                dz -= box * round(dz / box)
                d2 = dx * dx + dy * dy + dz * dz
                if d2 < rc2:
                    a, b = species[i], species[j]
                    s6 = (sig2[a, b] / d2) ** 3
                    g = 24.0 * eps[a, b] * (2.0 * s6 * s6 - s6) / d2
                    f[i, 0] -= g * dx
                    f[i, 1] -= g * dy
                    f[i, 2] -= g * dz
                    f[j, 0] += g * dx
                    f[j, 1] += g * dy
                    f[j, 2] += g * dz

    return forces


def lj_liquid(n_cells: int, n_frames: int, binary: bool, seed: int = 0) -> Path:
    """Liquid Ar (or Ar-Kr) by velocity-Verlet MD (module docstring), as extended XYZ."""
    name = f"lj_{'arkr' if binary else 'ar'}_{n_cells}_{n_frames}.xyz"
    path = CACHE / name
    if path.is_file():
        return path
    from scipy import constants as c

    acc = c.e / (c.angstrom * c.atomic_mass) * 1e-14           # eV/(A amu) -> A/ps^2
    k_b = c.k / c.e
    n = 4 * n_cells**3
    rng = np.random.default_rng(seed)
    species = np.zeros(n, dtype=np.int64)
    if binary:
        species[rng.permutation(n)[: n // 2]] = 1
    temperature, density = (130.0, 0.0180) if binary else (110.0, 0.0200)
    box = (n / density) ** (1 / 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 3)
    r = ((grid[:, None, :] + basis[None]) * box / n_cells).reshape(-1, 3)
    eps = k_b * np.sqrt(EPS_K[:, None] * EPS_K[None, :])
    sig2 = (0.5 * (SIGMA[:, None] + SIGMA[None, :])) ** 2
    rc2 = (2.5 * SIGMA.max()) ** 2
    m = MASS[species][:, None]
    v = rng.normal(0.0, 1.0, r.shape) * np.sqrt(k_b * 2 * temperature / m * acc)
    forces = _forces_kernel()
    f = np.zeros_like(r)
    forces(r, box, species, eps, sig2, rc2, f)
    symbols = np.array(["Ar", "Kr"])[species]
    lattice = " ".join(f"{x:.10g}" for x in (np.eye(3) * box).ravel())
    every = round(DT_PS / MD_STEP_PS)
    n_equil = 2000
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "w") as out:
        for step in range(n_equil + n_frames * every):
            v += 0.5 * MD_STEP_PS * f / m * acc
            r += MD_STEP_PS * v
            forces(r, box, species, eps, sig2, rc2, f)
            v += 0.5 * MD_STEP_PS * f / m * acc
            if step < n_equil and step % 10 == 0:            # velocity rescaling (melt first)
                t_now = np.sum(m * v * v) / acc / (3 * n * k_b)
                v *= np.sqrt((2 * temperature if step < 500 else temperature) / t_now)
            if step >= n_equil and (step - n_equil) % every == 0:
                k = (step - n_equil) // every
                out.write(f"{n}\nLattice=\"{lattice}\" Properties=species:S:1:pos:R:3:vel:R:3 "
                          f"Time={k * DT_PS * 1e3:.1f} pbc=\"T T T\"\n")
                wrapped = r % box
                vel_fs = v * 1e-3                                  # A/fs (GPUMD convention)
                out.writelines(f"{s} {p[0]:.10f} {p[1]:.10f} {p[2]:.10f} {u[0]:.8e} {u[1]:.8e} "
                               f"{u[2]:.8e}\n" for s, p, u in zip(symbols, wrapped, vel_fs,
                                                                 strict=True))
    os.replace(tmp, path)
    return path


def q_points(cell):
    from latdyn.md import qpoints_in_shells

    return qpoints_in_shells(cell, q_max=4.0, n_shells=20, max_per_shell=15, seed=1).q


# --- one timed run in its own process ------------------------------------------------------------

def _cpu() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(spec: dict) -> dict:
    """Warm up, then time one job of one tool (this is the child process)."""
    import ase.io

    path, window, step, inc = spec["path"], spec["window"], spec["step"], spec["incoherent"]
    q = q_points(ase.io.read(path, index=0).cell.array)
    if spec["tool"] == "latdyn":
        from latdyn.md import compute_correlations, open_trajectory

        def job(stop, w):
            traj = open_trajectory(path, dt=DT_PS)
            return compute_correlations(traj, q, w, step, incoherent=inc,
                                        threads=spec["threads"], stop=stop, progress=False)
    else:
        import logging

        import dynasor

        logging.getLogger("dynasor").setLevel(logging.WARNING)

        def job(stop, w):
            traj = dynasor.Trajectory(path, trajectory_format="ase",
                                      atomic_indices="read_from_trajectory", frame_stop=stop)
            return dynasor.compute_dynamic_structure_factors(
                traj, q, dt=DT_PS * 1e3, window_size=w, window_step=step,
                calculate_incoherent=inc)
    job(40, 10)                                            # warm-up: compile or load kernels
    c0, t0 = _cpu(), time.perf_counter()
    res = job(None, window)
    cpu, wall = _cpu() - c0, time.perf_counter() - t0
    if spec["tool"] == "latdyn":
        f_coh = res.total_coherent()
        f_inc = res.total_incoherent() if inc else None
        method = res.settings["self_method"] or "-"
    else:
        f_coh, f_inc, method = res.Fqt_coh, (res.Fqt_incoh if inc else None), "-"
    arrays = {"f_coh": f_coh} if f_inc is None else {"f_coh": f_coh, "f_inc": f_inc}
    np.savez(spec["out"], **arrays)
    return {"cpu": cpu, "wall": wall, "rss": _peak_rss_mb(), "method": method, "n_q": len(q)}


def spawn(spec: dict, threads: int) -> dict:
    env = dict(os.environ)
    for key in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS", "LATDYN_THREADS"):
        env[key] = str(threads)
    out = subprocess.run([sys.executable, __file__, "--run-one", json.dumps(spec)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{spec['tool']} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def flop_rate() -> float:
    """Double-precision flop rate of one core (flop/s): a matrix product on one BLAS thread."""
    from threadpoolctl import threadpool_limits

    n = 1500
    a = np.random.default_rng(0).random((n, n))
    with threadpool_limits(1, user_api="blas"):
        a @ a
        best = math.inf
        for _ in range(3):
            t0 = time.process_time()
            a @ a
            best = min(best, time.process_time() - t0)
    return 2.0 * n**3 / best


def arithmetic_flops(window: int, step: int, incoherent: bool) -> float:
    """Flops per atom, q-point and frame the job needs (module docstring)."""
    from latdyn.md.engine import segment_length

    flops = 14.0
    if incoherent:
        seg = segment_length(window + 1, step)
        direct = 4.0 * (window // step + 1)
        fft = 10.0 * math.log2(2 * seg) + 22.0 + (16.0 * step if step > 1 else 0.0)
        flops += min(direct, fft)
    return flops


# --- the comparison ------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=5, help="fcc cells per edge (4 atoms each)")
    ap.add_argument("--frames", type=int, default=1600)
    ap.add_argument("--window", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", default="1,10,20")
    ap.add_argument("--species", default="1,2")
    ap.add_argument("--parts", default="coh,inc")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    ap.add_argument("--run-one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one:
        print(json.dumps(run_one(json.loads(args.run_one))))
        return

    t0 = time.perf_counter()
    paths = {n: lj_liquid(args.cells, args.frames, binary=n == 2)
             for n in (int(x) for x in args.species.split(","))}
    rate = flop_rate()
    n_atoms = 4 * args.cells**3
    print(f"Lennard-Jones liquids: {n_atoms} atoms x {args.frames} frames ({time.perf_counter() - t0:.0f} s "
          f"to generate or find); window {args.window}; threads {args.threads}; one core "
          f"{rate / 1e9:.1f} GFLOP/s (1500^2 matrix product)\n")
    rows, failures = [], []
    cases = [(n, part, int(s)) for n in paths for part in args.parts.split(",")
             for s in args.steps.split(",")]
    for k, (n_species, part, step) in enumerate(cases):
        inc = part == "inc"
        best = {}
        for rep in range(args.repeats):
            order = ("latdyn", "dynasor") if (k + rep) % 2 == 0 else ("dynasor", "latdyn")
            for tool in order:
                spec = {"tool": tool, "path": str(paths[n_species]), "window": args.window,
                        "step": step, "incoherent": inc, "threads": args.threads,
                        "out": str(CACHE / f"{tool}.npz")}
                r = spawn(spec, args.threads)
                r["arrays"] = dict(np.load(spec["out"]))
                old = best.get(tool)
                if old is None or r["cpu"] < old["cpu"]:
                    r["rss"] = max(r["rss"], old["rss"]) if old else r["rss"]
                    best[tool] = r
                else:
                    old["rss"] = max(old["rss"], r["rss"])
        lat, dyn = best["latdyn"], best["dynasor"]
        diff = {}
        for key in lat["arrays"]:
            ref = dyn["arrays"][key]
            diff[key] = float(np.max(np.abs(lat["arrays"][key] - ref)) / np.max(np.abs(ref)))
        work = n_atoms * lat["n_q"] * args.frames
        ns = lat["cpu"] / work * 1e9
        ref_ns = arithmetic_flops(args.window, step, inc) / rate * 1e9
        row = {"species": n_species, "part": "F_coh + F_s" if inc else "F_coh", "step": step,
               "method": lat["method"], "latdyn_cpu_s": lat["cpu"], "dynasor_cpu_s": dyn["cpu"],
               "speedup_cpu": dyn["cpu"] / lat["cpu"], "latdyn_wall_s": lat["wall"],
               "dynasor_wall_s": dyn["wall"], "speedup_wall": dyn["wall"] / lat["wall"],
               "latdyn_rss_mb": lat["rss"], "dynasor_rss_mb": dyn["rss"],
               "rss_ratio": lat["rss"] / dyn["rss"], "latdyn_ns": ns, "arithmetic_ns": ref_ns,
               "over_arithmetic": ns / ref_ns, "max_rel_diff": max(diff.values())}
        rows.append(row)
        if row["max_rel_diff"] > TOLERANCE:
            failures.append(f"{row['part']} step {step}, {n_species} species: latdyn and "
                            f"dynasor differ by {row['max_rel_diff']:.1e} ({diff})")
        print(_format(row), flush=True)
    print(_legend(rate))
    speedups = [r["speedup_cpu"] for r in rows]
    ratios = [r["rss_ratio"] for r in rows]
    print(f"\nCPU speed-up over dynasor: {min(speedups):.1f}x to {max(speedups):.1f}x "
          f"(goal >= 5 in every row: {'met' if min(speedups) >= 5 else 'NOT met'}); peak RSS "
          f"latdyn/dynasor {min(ratios):.2f} to {max(ratios):.2f} (goal <= 2: "
          f"{'met' if max(ratios) <= 2 else 'NOT met'}); largest difference "
          f"{max(r['max_rel_diff'] for r in rows):.1e}")
    if args.json:
        Path(args.json).write_text(json.dumps({"flop_rate": rate, "atoms": n_atoms,
                                               "frames": args.frames, "window": args.window,
                                               "threads": args.threads, "rows": rows}, indent=1))
    if failures:
        raise SystemExit("latdyn and dynasor disagree:\n" + "\n".join(failures))


_HEADER = (f"{'species':>7} {'part':>11} {'step':>4} {'method':>6} | {'CPU latdyn':>10} "
           f"{'dynasor':>8} {'speed-up':>8} | {'wall latdyn':>11} {'dynasor':>8} {'speed-up':>8} | "
           f"{'RSS latdyn':>10} {'dynasor':>8} {'ratio':>5} | {'ns/atom-q-frame':>15} "
           f"{'arith.':>6} {'x':>5} | {'diff':>7}")


def _format(row: dict) -> str:
    if not hasattr(_format, "printed"):
        _format.printed = True
        print(_HEADER)
    return (f"{row['species']:>7} {row['part']:>11} {row['step']:>4} {row['method']:>6} | "
            f"{row['latdyn_cpu_s']:>9.2f}s {row['dynasor_cpu_s']:>7.2f}s "
            f"{row['speedup_cpu']:>7.1f}x | {row['latdyn_wall_s']:>10.2f}s "
            f"{row['dynasor_wall_s']:>7.2f}s {row['speedup_wall']:>7.1f}x | "
            f"{row['latdyn_rss_mb']:>8.0f}MB {row['dynasor_rss_mb']:>6.0f}MB "
            f"{row['rss_ratio']:>5.2f} | {row['latdyn_ns']:>15.2f} {row['arithmetic_ns']:>6.2f} "
            f"{row['over_arithmetic']:>5.1f} | {row['max_rel_diff']:>7.1e}")


def _legend(rate: float) -> str:
    return ("\nCPU: user + system seconds of the timed run (reading the file included); wall: "
            "elapsed seconds;\nRSS: peak resident memory of the tool's process (VmHWM); "
            "ns/atom-q-frame: latdyn's CPU time per atom, q-point and frame;\narith.: the "
            f"flops the job needs at {rate / 1e9:.1f} GFLOP/s on one core; x: latdyn over "
            "arith.; diff: largest difference to dynasor, relative to its largest value")


if __name__ == "__main__":
    main()
