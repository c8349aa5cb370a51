"""``latdyn md sqw|vanhove|msd|dos TRAJECTORY``: correlation functions from MD trajectories.

Reads extxyz, LAMMPS dump, VASP XDATCAR, ASE .traj and H5MD files in frame chunks.  Every
command prints a table (or JSON with --json) and writes, under --out, an HDF5 file of scipp
DataArrays, an HTML report and its figures.  File layouts: docs/md.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from ..errors import InputError
from .output import add_json_flag, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("md", help="correlation functions from MD trajectories",
                       description=__doc__.split("\n\n", 1)[1])
    group = p.add_subparsers(title="md commands", dest="md_command", metavar="MD_COMMAND")

    sqw = group.add_parser("sqw", help="F(Q,t) and S(Q,E), coherent and incoherent")
    _common(sqw)
    sqw.add_argument("--q-max", type=float, default=4.0, help="largest |Q| of the shells, 1/A")
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
    sqw.add_argument("--temperature", type=float, default=None,
                     help="apply the quantum (detailed balance) correction at this T, K")
    sqw.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                     help="array backend of the numpy kernel (cupy: latdyn[gpu])")
    sqw.add_argument("--self-method", choices=("auto", "fft", "direct"), default="auto",
                     help="how the self part is summed (docs/md.md); results agree to rounding")
    sqw.add_argument("--dask", action="store_true",
                     help="run the frame blocks as Dask tasks (latdyn[dask]); with a distributed "
                          "Client active they go to its workers")
    sqw.add_argument("--memory", type=float, default=256.0, metavar="MB",
                     help="memory budget of the blocks, MB (per task with --dask; default 256)")
    sqw.set_defaults(func=run_sqw)

    vh = group.add_parser("vanhove", help="self and distinct van Hove functions G(r,t)")
    _common(vh, window=False)
    vh.add_argument("--lags", default="0,10,50",
                    help="time lags in frames, comma separated (default 0,10,50)")
    vh.add_argument("--r-max", type=float, default=None,
                    help="largest r, A (default: half the smallest box width)")
    vh.add_argument("--bins", type=int, default=200, help="number of r bins")
    vh.add_argument("--max-origins", type=int, default=20, help="time origins used")
    vh.add_argument("--no-distinct", action="store_true", help="only the self part")
    vh.add_argument("--dask", action="store_true",
                    help="one Dask task per time origin (latdyn[dask]); with a distributed "
                         "Client active they go to its workers")
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


def _common(p: argparse.ArgumentParser, window: bool = True) -> None:
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
    p.add_argument("--out", default="md_out", help="output folder (default md_out)")
    add_json_flag(p)


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


def _open(args):
    from ..md import open_trajectory

    return open_trajectory(args.trajectory, dt=args.dt, fmt=args.format,
                           frame_step=args.frame_step, species_map=_species_map(args.species_map))


def _floats(text: str, n: int | None, field: str) -> np.ndarray:
    try:
        rows = [[float(x) for x in part.replace(",", " ").split()] for part in text.split(";")]
        arr = np.array(rows, dtype=float)
    except ValueError as exc:
        raise InputError("cannot parse numbers", field=field, value=text) from exc
    if arr.ndim != 2 or (n is not None and arr.shape[1] != n):
        raise InputError(f"expected groups of {n} numbers", field=field, value=text)
    return arr


def _command(args) -> str:
    return " ".join(shlex.quote(a) for a in ["latdyn", *sys.argv[1:]]) if sys.argv[1:] else \
        f"latdyn md {args.md_command} {args.trajectory}"


def _report(title: str, args, traj, n_frames: int | None):
    from ..report import Report

    rep = Report(title, command=_command(args))
    rep.add_input(args.trajectory)
    rep.add_text("Trajectory", f"{traj.n_atoms} atoms ({', '.join(traj.species)}), box volume "
                 f"{traj.volume:.6g} A^3, {n_frames if n_frames is not None else 'all'} frames used, "
                 f"{traj.dt:.6g} ps apart.")
    return rep


def run_sqw(args) -> int:
    from ..md import (
        compute_correlations,
        correlation_arrays,
        qpoints_along_path,
        qpoints_in_shells,
        save_results,
    )
    from ..md.results import resolution_note
    from ..report import new_figure, plot_sqe

    traj = _open(args)
    if args.path:
        n = _floats(args.supercell, 3, "--supercell")[0]
        prim = traj.cell / n[:, None]
        qset = qpoints_along_path(traj.cell, _floats(args.path, 3, "--path"), prim)
    else:
        qset = qpoints_in_shells(traj.cell, args.q_max, args.shells, args.q_min,
                                 args.max_per_shell)
    res = compute_correlations(traj, qset.q, args.window, args.origin_step,
                               incoherent=not args.no_incoherent, currents=args.currents,
                               chunk_size=args.chunk_size, threads=args.threads,
                               backend=args.backend, self_method=args.self_method,
                               executor="dask" if args.dask else "serial",
                               memory_mb=args.memory)
    dg = correlation_arrays(res, qset, args.weighting, window=args.time_window,
                            temperature=args.temperature)
    out = Path(args.out)
    h5 = save_results(out / "md_sqw.h5", dg)
    qdim = dg["S_Q"].dims[0]
    qv = dg["S_Q"].coords[qdim].values
    mid = len(res.time) // 2
    rows = []
    for i, q in enumerate(qv):
        row = {qdim if qdim == "Q" else "q": q, "S(Q)": dg["S_Q"].values[i],
               f"F_coh(t={res.time[mid]:.3g} ps)": dg["F_coh"].values[i, mid]}
        if "F_inc" in dg:
            row[f"F_inc(t={res.time[mid]:.3g} ps)"] = dg["F_inc"].values[i, mid]
        rows.append(row)
    rep = _report("MD dynamic structure factor", args, traj, res.settings["frames"])
    rep.add_text("Method", f"{len(qset.q)} q-points ({qset.kind}), window {args.window} frames, "
                 f"origins every {args.origin_step} frames, weighting {args.weighting}. "
                 + resolution_note(res, args.time_window))
    for name in ("S_coh", "S_inc"):
        if name in dg:
            fig, ax = new_figure()
            plot_sqe(dg[name].transpose([dg[name].dims[0], "E"]), ax=ax, log=True,
                     title=name.replace("_", " "))
            rep.add_figure(name, fig, f"{name} ({args.weighting} weighting)")
    fig, ax = new_figure()
    ax.plot(qv, dg["S_Q"].values, "o-")
    ax.set_xlabel("|Q| (1/A)" if qdim == "Q" else "path (1/A)")
    ax.set_ylabel("S(Q)")
    rep.add_figure("S_Q", fig, "Static structure factor F_coh(Q, 0)")
    rep.add_table("S(Q) and F(Q,t)", rows)
    html = rep.write(out / "report.html")
    emit(rows, as_json=args.json, title="MD S(Q) and F(Q,t)",
         extra={"results": str(h5), "report": str(html), "q_points": len(qset.q),
                "frames": res.settings["frames"], "self_method": res.settings["self_method"],
                "executor": res.settings["executor"]})
    return 0


def run_msd(args) -> int:
    import scipp as sc

    from ..data import from_numpy
    from ..md import compute_msd, fit_diffusion, save_results
    from ..report import new_figure

    traj = _open(args)
    res = compute_msd(traj, args.window, args.origin_step, args.chunk_size or 100)
    fits = fit_diffusion(res, tuple(args.fit_range) if args.fit_range else None, args.blocks)
    dg = sc.DataGroup({f"MSD_{s}": from_numpy(res.msd[k], {"t": res.time}, unit="angstrom**2",
                                              name=f"MSD_{s}", source=traj.source)
                       for k, s in enumerate(res.species)})
    out = Path(args.out)
    h5 = save_results(out / "md_msd.h5", dg)
    rows = [{"species": s, "D (A^2/ps)": d, "error": e, "D (1e-5 cm^2/s)": d * 10.0,
             "error (1e-5 cm^2/s)": e * 10.0} for s, (d, e) in fits.items()]
    rep = _report("MD mean-square displacement", args, traj, None)
    fig, ax = new_figure()
    lo, hi = args.fit_range or (0.2 * res.time[-1], 0.8 * res.time[-1])
    for k, s in enumerate(res.species):
        ax.plot(res.time, res.msd[k], label=s)
        d = fits[s][0]
        sel = (res.time >= lo) & (res.time <= hi)
        c = np.mean(res.msd[k, sel] - 6 * d * res.time[sel])
        ax.plot(res.time[sel], 6 * d * res.time[sel] + c, "k--", lw=0.8)
    ax.set_xlabel("Time (ps)")
    ax.set_ylabel("MSD (A^2)")
    ax.legend(frameon=False)
    rep.add_figure("msd", fig, "MSD per species with the fitted 6Dt + c (dashed)")
    rep.add_table("Diffusion coefficients (error from blocking)", rows)
    html = rep.write(out / "report.html")
    emit(rows, as_json=args.json, title="Diffusion coefficients",
         extra={"results": str(h5), "report": str(html), "fit_range_ps": [lo, hi]})
    return 0


def run_vanhove(args) -> int:
    import scipp as sc

    from ..data import from_numpy
    from ..md import compute_van_hove, save_results
    from ..md.vanhove import max_pair_distance
    from ..report import new_figure

    traj = _open(args)
    lags = _floats(args.lags, None, "--lags").ravel().astype(int)
    r_max = args.r_max if args.r_max is not None else max_pair_distance(traj.cell)
    res = compute_van_hove(traj, lags, r_max, args.bins, args.origin_step, args.max_origins,
                           distinct=not args.no_distinct, chunk_size=args.chunk_size or 100,
                           threads=args.threads, executor="dask" if args.dask else "serial")
    sp = res.species
    arrays = {}
    for a, s in enumerate(sp):
        arrays[f"G_s_{s}"] = from_numpy(res.g_self[a], {"t": res.time, "r": res.r_edges},
                                        unit="1/angstrom**3", name=f"G_s_{s}", source=traj.source)
        if res.g_distinct is not None:
            for b, s2 in enumerate(sp):
                arrays[f"G_d_{s}_{s2}"] = from_numpy(res.g_distinct[a, b],
                                                     {"t": res.time, "r": res.r_edges},
                                                     unit="1/angstrom**3", name=f"G_d_{s}_{s2}",
                                                     source=traj.source)
    out = Path(args.out)
    h5 = save_results(out / "md_vanhove.h5", sc.DataGroup(arrays))
    shell = 4.0 / 3.0 * np.pi * np.diff(res.r_edges**3)
    rows = []
    for a, s in enumerate(sp):
        for k, t in enumerate(res.time):
            p = res.g_self[a, k] * shell
            rows.append({"species": s, "t (ps)": t, "fraction within r_max": p.sum(),
                         "<r^2> (A^2)": float(np.sum(p * res.r**2) / max(p.sum(), 1e-300))})
    rep = _report("MD van Hove functions", args, traj, None)
    fig, ax = new_figure()
    for a, s in enumerate(sp):
        for k, t in enumerate(res.time):
            ax.plot(res.r, 4 * np.pi * res.r**2 * res.g_self[a, k], label=f"{s} t={t:.3g} ps")
    ax.set_xlabel("r (A)")
    ax.set_ylabel("4 pi r^2 G_s(r,t) (1/A)")
    ax.legend(frameon=False, fontsize=7)
    rep.add_figure("G_self", fig, "Self part: distribution of displacements")
    if res.g_distinct is not None:
        fig, ax = new_figure()
        total = np.einsum("a,abtr->tr", res.concentrations, res.g_distinct)
        for k, t in enumerate(res.time):
            ax.plot(res.r, total[k] * res.volume / sum(res.n_per_species), label=f"t={t:.3g} ps")
        ax.set_xlabel("r (A)")
        ax.set_ylabel("G_d(r,t) / rho")
        ax.legend(frameon=False)
        rep.add_figure("G_distinct", fig, "Distinct part over the number density")
    rep.add_table("Self part", rows)
    html = rep.write(out / "report.html")
    emit(rows, as_json=args.json, title="Van Hove self part",
         extra={"results": str(h5), "report": str(html), "origins": res.n_origins})
    return 0


def run_dos(args) -> int:
    import scipp as sc

    from ..data import from_numpy
    from ..md import compute_vacf, save_results, vibrational_density_of_states
    from ..report import new_figure

    traj = _open(args)
    res = compute_vacf(traj, args.window, args.origin_step, args.chunk_size or 100)
    dos = vibrational_density_of_states(res, args.time_window)
    arrays = {"g_total": dos.total}
    try:
        arrays["g_neutron"] = dos.neutron_weighted()
    except InputError:
        pass
    for a, s in enumerate(res.species):
        arrays[f"g_{s}"] = dos.partial(s)
        arrays[f"VACF_{s}"] = from_numpy(res.vacf[a], {"t": res.time}, unit="angstrom**2/ps**2",
                                         name=f"VACF_{s}")
    out = Path(args.out)
    h5 = save_results(out / "md_dos.h5", sc.DataGroup(arrays))
    rows = [{"species": s, "<E> (meV)": dos.moment(1.0, s),
             "<v^2> (A^2/ps^2)": res.vacf[a, 0]} for a, s in enumerate(res.species)]
    rep = _report("MD vibrational density of states", args, traj, None)
    fig, ax = new_figure()
    for name, arr in arrays.items():
        if name.startswith("g_"):
            ax.plot(dos.energy, arr.values, label=name[2:])
    ax.set_xlabel("Energy (meV)")
    ax.set_ylabel("g(E) (1/meV per atom)")
    ax.legend(frameon=False)
    rep.add_figure("dos", fig, "Vibrational DOS: partial, total and neutron-weighted")
    if res.from_positions:
        rep.add_text("Velocities", "From finite differences of positions (sinc^2 corrected).")
    rep.add_table("Per species", rows)
    html = rep.write(out / "report.html")
    emit(rows, as_json=args.json, title="Vibrational DOS",
         extra={"results": str(h5), "report": str(html),
                "velocities": "finite differences" if res.from_positions else "from file"})
    return 0
