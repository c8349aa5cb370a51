r"""Quantitative phase analysis of powder patterns: a multi-phase whole-pattern fit with fixed
structures, one pattern at a time, and Hill-Howard weight fractions.

Model of one pattern (the intensity conventions of :mod:`latdyn.diffraction.patterns`):

.. math::

    y(x) = \sum_p S_p \sum_{hkl} m\,(|F_N|^2 + (\mu_p/\mu_{p,0})^2 |F_{M\perp}|^2)\,
           K(x_{hkl})\,\Phi(x - x_{hkl}) + \sum_k c_k T_k(t)

with K = 1/(sin^2 theta cos theta) (constant wavelength, 2theta in degrees,
x_hkl = 2 asin(lambda / 2d) + zero) or K = d^4 (time of flight: x = DIFC d + zero in
microseconds, divided by DIFC for a density per microsecond; or x = d + zero), Phi a unit-area
pseudo-Voigt of FWHM^2 = U tan^2 theta + V tan theta + W (deg^2) or
FWHM_d = hypot(dd d, dt / DIFC), and a Chebyshev background in t = 2 (x - x_0)/(x_1 - x_0) - 1.
|F|^2 are computed once per phase from its (fixed) structure at the starting lattice, the
magnetic part domain-averaged (:func:`latdyn.diffraction.magnetic_reflections`); the lattice
parameters move the peaks.  Lengths that are equal in the starting cell (a = b, a = b = c) are
refined together; cell angles are fixed.

Weight fractions (R. J. Hill and C. J. Howard, J. Appl. Cryst. 20, 467 (1987)):

.. math::  w_p = \frac{S_p (ZMV)_p}{\sum_i S_i (ZMV)_i}

with ZM the mass of the cell contents (amu) and V the refined cell volume; their errors follow
from the covariance of the fit by linear propagation.  The covariance is
(J^T J)^-1 max(chi2_red, 1) (J the Jacobian of the weighted residuals), the usual Rietveld
practice of inflating the statistical errors by the misfit.

A fit is ``converged`` only when the optimiser reports convergence, the covariance is finite
and non-singular, and no refined parameter sits on a bound; each failure adds a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from ..errors import FitError, InputError
from ..fitresult import FitResult, Parameter, reduced_chi2, scaled_covariance
from ..kinematics import two_theta_to_d
from ..lineshapes import pseudo_voigt
from ..structure import Crystal, Lattice, MagneticStructure
from .magnetic import magnetic_reflections
from .powder_io import PowderData

__all__ = ["Phase", "PatternFit", "fit_pattern", "pattern_model", "weight_fractions"]

_WINDOW = 8.0   # half-width of a peak evaluation window in FWHM (Gaussian: < 1e-30 outside)


@dataclass
class Phase:
    """A phase of the analysis: a name, its crystal (or magnetic structure, whose magnetic
    reflections then join the nuclear ones) and whether to refine the ordered moment."""

    name: str
    structure: Crystal | MagneticStructure
    refine_moment: bool = False

    def __post_init__(self) -> None:
        if not self.name or not str(self.name).replace("_", "").isalnum():
            raise InputError("phase names must be alphanumeric (underscores allowed)",
                             field="phase", value=self.name)
        if self.refine_moment and not isinstance(self.structure, MagneticStructure):
            raise InputError("refining a moment needs a magnetic structure", field=self.name)

    @property
    def crystal(self) -> Crystal:
        s = self.structure
        return s.crystal if isinstance(s, MagneticStructure) else s

    @property
    def magnetic(self) -> MagneticStructure | None:
        return self.structure if isinstance(self.structure, MagneticStructure) else None

    @property
    def cell_mass(self) -> float:
        """Z M: mass of the cell contents (amu, occupancy-weighted)."""
        at = self.crystal.atoms
        return float(np.sum(self.crystal.masses * at.occupancy))

    @property
    def moment0(self) -> float:
        """Starting ordered moment (mu_B): the largest r.m.s. moment of the magnetic atoms."""
        m = self.magnetic
        return float(m.ordered_moment.max()) if m is not None and m.magnetic.any() else 0.0


def _lattice_groups(params: np.ndarray) -> list[list[int]]:
    """Indices of a, b, c refined together (equal lengths in the starting cell)."""
    groups: list[list[int]] = []
    for i in range(3):
        for g in groups:
            if abs(params[i] - params[g[0]]) < 1e-6 * params[g[0]]:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


@dataclass
class _PhaseTable:
    hkl: np.ndarray
    mult: np.ndarray
    f2n: np.ndarray
    f2m: np.ndarray
    angles: np.ndarray
    groups: list


@dataclass
class _Param:
    name: str
    value: float
    lo: float
    hi: float
    vary: bool
    unit: str


class _Model:
    """Parameters and the model curve of one pattern."""

    def __init__(self, data: PowderData, phases: list[Phase], *, background: int, eta: float,
                 widths: dict, refine: dict, start: dict | None):
        self.data = data
        self.phases = phases
        self.eta = float(eta)
        x = data.x
        d_lo, d_hi = self._d_range()
        self.tables = []
        for ph in phases:
            refl = _reflections(ph, d_lo, d_hi)
            lat = ph.crystal.lattice
            self.tables.append(_PhaseTable(refl.hkl, refl.multiplicity.astype(float), refl.f2_nuclear,
                                           refl.f2_magnetic, lat.angles, _lattice_groups(lat.abc)))
        self.params: list[_Param] = []
        for ph, tab in zip(phases, self.tables, strict=True):
            self.params.append(_Param(f"scale_{ph.name}", 1.0, -np.inf, np.inf, True, ""))
            abc = ph.crystal.lattice.abc
            for g in tab.groups:
                nm = "".join("abc"[i] for i in g)
                self.params.append(_Param(f"{nm}_{ph.name}", float(abc[g[0]]), 0.5 * abc[g[0]],
                                          2.0 * abc[g[0]], refine.get("lattice", True), "angstrom"))
            if ph.refine_moment:
                self.params.append(_Param(f"moment_{ph.name}", ph.moment0, 0.0, 20.0, True, "mu_B"))
        zunit = {"two_theta": "deg", "tof": "us", "d": "angstrom"}[data.axis]
        self.params.append(_Param("zero", 0.0, -np.inf, np.inf, refine.get("zero", True), zunit))
        if data.axis == "two_theta":
            for k in ("U", "V", "W"):
                self.params.append(_Param(k, float(widths.get(k, {"U": 0.02, "V": -0.01, "W": 0.02}[k])),
                                          -np.inf if k == "V" else 0.0, np.inf,
                                          k in refine.get("widths", ("U", "W")), "deg^2"))
        else:
            self.params.append(_Param("dd", float(widths.get("dd", 0.003)), 1e-6, 0.2,
                                      "dd" in refine.get("widths", ("dd",)), ""))
            self.params.append(_Param("dt", float(widths.get("dt", 0.0)), 0.0, np.inf,
                                      "dt" in refine.get("widths", ("dd",)), "us"))
        for k in range(int(background)):
            self.params.append(_Param(f"bg{k}", 0.0, -np.inf, np.inf, True, ""))
        if start:
            for p in self.params:
                if p.name in start:
                    p.value = float(start[p.name])
        self.t = 2.0 * (x - x[0]) / (x[-1] - x[0]) - 1.0
        self.cheb = np.polynomial.chebyshev.chebvander(self.t, max(int(background) - 1, 0))
        self.n_bg = int(background)
        self.index = {p.name: i for i, p in enumerate(self.params)}

    def _d_range(self) -> tuple[float, float]:
        data = self.data
        x0, x1 = data.x[0], data.x[-1]
        if data.axis == "two_theta":
            lam = data.wavelength
            d_lo = two_theta_to_d(min(x1 + 3.0, 179.0), lam)
            d_hi = two_theta_to_d(max(x0 - 3.0, 0.5), lam)
        elif data.axis == "tof":
            d_lo, d_hi = x0 / data.difc * 0.95, x1 / data.difc * 1.05
        else:
            d_lo, d_hi = x0 * 0.95, x1 * 1.05
        return max(d_lo, 0.2), d_hi

    # --- evaluation ---------------------------------------------------------------------------
    def values(self, free: np.ndarray | None = None) -> dict[str, float]:
        vals = {p.name: p.value for p in self.params}
        if free is not None:
            for p, v in zip(self.varied, free, strict=True):
                vals[p.name] = float(v)
        return vals

    @property
    def varied(self) -> list[_Param]:
        return [p for p in self.params if p.vary]

    def abc(self, vals, i: int) -> np.ndarray:
        ph, tab = self.phases[i], self.tables[i]
        out = np.empty(3)
        for g in tab.groups:
            out[g] = vals["".join("abc"[j] for j in g) + "_" + ph.name]
        return out

    def volume(self, vals, i: int) -> float:
        return Lattice(*self.abc(vals, i), *self.tables[i].angles).volume

    def phase_curve(self, vals, i: int) -> np.ndarray:
        """The unit-scale contribution of phase i (scale S_p = 1)."""
        data, tab, ph = self.data, self.tables[i], self.phases[i]
        gs = Lattice(*self.abc(vals, i), *tab.angles).reciprocal_metric
        d = 1.0 / np.sqrt(np.einsum("ki,ij,kj->k", tab.hkl, gs, tab.hkl))
        f2 = tab.f2n.copy()
        if ph.magnetic is not None:
            ratio = (vals[f"moment_{ph.name}"] / ph.moment0) ** 2 if ph.refine_moment else 1.0
            f2 = f2 + ratio * tab.f2m
        area = tab.mult * f2
        zero = vals["zero"]
        if data.axis == "two_theta":
            s = data.wavelength / (2 * d)
            ok = s < 1.0
            theta = np.arcsin(np.where(ok, s, 0.5))
            centers = np.rad2deg(2 * theta) + zero
            lorentz = 1.0 / (np.sin(theta) ** 2 * np.cos(theta))
            t = np.tan(theta)
            f2w = vals["U"] * t**2 + vals["V"] * t + vals["W"]
            fwhm = np.sqrt(np.maximum(f2w, 1e-12))
            area = np.where(ok, area * lorentz, 0.0)
        else:
            fwhm_d = np.hypot(vals["dd"] * d, vals["dt"] / data.difc if data.difc else 0.0)
            fwhm_d = np.maximum(fwhm_d, 1e-9)
            area = area * d**4   # I(t) = I(d)/DIFC: the same area over a peak of unit area in t
            if data.axis == "tof":
                centers = data.difc * d + zero
                fwhm = data.difc * fwhm_d
            else:
                centers = d + zero
                fwhm = fwhm_d
        return _sum_windowed(data.x, centers, fwhm, area, self.eta)

    def curves(self, vals) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        parts = [vals[f"scale_{ph.name}"] * self.phase_curve(vals, i) for i, ph in enumerate(self.phases)]
        bg = self.cheb @ np.array([vals[f"bg{k}"] for k in range(self.n_bg)]) if self.n_bg else \
            np.zeros_like(self.data.x)
        return sum(parts) + bg, parts, bg

    def residual(self, free: np.ndarray) -> np.ndarray:
        model, _, _ = self.curves(self.values(free))
        w = self.weights
        return (model - self.data.y) * w

    @property
    def weights(self) -> np.ndarray:
        s = self.data.sigma
        return np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0)

    def linear_start(self) -> None:
        """Scales and background by linear least squares at the current non-linear values."""
        vals = self.values()
        cols = [self.phase_curve(vals, i) for i in range(len(self.phases))]
        cols += [self.cheb[:, k] for k in range(self.n_bg)]
        a = np.stack(cols, axis=1) * self.weights[:, None]
        coef, *_ = np.linalg.lstsq(a, self.data.y * self.weights, rcond=None)
        names = [f"scale_{ph.name}" for ph in self.phases] + [f"bg{k}" for k in range(self.n_bg)]
        for n, c in zip(names, coef, strict=True):
            self.params[self.index[n]].value = float(c)


def _reflections(phase: Phase, d_lo: float, d_hi: float):
    from ..structure import magnetic_structure

    s = phase.magnetic
    if s is None:
        s = magnetic_structure(phase.crystal, np.zeros((len(phase.crystal.atoms), 3)),
                               axes="cartesian")
    return magnetic_reflections(s, d_lo, d_hi)


def _sum_windowed(x: np.ndarray, centers, fwhm, area, eta: float) -> np.ndarray:
    """Sum of unit-area pseudo-Voigt peaks times ``area``, each evaluated within +-_WINDOW FWHM
    (+-50 FWHM when eta > 0, where the Lorentzian tails matter)."""
    keep = (area != 0) & np.isfinite(centers)
    c, w, a = centers[keep], fwhm[keep], area[keep]
    out = np.zeros(len(x))
    if c.size == 0:
        return out
    half = (_WINDOW if eta == 0 else 50.0) * w
    lo = np.searchsorted(x, c - half)
    hi = np.searchsorted(x, c + half)
    n = int((hi - lo).max(initial=0))
    if n == 0:
        return out
    idx = lo[:, None] + np.arange(n)[None, :]
    inside = idx < hi[:, None]
    idx = np.minimum(idx, len(x) - 1)
    prof = pseudo_voigt(x[idx], w[:, None] / 2.0, eta, c[:, None]) * a[:, None]
    out += np.bincount(idx[inside], prof[inside], minlength=len(x))
    return out


def pattern_model(data: PowderData, phases: list[Phase], values: dict, *, background: int = 3,
                  eta: float = 0.0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The model curve of :func:`fit_pattern` for given parameter ``values`` (names as in a
    :class:`PatternFit`), and its parts (each phase and the background)."""
    m = _Model(data, phases, background=background, eta=eta, widths={}, refine={}, start=values)
    total, parts, bg = m.curves(m.values())
    out = {ph.name: p for ph, p in zip(phases, parts, strict=True)}
    out["background"] = bg
    return total, out


