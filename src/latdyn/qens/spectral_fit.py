r"""Fit workflows: per-group, sequential (warm-started) and global fits of a :class:`FitSetup`.

Weighted least squares, chi^2 = sum ((M - y) / sigma)^2, minimised by lmfit's
``least_squares`` (trust-region reflective, bounds native).  In a global fit the Jacobian's
sparsity (a per-group parameter only moves its own group) is passed on, so finite differences
cost a few model evaluations per iteration whatever the number of groups.  Standard errors
come from the covariance (J^T J)^-1 (errors scaled by sqrt(chi^2_red) only on request,
``scale_covar``); MCMC (emcee through lmfit) is available for small problems.

Bad groups never stop the others: NaN values, zero errors, an empty group or a resolution
without overlap are reported in ``FitResult.status`` with the group's Q and the reason.
"""

from __future__ import annotations

import numpy as np
import scipp as sc
from scipy import sparse

from ..convolution.resolution import AnalyticResolution, MeasuredResolution
from ..errors import FitError, InputError
from ..fitresult import solve
from ..progress import track
from .prepare import combined_mask
from .spectral_model import FitSetup
from .spectral_result import GroupResult, SpectralFitResult

__all__ = ["fit", "data_arrays"]


def data_arrays(data: sc.DataArray, source: str | None = None):
    """(Q (nG,), E (nE,), y (nG, nE), sigma (nG, nE) or None) of a ('Q','E') or ('E') DataArray."""
    if not isinstance(data, sc.DataArray) or "E" not in data.dims or data.ndim > 2:
        raise InputError("data must be a DataArray with dims ('Q', 'E') or ('E')", file=source,
                         field="dims", value=getattr(data, "dims", type(data).__name__))
    if data.ndim == 2:
        other = [d for d in data.dims if d != "E"][0]
        data = data.transpose([other, "E"])
        q = np.asarray(data.coords[other].values, float) if other in data.coords else \
            np.arange(data.sizes[other], dtype=float)
        if q.size == data.sizes[other] + 1:
            q = 0.5 * (q[1:] + q[:-1])
    else:
        q = np.atleast_1d(np.asarray(data.coords["Q"].values, float)) if "Q" in data.coords \
            else np.array([np.nan])
    e = np.asarray(sc.to_unit(data.coords["E"], "meV").values, float)
    if data.coords.is_edges("E"):
        e = 0.5 * (e[1:] + e[:-1])
    if e.size < 3 or np.any(np.diff(e) <= 0):
        raise InputError("energy coordinate must be strictly increasing with at least 3 points",
                         file=source, field="E", value=e.size)
    y = np.atleast_2d(np.asarray(data.values, float))
    s = None if data.variances is None else np.sqrt(np.atleast_2d(np.asarray(data.variances, float)))
    masked = np.atleast_2d(combined_mask(data))
    if masked.any():
        y = np.where(masked, np.nan, y)
    return q, e, y, s


#: a group with at most this fraction of unusable (non-finite or masked-by-file) points is
#: fitted on the rest, with a note; more, and the group is dropped with its reason
MAX_BAD_FRACTION = 0.1


