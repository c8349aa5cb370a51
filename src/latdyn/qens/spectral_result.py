r"""Fit results: parameter tables with propagated errors, covariance, chi^2, AIC/BIC; CSV and HDF5.

Information criteria for Gaussian errors of known sigma (Burnham & Anderson 2002):
AIC = chi^2 + 2 k, BIC = chi^2 + k ln n, n data points and k varied parameters (additive
constants dropped; only differences between models fitted to the same data matter).
Errors of derived model parameters (widths from a diffusion model, EISF-tied amplitudes) are
propagated from the covariance C of the fit parameters: sigma_f^2 = g^T C g, g = df/dp.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..fileio import hdf5_writer, write_text_atomic
from ..fitresult import FitResult, Parameter, Quantities, Quantity, diagnose
from ..units import scipp_unit

__all__ = ["GroupResult", "SpectralFitResult"]


def elastic_fraction(arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    """A_el / (A_el + sum of all quasi-elastic amplitudes) per group (the measured EISF)."""
    if "elastic_amplitude" not in arrays:
        return None
    el = np.asarray(arrays["elastic_amplitude"], dtype=float)
    qe = sum(np.asarray(v, dtype=float).reshape(el.size, -1).sum(axis=1) for k, v in arrays.items()
             if k.endswith("_amplitude") and k != "elastic_amplitude")
    tot = el + qe
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, el / np.where(tot > 0, tot, 1.0), np.nan)


def _with_extras(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = dict(arrays)
    ef = elastic_fraction(arrays)
    if ef is not None and any(k.endswith("_amplitude") and k != "elastic_amplitude" for k in arrays):
        out["elastic_fraction"] = ef
    return out


def _propagate(prob, out) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Model-parameter arrays (plus the elastic fraction) and their standard errors.

    sigma_f^2 = g^T C g with g = df/dp by forward differences (step 1e-6 |p|)."""
    vals = out.params.valuesdict()
    base = _with_extras(prob.arrays(vals))
    err = {k: np.full(np.shape(v), np.nan) for k, v in base.items()}
    if out.covar is None:
        return base, err
    names = list(out.var_names)
    grads = {k: [] for k in base}
    for n in names:
        v = vals[n]
        h = 1e-6 * max(abs(v), 1e-6)
        up = dict(vals)
        up[n] = v + h
        a = _with_extras(prob.arrays(up))
        for k in base:
            grads[k].append((np.asarray(a[k]) - np.asarray(base[k])) / h)
    C = np.asarray(out.covar)
    for k in base:
        G = np.stack(grads[k], axis=-1)  # (..., nvar)
        err[k] = np.sqrt(np.clip(np.einsum("...i,ij,...j->...", G, C, G), 0, None))
    return base, err


@dataclass
class GroupResult:
    """One Q group: model-parameter values and errors, chi^2 and the curves for plots."""

    index: int
    Q: float
    values: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    chi2: float
    npts: int
    E: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    mask: np.ndarray
    model: np.ndarray
    parts: dict[str, np.ndarray]

    @classmethod
    def from_fit(cls, prob, out, g, Q, E, y, s, masks) -> list[GroupResult]:
        vals, errs = _propagate(prob, out)
        model, parts = prob.model(out.params.valuesdict(), parts=True)
        res = []
        for j, i in enumerate(g):
            m = masks[i]
            chi2 = float(np.sum(((model[j] - y[i])[m] / s[i][m]) ** 2))
            res.append(cls(int(i), float(Q[i]), {k: np.asarray(v)[j] for k, v in vals.items()},
                           {k: np.asarray(v)[j] for k, v in errs.items()}, chi2, int(m.sum()), E, y[i],
                           s[i], m, model[j], {k: np.asarray(v)[j] for k, v in parts.items()}))
        return res


