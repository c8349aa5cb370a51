"""``latdyn ins cut|fit|dos|magnetic|thermo``: cuts of S(Q,E), phonon-peak fits, generalised DOS,
magnetic/phonon separation by |Q| dependence and thermodynamics from a DOS, with result tables
(CSV) and an HTML report.  File layouts: docs/ins.md."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import InputError
from .output import add_json_flag, emit


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


def temperatures(text: str) -> np.ndarray:
    """'a:b:step' (inclusive) or 'a,b,c' -> array of temperatures (K)."""
    if ":" in text:
        try:
            a, b, step = (float(x) for x in text.split(":"))
        except ValueError as exc:
            raise InputError("temperature range must be a:b:step", field="T-range", value=text) from exc
        if not (step > 0 and b >= a):
            raise InputError("temperature range needs b >= a and step > 0", field="T-range", value=text)
        return np.arange(a, b + 0.5 * step, step)
    return np.asarray(_floats(text, "T-range"))


def _load(path: str):
    from ..data.io import load

    return load(path).data


def run_cut(args: argparse.Namespace) -> int:
    from ..data.io import write_csv
    from ..reduce import bose_to_chi, cut, detailed_balance_check, kf_ki_correction

    da = _load(args.file)
    if args.ei is not None or args.ef is not None:
        da = kf_ki_correction(da, ei=args.ei, ef=args.ef, source=args.file)
    if args.chi is not None:
        da = bose_to_chi(da, args.chi, source=args.file)
    dim, rng = ("Q", args.q) if args.q is not None else ("E", args.e)
    out = cut(da, dim, rng[0], rng[1], average=args.average, source=args.file)
    write_csv(args.output, out)
    other = out.dims[0] if out.ndim else ""
    rows = [{other: float(x), "value": float(v), "error": float(np.sqrt(e)) if out.variances is not None
             else float("nan")}
            for x, v, e in zip(out.coords[other].values, out.values,
                               out.variances if out.variances is not None else np.zeros(out.shape),
                               strict=True)] if out.ndim == 1 else []
    extra = {"file": args.file, "cut_over": dim, "range": list(rng), "mode": "average" if args.average
             else "integrate", "unit": str(out.unit), "output": args.output}
    if args.balance is not None:
        res = detailed_balance_check(out, args.balance[0], args.balance[1], source=args.file)
        extra.update({"T_fit_K": res.temperature, "T_fit_err_K": res.temperature_error,
                      "balance_reduced_chi2": res.reduced_chi2})
    emit(rows, as_json=args.json, title=f"cut of {args.file} over {dim} {rng[0]:g}..{rng[1]:g}",
         extra=extra)
    return 0


def _spectrum(path: str, q, e_range):
    from ..reduce import cut

    da = _load(path)
    if "Q" in da.dims:
        if q is None:
            raise InputError("S(Q,E) input needs --q QMIN QMAX to cut it first", file=path, field="--q")
        da = cut(da, "Q", q[0], q[1], average=True, source=path)
    if e_range is not None:
        e = da.coords["E"].values
        sel = (e >= e_range[0]) & (e <= e_range[1])
        if sel.sum() < 5:
            raise InputError("fewer than 5 points in the energy window", file=path, field="--e-range",
                             value=e_range)
        idx = np.nonzero(sel)[0]
        da = da["E", int(idx[0]):int(idx[-1]) + 1]
    return da


def run_fit(args: argparse.Namespace) -> int:
    from ..inelastic import PhononPeakModel, fit_temperature_series
    from ..inelastic.figures import fit_figures
    from ..report import Report

    temps = _floats(args.T, "T")
    if len(temps) != len(args.files):
        raise InputError("give one temperature per file", field="--T", value=(len(temps), len(args.files)))
    e0 = _floats(args.e0, "e0")
    gamma = _floats(args.gamma, "gamma")
    vg = _floats(args.vg, "vg")
    if args.instrument:
        from ..instruments import load_instrument

        if args.ei is None:
            raise InputError("--instrument needs --ei (meV)", field="--ei")
        resolution, settings = load_instrument(args.instrument), {"ei": args.ei}
    else:
        resolution, settings = _floats(args.resolution, "resolution"), {}
    model = PhononPeakModel(n_dho=len(e0), elastic=not args.no_elastic, quasielastic=not args.no_qe,
                            background=args.background, fit_shift=not args.fix_shift)
    spectra = [_spectrum(f, args.q, args.e_range) for f in args.files]
    series = fit_temperature_series(spectra, temps, resolution, model=model, e0=e0, gamma=gamma,
                                    group_velocity=vg, **settings)
    out = Path(args.output)
    series.write_csv(out / "fits.csv")
    rep = Report("Phonon-peak fits", command=None)
    for f in args.files:
        rep.add_input(f)
    rep.add_text("Model", f"elastic x R + quasi-elastic Lorentzian x R + {len(e0)} DHO(s) with the Bose "
                 f"factor, Gaussian resolution {series.fits[0].model_definition['resolution']}; "
                 "overdamped when Gamma >= E0; lifetime tau = hbar/(2 Gamma).")
    for name, fig, caption in fit_figures(series):
        rep.add_figure(name, fig, caption)
    rows = series.rows()
    rep.add_table("Parameters versus temperature", rows)
    rep.write(out / "report.html")
    keys = ["T_K"] + [k for k in rows[0] if k.startswith("dho") and ("E0" in k or "gamma" in k
                                                                    or "overdamped" in k)]
    keys += [k for k in ("qe_hwhm", "qe_hwhm_err", "reduced_chi2") if k in rows[0]]
    emit([{k: r[k] for k in keys} for r in rows] if not args.json else rows, as_json=args.json,
         title="phonon-peak fits", extra={"output": str(out), "report": str(out / "report.html")})
    return 0


def run_dos(args: argparse.Namespace) -> int:
    from ..data.io import write_csv
    from ..inelastic.figures import dos_figure, thermo_figure
    from ..reduce import effective_mass, generalized_dos
    from ..report import Report
    from ..thermo import band_centre, thermodynamics

    da = _load(args.file)
    mass = effective_mass(args.formula) if args.formula else args.mass
    res = generalized_dos(da, args.T, mass, q_range=tuple(args.q), e_range=tuple(args.e),
                          n_max=args.n_max, source=args.file)
    out = Path(args.output)
    write_csv(out / "dos.csv", res.dos.total)
    T = temperatures(args.T_range)
    tab = thermodynamics(res.dos, T)
    _write_thermo(out / "thermo.csv", tab)
    rep = Report(f"Generalised DOS of {args.file}")
    rep.add_input(args.file)
    rep.add_text("Method", "incoherent approximation; Bose, Debye-Waller and iterative multiphonon "
                 "corrections (Kresch et al. 2007); normalised to 3 per atom.")
    rep.add_figure("dos", dos_figure(res.dos.total), "Generalised DOS (3 states per atom)")
    rep.add_figure("cv", thermo_figure(tab), "Heat capacity over the Dulong-Petit value 3R")
    rep.add_table("Extraction", [res.summary()])
    rep.write(out / "report.html")
    summary = res.summary()
    summary.update({"band_centre_meV": band_centre(res.dos), "output": str(out)})
    emit([_thermo_row(tab, i) for i in range(T.size)], as_json=args.json,
         title="generalised DOS: thermodynamics per mole of atoms", extra=summary)
    return 0


def _thermo_row(tab, i) -> dict:
    return {"T_K": tab["T"][i], "Cv_J_molK": tab["Cv"][i], "Cv_over_3R": tab["Cv_over_3R"][i],
            "S_J_molK": tab["S"][i], "F_J_mol": tab["F"][i], "U_J_mol": tab["U"][i]}


def _write_thermo(path: Path, tab) -> None:
    import csv
    import io

    from ..fileio import write_text_atomic

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["T [K]", "Cv [J/(mol K)]", "Cv_over_3R", "S [J/(mol K)]", "F [J/mol]", "U [J/mol]"])
    for i in range(tab["T"].size):
        r = _thermo_row(tab, i)
        w.writerow([f"{v:.10g}" for v in r.values()])
    write_text_atomic(path, buf.getvalue())


def run_magnetic(args: argparse.Namespace) -> int:
    from ..inelastic import separate_magnetic

    res = separate_magnetic(_load(args.file), ion=args.ion, u_iso=args.uiso, q_range=args.q,
                            e_range=args.e, flat=args.flat, paramagnetic_T=args.paramagnetic)
    paths = res.write(args.output, inputs=[args.file])
    emit(res.rows(), as_json=args.json, title=f"magnetic and phonon parts ({args.ion})",
         extra={**res.summary(), **paths})
    return 0


def run_thermo(args: argparse.Namespace) -> int:
    from ..data import as_density_of_states
    from ..inelastic.figures import thermo_figure
    from ..report import Report
    from ..thermo import (
        band_centre,
        debye_temperature_from_moments,
        entropy_difference,
        thermodynamics,
    )

    da = _load(args.file)
    dos = as_density_of_states(da, source=args.file)
    T = temperatures(args.T_range)
    tab = thermodynamics(dos, T, args.atoms)
    out = Path(args.output)
    _write_thermo(out / "thermo.csv", tab)
    extra = {"ZPE_J_mol": tab["ZPE"], "band_centre_meV": band_centre(dos),
             "theta_D_n2_K": debye_temperature_from_moments(dos, 2.0),
             "theta_D_n0_K": debye_temperature_from_moments(dos, 0.0),
             "theta_D_n-2_K": debye_temperature_from_moments(dos, -2.0), "output": str(out)}
    rows = [_thermo_row(tab, i) for i in range(T.size)]
    if args.compare:
        other = as_density_of_states(_load(args.compare), source=args.compare)
        ds = entropy_difference(dos, other, T, args.atoms)
        for r, v in zip(rows, ds, strict=True):
            r["dS_vib_J_molK"] = float(v)
    rep = Report(f"Thermodynamics of {args.file}")
    rep.add_input(args.file)
    rep.add_figure("cv", thermo_figure(tab), "Heat capacity over the Dulong-Petit value 3R")
    rep.add_table("Thermodynamics", rows)
    rep.add_table("Scalars", [extra])
    rep.write(out / "report.html")
    emit(rows, as_json=args.json, title="harmonic thermodynamics (per mole of formula units)",
         extra=extra)
    return 0
