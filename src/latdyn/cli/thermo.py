"""``latdyn thermo arrhenius|caloric|magnetocaloric|kappa``: activation energies, entropy
bookkeeping of caloric transitions, the lattice and magnetic entropy balance of magnetostructural
transitions and kinetic thermal conductivity.  Each command is one call of
:mod:`latdyn.thermo` (fit_arrhenius_file, caloric_balance, entropy_balance, kinetic_kappa)
whose result gives the table and writes the files.  File layouts: docs/thermo.md."""

from __future__ import annotations

import argparse

from ..report.text import summary_lines
from .options import add_common, add_out, add_temperature
from .output import emit, result_warnings, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("thermo", help="Arrhenius fits, caloric entropy bookkeeping, magnetocaloric "
                                      "entropy balance, kinetic kappa",
                       description="Thermally activated quantities, configurational and vibrational "
                                   "entropy, Clausius-Clapeyron and kinetic thermal conductivity.")
    s = p.add_subparsers(dest="thermo_command")

    a = s.add_parser("arrhenius", help="fit y = A exp(-Ea / kT) to a table of T, y (, error)")
    a.add_argument("file", help="text table: columns T (K), y, optional error; '#' comments")
    add_out(a, on_request=True, help="folder for report.html and arrhenius.csv")
    add_common(a)
    a.set_defaults(func=run_arrhenius)

    c = s.add_parser("caloric", help="R ln(Omega2/Omega1), total entropy change, dT/dP, driving pressure")
    c.add_argument("--omega", nargs=2, type=float, required=True, metavar=("OMEGA1", "OMEGA2"),
                   help="orientations per disordered unit before and after the transition")
    c.add_argument("--units", type=float, default=1.0, help="disordering units per formula unit")
    c.add_argument("--dS-vib", type=float, default=0.0, help="vibrational entropy change J/(mol K)")
    c.add_argument("--dV", type=float, required=True, help="molar volume change (cm^3/mol)")
    c.add_argument("--dT", type=float, default=None, help="transition shift (K) to find the pressure")
    add_common(c)
    c.set_defaults(func=run_caloric)

    m = s.add_parser("magnetocaloric", help="entropy balance of a field-driven magnetostructural "
                                            "transition: lattice (DOS) + magnetic (mean field)")
    add_temperature(m, required=True, help="transition temperature T_t (K)")
    m.add_argument("--J", type=float, required=True, help="angular momentum of the magnetic ions")
    m.add_argument("--g", type=float, default=2.0, help="Lande g (default 2)")
    m.add_argument("--n-ions", type=float, default=1.0, help="magnetic ions per formula unit")
    m.add_argument("--tc1", type=float, default=0.0, help="mean-field T_C of phase 1 (K; 0: paramagnet)")
    m.add_argument("--tc2", type=float, default=0.0, help="mean-field T_C of phase 2 (K; 0: paramagnet)")
    m.add_argument("--field", type=float, default=0.0, help="mu0 H (T)")
    m.add_argument("--dos1", help="phonon DOS of phase 1 (energy meV, g)")
    m.add_argument("--dos2", help="phonon DOS of phase 2")
    m.add_argument("--atoms", type=float, default=1.0, help="atoms per formula unit (DOS per atom)")
    m.add_argument("--dM", type=float, help="M_2 - M_1 (mu_B per formula unit)")
    m.add_argument("--dS-measured", type=float, help="measured Delta S (J/(mol K)) to compare")
    m.add_argument("--dTdH-measured", type=float, help="measured dT_t/d(mu0 H) (K/T), with --dM")
    m.add_argument("--molar-mass", type=float, help="g/mol of formula units, for J/(kg K)")
    add_out(m, on_request=True, help="folder for entropy_balance.csv, report")
    add_common(m)
    m.set_defaults(func=run_magnetocaloric)

    k = s.add_parser("kappa", help="kinetic kappa = C v^2 tau / 3 from averages")
    k.add_argument("--C", type=float, required=True, help="heat capacity per volume (J/(m^3 K))")
    k.add_argument("--v", type=float, required=True, help="velocity (m/s)")
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--tau", type=float, help="lifetime (ps)")
    g.add_argument("--gamma", type=float, help="damping HWHM (meV): tau = hbar / (2 Gamma)")
    add_common(k)
    k.set_defaults(func=run_kappa)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _show(result, args, folder=None) -> int:
    """Write the result into ``folder`` (when given), print its table (or JSON)."""
    files = result.write(folder) if folder else []
    summary, rows = result.to_json(), result.rows()
    emit(rows, as_json=args.json, title=result.heading,
         extra=summary | ({"outputs": [str(f) for f in files]} if files else {}),
         lines=summary_lines(summary, files, skip=[r.get("quantity") for r in rows]))
    warn(result_warnings(result))
    return 0


def run_arrhenius(args: argparse.Namespace) -> int:
    from ..thermo import fit_arrhenius_file

    return _show(fit_arrhenius_file(args.file), args, args.out)


def run_caloric(args: argparse.Namespace) -> int:
    from ..thermo import caloric_balance

    return _show(caloric_balance(args.omega[0], args.omega[1], dV=args.dV, units=args.units,
                                 dS_vib=args.dS_vib, dT=args.dT), args)


def run_magnetocaloric(args: argparse.Namespace) -> int:
    from ..thermo import entropy_balance

    res = entropy_balance(args.temperature, J=args.J, n_ions=args.n_ions, g=args.g, T_c1=args.tc1,
                          T_c2=args.tc2,
                          field_T=args.field, dos_1=args.dos1, dos_2=args.dos2,
                          atoms_per_formula_unit=args.atoms, delta_m=args.dM, measured=args.dS_measured,
                          measured_slope=args.dTdH_measured, molar_mass=args.molar_mass)
    return _show(res, args, args.out)


def run_kappa(args: argparse.Namespace) -> int:
    from ..thermo import kinetic_kappa

    return _show(kinetic_kappa(args.C, args.v, tau=args.tau, gamma=args.gamma), args)