@dataclass
class SpectralFitResult(FitResult):
    """Everything needed to report and reproduce a fit of S(Q, E) spectra (the
    :class:`latdyn.fitresult.FitResult` protocol).

    ``fit_parameters``: one dict per fit parameter (name, value, error, unit, vary, min, max,
    group: the Q group index or 'all'); ``covariances``: (names, matrix) per independent fit
    (one for a global fit, one per group otherwise); ``status``: per group 'ok' or the reason it
    was skipped or is untrustworthy; ``reasons``: why the fit as a whole is not converged
    (empty when it is); ``derived``: the physics of a global fit (:class:`Quantities`).
    """

    mode: str
    model: dict
    rules: dict[str, str]
    groups: list[GroupResult]
    status: dict[int, str]
    fit_parameters: list[dict]
    covariances: list[tuple[list[str], np.ndarray]]
    chi2: float
    n_points: int
    n_varied: int
    success: bool
    messages: list[str]
    Q: np.ndarray
    reasons: list[str] = field(default_factory=list)
    derived: Quantities = field(default_factory=Quantities)
    source: str | None = None
    resolution_notes: dict[int, str] = field(default_factory=dict)

    significant = ("*_D", "*_tau", "*_hwhm*", "*_l", "*_radius")
    widths = ("*_hwhm*",)

    def data_window(self) -> tuple[float, float] | None:
        """The energy range (meV) of the fitted groups."""
        energies = [np.asarray(g.E, dtype=float) for g in self.groups if np.size(g.E)]
        if not energies:
            return None
        return float(min(e.min() for e in energies)), float(max(e.max() for e in energies))

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter(p["name"], p["value"], p["error"], p["unit"], p["vary"], p["min"], p["max"])
                for p in self.fit_parameters]

    @property
    def params(self) -> list[dict]:
        warnings.warn("'params' is deprecated; use 'parameters' (Parameter objects) or "
                      "'fit_parameters' (dicts)", DeprecationWarning, stacklevel=2)
        return self.fit_parameters

    @property
    def covariance_names(self) -> list[str]:
        return [n for names, _ in self.covariances for n in names]

    @property
    def covariance(self) -> np.ndarray | None:
        """Covariance of all varied parameters (block diagonal over independent fits)."""
        if not self.covariances:
            return None
        n = len(self.covariance_names)
        out = np.zeros((n, n))
        i = 0
        for names, C in self.covariances:
            k = len(names)
            out[i:i + k, i:i + k] = C
            i += k
        return out

    @property
    def values(self) -> dict[str, float]:
        """Fit-parameter values by name (usable as ``start`` of another fit)."""
        return {p["name"]: p["value"] for p in self.fit_parameters}

    @classmethod
    def build(cls, setup, mode, fits, groups, status, Q, E, source=None) -> SpectralFitResult:
        params, covs, msgs, reasons = [], [], [], []
        chi2, ndata, nvar, ok = 0.0, 0, 0, True
        for g, prob, out in fits:
            err = {}
            if out.covar is not None:
                d = np.sqrt(np.clip(np.diag(out.covar), 0, None))
                err = dict(zip(out.var_names, d, strict=True))
            label = (lambda n: n) if len(fits) == 1 else (lambda n, g=g: f"{n}@{int(g[0])}")
            if out.covar is not None:
                covs.append(([label(n) for n in out.var_names], np.asarray(out.covar)))
            sub = []
            for n, p in out.params.items():
                owner = prob.owner.get(n)
                sub.append({"name": label(n), "value": float(p.value), "error": float(err.get(n, np.nan)),
                            "unit": prob.units.get(n, ""), "vary": bool(p.vary), "min": float(p.min),
                            "max": float(p.max), "group": "all" if owner is None else int(g[owner])})
            params += sub
            where = "" if len(fits) == 1 else f"Q group {int(g[0])} (Q = {Q[g[0]]:.4g} 1/A): "
            reasons += [where + r for r in diagnose(
                parameters=[Parameter(p["name"], p["value"], p["error"], p["unit"], p["vary"], p["min"],
                                      p["max"]) for p in sub],
                covariance=out.covar, stopped_on_limit=out.stopped_on_limit, optimiser_ok=out.success,
                message=str(out.message))]
            chi2 += float(np.sum(out.residual ** 2))
            ndata += int(out.ndata)
            nvar += int(out.nvarys)
            ok &= bool(out.success)
            msgs.append(str(out.message))
        groups = sorted(groups, key=lambda r: r.index)
        r = cls(mode, setup.model.to_dict(), setup.describe(), groups, dict(sorted(status.items())),
                params, covs, chi2, ndata, nvar, ok, msgs, np.asarray(Q), reasons, source=source)
        r.derived = _derived(setup, r)
        return r

    def group_rows(self) -> list[dict]:
        """One row per fitted group: Q, chi2_red, every model parameter with its error."""
        rows = []
        for g in self.groups:
            row = {"group": g.index, "Q": g.Q, "chi2_red": g.chi2 / max(g.npts, 1)}
            for k, v in g.values.items():
                v = np.atleast_1d(v)
                e = np.atleast_1d(g.errors[k])
                for j in range(v.size):
                    suffix = "" if v.size == 1 else f"_{j + 1}"
                    row[f"{k}{suffix}"] = float(v[j])
                    row[f"{k}{suffix}_err"] = float(e[j])
            rows.append(row)
        return rows

    def summary(self) -> dict:
        return {"mode": self.mode, **self.statistics(), "groups_fitted": len(self.groups),
                "groups_skipped": sum("skipped" in s for s in self.status.values()),
                "derived": self.derived.as_json()}

    def write_csv(self, path: str | Path) -> Path:
        """Per-group table (one row per group, value and _err columns) as CSV."""
        rows = self.group_rows()
        cols = list(dict.fromkeys(k for r in rows for k in r))
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in r.items()})
        return write_text_atomic(path, buf.getvalue())

    def write_hdf5(self, path: str | Path) -> Path:
        """HDF5: /parameters (table), /groups/<i> (curves and values), /covariance/<k>, /model (JSON).

        The model definition, rules and fit-parameter values suffice to reproduce the fit."""
        with hdf5_writer(path) as f:
            f.attrs["mode"] = self.mode
            f.attrs["chi2"] = self.chi2
            f.attrs["n_points"] = self.n_points
            f.attrs["n_varied"] = self.n_varied
            f.attrs["aic"] = self.aic
            f.attrs["bic"] = self.bic
            f.attrs["converged"] = self.converged
            f.attrs["source"] = self.source or ""
            f["model"] = json.dumps({"model": self.model, "rules": self.rules})
            f["status"] = json.dumps({str(k): v for k, v in self.status.items()})
            f["reasons"] = json.dumps(self.reasons)
            f["derived"] = json.dumps(self.derived.as_json())
            p = f.create_group("parameters")
            p["name"] = np.array([q["name"] for q in self.fit_parameters], dtype="S")
            for key in ("value", "error", "min", "max"):
                p[key] = np.array([q[key] for q in self.fit_parameters], dtype=float)
            p["unit"] = np.array([q["unit"] for q in self.fit_parameters], dtype="S")
            p["vary"] = np.array([q["vary"] for q in self.fit_parameters])
            p["group"] = np.array([str(q["group"]) for q in self.fit_parameters], dtype="S")
            for k, (names, C) in enumerate(self.covariances):
                c = f.create_group(f"covariance/{k}")
                c["names"] = np.array(names, dtype="S")
                c["matrix"] = C
            for g in self.groups:
                h = f.create_group(f"groups/{g.index}")
                h.attrs["Q"] = g.Q
                h.attrs["chi2"] = g.chi2
                h["E"] = g.E
                h["data"] = g.y
                h["error"] = g.sigma
                h["mask"] = g.mask
                h["model"] = g.model
                for k, v in g.parts.items():
                    h[f"components/{k}"] = v
                for k, v in g.values.items():
                    h[f"values/{k}"] = np.asarray(v)
                    h[f"errors/{k}"] = np.asarray(g.errors[k])
        return Path(path)


