r"""Phase fractions across a series of powder patterns (temperature or field sweeps) and the
transition they trace.

Each pattern is fitted by :func:`latdyn.diffraction.phases.fit_pattern`; a sweep is refined
sequentially, each fit starting from the previous one of the same sweep (the parametric
refinement of a series with fixed structures).  The weight fraction w(x) of a phase along a sweep
is fitted by a logistic step (errors from the fractions' standard errors)

.. math::  w(x) = w_0 + \frac{w_1 - w_0}{1 + e^{-(x - x_t)/\Delta}}

giving the transition midpoint x_t and width Delta (the 10-90 % width is 2 ln 9 Delta = 4.39
Delta); with up and down sweeps the hysteresis is x_t(up) - x_t(down).  Every fit carries
``converged`` and its reasons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import write_text_atomic
from ..fitresult import FitResult, Parameter, diagnose, reduced_chi2, scaled_covariance, solve
from .phases import PatternFit, Phase, fit_pattern
from .powder_io import PowderData, write_gsas, write_xye

__all__ = ["TransitionFit", "PhaseSeries", "fit_series", "fit_transition"]

WIDTH_10_90 = 2.0 * np.log(9.0)


@dataclass
class TransitionFit(FitResult):
    """Logistic fit of a phase-fraction curve (module docstring): midpoint, width, w0, w1 as
    (value, error); the :class:`latdyn.fitresult.FitResult` protocol (chi2, n_points, n_varied,
    converged and reasons)."""

    phase: str
    sweep: str
    midpoint: tuple[float, float]
    width: tuple[float, float]
    w0: tuple[float, float]
    w1: tuple[float, float]
    chi2: float
    n_points: int
    n_varied: int
    reasons: list
    covariance: np.ndarray | None = None

    covariance_names = ("midpoint", "width", "w0", "w1")
    significant = ("width",)

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter(n, *getattr(self, n)) for n in self.covariance_names]

    @property
    def width_10_90(self) -> tuple[float, float]:
        return WIDTH_10_90 * self.width[0], WIDTH_10_90 * self.width[1]

    def curve(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return self.w0[0] + (self.w1[0] - self.w0[0]) / (1 + np.exp(-(x - self.midpoint[0]) / self.width[0]))

    def row(self) -> dict:
        return {"phase": self.phase, "sweep": self.sweep or "all", "midpoint": self.midpoint[0],
                "midpoint_err": self.midpoint[1], "width": self.width[0], "width_err": self.width[1],
                "width_10_90": self.width_10_90[0], "w0": self.w0[0], "w1": self.w1[0],
                "chi2_red": self.reduced_chi2, "converged": self.converged,
                "reasons": "; ".join(self.reasons)}


def fit_transition(x, w, w_err, *, phase: str = "", sweep: str = "") -> TransitionFit:
    """Fit w(x) with the logistic step of the module docstring (weights 1/w_err^2).

    Needs at least 5 points and a change of w across the series; raises InputError otherwise.
    """
    x = np.asarray(x, float)
    w = np.asarray(w, float)
    e = np.asarray(w_err, float)
    ok = np.isfinite(x) & np.isfinite(w) & np.isfinite(e) & (e > 0)
    x, w, e = x[ok], w[ok], e[ok]
    if x.size < 5:
        raise InputError("a transition fit needs at least 5 fractions with finite errors",
                         field="fractions", value=int(x.size))
    order = np.argsort(x)
    x, w, e = x[order], w[order], e[order]
    span = x[-1] - x[0]
    if span <= 0 or np.ptp(w) < 3 * np.median(e):
        raise InputError("the phase fraction does not change across the series: no transition",
                         field="fractions", value=float(np.ptp(w)))
    w0, w1 = float(w[0]), float(w[-1])
    half = 0.5 * (w0 + w1)
    cross = np.flatnonzero(np.diff(np.sign(w - half)) != 0)
    xt = float(x[cross[0]] if cross.size else x[len(x) // 2])
    p0 = np.array([xt, span / 20.0, w0, w1])
    lo = np.array([x[0] - span, span * 1e-4, -0.5, -0.5])
    hi = np.array([x[-1] + span, span, 1.5, 1.5])

    def res(p):
        return (p[2] + (p[3] - p[2]) / (1 + np.exp(-(x - p[0]) / p[1])) - w) / e

    sol = solve(res, np.clip(p0, lo, hi), lo, hi, max_nfev=2000)
    chi2 = sol.chi2
    cov = scaled_covariance(sol.jacobian, reduced_chi2(chi2, x.size, 4))
    err = np.sqrt(np.diag(cov)) if cov is not None else np.full(4, np.nan)
    names = ("midpoint", "width", "w0", "w1")
    params = [Parameter(n, float(v), float(e_), min=float(a), max=float(b))
              for n, v, e_, a, b in zip(names, sol.x, err, lo, hi, strict=True)]
    reasons = diagnose(parameters=params, covariance=cov, stopped_on_limit=sol.stopped_on_limit,
                       optimiser_ok=sol.success, message=sol.message)
    vals = [(p.value, p.error) for p in params]
    return TransitionFit(phase, sweep, vals[0], vals[1], vals[2], vals[3], chi2, int(x.size), 4,
                         reasons, cov)


@dataclass
class PhaseSeries:
    """The fits of a series: one :class:`PatternFit` per pattern, the phases, what the condition
    is (``quantity`` 'temperature' or 'field', ``unit`` 'K' or 'T') and the transition fits."""

    fits: list
    phases: list
    quantity: str
    unit: str
    data: list = field(repr=False, default_factory=list)
    transitions: list = field(default_factory=list)
    transition_errors: list = field(default_factory=list)
    inputs: list = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return all(f.converged for f in self.fits) and all(t.converged for t in self.transitions)

    @property
    def reasons(self) -> list[str]:
        out = [f"{f.label}: {r}" for f in self.fits for r in f.reasons]
        out += [f"transition {t.phase} ({t.sweep or 'all'}): {r}" for t in self.transitions
                for r in t.reasons]
        return out

    def implausible(self) -> list[str]:
        """Values not to be trusted (:meth:`latdyn.fitresult.FitResult.implausible`), by
        pattern and transition."""
        out = [f"{f.label}: {r}" for f in self.fits for r in f.implausible()]
        return out + [f"transition {t.phase} ({t.sweep or 'all'}): {r}" for t in self.transitions
                      for r in t.implausible()]

    def warnings(self) -> list[str]:
        """Why the results should not be used as they stand: the reasons and implausible values."""
        return self.reasons + self.implausible()

    def fraction_curve(self, phase: str, sweep: str | None = None):
        """(condition, w, w_err) of ``phase`` over the fits (of one sweep when given)."""
        fits = [f for f in self.fits if sweep is None or f.sweep == sweep]
        x = np.array([f.condition for f in fits])
        w = np.array([f.fractions[phase][0] for f in fits])
        e = np.array([f.fractions[phase][1] for f in fits])
        return x, w, e

    @property
    def hysteresis(self) -> tuple[float, float] | None:
        """x_t(up) - x_t(down) and its error, for the first phase with both sweeps fitted."""
        by = {(t.phase, t.sweep): t for t in self.transitions}
        for ph in self.phases:
            up, down = by.get((ph, "up")), by.get((ph, "down"))
            if up is not None and down is not None:
                return (up.midpoint[0] - down.midpoint[0],
                        float(np.hypot(up.midpoint[1], down.midpoint[1])))
        return None

    def fit_rows(self) -> list[dict]:
        """One row per pattern with every fitted parameter (the layout of ``phases.csv``)."""
        return [f.row() for f in self.fits]

    def rows(self) -> list[dict]:
        """The printed table: pattern, condition, sweep, weight fractions w_<phase> with errors,
        chi2_red, converged, reasons."""
        keep = ("pattern", "condition", "sweep", "chi2_red", "converged", "reasons")
        return [{k: v for k, v in r.items() if k in keep or k.startswith("w_")} for r in self.fit_rows()]

    @property
    def heading(self) -> str:
        return f"Phase fractions versus {self.quantity} ({self.unit})"

    def summary(self) -> dict:
        """Counts, convergence, transitions and hysteresis (the layout of ``summary.json``)."""
        out = {"patterns": len(self.fits), "phases": self.phases, "quantity": self.quantity,
               "unit": self.unit, "converged": self.converged, "reasons": self.reasons,
               "implausible": self.implausible(),
               "transitions": [t.row() for t in self.transitions],
               "transition_errors": self.transition_errors}
        h = self.hysteresis
        if h is not None:
            out["hysteresis"] = h[0]
            out["hysteresis_err"] = h[1]
        return out

    def to_json(self) -> dict:
        """:meth:`summary` with the hysteresis as value, error and unit."""
        out = {k: v for k, v in self.summary().items() if k not in ("hysteresis", "hysteresis_err")}
        h = self.hysteresis
        out["hysteresis"] = None if h is None else {"value": h[0], "error": h[1], "unit": self.unit}
        return _jsonable(out)

    # --- output -------------------------------------------------------------------------------
    def _fraction_rows(self) -> list[dict]:
        out = []
        for f in self.fits:
            r = {"pattern": f.label, f"{self.quantity}_{self.unit}": f.condition, "sweep": f.sweep}
            for ph in self.phases:
                r[f"w_{ph}"], r[f"w_{ph}_err"] = f.fractions[ph]
            r["converged"] = f.converged
            out.append(r)
        return out

    def _export_writers(self) -> dict:
        """export/<label>.xye, .fxye and (constant steps) .gsa writers of every pattern."""
        out = {}
        for d in self.data:
            stem = f"export/{_safe(d.label)}"
            out[f"{stem}.xye"] = lambda path, d=d: write_xye(d, path)
            if d.axis != "d":
                out[f"{stem}.fxye"] = lambda path, d=d: write_gsas(d, path, kind="FXYE")
                if np.allclose(np.diff(d.x), d.x[1] - d.x[0], rtol=1e-6):
                    out[f"{stem}.gsa"] = lambda path, d=d: write_gsas(d, path, kind="ESD")
        return out

    def write(self, folder, command: str | None = None, *, export: bool = True) -> list[Path]:
        """Write ``folder`` whole (layouts in docs/diffraction.md): ``phases.csv`` (one row per
        pattern), ``fractions.csv``, ``transitions.csv``, ``summary.json``, ``report.html`` with
        figures, and with ``export`` every pattern as ``export/<label>.xye``, ``.gsa`` (constant
        steps only) and ``.fxye`` for a Rietveld program.  Returns the paths."""
        from ..report.folder import write_result_folder

        rows = self.fit_rows()
        frows = self._fraction_rows()
        trows = [t.row() for t in self.transitions]
        cols = list(dict.fromkeys(k for r in rows for k in r))
        files = {"phases.csv": lambda p: _write_rows(p, rows, cols),
                 "fractions.csv": lambda p: _write_rows(p, frows, list(frows[0]))}
        if trows:
            files["transitions.csv"] = lambda p: _write_rows(p, trows, list(trows[0]))
        summary = json.dumps(_jsonable(self.summary()), indent=2)
        files["summary.json"] = lambda p: write_text_atomic(p, summary)
        if export:
            files.update(self._export_writers())
        return write_result_folder(folder, files, self.report(command))

    def figures(self) -> list:
        """(name, figure, caption) of the fraction curves and of the first and last fits."""
        from ..report import axis_label, new_figure

        figs = []
        fig, ax = new_figure(7, 4.2)
        for i, ph in enumerate(self.phases):
            for sweep, mk in (("up", "o"), ("down", "s"), ("", "d")):
                x, w, e = self.fraction_curve(ph, sweep)
                if x.size:
                    ax.errorbar(x, w, e, fmt=mk, ms=4, color=f"C{i}", mfc="none" if sweep == "down"
                                else None, label=f"{ph} {sweep}".strip())
        for t in self.transitions:
            xx = np.linspace(*self._range(), 200)
            ax.plot(xx, t.curve(xx), lw=1, ls="--" if t.sweep == "down" else "-", color="k")
            ax.axvline(t.midpoint[0], color="0.6", lw=0.6)
        ax.set_xlabel(axis_label(self.quantity, self.unit))
        ax.set_ylabel("Weight fraction")
        ax.legend(frameon=False, fontsize=8)
        figs.append(("fractions", fig, "Weight fractions (Hill-Howard) with standard errors; lines: "
                     "logistic fits of the transition"))
        for f in (self.fits[0], self.fits[-1]) if len(self.fits) > 1 else self.fits[:1]:
            fg = f.figure()
            fg.axes[0].set_title(f"{f.label}: {self.quantity} {f.condition:g} {self.unit} {f.sweep}")
            figs.append((f"fit_{_safe(f.label)}", fg, f"Fit of {f.label} (converged: {f.converged})"))
        return figs

    def _range(self):
        x = np.array([f.condition for f in self.fits])
        return float(x.min()), float(x.max())

    def report(self, command: str | None = None):
        """The HTML report: fraction curves, first and last fits, transitions, hysteresis."""
        from ..report import Report

        rep = Report(f"Phase fractions versus {self.quantity}", command=command)
        for i in self.inputs:
            rep.add_input(i)
        flag = "all fits converged" if self.converged else \
            "NOT ALL FITS CONVERGED: " + "; ".join(self.reasons[:10])
        rep.add_text(None, f"{len(self.fits)} patterns, phases {', '.join(self.phases)}; {flag}. "
                     "Weight fractions w = S ZMV / sum (Hill & Howard 1987), errors from the fit "
                     "covariance scaled by max(chi2_red, 1).")
        for name, fig, cap in self.figures():
            rep.add_figure(name, fig, cap)
        if self.transitions:
            rep.add_table("Transitions (logistic fits)", [t.row() for t in self.transitions])
        if self.transition_errors:
            rep.add_text("Transitions not fitted", "; ".join(self.transition_errors))
        h = self.hysteresis
        if h is not None:
            rep.add_parameters("Hysteresis", {"x_t(up) - x_t(down)": (h[0], h[1], self.unit)})
        rep.add_table("Fits", [{k: v for k, v in r.items() if not k.endswith("_err") or
                                k.startswith("w_")} for r in self.fit_rows()])
        return rep


def _jsonable(obj):
    """Plain JSON values (numpy scalars to Python, NaN and inf to null)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(label)) or "pattern"


