"""`latdyn diffraction reflections|pattern|phases|pdf|debye|mem`: structure factors (with
magnetic ones from --magnetic), powder patterns, phase fractions of pattern series, pair
distribution functions, Debye fits of ADPs and maximum-entropy densities.

Every command prints a table (or JSON with --json) and writes CSV/HDF5 results, figures and an
HTML report into --out (layouts in docs/diffraction.md).  Each command is one call of
:mod:`latdyn.diffraction` (compute_reflections, compute_pattern, phase_analysis, compute_pdf,
fit_u_iso_file, mem_density) whose result writes the folder and gives the table."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..report.text import summary_lines
from .options import add_common, add_d_range, add_out, add_q_max, range_ends
from .output import emit, result_warnings, warn


def register(subparsers) -> None:
    p = subparsers.add_parser("diffraction", help="structure factors, powder patterns, PDF, ADPs, MEM")
    sub = p.add_subparsers(dest="diffraction_command")

    r = sub.add_parser("reflections", help="(hkl), d, multiplicity and |F|^2 from a CIF")
    r.add_argument("cif", nargs="?", help="CIF (optional with an mCIF given to --magnetic)")
    add_d_range(r, ends=("--dmin", "--dmax"), help="d-spacings to list (angstrom; default 1 inf)")
    r.add_argument("--radiation", choices=["neutron", "xray"], default="neutron")
    _magnetic_args(r)
    _common(r, ("cif", "magnetic"))
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
    add_d_range(pt, nargs=3, metavar=("DMIN", "DMAX", "DSTEP"), default=(0.5, 4.0, 0.0005),
                help="TOF d axis (angstrom; default 0.5 4 0.0005)")
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
    _common(pt, ("cif", "magnetic"))
    pt.set_defaults(func=_pattern)

    pd = sub.add_parser("pdf", help="model G(r) from a CIF, or G(r) from a measured S(Q)")
    pd.add_argument("source", help="CIF file, or with --sq a CSV of Q, S(Q)[, error]")
    pd.add_argument("--sq", action="store_true", help="the source is S(Q) to transform")
    pd.add_argument("--rho0", type=float, help="number density (atoms/angstrom^3), needed with --sq")
    pd.add_argument("--r", type=float, nargs=3, metavar=("MIN", "MAX", "STEP"), default=(0.5, 20.0, 0.01))
    add_q_max(pd, old=("--qmax",), help="Q_max of the transform (1/angstrom)")
    pd.add_argument("--lorch", action="store_true", help="apply the Lorch modification function")
    pd.add_argument("--radiation", choices=["neutron", "xray"], default="neutron")
    pd.add_argument(
        "--shell",
        type=float,
        nargs=2,
        metavar=("R1", "R2"),
        help="integrate R(r) over [R1, R2] for a coordination number",
    )
    _common(pd, ("source",))
    pd.set_defaults(func=_pdf)

    db = sub.add_parser("debye", help="fit U_iso(T) with the Debye (or Einstein) model + static offset")
    db.add_argument("table", help="CSV/whitespace file: T (K), U_iso (angstrom^2)[, error]")
    db.add_argument("--mass", type=float, help="atomic mass (amu)")
    db.add_argument("--species", help="element or isotope giving the mass")
    db.add_argument("--model", choices=["debye", "einstein"], default="debye")
    db.add_argument("--no-static", action="store_true", help="fix the static offset at zero")
    _common(db, ("table",))
    db.set_defaults(func=_debye)

    ph = sub.add_parser("phases", help="phase fractions of a pattern series (Hill-Howard), transition, "
                                       "export for Rietveld programs")
    ph.add_argument("manifest", help="YAML manifest: phases, patterns with their T or field, fit "
                                     "settings (docs/diffraction.md)")
    ph.add_argument("--no-export", action="store_true", help="do not write xye/gsa/fxye copies")
    _common(ph, ("manifest",))
    ph.set_defaults(func=_phases)

    me = sub.add_parser("mem", help="maximum-entropy density from observed structure factors")
    me.add_argument("cif", help="CIF giving the cell and F(000)")
    me.add_argument("fobs", help="file: h k l F sigma, or h k l F_re F_im sigma")
    me.add_argument("--grid", type=int, nargs=3, default=(32, 32, 32))
    me.add_argument("--f000", type=float, help="F(000) (default: the CIF's, sum of occupancy x b, "
                                                "or x Z for X-rays)")
    me.add_argument("--radiation", choices=["neutron", "xray"], default="neutron")
    _common(me, ("cif",))
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


def _magnetic(args) -> dict:
    """Keywords of the magnetic options for compute_reflections / compute_pattern."""
    return {"magnetic": args.magnetic, "ions": _ions(args.ion), "magnetic_cell": args.magnetic_cell}


def _common(p: argparse.ArgumentParser, inputs: tuple[str, ...]) -> None:
    add_out(p, inputs=inputs)
    add_common(p)


def _show(result, args, **write) -> int:
    """Write the result's folder, then print its table (or JSON) and where the files are."""
    files = result.write(args.out, **write)
    mcif = [result.write_mcif(args.write_mcif)] if getattr(args, "write_mcif", None) else []
    summary = result.to_json()
    emit(result.rows(), as_json=args.json, title=result.heading,
         extra=summary | {"outputs": [str(f) for f in files + mcif]},
         lines=summary_lines(summary, files) + [f"mCIF: {m}" for m in mcif])
    warn(result_warnings(result))
    return 0


def _reflections(args) -> int:
    from ..diffraction import compute_reflections

    d_min, d_max = range_ends(args, "d_range", (1.0, float("inf")))
    return _show(compute_reflections(args.cif, d_min, d_max, args.radiation, **_magnetic(args)), args)


def _phases(args) -> int:
    from ..diffraction import phase_analysis

    return _show(phase_analysis(args.manifest), args, export=not args.no_export)


def _pattern(args) -> int:
    from ..diffraction import compute_pattern

    po = args.preferred_orientation
    r = compute_pattern(args.cif, wavelength=args.wavelength, two_theta=tuple(args.two_theta),
                        uvw=tuple(args.uvw), tof=args.tof, difc=args.difc, flight_path=args.flight_path,
                        angle=args.angle, d_range=tuple(args.d_range), dd=args.dd, eta=args.eta,
                        preferred_orientation=None if po is None else (po[:3], po[3]),
                        profile=args.profile, alpha=args.alpha, beta=args.beta,
                        instrument_range=args.range, **_magnetic(args))
    return _show(r, args)


def _pdf(args) -> int:
    from ..diffraction import compute_pdf

    return _show(compute_pdf(args.source, sq=args.sq, rho0=args.rho0, r=tuple(args.r), qmax=args.q_max,
                             lorch=args.lorch, radiation=args.radiation, shell=args.shell), args)


def _debye(args) -> int:
    from ..diffraction import fit_u_iso_file

    return _show(fit_u_iso_file(args.table, mass=args.mass, species=args.species, model=args.model,
                                static=not args.no_static), args)


def _mem(args) -> int:
    from ..diffraction import mem_density

    return _show(mem_density(args.cif, args.fobs, grid=tuple(args.grid), f000=args.f000,
                             radiation=args.radiation), args)
