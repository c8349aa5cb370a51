"""``latdyn ins cut|fit|dos|magnetic|thermo``: cuts of S(Q,E), phonon-peak fits, generalised DOS,
magnetic/phonon separation by |Q| dependence and thermodynamics from a DOS, with result tables
(CSV) and an HTML report.  Each command is one library call (latdyn.inelastic.cut_measurement,
fit_phonon_series, separate_magnetic; latdyn.thermo.generalized_dos_thermodynamics,
thermodynamics_from_dos) whose result writes the files and gives the table.  File layouts:
docs/ins.md."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..report.text import summary_lines
from .options import (
    add_common,
    add_e_range,
    add_out,
    add_q_range,
    add_temperature,
    add_temperature_flag,
    add_temperatures,
    temperature_for,
)
from .output import emit, result_warnings, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ins", help="inelastic analysis: cuts, phonon-peak fits, DOS, thermodynamics",
                       description="Cuts of S(Q,E), damped-oscillator fits over temperature, the "
                                   "generalised DOS of powders and thermodynamics from a DOS.")
    s = p.add_subparsers(dest="ins_command")

    c = s.add_parser("cut", help="integrate or average S(Q,E) over a Q or E range (bin fractions)")
    c.add_argument("file", help="S(Q,E) file (any format latdyn.data.io.load reads)")
    g = c.add_mutually_exclusive_group(required=True)
    add_q_range(g, old=("--q",), help="|Q| range (1/angstrom) to integrate over: gives S(E)")
    add_e_range(g, old=("--e",), help="energy range (meV) to integrate over: gives S(Q)")
    c.add_argument("--average", action="store_true", help="average over the range instead of integrating")
    c.add_argument("--ei", type=float, help="apply k_i/k_f first, direct geometry (meV)")
    c.add_argument("--ef", type=float, help="apply k_i/k_f first, indirect geometry (meV)")
    add_temperature_flag(c, "--chi", "convert to chi''(Q,E) first")
    add_temperature(c, old=(), help="sample temperature (K) for --chi")
    c.add_argument("--balance", nargs=2, type=float, metavar=("EMIN", "EMAX"),
                   help="fit the sample temperature from S(-E)/S(E) in EMIN..EMAX meV (Q cuts)")
    add_out(c, inputs=("file",), suffix=".csv", what="CSV file of the cut")
    add_common(c)
    c.set_defaults(func=run_cut)

    f = s.add_parser("fit", help="elastic + quasi-elastic + N damped-oscillator fits, sequential in T")
    f.add_argument("files", nargs="+", help="one spectrum S(E) or S(Q,E) per temperature")
    add_temperature(f, required=True, type=str, metavar="K,K,...",
                    help="sample temperatures (K), comma separated, one per file")
    add_q_range(f, old=("--q",), help="|Q| range to integrate S(Q,E) over first (1/angstrom)")
    add_e_range(f, help="energy window of the fit (meV)")
    f.add_argument("--e0", required=True, help="initial DHO energies E0 (meV), comma separated")
    f.add_argument("--gamma", help="initial DHO dampings (meV), comma separated")
    f.add_argument("--no-qe", action="store_true", help="no quasi-elastic Lorentzian")
    f.add_argument("--no-elastic", action="store_true", help="no elastic line")
    f.add_argument("--background", choices=("none", "flat", "linear"), default="flat")
    f.add_argument("--fix-shift", action="store_true", help="hold the energy offset at 0")
    r = f.add_mutually_exclusive_group(required=True)
    r.add_argument("--resolution", help="FWHM(E) polynomial c0,c1,... (meV): FWHM = sum c_k E^k")
    r.add_argument("--instrument", help="instrument of the latdyn library (e.g. MARI), with --ei")
    f.add_argument("--ei", type=float, help="incident energy (meV) for --instrument")
    f.add_argument("--vg", help="group velocities (m/s) per DHO for mean free paths, comma separated")
    add_out(f, inputs=("files",), help="output folder (fits.csv, report.html)")
    add_common(f)
    f.set_defaults(func=run_fit)

    d = s.add_parser("dos", help="generalised DOS of a powder S(Q,E) with multiphonon correction")
    d.add_argument("file", help="powder S(Q,E) file")
    add_temperature(d, required=True)
    m = d.add_mutually_exclusive_group(required=True)
    m.add_argument("--formula", help="chemical formula: effective mass from sigma/M weights")
    m.add_argument("--mass", type=float, help="effective mass (amu)")
    add_q_range(d, old=("--q",), required=True, help="|Q| range (1/angstrom)")
    add_e_range(d, old=("--e",), required=True, help="inelastic range (meV): EMIN above the "
                "elastic line, EMAX above the cut-off")
    d.add_argument("--n-max", type=int, default=10, help="highest phonon order (default 10)")
    add_temperatures(d, "temperatures for Cv, S, F (K) as a:b:step or a,b,c")
    add_out(d, inputs=("file",), help="output folder (dos.csv, thermo.csv, report)")
    add_common(d)
    d.set_defaults(func=run_dos)

    mg = s.add_parser("magnetic", help="separate magnetic (|f(Q)|^2) and phonon (Q^2 exp(-2W)) "
                                       "scattering of a powder S(Q,E)")
    mg.add_argument("file", help="powder S(Q,E) file (any format latdyn.data.io.load reads)")
    mg.add_argument("--ion", required=True, help="magnetic ion, e.g. Mn2+ (docs/ins.md lists them)")
    mg.add_argument("--uiso", type=float, required=True, help="U_iso (angstrom^2): exp(-2W) = exp(-Q^2 U)")
    add_q_range(mg, old=("--q",))
    add_e_range(mg, old=("--e",))
    mg.add_argument("--flat", action="store_true", help="add a flat background per energy")
    add_temperature_flag(mg, "--paramagnetic", "fit the magnetic part with a paramagnetic "
                         "quasi-elastic line")
    add_temperature(mg, old=(), help="sample temperature (K) for --paramagnetic")
    add_out(mg, inputs=("file",), help="output folder (separation.csv, maps.h5, report.html)")
    add_common(mg)
    mg.set_defaults(func=run_magnetic)

    t = s.add_parser("thermo", help="heat capacity, entropy, free energy from a DOS file")
    t.add_argument("file", help="DOS: columns energy (meV) and g(E) (any normalisation)")
    add_temperatures(t, "temperatures (K) as a:b:step or a,b,c")
    t.add_argument("--atoms", type=float, default=1.0, help="atoms per formula unit (default 1)")
    t.add_argument("--compare", help="second DOS file: entropy difference S(file) - S(compare)")
    add_out(t, inputs=("file",), help="output folder (thermo.csv, report.html)")
    add_common(t)
    t.set_defaults(func=run_thermo)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise InputError("expected comma-separated numbers", field=name, value=text) from exc


def _show(result, args) -> int:
    """Write the result to ``--out``, print its table (or JSON) and where the files are."""
    files = result.write(args.out)
    summary = result.to_json()
    emit(result.rows(), as_json=args.json, title=result.heading,
         columns=None if args.json else getattr(result, "table_columns", None),
         extra=summary | {"outputs": [str(f) for f in files]}, lines=summary_lines(summary, files))
    warn(result_warnings(result))
    return 0


def run_cut(args: argparse.Namespace) -> int:
    from ..inelastic import cut_measurement

    return _show(cut_measurement(args.file, q=args.q_range, e=args.e_range, average=args.average, ei=args.ei,
                                 ef=args.ef, chi=temperature_for(args, "--chi"), balance=args.balance), args)


def run_fit(args: argparse.Namespace) -> int:
    from ..inelastic import fit_phonon_series

    series = fit_phonon_series(args.files, _floats(args.temperature, "temperature"),
                               e0=_floats(args.e0, "e0"),
                               gamma=_floats(args.gamma, "gamma"), q=args.q_range, e_range=args.e_range,
                               quasielastic=not args.no_qe, elastic=not args.no_elastic,
                               background=args.background, fix_shift=args.fix_shift,
                               resolution=_floats(args.resolution, "resolution"),
                               instrument=args.instrument, ei=args.ei, group_velocity=_floats(args.vg, "vg"))
    return _show(series, args)


def run_dos(args: argparse.Namespace) -> int:
    from ..thermo import generalized_dos_thermodynamics

    return _show(generalized_dos_thermodynamics(args.file, args.temperature, q_range=args.q_range,
                                                e_range=args.e_range,
                                                mass=args.mass, formula=args.formula, n_max=args.n_max,
                                                temperatures=args.temperatures), args)


def run_magnetic(args: argparse.Namespace) -> int:
    from ..inelastic import separate_magnetic

    return _show(separate_magnetic(args.file, ion=args.ion, u_iso=args.uiso, q_range=args.q_range,
                                   e_range=args.e_range, flat=args.flat,
                                   paramagnetic_T=temperature_for(args, "--paramagnetic")), args)


def run_thermo(args: argparse.Namespace) -> int:
    from ..thermo import thermodynamics_from_dos

    return _show(thermodynamics_from_dos(args.file, args.temperatures, atoms=args.atoms,
                                         compare=args.compare), args)
