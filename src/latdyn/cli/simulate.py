"""``latdyn simulate``: a virtual measurement of an analytic model on a library instrument.

Models: ``mode`` (a dispersionless sharp excitation at --e0 with area --area on a flat
background) and ``qens`` (elastic fraction --eisf plus a Lorentzian with HWHM = hbar D Q^2,
--diffusion in angstrom^2/ps).  Writes the DataArray (scipp HDF5) and prints a summary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.atomic import atomic_path
from ..errors import InputError
from ..instruments import load_instrument
from ..simulate import simulate_sqe
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
    p.add_argument("--counts", type=float, default=1e4, help="expected counts per unit S")
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
    if args.model == "mode":
        da = simulate_sqe(lambda q, x: np.full_like(x, bg), inst, args.q, e, ei=args.ei,
                          lines=lambda q: ([args.e0], [args.area]), counts_scale=args.counts,
                          seed=args.seed)
    else:
        if not 0 <= args.eisf <= 1:
            raise InputError("EISF must lie in [0, 1]", field="eisf", value=args.eisf)

        def model(q, x):
            g = HBAR_MEV_PS * args.diffusion * q**2
            return (1 - args.eisf) * g / np.pi / (x**2 + g**2) + bg

        da = simulate_sqe(model, inst, args.q, e, ei=args.ei, elastic=lambda q: args.eisf,
                          counts_scale=args.counts, seed=args.seed)
    with atomic_path(args.out) as tmp:
        da.save_hdf5(tmp)
    masked = int(da.masks["outside_coverage"].values.sum())
    emit([{"Q (1/A)": float(q), "sum S (in coverage)": float(np.sum(
        da.values[i][~da.masks["outside_coverage"].values[i]]))} for i, q in enumerate(args.q)],
        as_json=args.json, title=f"simulated {args.model} on {inst.name}",
        extra={"file": str(args.out), "masked points": masked})
    return 0
