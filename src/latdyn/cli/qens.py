"""``latdyn qens fit | msd | models``: QENS analysis from the command line.

``fit`` runs :func:`latdyn.fitting.workflow.analyse` on a measured S(Q, E) and a resolution
(vanadium or base temperature): per-Q fits for each candidate number of Lorentzians, their
selection by AIC/BIC, HWHM(Q) and EISF(Q) fitted with diffusion and geometry models, and a
global fit; it writes an HTML report with figures, CSV tables and HDF5 results (layouts in
docs/qens.md).  ``msd`` turns an elastic temperature scan into <u^2>(T) (Gaussian
approximation, convention stated in every output).  ``models`` lists the models.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from .output import add_json_flag, emit

_SPECTRAL_MODELS = ("elastic-lorentzians", "lorentzians", "translation-rotation")


def register(subparsers) -> None:
    p = subparsers.add_parser("qens", help="QENS analysis: fit S(Q,E), MSD from elastic scans, models",
                              description="Quasi-elastic neutron scattering analysis.")
    sub = p.add_subparsers(dest="qens_command", metavar="ACTION")

    f = sub.add_parser("fit", help="fit S(Q,E) with the resolution: per-Q, model selection, "
                       "diffusion/EISF models, global fit; writes a report",
                       description="Fit QENS data convolved with a measured resolution. Writes "
                       "report.html, figures/, CSV tables and results.h5 into --out.")
    f.add_argument("data", type=Path, help="sample S(Q,E) (any format latdyn reads)")
    f.add_argument("--resolution", type=Path, required=True, help="resolution (vanadium) file")
    f.add_argument("--entry", default=None, help="entry (workspace) of DATA when it holds several")
    f.add_argument("--resolution-entry", default=None, help="entry of the resolution file")
    f.add_argument("--resolution-shape", choices=["measured", "gaussian", "pseudo-voigt"],
                   default="measured", help="use the measured resolution (default) or an analytic "
                   "shape fitted to it")
    f.add_argument("--q", default=None, help="comma-separated |Q| (1/A) of the groups, for files "
                   "whose groups carry no Q (e.g. numbered INX groups)")
    f.add_argument("--q-range", type=float, nargs=2, metavar=("QMIN", "QMAX"), default=None)
    f.add_argument("--e-range", type=float, nargs=2, metavar=("EMIN", "EMAX"), default=None,
                   help="energy-transfer window of the fit (meV)")
    f.add_argument("--model", choices=_SPECTRAL_MODELS, default="elastic-lorentzians",
                   help="elastic line + Lorentzians (default), Lorentzians only, or translation x "
                   "rotation (needs --diffusion; --rotation defaults to sphere-rotation:3)")
    el = f.add_mutually_exclusive_group()
    el.add_argument("--elastic", dest="elastic", action="store_true", default=None,
                    help="add a resolution-shaped elastic line (default only with elastic-lorentzians)")
    el.add_argument("--no-elastic", dest="elastic", action="store_false", help="no elastic line")
    f.add_argument("--lorentzians", default="1", help="number of Lorentzians: N, a list '1,2' or "
                   "'auto' (1,2,3), chosen by --criterion")
    f.add_argument("--criterion", choices=["aic", "bic"], default="bic")
    f.add_argument("--min-width", type=float, default=None, help="lower bound of the per-Q "
                   "Lorentzian HWHM (meV); default a tenth of the resolution HWHM")
    f.add_argument("--background", choices=["none", "flat", "linear"], default="flat")
    f.add_argument("--temperature", default=None, help="sample temperature (K) for detailed "
                   "balance; default from the file; 'none' switches detailed balance off")
    f.add_argument("--shift", choices=["perq", "shared", "fixed"], default="perq",
                   help="energy offset of the model: per Q group (default), shared, or fixed at 0")
    f.add_argument("--diffusion", action="append", default=[],
                   help="diffusion model for HWHM(Q): fick, ce, hr, ss (repeatable; the first is "
                   "tied in the global fit). Default: all four fitted to HWHM(Q), no global fit")
    f.add_argument("--eisf", action="append", default=[],
                   help="geometry model for the EISF, e.g. circle:3, two-site, sphere-diffusion "
                   "(repeatable; the first is tied in the global fit)")
    f.add_argument("--immobile", action="store_true", help="add an immobile fraction to the EISF")
    f.add_argument("--expand", action="store_true", help="global fit with the full Lorentzian "
                   "series of the geometry model instead of one Lorentzian")
    f.add_argument("--rotation", default=None, help="localised-motion model convolved with the "
                   "translation (translation-rotation model), e.g. sphere-rotation:3")
    g = f.add_mutually_exclusive_group()
    g.add_argument("--global", dest="global_fit", action="store_true", default=None,
                   help="always run a global fit")
    g.add_argument("--no-global", dest="global_fit", action="store_false", help="per-Q fits only")
    f.add_argument("--share", action="append", default=[], help="model parameter shared by all "
                   "groups in the global fit (e.g. L2_hwhm)")
    f.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a model parameter in the global fit")
    f.add_argument("--empty", type=Path, default=None, help="empty-container run to subtract")
    f.add_argument("--empty-scale", type=float, default=1.0, help="container scale a")
    f.add_argument("--solvent", type=Path, default=None, help="solvent run (in the container) "
                   "to subtract")
    f.add_argument("--solvent-scale", type=float, default=1.0, help="solvent volume fraction f: "
                   "S = (S - a E) - f (S_solvent - a E)")
    f.add_argument("--sample-cylinder", nargs=5, default=None,
                   metavar=("FORMULA", "MASS_G", "R_IN_MM", "R_OUT_MM", "HEIGHT_MM"),
                   help="annular (or solid, R_IN_MM 0) sample: divide by its self-shielding, or "
                   "with --can-cylinder and --empty apply the Paalman-Pings container correction")
    f.add_argument("--can-cylinder", nargs=5, default=None,
                   metavar=("FORMULA", "MASS_G", "R_IN_MM", "R_OUT_MM", "HEIGHT_MM"),
                   help="the container's annulus, for the Paalman-Pings correction with --empty")
    f.add_argument("--ei", type=float, default=None, help="incident energy (meV) for the absorption "
                   "correction (default: from the file)")
    f.add_argument("--ef", type=float, default=None, help="final energy (meV), indirect geometry")
    f.add_argument("--mcmc", type=int, default=None, metavar="STEPS",
                   help="sample the posterior of the final fit with emcee (small problems)")
    f.add_argument("--seed", type=int, default=None, help="random seed of the MCMC")
    f.add_argument("--out", type=Path, default=None, help="output folder (default: <DATA stem>_qens)")
    add_json_flag(f)
    f.set_defaults(func=_fit)

    m = sub.add_parser("msd", help="mean-square displacement <u^2>(T) from an elastic scan",
                       description="Gaussian approximation: I(Q,T)/I(Q,T_ref) = "
                       "exp(-Q^2 [<u^2>(T) - <u^2>(T_ref)]/3).")
    m.add_argument("scan", type=Path, help="elastic scan with dims (T, Q), e.g. an IN16B INX file")
    m.add_argument("--entry", default=None)
    m.add_argument("--q-range", type=float, nargs=2, metavar=("QMIN", "QMAX"), default=None)
    m.add_argument("--t-bin", type=float, default=None, help="average temperatures in bins of this "
                   "width (K)")
    m.add_argument("--reference-range", type=float, nargs=2, metavar=("TMIN", "TMAX"), default=None,
                   help="normalise to the mean of these temperatures (default: the lowest one)")
    m.add_argument("--convention", choices=["u2", "r2", "ux2"], default="u2",
                   help="u2: <u^2> in exp(-Q^2<u^2>/3) (default); r2: <r^2> = 2<u^2> "
                   "(exp(-Q^2<r^2>/6)); ux2: <u_x^2> = <u^2>/3")
    m.add_argument("--validity", type=float, default=1.0, help="flag T where Q_max^2 <u^2>/3 "
                   "exceeds this")
    m.add_argument("--out", type=Path, default=None, help="output folder (default: <SCAN stem>_msd)")
    add_json_flag(m)
    m.set_defaults(func=_msd)

    ls = sub.add_parser("models", help="list the diffusion, geometry and line-shape models")
    add_json_flag(ls)
    ls.set_defaults(func=_models)
    p.set_defaults(func=lambda a: p.print_help() or 0)


# --- shared helpers ------------------------------------------------------------------------------
def _load_entry(path: Path, entry: str | None):
    from ..data.io import load

    loaded = load(path)
    if entry is not None:
        if entry not in loaded.entries:
            raise InputError(f"no entry '{entry}'; the file has {list(loaded.entries)}", file=path,
                             field="entry", value=entry)
        return loaded.entries[entry], loaded.metadata[entry]
    if len(loaded.entries) != 1:
        raise InputError(f"the file holds {len(loaded.entries)} entries: choose one with --entry "
                         f"({list(loaded.entries)})", file=path, field="entry")
    name = next(iter(loaded.entries))
    return loaded.entries[name], loaded.metadata[name]


def _parse_q(text: str | None, source) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError as exc:
        raise InputError("--q must be comma-separated numbers (1/angstrom)", file=source, field="q",
                         value=text) from exc


def _lorentzians(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "auto":
        return (1, 2, 3)
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise InputError("--lorentzians must be N, a list such as 1,2 or 'auto'", field="lorentzians",
                         value=text) from exc


def _temperature(text: str | None, meta: dict, source) -> float | None:
    if text is None:
        t = meta.get("sample_temperature")
        return float(t) if t is not None and np.isfinite(t) and t > 0 else None
    if text.strip().lower() == "none":
        return None
    try:
        t = float(text)
    except ValueError as exc:
        raise InputError("--temperature must be a number (K) or 'none'", file=source,
                         field="temperature", value=text) from exc
    if not (np.isfinite(t) and t > 0):
        raise InputError("--temperature must be positive (K)", file=source, field="temperature", value=t)
    return t


def _fixes(items: list[str]) -> dict[str, float]:
    out = {}
    for it in items:
        name, sep, val = it.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError as exc:
            raise InputError("--fix takes NAME=VALUE", field="fix", value=it) from exc
        if not sep:
            raise InputError("--fix takes NAME=VALUE", field="fix", value=it)
    return out


def _cylinder(values: list[str], flag: str):
    """A cylindrical latdyn.simulate.Sample from FORMULA MASS_G R_IN_MM R_OUT_MM HEIGHT_MM."""
    from ..simulate import Sample

    formula, *numbers = values
    try:
        mass, r_in, r_out, height = (float(x) for x in numbers)
    except ValueError as exc:
        raise InputError(f"{flag} takes FORMULA MASS_G R_IN_MM R_OUT_MM HEIGHT_MM", field=flag,
                         value=values) from exc
    return Sample(formula, mass, outer_radius_mm=r_out, inner_radius_mm=r_in, height_mm=height)


def _absorption(args, data, meta: dict, q, source: str):
    """Self-shielding (sample only) or the Paalman-Pings container correction (sample, can and
    the empty-can run) of the Q-grouped data."""
    from ..fitting.prepare import as_q_groups, on_grid_of, subtract
    from ..reduce import container_correction, self_shielding_correction

    if args.sample_cylinder is None:
        raise InputError("--can-cylinder needs --sample-cylinder", field="sample-cylinder")
    if args.solvent is not None or args.empty_scale != 1.0:
        raise InputError("the Paalman-Pings correction replaces --empty-scale and does not take "
                         "--solvent", field="sample-cylinder")
    sample = _cylinder(args.sample_cylinder, "sample-cylinder")
    if args.ei is not None or args.ef is not None:
        energies = {"ei": args.ei, "ef": args.ef}
    elif meta.get("emode") == "indirect" or (meta.get("final_energy") and not meta.get("incident_energy")):
        energies = {"ef": meta.get("final_energy")}
    else:
        energies = {"ei": meta.get("incident_energy")}
    if all(v is None for v in energies.values()):
        raise InputError("the absorption correction needs --ei or --ef (the file records neither)",
                         file=source, field="ei")
    if args.can_cylinder is None:
        if args.empty is not None:
            empty = as_q_groups(_load_entry(args.empty, None)[0], q, str(args.empty))
            data = subtract(data, empty, 1.0, source=source)
        return self_shielding_correction(data, sample, source=source, **energies)
    if args.empty is None:
        raise InputError("the container correction needs the empty-can run (--empty)", field="empty")
    can = _cylinder(args.can_cylinder, "can-cylinder")
    empty = as_q_groups(_load_entry(args.empty, None)[0], q, str(args.empty))
    return container_correction(data, on_grid_of(empty, data, "empty", str(args.empty)), sample, can,
                                source=source, **energies)


# --- latdyn qens fit -----------------------------------------------------------------------------
def _fit(args) -> int:
    from ..fitting import fit_resolution
    from ..fitting.prepare import as_q_groups, crop, subtract
    from ..fitting.workflow import QensPlan, analyse

    src = str(args.data)
    raw, meta = _load_entry(args.data, args.entry)
    rraw, rmeta = _load_entry(args.resolution, args.resolution_entry)
    q = _parse_q(args.q, src)
    data = as_q_groups(raw, q, src)
    res = as_q_groups(rraw, q if (q is not None and "Q" not in rraw.coords) else None, str(args.resolution))
    if args.sample_cylinder or args.can_cylinder:
        data = _absorption(args, data, meta, q, src)
    elif args.empty or args.solvent:
        empty = as_q_groups(_load_entry(args.empty, None)[0], q, str(args.empty)) if args.empty else None
        solv = as_q_groups(_load_entry(args.solvent, None)[0], q, str(args.solvent)) if args.solvent else None
        data = subtract(data, empty, args.empty_scale, solv, args.solvent_scale, source=src)
    data = crop(data, args.q_range, args.e_range, src)
    T = _temperature(args.temperature, meta, src)
    model = args.model
    rotation = args.rotation
    elastic = (model == "elastic-lorentzians") if args.elastic is None else bool(args.elastic)
    if model == "translation-rotation":
        rotation = rotation or "sphere-rotation:3"
        if not args.diffusion:
            raise InputError("the translation-rotation model needs --diffusion (e.g. ss)",
                             field="diffusion")
    elif rotation:
        model = "translation-rotation"
    plan = QensPlan(lorentzians=(1,) if model == "translation-rotation" else _lorentzians(args.lorentzians),
                    elastic=elastic, background=args.background, temperature=T, shift=args.shift,
                    criterion=args.criterion, diffusion=tuple(args.diffusion), eisf=tuple(args.eisf),
                    immobile=args.immobile, rotation=rotation, expand=args.expand,
                    global_fit=args.global_fit, share=tuple(args.share), fix=_fixes(args.fix),
                    min_width=args.min_width,
                    mcmc=({"steps": args.mcmc} | ({"seed": args.seed} if args.seed is not None else {}))
                    if args.mcmc else None)
    resolution = res if args.resolution_shape == "measured" else \
        fit_resolution(res, args.resolution_shape, source=str(args.resolution))
    a = analyse(data, resolution, plan, source=src)
    out = args.out or Path(f"{args.data.stem}_qens")
    inputs = [p for p in (args.data, args.resolution, args.empty, args.solvent) if p is not None]
    files = write_fit_outputs(a, out, inputs, model=model, instrument=meta.get("instrument"))
    rows = [{k: r.get(k) for k in ("Q", "hwhm_1", "hwhm_1_err", "hwhm_2", "hwhm_2_err", "eisf",
                                   "eisf_err", "chi2_red") if k in r} for r in a.widths]
    extra = {"chosen_lorentzians": a.chosen, "temperature_K": T, "energy_range_meV":
             [float(data.coords["E"].values.min()), float(data.coords["E"].values.max())]}
    extra |= _headline(a)
    extra["outputs"] = [str(f) for f in files]
    if a.notes:
        extra["notes"] = a.notes
    emit(rows, as_json=args.json, title=f"QENS fit of {args.data.name} ({a.chosen} Lorentzian"
         f"{'s' if a.chosen != 1 else ''} per Q)", extra=extra)
    return 0


def _headline(a) -> dict:
    """The physics numbers: global-fit results, else the HWHM(Q) and EISF(Q) fits."""
    out = {}
    if a.global_result is not None:
        g = a.global_result
        out["global_chi2_red"] = g.redchi
        out["global_message"] = "; ".join(g.messages)
        for k, (v, e) in g.derived.items():
            out[k] = v
            out[f"{k}_err"] = e
        for p in g.params:
            if p["group"] == "all" and p["vary"] and not p["name"].startswith(("eisf_", "L1_D", "L1_tau",
                                                                                "L1_l", "immobile")):
                out[f"global_{p['name']}"] = p["value"]
                out[f"global_{p['name']}_err"] = p["error"]
    for name, r in a.hwhm_fits.items():
        d = r.derived
        out[f"hwhm_fit ({name})"] = (f"D = {d['D_A2_per_ps'][0]:.4g} ± {d['D_A2_per_ps'][1]:.2g} A^2/ps"
                                    + (f", tau = {d['tau_ps'][0]:.4g} ± {d['tau_ps'][1]:.2g} ps"
                                       if "tau_ps" in d else "") + f", chi2_red {r.redchi:.3g}")
    for name, r in a.eisf_fits.items():
        out[f"eisf_fit ({name})"] = ", ".join(f"{k} = {v:.4g} ± {e:.2g}" for k, (v, e) in r.params.items()) \
            + f", chi2_red {r.redchi:.3g}"
    return out


def _table(rows: list[dict], units: dict[str, str] | None = None):
    from ..data.io import Table

    cols = list(dict.fromkeys(k for r in rows for k in r))
    columns = {c: np.array([r.get(c, np.nan) if not isinstance(r.get(c), str) else r.get(c)
                            for r in rows]) for c in cols}
    for c, v in columns.items():
        if v.dtype == object:
            columns[c] = v.astype(str)
    return Table(columns, units={c: u for c, u in (units or {}).items() if c in cols})


def _unit_of(col: str) -> str | None:
    base = col[:-4] if col.endswith("_err") else col
    if base == "Q":
        return "1/angstrom"
    if base.startswith("hwhm") or base == "shift" or base.endswith("_hwhm") or base.endswith("_E0") \
            or base.startswith("bg1"):
        return "meV"
    return None


def _units(rows):
    cols = {k for r in rows for k in r}
    return {c: u for c in cols if (u := _unit_of(c))}


def write_fit_outputs(a, out: Path, inputs, model: str = "elastic-lorentzians",
                      instrument: str | None = None) -> list[Path]:
    """Write report.html, figures/, CSV tables, results.h5 and the fit HDF5 files of an analysis."""
    from ..data.io import Results, write_csv, write_results_h5

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    tables = {"perq": _table(a.widths, _units(a.widths)),
              "model_selection": _table(a.selection),
              "group_selection": _table(a.group_choice, {"Q": "1/angstrom"})}
    if a.hwhm_fits:
        tables["hwhm_fits"] = _table([r.summary() for r in a.hwhm_fits.values()])
    if a.eisf_fits:
        tables["eisf_fits"] = _table([r.summary() for r in a.eisf_fits.values()])
    g = a.global_result
    if g is not None:
        grows = g.group_rows()
        tables["global_groups"] = _table(grows, _units(grows))
        names = [p["name"] for p in g.params]
        cov = None
        if g.covariances and len(g.covariances) == 1:
            cnames, C = g.covariances[0]
            cov = np.full((len(names), len(names)), np.nan)
            idx = [names.index(n) for n in cnames]
            cov[np.ix_(idx, idx)] = C
        from ..data.io import Table

        tables["global_parameters"] = Table(
            {"name": np.array(names), "value": np.array([p["value"] for p in g.params]),
             "error": np.array([p["error"] for p in g.params]),
             "vary": np.array([p["vary"] for p in g.params]),
             "group": np.array([str(p["group"]) for p in g.params])},
            covariance=cov, parameters=names if cov is not None else [])
        if g.derived:
            tables["global_derived"] = _table([{"quantity": k, "value": v, "error": e}
                                               for k, (v, e) in g.derived.items()])
    for name, t in tables.items():
        p = out / f"{name}.csv"
        if name == "global_parameters":  # the full covariance lives in results.h5
            from ..data.io import Table

            t = Table(t.columns)
        write_csv(p, t)
        files.append(p)
    data, model_da = _data_and_model(a)
    model_def = {"plan": _plan_dict(a.plan), "spectral_model": model,
                 "per_q": {str(n): {"model": r.model, "rules": r.rules} for n, r in a.perq.items()},
                 "global": ({"model": g.model, "rules": g.rules} if g is not None else None)}
    res = Results(data={"data": data, "model": model_da}, tables=tables, model=model_def,
                  metadata={"instrument": instrument, "notes": a.notes, "summary": a.summary()})
    files.append(write_results_h5(out / "results.h5", res, inputs=inputs))
    for n, r in a.perq.items():
        files.append(r.write_hdf5(out / f"fit_perq_{n}L.h5"))
    if g is not None:
        files.append(g.write_hdf5(out / "fit_global.h5"))
    files.append(_report(a, out, inputs, model, instrument))
    return files


def _plan_dict(plan) -> dict:
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(plan), default=str))


def _data_and_model(a):
    """The fitted data (with masks) and the final model on the same grid, dims ('Q', 'E')."""
    import scipp as sc

    data = a.data.copy()
    r = a.final
    m = np.full(data.shape, np.nan)
    for grp in r.groups:
        m[grp.index] = grp.model
    e = data.coords["E"]
    coords = {"Q": data.coords["Q"].copy(), "E": e.copy()}
    model = sc.DataArray(sc.array(dims=["Q", "E"], values=m, unit=data.unit), coords=coords,
                         name="model")
    return data, model


# --- report and figures --------------------------------------------------------------------------
_MODEL_TEXT = {
    "elastic-lorentzians": "I(Q,E) = R(E - s) (x) [A_el delta(E) + B(E) sum_i A_i L(E; Gamma_i)] "
                           "+ b0 [+ b1 E], L unit-area Lorentzians of HWHM Gamma_i, R the normalised "
                           "resolution, s the energy shift, B(E) = (E/kT)/(1 - exp(-E/kT)) detailed balance.",
    "lorentzians": "I(Q,E) = R(E - s) (x) [B(E) sum_i A_i L(E; Gamma_i)] + b0 [+ b1 E] (no elastic line).",
    "translation-rotation": "I(Q,E) = R(E - s) (x) [B(E) I(Q) sum_k A_k(Q) L(E; Gamma_t(Q) + Gamma_k)] + "
                            "b0 [+ b1 E]: translation (Gamma_t(Q) of the diffusion model) convolved with "
                            "the localised motion (A_k, Gamma_k of the geometry model; Teixeira et al., "
                            "PRA 31, 1913 (1985); Bee 1988 sec. 6.6).",
}


def _report(a, out: Path, inputs, model: str, instrument) -> Path:
    from ..report import Report

    rep = Report(f"QENS fit: {Path(str(inputs[0])).name}")
    for p in inputs:
        rep.add_input(p)
    plan = a.plan
    e = a.data.coords["E"].values
    rep.add_text("Model", _MODEL_TEXT[model] + "\n\n" + plan.describe() + f"; energy window "
                 f"{e.min():.4g} to {e.max():.4g} meV; {a.data.sizes['Q']} Q groups"
                 + (f"; instrument {instrument}" if instrument else "") + ".")
    if a.notes:
        rep.add_text("Notes", "\n\n".join(a.notes))
    rep.add_table(f"Model selection across the number of Lorentzians ({plan.criterion.upper()})",
                  a.selection)
    if len(a.perq) > 1:
        rep.add_table("Preferred number of Lorentzians per Q group", a.group_choice)
    rep.add_figure(f"fits_perq_{a.chosen}L", _fits_figure(a.perq[a.chosen]),
                   f"Per-Q fits with {a.chosen} Lorentzian(s): data, fit, components, and the "
                   "residuals (data - fit)/sigma below each panel.")
    rep.add_table("Per-Q results (Lorentzians ordered by width; EISF = A_el / total)", a.widths)
    if a.chosen >= 1:
        rep.add_figure("hwhm", _hwhm_figure(a), "HWHM of the Lorentzians versus Q^2 with the "
                       "diffusion models fitted to the narrowest one"
                       + (" and the global fit" if a.global_result is not None else "") + ".")
    if a.hwhm_fits:
        rep.add_table("Diffusion models fitted to HWHM(Q) of the narrowest Lorentzian "
                      "(D in A^2/ps, tau in ps, lengths in A)",
                      [_short_summary(r) for r in a.hwhm_fits.values()])
    if any("eisf" in r for r in a.widths):
        rep.add_figure("eisf", _eisf_figure(a), "Elastic fraction (EISF) versus Q with the "
                       "geometry models.")
    if a.eisf_fits:
        rep.add_table("Geometry models fitted to EISF(Q)", [_short_summary(r) for r in a.eisf_fits.values()])
    g = a.global_result
    if g is not None:
        rep.add_heading("Global fit")
        rep.add_text(None, "Rules: " + "; ".join(f"{k}: {v}" for k, v in g.rules.items())
                     + f". chi2_red = {g.redchi:.4g}, {g.nvarys} parameters, {g.ndata} points, "
                     f"AIC {g.aic:.6g}, BIC {g.bic:.6g}."
                     + (" Uncertainties from the MCMC posterior." if g.messages and "MCMC" in g.messages[0]
                        else " Uncertainties from the covariance (J^T J)^-1, not scaled by chi2_red.")
                     + " Optimiser: " + "; ".join(g.messages) + ".")
        if g.derived:
            rep.add_parameters("Physics from the global fit", {k: (v, e, _derived_unit(k))
                                                               for k, (v, e) in g.derived.items()})
        glob = {p["name"]: (p["value"], p["error"], "") for p in g.params if p["group"] == "all"}
        if glob:
            rep.add_parameters("Global parameters", glob)
        rep.add_figure("fits_global", _fits_figure(g), "Global fit per Q group with residuals.")
        rep.add_table("Global fit per Q group", g.group_rows())
        bad = {k: v for k, v in g.status.items() if v != "ok"}
        if bad:
            rep.add_text("Groups not fitted or without errors", "\n\n".join(bad.values()))
    bad = {k: v for r in a.perq.values() for k, v in r.status.items() if v != "ok"}
    if bad:
        rep.add_text("Per-Q groups not fitted or without errors", "\n\n".join(sorted(set(bad.values()))))
    return rep.write(out / "report.html")


def _derived_unit(k: str) -> str:
    for suffix, u in (("_A2_per_ps", "Å²/ps"), ("_cm2_per_s", "cm²/s"), ("_m2_per_s", "m²/s"),
                      ("_ps", "ps"), ("_A", "Å"), ("_1_per_ps", "1/ps"), ("_A2", "Å²")):
        if k.endswith(suffix):
            return u
    return ""


def _short_summary(r) -> dict:
    row = {"model": r.model}
    for k, (v, e) in r.params.items():
        row[k] = f"{v:.5g} ± {e:.2g}"
    for k, (v, e) in r.derived.items():
        if k in ("D_cm2_per_s", "D_m2_per_s"):
            continue
        row[k] = f"{v:.5g} ± {e:.2g}"
    row |= {"chi2_red": r.redchi, "aic": r.aic, "bic": r.bic}
    return row


def _fits_figure(result, max_groups: int = 24):
    import matplotlib.pyplot as plt

    groups = result.groups
    if len(groups) > max_groups:
        idx = np.unique(np.linspace(0, len(groups) - 1, max_groups).round().astype(int))
        groups = [groups[i] for i in idx]
    n = len(groups)
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig = plt.figure(figsize=(3.2 * ncol, 3.0 * nrow), dpi=100)
    # a fixed grid (constrained layout is slow with many panels): fit over residuals per group
    outer = fig.add_gridspec(nrow, ncol, left=0.06, right=0.99, bottom=0.6 / (3.0 * nrow),
                             top=1 - 0.35 / (3.0 * nrow), wspace=0.3, hspace=0.45)
    for k, g in enumerate(groups):
        sub = outer[k // ncol, k % ncol].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.0)
        ax = fig.add_subplot(sub[0])
        axr = fig.add_subplot(sub[1], sharex=ax)
        ok = g.mask
        ax.errorbar(g.E[ok], g.y[ok], g.sigma[ok], fmt=".", ms=2, lw=0.4, color="0.35", label="data")
        ax.plot(g.E, g.model, color="C3", lw=1.1, label="fit")
        for j, (name, part) in enumerate(g.parts.items()):
            ax.plot(g.E, part, lw=0.7, ls="--", color=f"C{j % 10}", label=name)
        pos = g.y[ok][g.y[ok] > 0]
        if pos.size:
            ax.set_yscale("log")
            ax.set_ylim(max(pos.min() * 0.5, pos.max() * 1e-4), pos.max() * 2)
        ax.set_title(f"Q = {g.Q:.3g} Å$^{{-1}}$, χ²ᵣ = {g.chi2 / max(g.npts, 1):.3g}", fontsize=8)
        ax.tick_params(labelbottom=False, labelsize=7)
        z = np.where(ok, (g.y - g.model) / np.where(g.sigma > 0, g.sigma, 1.0), np.nan)
        axr.plot(g.E, z, ".", ms=2, color="0.3")
        axr.axhline(0, color="C3", lw=0.8)
        axr.tick_params(labelsize=7)
        axr.set_xlabel("E (meV)", fontsize=8)
        if k == 0:
            ax.legend(fontsize=6, frameon=False)
    return fig


def _hwhm_figure(a):
    from ..report import new_figure

    fig, ax = new_figure(6.0, 4.2)
    q = np.array([r["Q"] for r in a.widths])
    k = 1
    while f"hwhm_{k}" in a.widths[0]:
        y = np.array([r[f"hwhm_{k}"] for r in a.widths])
        e = np.array([r[f"hwhm_{k}_err"] for r in a.widths])
        ax.errorbar(q**2, y, e, fmt="o" if k == 1 else "s", ms=4, mfc="none", label=f"L{k} (per Q)")
        k += 1
    qq = np.linspace(0, q.max() * 1.05, 200)
    for j, (name, r) in enumerate(a.hwhm_fits.items()):
        ax.plot(qq**2, r.curve(np.maximum(qq, 1e-9)), lw=1, color=f"C{j + 3}",
                label=f"{name} (χ²ᵣ {r.redchi:.3g})")
    g = a.global_result
    if g is not None and g.groups and "L1_hwhm" in g.groups[0].values:
        gq = np.array([x.Q for x in g.groups])
        gw = np.array([float(np.ravel(x.values["L1_hwhm"])[0]) for x in g.groups])
        series = np.size(g.groups[0].values["L1_hwhm"]) > 1
        ax.plot(gq**2, gw, "k-", lw=1.6, alpha=0.6,
                label="global fit: translational Γ_t" if series else "global fit (L1)")
    ax.set_xlabel("Q² (Å$^{-2}$)")
    ax.set_ylabel("HWHM (meV)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False)
    return fig


def _eisf_figure(a):
    from ..report import new_figure

    fig, ax = new_figure(6.0, 4.2)
    rows = [r for r in a.widths if "eisf" in r]
    q = np.array([r["Q"] for r in rows])
    ax.errorbar(q, [r["eisf"] for r in rows], [r["eisf_err"] for r in rows], fmt="o", ms=4, mfc="none",
                color="0.2", label="per-Q fits")
    qq = np.linspace(max(q.min() * 0.5, 1e-3), q.max() * 1.1, 200)
    for j, (name, r) in enumerate(a.eisf_fits.items()):
        ax.plot(qq, r.curve(qq), lw=1, color=f"C{j}", label=f"{name} (χ²ᵣ {r.redchi:.3g})")
    g = a.global_result
    if g is not None and g.groups and "elastic_fraction" in g.groups[0].values:
        ax.plot([x.Q for x in g.groups], [float(x.values["elastic_fraction"]) for x in g.groups], "k-",
                lw=1.6, alpha=0.6, label="global fit")
    ax.set_xlabel("Q (Å$^{-1}$)")
    ax.set_ylabel("EISF")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, frameon=False)
    return fig


# --- latdyn qens msd -----------------------------------------------------------------------------
def _msd(args) -> int:
    from ..data.io import Results, write_csv, write_results_h5
    from ..qens import bin_temperature, elastic_msd
    from ..report import Report, new_figure

    src = str(args.scan)
    scan, meta = _load_entry(args.scan, args.entry)
    if set(scan.dims) != {"T", "Q"}:
        raise InputError("an elastic scan needs dims (T, Q) (an INX temperature scan)", file=src,
                         field="dims", value=list(scan.dims))
    binned = bin_temperature(scan, args.t_bin, source=src) if args.t_bin else scan.transpose(["T", "Q"])
    res = elastic_msd(binned, q_range=args.q_range, convention=args.convention, validity=args.validity,
                      reference_range=args.reference_range, source=src)
    T = res.coords["T"].values
    msd = res.values
    err = np.sqrt(res.variances)
    valid = res.coords["valid"].values
    conv_text = {"u2": "<u^2> (A^2) in I = exp(-Q^2 <u^2> / 3), <u^2> = <u_x^2 + u_y^2 + u_z^2>",
                 "r2": "<r^2> = 2 <u^2> (A^2) in I = exp(-Q^2 <r^2> / 6)",
                 "ux2": "<u_x^2> = <u^2> / 3 (A^2) in I = exp(-Q^2 <u_x^2>)"}[args.convention]
    rows = [{"T": float(t), "msd": float(m), "msd_err": float(e), "valid": bool(v)}
            for t, m, e, v in zip(T, msd, err, valid, strict=True)]
    out = args.out or Path(f"{args.scan.stem}_msd")
    out.mkdir(parents=True, exist_ok=True)
    from ..data.io import Table

    table = Table({"T": T, "msd": msd, "msd_err": err, "valid": valid,
                   "intercept": res.coords["intercept"].values},
                  units={"T": "K", "msd": "angstrom**2", "msd_err": "angstrom**2"})
    files = [write_csv(out / "msd.csv", table)]
    q_all = np.asarray(binned.coords["Q"].values, float)
    sel = np.ones(q_all.size, bool) if args.q_range is None else \
        (q_all >= args.q_range[0]) & (q_all <= args.q_range[1])
    model = {"approximation": "Gaussian", "convention": args.convention, "definition": conv_text,
             "q_range": [float(q_all[sel].min()), float(q_all[sel].max())],
             "reference": args.reference_range or "lowest temperature", "t_bin_K": args.t_bin,
             "validity": f"Q_max^2 <u^2>/3 <= {args.validity}"}
    files.append(write_results_h5(out / "results.h5", Results(data={"msd": res, "scan": binned},
                                                             tables={"msd": table}, model=model),
                                  inputs=[args.scan]))
    rep = Report(f"Mean-square displacement: {args.scan.name}")
    rep.add_input(args.scan)
    rep.add_text("Method", "Gaussian approximation: ln[I(Q,T)/I(Q,T_ref)] = -Q^2 [<u^2>(T) - "
                 f"<u^2>(T_ref)]/3, a weighted straight line in Q^2 per temperature over Q = "
                 f"{model['q_range'][0]:.3g} to {model['q_range'][1]:.3g} 1/A. Reported: {conv_text}, "
                 f"relative to {model['reference']}."
                 + (f" Temperatures averaged in {args.t_bin:g} K bins." if args.t_bin else "")
                 + " 'valid' is False where Q_max^2 <u^2>/3 exceeds "
                 f"{args.validity:g} (the approximation breaks down).")
    fig, ax = new_figure()
    ax.errorbar(T[valid], msd[valid], err[valid], fmt="o", ms=3, mfc="none", label="valid")
    if (~valid).any():
        ax.errorbar(T[~valid], msd[~valid], err[~valid], fmt="x", ms=3, color="0.5", label="outside validity")
    ax.set_xlabel("Temperature (K)")
    ax.set_ylabel({"u2": "<u²> (Å²)", "r2": "<r²> (Å²)", "ux2": "<u_x²> (Å²)"}[args.convention])
    ax.legend(frameon=False, fontsize=8)
    rep.add_figure("msd", fig, "MSD versus temperature.")
    fig2, ax2 = new_figure()
    y = np.asarray(binned.values, float)
    ref_rows = np.zeros(T.size, bool)
    if args.reference_range:
        ref_rows = (T >= args.reference_range[0]) & (T <= args.reference_range[1])
    else:
        ref_rows[int(np.argmin(T))] = True
    ref = y[ref_rows].mean(axis=0)
    picks = np.unique(np.linspace(0, T.size - 1, 6).round().astype(int))
    for j, i in enumerate(picks):
        with np.errstate(divide="ignore", invalid="ignore"):
            ln = np.log(y[i] / ref)
        ax2.plot(q_all**2, ln, "o", ms=3, color=f"C{j}", label=f"{T[i]:.0f} K")
        qq = np.linspace(0, q_all[sel].max(), 50) ** 2
        factor = {"u2": 1.0, "r2": 0.5, "ux2": 3.0}[args.convention]
        ax2.plot(qq, res.coords["intercept"].values[i] - qq * msd[i] * factor / 3.0, "-",
                 color=f"C{j}", lw=0.8)
    ax2.axvspan(q_all[sel].min() ** 2, q_all[sel].max() ** 2, color="0.9", zorder=0)
    ax2.set_xlabel("Q² (Å$^{-2}$)")
    ax2.set_ylabel("ln I(Q,T)/I(Q,T_ref)")
    ax2.legend(frameon=False, fontsize=7)
    rep.add_figure("ln_elastic", fig2, "Normalised elastic intensity versus Q^2 with the straight "
                   "lines (shaded: the fitted Q range).")
    rep.add_table("MSD", rows)
    files.append(rep.write(out / "report.html"))
    emit(rows, as_json=args.json, title=f"MSD from {args.scan.name} ({args.convention})",
         extra={"convention": conv_text, "q_range": model["q_range"], "reference": model["reference"],
                "outputs": [str(f) for f in files]})
    return 0


# --- latdyn qens models ---------------------------------------------------------------------------
def _models(args) -> int:
    from ..qens import DIFFUSION_MODELS, GEOMETRY_NAMES, get_geometry_model

    rows = []
    short = {"fick": "fick", "chudley-elliott": "ce", "hall-ross": "hr", "singwi-sjolander": "ss"}
    for name, m in DIFFUSION_MODELS.items():
        rows.append({"kind": "diffusion (--diffusion)", "name": f"{name} ({short[name]})",
                     "parameters": ", ".join(f"{p} [{u}]" for p, u in zip(m.params, m.units, strict=True)),
                     "formula": (m.function.__doc__ or "").strip().splitlines()[0]})
    for spec in GEOMETRY_NAMES:
        m = get_geometry_model(spec.split("[")[0].split(":")[0])
        rows.append({"kind": "geometry (--eisf, --rotation)", "name": spec,
                     "parameters": ", ".join(f"{p} [{u}]" for p, u in zip(m.params, m.units, strict=True)),
                     "formula": (m.function.__doc__ or "").strip().splitlines()[0]})
    for name, text in _MODEL_TEXT.items():
        rows.append({"kind": "spectral (--model)", "name": name, "parameters": "", "formula": text})
    emit(rows, as_json=args.json, title="QENS models", columns=["kind", "name", "parameters", "formula"])
    return 0
