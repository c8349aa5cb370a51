"""``latdyn qens fit | msd | models``: QENS analysis from the command line.

``fit`` runs :func:`latdyn.qens.fit_measurement` on a measured S(Q, E) and a resolution
(vanadium or base temperature): per-Q fits for each candidate number of Lorentzians, their
selection by AIC/BIC, HWHM(Q) and EISF(Q) fitted with diffusion and geometry models, and a
global fit; it writes an HTML report with figures, CSV tables and HDF5 results (layouts in
docs/qens.md).  ``msd`` turns an elastic temperature scan into <u^2>(T) (Gaussian
approximation, convention stated in every output).  ``models`` lists the models.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FitError, InputError
from ..fileio import check_output_folder
from .options import add_common, add_e_range, add_out, add_q_range, add_temperature
from .output import emit, print_result_lines, warn

_SPECTRAL_MODELS = ("elastic-lorentzians", "lorentzians", "translation-rotation", "auto")


def register(subparsers) -> None:
    p = subparsers.add_parser("qens", help="QENS analysis: fit S(Q,E), MSD from elastic scans, models",
                              description="Quasi-elastic neutron scattering analysis.")
    sub = p.add_subparsers(dest="qens_command")

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
    add_q_range(f)
    add_e_range(f, help="energy-transfer window of the fit (meV)")
    f.add_argument("--model", choices=_SPECTRAL_MODELS, default="elastic-lorentzians",
                   help="elastic line + Lorentzians (default), Lorentzians only, translation x "
                   "rotation (needs --diffusion; --rotation defaults to sphere-rotation:3), or auto "
                   "(every family fitted and ranked by BIC)")
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
    add_temperature(f, old=(), type=str, help="sample temperature (K) for detailed balance; "
                    "default from the file; 'none' switches detailed balance off")
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
    f.add_argument("--resolution-match", choices=["q", "nearest", "index"], default="q",
                   help="pair resolution and data groups by |Q| within half the smallest |Q| step "
                   "(default; an error beyond), by nearest |Q| (substitutions reported) or by position")
    f.add_argument("--kf-ki", choices=["auto", "apply", "none"], default="auto",
                   help="multiply the data by k_i/k_f to fit S(Q,E) ('apply'), or not ('none'); 'auto' "
                   "(default) follows the file's history and says what it did")
    f.add_argument("--max-evaluations", type=int, default=None, metavar="N",
                   help="limit on model evaluations per fit (a fit it stops is reported as not converged)")
    f.add_argument("--strict", action="store_true", help="exit with status 2 when the reported fit "
                   "did not converge or a value is implausible")
    f.add_argument("--bad-errors", choices=["error", "mask"], default="error",
                   help="points of the files whose error is NaN, negative, or zero on a non-zero "
                   "value: refuse the file (default) or mask those points (counted in the report)")
    add_out(f, inputs=("data",))
    add_common(f)
    f.set_defaults(func=_fit)

    m = sub.add_parser("msd", help="mean-square displacement <u^2>(T) from an elastic scan",
                       description="Gaussian approximation: I(Q,T)/I(Q,T_ref) = "
                       "exp(-Q^2 [<u^2>(T) - <u^2>(T_ref)]/3).")
    m.add_argument("scan", type=Path, help="elastic scan with dims (T, Q), e.g. an IN16B INX file")
    m.add_argument("--entry", default=None)
    add_q_range(m)
    m.add_argument("--t-bin", type=float, default=None, help="average temperatures in bins of this "
                   "width (K)")
    m.add_argument("--reference-range", type=float, nargs=2, metavar=("TMIN", "TMAX"), default=None,
                   help="normalise to the mean of these temperatures (default: the lowest one)")
    m.add_argument("--convention", choices=["u2", "r2", "ux2"], default="u2",
                   help="u2: <u^2> in exp(-Q^2<u^2>/3) (default); r2: <r^2> = 2<u^2> "
                   "(exp(-Q^2<r^2>/6)); ux2: <u_x^2> = <u^2>/3")
    m.add_argument("--validity", type=float, default=1.0, help="flag T where Q_max^2 <u^2>/3 "
                   "exceeds this")
    add_out(m, inputs=("scan",))
    add_common(m)
    m.set_defaults(func=_msd)

    ls = sub.add_parser("models", help="list the diffusion, geometry and line-shape models")
    add_common(ls)
    ls.set_defaults(func=_models)
    p.set_defaults(func=lambda a: p.print_help() or 0)


# --- latdyn qens fit -----------------------------------------------------------------------------
def _q_list(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError as exc:
        raise InputError("--q must be comma-separated numbers (1/angstrom)", field="q", value=text) from exc


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


def _fit(args) -> int:
    from ..qens.measurement import fit_measurement

    out = check_output_folder(args.out)
    mcmc = ({"steps": args.mcmc} | ({"seed": args.seed} if args.seed is not None else {})) \
        if args.mcmc else None
    a = fit_measurement(
        args.data, args.resolution, entry=args.entry, resolution_entry=args.resolution_entry,
        q=_q_list(args.q), q_range=args.q_range, e_range=args.e_range, empty=args.empty,
        empty_scale=args.empty_scale, solvent=args.solvent, solvent_scale=args.solvent_scale,
        sample_cylinder=args.sample_cylinder, can_cylinder=args.can_cylinder, ei=args.ei, ef=args.ef,
        temperature="file" if args.temperature is None else args.temperature,
        resolution_shape=args.resolution_shape, model=args.model, lorentzians=args.lorentzians,
        elastic=args.elastic, rotation=args.rotation, diffusion=tuple(args.diffusion),
        criterion=args.criterion, background=args.background, shift=args.shift, eisf=tuple(args.eisf),
        immobile=args.immobile, expand=args.expand, global_fit=args.global_fit, share=tuple(args.share),
        fix=_fixes(args.fix), min_width=args.min_width, mcmc=mcmc, kf_ki=args.kf_ki,
        resolution_match=args.resolution_match, max_evaluations=args.max_evaluations,
        bad_errors=args.bad_errors)
    files = a.write(out)
    n = a.chosen
    emit(a.rows(), as_json=args.json, title=f"QENS fit of {args.data.name} ({n} Lorentzian"
         f"{'s' if n != 1 else ''} per Q)", extra=a.to_json() | {"outputs": [str(f) for f in files]},
         lines=print_result_lines(a.headline(), a.cross_checks(), [] if args.json else a.warnings(), files))
    if args.json:
        warn(a.warnings())
    if args.strict and (a.warnings() or not a.final.converged):
        raise FitError("--strict: the reported fit did not converge or holds implausible values (see the "
                       f"warnings; results written to '{out}')")
    return 0


# --- latdyn qens msd -----------------------------------------------------------------------------
def _msd(args) -> int:
    from ..qens import msd_from_scan

    out = check_output_folder(args.out)
    r = msd_from_scan(args.scan, entry=args.entry, q_range=args.q_range, t_bin=args.t_bin,
                      reference_range=args.reference_range, convention=args.convention,
                      validity=args.validity)
    files = r.write(out)
    emit(r.rows(), as_json=args.json, title=f"MSD from {args.scan.name} ({args.convention})",
         extra={"convention": r.definition, "q_range": list(r.q_fit), "reference": r.reference,
                "outputs": [str(f) for f in files]})
    return 0


# --- latdyn qens models ---------------------------------------------------------------------------
def _models(args) -> int:
    from ..qens import model_catalogue

    emit(model_catalogue(), as_json=args.json, title="QENS models",
         columns=["kind", "name", "parameters", "formula"])
    return 0
