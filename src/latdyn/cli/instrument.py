"""``latdyn instrument ...`` and ``latdyn plan``: the instrument library, resolution, coverage,
triple-axis angles and the Cooper-Nathans widths."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import InputError, InstrumentError
from ..instruments import list_instruments, load_instrument
from .output import add_json_flag, emit


def register(subparsers) -> None:
    p = subparsers.add_parser("instrument", help="instrument library: list, show, resolution, "
                              "coverage, tas")
    sub = p.add_subparsers(dest="instrument_command", metavar="ACTION")
    s = sub.add_parser("list", help="instruments in the library")
    add_json_flag(s)
    s.set_defaults(func=_list)
    s = sub.add_parser("show", help="key facts and references of one instrument")
    s.add_argument("instrument", help="library name or YAML file")
    add_json_flag(s)
    s.set_defaults(func=_show)
    s = sub.add_parser("resolution", help="energy resolution FWHM (meV) across energy transfer")
    _res_args(s)
    s.set_defaults(func=_resolution)
    s = sub.add_parser("coverage", help="accessible |Q| range at each energy transfer")
    _res_args(s)
    s.set_defaults(func=_coverage)
    s = sub.add_parser("tas", help="triple-axis angles and Cooper-Nathans widths at (|Q|, E)")
    s.add_argument("instrument")
    s.add_argument("--q", type=float, required=True, help="|Q| (1/angstrom)")
    s.add_argument("--energy", type=float, nargs="+", required=True, help="energy transfers (meV)")
    add_json_flag(s)
    s.set_defaults(func=_tas)
    p.set_defaults(func=lambda a: p.print_help() or 0)

    pl = subparsers.add_parser("plan", help="plan an experiment: resolution and coverage plot; "
                               "--compare: which instruments and settings reach a measurement")
    _res_args(pl, optional_instrument=True)
    pl.add_argument("--compare", action="store_true",
                    help="compare the library's instruments for --energy-range and --q-range")
    pl.add_argument("--energy-range", type=float, nargs=2, metavar=("EMIN", "EMAX"),
                    help="--compare: energy transfers to cover (meV)")
    pl.add_argument("--q-range", type=float, nargs=2, metavar=("QMIN", "QMAX"),
                    help="--compare: |Q| to cover (1/angstrom)")
    pl.add_argument("--fwhm-max", type=float, default=None,
                    help="--compare: largest acceptable resolution FWHM in the range (meV)")
    pl.add_argument("--instruments", nargs="+", default=None,
                    help="--compare: instruments to compare (default: the whole library)")
    pl.add_argument("--out", type=Path, default=None, help="folder for the HTML report and figures")
    pl.add_argument("--flux", type=float, default=None,
                    help="flux at the sample (n/cm^2/s; indirect: n/cm^2/s/meV) if the library has none")
    pl.add_argument("--vanadium-mass", type=float, default=1.0,
                    help="mass (g) of the vanadium standard for the elastic count rate")
    pl.add_argument("--vanadium-area", type=float, default=None,
                    help="face area (cm^2) of the vanadium plate (self-shielding); none: thin limit")
    pl.add_argument("--analyser-reflectivity", type=float, default=None, help="indirect machines")
    pl.set_defaults(func=_plan)


def _q_fwhm(inst, q: float, energy: float, ei: float, settings: dict) -> float | None:
    """|Q| FWHM (1/angstrom) at (q, E), or None where the detectors cannot reach it."""
    from ..errors import InputError

    try:
        return float(inst.q_resolution(q, energy, ei, **settings))
    except InputError:
        return None


def _res_args(s: argparse.ArgumentParser, optional_instrument: bool = False) -> None:
    s.add_argument("instrument", nargs="?" if optional_instrument else None,
                   help="library name or YAML file")
    s.add_argument("--ei", type=float, default=None, help="incident energy (meV), direct geometry")
    s.add_argument("--frequency", type=float, default=None, help="resolution chopper frequency (Hz)")
    s.add_argument("--mode", default=None, help="disk-chopper mode")
    s.add_argument("--package", default=None, help="Fermi chopper package")
    s.add_argument("--q", type=float, default=None,
                   help="|Q| (1/angstrom): the triple-axis point; on a direct-geometry instrument "
                   "`plan` adds the |Q| resolution there")
    s.add_argument("--points", type=int, default=11, help="number of energy transfers")
    add_json_flag(s)


def _energies_and_fwhm(args):
    inst = load_instrument(args.instrument)
    n = max(int(args.points), 2)
    if inst.kind == "direct":
        if args.ei is None:
            raise InputError("direct-geometry instruments need --ei", field="ei")
        e = np.linspace(-0.5 * args.ei, 0.9 * args.ei, n)
        kw = {k: getattr(args, k) for k in ("frequency", "mode", "package")}
        return inst, e, inst.resolution(e, ei=args.ei, **kw)
    if inst.kind == "indirect":
        e = np.linspace(inst.e_min, inst.e_max, n)
        return inst, e, inst.resolution(e)
    if inst.kind == "triple_axis":
        if args.q is None:
            raise InputError("triple-axis instruments need --q", field="q")
        e = np.linspace(0.0, 0.6 * inst.fixed_energy, n)
        return inst, e, np.atleast_1d(inst.resolution(e, q=args.q))
    raise InputError("instrument has no energy resolution", field="instrument", value=args.instrument)


def _list(args) -> int:
    rows = [load_instrument(n).summary() for n in list_instruments()]
    emit([{k: r.get(k, "") for k in ("name", "kind", "facility")} for r in rows], as_json=args.json,
         title="latdyn instrument library")
    return 0


def _show(args) -> int:
    inst = load_instrument(args.instrument)
    rows = [{"field": k, "value": v} for k, v in inst.summary().items()]
    rows += [{"field": f"reference {k}", "value": v} for k, v in inst.references.items()]
    emit(rows, as_json=args.json, title=f"{inst.name} ({inst.file})")
    return 0


def _resolution(args) -> int:
    inst, e, fw = _energies_and_fwhm(args)
    rows = [{"E (meV)": float(x), "FWHM (meV)": float(w)} for x, w in zip(e, fw, strict=True)]
    extra = {"instrument": inst.name,
             "width": "FWHM (direct geometry: the facility calculator's convention)"}
    emit(rows, as_json=args.json, title=f"{inst.name} energy resolution", extra=extra)
    return 0


def _coverage_of(inst, args):
    if inst.kind == "direct":
        return inst.coverage(ei=args.ei, n=max(args.points, 2))
    if inst.kind == "indirect":
        return inst.coverage(n=max(args.points, 2))
    raise InputError("coverage is defined for TOF spectrometers", field="instrument", value=inst.name)


def _coverage(args) -> int:
    inst = load_instrument(args.instrument)
    if inst.kind == "direct" and args.ei is None:
        raise InputError("direct-geometry instruments need --ei", field="ei")
    cov = _coverage_of(inst, args)
    rows = [{"E (meV)": float(e), "Q min (1/A)": float(a), "Q max (1/A)": float(b)}
            for e, a, b in zip(cov.energy, cov.q_min, cov.q_max, strict=True)]
    emit(rows, as_json=args.json, title=f"{inst.name} coverage")
    return 0


def _tas(args) -> int:
    inst = load_instrument(args.instrument)
    rows = []
    for e in args.energy:
        ang = inst.angles(args.q, e)
        w = inst.bragg_widths(args.q, e)
        rows.append({**{k: v for k, v in ang.as_dict().items()},
                     "dE vanadium (meV)": w["E_projection"], "dQ par (1/A)": w["Q_par"],
                     "dQ perp (1/A)": w["Q_perp"]})
    emit(rows, as_json=args.json, title=f"{inst.name}: angles (deg) and Cooper-Nathans FWHM")
    return 0


def _vanadium(inst, args) -> dict:
    """Elastic count rate of a vanadium standard (counts/s over all detectors), or why not."""
    from ..simulate import Sample, elastic_count_rate

    label = f"vanadium elastic rate ({args.vanadium_mass:g} g, counts/s)"
    kw = {"frequency": args.frequency, "mode": args.mode, "package": args.package} \
        if inst.kind == "direct" else {"analyser_reflectivity": args.analyser_reflectivity}
    try:
        van = Sample("V", args.vanadium_mass, area_cm2=args.vanadium_area)
        rate = elastic_count_rate(inst, van, ei=args.ei if inst.kind == "direct" else None,
                                  flux=args.flux, cross_section="incoherent", **kw)
    except InstrumentError as exc:
        return {label: None, "vanadium rate not available": str(exc)}
    out = {label: rate, "vanadium counts per hour": 3600.0 * rate}
    if args.flux is None and inst.kind == "direct":
        out["flux at sample (n/cm^2/s)"] = inst.flux_at_sample(args.ei, **kw)
    return out


def _compare(args) -> int:
    from ..instruments.planning import compare_instruments

    if args.energy_range is None or args.q_range is None:
        raise InputError("--compare needs --energy-range EMIN EMAX and --q-range QMIN QMAX",
                         field="energy_range")
    result = compare_instruments(args.energy_range, args.q_range, args.fwhm_max, args.instruments)
    extra = {"energy range (meV)": list(result.energy_range), "|Q| range (1/A)": list(result.q_range),
             "required FWHM (meV)": result.fwhm_max}
    if args.out is not None:
        extra["files"] = [str(p) for p in result.write(args.out)]
    emit(result.table(), as_json=args.json, title="Instruments for this measurement", extra=extra)
    return 0


def _plan(args) -> int:
    if args.compare:
        return _compare(args)
    if args.instrument is None:
        raise InputError("plan needs an instrument (or --compare)", field="instrument")
    inst, e, fw = _energies_and_fwhm(args)
    rows = [{"E (meV)": float(x), "FWHM (meV)": float(w), "FWHM/Ei (%)": 100 * float(w) / args.ei
             if args.ei else float("nan")} for x, w in zip(e, fw, strict=True)]
    extra = {"instrument": inst.name}
    if inst.kind == "direct":
        kw = {"frequency": args.frequency, "mode": args.mode, "package": args.package}
        if args.q is not None:
            for row in rows:
                row["|Q| FWHM (1/A)"] = _q_fwhm(inst, args.q, row["E (meV)"], args.ei, kw)
        extra["elastic FWHM (meV)"] = inst.elastic_resolution(args.ei, **kw)
        extra["Ei in the same frame (RRM, meV)"] = [round(float(x), 4) for x in inst.multi_ei(args.ei, **kw)]
    if inst.kind in ("direct", "indirect"):
        extra.update(_vanadium(inst, args))
    if args.out is not None and inst.kind in ("direct", "indirect"):
        from ..report import Report, new_figure, plot_coverage

        cov = _coverage_of(inst, args)
        rep = Report(f"Experiment plan: {inst.name}")
        fig, ax = plot_coverage([cov], [inst.name])
        rep.add_figure("coverage", fig, "Accessible (|Q|, E)")
        fig2, ax2 = new_figure()
        ax2.plot(e, fw * 1e3, "o-")
        ax2.set_xlabel("Energy transfer (meV)")
        ax2.set_ylabel("Resolution FWHM (µeV)")
        rep.add_figure("resolution", fig2, "Energy resolution (FWHM)")
        rep.add_table("Resolution", rows)
        extra["report"] = str(rep.write(args.out / "plan.html"))
    emit(rows, as_json=args.json, title=f"{inst.name} plan", extra=extra)
    return 0