def _write_rows(path: Path, rows: list[dict], cols: list[str]) -> Path:
    def cell(v):
        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        if isinstance(v, (float, np.floating)):
            return f"{float(v):.10g}"
        s = str(v)
        return f'"{s}"' if ("," in s or '"' in s) else s

    lines = [",".join(cols)] + [",".join(cell(r.get(c, "")) for c in cols) for r in rows]
    return write_text_atomic(path, "\n".join(lines) + "\n")


def fit_series(data: list[PowderData], phases: list[Phase], *, quantity: str = "temperature",
               unit: str | None = None, transition_phase: str | None = None, **fit_kwargs) -> PhaseSeries:
    """Fit every pattern of a series and the transition of ``transition_phase`` (default: the
    phase whose fraction changes most) per sweep.

    Patterns are grouped by sweep ('up', 'down' or '') and fitted in order of their condition
    within a sweep, each starting from the previous fit of the same sweep; ``fit_kwargs`` go to
    :func:`latdyn.diffraction.phases.fit_pattern`.  A transition that cannot be fitted (no step,
    too few points) is listed in ``transition_errors`` instead.
    """
    if quantity not in ("temperature", "field"):
        raise InputError("quantity must be 'temperature' or 'field'", field="quantity", value=quantity)
    unit = unit or ("K" if quantity == "temperature" else "T")
    if not data:
        raise InputError("give at least one pattern", field="patterns")
    fits: list[PatternFit] = []
    order: list[PowderData] = []
    for sweep in dict.fromkeys(d.sweep for d in data):
        seq = sorted([d for d in data if d.sweep == sweep], key=lambda d: d.condition,
                     reverse=sweep == "down")
        prev = None
        for d in seq:
            f = fit_pattern(d, phases, start=prev, **fit_kwargs)
            if not f.converged and prev is not None:    # a bad start can stall: retry from scratch
                g = fit_pattern(d, phases, **fit_kwargs)
                f = g if g.converged or g.chi2 < f.chi2 else f
            fits.append(f)
            order.append(d)
            prev = f.values if f.converged else prev
    names = [p.name for p in phases]
    series = PhaseSeries(fits, names, quantity, unit, order)
    if len(names) > 1 and len(fits) >= 5:
        if transition_phase is None:
            spreads = {n: np.ptp([f.fractions[n][0] for f in fits]) for n in names}
            transition_phase = max(spreads, key=spreads.get)
        elif transition_phase not in names:
            raise InputError("unknown phase for the transition", field="transition_phase",
                             value=transition_phase)
        for sweep in dict.fromkeys(f.sweep for f in fits):
            x, w, e = series.fraction_curve(transition_phase, sweep)
            try:
                series.transitions.append(fit_transition(x, w, e, phase=transition_phase, sweep=sweep))
            except InputError as exc:
                series.transition_errors.append(f"{transition_phase} ({sweep or 'all'}): {exc}")
    return series
