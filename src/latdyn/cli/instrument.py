"""``latdyn instrument ...`` and ``latdyn plan``: the instrument library, resolution, coverage,
triple-axis angles and the Cooper-Nathans widths.  Each command is one library call
(latdyn.instruments: library_table, describe_instrument, resolution_table, coverage_table,
tas_table, compare_instruments; latdyn.simulate.plan_experiment) whose result gives the table
and writes --out."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..report.text import summary_lines
from .options import add_common, add_e_range, add_out, add_q_range
from .output import emit


def register(subparsers) -> None:
    p = subparsers.add_parser("instrument", help="instrument library: list, show, resolution, "
                              "coverage, tas")
    sub = p.add_subparsers(dest="instrument_command")
    s = sub.add_parser("list", help="instruments in the library")
    add_common(s)
    s.set_defaults(func=_list)
    s = sub.add_parser("show", help="key facts and references of one instrument")
    s.add_argument("instrument", help="library name or YAML file")
    add_common(s)
    s.set_defaults(func=_show_instrument)
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
    add_common(s)
    s.set_defaults(func=_tas)
    p.set_defaults(func=lambda a: p.print_help() or 0)

    pl = subparsers.add_parser("plan", help="plan an experiment: resolution and coverage plot; "
                               "--compare: which instruments and settings reach a measurement")
    _res_args(pl, optional_instrument=True)
    pl.add_argument("--compare", action="store_true",
                    help="compare the library's instruments for --energy-range and --q-range")
    add_e_range(pl, old=("--energy-range",), help="--compare: energy transfers to cover (meV)")
    add_q_range(pl, help="--compare: |Q| to cover (1/angstrom)")
    pl.add_argument("--fwhm-max", type=float, default=None,
                    help="--compare: largest acceptable resolution FWHM in the range (meV)")
    pl.add_argument("--instruments", nargs="+", default=None,
                    help="--compare: instruments to compare (default: the whole library)")
    add_out(pl, on_request=True, help="folder for the HTML report and figures")
    pl.add_argument("--flux", type=float, default=None,
                    help="flux at the sample (n/cm^2/s; indirect: n/cm^2/s/meV) if the library has none")
    pl.add_argument("--vanadium-mass", type=float, default=1.0,
                    help="mass (g) of the vanadium standard for the elastic count rate")
    pl.add_argument("--vanadium-area", type=float, default=None,
                    help="face area (cm^2) of the vanadium plate (self-shielding); none: thin limit")
    pl.add_argument("--analyser-reflectivity", type=float, default=None, help="indirect machines")
    pl.set_defaults(func=_plan)


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
    add_common(s)


def _show(result, args, rows=None) -> int:
    """Write the result into --out (when the command has it and it is given), print the table."""
    out = getattr(args, "out", None)
    files = result.write(out) if out is not None else []
    summary = result.to_json()
    emit(result.rows() if rows is None else rows, as_json=args.json, title=result.heading,
         extra=summary | ({"outputs": [str(f) for f in files]} if files else {}),
         lines=summary_lines(summary, files))
    return 0


def _settings(args) -> dict:
    return {"ei": args.ei, "frequency": args.frequency, "mode": args.mode, "package": args.package,
            "q": args.q, "points": args.points}


def _list(args) -> int:
    from ..instruments import library_table

    return _show(library_table(), args)


def _show_instrument(args) -> int:
    from ..instruments import describe_instrument

    return _show(describe_instrument(args.instrument), args)


def _resolution(args) -> int:
    from ..instruments import resolution_table

    return _show(resolution_table(args.instrument, **_settings(args)), args)


def _coverage(args) -> int:
    from ..instruments import coverage_table

    return _show(coverage_table(args.instrument, ei=args.ei, points=args.points), args)


def _tas(args) -> int:
    from ..instruments import tas_table

    return _show(tas_table(args.instrument, args.q, args.energy), args)


def _compare(args) -> int:
    from ..instruments import compare_instruments

    if args.e_range is None or args.q_range is None:
        raise InputError("--compare needs --e-range EMIN EMAX and --q-range QMIN QMAX",
                         field="e_range")
    result = compare_instruments(args.e_range, args.q_range, args.fwhm_max, args.instruments)
    return _show(result, args, rows=result.table())


def _plan(args) -> int:
    from ..simulate import plan_experiment

    if args.compare:
        return _compare(args)
    if args.instrument is None:
        raise InputError("plan needs an instrument (or --compare)", field="instrument")
    return _show(plan_experiment(args.instrument, **_settings(args), flux=args.flux,
                                 vanadium_mass=args.vanadium_mass, vanadium_area=args.vanadium_area,
                                 analyser_reflectivity=args.analyser_reflectivity), args)