def weight_fractions(scales, cell_masses, volumes) -> np.ndarray:
    """Hill-Howard weight fractions w_p = S_p (ZMV)_p / sum_i S_i (ZMV)_i (module docstring)."""
    s = np.asarray(scales, float) * np.asarray(cell_masses, float) * np.asarray(volumes, float)
    tot = s.sum()
    if not np.isfinite(tot) or tot == 0:
        raise FitError("weight fractions need a non-zero total scale", field="scale", value=float(tot))
    return s / tot


@dataclass
class PatternFit(FitResult):
    """Result of :func:`fit_pattern` (the latdyn FitResult protocol).

    params: name -> (value, standard error or nan, unit), every parameter (fixed ones with nan);
    varied: names of the refined parameters (order of ``covariance``); chi2, n_points, n_varied,
    reduced_chi2, aic, bic, converged and reasons (:class:`latdyn.fitresult.FitResult`);
    warnings (physics flags that do not invalidate the fit); fractions: phase -> (w, error);
    the data and model curves for figures.
    """

    label: str
    condition: float
    sweep: str
    axis: str
    params: dict
    varied: list
    covariance: np.ndarray
    chi2: float
    n_points: int
    n_varied: int
    reasons: list
    warnings: list
    fractions: dict
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    model: np.ndarray = field(repr=False)
    parts: dict = field(repr=False)
    nfev: int = 0

    @property
    def values(self) -> dict[str, float]:
        return {k: v[0] for k, v in self.params.items()}

    @property
    def covariance_names(self) -> list[str]:
        return list(self.varied)

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter(k, v, e, u, k in self.varied) for k, (v, e, u) in self.params.items()]

    @property
    def rwp(self) -> float:
        """Weighted-profile R factor sqrt(chi2 / sum (y/sigma)^2)."""
        w = np.where(self.sigma > 0, 1.0 / np.where(self.sigma > 0, self.sigma, 1), 0.0)
        return float(np.sqrt(self.chi2 / np.sum((self.y * w) ** 2)))

    def figure(self):
        """Data, model, its parts and the difference curve."""
        from ..report import axis_label, new_figure

        fig, ax = new_figure(7.5, 4.2)
        ax.errorbar(self.x, self.y, self.sigma, fmt=".", ms=2, lw=0.3, color="k", label="data")
        ax.plot(self.x, self.model, color="C3", lw=1, label="model")
        for j, (k, v) in enumerate(self.parts.items()):
            ax.plot(self.x, v, lw=0.8, ls="--", color=f"C{j}", label=k)
        ax.plot(self.x, self.y - self.model - 0.1 * np.max(self.y), lw=0.5, color="0.4",
                label="difference")
        name, unit = {"two_theta": ("2θ", "deg"), "tof": ("TOF", "us"), "d": ("d", "angstrom")}[self.axis]
        ax.set_xlabel(axis_label(name, unit))
        ax.set_ylabel("Intensity")
        ax.legend(frameon=False, fontsize=7)
        return fig

    def write(self, folder, *, inputs=()) -> dict[str, str]:
        """``fit.csv`` (parameter, value, error, unit, refined), ``curves.csv`` (x, y, sigma, model
        and parts) and ``report.html`` in ``folder``."""
        from pathlib import Path

        from ..fileio import write_text_atomic
        from ..report import Report

        out = Path(folder)
        lines = ["parameter,value,error,unit,refined"] + [
            f"{k},{v:.10g},{e:.10g},{u},{k in self.varied}" for k, (v, e, u) in self.params.items()]
        lines += [f"w_{ph},{w:.10g},{e:.10g},,derived" for ph, (w, e) in self.fractions.items()]
        fit_csv = write_text_atomic(out / "fit.csv", "\n".join(lines) + "\n")
        cols = {"x": self.x, "y": self.y, "sigma": self.sigma, "model": self.model, **self.parts}
        rows = [",".join(cols)] + [",".join(f"{c[i]:.10g}" for c in cols.values())
                                   for i in range(len(self.x))]
        curves = write_text_atomic(out / "curves.csv", "\n".join(rows) + "\n")
        rep = Report(f"Multi-phase fit of {self.label}")
        for i in inputs:
            rep.add_input(i)
        rep.add_text(None, ("Converged." if self.converged else "NOT CONVERGED: " + "; ".join(self.reasons))
                     + (" Warnings: " + "; ".join(self.warnings) if self.warnings else ""))
        rep.add_figure("fit", self.figure(), f"Fit of {self.label}")
        rep.add_parameters("Parameters", self.params)
        rep.add_parameters("Weight fractions (Hill-Howard)",
                           {ph: (w, e, "") for ph, (w, e) in self.fractions.items()})
        rep.add_table("Statistics", [{"chi2": self.chi2, "chi2_red": self.reduced_chi2, "Rwp": self.rwp,
                                      "AIC": self.aic, "BIC": self.bic, "points": self.n_points,
                                      "refined": self.n_varied}])
        return {"fit_csv": str(fit_csv), "curves_csv": str(curves),
                "report": str(rep.write(out / "report.html"))}

    def row(self) -> dict:
        """One table row: condition, fractions with errors, every parameter, statistics, flags."""
        row = {"pattern": self.label, "condition": self.condition, "sweep": self.sweep}
        for ph, (w, e) in self.fractions.items():
            row[f"w_{ph}"] = w
            row[f"w_{ph}_err"] = e
        for k, (v, e, _u) in self.params.items():
            row[k] = v
            row[f"{k}_err"] = e
        row.update({"chi2_red": self.reduced_chi2, "Rwp": self.rwp, "converged": self.converged,
                    "reasons": "; ".join(self.reasons), "warnings": "; ".join(self.warnings)})
        return row


