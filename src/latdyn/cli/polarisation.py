"""``latdyn polarisation separate | fit | plan``: polarised neutrons from channels to physics.

``separate`` reads the spin-flip and non-spin-flip channels (Mantid workspace groups, LAMP
HDF, the latdyn text layout; docs/polarisation.md), corrects them for the background and the
flipping ratio of a quartz run, and separates coherent, spin-incoherent and magnetic
scattering (uniaxial, xyz, xyz-crystal, ten-point) with exact errors.  ``fit`` then fits each
part of QENS channels with its own physics (collective diffusion with de Gennes narrowing on
the coherent part, self motion on the spin-incoherent part, the form factor on the magnetic
part).  ``plan`` answers how long to count on D7, DNS or a polarised mode of LET/HYSPEC for a
relative error on a separated part.  Errors print one line and exit with status 2.
"""

from __future__ import annotations

from pathlib import Path

from .options import add_common, add_out, add_q_range, add_temperature
from .output import emit, print_result_lines

_METHODS = ["uniaxial", "xyz", "xyz-crystal", "ten-point"]


def _channel_options(p, default_method: str) -> None:
    p.add_argument("channels", type=Path, nargs="+", help="channel files (one or several channels each)")
    p.add_argument("--method", choices=_METHODS, default=default_method,
                   help=f"separation method (default {default_method})")
    p.add_argument("--direction", default=None, help="polarisation direction of the uniaxial method "
                   "(default z, or the only one measured)")
    p.add_argument("--entry", action="append", default=None, help="use only this workspace/entry "
                   "(repeatable)")
    f = p.add_mutually_exclusive_group()
    f.add_argument("--quartz", type=Path, nargs="+", default=None,
                   help="quartz (non-magnetic coherent) channels: flipping ratio NSF/SF per direction")
    f.add_argument("--flipping", type=float, default=None, help="one flipping ratio for every direction")
    p.add_argument("--quartz-integrate", default=None, help="sum the quartz run over this dim first "
                   "(e.g. E)")
    p.add_argument("--background", type=Path, nargs="+", default=None,
                   help="background channels subtracted from every channel first")
    p.add_argument("--background-scale", type=float, default=1.0, help="scale of the background")
    p.add_argument("--vanadium", type=Path, nargs="+", default=None, help="spin-incoherent reference "
                   "channels (vanadium): divide by its relative detector efficiencies")
    p.add_argument("--estimator", choices=["combination", "weighted"], default="combination",
                   help="published combinations (default) or weighted least squares over the channels")
    add_out(p, inputs=("channels",))
    add_common(p)


def register(subparsers) -> None:
    p = subparsers.add_parser("polarisation", help="polarised neutrons: separate coherent, "
                              "spin-incoherent and magnetic scattering; fit each; plan counting",
                              description="Polarisation analysis (uniaxial, XYZ, ten-point).")
    sub = p.add_subparsers(dest="polarisation_command")

    s = sub.add_parser("separate", help="separate the channels into coherent, spin-incoherent and "
                       "magnetic parts", description="Separate polarisation channels; writes "
                       "parts.csv, separation.h5 and report.html into --out.")
    _channel_options(s, "xyz")
    s.add_argument("--alpha", type=float, default=None, help="angle from x to Q (deg) when the "
                   "channels carry no 'alpha' coordinate")
    s.set_defaults(func=_separate)

    f = sub.add_parser("fit", help="separate QENS channels and fit each part with its own physics",
                       description="Coherent part: collective diffusion with de Gennes narrowing; "
                       "spin-incoherent part: self motion (qens models); magnetic part: form factor.")
    _channel_options(f, "uniaxial")
    f.add_argument("--resolution", type=Path, required=True, help="resolution (vanadium) file")
    f.add_argument("--resolution-entry", default=None, help="entry of the resolution file")
    f.add_argument("--s-of-q", type=Path, default=None, help="S(Q) file (columns Q, S [, error]); "
                   "default: from the separation with --formula")
    f.add_argument("--formula", default=None, help="sample formula: its cross sections turn the "
                   "coherent/spin-incoherent ratio into S(Q)")
    f.add_argument("--diffusion", action="append", default=None,
                   help="model of the self motion: fick, ce, hr, ss (repeatable; default ss)")
    f.add_argument("--eisf", action="append", default=[], help="EISF geometry model of the self "
                   "motion, e.g. circle:3 (repeatable)")
    add_temperature(f, old=(), help="sample temperature (K) for detailed balance (default off)")
    f.add_argument("--coherent-elastic", action="store_true", help="add an elastic line to the "
                   "coherent model (static coherent scattering)")
    f.add_argument("--magnetic-ion", default=None, help="fit the magnetic part with this ion's "
                   "form factor (e.g. Mn2+)")
    f.set_defaults(func=_fit, quartz_integrate="E")

    pl = sub.add_parser("plan", help="counting time for a relative error on a separated part",
                        description="How long to count on a polarised instrument, with the errors "
                        "propagated through the separation; --monte-carlo checks it by simulation.")
    pl.add_argument("--instrument", required=True, help="D7, DNS, LET-POLARISED, HYSPEC-POLARISED "
                    "or a polarised instrument file")
    pl.add_argument("--formula", required=True, help="sample formula (formula unit)")
    pl.add_argument("--mass", type=float, required=True, help="sample mass in the beam (g)")
    pl.add_argument("--method", choices=_METHODS, default="xyz")
    pl.add_argument("--part", choices=["coherent", "spin_incoherent", "magnetic", "magnetic_y",
                                       "magnetic_z"], default="coherent")
    pl.add_argument("--target", type=float, default=0.05, help="relative error (default 0.05)")
    add_q_range(pl, default=(0.5, 2.5), help="|Q| range (1/angstrom; default 0.5 2.5)")
    pl.add_argument("--points", type=int, default=10, help="number of |Q| groups")
    pl.add_argument("--magnetic-ion", default=None, help="paramagnetic ion (e.g. Mn2+)")
    pl.add_argument("--spin", type=float, default=None, help="its spin S (g = 2)")
    pl.add_argument("--magnetic-per-formula", type=float, default=1.0)
    pl.add_argument("--over", choices=["sum", "each"], default="sum",
                    help="the part summed over Q (default) or every Q group")
    pl.add_argument("--allocation", choices=["equal", "optimal"], default="equal")
    pl.add_argument("--ei", type=float, default=None, help="incident energy (meV) of a polarised mode")
    pl.add_argument("--flipping", type=float, default=None, help="flipping ratio (default the "
                    "instrument's)")
    pl.add_argument("--flipping-error", type=float, default=0.0, help="relative error of the "
                    "flipping ratio")
    pl.add_argument("--monte-carlo", type=int, default=0, metavar="RUNS",
                    help="check the answer with this many simulated measurements")
    pl.add_argument("--seed", type=int, default=None)
    add_out(pl, on_request=True)
    add_common(pl)
    pl.set_defaults(func=_plan)
    p.set_defaults(func=lambda a: p.print_help() or 0)


