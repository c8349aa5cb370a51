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

from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..errors import FitError, InputError, LatdynError
from .fit import fit
from .model import FitSetup, qens_model
from .results import FitResult

__all__ = ["QensPlan", "QensAnalysis", "analyse", "ordered_widths", "selection_table",
           "resolution_hwhm", "diffusion_name"]

_DIFFUSION_ALIASES = {"fick": "fick", "ce": "chudley-elliott", "chudley-elliott": "chudley-elliott",
                      "hr": "hall-ross", "hall-ross": "hall-ross", "ss": "singwi-sjolander",
                      "singwi-sjolander": "singwi-sjolander", "jump": "singwi-sjolander"}


def diffusion_name(name: str) -> str:
    """Full diffusion-model name from a short one (fick, ce, hr, ss)."""
    key = name.strip().lower().replace("_", "-")
    if key not in _DIFFUSION_ALIASES:
        raise InputError(f"unknown diffusion model; use one of {sorted(_DIFFUSION_ALIASES)}",
                         field="diffusion", value=name)
    return _DIFFUSION_ALIASES[key]


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
    perq: dict[int, FitResult]
    selection: list[dict]
    chosen: int
    group_choice: list[dict]
    widths: list[dict]
    hwhm_fits: dict[str, object]
    eisf_fits: dict[str, object]
    global_result: FitResult | None = None
    global_setup: FitSetup | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def final(self) -> FitResult:
        """The global fit when there is one, else the chosen per-Q fit."""
        return self.global_result if self.global_result is not None else self.perq[self.chosen]

    def summary(self) -> dict:
        out = {"chosen_lorentzians": self.chosen, "criterion": self.plan.criterion}
        for name, r in self.hwhm_fits.items():
            for k, (v, e) in r.derived.items():
                out[f"hwhm_fit.{name}.{k}"] = v
                out[f"hwhm_fit.{name}.{k}_err"] = e
            out[f"hwhm_fit.{name}.chi2_red"] = r.redchi
        for name, r in self.eisf_fits.items():
            for k, (v, e) in r.params.items():
                out[f"eisf_fit.{name}.{k}"] = v
                out[f"eisf_fit.{name}.{k}_err"] = e
            out[f"eisf_fit.{name}.chi2_red"] = r.redchi
        if self.global_result is not None:
            g = self.global_result
            out |= {"global.chi2_red": g.redchi, "global.aic": g.aic, "global.bic": g.bic,
                    "global.nvarys": g.nvarys}
            for k, (v, e) in g.derived.items():
                out[f"global.{k}"] = v
                out[f"global.{k}_err"] = e
        return out


def resolution_hwhm(resolution, data: sc.DataArray) -> float:
    """Median half width at half maximum (meV) of the resolution over the Q groups of ``data``."""
    from .fit import _half_width, data_arrays
    from .resolution import MeasuredResolution

    if isinstance(resolution, sc.DataArray):
        resolution = MeasuredResolution.from_data(resolution)
    Q, E, _, _ = data_arrays(data)
    prep = resolution.prepare(E, Q)
    R = prep.delta(np.zeros(Q.size))
    w = [_half_width(E, R[i]) for i in range(Q.size) if i not in prep.problems]
    w = [x for x in w if np.isfinite(x) and x > 0]
    return float(np.median(w)) if w else float(np.median(np.diff(E)))


def _perq_setup(plan: QensPlan, n: int, min_width: float = 1e-6) -> FitSetup:
    s = FitSetup(qens_model(n, plan.background, temperature=plan.temperature, elastic=plan.elastic))
    for k in range(1, n + 1):
        s.set(f"L{k}_hwhm", np.nan, min_width, np.inf)
    _shift_rule(s, plan)
    return s


def _shift_rule(s: FitSetup, plan: QensPlan) -> None:
    if plan.shift == "fixed":
        s.fix("shift", 0.0)
    elif plan.shift == "shared":
        s.share("shift", 0.0, -np.inf, np.inf)


def ordered_widths(result: FitResult) -> list[dict]:
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