def _check_bounds(model: _Model, x: np.ndarray) -> list[str]:
    out = []
    for p, v in zip(model.varied, x, strict=True):
        for b, kind in ((p.lo, "lower"), (p.hi, "upper")):
            if np.isfinite(b) and abs(v - b) <= 1e-6 * max(1.0, abs(b)):
                out.append(f"parameter {p.name} at its {kind} bound ({b:g})")
    return out


def fit_pattern(data: PowderData, phases: list[Phase], *, background: int = 3, eta: float = 0.0,
                widths: dict | None = None, refine: dict | None = None, start: dict | None = None,
                max_nfev: int = 2000, min_fraction: float = 0.03) -> PatternFit:
    """Fit one powder pattern with the multi-phase model of the module docstring.

    ``background``: number of Chebyshev terms; ``eta``: Lorentzian fraction (fixed);
    ``widths``: starting U, V, W (deg^2) or dd, dt (us); ``refine``: {'lattice': bool,
    'zero': bool, 'widths': names to refine (default U, W or dd)}; ``start``: starting values
    by parameter name (e.g. a previous fit's ``values``: sequential refinement);
    ``max_nfev``: evaluation limit of the optimiser.  Without ``start`` the scales and the
    background start from a linear least-squares solution.  A phase whose starting weight
    fraction is below ``min_fraction`` keeps its lattice (and moment) fixed, since a phase that
    is not seen cannot determine them; its scale is still refined (a warning says so).
    """
    if not phases:
        raise InputError("give at least one phase", field="phases")
    names = [p.name for p in phases]
    if len(set(names)) != len(names):
        raise InputError("phase names must be distinct", field="phases", value=names)
    if np.count_nonzero(data.sigma > 0) < 10:
        raise InputError("the pattern has fewer than 10 points with sigma > 0", file=data.source,
                         field="sigma")
    model = _Model(data, phases, background=background, eta=eta, widths=widths or {},
                   refine=refine or {}, start=start)
    if start is None or not all(f"scale_{n}" in start for n in names):
        model.linear_start()
    fixed = _fix_minor_phases(model, min_fraction)
    x0 = np.array([p.value for p in model.varied])
    lo = np.array([p.lo for p in model.varied])
    hi = np.array([p.hi for p in model.varied])
    x0 = np.clip(x0, np.where(np.isfinite(lo), lo, -np.inf), np.where(np.isfinite(hi), hi, np.inf))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):   # small matrices: threads only cost
        res = least_squares(model.residual, x0, bounds=(lo, hi), method="trf", x_scale="jac",
                            max_nfev=max_nfev, diff_step=1e-7)
    reasons = []
    if res.status == 0:
        reasons.append(f"optimiser stopped on its evaluation limit ({max_nfev})")
    elif res.status < 0:
        reasons.append(f"optimiser failed: {res.message}")
    chi2 = float(2.0 * res.cost)
    ndata = int(np.count_nonzero(data.sigma > 0))
    nvar = len(x0)
    redchi = reduced_chi2(chi2, ndata, nvar)
    cov = np.full((nvar, nvar), np.nan)
    with threadpool_limits(limits=1, user_api="blas"):
        scaled = scaled_covariance(res.jac, redchi)
    if not np.all(np.isfinite(res.jac)):
        reasons.append("non-finite Jacobian")
    elif scaled is None:
        _, _, vt = np.linalg.svd(res.jac, full_matrices=False)
        small = [model.varied[i].name for i in np.argsort(np.abs(vt[-1]))[-2:]]
        reasons.append(f"singular covariance (parameters not determined: {', '.join(small)})")
    else:
        sd = np.sqrt(np.diag(scaled))
        corr = scaled / np.outer(sd, sd)
        np.fill_diagonal(corr, 0.0)
        i, j = np.unravel_index(np.argmax(np.abs(corr)), corr.shape)
        if nvar > 1 and abs(corr[i, j]) > 1 - 1e-9:
            reasons.append(f"singular covariance (parameters {model.varied[i].name} and "
                           f"{model.varied[j].name} fully correlated)")
        else:
            cov = scaled
    if not np.all(np.isfinite(cov)) and not any("singular" in r or "Jacobian" in r for r in reasons):
        reasons.append("non-finite covariance")
    reasons += _check_bounds(model, res.x)
    err = np.sqrt(np.clip(np.diag(cov), 0, None)) if np.all(np.isfinite(cov)) else np.full(nvar, np.nan)
    final = model.values(res.x)
    for p, v in zip(model.varied, res.x, strict=True):
        p.value = float(v)
    errors = dict(zip([p.name for p in model.varied], err, strict=True))
    params = {p.name: (p.value, float(errors.get(p.name, np.nan)), p.unit) for p in model.params}
    fractions, warnings = _fractions(model, final, res.x, cov)
    warnings = [f"lattice{' and moment' if phases[i].refine_moment else ''} of {phases[i].name} "
                f"fixed: its fraction is below {min_fraction:g} at the start" for i in fixed] + warnings
    total, parts, bg = model.curves(final)
    out_parts = {ph.name: pp for ph, pp in zip(phases, parts, strict=True)}
    out_parts["background"] = bg
    return PatternFit(data.label, float(data.condition), data.sweep, data.axis, params,
                      [p.name for p in model.varied], cov, chi2, ndata, nvar, reasons,
                      warnings, fractions, data.x, data.y, data.sigma, total, out_parts, int(res.nfev))