def _group_problems(y, s, zero_errors, masked=None):
    """(per-group reasons not to fit, usable points, per-group notes); points masked in the
    data (scipp masks) are left out.  Non-finite values or errors: masked point by point (with
    a note) when at most :data:`MAX_BAD_FRACTION` of the group, else the group is dropped."""
    masked = np.zeros(y.shape, bool) if masked is None else masked
    problems, notes, masks = {}, {}, np.isfinite(y) | masked
    masks &= ~masked
    for i in range(y.shape[0]):
        if s is None:
            problems[i] = "no uncertainties (variances) in the data"
            continue
        if not np.any(np.isfinite(y[i])) or np.all(y[i][np.isfinite(y[i])] == 0):
            problems[i] = "empty group (no finite non-zero intensity)"
            continue
        n = y.shape[1]
        nonfinite = (~np.isfinite(y[i]) | ~np.isfinite(s[i])) & ~masked[i]
        if nonfinite.any():
            if nonfinite.sum() > MAX_BAD_FRACTION * n:
                problems[i] = f"{int(nonfinite.sum())} of {n} points NaN or infinite"
                continue
            masks[i] &= ~nonfinite
            notes[i] = f"{int(nonfinite.sum())} NaN or infinite point(s) masked"
        bad = ~(s[i] > 0) & ~masked[i] & ~nonfinite
        if np.any(bad):
            if zero_errors == "mask":
                masks[i] &= ~bad
                notes[i] = "; ".join(filter(None, [notes.get(i), f"{int(bad.sum())} point(s) with zero or "
                                                                  "negative error masked"]))
            else:
                problems[i] = (f"{int(bad.sum())} zero, negative or NaN errors "
                               "(mask them with zero_errors='mask')")
                continue
        if masks[i].sum() < 4:
            problems[i] = "fewer than 4 usable points"
        elif masked[i].any():
            notes[i] = "; ".join(filter(None, [notes.get(i), f"{int(masked[i].sum())} of {n} points masked "
                                                              "in the data"]))
    return problems, masks, notes


class _Problem:
    """lmfit parameters, residual and Jacobian sparsity of a setup on a set of groups."""

    def __init__(self, setup: FitSetup, Q, res, y, s, mask, start=None, shared_as_perq=False,
                 data_unit: str = "dimensionless"):
        import lmfit

        self.setup, self.Q, self.res, self.y, self.mask = setup, Q, res, y, mask
        self.units: dict[str, str] = {}
        self.s = np.where(mask & (s > 0), s, 1.0)
        self.nq = Q.size
        self.params = lmfit.Parameters()
        self.owner: dict[str, int | None] = {}  # fit parameter -> group index (None = all)
        start = start or {}

        def add(name, init, lo, hi, group):
            v = start.get(name, init)
            v = float(np.clip(v, lo, hi)) if np.isfinite(v) else init
            self.params.add(name, value=v, min=lo, max=hi)
            self.owner[name] = group
            self.units[name] = setup.parameter_unit(name, data_unit)

        for n in setup.model.param_names:
            r = setup.rules[n]
            kind = "perq" if (r.kind == "shared" and shared_as_perq) else r.kind
            if kind == "perq":
                init = _guess(n, r.value, y, res, mask)
                for i in range(self.nq):
                    add(f"{n}_q{i}", init[i], r.min, r.max, i)
            elif kind == "shared":
                init = r.value if np.isfinite(r.value) else float(np.median(_guess(n, r.value, y, res, mask)))
                add(n, init, r.min, r.max, None)
            elif kind == "derived":
                for g, (v, lo, hi) in r.globals.items():
                    if g not in self.params:
                        add(g, v, lo, hi, None)
                for g, (v, lo, hi) in r.perq.items():
                    init = _guess(g, v, y, res, mask)
                    for i in range(self.nq):
                        if f"{g}_q{i}" not in self.params:
                            add(f"{g}_q{i}", init[i], lo, hi, i)

    def arrays(self, values) -> dict[str, np.ndarray]:
        """Model parameter arrays over groups from fit-parameter values (a dict)."""
        out = {}
        for n in self.setup.model.param_names:
            r = self.setup.rules[n]
            if r.kind == "fixed":
                out[n] = np.full(self.nq, r.value)
            elif f"{n}_q0" in values:
                out[n] = np.array([values[f"{n}_q{i}"] for i in range(self.nq)])
            elif r.kind == "shared":
                out[n] = np.full(self.nq, values[n])
            else:
                g = {k: values[k] for k in r.globals}
                g.update({k: np.array([values[f"{k}_q{i}"] for i in range(self.nq)]) for k in r.perq})
                out[n] = np.asarray(r.function(self.Q, g), dtype=float)
        return out

    def model(self, values, parts=False):
        return self.setup.model.evaluate(self.res, self.arrays(values), parts=parts)

    def residual(self, params):
        m = self.model(params.valuesdict())
        return ((m - self.y) / self.s)[self.mask]

    def sparsity(self):
        names = [n for n, p in self.params.items() if p.vary and not p.expr]
        rows_of_group = []
        start = 0
        for i in range(self.nq):
            k = int(self.mask[i].sum())
            rows_of_group.append(np.arange(start, start + k))
            start += k
        J = sparse.lil_matrix((start, len(names)), dtype=np.int8)
        for c, n in enumerate(names):
            g = self.owner[n]
            rows = np.arange(start) if g is None else rows_of_group[g]
            J[rows, c] = 1
        return J.tocsr()


