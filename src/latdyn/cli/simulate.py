"""``latdyn simulate``: a virtual measurement of an analytic model on a library instrument.

Models: ``mode`` (a dispersionless sharp excitation at --e0 with area --area on a flat
background) and ``qens`` (elastic fraction --eisf plus a Lorentzian with HWHM = hbar D Q^2,
--diffusion in angstrom^2/ps).  Writes the DataArray (scipp HDF5) and prints a summary.

Noise level: ``--counts C`` (expected counts per unit S), or the counts of a real sample with
``--sample FORMULA --mass G --hours H`` (flux from the instrument file or ``--flux``; the model
is then S per formula unit with the cross section ``--cross-section``; ``--sample-area``
(cm^2) adds slab self-shielding).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import atomic_path
from ..instruments import load_instrument
from ..simulate import Sample, counts_factor, simulate_sqe
from ..units import HBAR_MEV_PS
from .output import add_json_flag, emit


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help="simulate a measurement of a model on an instrument")
    p.add_argument("model", choices=["mode", "qens"])
    p.add_argument("--instrument", required=True)
    p.add_argument("--ei", type=float, default=None, help="incident energy (meV), direct geometry")
    p.add_argument("--q", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0], help="|Q| (1/A)")
    p.add_argument("--emin", type=float, default=None)
    p.add_argument("--emax", type=float, default=None)
    p.add_argument("--points", type=int, default=201)
    p.add_argument("--e0", type=float, default=1.0, help="mode energy (meV)")
    p.add_argument("--area", type=float, default=1.0, help="mode area")
    p.add_argument("--background", type=float, default=0.01, help="flat background (1/meV)")
    p.add_argument("--eisf", type=float, default=0.3)
    p.add_argument("--diffusion", type=float, default=0.2, help="D (angstrom^2/ps)")
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
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", type=Path, required=True, help="output file (.h5)")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    inst = load_instrument(args.instrument)
    if inst.kind == "indirect":
        lo, hi = inst.e_min, inst.e_max
    elif args.ei is not None:
        lo, hi = -0.5 * args.ei, 0.9 * args.ei
    else:
        raise InputError("give --ei for this instrument", field="ei")
    lo = lo if args.emin is None else args.emin
    hi = hi if args.emax is None else args.emax
    e = np.linspace(lo, hi, max(args.points, 2))
    bg = args.background
    settings = {k: getattr(args, k) for k in ("frequency", "mode", "package")
                if getattr(args, k) is not None and inst.kind == "direct"}
    counting = _counting(args)
    settings.update(counting)
    if args.model == "mode":
        da = simulate_sqe(lambda q, x: np.full_like(x, bg), inst, args.q, e, ei=args.ei,
                          lines=lambda q: ([args.e0], [args.area]), counts_scale=args.counts,
                          seed=args.seed, **settings)
    else:
        if not 0 <= args.eisf <= 1:
            raise InputError("EISF must lie in [0, 1]", field="eisf", value=args.eisf)

        def model(q, x):
            g = HBAR_MEV_PS * args.diffusion * q**2
            return (1 - args.eisf) * g / np.pi / (x**2 + g**2) + bg

        da = simulate_sqe(model, inst, args.q, e, ei=args.ei, elastic=lambda q: args.eisf,
                          counts_scale=args.counts, seed=args.seed, **settings)
    with atomic_path(args.out) as tmp:
        da.save_hdf5(tmp)
    mask = da.masks["outside_coverage"].values
    rows = [{"Q (1/A)": float(q), "sum S (in coverage)": float(np.sum(da.values[i][~mask[i]]))}
            for i, q in enumerate(args.q)]
    extra = {"file": str(args.out), "masked points": int(mask.sum())}
    if counting:
        factor = counts_factor(inst, args.q, e, ei=args.ei, **settings)
        counts = np.where(mask, 0.0, da.values * factor)
        for i, row in enumerate(rows):
            row["counts"] = float(counts[i].sum())
        extra.update({"sample": args.sample, "mass (g)": args.mass, "hours": args.hours,
                      "total counts": float(counts.sum()),
                      "formula units": counting["sample"].formula_units})
    emit(rows, as_json=args.json, title=f"simulated {args.model} on {inst.name}", extra=extra)
    return 0


def _counting(args) -> dict:
    """Keyword arguments of a real-sample simulation from the command line ({} without one)."""
    given = {k: getattr(args, k) for k in ("sample", "mass", "hours") if getattr(args, k) is not None}
    if not given:
        return {}
    for k in ("sample", "mass", "hours"):
        if getattr(args, k) is None:
            raise InputError("--sample, --mass and --hours go together", field=k)
    try:
        cross = float(args.cross_section)
    except ValueError:
        cross = args.cross_section
    out = {"sample": Sample(args.sample, args.mass, area_cm2=args.sample_area), "hours": args.hours,
           "cross_section": cross, "flux": args.flux}
    if args.analyser_reflectivity is not None:
        out["analyser_reflectivity"] = args.analyser_reflectivity
    if len(args.q) == 1:
        raise InputError("give at least two --q values to define |Q| bins", field="q")
    return out
