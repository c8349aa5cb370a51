"""``latdyn thermo arrhenius|caloric|magnetocaloric|kappa``: activation energies, entropy
bookkeeping of caloric transitions, the lattice and magnetic entropy balance of magnetostructural
transitions and kinetic thermal conductivity.  File layouts: docs/thermo.md."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import InputError
from .output import add_json_flag, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("thermo", help="Arrhenius fits, caloric entropy bookkeeping, magnetocaloric "
                                      "entropy balance, kinetic kappa",
                       description="Thermally activated quantities, configurational and vibrational "
                                   "entropy, Clausius-Clapeyron and kinetic thermal conductivity.")
    s = p.add_subparsers(dest="thermo_command", metavar="SUBCOMMAND")

    a = s.add_parser("arrhenius", help="fit y = A exp(-Ea / kT) to a table of T, y (, error)")
    a.add_argument("file", help="text table: columns T (K), y, optional error; '#' comments")
    a.add_argument("-o", "--out", "--output", dest="output", help="folder for report.html and arrhenius.csv")
    add_json_flag(a)
    a.set_defaults(func=run_arrhenius)

    c = s.add_parser("caloric", help="R ln(Omega2/Omega1), total entropy change, dT/dP, driving pressure")
    c.add_argument("--omega", nargs=2, type=float, required=True, metavar=("OMEGA1", "OMEGA2"),
                   help="orientations per disordered unit before and after the transition")
    c.add_argument("--units", type=float, default=1.0, help="disordering units per formula unit")
    c.add_argument("--dS-vib", type=float, default=0.0, help="vibrational entropy change J/(mol K)")
    c.add_argument("--dV", type=float, required=True, help="molar volume change (cm^3/mol)")
    c.add_argument("--dT", type=float, default=None, help="transition shift (K) to find the pressure")
    add_json_flag(c)
    c.set_defaults(func=run_caloric)

    m = s.add_parser("magnetocaloric", help="entropy balance of a field-driven magnetostructural "
                                            "transition: lattice (DOS) + magnetic (mean field)")
    m.add_argument("--T", type=float, required=True, help="transition temperature T_t (K)")
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
    m.add_argument("-o", "--out", "--output", dest="output", help="folder for entropy_balance.csv, report")
    add_json_flag(m)
    m.set_defaults(func=run_magnetocaloric)

    k = s.add_parser("kappa", help="kinetic kappa = C v^2 tau / 3 from averages")
    k.add_argument("--C", type=float, required=True, help="heat capacity per volume (J/(m^3 K))")
    k.add_argument("--v", type=float, required=True, help="velocity (m/s)")
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--tau", type=float, help="lifetime (ps)")
    g.add_argument("--gamma", type=float, help="damping HWHM (meV): tau = hbar / (2 Gamma)")
    add_json_flag(k)
    k.set_defaults(func=run_kappa)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _table(path: str) -> np.ndarray:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            text = line.split("#", 1)[0].replace(",", " ").strip()
            if not text:
                continue
            try:
                rows.append([float(x) for x in text.split()])
            except ValueError:
                if rows:
                    raise InputError("not a number", file=path, field=f"line {i}", value=line.strip()) \
                        from None
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) not in (2, 3):
        raise InputError("expected 2 or 3 numeric columns (T, y, error)", file=path, field="columns",
                         value=sorted({len(r) for r in rows}))
    return np.asarray(rows)


def run_arrhenius(args: argparse.Namespace) -> int:
    from ..thermo import arrhenius_fit

    t = _table(args.file)
    res = arrhenius_fit(t[:, 0], t[:, 1], t[:, 2] if t.shape[1] == 3 else None)
    pred = res.predict(t[:, 0])
    rows = [{"T_K": a, "y": b, "fit": c} for a, b, c in zip(t[:, 0], t[:, 1], pred, strict=True)]
    if args.output:
        _arrhenius_report(args, t, res)
    emit(rows, as_json=args.json, title=f"Arrhenius fit of {args.file}", extra=res.as_dict())
    return 0


def _arrhenius_report(args, t: np.ndarray, res) -> None:
    import csv
    import io

    from ..fileio import write_text_atomic
    from ..report import Report, new_figure

    out = Path(args.output)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["T [K]", "y", "y_err", "fit"])
    for row in t:
        w.writerow([row[0], row[1], row[2] if t.shape[1] == 3 else "", res.predict(row[0])])
    write_text_atomic(out / "arrhenius.csv", buf.getvalue())
    fig, ax = new_figure()
    x = 1000.0 / t[:, 0]
    ax.errorbar(x, t[:, 1], t[:, 2] if t.shape[1] == 3 else None, fmt="o")
    xx = np.linspace(x.min(), x.max(), 100)
    ax.plot(xx, res.predict(1000.0 / xx), label=f"Ea = {res.activation_energy:.3f} ± "
            f"{res.activation_energy_error:.3f} eV")
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("y")
    ax.legend(frameon=False)
    rep = Report(f"Arrhenius fit of {args.file}")
    rep.add_input(args.file)
    rep.add_figure("arrhenius", fig, "ln y versus 1/T with the fit")
    rep.add_table("Result", [res.as_dict()])
    rep.write(out / "report.html")


def run_caloric(args: argparse.Namespace) -> int:
    from ..thermo import (
        clausius_clapeyron,
        configurational_entropy,
        driving_pressure,
        total_transition_entropy,
    )

    s_conf = configurational_entropy(args.omega[1], args.omega[0], args.units)
    s_tot = total_transition_entropy(s_conf, args.dS_vib)
    slope = clausius_clapeyron(args.dV, s_tot)
    row = {"dS_conf_J_molK": s_conf, "dS_vib_J_molK": args.dS_vib, "dS_total_J_molK": s_tot,
           "dV_cm3_mol": args.dV, "dT_dP_K_per_MPa": slope, "dT_dP_K_per_GPa": 1e3 * slope}
    if args.dT is not None:
        row["driving_pressure_MPa"] = driving_pressure(args.dT, args.dV, s_tot)
    emit([row], as_json=args.json, title="caloric entropy bookkeeping (per mole of formula units)")
    return 0


def run_magnetocaloric(args: argparse.Namespace) -> int:
    from ..thermo import entropy_balance

    res = entropy_balance(args.T, J=args.J, n_ions=args.n_ions, g=args.g, T_c1=args.tc1, T_c2=args.tc2,
                          field_T=args.field, dos_1=args.dos1, dos_2=args.dos2,
                          atoms_per_formula_unit=args.atoms, delta_m=args.dM, measured=args.dS_measured,
                          measured_slope=args.dTdH_measured, molar_mass=args.molar_mass)
    extra = res.summary()
    if args.output:
        extra.update(res.write(args.output, inputs=[p for p in (args.dos1, args.dos2) if p]))
    emit(res.rows(), as_json=args.json, title="entropy balance, phase 2 - phase 1 (per mole of formula "
         "units)", extra=extra)
    return 0


def run_kappa(args: argparse.Namespace) -> int:
    from ..thermo import kappa_average, lifetime, mean_free_path

    tau = args.tau if args.tau is not None else lifetime(args.gamma)
    k = kappa_average(args.C, args.v, tau)
    emit([{"C_J_m3K": args.C, "v_m_s": args.v, "tau_ps": tau, "mean_free_path_A": mean_free_path(args.v, tau),
           "kappa_W_mK": k}], as_json=args.json, title="kinetic thermal conductivity")
    return 0
