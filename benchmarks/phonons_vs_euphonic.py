"""latdyn against Euphonic (C extension), like with like, on three materials.

Materials (built from the phonondb NaCl calculation, A. Togo, CC BY 4.0, in a temporary folder):
  nacl_polar      NaCl, 8-atom cell, Born charges (Ewald dipole sum in both tools)
  nacl_nonpolar   the same force constants without Born charges (non-polar small cell)
  nacl32          a 32-atom cell (2 x 2 x 1 conventional cells) whose 64-atom supercell is the
                  same, non-polar: 96 modes, where the diagonalisation dominates
All force constants are permutation- and translation-symmetrised (phonopy) so both tools
compute the same numbers.

Workloads, each timed in its own worker process (importing phonopy and Euphonic in one
process makes Euphonic single-threaded), one process per (tool, material) and round, the order
of the tools rotated between rounds, the same thread count for both (OMP/OpenBLAS variables
and each tool's n_threads), one warm-up call before the timed call:
  modes    frequencies + eigenvectors at nq random q (--nq; a quarter for nacl32)
  powder   a powder map: 20 |Q| shells x 400 directions, 100 energy bins, 300 K, Debye-Waller
           from a 6^3 mesh, each tool's batched API (latdyn powder_map with one Fibonacci set;
           Euphonic: all q of all shells in one calculate_qpoint_phonon_modes,
           calculate_structure_factor and calculate_sqw_map call, then averaged per shell)
  eigh     (latdyn worker) numpy's batched eigh of the same dynamical matrices, split over the
           same threads (BLAS single-threaded): the floor of the diagonalisation
  dynmat   (latdyn worker) building those dynamical matrices alone
CPU time is the process time of the worker (all its threads), wall time perf_counter.

    python benchmarks/phonons_vs_euphonic.py [--threads 2] [--nq 10000] [--rounds 5]
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

NACL = Path(os.environ.get("LATDYN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared"
                           / "data")) / "phonopy" / "NaCl" / "phonopy_nacl.yaml"
MATERIALS = ("nacl_polar", "nacl_nonpolar", "nacl32")
QB = np.linspace(0.5, 8.5, 21)
EB = np.linspace(-10.0, 40.0, 101)


# --- materials ----------------------------------------------------------------------------------

def _phonopy(symbols, cell, frac, masses, smat):
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    atoms = PhonopyAtoms(symbols=symbols, cell=cell, scaled_positions=frac, masses=masses)
    return Phonopy(atoms, supercell_matrix=smat, primitive_matrix="P")


def _write(d, folder: Path) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "phonopy.yaml").write_text(yaml.safe_dump(d))
    return folder / "phonopy.yaml"


def make_materials(root: Path) -> dict[str, str]:
    """Write the three phonopy.yaml files; {name: path}."""
    import yaml
    from phonopy.harmonic.force_constants import compact_fc_to_full_fc, symmetrize_force_constants

    d = yaml.safe_load(NACL.read_text())
    uc = d["unit_cell"]
    syms = [p["symbol"] for p in uc["points"]]
    frac = np.array([p["coordinates"] for p in uc["points"]])
    masses = [p["mass"] for p in uc["points"]]
    cell = np.array(uc["lattice"])
    ph = _phonopy(syms, cell, frac, masses, d["supercell_matrix"])
    fc = np.array(d["force_constants"]["elements"]).reshape(d["force_constants"]["shape"] + [3, 3])
    full = compact_fc_to_full_fc(ph.primitive, fc)
    symmetrize_force_constants(full, level=2)
    polar = dict(d)
    polar["force_constants"] = {"format": "compact", "shape": list(fc.shape[:2]),
                                "elements": full[ph.primitive.p2s_map].tolist()}
    out = {"nacl_polar": str(_write(polar, root / "nacl_polar"))}
    nonpolar = {k: v for k, v in polar.items() if k not in ("born_effective_charge",
                                                            "dielectric_constant")}
    nonpolar["phonopy"] = {k: v for k, v in d["phonopy"].items()
                           if k != "nac_unit_conversion_factor"}
    out["nacl_nonpolar"] = str(_write(nonpolar, root / "nacl_nonpolar"))
    # 32-atom cell: 2 x 2 x 1 conventional cells, supercell 1 x 1 x 2 of it = the same 64 atoms
    big_frac = np.vstack([(frac + [i, j, 0]) / [2, 2, 1] for i in range(2) for j in range(2)])
    big = _phonopy(syms * 4, cell * [[2], [2], [1]], big_frac, masses * 4, np.diag([1, 1, 2]))
    sc_old = ph.supercell.scaled_positions @ ph.supercell.cell
    sc_new = big.supercell.scaled_positions @ big.supercell.cell
    inv = np.linalg.inv(ph.supercell.cell)
    order = []
    for r in sc_new:
        dfrac = (sc_old - r) @ inv
        order.append(int(np.flatnonzero(np.all(np.abs(dfrac - np.rint(dfrac)) < 1e-6, axis=1))[0]))
    full_new = full[np.ix_(order, order)]
    b = dict(nonpolar)
    b["unit_cell"] = {"lattice": (cell * [[2], [2], [1]]).tolist(), "points": [
        {"symbol": s, "coordinates": f.tolist(), "mass": m}
        for s, f, m in zip(syms * 4, big_frac, masses * 4, strict=True)]}
    b["supercell_matrix"] = np.diag([1, 1, 2]).tolist()
    b["primitive_matrix"] = np.eye(3).tolist()
    b["supercell"] = {"lattice": big.supercell.cell.tolist(), "points": [
        {"symbol": s, "coordinates": f.tolist(), "mass": float(m), "reduced_to": int(r) + 1}
        for s, f, m, r in zip(big.supercell.symbols, big.supercell.scaled_positions,
                              big.supercell.masses, big.primitive.s2p_map, strict=True)]}
    b["primitive_cell"] = b["unit_cell"]
    b["force_constants"] = {"format": "compact", "shape": [32, 64],
                            "elements": full_new[big.primitive.p2s_map].tolist()}
    out["nacl32"] = str(_write(b, root / "nacl32"))
    return out


def _directions(npts):
    from latdyn.phonons.maps import fibonacci_sphere

    return fibonacci_sphere(npts)


# --- workers ------------------------------------------------------------------------------------

def _timed(fn):
    fn()                                           # warm-up
    c, w = time.process_time(), time.perf_counter()
    fn()
    return {"cpu": time.process_time() - c, "wall": time.perf_counter() - w}


def run_latdyn(path, nq, threads, npts):
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from latdyn.phonons import load_phonopy
    from latdyn.phonons.debye_waller import debye_waller
    from latdyn.phonons.maps import powder_map
    from latdyn.phonons.modes import calculate_modes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_phonopy(path, asr="reciprocal")
    q = np.random.default_rng(0).random((nq, 3))
    out = {"modes": _timed(lambda: calculate_modes(model, q, n_threads=threads, progress=False))}
    parts = np.array_split(q, threads)
    mats = [model.dynamical_matrices(p) for p in parts]
    with ThreadPoolExecutor(threads) as pool, threadpool_limits(1, user_api="blas"):
        out["eigh"] = _timed(lambda: list(pool.map(np.linalg.eigh, mats)))
        out["dynmat"] = _timed(lambda: list(pool.map(model.dynamical_matrices, parts)))
    dw = debye_waller(model, 300.0, 6)
    out["powder"] = _timed(lambda: powder_map(model, QB, EB, 300.0, npts=npts, n_sets=1, dw=dw,
                                              n_threads=threads, progress=False))
    return out


def run_euphonic(path, nq, threads, npts):
    from euphonic import ForceConstants, ureg

    p = Path(path)
    fc = ForceConstants.from_phonopy(path=str(p.parent), summary_name=p.name)
    q = np.random.default_rng(0).random((nq, 3))
    kw = {"asr": "reciprocal", "n_threads": threads}
    out = {"modes": _timed(lambda: fc.calculate_qpoint_phonon_modes(q, **kw))}
    mesh = (np.stack(np.meshgrid(*[np.arange(6) / 6] * 3, indexing="ij"), -1).reshape(-1, 3)
            + 1 / 12)
    dw = fc.calculate_qpoint_phonon_modes(mesh, **kw).calculate_debye_waller(300 * ureg("K"))
    recip = fc.crystal.reciprocal_cell.to("1/angstrom").magnitude
    dirs = _directions(npts)
    centres = 0.5 * (QB[1:] + QB[:-1])
    q_all = (centres[:, None, None] * dirs[None]).reshape(-1, 3) @ np.linalg.inv(recip)
    eb = EB * ureg("meV")

    def powder():
        modes = fc.calculate_qpoint_phonon_modes(q_all, **kw)
        sf = modes.calculate_structure_factor(dw=dw)
        sqw = sf.calculate_sqw_map(eb, calc_bose=True, temperature=300 * ureg("K"))
        return sqw.z_data.magnitude.reshape(len(centres), npts, -1).mean(axis=1)

    out["powder"] = _timed(powder)
    return out


# --- driver -------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nq", type=int, default=10000)
    ap.add_argument("--npts", type=int, default=400, help="powder directions per |Q| shell")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--worker", choices=["latdyn", "euphonic"])
    ap.add_argument("--path")
    ap.add_argument("--result")
    a = ap.parse_args()
    if a.worker:
        fn = run_latdyn if a.worker == "latdyn" else run_euphonic
        Path(a.result).write_text(json.dumps(fn(a.path, a.nq, a.threads, a.npts)))
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads),
               MKL_NUM_THREADS=str(a.threads), EUPHONIC_NUM_THREADS=str(a.threads))
    tools = ["euphonic", "latdyn"]
    res = {m: {t: [] for t in tools} for m in MATERIALS}
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_materials(Path(tmp))
        for rnd in range(a.rounds):
            order = tools[rnd % 2:] + tools[:rnd % 2]          # rotate the order each round
            for m in MATERIALS:
                nq = a.nq if m != "nacl32" else a.nq // 4
                for t in order:
                    out = Path(tmp) / f"{t}.json"
                    subprocess.run([sys.executable, __file__, "--worker", t, "--path", paths[m],
                                    "--result", str(out), "--threads", str(a.threads),
                                    "--nq", str(nq), "--npts", str(a.npts)], check=True, env=env)
                    res[m][t].append(json.loads(out.read_text()))
    print(f"{a.threads} threads, {a.rounds} rounds (tool order rotated), nq = {a.nq} "
          f"({a.nq // 4} for nacl32), powder {len(QB) - 1} shells x {a.npts} directions; "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    print("| material | workload | Euphonic CPU s (best / median) | latdyn CPU s (best / median) "
          "| Euphonic wall s (median) | latdyn wall s (median) | Euphonic / latdyn CPU (median) |")
    print("|---|---|---|---|---|---|---|")
    for m in MATERIALS:
        for w in ("modes", "powder"):
            e = np.array([r[w]["cpu"] for r in res[m]["euphonic"]])
            ld = np.array([r[w]["cpu"] for r in res[m]["latdyn"]])
            ew = np.median([r[w]["wall"] for r in res[m]["euphonic"]])
            lw = np.median([r[w]["wall"] for r in res[m]["latdyn"]])
            print(f"| {m} | {w} | {e.min():.3f} / {np.median(e):.3f} | {ld.min():.3f} / "
                  f"{np.median(ld):.3f} | {ew:.3f} | {lw:.3f} | {np.median(e / ld):.2f} |")
    print("\n| material | latdyn modes CPU / eigh floor CPU (best / median) | dynamical matrices "
          "CPU / eigh CPU (median) | eigh floor CPU s (median) |")
    print("|---|---|---|---|")
    for m in MATERIALS:
        r = res[m]["latdyn"]
        floor = np.array([x["modes"]["cpu"] / x["eigh"]["cpu"] for x in r])
        build = np.array([x["dynmat"]["cpu"] / x["eigh"]["cpu"] for x in r])
        print(f"| {m} | {floor.min():.2f} / {np.median(floor):.2f} | {np.median(build):.2f} | "
              f"{np.median([x['eigh']['cpu'] for x in r]):.3f} |")


if __name__ == "__main__":
    main()
