r"""Fits of Q-dependent QENS results: HWHM(Q) to a diffusion model, EISF(Q) to a geometry model.

The classic two-step analysis: widths and elastic fractions fitted per Q group first
(:func:`latdyn.fitting.fit` with ``mode='per-q'``), then their Q dependence here.  Weighted
least squares, chi^2 = sum ((f(Q_i) - y_i) / sigma_i)^2, trust-region reflective with the
physical bounds (all parameters positive, immobile fraction in [0, 1]).  Standard errors from
the covariance C = (J^T J)^-1 of the weighted residuals (``scale_covar=True`` multiplies C by
chi^2_red, as when the point errors are believed to be underestimated).  AIC = chi^2 + 2k,
BIC = chi^2 + k ln n (Burnham & Anderson 2002) compare models fitted to the same points.

Units: Q in 1/A, HWHM in meV, D in A^2/ps, tau in ps, lengths in A (see
:mod:`latdyn.qens.diffusion` and :mod:`latdyn.qens.geometry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from .. import fitstats
from ..errors import FitError, InputError
from .diffusion import get_diffusion_model
from .geometry import get_geometry_model

__all__ = ["CurveFit", "fit_hwhm", "fit_eisf"]


@dataclass
class CurveFit(fitstats.FitStatistics):
    """Result of a fit of a model curve to values over Q."""

    model: str
    names: list[str]
    values: np.ndarray
    errors: np.ndarray
    units: list[str]
    covariance: np.ndarray | None
    chi2: float
    ndata: int
    function: Callable = field(repr=False)
    derived: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def nvarys(self) -> int:
        return len(self.names)

    @property
    def params(self) -> dict[str, tuple[float, float]]:
        """Parameter name -> (value, standard error)."""
        return {n: (float(v), float(e)) for n, v, e in zip(self.names, self.values, self.errors, strict=True)}

    def curve(self, Q) -> np.ndarray:
        """The fitted model at Q (1/A)."""
        return np.asarray(self.function(np.atleast_1d(np.asarray(Q, float)), *self.values), dtype=float)

    def summary(self) -> dict:
        out = {"model": self.model, "chi2": self.chi2, "chi2_red": self.redchi, "ndata": self.ndata,
               "nvarys": self.nvarys, "aic": self.aic, "bic": self.bic}
        for n, (v, e) in self.params.items():
            out[n], out[f"{n}_err"] = v, e
        for n, (v, e) in self.derived.items():
            out[n], out[f"{n}_err"] = v, e
        return out


def _points(Q, y, err, what: str):
    q = np.asarray(Q, dtype=float).ravel()
    v = np.asarray(y, dtype=float).ravel()
    e = np.asarray(err, dtype=float).ravel()
    if not (q.size == v.size == e.size):
        raise InputError(f"Q, {what} and errors must have the same length", field=what,
                         value=(q.size, v.size, e.size))
    ok = np.isfinite(q) & np.isfinite(v) & np.isfinite(e) & (e > 0)
    if ok.sum() < 2:
        raise FitError(f"fewer than 2 points with finite {what} and positive error", field=what,
                       value=int(ok.sum()))
    return q[ok], v[ok], e[ok]


def _fit(f, names, units, x0, lo, hi, q, y, e, label, scale_covar) -> CurveFit:
    if q.size < len(names):
        raise FitError(f"{label}: {q.size} points cannot determine {len(names)} parameters",
                       field="model", value=label)
    x0 = np.clip(np.asarray(x0, float), np.asarray(lo) + 1e-12, np.asarray(hi) - 1e-12)

    def resid(p):
        return (f(q, *p) - y) / e

    sol = least_squares(resid, x0, bounds=(lo, hi), method="trf", x_scale="jac", xtol=1e-12,
                        ftol=1e-12, gtol=1e-12, max_nfev=2000)
    chi2 = float(sol.fun @ sol.fun)
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
            cov = None
    except np.linalg.LinAlgError:
        cov = None
    if cov is not None and scale_covar:
        cov = cov * chi2 / max(q.size - len(names), 1)
    err = np.sqrt(np.diag(cov)) if cov is not None else np.full(len(names), np.nan)
    return CurveFit(label, list(names), sol.x.copy(), err, list(units), cov, chi2, int(q.size), f)


def fit_hwhm(Q, hwhm, error, model: str, init: dict | None = None, scale_covar: bool = False) -> CurveFit:
    """Fit Gamma(Q) (HWHM, meV, with errors) to a diffusion model of :mod:`latdyn.qens.diffusion`.

    Returns a :class:`CurveFit`; ``derived`` holds D in A^2/ps, cm^2/s and m^2/s and the
    residence time / jump length of the model, each with its propagated error.
    """
    dm = get_diffusion_model(model)
    q, y, e = _points(Q, hwhm, error, "HWHM")
    init = init or {}
    x0 = [float(init.get(p, g)) for p, g in zip(dm.params, dm.guess, strict=True)]
    if "D" in dm.params and "D" not in init:  # the low-Q slope: Gamma = hbar D Q^2
        from ..units import HBAR_MEV_PS

        k = np.argsort(q)[: max(2, q.size // 3)]
        x0[dm.params.index("D")] = max(float(np.median(y[k] / (HBAR_MEV_PS * q[k] ** 2))), 1e-4)

    def f(Q, *p):
        return dm.hwhm(Q, **dict(zip(dm.params, p, strict=True)))

    r = _fit(f, dm.params, dm.units, x0, [1e-10] * len(x0), [np.inf] * len(x0), q, y, e, dm.name,
             scale_covar)
    r.derived = _propagate_derived(lambda **p: dm.derived(**p), r)
    return r


def fit_eisf(Q, eisf, error, spec: str, immobile: bool = False, init: dict | None = None,
             scale_covar: bool = False) -> CurveFit:
    """Fit EISF(Q) (with errors) to a geometry model spec of :mod:`latdyn.qens.geometry`.

    Only the parameters that shape the EISF are fitted (lengths, and with ``immobile`` the
    immobile fraction p: EISF = p + (1 - p) A_0); a rate or time that only sets the widths is
    held at its guess and is not reported.
    """
    gm = get_geometry_model(spec)
    q, y, e = _points(Q, eisf, error, "EISF")
    init = init or {}
    shape = [p for p, u in zip(gm.params, gm.units, strict=True) if u in ("A", "A^2")]
    fixed = {p: float(init.get(p, g)) for p, g in zip(gm.params, gm.guess, strict=True) if p not in shape}
    names = shape + (["immobile"] if immobile else [])
    units = [u for p, u in zip(gm.params, gm.units, strict=True) if p in shape] + (["1"] if immobile else [])
    guess = dict(zip(gm.params, gm.guess, strict=True))
    x0 = [float(init.get(p, guess[p])) for p in shape]
    x0 += [float(init.get("immobile", 0.1))] if immobile else []
    lo = [1e-6] * len(shape) + ([0.0] if immobile else [])
    hi = [np.inf] * len(shape) + ([1.0] if immobile else [])

    def f(Q, *p):
        kw = dict(zip(shape, p[: len(shape)], strict=True)) | fixed
        return gm.eisf(Q, immobile=p[-1] if immobile else 0.0, **kw)

    # EISF models are oscillatory in the length: start from a few lengths, keep the best
    best = None
    for scale in (1.0, 0.6, 1.6):
        x = list(x0)
        x[: len(shape)] = [v * scale for v in x0[: len(shape)]]
        r = _fit(f, names, units, x, lo, hi, q, y, e, gm.name, scale_covar)
        if best is None or r.chi2 < best.chi2 - 1e-9:
            best = r
    return best


def _propagate_derived(fn, r: CurveFit) -> dict[str, tuple[float, float]]:
    vals = dict(zip(r.names, r.values, strict=True))
    base = fn(**vals)
    out = {}
    for key, v in base.items():
        g = np.zeros(len(r.names))
        for i, n in enumerate(r.names):
            h = 1e-7 * max(abs(vals[n]), 1e-12)
            up = dict(vals)
            up[n] += h
            g[i] = (fn(**up)[key] - v) / h
        err = float(np.sqrt(max(g @ r.covariance @ g, 0.0))) if r.covariance is not None else np.nan
        out[key] = (float(v), err)
    return out