def _common(args) -> dict:
    return {"quartz": args.quartz, "quartz_integrate": args.quartz_integrate, "flipping": args.flipping,
            "background": args.background, "background_scale": args.background_scale,
            "estimator": args.estimator, "direction": args.direction, "entries": args.entry,
            "vanadium": args.vanadium}


def _separate(args) -> int:
    from ..polarisation.workflow import separate_files

    sep = separate_files(args.channels, args.method, alpha=args.alpha, **_common(args))
    out = args.out
    files = sep.write(out)
    info = sep.to_json()
    from ..report.numbers import format_value_error

    lines = [f"{k}: {format_value_error(v['value'], v['error'], v['unit'])}"
             for k, v in info["total"].items()]
    lines += [f"note: {n}" for n in info["notes"]] + [f"outputs: {out}"]
    emit(sep.rows(), as_json=args.json, title=f"{sep.method.name} separation of "
         f"{len(sep.channels)} channels ({sep.estimator})", extra=info | {"outputs": [str(f) for f in files]},
         lines=lines)
    return 0


def _fit(args) -> int:
    from ..polarisation.workflow import analyse_files

    a = analyse_files(args.channels, args.resolution, args.method, resolution_entry=args.resolution_entry,
                      s_of_q=args.s_of_q, formula=args.formula,
                      diffusion=tuple(args.diffusion or ("singwi-sjolander",)), eisf=tuple(args.eisf),
                      temperature=args.temperature, coherent_elastic=args.coherent_elastic,
                      magnetic_ion=args.magnetic_ion, **_common(args))
    out = args.out
    files = a.write(out)
    lines = []
    for name, h in a.headline().items():
        head = {"source": name, "quantities": h.get("quantities", {}), "converged": h.get("converged", True)}
        lines += print_result_lines(head)
    lines += [f"warning: {w}" for w in a.warnings()] + [f"note: {n}" for n in a.notes]
    lines.append(f"outputs: {out}")
    emit(a.rows(), as_json=args.json, title="coherent and incoherent QENS of the separated parts",
         extra=a.to_json() | {"outputs": [str(f) for f in files]}, lines=lines)
    return 0


def _plan(args) -> int:
    from ..polarisation.workflow import plan_measurement

    plan = plan_measurement(args.instrument, args.formula, args.mass, method=args.method, part=args.part,
                            target=args.target, q_range=args.q_range, points=args.points,
                            magnetic_ion=args.magnetic_ion, spin=args.spin,
                            magnetic_per_formula=args.magnetic_per_formula, over=args.over,
                            allocation=args.allocation, ei=args.ei, flipping_ratio=args.flipping,
                            flipping_error=args.flipping_error, monte_carlo=args.monte_carlo, seed=args.seed)
    files = plan.write(args.out) if args.out else []
    info = plan.to_json()
    lines = [f"counting time: {plan.time:.4g} s ({plan.time / 3600:.3g} h) for {args.target:g} relative "
             f"error on {args.part} ({args.over})"]
    lines += [f"relative error of {k}: {v:.3g}" for k, v in plan.relative_errors.items()]
    if plan.check:
        mc = plan.check
        lines.append(f"Monte Carlo ({mc['runs']} runs): relative error "
                     f"{mc['relative_error_monte_carlo']:.4g} (planned {mc['relative_error_planned']:.4g})")
    lines += [f"note: {n}" for n in plan.notes] + ([f"outputs: {args.out}"] if files else [])
    emit(plan.rows(), as_json=args.json, title=f"counting plan on {args.instrument} ({plan.method.name})",
         extra=info | {"outputs": [str(f) for f in files]}, lines=lines)
    return 0
