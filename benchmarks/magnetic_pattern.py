"""Throughput of the magnetic reflection list and powder pattern (reflections per second).

Structures:
  * NiO from the MAGNDATA file of the tests (2a x 2b x 2c magnetic cell, 64 atoms, 128 magnetic
    operations, parent Fm-3m domains);
  * the MnCoGe-like orthorhombic ferromagnet shipped in latdyn.examples (12 atoms, Pnma);
  * an incommensurate helix (k = (0, 0, 0.137)) on a 12-atom cell: G + k and G - k satellites.

For each: magnetic_reflections (nuclear + magnetic |F|^2, parent-orbit grouping, domain averages)
down to d_min, with the number of h vectors evaluated (integer G and G +- k before grouping) and
the rate in h vectors per second; the nuclear-only reflections() of the same crystal as the
baseline; and a constant-wavelength magnetic_powder_pattern on 4000 points.

Prints timings only (no asserts).  Usage:
    python benchmarks/magnetic_pattern.py [--dmin 0.7] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from importlib import resources
from pathlib import Path

import numpy as np

from latdyn.diffraction import magnetic_powder_pattern, magnetic_reflections, reflections
from latdyn.diffraction.magnetic import satellite_indices
from latdyn.structure import magnetic_structure, read_magnetic_structure, read_mcif

NIO = Path(__file__).resolve().parents[1] / "tests" / "diffraction" / "data" / "mcif" / \
    "magnetic.example.NiO.mcif"


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def structures():
    with resources.as_file(resources.files("latdyn.examples").joinpath("mncoge")) as d:
        orth = read_magnetic_structure(d / "MnCoGe_orthorhombic_FM.yaml")
    helix = magnetic_structure(orth.crystal, {"Mn1": (2.5, 0, 0)}, second={"Mn1": (0, 2.5, 0)},
                               k="0,0,0.137", ions={"Mn1": "Mn3+"})
    out = [("MnCoGe-like FM (Pnma)", orth), ("helix k=(0,0,0.137)", helix)]
    if NIO.is_file():
        out.insert(0, ("NiO MAGNDATA (magnetic cell)", read_mcif(NIO, ions={"Ni": "Ni2+"})))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dmin", type=float, default=0.7)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"{'structure':32s} {'atoms':>5s} {'h evaluated':>11s} {'lines':>6s} {'magnetic s':>10s} "
          f"{'h/s':>9s} {'nuclear s':>9s} {'ratio':>6s} {'pattern s':>9s}")
    tt = np.linspace(10, 150, 4000)
    for name, s in structures():
        lat = s.lattice
        lim = np.floor(lat.abc / args.dmin).astype(int)
        g = np.prod(2 * lim + 1)
        n_h = g + len(satellite_indices(s, args.dmin)) if not s.k_is_zero else g
        refl = magnetic_reflections(s, args.dmin)
        t_mag = best_of(lambda s=s: magnetic_reflections(s, args.dmin), args.repeats)
        t_nuc = best_of(lambda s=s: reflections(s.crystal, args.dmin), args.repeats)
        t_pat = best_of(lambda s=s: magnetic_powder_pattern(s, tt, wavelength=1.5), args.repeats)
        print(f"{name:32s} {len(s.crystal.atoms):5d} {n_h:11d} {len(refl):6d} {t_mag:10.3f} "
              f"{n_h / t_mag:9.0f} {t_nuc:9.3f} {t_mag / t_nuc:6.1f} {t_pat:9.3f}")


if __name__ == "__main__":
    main()
