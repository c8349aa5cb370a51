"""latdyn's global QENS fit against a plain scipy floor, on the same synthetic data, one run.

Data: 20 Q groups x 1000 energies, a measured (tabulated) resolution, Poisson noise.
Two models:

* Fickian: elastic line + one Lorentzian of HWHM hbar D Q^2 (D global) + flat background;
* translation x rotation: Singwi-Sjolander translation (D, tau) convolved with isotropic
  rotation on a sphere (radius, D_r; Sears expansion l <= 3), per-group intensity, elastic line
  and flat background.

The floor is what a careful user writes by hand: the lines sampled on the energy grid,
convolved with the resolution by one FFT, the same parameters and bounds, and
``scipy.optimize.least_squares`` (trust-region reflective) with the same sparse
finite-difference Jacobian.  latdyn instead convolves exactly (hat kernels of the
piecewise-linear resolution), applies detailed balance to first order in the resolution width,
and computes errors and diagnostics.  Both run with single-threaded BLAS; times are CPU time
(best of the rounds, rounds alternate the order).  Prints, per model: one model evaluation
(latdyn / FFT floor) and the whole fit (latdyn / floor), and the recovered parameters.

Run:  python benchmarks/qens_global_fit.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import sparse
from scipy.fft import irfft, next_fast_len, rfft
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

from latdyn import lineshapes as ls
from latdyn.convolution import MeasuredResolution
from latdyn.data import make_spectrum, make_sqe
from latdyn.qens import FitSetup, fit, get_geometry_model, qens_model
from latdyn.qens.spectral_fit import _Problem
from latdyn.units import HBAR_MEV_PS

NQ, NE = 20, 1000
E = np.linspace(-2.0, 2.0, NE)
Q = np.linspace(0.3, 2.0, NQ)
H = E[1] - E[0]
R = 0.85 * ls.gaussian(E, 0.03) + 0.15 * ls.lorentzian(E, 0.03)
R = R / np.trapezoid(R, E)
#: the resolution on a grid centred on zero, for the floor's FFT convolution
U = (np.arange(NE) - NE // 2) * H
R_CENTRED = 0.85 * ls.gaussian(U, 0.03) + 0.15 * ls.lorentzian(U, 0.03)
TRUTH = {"fick": {"D": 0.23}, "tr": {"D": 0.23, "tau": 1.2, "radius": 1.0, "D_r": 0.2}}


def _setup(model: str) -> FitSetup:
    s = FitSetup(qens_model(1, "flat"))
    if model == "fick":
        s.tie_diffusion("L1", "fick", init={"D": 0.1})
    else:
        s.tie_translation("L1", "ss", "sphere-rotation:3", init={"D": 0.1, "tau": 1.0, "radius": 0.8,
                                                                 "D_r": 0.1})
    s.fix("shift", 0.0)
    return s


def _truth_params(model: str) -> dict[str, float]:
    t = TRUTH[model]
    out = {"L1_D": t["D"]}
    if model == "tr":
        out |= {"L1_tau": t["tau"], "eisf_radius": t["radius"], "eisf_D_r": t["D_r"]}
    for i in range(NQ):
        out |= {f"elastic_amplitude_q{i}": 0.3, f"bg0_q{i}": 0.01}
        out |= {f"L1_amplitude_q{i}": 0.7} if model == "fick" else {f"intensity_q{i}": 0.7}
    return out


def _data(model: str, seed: int = 0):
    prep = MeasuredResolution.from_data(make_spectrum(E, R, 1e-3 * R)).prepare(E, Q)
    one = np.ones((NQ, NE))
    exact = _Problem(_setup(model), Q, prep, one, one, one > 0).model(_truth_params(model))
    rng = np.random.default_rng(seed)
    counts = rng.poisson(exact * 3000.0).astype(float)
    return counts / 3000.0, np.sqrt(np.maximum(counts, 1.0)) / 3000.0


class Floor:
    """The hand-written fit: sampled lines, one FFT convolution with R, least_squares."""

    def __init__(self, model: str, y, s):
        self.model, self.y, self.s = model, y, s
        self.n = next_fast_len(2 * NE - 1, real=True)
        self.rf = rfft(R_CENTRED * H, self.n)
        self.gm = get_geometry_model("sphere-rotation:3") if model == "tr" else None

    def lines(self, g):
        """Sampled quasi-elastic part per group (nq, ne)."""
        if self.model == "fick":
            gamma = HBAR_MEV_PS * g[0] * Q**2
            return ls.lorentzian(E[None, :], gamma[:, None])
        D, tau, a, dr = g
        dq2 = D * Q**2
        gt = HBAR_MEV_PS * dq2 / (1 + dq2 * tau)
        A, G = self.gm.terms(Q, radius=a, D_r=dr)
        return sum(A[:, k, None] * ls.lorentzian(E[None, :], (gt + G[:, k])[:, None])
                   for k in range(A.shape[1]))

    def evaluate(self, x):
        ng = 1 if self.model == "fick" else 4
        g, el, amp, bg = x[:ng], x[ng:ng + NQ], x[ng + NQ:ng + 2 * NQ], x[ng + 2 * NQ:]
        qe = irfft(rfft(amp[:, None] * self.lines(g), self.n) * self.rf, self.n)[:, NE // 2:NE // 2 + NE]
        return el[:, None] * R[None, :] + qe + bg[:, None]

    def residual(self, x):
        return ((self.evaluate(x) - self.y) / self.s).ravel()

    def fit(self):
        ng = 1 if self.model == "fick" else 4
        x0 = np.concatenate([[0.1] if ng == 1 else [0.1, 1.0, 0.8, 0.1], np.full(NQ, 0.2), np.full(NQ, 0.5),
                             np.full(NQ, 0.005)])
        lo = np.concatenate([np.full(ng, 1e-8), np.zeros(3 * NQ)])
        J = sparse.lil_matrix((NQ * NE, x0.size), dtype=np.int8)
        J[:, :ng] = 1
        for i in range(NQ):
            rows = slice(i * NE, (i + 1) * NE)
            for block in range(3):
                J[rows, ng + block * NQ + i] = 1
        return least_squares(self.residual, x0, bounds=(lo, np.inf), method="trf", x_scale="jac",
                             jac_sparsity=J.tocsr(), ftol=1e-10, xtol=1e-10, gtol=1e-10)


def _cpu(f, repeat: int = 1):
    t = time.process_time()
    for _ in range(repeat):
        out = f()
    return (time.process_time() - t) / repeat, out


def main(rounds: int = 3) -> None:
    for model in ("fick", "tr"):
        y, s = _data(model)
        data = make_sqe(Q, E, y, s)
        resolution = make_spectrum(E, R, 1e-3 * R)
        floor = Floor(model, y, s)
        prep = MeasuredResolution.from_data(resolution).prepare(E, Q)
        one = np.ones((NQ, NE))
        prob = _Problem(_setup(model), Q, prep, one, one, one > 0)
        p = _truth_params(model)
        x = floor.fit().x
        best = {"eval_latdyn": np.inf, "eval_floor": np.inf, "fit_latdyn": np.inf, "fit_floor": np.inf}
        res = sol = None
        with threadpool_limits(limits=1, user_api="blas"):
            for r in range(rounds):
                order = ("latdyn", "floor") if r % 2 == 0 else ("floor", "latdyn")
                for who in order:
                    if who == "latdyn":
                        t_eval = _cpu(lambda prob=prob, p=p: prob.model(p), 20)[0]
                        best["eval_latdyn"] = min(best["eval_latdyn"], t_eval)
                        t, res = _cpu(lambda d=data, r=resolution, m=model:
                                      fit(d, r, _setup(m), progress=False))
                        best["fit_latdyn"] = min(best["fit_latdyn"], t)
                    else:
                        t_eval = _cpu(lambda f=floor, x=x: f.evaluate(x), 20)[0]
                        best["eval_floor"] = min(best["eval_floor"], t_eval)
                        t, sol = _cpu(floor.fit)
                        best["fit_floor"] = min(best["fit_floor"], t)
        d = res.derived
        print(f"{model}: {NQ} Q x {NE} E, {res.n_varied} parameters")
        print(f"  one model evaluation: latdyn {1e3 * best['eval_latdyn']:.2f} ms, FFT floor "
              f"{1e3 * best['eval_floor']:.2f} ms, ratio {best['eval_latdyn'] / best['eval_floor']:.2f}")
        state = "converged" if res.converged else "NOT converged"
        print(f"  whole fit (CPU): latdyn {best['fit_latdyn']:.2f} s ({state}), "
              f"floor {best['fit_floor']:.2f} s ({sol.nfev} evaluations), ratio "
              f"{best['fit_latdyn'] / best['fit_floor']:.2f}")
        print("  latdyn: " + ", ".join(f"{k} = {q.value:.4g} +- {q.error:.2g} {q.unit}" for k, q in d.items()
                                      if not k.endswith(("l_rms", "tau1"))))
        print(f"  floor:  {np.round(sol.x[:1 if model == 'fick' else 4], 4).tolist()}  truth {TRUTH[model]}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    main(ap.parse_args().rounds)
