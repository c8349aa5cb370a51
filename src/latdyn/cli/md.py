"""``latdyn md sqw|vanhove|msd|dos TRAJECTORY``: correlation functions from MD trajectories.

Reads extxyz, LAMMPS dump, VASP XDATCAR, ASE .traj and H5MD files in frame chunks.  Every
command prints a table (or JSON with --json) and writes, under --out, an HDF5 file of scipp
DataArrays, an HTML report and its figures.  File layouts: docs/md.md.

Each command is one call of :mod:`latdyn.md.compute` (``sqw_from_trajectory``, ...), whose
result writes the files and gives the table.
"""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..fileio import check_output_folder
from .options import add_common, add_out, add_q_max, add_temperature
from .output import emit, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("md", help="correlation functions from MD trajectories",
                       description=__doc__.split("\n\n", 1)[1])
    group = p.add_subparsers(title="md commands", dest="md_command")

    sqw = group.add_parser("sqw", help="F(Q,t) and S(Q,E), coherent and incoherent")
    _common(sqw, dask="run the frame blocks as Dask tasks (latdyn[dask]); with a distributed "
                      "Client active they go to its workers")
    add_q_max(sqw, default=4.0, help="largest |Q| of the shells (1/angstrom; default 4)")
    sqw.add_argument("--q-min", type=float, default=0.0, help="smallest |Q| of the shells, 1/A")
    sqw.add_argument("--shells", type=int, default=40, help="number of |Q| shells")
    sqw.add_argument("--max-per-shell", type=int, default=50, help="q-points kept per shell")
    sqw.add_argument("--path", default=None,
                     help="q path instead of shells: points 'h,k,l;h,k,l;...' in reduced units of "
                          "the primitive reciprocal lattice (see --supercell)")
    sqw.add_argument("--supercell", default="1,1,1",
                     help="box = n1 x n2 x n3 primitive cells (for --path); default 1,1,1")
    sqw.add_argument("--weighting", choices=("neutron", "xray", "none"), default="neutron")
    sqw.add_argument("--no-incoherent", action="store_true", help="skip the self part F_s")
    sqw.add_argument("--currents", action="store_true",
                     help="also longitudinal and transverse current correlations")
    sqw.add_argument("--time-window", choices=("gaussian", "hann", "none"), default="gaussian",
                     help="window of the Fourier transform (docs/md.md)")
    add_temperature(sqw, old=(), default=None,
                    help="apply the quantum (detailed balance) correction at this temperature (K)")
    sqw.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                     help="array backend of the numpy kernel (cupy: latdyn[gpu])")
    sqw.add_argument("--self-method", choices=("auto", "fft", "direct"), default="auto",
                     help="how the self part is summed (docs/md.md); results agree to rounding")
    sqw.add_argument("--memory", type=float, default=256.0, metavar="MB",
                     help="memory budget of the blocks, MB (per task with --dask; default 256)")
    sqw.set_defaults(func=run_sqw)

    vh = group.add_parser("vanhove", help="self and distinct van Hove functions G(r,t)")
    _common(vh, window=False, dask="one Dask task per time origin (latdyn[dask]); with a "
                                   "distributed Client active they go to its workers")
    vh.add_argument("--lags", default="0,10,50",
                    help="time lags in frames, comma separated (default 0,10,50)")
    vh.add_argument("--r-max", type=float, default=None,
                    help="largest r, A (default: half the smallest box width)")
    vh.add_argument("--bins", type=int, default=200, help="number of r bins")
    vh.add_argument("--max-origins", type=int, default=20, help="time origins used")
    vh.add_argument("--no-distinct", action="store_true", help="only the self part")
    vh.set_defaults(func=run_vanhove)

    msd = group.add_parser("msd", help="mean-square displacement and diffusion coefficients")
    _common(msd)
    msd.add_argument("--blocks", type=int, default=5, help="blocks for the error of D")
    msd.add_argument("--fit-range", type=float, nargs=2, default=None, metavar=("T0", "T1"),
                     help="lag range of the linear fit, ps (default 20-80 %% of the window)")
    msd.set_defaults(func=run_msd)

    dos = group.add_parser("dos", help="velocity autocorrelation and vibrational DOS")
    _common(dos)
    dos.add_argument("--time-window", choices=("gaussian", "hann", "none"), default="gaussian")
    dos.set_defaults(func=run_dos)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _common(p: argparse.ArgumentParser, window: bool = True, dask: str | None = None) -> None:
    p.add_argument("trajectory", help="trajectory file (extxyz, LAMMPS dump, XDATCAR, .traj, H5MD)")
    p.add_argument("--dt", type=float, default=None,
                   help="time between stored frames, ps (required unless the file has times)")
    p.add_argument("--format", default=None, help="ase.io format name (default: from the name)")
    p.add_argument("--frame-step", type=int, default=1, help="use every n-th frame")
    p.add_argument("--species-map", default=None,
                   help="atom type -> element for LAMMPS dumps, e.g. '1=Li,2=O'")
    if window:
        p.add_argument("--window", type=int, default=200,
                       help="largest time lag in frames (default 200)")
    p.add_argument("--origin-step", type=int, default=10 if not window else 1,
                   help="frames between time origins")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="frames per chunk (memory knob; default: automatic for sqw, 100 "
                        "otherwise)")
    p.add_argument("--threads", type=int, default=2, help="threads")
    add_out(p, inputs=("trajectory",))
    add_common(p)
    if dask:
        p.add_argument("--dask", action="store_true", help=dask)