def _fix_minor_phases(model: _Model, min_fraction: float) -> list[int]:
    """Fix lattice and moment of phases below ``min_fraction``; return their indices."""
    if len(model.phases) < 2:
        return []
    vals = model.values()
    masses = [ph.cell_mass for ph in model.phases]
    vols = [model.volume(vals, i) for i in range(len(model.phases))]
    try:
        w = weight_fractions([vals[f"scale_{ph.name}"] for ph in model.phases], masses, vols)
    except FitError:
        return []
    out = []
    for i, (ph, wi) in enumerate(zip(model.phases, w, strict=True)):
        if wi < min_fraction:
            for p in model.params:
                if p.name.endswith(f"_{ph.name}") and not p.name.startswith("scale_"):
                    p.vary = False
            out.append(i)
    return out


def _fractions(model: _Model, vals: dict, x: np.ndarray, cov: np.ndarray):
    phases = model.phases
    masses = np.array([ph.cell_mass for ph in phases])

    def w_of(free):
        v = model.values(free)
        s = [v[f"scale_{ph.name}"] for ph in phases]
        vol = [model.volume(v, i) for i in range(len(phases))]
        return weight_fractions(s, masses, vol)

    w = w_of(x)
    grads = []
    for i in range(len(x)):
        h = 1e-6 * max(abs(x[i]), 1e-6)
        xp = x.copy()
        xp[i] += h
        grads.append((w_of(xp) - w) / h)
    g = np.array(grads).T
    err = np.sqrt(np.clip(np.einsum("pi,ij,pj->p", g, cov, g), 0, None)) if np.all(np.isfinite(cov)) \
        else np.full(len(w), np.nan)
    warnings = []
    for ph, wi, ei in zip(phases, w, err, strict=True):
        if wi < 0:
            warnings.append(f"negative weight fraction of {ph.name} ({wi:.3g} +- {ei:.2g}): the phase "
                            "is not detected")
    return {ph.name: (float(wi), float(ei)) for ph, wi, ei in zip(phases, w, err, strict=True)}, warnings
