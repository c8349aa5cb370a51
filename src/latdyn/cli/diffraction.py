"""`latdyn diffraction reflections|pattern|phases|pdf|debye|mem`: structure factors (with
magnetic ones from --magnetic), powder patterns, phase fractions of pattern series, pair
distribution functions, Debye fits of ADPs and maximum-entropy densities.

Every command prints a table (or JSON with --json) and writes CSV/HDF5 results, figures and an
HTML report into --out (layouts in docs/diffraction.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import FormatError, InputError
from ..fileio import atomic_path, write_text_atomic
from .output import add_json_flag, emit


def register(subparsers) -> None:
    p = subparsers.add_parser("diffraction", help="structure factors, powder patterns, PDF, ADPs, MEM")
    sub = p.add_subparsers(dest="diffraction_command", metavar="SUBCOMMAND")

    r = sub.add_parser("reflections", help="(hkl), d, multiplicity and |F|^2 from a CIF")
    r.add_argument("cif", nargs="?", help="CIF (optional with an mCIF given to --magnetic)")
    r.add_argument("--dmin", type=float, default=1.0, help="smallest d-spacing (angstrom)")
    r.add_argument("--dmax", type=float, default=np.inf, help="largest d-spacing (angstrom)")
    r.add_argument("--radiation", choices=["neutron", "xray"], default="neutron")
    _magnetic_args(r)
    _common(r)
    r.set_defaults(func=_reflections)

    pt = sub.add_parser("pattern", help="powder pattern, neutron and X-ray, CW or TOF")
    pt.add_argument("cif", nargs="?", help="CIF (optional with an mCIF given to --magnetic)")
    pt.add_argument("--wavelength", type=float, help="CW wavelength (angstrom)")
    pt.add_argument(
        "--two-theta", type=float, nargs=3, metavar=("MIN", "MAX", "STEP"), default=(5, 160, 0.02)
    )
    pt.add_argument(
        "--uvw",
        type=float,
        nargs=3,
        metavar=("U", "V", "W"),
        default=(0.01, -0.005, 0.01),
        help="Caglioti parameters (deg^2)",
    )
    pt.add_argument("--tof", action="store_true", help="time-of-flight pattern on a d axis")
    pt.add_argument("--difc", type=float, help="DIFC (us/angstrom)")
    pt.add_argument("--flight-path", type=float, help="total flight path L (m), with --angle")
    pt.add_argument("--angle", type=float, help="detector 2theta (deg) for DIFC")
    pt.add_argument(
        "--d-range", type=float, nargs=3, metavar=("MIN", "MAX", "STEP"), default=(0.5, 4.0, 0.0005)
    )
    pt.add_argument("--dd", type=float, default=0.003, help="TOF resolution Delta d/d (FWHM)")
    pt.add_argument("--eta", type=float, default=0.0, help="Lorentzian fraction of the pseudo-Voigt")
    pt.add_argument("--preferred-orientation", type=float, nargs=4, metavar=("H", "K", "L", "R"),
                    help="March-Dollase texture: axis hkl and r (1 random, < 1 platelets, > 1 needles)")
    pt.add_argument("--profile", choices=["pseudo-voigt", "back-to-back"], default="pseudo-voigt",
                    help="TOF peak shape (back-to-back: Gaussian x back-to-back exponentials)")
    pt.add_argument("--alpha", type=float, nargs="+", metavar="A",
                    help="back-to-back rise rate (1/us): alpha, or alpha_0 alpha_1 (alpha_0 + alpha_1/d)")
    pt.add_argument("--beta", type=float, nargs="+", metavar="B",
                    help="back-to-back decay rate (1/us): beta, or beta_0 beta_1 (beta_0 + beta_1/d^4)")
    pt.add_argument(
        "--range",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="instrument range on the pattern axis (2theta deg, or d angstrom)",
    )
    _magnetic_args(pt)
    _common(pt)
    pt.set_defaults(func=_pattern)

    pd = sub.add_parser("pdf", help="model G(r) from a CIF, or G(r) from a measured S(Q)")
    pd.add_argument("source", help="CIF file, or with --sq a CSV of Q, S(Q)[, error]")
    pd.add_argument("--sq", action="store_true", help="the source is S(Q) to transform")
    pd.add_argument("--rho0", type=float, help="number density (atoms/angstrom^3), needed with --sq")
    pd.add_argument("--r", type=float, nargs=3, metavar=("MIN", "MAX", "STEP"), default=(0.5, 20.0, 0.01))
    pd.add_argument("--qmax", type=float, help="Q_max (1/angstrom)")
    pd.add_argument("--lorch", action="store_true", help="apply the Lorch modification function")
    pd.add_argument("--radiation", choices=["neutron", "xray"], default="neutron")
    pd.add_argument(
        "--shell",
        type=float,
        nargs=2,
        metavar=("R1", "R2"),
        help="integrate R(r) over [R1, R2] for a coordination number",
    )
    _common(pd)
    pd.set_defaults(func=_pdf)

    db = sub.add_parser("debye", help="fit U_iso(T) with the Debye (or Einstein) model + static offset")
    db.add_argument("table", help="CSV/whitespace file: T (K), U_iso (angstrom^2)[, error]")
    db.add_argument("--mass", type=float, help="atomic mass (amu)")
    db.add_argument("--species", help="element or isotope giving the mass")
    db.add_argument("--model", choices=["debye", "einstein"], default="debye")
    db.add_argument("--no-static", action="store_true", help="fix the static offset at zero")
    _common(db)
    db.set_defaults(func=_debye)

    ph = sub.add_parser("phases", help="phase fractions of a pattern series (Hill-Howard), transition, "
                                       "export for Rietveld programs")
    ph.add_argument("manifest", help="YAML manifest: phases, patterns with their T or field, fit "
                                     "settings (docs/diffraction.md)")
    ph.add_argument("--no-export", action="store_true", help="do not write xye/gsa/fxye copies")
    ph.add_argument("--out", default="phases-out", help="output folder (default: phases-out)")
    add_json_flag(ph)
    ph.set_defaults(func=_phases)

    me = sub.add_parser("mem", help="maximum-entropy density from observed structure factors")
    me.add_argument("cif", help="CIF giving the cell and F(000)")
    me.add_argument("fobs", help="file: h k l F sigma, or h k l F_re F_im sigma")
    me.add_argument("--grid", type=int, nargs=3, default=(32, 32, 32))
    me.add_argument("--f000", type=float, help="F(000) (default: sum of occupancy x b of the CIF)")
    me.add_argument("--radiation", choices=["neutron", "xray"], default="neutron")
    _common(me)
    me.set_defaults(func=_mem)


def _magnetic_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--magnetic", metavar="FILE",
                   help="magnetic structure: an mCIF, or a YAML file of moments on the CIF's sites "
                        "(docs/diffraction.md); adds magnetic columns (neutrons)")
    p.add_argument("--ion", action="append", default=[], metavar="SITE=ION",
                   help="magnetic ion of a site label or species, e.g. Ni=Ni2+ (repeatable)")
    p.add_argument("--magnetic-cell", action="store_true",
                   help="work in the magnetic supercell (k must be commensurate with the cell)")
    p.add_argument("--write-mcif", metavar="FILE", help="also write the magnetic structure as mCIF")


def _ions(pairs) -> dict[str, str] | None:
    out = {}
    for p in pairs:
        site, sep, ion = p.partition("=")
        if not sep or not site or not ion:
            raise InputError("give --ion as SITE=ION, e.g. Mn1=Mn3+", field="--ion", value=p)
        out[site.strip()] = ion.strip()
    return out or None


def _magnetic_structure(args):
    from ..structure import read_magnetic_structure

    if getattr(args, "radiation", "neutron") != "neutron":
        raise InputError("magnetic scattering is computed for neutrons", field="--radiation",
                         value=args.radiation)
    from ..structure import write_mcif

    s = read_magnetic_structure(args.magnetic, crystal=args.cif, ions=_ions(args.ion))
    if args.magnetic_cell:
        s = s.magnetic_cell()
    if args.write_mcif:
        write_mcif(s, args.write_mcif, cell="magnetic" if args.magnetic_cell else "auto")
    return s


def _inputs(args) -> list[str]:
    return [p for p in (args.cif, args.magnetic) if p]


def _magnetic_reflections(args) -> int:
    from ..diffraction import magnetic_reflections

    s = _magnetic_structure(args)
    refl = magnetic_reflections(s, args.dmin, args.dmax)
    paths = refl.write(args.out, title=s.title, inputs=_inputs(args))
    emit(refl.rows(), as_json=args.json, title=f"{s.title}: nuclear and magnetic reflections",
         extra={**refl.summary(), **paths})
    return 0


def _magnetic_pattern(args) -> int:
    from ..diffraction import magnetic_powder_pattern

    s = _magnetic_structure(args)
    if args.tof:
        pat = magnetic_powder_pattern(s, np.arange(*args.d_range), tof=True, difc=args.difc,
                                      path_m=args.flight_path, two_theta=args.angle,
                                      dd_over_d=args.dd, eta=args.eta, profile=args.profile,
                                      alpha=args.alpha, beta=args.beta, instrument_range=args.range)
    else:
        pat = magnetic_powder_pattern(s, np.arange(*args.two_theta), wavelength=args.wavelength,
                                      U=args.uvw[0], V=args.uvw[1], W=args.uvw[2], eta=args.eta,
                                      instrument_range=args.range)
    paths = pat.write(args.out, inputs=_inputs(args))
    emit(pat.rows(), as_json=args.json, title=f"{s.title}: nuclear and magnetic reflections",
         extra={"points": len(pat.x), **paths})
    return 0


def _need_cif(args) -> None:
    if not args.cif:
        raise InputError("give a CIF (or an mCIF with --magnetic)", field="cif")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="diffraction-out", help="output folder (default: diffraction-out)")
    add_json_flag(p)


def _crystal(path):
    from ..structure import read_cif

    return read_cif(path)


def _write_csv(path: Path, header: list[str], columns: list[np.ndarray], comment: str = "") -> Path:
    lines = [f"# {c}" for c in comment.splitlines() if c] + [",".join(header)]
    data = np.column_stack(columns)
    lines += [",".join(f"{v:.10g}" for v in row) for row in data]
    return write_text_atomic(path, "\n".join(lines) + "\n")


def _read_table(path, min_cols: int, field: str) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    text = path.read_text().replace(",", " ")
    rows = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        rows = [list(map(float, r)) for r in rows if not r[0].isalpha()]
        arr = np.array(rows, dtype=float)
    except ValueError as exc:
        raise FormatError("table holds non-numeric values or ragged rows", file=path, field=field) from exc
    if arr.ndim != 2 or arr.shape[1] < min_cols or len(arr) == 0:
        raise FormatError(
            f"expected at least {min_cols} numeric columns", file=path, field=field, value=arr.shape
        )
    return arr


def _report(title, out: Path, inputs, figs, tables, text=None):
    from ..report import Report

    rep = Report(title)
    for i in inputs:
        rep.add_input(i)
    if text:
        rep.add_text(None, text)
    for name, fig, cap in figs:
        rep.add_figure(name, fig, cap)
    for head, rows in tables:
        rep.add_table(head, rows)
    return rep.write(out / "report.html")


def _reflections(args) -> int:
    from ..diffraction import reflections
    from ..report import axis_label, new_figure

    if args.magnetic:
        return _magnetic_reflections(args)
    _need_cif(args)
    c = _crystal(args.cif)
    refl = reflections(c, args.dmin, args.dmax, args.radiation)
    out = Path(args.out)
    csv = _write_csv(
        out / "reflections.csv",
        ["h", "k", "l", "d_angstrom", "Q_inv_angstrom", "multiplicity", f"F2_{refl.f2_unit}"],
        [refl.hkl[:, 0], refl.hkl[:, 1], refl.hkl[:, 2], refl.d, refl.q, refl.multiplicity, refl.f2],
        f"{c.title}: {args.radiation} reflections, {c.space_group.symbol}",
    )
    fig, ax = new_figure()
    ax.vlines(refl.d, 0, refl.multiplicity * refl.f2)
    ax.set_xlabel(axis_label("d", "angstrom"))
    ax.set_ylabel(f"m |F|² ({refl.f2_unit})")
    rows = refl.rows()
    rep = _report(
        f"Reflections of {c.title}",
        out,
        [args.cif],
        [("reflections", fig, "m |F|^2 against d")],
        [("Reflections", rows)],
    )
    emit(
        rows,
        as_json=args.json,
        title=f"{c.title} {c.space_group.symbol}: {args.radiation} reflections",
        extra={"n_reflections": len(refl), "csv": str(csv), "report": str(rep)},
    )
    return 0


def _phases(args) -> int:
    from ..diffraction import phase_analysis

    series = phase_analysis(args.manifest)
    paths = series.write(args.out, inputs=[args.manifest], export=not args.no_export)
    keep = ("pattern", "condition", "sweep", "chi2_red", "converged", "reasons")
    rows = [{k: v for k, v in r.items() if k in keep or (k.startswith("w_"))} for r in series.rows()]
    emit(rows, as_json=args.json, title=f"Phase fractions versus {series.quantity} ({series.unit})",
         extra={**series.summary(), **paths})
    return 0


def _texture_arg(args):
    """(axis hkl, r) of --preferred-orientation, or None."""
    if args.preferred_orientation is None:
        return None
    h, k, l, r = args.preferred_orientation
    return ([h, k, l], r)


def _pattern(args) -> int:
    from ..diffraction import cw_pattern, reflections, tof_pattern
    from ..kinematics import d_to_two_theta
    from ..report import axis_label, new_figure

    if args.magnetic:
        return _magnetic_pattern(args)
    _need_cif(args)
    c = _crystal(args.cif)
    out = Path(args.out)
    pats = {}
    if args.tof:
        d = np.arange(*args.d_range)
        for rad in ("neutron", "xray"):
            pats[rad] = tof_pattern(
                c,
                d,
                difc=args.difc,
                path_m=args.flight_path,
                two_theta=args.angle,
                dd_over_d=args.dd,
                radiation=rad,
                eta=args.eta,
                instrument_range=args.range,
                profile=args.profile,
                alpha=args.alpha,
                beta=args.beta,
                preferred_orientation=_texture_arg(args),
            )
        x, xname, xunit = d, "d", "angstrom"
        refl = reflections(c, d[0], d[-1])
        keep = np.ones(len(refl), bool)
        positions = refl.d
    else:
        if args.wavelength is None:
            raise InputError("a CW pattern needs --wavelength (or use --tof)", field="wavelength")
        if args.profile != "pseudo-voigt":
            raise InputError("the back-to-back profile is a TOF peak shape (add --tof)",
                             field="--profile", value=args.profile)
        x = np.arange(*args.two_theta)
        u, v, w = args.uvw
        for rad in ("neutron", "xray"):
            pats[rad] = cw_pattern(
                c, args.wavelength, x, u, v, w, radiation=rad, eta=args.eta, instrument_range=args.range,
                preferred_orientation=_texture_arg(args),
            )
        xname, xunit = "two_theta", "deg"
        refl = reflections(c, args.wavelength / (2 * np.sin(np.deg2rad(x[-1]) / 2)))
        keep = refl.d >= args.wavelength / 2
        positions = np.full(len(refl), np.nan)
        positions[keep] = d_to_two_theta(refl.d[keep], args.wavelength)
    norm = {k: p.values / p.values.max() for k, p in pats.items()}
    csv = _write_csv(
        out / "pattern.csv",
        [f"{xname}_{xunit}", "neutron", "xray", "neutron_norm", "xray_norm"],
        [x, pats["neutron"].values, pats["xray"].values, norm["neutron"], norm["xray"]],
        f"{c.title}: powder pattern ({'TOF' if args.tof else 'CW'}), neutron and X-ray",
    )
    fig, ax = new_figure(7, 4.2)
    ax.plot(x, norm["neutron"], lw=1, label="neutron")
    ax.plot(x, norm["xray"], lw=1, label="X-ray", alpha=0.8)
    ax.set_xlabel(axis_label(xname, xunit))
    ax.set_ylabel("Intensity (normalised)")
    ax.legend(frameon=False)
    rows = [
        {"h": int(h[0]), "k": int(h[1]), "l": int(h[2]), xname: float(p), "multiplicity": int(m)}
        for h, p, m, k in zip(refl.hkl, positions, refl.multiplicity, keep, strict=True)
        if k and x[0] <= p <= x[-1]
    ][:40]
    rep = _report(
        f"Powder pattern of {c.title}",
        out,
        [args.cif],
        [("pattern", fig, "Neutron and X-ray powder patterns, each normalised to its maximum")],
        [("Reflections", rows)],
    )
    emit(
        rows,
        as_json=args.json,
        title=f"{c.title}: reflection positions",
        extra={"points": len(x), "csv": str(csv), "report": str(rep)},
    )
    return 0


def _pdf(args) -> int:
    from ..data import make_sq
    from ..diffraction import R_from_G, coordination_number, g_from_G, model_pdf, pdf_from_sq
    from ..report import axis_label, new_figure

    out = Path(args.out)
    r = np.arange(*args.r)
    mod = "lorch" if args.lorch else "none"
    if args.sq:
        if args.rho0 is None:
            raise InputError("transforming S(Q) needs the number density --rho0", field="rho0")
        tab = _read_table(args.source, 2, "Q,S")
        errors = tab[:, 2] if tab.shape[1] > 2 else None
        sq = make_sq(tab[:, 0], tab[:, 1], errors, source=str(args.source))
        gda = pdf_from_sq(sq, r, qmax=args.qmax, modification=mod)
        G = gda.values
        err = None if gda.variances is None else np.sqrt(gda.variances)
        rho0, title = args.rho0, f"G(r) of {Path(args.source).name}"
    else:
        c = _crystal(args.source)
        G = model_pdf(c, r, args.radiation, qmax=args.qmax, modification=mod)
        err, rho0, title = None, c.number_density, f"Model G(r) of {c.title} ({args.radiation})"
    rp = np.where(r > 0, r, np.nan)
    g = g_from_G(rp, G, rho0) if np.all(r > 0) else np.full_like(G, np.nan)
    R = R_from_G(r, G, rho0)
    cols = [r, G, g, R] + ([err] if err is not None else [])
    header = ["r_angstrom", "G_inv_angstrom2", "g", "R_inv_angstrom"] + (
        ["G_error"] if err is not None else []
    )
    csv = _write_csv(out / "pdf.csv", header, cols, f"{title}; rho0 = {rho0:.8g} atoms/angstrom^3")
    fig, ax = new_figure(7, 4.2)
    ax.plot(r, G, lw=1)
    ax.set_xlabel(axis_label("r", "angstrom"))
    ax.set_ylabel("G(r) (Å$^{-2}$)")
    extra = {"rho0": rho0, "csv": str(csv)}
    rows = []
    if args.shell:
        n = coordination_number(r, G, rho0, *args.shell)
        rows.append({"r1": args.shell[0], "r2": args.shell[1], "coordination": n})
        ax.axvspan(*args.shell, color="0.9")
    rep = _report(title, out, [args.source], [("pdf", fig, title)], [("Coordination", rows)] if rows else [])
    extra["report"] = str(rep)
    emit(rows, as_json=args.json, title=title, extra=extra)
    return 0


def _debye(args) -> int:
    from ..diffraction import fit_u_iso
    from ..report import axis_label, new_figure
    from ..scattering import nuclide

    tab = _read_table(args.table, 2, "T,U_iso")
    if args.mass is None and args.species is None:
        raise InputError("give --mass (amu) or --species", field="mass")
    mass = args.mass if args.mass is not None else nuclide(args.species).mass
    err = tab[:, 2] if tab.shape[1] > 2 else None
    res = fit_u_iso(tab[:, 0], tab[:, 1], err, mass=mass, model=args.model, static=not args.no_static)
    out = Path(args.out)
    tt = np.linspace(0, tab[:, 0].max() * 1.1, 300)
    summary = ", ".join(
        f"{k} = {v:.6g} +- {np.nan if e is None else e:.2g} {u}" for k, (v, e, u) in res.params.items()
    )
    csv = _write_csv(
        out / "debye_fit.csv",
        ["T_K", "U_iso_model_angstrom2"],
        [tt, res.predict(tt)],
        f"{args.model} fit: {summary}",
    )
    fig, ax = new_figure()
    ax.errorbar(tab[:, 0], tab[:, 1], yerr=err, fmt="o", ms=4, label="data")
    ax.plot(tt, res.predict(tt), label=f"{args.model} + static")
    ax.set_xlabel(axis_label("T", "K"))
    ax.set_ylabel("U$_{iso}$ (Å$^2$)")
    ax.legend(frameon=False)
    from ..report import Report

    rep = Report(f"{args.model.capitalize()} fit of U_iso(T)")
    rep.add_input(args.table)
    rep.add_parameters("Parameters", res.params)
    rep.add_figure("debye", fig, "U_iso(T) and the fitted model")
    rep.add_table(
        "Statistics", [{"chi2": res.chi2, "reduced chi2": res.reduced_chi2, "AIC": res.aic, "BIC": res.bic}]
    )
    path = rep.write(out / "report.html")
    emit(
        res.rows(),
        as_json=args.json,
        title=f"{args.model} fit of U_iso(T), mass {mass:.4f} amu",
        extra={"chi2": res.chi2, "reduced_chi2": res.reduced_chi2, "converged": res.converged,
               "csv": str(csv), "report": str(path)},
    )
    return 0


def _mem(args) -> int:
    import h5py
    import matplotlib.pyplot as plt

    from ..diffraction import maximum_entropy
    from ..scattering import nuclide, xray_form_factor

    c = _crystal(args.cif)
    tab = _read_table(args.fobs, 5, "h,k,l,F,sigma")
    hkl = np.round(tab[:, :3]).astype(int)
    if tab.shape[1] >= 6:
        f, sigma = tab[:, 3] + 1j * tab[:, 4], tab[:, 5]
    else:
        f, sigma = tab[:, 3].astype(complex), tab[:, 4]
    if args.f000 is not None:
        f000 = args.f000
    else:
        amp = [
            nuclide(s).b_coh.real if args.radiation == "neutron" else float(xray_form_factor(s, 0.0))
            for s in c.atoms.species
        ]
        f000 = float(np.sum(np.array(amp) * c.atoms.occupancy))
    res = maximum_entropy(hkl, f, sigma, c.volume, f000, tuple(args.grid))
    out = Path(args.out)
    unit = "fm/angstrom^3" if args.radiation == "neutron" else "electrons/angstrom^3"
    with atomic_path(out / "mem_density.h5") as tmp, h5py.File(tmp, "w") as h5:
        ds = h5.create_dataset("density", data=res.density)
        ds.attrs["unit"] = unit
        ds.attrs["axes"] = "fractional x, y, z: index i at i / N"
        h5.attrs["cell"] = np.array(c.lattice.parameters)
        h5.attrs["f000"] = f000
        h5.attrs["chi2"] = res.chi2
        h5.attrs["iterations"] = res.iterations
        h5.create_dataset("hkl", data=hkl)
        h5.create_dataset("f_obs", data=f)
        h5.create_dataset("f_cal", data=res.f_cal)
        h5.create_dataset("sigma", data=sigma)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), dpi=110, constrained_layout=True)
    for ax, img, name in (
        (axes[0], res.density[:, :, 0], "section z = 0"),
        (axes[1], res.density.max(axis=2), "maximum along z"),
    ):
        im = ax.imshow(img.T, origin="lower", extent=(0, 1, 0, 1), cmap="viridis")
        ax.set_xlabel("x (fractional)")
        ax.set_ylabel("y (fractional)")
        ax.set_title(name)
        fig.colorbar(im, ax=ax, label=unit.replace("angstrom", "Å"))
    rows = [
        {
            "reflections": len(hkl),
            "F000": f000,
            "chi2 (C)": res.chi2,
            "iterations": res.iterations,
            "density min": float(res.density.min()),
            "density max": float(res.density.max()),
        }
    ]
    rep = _report(
        f"MEM density of {c.title}",
        out,
        [args.cif, args.fobs],
        [("mem", fig, "MEM density")],
        [("MEM", rows)],
    )
    emit(
        rows,
        as_json=args.json,
        title=f"Sakata-Sato MEM of {c.title}",
        extra={"h5": str(out / "mem_density.h5"), "report": str(rep)},
    )
    return 0
