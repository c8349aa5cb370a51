"""Result files and the HTML report of a QENS analysis (:class:`latdyn.qens.QensAnalysis`).

:func:`write_analysis` writes, into one result folder committed whole
(:func:`latdyn.fileio.result_folder`): report.html and figures/, the CSV tables (perq,
model_selection, group_selection, hwhm_fits, eisf_fits, global_groups, global_parameters,
global_derived), results.h5 (data, model, tables with the covariance, plan) and the fit HDF5
files (fit_perq_<N>L.h5, fit_global.h5).  Layouts: docs/qens.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import scipp as sc

from ..data.io import Results, Table, write_csv, write_results_h5
from ..fileio import result_folder
from ..report import Report, format_number, format_value_error
from .figures import eisf_figure, fits_figure, hwhm_figure
from .measurement import MODEL_TEXT

__all__ = ["write_analysis", "build_report", "write_msd", "msd_report"]



def _units(rows: list[dict]) -> dict[str, str]:
    """Units of the per-group table columns: Q 1/angstrom, widths/energies/shifts meV."""
    out = {}
    for c in {k for r in rows for k in r}:
        base = c[:-4] if c.endswith("_err") else c
        if base == "Q":
            out[c] = "1/angstrom"
        elif base.startswith("hwhm") or base == "shift" or base.endswith(("_hwhm", "_E0")):
            out[c] = "meV"
    return out


def _fit_rows(fits: dict) -> list[dict]:
    return [r.summary() for r in fits.values()]


def _global_parameters(g) -> Table:
    names = [p["name"] for p in g.fit_parameters]
    cov = None
    if len(g.covariances) == 1:
        cnames, C = g.covariances[0]
        cov = np.full((len(names), len(names)), np.nan)
        idx = [names.index(n) for n in cnames]
        cov[np.ix_(idx, idx)] = C
    cols = {k: np.array([p[k] if k != "group" else str(p[k]) for p in g.fit_parameters])
            for k in ("name", "value", "error", "unit", "vary", "group")}
    return Table(cols, covariance=cov, parameters=names if cov is not None else [])


def tables(a) -> dict[str, Table]:
    """Every table of the analysis by name (the CSV files and results.h5 tables)."""
    out = {"perq": Table.from_rows(a.widths, _units(a.widths)),
           **({"model_ranking": Table.from_rows(a.ranking)} if a.ranking else {}),
           "model_selection": Table.from_rows(a.selection),
           "group_selection": Table.from_rows(a.group_choice, {"Q": "1/angstrom"})}
    if a.hwhm_fits:
        out["hwhm_fits"] = Table.from_rows(_fit_rows(a.hwhm_fits))
    if a.eisf_fits:
        out["eisf_fits"] = Table.from_rows(_fit_rows(a.eisf_fits))
    g = a.global_result
    if g is not None:
        rows = g.group_rows()
        out["global_groups"] = Table.from_rows(rows, _units(rows))
        out["global_parameters"] = _global_parameters(g)
        if g.derived:
            out["global_derived"] = Table.from_rows([{"quantity": k, "value": q.value, "error": q.error,
                                                      "unit": q.unit} for k, q in g.derived.items()])
    return out


def _data_and_model(a):
    """The fitted data (with masks) and the final model on the same grid, dims ('Q', 'E')."""
    data = a.data.copy()
    m = np.full(data.shape, np.nan)
    for grp in a.final.groups:
        m[grp.index] = grp.model
    coords = {"Q": data.coords["Q"].copy(), "E": data.coords["E"].copy()}
    model = sc.DataArray(sc.array(dims=["Q", "E"], values=m, unit=data.unit), coords=coords, name="model")
    return data, model


def write_analysis(a, folder: str | Path, command: str | None = None) -> list[Path]:
    """Write every output of an analysis into ``folder`` (replaced whole); the paths written."""
    folder = Path(folder)
    names: list[str] = []
    with result_folder(folder) as tmp:
        tabs = tables(a)
        for name, t in tabs.items():
            if name == "global_parameters":  # the full covariance lives in results.h5
                t = Table(t.columns)
            write_csv(tmp / f"{name}.csv", t)
            names.append(f"{name}.csv")
        data, model = _data_and_model(a)
        g = a.global_result
        model_def = {"plan": json.loads(json.dumps(asdict(a.plan), default=str)),
                     "spectral_model": a.spectral_model,
                     "per_q": {str(n): {"model": r.model, "rules": r.rules} for n, r in a.perq.items()},
                     "global": ({"model": g.model, "rules": g.rules} if g is not None else None)}
        res = Results(data={"data": data, "model": model}, tables=tabs, model=model_def,
                      metadata={"instrument": a.instrument, "notes": a.notes, "summary": a.summary()})
        write_results_h5(tmp / "results.h5", res, inputs=a.inputs, command=command)
        names.append("results.h5")
        for n, r in a.perq.items():
            r.write_hdf5(tmp / f"fit_perq_{n}L.h5")
            names.append(f"fit_perq_{n}L.h5")
        if g is not None:
            g.write_hdf5(tmp / "fit_global.h5")
            names.append("fit_global.h5")
        build_report(a, command).write(tmp / "report.html")
        names.append("report.html")
    return [folder / n for n in names]


def _short_summary(r) -> dict:
    row = {"model": r.model}
    for k, (v, e) in r.params.items():
        row[k] = format_value_error(v, e)
    for k, q in r.derived.items():
        if k not in r.names:
            row[f"{k} ({q.unit})"] = format_value_error(q.value, q.error)
    row |= {"chi2_red": r.reduced_chi2, "aic": r.aic, "bic": r.bic,
            "converged": "yes" if r.converged else "NO: " + "; ".join(r.reasons)}
    return row


def _quantity_text(q: dict) -> str:
    return ", ".join(f"{name} = {format_value_error(d['value'], d.get('error'), d.get('unit') or '')}"
                     for name, d in q.items() if d.get("value") is not None)


def _add_headline(rep: Report, head: dict, checks: dict) -> None:
    """The one result to use (:meth:`QensAnalysis.headline`) and, below it, the other fits as
    cross-checks (:meth:`QensAnalysis.cross_checks`), so two analyses never read as two answers."""
    status = "converged" if head.get("converged", True) else \
        "NOT CONVERGED: " + "; ".join(head.get("reasons", []))
    rep.add_text("Result", f"From the {head['source']} ({status}); the other fits below are "
                 "cross-checks of it, not alternative results.")
    q = head.get("quantities", {})
    if q:
        rep.add_parameters(None, {k: (d["value"], d.get("error"), d.get("unit") or "")
                                  for k, d in q.items() if d.get("value") is not None})
    if checks:
        rep.add_table("Cross-checks", [
            {"fit": name, "result": _quantity_text(c.get("quantities", {})) or "no derived quantities",
             "reduced χ²": c.get("reduced_chi2"), "converged": bool(c.get("converged", True))}
            for name, c in checks.items()])


def build_report(a, command: str | None = None) -> Report:
    """The HTML report of an analysis: model, notes and warnings, selection, fits, Q models,
    global fit (with its convergence stated), provenance."""
    title = f"QENS fit: {Path(str(a.inputs[0])).name}" if a.inputs else "QENS fit"
    rep = Report(title, command=command)
    for p in a.inputs:
        rep.add_input(p)
    warnings = a.warnings()
    if warnings:
        rep.add_text("Warning: results to check before use", "\n\n".join(warnings))
    _add_headline(rep, a.headline(), a.cross_checks())
    plan = a.plan
    e = a.data.coords["E"].values
    rep.add_text("Model", MODEL_TEXT[a.spectral_model] + "\n\n" + plan.describe() + f"; energy window "
                 f"{e.min():.4g} to {e.max():.4g} meV; {a.data.sizes['Q']} Q groups"
                 + (f"; instrument {a.instrument}" if a.instrument else "") + ".")
    if a.notes:
        rep.add_text("Notes", "\n\n".join(a.notes))
    if a.ranking:
        rep.add_table("Model families ranked by BIC (--model auto; 'implausible' counts values outside "
                      "the plausible ranges)", a.ranking)
    if a.resolution_notes:
        rep.add_text("Resolution groups not at the data's |Q|",
                     "\n\n".join(f"group {k}: {v}" for k, v in sorted(a.resolution_notes.items())))
    rep.add_table(f"Model selection across the number of Lorentzians ({plan.criterion.upper()})",
                  a.selection)
    if len(a.perq) > 1:
        rep.add_table("Preferred number of Lorentzians per Q group", a.group_choice)
    rep.add_figure(f"fits_perq_{a.chosen}L", fits_figure(a.perq[a.chosen]),
                   f"Per-Q fits with {a.chosen} Lorentzian(s): data, fit, components, and the "
                   "residuals (data - fit)/sigma below each panel.")
    rep.add_table("Per-Q results (Lorentzians ordered by width; EISF = A_el / total)", a.widths)
    if a.chosen >= 1:
        rep.add_figure("hwhm", hwhm_figure(a.widths, a.hwhm_fits, a.global_result),
                       "HWHM of the Lorentzians versus Q^2 with the diffusion models fitted to the "
                       "narrowest one" + (" and the global fit" if a.global_result is not None else "") + ".")
    if a.hwhm_fits:
        rep.add_table("Diffusion models fitted to HWHM(Q) of the narrowest Lorentzian",
                      [_short_summary(r) for r in a.hwhm_fits.values()])
    if any("eisf" in r for r in a.widths):
        rep.add_figure("eisf", eisf_figure(a.widths, a.eisf_fits, a.global_result),
                       "Elastic fraction (EISF) versus Q with the geometry models.")
    if a.eisf_fits:
        rep.add_table("Geometry models fitted to EISF(Q)", [_short_summary(r) for r in a.eisf_fits.values()])
    g = a.global_result
    if g is not None:
        rep.add_heading("Global fit")
        rep.add_text(None, "Rules: " + "; ".join(f"{k}: {v}" for k, v in g.rules.items())
                     + f". chi2_red = {format_number(g.reduced_chi2)}, {g.n_varied} parameters, "
                     f"{g.n_points} points, AIC {format_number(g.aic)}, BIC {format_number(g.bic)}."
                     + (" Uncertainties from the MCMC posterior." if g.messages and "MCMC" in g.messages[0]
                        else " Uncertainties from the covariance (J^T J)^-1, not scaled by chi2_red.")
                     + " Optimiser: " + "; ".join(g.messages) + "."
                     + (" Converged." if g.converged else " NOT CONVERGED: " + "; ".join(g.reasons) + "."))
        if g.derived:
            rep.add_parameters("Physics from the global fit",
                               {k: (q.value, q.error, q.unit) for k, q in g.derived.items()})
        glob = {p.name: (p.value, p.error, p.unit) for p, d in zip(g.parameters, g.fit_parameters,
                                                                    strict=True) if d["group"] == "all"}
        if glob:
            rep.add_parameters("Global parameters", glob)
        rep.add_figure("fits_global", fits_figure(g), "Global fit per Q group with residuals.")
        rep.add_table("Global fit per Q group", g.group_rows())
        bad = {k: v for k, v in g.status.items() if v != "ok"}
        if bad:
            rep.add_text("Groups dropped, without errors, or with masked points", "\n\n".join(bad.values()))
    bad = {k: v for r in a.perq.values() for k, v in r.status.items() if v != "ok"}
    if bad:
        rep.add_text("Per-Q fits: groups dropped, without errors, or with masked points",
                     "\n\n".join(sorted(set(bad.values()))))
    return rep


def msd_report(r, command: str | None = None) -> Report:
    """The HTML report of an elastic-scan MSD: method, MSD(T), ln I versus Q^2, table."""
    from .figures import ln_elastic_figure, msd_figure

    title = f"Mean-square displacement: {Path(str(r.inputs[0])).name}" if r.inputs else \
        "Mean-square displacement"
    rep = Report(title, command=command)
    for p in r.inputs:
        rep.add_input(p)
    rep.add_text("Method", "Gaussian approximation: ln[I(Q,T)/I(Q,T_ref)] = -Q^2 [<u^2>(T) - "
                 f"<u^2>(T_ref)]/3, a weighted straight line in Q^2 per temperature over Q = "
                 f"{r.q_fit[0]:.3g} to {r.q_fit[1]:.3g} 1/A. Reported: {r.definition}, relative to "
                 f"{r.reference}." + (f" Temperatures averaged in {r.t_bin:g} K bins." if r.t_bin else "")
                 + f" 'valid' is False where Q_max^2 <u^2>/3 exceeds {r.validity:g} (the approximation "
                 "breaks down).")
    T = r.msd.coords["T"].values
    msd, err = r.msd.values, np.sqrt(r.msd.variances)
    valid = r.msd.coords["valid"].values
    ylabel = {"u2": "<u²> (Å²)", "r2": "<r²> (Å²)", "ux2": "<u_x²> (Å²)"}[r.convention]
    rep.add_figure("msd", msd_figure(T, msd, err, valid, ylabel), "MSD versus temperature.")
    factor = {"u2": 1.0, "r2": 0.5, "ux2": 3.0}[r.convention]
    q = np.asarray(r.scan.coords["Q"].values, float)
    rep.add_figure("ln_elastic", ln_elastic_figure(q, T, r.ln_ratio(), r.msd.coords["intercept"].values,
                                                   msd * factor / 3.0, r.q_fit),
                   "Normalised elastic intensity versus Q^2 with the straight lines (shaded: the fitted "
                   "Q range).")
    rep.add_table("MSD", r.rows())
    return rep


def write_msd(r, folder: str | Path, command: str | None = None) -> list[Path]:
    """msd.csv, results.h5 and report.html (+ figures/) of an elastic-scan MSD into ``folder``."""
    folder = Path(folder)
    m = r.msd
    table = Table({"T": m.coords["T"].values, "msd": m.values, "msd_err": np.sqrt(m.variances),
                   "valid": m.coords["valid"].values, "intercept": m.coords["intercept"].values},
                  units={"T": "K", "msd": "angstrom**2", "msd_err": "angstrom**2"})
    model = {"approximation": "Gaussian", "convention": r.convention, "definition": r.definition,
             "q_range": list(r.q_fit), "reference": r.reference, "t_bin_K": r.t_bin,
             "validity": f"Q_max^2 <u^2>/3 <= {r.validity}"}
    with result_folder(folder) as tmp:
        write_csv(tmp / "msd.csv", table)
        write_results_h5(tmp / "results.h5", Results(data={"msd": m, "scan": r.scan}, tables={"msd": table},
                                                     model=model), inputs=r.inputs, command=command)
        msd_report(r, command).write(tmp / "report.html")
    return [folder / "msd.csv", folder / "results.h5", folder / "report.html"]
