"""Time latdyn against Euphonic (C extension, same thread count) on the same force constants.

Workloads, on NaCl (phonondb, A. Togo; polar, 8 atoms, Ewald dipole sum):
  1. frequencies + eigenvectors at 10,000 random q-points,
  2. coherent structure factors at those q-points (Debye-Waller factors precomputed),
  3. a 100-bin (|Q|) powder map (40 directions per sphere, 100 energy bins, 300 K),
and the bare numpy batched eigh of the same 10,000 dynamical matrices, as one call and split
over the same threads (the parallel floor of the diagonalisation).

Euphonic and phonopy/latdyn run in separate processes (importing both in one process makes
Euphonic single-threaded), alternating so that both see the same load on a shared machine.
Each round gives one timing per tool and workload and the ratio of the two (same round, so
the same load); the script prints the best and median times over --repeat rounds and the best
and median per-round ratios.  latdyn's frequencies + eigenvectors are also timed as Dask
tasks (threaded scheduler, when dask is installed) to show the cost of that executor.

    python benchmarks/phonons_vs_euphonic.py [--threads 2] [--nq 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NACL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "phonopy" / "NaCl"


def _best(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run_latdyn(nq, threads, repeat):
    from latdyn.phonons import load_phonopy
    from latdyn.phonons.debye_waller import debye_waller
    from latdyn.phonons.maps import powder_map
    from latdyn.phonons.modes import calculate_modes
    from latdyn.phonons.structure_factor import coherent_structure_factors

    model = load_phonopy(NACL / "phonopy_nacl.yaml", asr="reciprocal")
    q = np.random.default_rng(0).random((nq, 3))
    out = {}
    out["modes"] = _best(lambda: calculate_modes(model, q, n_threads=threads, progress=False),
                         repeat)
    modes = calculate_modes(model, q, n_threads=threads, progress=False)
    dw = debye_waller(model, 300.0, 6)
    out["structure_factors"] = _best(lambda: coherent_structure_factors(modes, dw), repeat)
    d = model.dynamical_matrices(q)
    out["bare_eigh"] = _best(lambda: np.linalg.eigh(d), repeat)
    # the same eigh split over the same threads (BLAS single-threaded): the parallel floor
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    parts = np.array_split(d, threads)
    with ThreadPoolExecutor(threads) as pool, threadpool_limits(1, user_api="blas"):
        out["bare_eigh_threads"] = _best(lambda: list(pool.map(np.linalg.eigh, parts)), repeat)
    out["dynmat"] = _best(lambda: model.dynamical_matrices(q), repeat)
    qb = np.linspace(0.05, 8.0, 101)
    eb = np.linspace(-10, 40, 101)
    out["powder"] = _best(lambda: powder_map(model, qb, eb, 300.0, npts=40, dw=dw,
                                             n_threads=threads, progress=False), repeat)
    try:
        import dask

        with dask.config.set(scheduler="threads", num_workers=threads):
            out["modes_dask"] = _best(lambda: calculate_modes(model, q, executor="dask",
                                                              progress=False), repeat)
    except ImportError:
        pass
    return out


def run_euphonic(nq, threads, repeat):
    from euphonic import ForceConstants, ureg
    from euphonic.powder import sample_sphere_structure_factor

    fc = ForceConstants.from_phonopy(path=str(NACL), summary_name="phonopy_nacl.yaml")
    q = np.random.default_rng(0).random((nq, 3))
    kw = {"asr": "reciprocal", "n_threads": threads}
    out = {}
    out["modes"] = _best(lambda: fc.calculate_qpoint_phonon_modes(q, **kw), repeat)
    modes = fc.calculate_qpoint_phonon_modes(q, **kw)
    mesh = (np.stack(np.meshgrid(*[np.arange(6) / 6] * 3, indexing="ij"), -1).reshape(-1, 3)
            + 1 / 12)
    dw = fc.calculate_qpoint_phonon_modes(mesh, **kw).calculate_debye_waller(300 * ureg("K"))
    out["structure_factors"] = _best(lambda: modes.calculate_structure_factor(dw=dw), repeat)
    qb = np.linspace(0.05, 8.0, 101)
    centres = 0.5 * (qb[1:] + qb[:-1])
    eb = np.linspace(-10, 40, 101) * ureg("meV")

    def powder():
        for qa in centres:
            sample_sphere_structure_factor(fc, qa * ureg("1/angstrom"), dw=dw,
                                           temperature=300 * ureg("K"), sampling="golden",
                                           jitter=False, npts=40, energy_bins=eb, **kw)

    out["powder"] = _best(powder, repeat)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nq", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--worker", choices=["latdyn", "euphonic"])
    ap.add_argument("--result")
    a = ap.parse_args()
    if a.worker:
        os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
        fn = run_latdyn if a.worker == "latdyn" else run_euphonic
        Path(a.result).write_text(json.dumps(fn(a.nq, a.threads, a.repeat)))
        return
    # the two tools alternate, one run each per round, so both see the same machine load
    rounds: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.repeat):
            res: dict[str, dict[str, float]] = {}
            for worker in ("euphonic", "latdyn"):
                path = Path(tmp) / f"{worker}.json"
                env = dict(os.environ, OMP_NUM_THREADS=str(a.threads),
                           OPENBLAS_NUM_THREADS=str(a.threads),
                           EUPHONIC_NUM_THREADS=str(a.threads))
                subprocess.run([sys.executable, __file__, "--worker", worker, "--result",
                                str(path), "--threads", str(a.threads), "--nq", str(a.nq),
                                "--repeat", "1"], check=True, env=env)
                res[worker] = json.loads(path.read_text())
            rounds.append(res)

    def times(worker, key):
        return np.array([r[worker][key] for r in rounds if key in r[worker]])

    def ratios(key):
        return np.array([r["euphonic"][key] / r["latdyn"][key] for r in rounds])

    print(f"NaCl (8 atoms, polar), {a.nq} random q, {a.threads} threads, {a.repeat} rounds; "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'workload':<22}{'Euphonic s':>12}{'latdyn s':>12}{'speed-up':>10}   "
          f"(best time; best / median per-round speed-up)")
    for key in ("modes", "structure_factors", "powder"):
        r = ratios(key)
        print(f"{key:<22}{times('euphonic', key).min():>12.4f}{times('latdyn', key).min():>12.4f}"
              f"{r.max():>10.2f} / {np.median(r):.2f}")
    tot = np.array([(r["euphonic"]["modes"] + r["euphonic"]["structure_factors"])
                    / (r["latdyn"]["modes"] + r["latdyn"]["structure_factors"]) for r in rounds])
    print(f"{'modes + sf':<22}{'':>24}{tot.max():>10.2f} / {np.median(tot):.2f}")
    eigh = np.array([r["latdyn"]["modes"] / r["latdyn"]["bare_eigh"] for r in rounds])
    print(f"latdyn modes / bare numpy eigh of the same matrices (1 call): best {eigh.min():.2f}, "
          f"median {np.median(eigh):.2f}  (eigh {times('latdyn', 'bare_eigh').min():.4f} s, "
          f"dynamical matrices {times('latdyn', 'dynmat').min():.4f} s)")
    eigt = np.array([r["latdyn"]["modes"] / r["latdyn"]["bare_eigh_threads"] for r in rounds])
    print(f"latdyn modes / bare eigh split over {a.threads} threads: best {eigt.min():.2f}, "
          f"median {np.median(eigt):.2f}  (eigh {times('latdyn', 'bare_eigh_threads').min():.4f} s)")
    if len(times("latdyn", "modes_dask")):
        dk = np.array([r["latdyn"]["modes_dask"] / r["latdyn"]["modes"] for r in rounds])
        print(f"latdyn modes as Dask tasks / threads: best {dk.min():.2f}, median {np.median(dk):.2f}")
    print(f"throughput (best): Euphonic {a.nq / times('euphonic', 'modes').min():.0f} q/s, "
          f"latdyn {a.nq / times('latdyn', 'modes').min():.0f} q/s")


if __name__ == "__main__":
    main()
