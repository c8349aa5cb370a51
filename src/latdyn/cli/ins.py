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
from .output import add_json_flag, emit, result_warnings, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ins", help="inelastic analysis: cuts, phonon-peak fits, DOS, thermodynamics",
                       description="Cuts of S(Q,E), damped-oscillator fits over temperature, the "
                                   "generalised DOS of powders and thermodynamics from a DOS.")
    s = p.add_subparsers(dest="ins_command", metavar="SUBCOMMAND")

    c = s.add_parser("cut", help="integrate or average S(Q,E) over a Q or E range (bin fractions)")
    c.add_argument("file", help="S(Q,E) file (any format latdyn.data.io.load reads)")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--q", nargs=2, type=float, metavar=("QMIN", "QMAX"),
                   help="Q range (1/A) to integrate over: gives S(E)")
    g.add_argument("--e", nargs=2, type=float, metavar=("EMIN", "EMAX"),
                   help="energy range (meV) to integrate over: gives S(Q)")
    c.add_argument("--average", action="store_true", help="average over the range instead of integrating")
    c.add_argument("--ei", type=float, help="apply k_i/k_f first, direct geometry (meV)")
    c.add_argument("--ef", type=float, help="apply k_i/k_f first, indirect geometry (meV)")
    c.add_argument("--chi", type=float, metavar="T", help="convert to chi''(Q,E) at T (K) first")
    c.add_argument("--balance", nargs=2, type=float, metavar=("EMIN", "EMAX"),
                   help="fit the sample temperature from S(-E)/S(E) in EMIN..EMAX meV (Q cuts)")
    c.add_argument("-o", "--out", "--output", dest="output", required=True, help="CSV file for the cut")
    add_json_flag(c)
    c.set_defaults(func=run_cut)

    f = s.add_parser("fit", help="elastic + quasi-elastic + N damped-oscillator fits, sequential in T")
    f.add_argument("files", nargs="+", help="one spectrum S(E) or S(Q,E) per temperature")
    f.add_argument("--T", required=True, help="temperatures (K), comma separated, one per file")
    f.add_argument("--q", nargs=2, type=float, metavar=("QMIN", "QMAX"),
                   help="Q range to integrate S(Q,E) over first (1/A)")
    f.add_argument("--e-range", nargs=2, type=float, metavar=("EMIN", "EMAX"),
                   help="energy window of the fit (meV)")
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
    f.add_argument("-o", "--out", "--output", dest="output", required=True,
                   help="output folder (fits.csv, report.html)")
    add_json_flag(f)
    f.set_defaults(func=run_fit)

    d = s.add_parser("dos", help="generalised DOS of a powder S(Q,E) with multiphonon correction")
    d.add_argument("file", help="powder S(Q,E) file")
    d.add_argument("--T", type=float, required=True, help="sample temperature (K)")
    m = d.add_mutually_exclusive_group(required=True)
    m.add_argument("--formula", help="chemical formula: effective mass from sigma/M weights")
    m.add_argument("--mass", type=float, help="effective mass (amu)")
    d.add_argument("--q", nargs=2, type=float, required=True, metavar=("QMIN", "QMAX"))
    d.add_argument("--e", nargs=2, type=float, required=True, metavar=("EMIN", "EMAX"),
                   help="inelastic range (meV): EMIN above the elastic line, EMAX above the cut-off")
    d.add_argument("--n-max", type=int, default=10, help="highest phonon order (default 10)")
    d.add_argument("--T-range", default="10:600:10", help="temperatures for Cv, S, F (K) a:b:step")
    d.add_argument("-o", "--out", "--output", dest="output", required=True,
                   help="output folder (dos.csv, thermo.csv, report)")
    add_json_flag(d)
    d.set_defaults(func=run_dos)

    mg = s.add_parser("magnetic", help="separate magnetic (|f(Q)|^2) and phonon (Q^2 exp(-2W)) "
                                       "scattering of a powder S(Q,E)")
    mg.add_argument("file", help="powder S(Q,E) file (any format latdyn.data.io.load reads)")
    mg.add_argument("--ion", required=True, help="magnetic ion, e.g. Mn2+ (docs/ins.md lists them)")
    mg.add_argument("--uiso", type=float, required=True, help="U_iso (angstrom^2): exp(-2W) = exp(-Q^2 U)")
    mg.add_argument("--q", nargs=2, type=float, metavar=("QMIN", "QMAX"), help="|Q| range (1/A)")
    mg.add_argument("--e", nargs=2, type=float, metavar=("EMIN", "EMAX"), help="energy range (meV)")
    mg.add_argument("--flat", action="store_true", help="add a flat background per energy")
    mg.add_argument("--paramagnetic", type=float, metavar="T",
                    help="fit the magnetic part with a paramagnetic quasi-elastic line at T (K)")
    mg.add_argument("-o", "--out", "--output", dest="output", required=True,
                    help="output folder (separation.csv, maps.h5, report.html)")
    add_json_flag(mg)
    mg.set_defaults(func=run_magnetic)

    t = s.add_parser("thermo", help="heat capacity, entropy, free energy from a DOS file")
    t.add_argument("file", help="DOS: columns energy (meV) and g(E) (any normalisation)")
    t.add_argument("--T-range", default="10:600:10", help="temperatures (K) as a:b:step or a,b,c")
    t.add_argument("--atoms", type=float, default=1.0, help="atoms per formula unit (default 1)")
    t.add_argument("--compare", help="second DOS file: entropy difference S(file) - S(compare)")
    t.add_argument("-o", "--out", "--output", dest="output", required=True,
                   help="output folder (thermo.csv, report.html)")
    add_json_flag(t)
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
    """Write the result to ``--output``, print its table (or JSON) and where the files are."""
    files = result.write(args.output)
    summary = result.to_json()
    emit(result.rows(), as_json=args.json, title=result.heading,
         columns=None if args.json else getattr(result, "table_columns", None),
         extra=summary | {"outputs": [str(f) for f in files]}, lines=summary_lines(summary, files))
    warn(result_warnings(result))
    return 0