def selection_table(results: dict[int, FitResult], criterion: str) -> tuple[int, list[dict], list[dict]]:
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
        tot[n] = {"lorentzians": n, "chi2": chi2, "ndata": npts, "k": k,
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


def _free_per_group(r: FitResult) -> int:
    n_groups = max(len(r.groups), 1)
    return int(round(r.nvarys / n_groups))


def _eisf_points(rows: list[dict]):
    q = np.array([r["Q"] for r in rows if "eisf" in r])
    y = np.array([r["eisf"] for r in rows if "eisf" in r])
    e = np.array([r["eisf_err"] for r in rows if "eisf" in r])
    return q, y, e


def analyse(data: sc.DataArray, resolution, plan: QensPlan, source: str | None = None,
            progress: bool | None = None) -> QensAnalysis:
    """Run the per-Q fits, model selection, HWHM(Q)/EISF(Q) fits and the global fit."""
    from ..qens import fit_eisf, fit_hwhm

    notes: list[str] = []
    perq: dict[int, FitResult] = {}
    errors = {}
    wmin = plan.min_width if plan.min_width is not None else 0.1 * resolution_hwhm(resolution, data)
    notes.append(f"per-Q Lorentzian HWHM bounded below by {wmin:.4g} meV"
                 + (" (a tenth of the resolution HWHM)" if plan.min_width is None else ""))
    for n in plan.lorentzians:
        try:
            perq[n] = fit(data, resolution, _perq_setup(plan, n, wmin), mode="per-q", source=source,
                          zero_errors=plan.zero_errors, progress=progress)
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
                       notes=notes)
    if plan.wants_global:
        setup, start = _global_setup(plan, out)
        out.global_setup = setup
        out.global_result = fit(data, resolution, setup, mode="global", start=start, mcmc=plan.mcmc,
                                source=source, zero_errors=plan.zero_errors)
    elif plan.mcmc:
        out.perq[chosen] = fit(data, resolution, _perq_setup(plan, chosen, wmin), mode="per-q",
                               mcmc=plan.mcmc, source=source, zero_errors=plan.zero_errors,
                               progress=progress)
    return out


def _global_setup(plan: QensPlan, a: QensAnalysis) -> tuple[FitSetup, dict]:
    n = max(a.chosen, 1)
    model = qens_model(n, plan.background, temperature=plan.temperature, elastic=plan.elastic)
    s = FitSetup(model)
    for k in range(1, n + 1):
        s.set(f"L{k}_hwhm", np.nan, 1e-6, np.inf)
    _shift_rule(s, plan)
    diff = plan.diffusion[0] if plan.diffusion else None
    dinit = ({k: v for k, (v, _) in a.hwhm_fits[diff].params.items()} if diff in a.hwhm_fits else None)
    geo = plan.eisf[0] if plan.eisf else None
    ginit = ({k: v for k, (v, _) in a.eisf_fits[geo].params.items()} if geo in a.eisf_fits else None)
    if plan.rotation:
        s.tie_translation("L1", diff, plan.rotation, immobile=plan.immobile, init=dinit)
    else:
        if diff and not (geo and plan.expand):
            s.tie_diffusion("L1", diff, init=dinit)
        if geo:
            if plan.expand:
                s.expand_geometry(geo, "L1", immobile=plan.immobile, init=ginit)
            else:
                s.tie_eisf(geo, "L1", immobile=plan.immobile, init=ginit)
                if not diff:  # localised motion only: one Q-independent width
                    s.share("L1_hwhm", float(np.nanmedian([r["hwhm_1"] for r in a.widths])), 1e-6, np.inf)
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
        for name in ("elastic_amplitude", "shift", "bg0", "bg1"):
            if name in g.values:
                start[f"{name}_q{j}"] = float(g.values[name])
        total = sum(float(np.sum(v)) for k, v in g.values.items() if k.endswith("_amplitude"))
        start[f"intensity_q{j}"] = total
        if "shift" in g.values and s.rules["shift"].kind == "shared":
            start.setdefault("shift", float(g.values["shift"]))
    return start