def _derived(setup, r: SpectralFitResult) -> Quantities:
    """Physics from global parameters: D (A^2/ps), tau (ps), l (A) of the diffusion model and
    the geometry model's parameters, each with the error propagated from the covariance."""
    if r.mode != "global" or not r.covariances:
        return Quantities()
    pv = {p["name"]: (p["value"], p["error"]) for p in r.fit_parameters}
    out: dict[str, Quantity] = {}
    names, C = r.covariances[0]

    def propagate(fn, vals, keys, q, v):
        grad = np.zeros(len(names))
        for p, k in keys.items():
            if k in names:
                up = dict(vals)
                h = 1e-7 * abs(vals[p])
                up[p] += h
                grad[names.index(k)] = (fn(**up)[q][0] - v) / h
        return float(np.sqrt(max(grad @ C @ grad, 0.0)))

    for comp, dm in getattr(setup, "diffusion", {}).items():
        keys = {p: f"{comp}_{p}" for p in dm.params}
        vals = {p: pv[k][0] for p, k in keys.items()}
        for q, (v, unit) in dm.derived(**vals).items():
            out[f"{comp}_{q}"] = Quantity(v, propagate(dm.derived, vals, keys, q, v), unit)
    gm = getattr(setup, "geometry", None)
    if gm is not None:
        for p, u in zip(gm.params, gm.units, strict=True):
            if f"eisf_{p}" in pv:
                out[f"{gm.name}_{p}"] = Quantity(*pv[f"eisf_{p}"], scipp_unit(u))
        if "immobile" in pv:
            out["immobile_fraction"] = Quantity(*pv["immobile"], "dimensionless")
        keys = {p: f"eisf_{p}" for p in gm.params}
        if all(k in pv for k in keys.values()):
            vals = {p: pv[k][0] for p, k in keys.items()}
            for q, (v, unit) in gm.derived(**vals).items():
                out[f"{gm.name}_{q}"] = Quantity(v, propagate(gm.derived, vals, keys, q, v), unit)
    return Quantities(out)
