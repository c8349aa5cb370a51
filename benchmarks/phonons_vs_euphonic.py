"""Time latdyn against Euphonic (C extension, same thread count) on the same force constants.

Workloads, on NaCl (phonondb, A. Togo; polar, 8 atoms, Ewald dipole sum):
  1. frequencies + eigenvectors at 10,000 random q-points,
  2. coherent structure factors at those q-points (Debye-Waller factors precomputed),
  3. a 100-bin (|Q|) powder map (40 directions per sphere, 100 energy bins, 300 K),
and the bare numpy batched eigh of the same 10,000 dynamical matrices.

Euphonic and phonopy/latdyn run in separate processes (importing both in one process makes
Euphonic single-threaded), alternating so that both see the same load on a shared machine;
each timing is the best of --repeat rounds.

    python benchmarks/phonons_vs_euphonic.py [--threads 2] [--nq 10000] [--repeat 3]
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

NACL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "phonopy" / "NaCl"


def _best(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run_latdyn(nq, threads, repeat):
    import numpy as np

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
    out["dynmat"] = _best(lambda: model.dynamical_matrices(q), repeat)
    qb = np.linspace(0.05, 8.0, 101)
    eb = np.linspace(-10, 40, 101)
    out["powder"] = _best(lambda: powder_map(model, qb, eb, 300.0, npts=40, dw=dw,
                                             n_threads=threads, progress=False), repeat)
    return out


def run_euphonic(nq, threads, repeat):
    import numpy as np
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
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--worker", choices=["latdyn", "euphonic"])
    ap.add_argument("--result")
    a = ap.parse_args()
    if a.worker:
        os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
        fn = run_latdyn if a.worker == "latdyn" else run_euphonic
        Path(a.result).write_text(json.dumps(fn(a.nq, a.threads, a.repeat)))
        return
    # the two tools alternate, one run each per round, so both see the same machine load
    res: dict[str, dict[str, float]] = {"euphonic": {}, "latdyn": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.repeat):
            for worker in ("euphonic", "latdyn"):
                path = Path(tmp) / f"{worker}.json"
                env = dict(os.environ, OMP_NUM_THREADS=str(a.threads),
                           OPENBLAS_NUM_THREADS=str(a.threads),
                           EUPHONIC_NUM_THREADS=str(a.threads))
                subprocess.run([sys.executable, __file__, "--worker", worker, "--result",
                                str(path), "--threads", str(a.threads), "--nq", str(a.nq),
                                "--repeat", "1"], check=True, env=env)
                for key, value in json.loads(path.read_text()).items():
                    res[worker][key] = min(value, res[worker].get(key, float("inf")))
    eu, ld = res["euphonic"], res["latdyn"]
    print(f"NaCl (8 atoms, polar), {a.nq} random q, {a.threads} threads, best of {a.repeat}")
    print(f"{'workload':<22}{'Euphonic s':>12}{'latdyn s':>12}{'speed-up':>10}")
    for key in ("modes", "structure_factors", "powder"):
        print(f"{key:<22}{eu[key]:>12.4f}{ld[key]:>12.4f}{eu[key] / ld[key]:>10.2f}")
    total_eu = eu["modes"] + eu["structure_factors"]
    total_ld = ld["modes"] + ld["structure_factors"]
    print(f"{'modes + sf':<22}{total_eu:>12.4f}{total_ld:>12.4f}{total_eu / total_ld:>10.2f}")
    print(f"latdyn modes / bare numpy eigh (1 call, same matrices): "
          f"{ld['modes'] / ld['bare_eigh']:.2f}  (eigh {ld['bare_eigh']:.4f} s, "
          f"dynamical matrices {ld['dynmat']:.4f} s)")
    print(f"throughput: Euphonic {a.nq / eu['modes']:.0f} q/s, latdyn {a.nq / ld['modes']:.0f} q/s")


if __name__ == "__main__":
    main()
