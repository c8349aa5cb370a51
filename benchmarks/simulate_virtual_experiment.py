"""Timings of the virtual experiment: simulate_sqe on a direct-geometry instrument, and a
Poisson round-trip fit.

1. A powder-like S(Q, E) (a dispersing damped mode plus a quasielastic Lorentzian and a flat
   background) measured on AMATERAS at Ei = 7.738 meV on n_q x n_e points: latdyn's
   simulate_sqe (one block of resolution kernels shared by all |Q|) against the per-|Q|
   evaluation of the same convolution (convolve_gaussian_variable row by row), with the largest
   relative difference between the two and their time ratio.
2. The virtual QENS round trip of the tests (IRIS, elastic + Lorentzian + background): one
   simulate + Poisson fit (latdyn.fitting inside latdyn.simulate.fit_poisson), and the number of
   reweighting iterations.

Prints timings only (no asserts).  Usage:
    python benchmarks/simulate_virtual_experiment.py [--nq 200] [--ne 600] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from latdyn.convolution import AnalyticResolution
from latdyn.instruments import FWHM_PER_SIGMA, load_instrument
from latdyn.lineshapes import dho, lorentzian
from latdyn.qens import FitSetup, fit, qens_model
from latdyn.simulate import convolve_gaussian_variable, fit_poisson, simulate_sqe, virtual_qens
from latdyn.simulate.virtual import resolution_fwhm


def model(q: float, e: np.ndarray) -> np.ndarray:
    """Damped acoustic-like mode E0 = 3 |sin(Q/2)| meV at 100 K, QENS line, background."""
    e0 = 0.3 + 3.0 * abs(np.sin(0.5 * q))
    return 0.5 * dho(e, e0, 0.1, 100.0) + 0.2 * lorentzian(e, 0.05 * q**2) + 0.01


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nq", type=int, default=200)
    ap.add_argument("--ne", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    amateras = load_instrument("AMATERAS")
    ei = 7.738
    q = np.linspace(0.2, 3.0, args.nq)
    e = np.linspace(-2.0, 0.9 * ei, args.ne)

    def batched():
        return simulate_sqe(model, amateras, q, e, ei=ei, noise=False, progress=False)

    fwhm = resolution_fwhm(amateras, e, ei=ei)

    def per_q():
        return np.array([convolve_gaussian_variable(lambda x, qi=qi: model(qi, x), e, fwhm) for qi in q])

    t_batch = best_of(batched, args.repeats)
    t_row = best_of(per_q, args.repeats)
    da = batched()
    ref = per_q()
    inside = ~da.masks["outside_coverage"].values          # noise-free values are S itself
    diff = np.max(np.abs(da.values[inside] - ref[inside]) / np.maximum(np.abs(ref[inside]), 1e-12))
    print(f"simulate_sqe AMATERAS Ei={ei} meV, {args.nq} |Q| x {args.ne} E (noise-free):")
    print(f"  latdyn (shared kernels): {t_batch:8.3f} s   ({args.nq * args.ne / t_batch:,.0f} points/s)")
    print(f"  per-|Q| convolution:     {t_row:8.3f} s   ratio per-|Q| / latdyn = {t_row / t_batch:.1f}")
    print(f"  max relative difference inside the coverage: {diff:.2e}")

    iris = load_instrument("IRIS")
    res = AnalyticResolution(np.array([float(iris.resolution(0.0)) / FWHM_PER_SIGMA]), np.zeros(1),
                             np.zeros(1), np.zeros(1))
    setup = FitSetup(qens_model(1, "flat"))
    setup.set("L1_hwhm", 0.03, 1e-4, 1.0)
    setup.fix("shift", 0.0)

    def once(data, start):
        r = fit(data, res, setup, start=start)
        m = np.full(data.values.shape, np.nan)
        for g in r.groups:
            m[g.index] = g.model
        return r, m, r.values

    iters = []

    def round_trip():
        da = virtual_qens(lambda qq, x: 0.7 * lorentzian(x, 0.04) + 5e-4, iris, [0.5, 1.0, 1.5],
                          elastic=lambda qq: 0.3, counts_scale=3000.0, seed=1, progress=False)
        iters.append(fit_poisson(da, once)[1])

    t_rt = best_of(round_trip, args.repeats)
    print("virtual QENS round trip on IRIS (3 |Q| x 201 E, Poisson fit):")
    print(f"  simulate + fit_poisson: {t_rt:8.3f} s   reweighting iterations: {iters[-1]}")


if __name__ == "__main__":
    main()