def _species_map(text: str | None) -> dict[int, str] | None:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isdigit() or not value.strip():
            raise InputError("species map entries look like '1=Li'", field="--species-map",
                             value=text)
        out[int(key)] = value.strip()
    return out


def _numbers(text: str, n: int | None, field: str) -> list[list[float]]:
    """Groups separated by ';' of numbers separated by ',' or spaces, each group n long."""
    try:
        rows = [[float(x) for x in part.replace(",", " ").split()] for part in text.split(";")]
    except ValueError as exc:
        raise InputError("cannot parse numbers", field=field, value=text) from exc
    width = n or len(rows[0])
    if width == 0 or any(len(r) != width for r in rows):
        raise InputError(f"expected groups of {n} numbers" if n else "expected numbers separated "
                         "by commas", field=field, value=text)
    return rows


def _trajectory(args) -> dict:
    """The opening keywords of the library calls; checks --out before any work."""
    check_output_folder(args.out)
    return {"dt": args.dt, "fmt": args.format, "frame_step": args.frame_step,
            "species_map": _species_map(args.species_map)}


def _finish(result, args) -> int:
    """Write the result's files into --out, print its table (or JSON) and its warnings."""
    files = result.write(args.out)
    paths = {"results": str(files[0]), "report": str(files[-1])}
    emit(result.rows(), as_json=args.json, title=result.title, extra=result.to_json() | paths,
         lines=result.lines() + [f"{k}: {v}" for k, v in paths.items()])
    warn(result.warnings())
    return 0


def run_sqw(args) -> int:
    from ..md import sqw_from_trajectory

    opened = _trajectory(args)
    path = _numbers(args.path, 3, "--path") if args.path else None
    r = sqw_from_trajectory(
        args.trajectory, **opened, window=args.window, origin_step=args.origin_step,
        q_max=args.q_max, q_min=args.q_min, shells=args.shells, max_per_shell=args.max_per_shell,
        path=path, supercell=_numbers(args.supercell, 3, "--supercell")[0],
        weighting=args.weighting, incoherent=not args.no_incoherent, currents=args.currents,
        time_window=args.time_window, temperature=args.temperature, backend=args.backend,
        self_method=args.self_method, executor="dask" if args.dask else "serial",
        memory_mb=args.memory, chunk_size=args.chunk_size, threads=args.threads)
    return _finish(r, args)


def run_msd(args) -> int:
    from ..md import msd_from_trajectory

    r = msd_from_trajectory(args.trajectory, **_trajectory(args), window=args.window,
                            origin_step=args.origin_step, blocks=args.blocks,
                            fit_range=args.fit_range, chunk_size=args.chunk_size)
    return _finish(r, args)


def run_vanhove(args) -> int:
    from ..md import vanhove_from_trajectory

    opened = _trajectory(args)
    lags = [int(x) for group in _numbers(args.lags, None, "--lags") for x in group]
    r = vanhove_from_trajectory(args.trajectory, **opened, lags=lags, r_max=args.r_max,
                                bins=args.bins, origin_step=args.origin_step,
                                max_origins=args.max_origins, distinct=not args.no_distinct,
                                chunk_size=args.chunk_size, threads=args.threads,
                                executor="dask" if args.dask else "serial")
    return _finish(r, args)


def run_dos(args) -> int:
    from ..md import dos_from_trajectory

    r = dos_from_trajectory(args.trajectory, **_trajectory(args), window=args.window,
                            origin_step=args.origin_step, time_window=args.time_window,
                            chunk_size=args.chunk_size)
    return _finish(r, args)