def _half_width(E, y):
    """Half width at half maximum (above the lowest tenth) of a peaked curve, by counting points."""
    base = np.nanpercentile(y, 10) if np.any(np.isfinite(y)) else 0.0
    top = np.nanmax(y) - base
    if not np.isfinite(top) or top <= 0:
        return np.nan
    above = (y - base) >= 0.5 * top
    return 0.5 * float(np.sum(np.gradient(E)[above]))


def width_guess(y, res, mask) -> np.ndarray:
    """Lorentzian HWHM (meV) per group from the half widths of the data (w_d) and of the
    resolution (w_r): max(w_d - w_r, w_r / 5), the Voigt width rule at its Lorentzian end."""
    E = res.E
    R = res.delta(np.zeros(y.shape[0]))
    out = np.empty(y.shape[0])
    for i in range(y.shape[0]):
        wd = _half_width(E[mask[i]], y[i][mask[i]]) if mask[i].sum() > 3 else np.nan
        wr = _half_width(E, R[i])
        wr = wr if np.isfinite(wr) and wr > 0 else float(np.median(np.diff(E)))
        out[i] = max(wd - wr, wr / 5.0) if np.isfinite(wd) else wr
    return out


def _guess(name, default, y, res, mask):
    """Per-group initial values from the data where the name says what it is.

    A width given as NaN (``FitSetup.set(name, nan)``, as the CLI does) is estimated from the
    data: :func:`width_guess`, times 4^(k-1) for the k-th Lorentzian 'Lk'."""
    E = res.E
    if name.endswith("_hwhm") and not np.isfinite(default):
        import re

        m = re.fullmatch(r"L(\d+)_hwhm", name)
        k = int(m.group(1)) if m else 1
        return width_guess(y, res, mask) * 4.0 ** (k - 1)
    area = np.array([np.trapezoid(np.where(m, yy, 0), E) for yy, m in zip(y, mask, strict=True)])
    if name in ("intensity",):
        return np.maximum(area, 1e-12)
    if name.endswith("_amplitude"):
        return np.maximum(area * 0.5, 1e-12) if default == 1.0 else np.full(y.shape[0], default)
    if name in ("bg0", "bg_low", "bg_high") and default == 0.0:
        edge = {"bg0": np.concatenate([y[:, :5], y[:, -5:]], axis=1), "bg_low": y[:, :5],
                "bg_high": y[:, -5:]}[name]
        return np.clip(np.nanmedian(edge, axis=1), 0, None) * 0.5
    return np.full(y.shape[0], default)


