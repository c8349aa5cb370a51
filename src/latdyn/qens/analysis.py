r"""The standard QENS analysis of a measured S(Q, E), as run by ``latdyn qens fit``.

1. **Per-Q fits** for each candidate number N of Lorentzians: elastic line (optional) +
   L_1..L_N + background, convolved with the resolution, detailed balance at the sample
   temperature, an energy shift per group.  Widths start from the data (:func:`width_guess`).
2. **Model selection** across N by AIC or BIC over all groups fitted by every candidate
   (Burnham & Anderson 2002), and per group; the chosen N is reported with Akaike weights.
3. **Q dependence**: the narrowest Lorentzian's HWHM(Q) of the chosen fit is fitted with each
   diffusion model (:func:`latdyn.qens.fit_hwhm`), the elastic fraction A_el/(A_el + sum A_i)
   (the measured EISF) with each geometry model asked for (:func:`latdyn.qens.fit_eisf`).
   After the fit the Lorentzians of each group are ordered by width (L1 the narrowest).
4. **Global fit** (when a diffusion, EISF or rotation model is asked for): one fit of all
   groups with L1's HWHM tied to the first diffusion model, the elastic fraction tied to the
   first geometry model (or its full Lorentzian series with ``expand``), or translation x
   localised motion (``rotation``, :meth:`FitSetup.tie_translation`), started from the
   two-step results.

Everything returned is plain data (:class:`QensAnalysis`); :mod:`latdyn.cli.qens` writes the
report, tables and figures.  Units: E meV, Q 1/A, HWHM meV, D A^2/ps, tau ps, lengths A.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..errors import FitError, InputError, LatdynError
from ..fitresult import FitResult, Parameter, Quantities, Quantity, diagnose, solve
from ..units import scipp_unit
from .diffusion import as_diffusion_model, diffusion_name
from .geometry import get_geometry_model
from .spectral_fit import fit
from .spectral_model import FitSetup, qens_model
from .spectral_result import SpectralFitResult

__all__ = ["QensPlan", "QensAnalysis", "analyse", "analyse_auto", "auto_candidates", "ordered_widths",
           "selection_table", "resolution_hwhm", "CurveFit", "fit_hwhm", "fit_eisf"]


@dataclass
class QensPlan:
    """What to fit.  ``lorentzians``: candidate numbers of Lorentzians (per-Q fits, model
    selection); ``shift``: 'perq' | 'shared' | 'fixed' (0); ``diffusion``/``eisf``: models fitted
    to HWHM(Q) / EISF(Q), the first of each also tied in the global fit; ``rotation``: a geometry
    model for translation x localised motion (needs a diffusion model); ``global_fit``: None
    means 'when a diffusion, EISF or rotation model is given'; ``share``/``fix``: extra rules for
    the global fit; ``mcmc``: emcee options for the final fit; ``min_width``: lower bound of the
    Lorentzian HWHM (meV) in the per-Q fits, default a tenth of the resolution HWHM (a narrower
    line cannot be told from the elastic line and makes the EISF meaningless)."""

    lorentzians: tuple[int, ...] = (1,)
    elastic: bool = True
    background: str = "flat"
    temperature: float | None = None
    shift: str = "perq"
    criterion: str = "bic"
    diffusion: tuple[str, ...] = ()
    eisf: tuple[str, ...] = ()
    immobile: bool = False
    rotation: str | None = None
    expand: bool = False
    global_fit: bool | None = None
    share: tuple[str, ...] = ()
    fix: dict[str, float] = field(default_factory=dict)
    mcmc: dict | None = None
    zero_errors: str = "mask"
    min_width: float | None = None
    resolution_match: str = "q"
    max_evaluations: int | None = None

    def __post_init__(self):
        self.lorentzians = tuple(sorted({int(n) for n in self.lorentzians}))
        if not self.lorentzians or min(self.lorentzians) < 0 or max(self.lorentzians) > 5:
            raise InputError("numbers of Lorentzians must lie in 0..5", field="lorentzians",
                             value=self.lorentzians)
        if not self.elastic and 0 in self.lorentzians:
            raise InputError("a model with no elastic line needs at least one Lorentzian",
                             field="lorentzians", value=self.lorentzians)
        if self.shift not in ("perq", "shared", "fixed"):
            raise InputError("shift must be 'perq', 'shared' or 'fixed'", field="shift", value=self.shift)
        if self.criterion not in ("aic", "bic"):
            raise InputError("criterion must be 'aic' or 'bic'", field="criterion", value=self.criterion)
        self.diffusion = tuple(diffusion_name(d) for d in self.diffusion)
        if self.rotation and not self.diffusion:
            raise InputError("a rotation (localised-motion) model multiplies a translational one: "
                             "give a diffusion model too", field="rotation", value=self.rotation)
        if self.eisf and not self.elastic and not self.rotation:
            raise InputError("an EISF model needs the elastic line", field="eisf", value=self.eisf)

    @property
    def wants_global(self) -> bool:
        if self.global_fit is not None:
            return bool(self.global_fit)
        return bool(self.diffusion or self.eisf or self.rotation)

    def describe(self) -> str:
        parts = [("elastic line + " if self.elastic else "") + "N Lorentzians + "
                 + f"{self.background} background, N in {list(self.lorentzians)}",
                 "detailed balance at " + (f"{self.temperature:g} K" if self.temperature else "off"),
                 f"energy shift {self.shift}"]
        return "; ".join(parts)


@dataclass
class QensAnalysis:
    """Results of :func:`analyse` (see the module docstring for the steps)."""

    plan: QensPlan
    data: sc.DataArray
    perq: dict[int, SpectralFitResult]
    selection: list[dict]
    chosen: int
    group_choice: list[dict]
    widths: list[dict]
    hwhm_fits: dict[str, object]
    eisf_fits: dict[str, object]
    global_result: SpectralFitResult | None = None
    global_setup: FitSetup | None = None
    notes: list[str] = field(default_factory=list)
    spectral_model: str = "elastic-lorentzians"
    instrument: str | None = None
    inputs: list = field(default_factory=list)
    resolution_hwhm: float = float("nan")
    ranking: list[dict] = field(default_factory=list)

    @property
    def final(self) -> SpectralFitResult:
        """The global fit when there is one, else the chosen per-Q fit."""
        return self.global_result if self.global_result is not None else self.perq[self.chosen]

    def summary(self) -> dict:
        """The chosen number of Lorentzians and every fitted model with its statistics, values
        (value, error, unit) and convergence, as plain JSON-able data."""
        out = {"chosen_lorentzians": self.chosen, "criterion": self.plan.criterion}
        for kind, fits in (("hwhm_fits", self.hwhm_fits), ("eisf_fits", self.eisf_fits)):
            out[kind] = {name: {"parameters": {p.name: p.as_dict() for p in r.parameters},
                                "derived": r.derived.as_json(), **r.statistics()}
                         for name, r in fits.items()}
        if self.global_result is not None:
            g = self.global_result
            out["global"] = {**g.statistics(), "derived": g.derived.as_json()}
        return out

    def headline(self) -> dict:
        """The one result to quote: the global fit's physics when there is a global fit, else
        the first diffusion model fitted to HWHM(Q); the other fits are cross-checks."""
        if self.global_result is not None:
            g = self.global_result
            return {"source": "global fit", "quantities": g.derived.as_json(), "converged": g.converged,
                    "reasons": list(g.reasons), "implausible": g.implausible(),
                    "reduced_chi2": g.reduced_chi2}
        if self.hwhm_fits:
            name = min(self.hwhm_fits, key=lambda k: (not self.hwhm_fits[k].converged, self.hwhm_fits[k].bic))
            r = self.hwhm_fits[name]
            return {"source": f"HWHM(Q) fit ({name}, lowest BIC)", "quantities": r.derived.as_json(),
                    "converged": r.converged, "reasons": list(r.reasons), "implausible": r.implausible(),
                    "reduced_chi2": r.reduced_chi2}
        return {"source": f"per-Q fits ({self.chosen} Lorentzians)", "quantities": {},
                "converged": self.perq[self.chosen].converged,
                "reasons": list(self.perq[self.chosen].reasons),
                "reduced_chi2": self.perq[self.chosen].reduced_chi2}

    def cross_checks(self) -> dict:
        """Every fit other than the headline one, by name, with its quantities and convergence."""
        head = self.headline()["source"]
        out = {}
        for kind, fits in (("HWHM(Q) fit", self.hwhm_fits), ("EISF(Q) fit", self.eisf_fits)):
            for name, r in fits.items():
                label = f"{kind} ({name})"
                if label != head:
                    q = {p.name: p.as_dict() for p in r.parameters} | r.derived.as_json()
                    out[label] = {"quantities": q, "converged": r.converged,
                                  "reduced_chi2": r.reduced_chi2}
        return out

    def flags(self) -> list[str]:
        """What to check in the final result: implausible values (:meth:`implausible`) and energy
        shifts larger than the resolution HWHM (with their likely causes)."""
        return self.implausible() + self._shift_flags()

    def implausible(self) -> list[str]:
        """Derived times, lengths and radii of the reported result outside :data:`PLAUSIBLE`."""
        out = []
        f = self.final
        quantities = dict(f.derived.items())
        if self.global_result is None:
            for name, r in self.hwhm_fits.items():
                quantities |= {f"{name} {k}": q for k, q in r.derived.items()}
        for name, q in quantities.items():
            key = name.rsplit("_", 1)[-1] if name.rsplit("_", 1)[-1] in PLAUSIBLE else \
                next((k for k in ("l_rms", "tau1") if name.endswith(k)), None)
            lo, hi, unit = PLAUSIBLE.get(key, (None, None, None))
            if lo is not None and q.unit == unit and not (lo <= q.value <= hi):
                out.append(f"{name} = {q.value:.4g} {unit} lies outside the plausible range {lo:g} to "
                           f"{hi:g} {unit}")
        return out

    def _shift_flags(self) -> list[str]:
        out = []
        f = self.final
        hw = self.resolution_hwhm
        big = [(g.Q, float(np.ravel(g.values["shift"])[0])) for g in f.groups
               if "shift" in g.values and np.isfinite(hw) and abs(float(np.ravel(g.values["shift"])[0])) > hw]
        if big:
            out.append(f"energy shift larger than the resolution HWHM ({hw:.3g} meV) in {len(big)} group(s) "
                       f"(|Q|, shift meV: {', '.join(f'{q:.3g}: {s:+.3g}' for q, s in big)}): likely causes "
                       "are a resolution run not centred like the sample (other temperature or position), "
                       "a wrong sample temperature or detailed balance, or a line the model lacks")
        return out

    def group_notes(self) -> list[str]:
        """Groups of the final fit that were dropped or had points masked, each with its reason."""
        return [v for v in self.final.status.values() if v != "ok"]

    def warnings(self) -> list[str]:
        """Why a result should not be used as it stands: the final fit did not converge (its
        reasons), a model fit of the Q dependence did not, implausible values (:meth:`flags`)."""
        out = list(self.flags())
        f = self.final
        what = "global fit" if self.global_result is not None else f"per-Q fit ({self.chosen} L)"
        out += [f"{what}: {r}" for r in [*f.reasons, *f.implausible()]]
        for kind, fits in (("HWHM(Q)", self.hwhm_fits), ("EISF(Q)", self.eisf_fits)):
            for name, r in fits.items():
                out += [f"{kind} fit {name}: {x}" for x in [*r.reasons, *r.implausible()]]
        return out

    @property
    def resolution_notes(self) -> dict[int, str]:
        """Per data group, how its resolution was chosen when not at its own |Q|."""
        return self.final.resolution_notes

    def rows(self) -> list[dict]:
        """The per-Q table: Q, widths, EISF and chi2_red per group (and the resolution used,
        when a group's resolution was substituted)."""
        keys = ("Q", "hwhm_1", "hwhm_1_err", "hwhm_2", "hwhm_2_err", "eisf", "eisf_err", "chi2_red")
        notes = self.resolution_notes
        return [{k: r.get(k) for k in keys if k in r} | ({"resolution": notes.get(r["group"], "own |Q|")}
                                                          if notes else {}) for r in self.widths]

    def to_json(self) -> dict:
        """Everything the command line prints with --json (values with error and unit)."""
        e = self.data.coords["E"].values
        return {"chosen_lorentzians": self.chosen, "spectral_model": self.spectral_model,
                "temperature": ({"value": self.plan.temperature, "unit": "K"}
                                if self.plan.temperature else None),
                "energy_range": {"value": [float(e.min()), float(e.max())], "unit": "meV"},
                "result": self.headline(), "cross_checks": self.cross_checks(),
                "converged": self.final.converged, "flags": self.flags(), "warnings": self.warnings(),
                "notes": list(self.notes) + self.group_notes(), "ranking": self.ranking,
                "resolution_matching": {str(k): v for k, v in self.resolution_notes.items()}}

    def write(self, folder, command: str | None = None) -> list:
        """Write report.html, figures/, CSV tables and HDF5 results into ``folder`` (replaced
        whole; layouts in docs/qens.md); returns the paths."""
        from .report import write_analysis

        return write_analysis(self, folder, command)

    def report(self, command: str | None = None):
        """The HTML report (a :class:`latdyn.report.Report`; ``.write(path)`` or ``.to_html()``)."""
        from .report import build_report

        return build_report(self, command)


def resolution_hwhm(resolution, data: sc.DataArray, match: str = "q") -> float:
    """Median half width at half maximum (meV) of the resolution over the Q groups of ``data``."""
    from ..convolution.resolution import MeasuredResolution
    from .spectral_fit import _half_width, data_arrays

    if isinstance(resolution, sc.DataArray):
        resolution = MeasuredResolution.from_data(resolution, match=match)
    Q, E, _, _ = data_arrays(data)
    prep = resolution.prepare(E, Q)
    R = prep.delta(np.zeros(Q.size))
    w = [_half_width(E, R[i]) for i in range(Q.size) if i not in prep.problems]
    w = [x for x in w if np.isfinite(x) and x > 0]
    return float(np.median(w)) if w else float(np.median(np.diff(E)))


#: the energy offset of a group may move by at most this many resolution HWHM (a guard against
#: a runaway shift; a shift above one HWHM is flagged, see QensAnalysis.flags)
SHIFT_LIMIT = 10.0

#: plausible ranges of derived QENS quantities (name ending -> (low, high, unit)); a value
#: outside is flagged, never silently reported
PLAUSIBLE = {"D": (0.0, 10.0, "angstrom**2/ps"), "tau": (0.01, 1000.0, "ps"),
             "tau1": (0.01, 1000.0, "ps"), "l": (0.0, 10.0, "angstrom"),
             "l_rms": (0.0, 10.0, "angstrom"), "radius": (0.0, 5.0, "angstrom"),
             "d": (0.0, 10.0, "angstrom"), "a": (0.0, 10.0, "angstrom")}


def _perq_setup(plan: QensPlan, n: int, min_width: float = 1e-6, res_hwhm: float = np.inf) -> FitSetup:
    s = FitSetup(qens_model(n, plan.background, temperature=plan.temperature, elastic=plan.elastic))
    for k in range(1, n + 1):
        s.set(f"L{k}_hwhm", np.nan, min_width, np.inf)
    _shift_rule(s, plan, res_hwhm)
    return s


def _shift_rule(s: FitSetup, plan: QensPlan, res_hwhm: float) -> None:
    """Shift fixed at 0, shared or per group, within +-SHIFT_LIMIT resolution HWHM."""
    lim = SHIFT_LIMIT * res_hwhm
    if plan.shift == "fixed":
        s.fix("shift", 0.0)
    elif plan.shift == "shared":
        s.share("shift", 0.0, -lim, lim)
    else:
        s.set("shift", 0.0, -lim, lim)


def ordered_widths(result: SpectralFitResult) -> list[dict]:
    """Per group: Q, the Lorentzians ordered by HWHM (hwhm_k, amplitude_k with errors, k = 1 the
    narrowest), the elastic fraction (EISF) with its error, chi2_red."""
    rows = []
    for g in result.groups:
        ks = sorted(int(k[1:-5]) for k in g.values if k.startswith("L") and k.endswith("_hwhm")
                    and k[1:-5].isdigit() and np.size(g.values[k]) == 1)
        order = sorted(ks, key=lambda k: float(g.values[f"L{k}_hwhm"]))
        row = {"group": g.index, "Q": g.Q, "chi2_red": g.chi2 / max(g.npts, 1)}
        for j, k in enumerate(order, start=1):
            for p in ("hwhm", "amplitude"):
                row[f"{p}_{j}"] = float(g.values[f"L{k}_{p}"])
                row[f"{p}_{j}_err"] = float(g.errors[f"L{k}_{p}"])
        if "elastic_amplitude" in g.values:
            row["elastic_amplitude"] = float(g.values["elastic_amplitude"])
            row["elastic_amplitude_err"] = float(g.errors["elastic_amplitude"])
        if "elastic_fraction" in g.values:
            row["eisf"] = float(g.values["elastic_fraction"])
            row["eisf_err"] = float(g.errors["elastic_fraction"])
        row["shift"] = float(g.values["shift"])
        row["shift_err"] = float(g.errors["shift"])
        rows.append(row)
    return rows


def selection_table(results: dict[int, SpectralFitResult], criterion: str
                    ) -> tuple[int, list[dict], list[dict]]:
    """(chosen N, rows over N, rows over groups) comparing per-Q fits on their common groups.

    IC_N = sum_g chi2_g + c k_N(g), c = 2 (AIC) or ln n_g (BIC) per group; Akaike weights
    exp(-Delta/2) normalised.  Per group the lowest IC names the group's preferred N."""
    common = set.intersection(*[{g.index for g in r.groups} for r in results.values()]) if results else set()
    if not common:
        raise FitError("no Q group was fitted by every candidate model", field="lorentzians",
                       value=sorted(results))
    per_group: dict[int, dict[int, tuple[float, int, int]]] = {}
    for n, r in results.items():
        k = _free_per_group(r)
        for g in r.groups:
            if g.index in common:
                per_group.setdefault(g.index, {})[n] = (g.chi2, k, g.npts)
    tot = {}
    for n in results:
        chi2 = sum(per_group[i][n][0] for i in common)
        k = sum(per_group[i][n][1] for i in common)
        npts = sum(per_group[i][n][2] for i in common)
        aic = chi2 + 2 * k
        bic = sum(per_group[i][n][0] + per_group[i][n][1] * np.log(per_group[i][n][2]) for i in common)
        tot[n] = {"lorentzians": n, "chi2": chi2, "n_points": npts, "k": k,
                  "chi2_red": chi2 / max(npts - k, 1), "aic": aic, "bic": bic}
    best = min(tot, key=lambda n: tot[n][criterion])
    w = {n: np.exp(-(tot[n][criterion] - tot[best][criterion]) / 2) for n in tot}
    s = sum(w.values())
    rows = [tot[n] | {f"delta_{criterion}": tot[n][criterion] - tot[best][criterion],
                      "weight": w[n] / s, "chosen": n == best} for n in sorted(tot)]
    grows = []
    for i in sorted(common):
        d = per_group[i]
        ic = {n: c + (2 * k if criterion == "aic" else k * np.log(npts)) for n, (c, k, npts) in d.items()}
        q = next(g.Q for g in results[best].groups if g.index == i)
        grows.append({"group": i, "Q": q, **{f"{criterion}_{n}L": v for n, v in sorted(ic.items())},
                      "preferred": min(ic, key=ic.get)})
    return best, rows, grows


def _free_per_group(r: SpectralFitResult) -> int:
    n_groups = max(len(r.groups), 1)
    return int(round(r.n_varied / n_groups))


def _eisf_points(rows: list[dict]):
    q = np.array([r["Q"] for r in rows if "eisf" in r])
    y = np.array([r["eisf"] for r in rows if "eisf" in r])
    e = np.array([r["eisf_err"] for r in rows if "eisf" in r])
    return q, y, e


def analyse(data: sc.DataArray, resolution, plan: QensPlan, source: str | None = None,
            progress: bool | None = None) -> QensAnalysis:
    """Run the per-Q fits, model selection, HWHM(Q)/EISF(Q) fits and the global fit."""
    notes: list[str] = []
    perq: dict[int, SpectralFitResult] = {}
    errors = {}
    hw = resolution_hwhm(resolution, data, plan.resolution_match)
    wmin = plan.min_width if plan.min_width is not None else 0.1 * hw
    notes.append(f"Lorentzian HWHM bounded below by {wmin:.4g} meV"
                 + (" (a tenth of the resolution HWHM)" if plan.min_width is None else "")
                 + f"; energy shift within +-{SHIFT_LIMIT:g} resolution HWHM ({SHIFT_LIMIT * hw:.4g} meV)")
    for n in plan.lorentzians:
        try:
            perq[n] = fit(data, resolution, _perq_setup(plan, n, wmin, hw), mode="per-q", source=source,
                          zero_errors=plan.zero_errors, progress=progress,
                          resolution_match=plan.resolution_match, max_nfev=plan.max_evaluations)
        except FitError as exc:
            errors[n] = str(exc)
    if not perq:
        raise FitError("no per-Q fit succeeded: " + "; ".join(f"{n} Lorentzians: {m}"
                                                             for n, m in errors.items()), file=source)
    for n, m in errors.items():
        notes.append(f"the per-Q fit with {n} Lorentzians failed: {m}")
    chosen, selection, group_choice = selection_table(perq, plan.criterion)
    widths = ordered_widths(perq[chosen])

    hwhm_fits = {}
    if chosen >= 1 and (plan.diffusion or not plan.eisf):
        q = np.array([r["Q"] for r in widths])
        y = np.array([r["hwhm_1"] for r in widths])
        e = np.array([r["hwhm_1_err"] for r in widths])
        # no model named: all four, to compare (not with an EISF model: localised motion)
        models = plan.diffusion or ("fick", "chudley-elliott", "hall-ross", "singwi-sjolander")
        for m in models:
            try:
                hwhm_fits[m] = fit_hwhm(q, y, e, m)
            except LatdynError as exc:
                notes.append(f"HWHM(Q) fit with {m} failed: {exc}")
    eisf_fits = {}
    if plan.eisf and plan.elastic and chosen >= 1:
        q, y, e = _eisf_points(widths)
        for spec in plan.eisf:
            try:
                eisf_fits[spec] = fit_eisf(q, y, e, spec, immobile=plan.immobile)
            except LatdynError as exc:
                notes.append(f"EISF(Q) fit with {spec} failed: {exc}")

    out = QensAnalysis(plan, data, perq, selection, chosen, group_choice, widths, hwhm_fits, eisf_fits,
                       notes=notes, resolution_hwhm=hw)
    if plan.wants_global:
        best = None
        for starts in _rotation_starts(plan):
            setup, start = _global_setup(plan, out, wmin, hw, starts)
            try:
                r = fit(data, resolution, setup, mode="global", start=start, mcmc=plan.mcmc, source=source,
                        zero_errors=plan.zero_errors, resolution_match=plan.resolution_match,
                        max_nfev=plan.max_evaluations)
            except FitError as exc:
                notes.append(f"a global fit start failed: {exc}")
                continue
            if best is None or (r.converged, -r.chi2) > (best[1].converged, -best[1].chi2):
                best = (setup, r)
        if best is None:
            raise FitError("no global fit succeeded: " + "; ".join(notes[-3:]), file=source)
        if len(_rotation_starts(plan)) > 1:
            notes.append(f"translation x rotation: the best of {len(_rotation_starts(plan))} starting "
                         "points of the rotation (lowest chi2 among converged fits) is kept")
        out.global_setup, out.global_result = best
    elif plan.mcmc:
        out.perq[chosen] = fit(data, resolution, _perq_setup(plan, chosen, wmin, hw), mode="per-q",
                               mcmc=plan.mcmc, source=source, zero_errors=plan.zero_errors,
                               progress=progress, resolution_match=plan.resolution_match)
    return out


def _rotation_starts(plan: QensPlan) -> list[dict]:
    """Starting points of the localised motion in a translation x rotation fit (the rotation
    is not seen in the separable per-Q fits, and its chi^2 surface has several minima): the
    model's own guess and, for lengths, a shorter and a longer one with a faster and a slower
    rate."""
    if not plan.rotation:
        return [{}]
    gm = get_geometry_model(plan.rotation)
    base = dict(zip(gm.params, gm.guess, strict=True))
    out = [{}]
    for f_len, f_rate in ((0.8, 3.0), (1.3, 0.3)):
        out.append({p: v * (f_len if u in ("A", "A^2") else f_rate if u in ("1/ps", "A^2/ps") else 1 / f_rate)
                    for (p, v), u in zip(base.items(), gm.units, strict=True)})
    return out


def auto_candidates(plan: QensPlan) -> dict[str, QensPlan]:
    """The model families ``--model auto`` compares (issue of model choice): elastic line + 1-3
    Lorentzians per Q group; each diffusion model (Fick, Chudley-Elliott, Hall-Ross,
    Singwi-Sjolander) tied to the Lorentzian in a global fit with the elastic line free per
    group; translation (Singwi-Sjolander) x rotation on a sphere, without and with an immobile
    fraction.  Background, temperature, shift rule and resolution settings come from ``plan``."""
    from dataclasses import replace

    base = replace(plan, lorentzians=(1,), elastic=True, diffusion=(), eisf=(), rotation=None, expand=False,
                   immobile=False, global_fit=None, share=(), fix={})
    out = {"elastic + 1-3 Lorentzians per Q": replace(base, lorentzians=(1, 2, 3), global_fit=False)}
    for d in ("fick", "chudley-elliott", "hall-ross", "singwi-sjolander"):
        out[f"elastic + {d}"] = replace(base, diffusion=(d,))
    tr = replace(base, elastic=False, diffusion=("singwi-sjolander",), rotation="sphere-rotation:3")
    out["translation (singwi-sjolander) x rotation"] = tr
    out["translation x rotation + immobile fraction"] = replace(tr, immobile=True)
    return out


def analyse_auto(data: sc.DataArray, resolution, plan: QensPlan, source: str | None = None,
                 progress: bool | None = None) -> QensAnalysis:
    """Fit every family of :func:`auto_candidates`, rank them by BIC (chi^2 + k ln n on the same
    points; Akaike weights) and return the analysis of the best one that converged with no
    implausible value (else the lowest BIC, with a warning).  ``ranking`` holds one row per
    candidate with its statistics, convergence, flags and headline quantities."""
    fits: dict[str, QensAnalysis] = {}
    failed: dict[str, str] = {}
    for label, cand in auto_candidates(plan).items():
        try:
            fits[label] = analyse(data, resolution, cand, source=source, progress=progress)
        except LatdynError as exc:
            failed[label] = str(exc)
    if not fits:
        raise FitError("no candidate model could be fitted: "
                       + "; ".join(f"{k}: {v}" for k, v in failed.items()), file=source)
    stats = {}
    for label, a in fits.items():
        if a.global_result is not None:
            r = a.global_result
            stats[label] = (r.chi2, r.n_varied, r.n_points, r.bic, r.converged)
        else:
            row = next(x for x in a.selection if x["chosen"])
            stats[label] = (row["chi2"], row["k"], row["n_points"], row["bic"], a.perq[a.chosen].converged)
    best_bic = min(v[3] for v in stats.values())
    weights = {k: np.exp(-(v[3] - best_bic) / 2) for k, v in stats.items()}
    total = sum(weights.values())
    rows = []
    for label, a in fits.items():
        chi2, k, n, b, conv = stats[label]
        flags = a.implausible()
        head = a.headline()["quantities"]
        rows.append({"model": label, "k": k, "n_points": n, "chi2_red": chi2 / max(n - k, 1), "bic": b,
                     "delta_bic": b - best_bic, "weight": weights[label] / total, "converged": conv,
                     "implausible": len(flags),
                     **{q: head[k]["value"] for q in ("D", "tau") for k in (f"L1_{q}", q) if k in head}})
    rows.sort(key=lambda r: r["bic"])
    trusted = [r for r in rows if r["converged"] and r["implausible"] == 0]
    chosen = (trusted or rows)[0]
    for r in rows:
        r["chosen"] = r is chosen
    out = fits[chosen["model"]]
    out.ranking = rows
    out.notes.append(f"model chosen by BIC among {len(rows)} candidate families: {chosen['model']}"
                     + ("" if trusted else " (no candidate converged without flags: the lowest BIC is "
                                           "reported, check its warnings)"))
    out.notes.append("BIC ranks how well each family describes the spectra for its number of parameters; "
                     "a per-Q model with free widths usually wins on well-counted data while saying "
                     "nothing about the mechanism: compare the ranking with the physics you expect")
    out.notes += [f"candidate '{k}' could not be fitted: {v}" for k, v in failed.items()]
    return out


def _global_setup(plan: QensPlan, a: QensAnalysis, min_width: float = 1e-6, res_hwhm: float = np.inf,
                  rotation_start: dict | None = None) -> tuple[FitSetup, dict]:
    n = max(a.chosen, 1)
    model = qens_model(n, plan.background, temperature=plan.temperature, elastic=plan.elastic)
    s = FitSetup(model)
    for k in range(1, n + 1):
        s.set(f"L{k}_hwhm", np.nan, min_width, np.inf)
    _shift_rule(s, plan, res_hwhm)
    diff = plan.diffusion[0] if plan.diffusion else None
    dinit = ({k: v for k, (v, _) in a.hwhm_fits[diff].params.items()} if diff in a.hwhm_fits else None)
    geo = plan.eisf[0] if plan.eisf else None
    ginit = ({k: v for k, (v, _) in a.eisf_fits[geo].params.items()} if geo in a.eisf_fits else None)
    if plan.rotation:
        s.tie_translation("L1", diff, plan.rotation, immobile=plan.immobile,
                          init=(dinit or {}) | (rotation_start or {}))
    else:
        if diff and not (geo and plan.expand):
            s.tie_diffusion("L1", diff, init=dinit)
        if geo:
            if plan.expand:
                s.expand_geometry(geo, "L1", immobile=plan.immobile, init=ginit)
            else:
                s.tie_eisf(geo, "L1", immobile=plan.immobile, init=ginit)
                if not diff:  # localised motion only: one Q-independent width
                    s.share("L1_hwhm", float(np.nanmedian([r["hwhm_1"] for r in a.widths])), min_width,
                            np.inf)
    for name in plan.share:
        s.share(name)
    for name, v in plan.fix.items():
        s.fix(name, v)
    return s, _global_start(a, s)


def _global_start(a: QensAnalysis, s: FitSetup) -> dict[str, float]:
    """Initial values of the global fit from the per-Q fit of the same number of Lorentzians."""
    r = a.perq[a.chosen] if a.chosen >= 1 else None
    if r is None:
        return {}
    good = [i for i, st in sorted(r.status.items()) if "skipped" not in st]
    by_group = {g.index: g for g in r.groups}
    widths = {row["group"]: row for row in a.widths}
    start: dict[str, float] = {}
    for j, i in enumerate(good):
        g = by_group.get(i)
        if g is None:
            continue
        row = widths[i]
        nl = sum(1 for k in row if k.startswith("hwhm_") and not k.endswith("_err"))
        for k in range(1, nl + 1):
            start[f"L{k}_hwhm_q{j}"] = row[f"hwhm_{k}"]
            start[f"L{k}_amplitude_q{j}"] = row[f"amplitude_{k}"]
        for name in ("elastic_amplitude", "shift", "bg0", "bg_low", "bg_high"):
            if name in g.values:
                start[f"{name}_q{j}"] = float(g.values[name])
        total = sum(float(np.sum(v)) for k, v in g.values.items() if k.endswith("_amplitude"))
        start[f"intensity_q{j}"] = total
        if "shift" in g.values and s.rules["shift"].kind == "shared":
            start.setdefault("shift", float(g.values["shift"]))
    return start


# --- step 3: the Q dependence of widths and elastic fractions -------------------------------------
@dataclass
class CurveFit(FitResult):
    """A model curve fitted to values over Q (the :class:`latdyn.fitresult.FitResult` protocol):
    HWHM(Q) to a diffusion model or EISF(Q) to a geometry model."""

    model: str
    names: list[str]
    values: np.ndarray
    errors: np.ndarray
    units: list[str]
    covariance: np.ndarray | None
    chi2: float
    n_points: int
    function: Callable = field(repr=False)
    lower: np.ndarray = field(repr=False, default=None)
    upper: np.ndarray = field(repr=False, default=None)
    stopped_on_limit: bool = False
    optimiser_message: str = ""
    derived: Quantities = field(default_factory=Quantities)

    significant = ("D", "tau", "tau1", "l", "l_rms", "radius", "d", "a")

    @property
    def n_varied(self) -> int:
        return len(self.names)

    @property
    def covariance_names(self) -> list[str]:
        return list(self.names)

    @property
    def parameters(self) -> list[Parameter]:
        lo = self.lower if self.lower is not None else np.full(len(self.names), -np.inf)
        hi = self.upper if self.upper is not None else np.full(len(self.names), np.inf)
        return [Parameter(n, float(v), float(e), scipp_unit(u), True, float(a), float(b))
                for n, v, e, u, a, b in zip(self.names, self.values, self.errors, self.units, lo, hi,
                                            strict=True)]

    @property
    def reasons(self) -> list[str]:
        return diagnose(parameters=self.parameters, covariance=self.covariance,
                        stopped_on_limit=self.stopped_on_limit, message=self.optimiser_message)

    @property
    def params(self) -> dict[str, tuple[float, float]]:
        """Parameter name -> (value, standard error)."""
        return {n: (float(v), float(e)) for n, v, e in zip(self.names, self.values, self.errors, strict=True)}

    def curve(self, Q) -> np.ndarray:
        """The fitted model at Q (1/A)."""
        return np.asarray(self.function(np.atleast_1d(np.asarray(Q, float)), *self.values), dtype=float)

    def summary(self) -> dict:
        """One table row: model, statistics, every parameter and derived quantity with its error."""
        out = {"model": self.model, "chi2": self.chi2, "chi2_red": self.reduced_chi2,
               "n_points": self.n_points, "n_varied": self.n_varied, "aic": self.aic, "bic": self.bic,
               "converged": self.converged}
        for n, (v, e) in self.params.items():
            out[n], out[f"{n}_err"] = v, e
        for n, qv in self.derived.items():
            if n not in self.names:
                out[n], out[f"{n}_err"] = qv.value, qv.error
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

    sol = solve(resid, x0, lo, hi, max_nfev=2000, tol=1e-12)
    chi2 = sol.chi2
    cov = sol.covariance
    if cov is not None and scale_covar:
        cov = cov * chi2 / max(q.size - len(names), 1)
    err = np.sqrt(np.diag(cov)) if cov is not None else np.full(len(names), np.nan)
    return CurveFit(label, list(names), sol.x, err, list(units), cov, chi2, int(q.size), f,
                    np.asarray(lo, float), np.asarray(hi, float), sol.stopped_on_limit, sol.message)


def fit_hwhm(Q, hwhm, error, model, init: dict | None = None, scale_covar: bool = False) -> CurveFit:
    """Fit Gamma(Q) (HWHM, meV, with errors) to a diffusion model of :mod:`latdyn.qens.diffusion`
    (a name, or a :class:`DiffusionModel` such as :func:`~latdyn.qens.diffusion.de_gennes_model`).

    Returns a :class:`CurveFit`; ``derived`` holds D in A^2/ps, cm^2/s and m^2/s and the
    residence time / jump length of the model, each with its propagated error.
    """
    dm = as_diffusion_model(model)
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


def _propagate_derived(fn, r: CurveFit) -> Quantities:
    """Quantities fn(**parameters) -> {name: (value, unit)} with errors sigma^2 = g^T C g."""
    vals = dict(zip(r.names, r.values, strict=True))
    base = fn(**vals)
    out = {}
    for key, (v, unit) in base.items():
        g = np.zeros(len(r.names))
        for i, n in enumerate(r.names):
            h = 1e-7 * max(abs(vals[n]), 1e-12)
            up = dict(vals)
            up[n] += h
            g[i] = (fn(**up)[key][0] - v) / h
        err = float(np.sqrt(max(g @ r.covariance @ g, 0.0))) if r.covariance is not None else np.nan
        out[key] = Quantity(float(v), err, unit)
    return Quantities(out)