def run_cut(args: argparse.Namespace) -> int:
    from ..inelastic import cut_measurement

    return _show(cut_measurement(args.file, q=args.q, e=args.e, average=args.average, ei=args.ei,
                                 ef=args.ef, chi=args.chi, balance=args.balance), args)


def run_fit(args: argparse.Namespace) -> int:
    from ..inelastic import fit_phonon_series

    series = fit_phonon_series(args.files, _floats(args.T, "T"), e0=_floats(args.e0, "e0"),
                               gamma=_floats(args.gamma, "gamma"), q=args.q, e_range=args.e_range,
                               quasielastic=not args.no_qe, elastic=not args.no_elastic,
                               background=args.background, fix_shift=args.fix_shift,
                               resolution=_floats(args.resolution, "resolution"),
                               instrument=args.instrument, ei=args.ei, group_velocity=_floats(args.vg, "vg"))
    return _show(series, args)


def run_dos(args: argparse.Namespace) -> int:
    from ..thermo import generalized_dos_thermodynamics

    return _show(generalized_dos_thermodynamics(args.file, args.T, q_range=args.q, e_range=args.e,
                                                mass=args.mass, formula=args.formula, n_max=args.n_max,
                                                temperatures=args.T_range), args)


def run_magnetic(args: argparse.Namespace) -> int:
    from ..inelastic import separate_magnetic

    return _show(separate_magnetic(args.file, ion=args.ion, u_iso=args.uiso, q_range=args.q, e_range=args.e,
                                   flat=args.flat, paramagnetic_T=args.paramagnetic), args)


def run_thermo(args: argparse.Namespace) -> int:
    from ..thermo import thermodynamics_from_dos

    return _show(thermodynamics_from_dos(args.file, args.T_range, atoms=args.atoms, compare=args.compare),
                 args)