def _minimize(prob: _Problem, max_nfev=None, sparse_jac=True):
    """Bounded least squares (:func:`latdyn.fitresult.solve`) on the varied lmfit parameters;
    an lmfit-like result with ``stopped_on_limit`` set when the evaluation limit ended it."""
    from types import SimpleNamespace

    params = prob.params.copy()
    names = [n for n, p in params.items() if p.vary and not p.expr]
    x0 = np.array([params[n].value for n in names])
    lo = np.array([params[n].min for n in names])
    hi = np.array([params[n].max for n in names])

    def fun(x):
        for n, v in zip(names, x, strict=True):
            params[n].value = float(v)
        params.update_constraints()
        return prob.residual(params)

    sparsity = prob.sparsity() if sparse_jac and prob.nq > 1 and not any(p.expr for p in params.values()) \
        else None
    sol = solve(fun, x0, lo, hi, jac_sparsity=sparsity, max_nfev=max_nfev)
    fun(sol.x)
    covar = sol.covariance
    for n, p in params.items():
        p.stderr = float(np.sqrt(covar[names.index(n), names.index(n)])) if covar is not None \
            and n in names else None
    r = sol.residual
    return SimpleNamespace(params=params, var_names=names, covar=covar, success=sol.success,
                           stopped_on_limit=sol.stopped_on_limit, message=sol.message, residual=r,
                           ndata=r.size, nvarys=len(names), nfree=r.size - len(names),
                           chisqr=float(r @ r), mcmc=False)


def fit(data: sc.DataArray, resolution, setup: FitSetup, *, mode: str = "global",
        zero_errors: str = "fail", start: dict | None = None, mcmc: dict | None = None,
        max_nfev: int | None = None, source: str | None = None, progress: bool | None = None,
        resolution_match: str = "q") -> SpectralFitResult:
    """Fit ``setup`` to ``data`` convolved with ``resolution``.

    data: DataArray ('Q', 'E') or ('E') with variances (meV for E).
    resolution: a DataArray (measured; one spectrum or one per group), a
        :class:`MeasuredResolution` or an :class:`AnalyticResolution` (:func:`fit_resolution`).
    mode: 'global' (one fit of all groups, shared and derived parameters across groups),
        'per-q' (independent fits per group from the same start) or 'sequential' (per group,
        each started from the previous group's result).
    zero_errors: 'fail' (the group is reported and skipped) or 'mask' (those points ignored).
    resolution_match: how a DataArray resolution's groups are matched to the data's ('q':
        by |Q| within half the smallest |Q| step, an error beyond; 'nearest': nearest |Q|,
        each substitution noted in ``resolution_notes``; 'index': by position).
    start: initial values by fit-parameter name (e.g. a previous result's ``values``).
    mcmc: dict of lmfit ``emcee`` options (steps, burn, thin, nwalkers, seed) to sample the
        posterior after the least-squares fit; errors then are the posterior std.
    """
    if mode not in ("global", "per-q", "sequential"):
        raise InputError("mode must be 'global', 'per-q' or 'sequential'", field="mode", value=mode)
    if zero_errors not in ("fail", "mask"):
        raise InputError("zero_errors must be 'fail' or 'mask'", field="zero_errors", value=zero_errors)
    Q, E, y, s = data_arrays(data, source)
    masked = np.atleast_2d(combined_mask(data.transpose([d for d in data.dims if d != "E"] + ["E"])))
    if isinstance(resolution, sc.DataArray):
        resolution = MeasuredResolution.from_data(resolution, match=resolution_match)
    if not isinstance(resolution, MeasuredResolution | AnalyticResolution):
        raise InputError("resolution must be a DataArray, MeasuredResolution or AnalyticResolution",
                         field="resolution", value=type(resolution).__name__)
    res_all = resolution.prepare(E, Q)
    problems, masks, point_notes = _group_problems(y, s, zero_errors, masked)
    y = np.where(masked | ~np.isfinite(y), 0.0, y)
    if s is not None:
        s = np.where(np.isfinite(s), s, 0.0)
    for i, msg in res_all.problems.items():
        problems.setdefault(i, msg)
    good = [i for i in range(Q.size) if i not in problems]
    status = {i: f"Q group {i} (Q = {Q[i]:.4g} 1/A) skipped: {problems[i]}" for i in problems}
    groups: list[GroupResult] = []
    fits = []
    if good and mode == "global":
        g = np.array(good)
        prob = _Problem(setup, Q[g], res_all.subset(g), y[g], s[g], masks[g], start,
                        data_unit=str(data.unit))
        out = _minimize(prob, max_nfev)
        if mcmc:
            out = _run_mcmc(prob, out, mcmc)
        fits.append((g, prob, out))
    elif good:
        warm = dict(start or {})
        for i in track(good, "fitting Q groups", progress, unit="group"):
            gi = np.array([i])
            prob = _Problem(setup, Q[gi], res_all.subset(gi), y[gi], s[gi], masks[gi], warm,
                            shared_as_perq=True, data_unit=str(data.unit))
            try:
                out = _minimize(prob, max_nfev)
                if mcmc:
                    out = _run_mcmc(prob, out, mcmc)
            except (FitError, ValueError, np.linalg.LinAlgError) as exc:
                status[i] = f"Q group {i} (Q = {Q[i]:.4g} 1/A) failed: {exc}"
                continue
            fits.append((gi, prob, out))
            if mode == "sequential" and out.success:
                warm = dict(out.params.valuesdict())
    for g, prob, out in fits:
        groups.extend(GroupResult.from_fit(prob, out, g, Q, E, y, s, masks))
        for gi in g:
            if not out.success:
                status[int(gi)] = (f"Q group {int(gi)} (Q = {Q[gi]:.4g} 1/A): fit did not converge: "
                                   f"{out.message}")
            elif out.covar is None:
                status[int(gi)] = (f"Q group {int(gi)} (Q = {Q[gi]:.4g} 1/A): covariance singular, "
                                   "no uncertainties (a parameter has no effect on the data?)")
            else:
                status.setdefault(int(gi), "ok" if int(gi) not in point_notes else
                                  f"Q group {int(gi)} (Q = {Q[gi]:.4g} 1/A) fitted; {point_notes[int(gi)]}")
    if not fits:
        raise FitError("no Q group could be fitted: " + "; ".join(status.values()), file=source)
    out = SpectralFitResult.build(setup, mode, fits, groups, status, Q, E, source)
    out.resolution_notes = dict(res_all.notes)
    return out


