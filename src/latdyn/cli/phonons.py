"""``latdyn phonons``: modes, dispersion S(Q,E) maps, powder maps and DOS from phonopy output.

Subcommands (all take PHONOPY_YAML [--fc FILE] [--born FILE] [--isotope El=Iso ...]):

- ``modes``: energies at given q-points (table / JSON).
- ``dispersion``: S(Q,E) along the seekpath path (or --path h,k,l;h,k,l;...), HDF5 + figures + report.
- ``slice``: constant-energy single-crystal slice in a plane, HDF5 + figures + report.
- ``powder``: powder-averaged S(|Q|,E), HDF5 + figures + report.
- ``dos``: total, partial and neutron-weighted DOS, HDF5 + figures + report.

File layouts are documented in docs/phonons.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .output import add_json_flag, emit

ATTRIBUTION = "NaCl example data: phonondb, A. Togo (CC BY 4.0)"


def register(subparsers) -> None:
    p = subparsers.add_parser("phonons", help="phonon modes, S(Q,E), powder maps and DOS from "
                              "phonopy force constants")
    sub = p.add_subparsers(dest="phonons_command", metavar="SUBCOMMAND")

    def common(sp):
        sp.add_argument("phonopy_yaml", help="phonopy.yaml or phonopy_disp.yaml (or its folder)")
        sp.add_argument("--fc", help="FORCE_CONSTANTS or force_constants.hdf5")
        sp.add_argument("--born", help="BORN file (Born charges, dielectric tensor)")
        sp.add_argument("--isotope", action="append", default=[], metavar="EL=ISO",
                        help="replace an element by an isotope, e.g. H=D (repeatable)")
        sp.add_argument("--asr", choices=["realspace", "reciprocal", "none"], default="realspace",
                        help="acoustic sum rule (default: realspace)")
        sp.add_argument("--no-nac", action="store_true", help="ignore Born charges")
        sp.add_argument("--symmetrize-fc", action="store_true",
                        help="make the force constants permutation- and translation-symmetric "
                        "(phonopy) before use")
        sp.add_argument("--units", metavar="LENGTH,FC",
                        help="units of a yaml without physical_unit, e.g. angstrom,eV/angstrom^2")
        sp.add_argument("--crystal", metavar="CIF",
                        help="take each atom's species (isotopes) from this CIF's crystal")
        sp.add_argument("--dask", action="store_true",
                        help="run the chunks of q as Dask tasks (needs latdyn[dask])")
        sp.add_argument("--backend", choices=["numpy", "cupy", "auto"], default="numpy",
                        help="array module of the dynamical matrices and eigh: numpy "
                        "(default), cupy (CUDA GPU, needs latdyn[gpu]) or auto")
        add_json_flag(sp)

    def thermal(sp, out_default):
        sp.add_argument("--temperature", "-T", type=float, default=300.0, help="K (default 300)")
        sp.add_argument("--dw-mesh", type=int, default=8,
                        help="mesh for Debye-Waller factors (0: none; default 8)")
        sp.add_argument("--fwhm", type=float, default=None, help="Gaussian FWHM in meV")
        sp.add_argument("--kind", choices=["coherent", "incoherent", "incoherent_approximation"],
                        default="coherent")
        sp.add_argument("--out", default=out_default, help="output folder")

    m = sub.add_parser("modes", help="mode energies at q-points")
    common(m)
    m.add_argument("--q", action="append", required=True, metavar="h,k,l",
                   help="reduced q-point (repeatable)")
    m.set_defaults(func=_modes)

    d = sub.add_parser("dispersion", help="S(Q,E) along a path")
    common(d)
    thermal(d, "phonons_dispersion")
    d.add_argument("--path", help="h,k,l;h,k,l;... (default: seekpath high-symmetry path)")
    d.add_argument("--npts", type=int, default=250, help="q-points along the path")
    d.add_argument("--emin", type=float, default=None)
    d.add_argument("--emax", type=float, default=None)
    d.add_argument("--ebins", type=int, default=200)
    d.add_argument("--q-fwhm", type=float, default=None,
                   help="Gaussian FWHM along the path in 1/angstrom")
    d.set_defaults(func=_dispersion)

    s = sub.add_parser("slice", help="constant-energy single-crystal slice")
    common(s)
    thermal(s, "phonons_slice")
    s.add_argument("--origin", default="0,0,0")
    s.add_argument("--u", default="1,0,0")
    s.add_argument("--v", default="0,1,0")
    s.add_argument("--range", nargs=4, type=float, default=[-3, 3, -3, 3],
                   metavar=("UMIN", "UMAX", "VMIN", "VMAX"))
    s.add_argument("--n", type=int, default=80, help="points along each axis")
    s.add_argument("--energy", nargs=2, type=float, required=True, metavar=("ELO", "EHI"))
    s.set_defaults(func=_slice)

    w = sub.add_parser("powder", help="powder-averaged S(|Q|,E)")
    common(w)
    thermal(w, "phonons_powder")
    w.add_argument("--qmax", type=float, default=8.0, help="1/angstrom")
    w.add_argument("--qbins", type=int, default=80)
    w.add_argument("--emin", type=float, default=None)
    w.add_argument("--emax", type=float, default=None)
    w.add_argument("--ebins", type=int, default=200)
    w.add_argument("--npts", type=int, default=200, help="directions per |Q| sphere (all sets)")
    w.add_argument("--n-sets", type=int, default=4,
                   help="independent randomly turned direction sets, whose spread gives the "
                   "sampling error (default 4)")
    w.add_argument("--seed", type=int, default=0, help="seed of the sets' rotations")
    w.add_argument("--tolerance", type=float, default=None,
                   help="double the directions until the relative sampling error is below this")
    w.add_argument("--max-npts", type=int, default=6400)
    w.add_argument("--q-fwhm", type=float, default=None, help="Gaussian FWHM in |Q|, 1/angstrom")
    w.add_argument("--instrument", help="broaden with this direct-geometry instrument's energy and "
                   "|Q| resolution and mask what it cannot reach (library name or YAML; needs --ei)")
    w.add_argument("--ei", type=float, help="incident energy (meV) for --instrument")
    w.add_argument("--frequency", type=float, help="resolution chopper frequency (Hz) for --instrument")
    w.add_argument("--package", help="Fermi chopper package for --instrument")
    w.add_argument("--mode", help="disk chopper mode for --instrument")
    w.add_argument("--q-energy", type=float, default=None,
                   help="energy transfer (meV) at which the |Q| resolution is taken (default: the "
                   "middle of the energy range)")
    w.set_defaults(func=_powder)

    g = sub.add_parser("dos", help="density of states (total, partial, neutron-weighted)")
    common(g)
    g.add_argument("--mesh", type=int, default=16)
    g.add_argument("--fwhm", default="adaptive", help="FWHM in meV or 'adaptive' (default)")
    g.add_argument("--ebins", type=int, default=400)
    g.add_argument("--out", default="phonons_dos")
    g.set_defaults(func=_dos)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])


# --- helpers -----------------------------------------------------------------------------------

def _triple(text: str, field: str) -> np.ndarray:
    try:
        v = np.array([float(x) for x in text.replace(" ", "").split(",")])
    except ValueError:
        raise InputError("expected three comma-separated numbers", field=field, value=text) from None
    if v.shape != (3,):
        raise InputError("expected three comma-separated numbers", field=field, value=text)
    return v


def _load(args):
    from ..phonons import load_phonopy

    isotopes = {}
    for item in args.isotope:
        if "=" not in item:
            raise InputError("isotope must be EL=ISO, e.g. H=D", field="--isotope", value=item)
        el, iso = item.split("=", 1)
        isotopes[el.strip()] = iso.strip()
    crystal = None
    if args.crystal:
        from ..structure import Crystal

        crystal = Crystal.from_cif(args.crystal)
    return load_phonopy(args.phonopy_yaml, force_constants=args.fc, born=args.born,
                        isotopes=isotopes or None, asr=None if args.asr == "none" else args.asr,
                        nac=not args.no_nac, crystal=crystal, symmetrize_fc=args.symmetrize_fc,
                        units=args.units)


def _fc_extra(model) -> dict:
    """The force-constant checks for --json output."""
    return {"force_constants": model.fc_checks.as_dict() if model.fc_checks else None}


def _run_kw(args) -> dict:
    """executor and backend keywords of the --dask and --backend flags."""
    return {"executor": "dask" if args.dask else None, "backend": args.backend}


def _dw(model, args):
    from ..phonons.debye_waller import debye_waller

    if args.dw_mesh <= 0:
        return None
    return debye_waller(model, args.temperature, args.dw_mesh, **_run_kw(args))


def _energy_range(model, emin, emax):
    from ..phonons.modes import calculate_modes

    if emax is None:
        top = calculate_modes(model, np.random.default_rng(0).random((64, 3)),
                              eigenvectors=False, progress=False).energies.max()
        emax = 1.15 * float(top)
    if emin is None:
        emin = -0.25 * emax
    if not emax > emin:
        raise InputError("need emax > emin", field="--emax", value=(emin, emax))
    return emin, emax


def _write_h5(da, path: Path) -> None:
    from ..fileio import atomic_path

    with atomic_path(path) as tmp:
        da.save_hdf5(tmp)


def _report(title, args, model, das, figs, out: Path, rows=None):
    from ..phonons.backend import resolve_backend
    from ..report import Report

    rep = Report(title)
    rep.add_input(model.source)
    for extra in (args.fc, args.born, args.crystal):
        if extra:
            rep.add_input(extra)
    c = model.crystal
    credit = ATTRIBUTION if "nacl" in str(model.source).lower() else ""
    rep.add_text("Model", f"{c.n_atoms} atoms per cell ({', '.join(c.symbols)}), "
                 f"{model.n_cells} cells in the Fourier table, dipole-dipole Ewald sum: "
                 f"{'yes' if model.dipole is not None else 'no'}, acoustic sum rule: {model.asr}. "
                 f"Scattering lengths: Sears 1992. Computed with {resolve_backend(args.backend)} "
                 f"({'Dask tasks' if args.dask else 'threads'}). {credit}")
    if model.fc_checks is not None:
        rep.add_table("Force constants as loaded", model.fc_checks.rows())
    if rows:
        rep.add_table("Results", rows)
    for name, fig, caption in figs:
        rep.add_figure(name, fig, caption)
    out.mkdir(parents=True, exist_ok=True)
    for name, da in das.items():
        _write_h5(da, out / f"{name}.h5")
    return rep.write(out / "report.html")


# --- commands ------------------------------------------------------------------------------

def _modes(args) -> int:
    from ..phonons.modes import calculate_modes

    model = _load(args)
    q = np.array([_triple(t, "--q") for t in args.q])
    modes = calculate_modes(model, q, eigenvectors=False, progress=False, **_run_kw(args))
    rows = []
    for iq in range(len(q)):
        for nu, e in enumerate(modes.energies[iq]):
            rows.append({"h": q[iq, 0], "k": q[iq, 1], "l": q[iq, 2], "mode": nu, "E_meV": e})
    emit(rows, as_json=args.json, title=f"Phonon energies (meV), {model.source}",
         extra=_fc_extra(model))
    return 0


def _dispersion(args) -> int:
    from ..phonons.maps import path_map
    from ..phonons.paths import seekpath_points
    from ..report import plot_sqe

    model = _load(args)
    if args.path:
        points = [_triple(t, "--path") for t in args.path.split(";") if t.strip()]
        labels = [",".join(f"{x:g}" for x in p) for p in points]
    else:
        points, labels = seekpath_points(model.crystal)
    emin, emax = _energy_range(model, args.emin, args.emax)
    da = path_map(model, points, np.linspace(emin, emax, args.ebins + 1), args.temperature,
                  npts=args.npts, labels=labels, dw=_dw(model, args), broadening=args.fwhm,
                  q_broadening=args.q_fwhm, kind=args.kind, **_run_kw(args))
    fig, ax = plot_sqe(da, log=True, title=f"{args.kind} S(Q,E), {args.temperature:g} K")
    out = Path(args.out)
    report = _report("Phonon dispersion S(Q,E)", args, model, {"sqe_path": da},
                     [("sqe_path", fig, "S(Q,E) along the path (log colour scale)")], out)
    emit([{"file": str(out / "sqe_path.h5")}, {"file": str(report)}], as_json=args.json,
         title="phonons dispersion", extra={"n_q": da.sizes["q"], "n_E": da.sizes["E"],
                                            "max_intensity": float(da.values.max()),
                                            **_fc_extra(model)})
    return 0


def _slice(args) -> int:
    from ..phonons.maps import slice_map
    from ..report import plot_sqe

    model = _load(args)
    r = args.range
    da = slice_map(model, _triple(args.origin, "--origin"), _triple(args.u, "--u"),
                   _triple(args.v, "--v"), (r[0], r[1]), (r[2], r[3]), args.energy,
                   args.temperature, nu=args.n, nv=args.n, dw=_dw(model, args),
                   broadening=args.fwhm, kind=args.kind, **_run_kw(args))
    fig, ax = plot_sqe(da, title=f"{args.energy[0]:g}-{args.energy[1]:g} meV")
    out = Path(args.out)
    report = _report("Single-crystal slice", args, model, {"slice": da},
                     [("slice", fig, "Energy-integrated one-phonon intensity in the plane")], out)
    emit([{"file": str(out / "slice.h5")}, {"file": str(report)}], as_json=args.json,
         title="phonons slice", extra={"max_intensity": float(da.values.max()),
                                       **_fc_extra(model)})
    return 0


def _powder(args) -> int:
    from ..phonons.maps import powder_map
    from ..report import plot_sqe

    model = _load(args)
    if not args.qmax > 0:
        raise InputError("qmax must be positive", field="--qmax", value=args.qmax)
    emin, emax = _energy_range(model, args.emin, args.emax)
    broadening, q_broadening, inst, rows = args.fwhm, args.q_fwhm, None, []
    if args.instrument:
        inst, broadening, q_broadening, rows = _instrument_broadening(args, emin, emax)
    res = powder_map(model, np.linspace(0.0, args.qmax, args.qbins + 1),
                     np.linspace(emin, emax, args.ebins + 1), args.temperature, npts=args.npts,
                     tolerance=args.tolerance, max_npts=args.max_npts, n_sets=args.n_sets,
                     seed=args.seed, dw=_dw(model, args),
                     broadening=broadening, q_broadening=q_broadening, kind=args.kind,
                     **_run_kw(args))
    title = f"powder {args.kind}, {args.temperature:g} K"
    if inst is not None:
        q_c, e_c = res.data.coords["Q"].values, res.data.coords["E"].values
        q_c = 0.5 * (q_c[1:] + q_c[:-1]) if q_c.size == res.data.sizes["Q"] + 1 else q_c
        e_c = 0.5 * (e_c[1:] + e_c[:-1]) if e_c.size == res.data.sizes["E"] + 1 else e_c
        import scipp as sc

        reach = inst.coverage(ei=args.ei).contains(q_c[:, None], e_c[None, :])
        res.data.masks["outside_coverage"] = sc.array(dims=list(res.data.dims), values=~reach)
        title += f", {inst.name} Ei = {args.ei:g} meV"
    fig, ax = plot_sqe(res.data, log=True, title=title)
    if inst is not None:
        ax.plot(*inst.coverage(ei=args.ei).polygon(), color="w", lw=1.0)
        ax.set_xlim(0.0, args.qmax)
        ax.set_ylim(emin, emax)
    out = Path(args.out)
    rows = rows + [{"quantity": k, "value": "n/a" if v is None else v}
                   for k, v in res.summary().items()]
    report = _report("Powder S(|Q|,E)", args, model, {"sqe_powder": res.data},
                     [("sqe_powder", fig, "Powder-averaged S(|Q|,E) (log colour scale)")], out,
                     rows)
    emit([{"file": str(out / "sqe_powder.h5")}, {"file": str(report)}], as_json=args.json,
         title="phonons powder", extra={**res.summary(), **_fc_extra(model),
                                        **{r["quantity"]: r["value"] for r in rows[:-5]}})
    return 0


def _instrument_broadening(args, emin: float, emax: float):
    """The instrument, energy FWHM(E) callable, |Q| FWHM(|Q|) callable and table rows for
    ``phonons powder --instrument``."""
    from ..errors import InstrumentError
    from ..instruments import load_instrument

    if args.fwhm is not None or args.q_fwhm is not None:
        raise InputError("give either --instrument or --fwhm/--q-fwhm", field="--instrument",
                         value=args.instrument)
    if args.ei is None:
        raise InputError("--instrument needs --ei (meV)", field="--ei")
    inst = load_instrument(args.instrument)
    if inst.kind != "direct":
        raise InstrumentError("powder maps are broadened with a direct-geometry instrument",
                              file=inst.file, field="kind", value=inst.kind)
    if emax >= args.ei:
        raise InputError(f"the energy range must stay below Ei = {args.ei:g} meV (use --emax)",
                         field="--emax", value=emax)
    settings = {"frequency": args.frequency, "package": args.package, "mode": args.mode}
    q_energy = 0.5 * (emin + emax) if args.q_energy is None else args.q_energy
    elastic = inst.elastic_resolution(args.ei, **settings)
    q_fwhm = inst.q_broadening(args.ei, q_energy, **settings)
    rows = [{"quantity": f"{inst.name} elastic FWHM (meV)", "value": float(elastic)},
            {"quantity": f"|Q| FWHM at 3 1/A, E = {q_energy:g} meV (1/A)", "value": float(q_fwhm(3.0))}]
    return (inst, lambda energy: inst.resolution(energy, ei=args.ei, **settings), q_fwhm, rows)


def _dos(args) -> int:
    from ..phonons.mesh_dos import phonon_dos
    from ..phonons.modes import calculate_modes
    from ..report import new_figure

    model = _load(args)
    fwhm = args.fwhm
    if fwhm != "adaptive":
        try:
            fwhm = float(fwhm)
        except ValueError:
            raise InputError("--fwhm must be a number (meV) or 'adaptive'", field="--fwhm",
                             value=args.fwhm) from None
    top = calculate_modes(model, np.random.default_rng(0).random((64, 3)), eigenvectors=False,
                          progress=False).energies.max()
    edges = np.linspace(0.0, 1.2 * top, args.ebins + 1)
    res = phonon_dos(model, args.mesh, edges, broadening=fwhm, **_run_kw(args))
    total = res.per_formula_unit()
    per_species = res.by_species()
    elements = {k: per_species.partial(k, per_formula_unit=True) for k in per_species.labels}
    neutron = res.neutron_weighted(normalise=False)
    de = np.diff(edges)
    rows = [{"curve": "total", "integral": float(np.sum(total.values * de))}]
    rows += [{"curve": k, "integral": float(np.sum(v.values * de))} for k, v in elements.items()]
    fig, ax = new_figure()
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax.plot(centres, total.values, label="total", color="k")
    for k, v in elements.items():
        ax.plot(centres, v.values, label=k)
    ax.set_xlabel("Energy (meV)")
    ax.set_ylabel("g(E) (states/meV/cell)")
    ax.legend(frameon=False)
    fig2, ax2 = new_figure()
    ax2.plot(centres, neutron.values)
    ax2.set_xlabel("Energy (meV)")
    ax2.set_ylabel("neutron-weighted g(E) (mbarn/meV)")
    das = {"dos_total": total, "dos_neutron_weighted": neutron}
    das.update({f"dos_element_{k}": v for k, v in elements.items()})
    das.update({f"dos_site_{k}": res.partial(k, per_formula_unit=True) for k in res.labels})
    out = Path(args.out)
    report = _report("Phonon density of states", args, model, das,
                     [("dos", fig, "Total and per-element DOS"),
                      ("dos_neutron", fig2, "Neutron-weighted DOS (sigma/M)")], out, rows)
    emit(rows, as_json=args.json, title="phonons dos",
         extra={"report": str(report), "expected_total": 3 * model.crystal.n_atoms,
                **_fc_extra(model)})
    return 0


