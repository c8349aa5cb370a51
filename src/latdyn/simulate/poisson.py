r"""Poisson-appropriate weights for least-squares fits of counting data.

Reduced data carry variances from the *observed* counts N: for a value y = N / f (f counts per
unit of y: flux, time, solid angle, bin width, k_f/k_i) the variance is N / f^2, or 1 / f^2
where N = 0.  Least squares with these weights (Neyman's chi^2) is biased: points that
fluctuated low get more weight, so a level of mu counts per bin comes out near mu - 1 (a flat
background of a few counts per bin is underestimated by about one count).

The unbiased estimate is the Poisson maximum likelihood, whose score equation is
sum_i (N_i - mu_i) / mu_i dmu_i/dtheta = 0.  It is reached by iteratively reweighted least
squares (McCullagh and Nelder, *Generalized Linear Models*, 2nd ed. 1989, sec. 2.5): fit with
variances from the *model* of the previous fit (Pearson's chi^2), var_i = max(mu_i, m) / f_i^2,
and repeat until the parameters stop moving; the fixed point satisfies the score equation
wherever mu_i >= m, and the covariance (J^T W J)^-1 with W = 1/mu is the inverse Fisher
information, so the standard errors are the Poisson ones.  The floor m (default 1e-3 counts)
only keeps weights finite where the model vanishes.

f is recovered from the data themselves: f = y / var where y > 0 and f = 1 / sqrt(var) where
y = 0 (the convention var = max(N, 1) / f^2 of :func:`latdyn.simulate.simulate_sqe` and of
count-based reductions); y^2 / var is the number of counts behind each point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipp as sc

from ..errors import FitError, InputError

__all__ = ["counts_per_unit", "pearson_variances", "fit_poisson"]


def counts_per_unit(values, variances) -> np.ndarray:
    """Counts per unit of the data, f = y / var (y > 0) or 1 / sqrt(var) (y = 0).

    Raises InputError where the variance is not positive or y < 0 (not Poisson data)."""
    y = np.asarray(values, dtype=float)
    v = np.asarray(variances, dtype=float)
    ok = np.isfinite(y) & np.isfinite(v)
    if np.any(ok & ((v <= 0) | (y < 0))):
        bad = np.flatnonzero((ok & ((v <= 0) | (y < 0))).ravel())[0]
        raise InputError("Poisson weights need positive variances and non-negative values",
                         field="variances", value=(float(y.ravel()[bad]), float(v.ravel()[bad])))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y / v, 1.0 / np.sqrt(v))


def pearson_variances(data: sc.DataArray, model, floor: float = 1e-3) -> sc.DataArray:
    """A copy of ``data`` whose variances are max(model f, floor) / f^2 (model in data units).

    ``model`` broadcasts to ``data.values``; NaN entries keep the data's variance (points not
    fitted).  ``floor`` in counts."""
    if data.variances is None:
        raise InputError("data need variances (counts) for Poisson weights", field="variances")
    if not (np.isfinite(floor) and floor > 0):
        raise InputError("floor must be a positive number of counts", field="floor", value=floor)
    y = np.asarray(data.values, dtype=float)
    var = np.asarray(data.variances, dtype=float)
    m = np.broadcast_to(np.asarray(model, dtype=float), y.shape)
    f = counts_per_unit(y, var)
    mu = np.maximum(np.where(np.isfinite(m), m, 0.0) * f, floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        new = np.where(np.isfinite(m) & np.isfinite(f) & (f > 0), mu / f**2, var)
    out = data.copy()
    out.variances = new
    return out


def fit_poisson(data: sc.DataArray, fit_once: Callable, *, max_iter: int = 30, rtol: float = 1e-6,
                floor: float = 1e-3):
    """Poisson maximum-likelihood fit by iteratively reweighted least squares.

    ``fit_once(data, start)`` runs one weighted least-squares fit of ``data`` (using its
    variances) from the parameter values ``start`` (None the first time) and returns
    ``(result, model, values)``: anything, the model on the data grid (data units, NaN where
    not fitted), and a dict of the fitted parameter values.  The first fit uses the observed
    variances; each later one the variances of :func:`pearson_variances` from the previous
    model, until every parameter changes by less than ``rtol`` (relative, or absolute for
    values below 1e-12).  Returns ``(result, iterations)`` of the last fit.
    """
    if int(max_iter) < 1:
        raise InputError("max_iter must be at least 1", field="max_iter", value=max_iter)
    result, model, values = fit_once(data, None)
    for it in range(1, int(max_iter) + 1):
        reweighted = pearson_variances(data, model, floor)
        result, model, new = fit_once(reweighted, values)
        change = max((abs(new[k] - values[k]) / max(abs(values[k]), 1e-12) for k in new), default=0.0)
        values = new
        if change < rtol:
            return result, it
    raise FitError(f"Poisson reweighting did not converge in {int(max_iter)} iterations "
                   f"(last relative change {change:.3g})", field="max_iter", value=max_iter)