def _run_mcmc(prob: _Problem, out, opts: dict):
    import lmfit

    steps = int(opts.get("steps", 1000))
    kw = {"steps": steps, "burn": min(300, steps // 3), "thin": max(1, min(5, steps // 200)),
          "nwalkers": max(2 * out.nvarys + 2, 20), "is_weighted": True, "progress": False}
    kw.update({k: v for k, v in opts.items() if k != "seed"})
    if kw["burn"] >= kw["steps"] or (kw["steps"] - kw["burn"]) // kw["thin"] < 10:
        raise InputError("MCMC needs more steps than burn-in, with at least 10 kept samples",
                         field="mcmc", value={k: kw[k] for k in ("steps", "burn", "thin")})
    if "seed" in opts:
        kw["seed"] = opts["seed"]
    import contextlib
    import io

    mini = lmfit.Minimizer(prob.residual, out.params)
    talk = io.StringIO()  # lmfit prints emcee's autocorrelation warning: keep stdout clean (--json)
    with contextlib.redirect_stdout(talk):
        res = mini.minimize(method="emcee", **kw)
    res.success = out.success
    res.message = f"{out.message}; MCMC posterior ({kw['steps']} steps, {kw['nwalkers']} walkers)"
    if "autocorrelation" in talk.getvalue():
        res.message += ("; chain shorter than 50 autocorrelation times: run more steps before "
                        "trusting the posterior widths")
    names = [n for n in res.var_names]
    chain = res.flatchain[names].to_numpy()
    res.covar = np.cov(chain, rowvar=False)
    res.residual = out.residual
    res.chisqr, res.nfree, res.ndata, res.nvarys = out.chisqr, out.nfree, out.ndata, out.nvarys
    res.mcmc = True
    res.stopped_on_limit = out.stopped_on_limit
    return res
