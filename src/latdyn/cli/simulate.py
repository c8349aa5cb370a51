"""``latdyn simulate mode|qens``: a virtual measurement of an analytic model on a library
instrument, one call of :func:`latdyn.simulate.simulate_measurement`.

Models (one subcommand each, with its own ``--help``): ``mode`` (a dispersionless sharp
excitation at --e0 with area --area on a flat background) and ``qens`` (elastic fraction --eisf
plus a Lorentzian with HWHM = hbar D Q^2, --diffusion in angstrom^2/ps).  Writes the DataArray
(scipp HDF5) and prints a summary.

Noise level: ``--counts C`` (expected counts per unit S), or the counts of a real sample with
``--sample FORMULA --mass G --hours H`` (flux from the instrument file or ``--flux``; the model
is then S per formula unit with the cross section ``--cross-section``; ``--sample-area``
(cm^2) adds slab self-shielding).
"""

from __future__ import annotations

from .options import add_common, add_e_range, add_out, range_ends
from .output import emit

_DESCRIPTION = {
    "mode": "Simulate a dispersionless sharp excitation S(Q,E) = A delta(E - E0) + b measured on "
            "an instrument: resolution, coverage, counts and Poisson noise.",
    "qens": "Simulate QENS, S(Q,E) = EISF delta(E) + (1 - EISF) L(E; hbar D Q^2) + b, measured on "
            "an instrument: resolution, coverage, counts and Poisson noise.",
}


def _common(p) -> None:
    p.add_argument("--instrument", required=True, help="library name or instrument YAML")
    p.add_argument("--ei", type=float, default=None, help="incident energy (meV), direct geometry")
    p.add_argument("--q", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0], help="|Q| (1/A)")
    add_e_range(p, ends=("--emin", "--emax"), help="energy-transfer range (meV; default: the "
                "instrument's window)")
    p.add_argument("--points", type=int, default=201, help="energy points")
    p.add_argument("--background", type=float, default=0.01, help="flat background (1/meV)")
    p.add_argument("--counts", type=float, default=1e4, help="expected counts per unit S (no --sample)")
    p.add_argument("--sample", default=None, metavar="FORMULA", help="sample formula, e.g. V or Li6PS5Cl")
    p.add_argument("--mass", type=float, default=None, help="sample mass (g)")
    p.add_argument("--hours", type=float, default=None, help="counting time (hours)")
    p.add_argument("--sample-area", type=float, default=None,
                   help="slab face area (cm^2) for self-shielding")
    p.add_argument("--flux", type=float, default=None,
                   help="flux at the sample: n/cm^2/s (direct) or n/cm^2/s/meV (indirect)")
    p.add_argument("--cross-section", default="total",
                   help="normalisation of the model S per formula unit: total, coherent, incoherent, "
                        "absolute or barn")
    p.add_argument("--analyser-reflectivity", type=float, default=None, help="indirect machines")
    p.add_argument("--frequency", type=float, default=None, help="resolution chopper frequency (Hz)")
    p.add_argument("--mode", default=None, help="disk-chopper mode")
    p.add_argument("--package", default=None, help="Fermi chopper package")
    p.add_argument("--seed", type=int, default=None, help="seed of the Poisson noise")
    add_out(p, suffix=".h5", what="file (scipp HDF5)")
    add_common(p)


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help="simulate a measurement of a model on an instrument",
                              description="Simulate a measurement of an analytic model on a library "
                              "instrument; run 'latdyn simulate MODEL --help' for a model's options.")
    sub = p.add_subparsers(dest="model", required=True)
    m = sub.add_parser("mode", help="a dispersionless sharp excitation on a flat background",
                       description=_DESCRIPTION["mode"])
    m.add_argument("--e0", type=float, default=1.0, help="mode energy (meV)")
    m.add_argument("--area", type=float, default=1.0, help="mode area")
    _common(m)
    m.set_defaults(func=_run)
    q = sub.add_parser("qens", help="elastic line plus a Fickian Lorentzian (QENS)",
                       description=_DESCRIPTION["qens"])
    q.add_argument("--eisf", type=float, default=0.3, help="elastic fraction, 0 to 1")
    q.add_argument("--diffusion", type=float, default=0.2, help="D (angstrom^2/ps)")
    _common(q)
    q.set_defaults(func=_run)


def _run(args) -> int:
    from ..simulate import simulate_measurement

    specific = {k: getattr(args, k) for k in ("e0", "area", "eisf", "diffusion") if hasattr(args, k)}
    emin, emax = range_ends(args, "e_range")
    r = simulate_measurement(
        args.model, args.instrument, q=args.q, ei=args.ei, emin=emin, emax=emax,
        points=args.points, background=args.background, counts=args.counts, sample=args.sample,
        mass=args.mass, hours=args.hours, sample_area=args.sample_area, flux=args.flux,
        cross_section=args.cross_section, analyser_reflectivity=args.analyser_reflectivity,
        frequency=args.frequency, mode=args.mode, package=args.package, seed=args.seed, **specific)
    files = r.write(args.out)
    emit(r.rows(), as_json=args.json, title=r.title, extra={"file": str(files[0]), **r.to_json()},
         lines=[f"file: {files[0]}"] + r.lines())
    return 0
