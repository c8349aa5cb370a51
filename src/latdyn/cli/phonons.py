"""``latdyn phonons``: modes, dispersion S(Q,E) maps, powder maps and DOS from phonopy output.

Subcommands (all take PHONOPY_YAML [--fc FILE] [--born FILE] [--isotope El=Iso ...]), each one
call of :mod:`latdyn.phonons.compute` whose result writes the files and gives the table:

- ``modes``: energies at given q-points (table / JSON), ``compute_modes``.
- ``dispersion``: S(Q,E) along the seekpath path (or --path h,k,l;h,k,l;...), HDF5 + figures +
  report, ``compute_dispersion``.
- ``slice``: constant-energy single-crystal slice in a plane, ``compute_slice``.
- ``powder``: powder-averaged S(|Q|,E) with its sampling error, ``compute_powder``.
- ``dos``: total, partial and neutron-weighted DOS, ``compute_dos``.
- ``diffuse``: thermal diffuse scattering (energy-integrated one-phonon intensity) on a plane or
  volume, ``compute_diffuse``.

File layouts are documented in docs/phonons.md.
"""

from __future__ import annotations

from ..errors import InputError
from .options import add_common, add_e_range, add_out, add_q_max, add_temperature, range_ends
from .output import emit


def register(subparsers) -> None:
    p = subparsers.add_parser("phonons", help="phonon modes, S(Q,E), powder maps and DOS from "
                              "phonopy force constants")
    sub = p.add_subparsers(dest="phonons_command")

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
        sp.add_argument("--backend", choices=["numpy", "cupy", "auto"], default="numpy",
                        help="array module of the dynamical matrices and eigh: numpy "
                        "(default), cupy (CUDA GPU, needs latdyn[gpu]) or auto")
        add_common(sp)
        sp.add_argument("--dask", action="store_true",
                        help="run the chunks of q as Dask tasks (needs latdyn[dask])")

    def thermal(sp):
        add_temperature(sp, old=(), default=300.0, help="sample temperature (K; default 300)")
        sp.add_argument("--dw-mesh", type=int, default=8,
                        help="mesh for Debye-Waller factors (0: none; default 8)")
        sp.add_argument("--fwhm", type=float, default=None, help="Gaussian FWHM in meV")
        sp.add_argument("--kind", choices=["coherent", "incoherent", "incoherent_approximation"],
                        default="coherent")
        add_out(sp, inputs=("phonopy_yaml",))

    m = sub.add_parser("modes", help="mode energies at q-points")
    common(m)
    m.add_argument("--q", action="append", required=True, metavar="h,k,l",
                   help="reduced q-point (repeatable)")
    m.set_defaults(func=_modes)

    d = sub.add_parser("dispersion", help="S(Q,E) along a path")
    common(d)
    thermal(d)
    d.add_argument("--path", help="h,k,l;h,k,l;... (default: seekpath high-symmetry path)")
    d.add_argument("--npts", type=int, default=250, help="q-points along the path")
    _energy_window(d)
    d.add_argument("--ebins", type=int, default=200)
    d.add_argument("--q-fwhm", type=float, default=None,
                   help="Gaussian FWHM along the path in 1/angstrom")
    d.set_defaults(func=_dispersion)

    s = sub.add_parser("slice", help="constant-energy single-crystal slice")
    common(s)
    thermal(s)
    s.add_argument("--origin", default="0,0,0")
    s.add_argument("--u", default="1,0,0")
    s.add_argument("--v", default="0,1,0")
    s.add_argument("--range", nargs=4, type=float, default=[-3, 3, -3, 3],
                   metavar=("UMIN", "UMAX", "VMIN", "VMAX"))
    s.add_argument("--n", type=int, default=80, help="points along each axis")
    add_e_range(s, old=("--energy",), required=True, help="energy-transfer window of the slice (meV)")
    s.set_defaults(func=_slice)

    w = sub.add_parser("powder", help="powder-averaged S(|Q|,E)")
    common(w)
    thermal(w)
    add_q_max(w, old=("--qmax",), default=8.0, help="largest |Q| (1/angstrom; default 8)")
    w.add_argument("--qbins", type=int, default=80)
    _energy_window(w)
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

    t = sub.add_parser("diffuse", help="thermal diffuse scattering on a plane or volume")
    common(t)
    add_temperature(t, old=(), default=300.0, help="sample temperature (K; default 300)")
    t.add_argument("--dw-mesh", type=int, default=8,
                   help="mesh for Debye-Waller factors (0: none; default 8)")
    t.add_argument("--kind", choices=["coherent", "incoherent", "incoherent_approximation"],
                   default="coherent")
    add_out(t, inputs=("phonopy_yaml",))
    t.add_argument("--origin", default="0,0,0")
    t.add_argument("--u", default="1,0,0")
    t.add_argument("--v", default="0,1,0")
    t.add_argument("--w", default=None, help="third axis h,k,l for a volume (with --nw > 1)")
    t.add_argument("--range", nargs=4, type=float, default=[-3, 3, -3, 3],
                   metavar=("UMIN", "UMAX", "VMIN", "VMAX"))
    t.add_argument("--w-range", nargs=2, type=float, default=[0.0, 0.0], metavar=("WMIN", "WMAX"))
    t.add_argument("--n", type=int, default=80, help="points along u and v")
    t.add_argument("--nw", type=int, default=1, help="points along w (volume)")
    t.set_defaults(func=_diffuse)

    g = sub.add_parser("dos", help="density of states (total, partial, neutron-weighted)")
    common(g)
    g.add_argument("--mesh", type=int, default=16)
    g.add_argument("--fwhm", default="adaptive", help="FWHM in meV or 'adaptive' (default)")
    g.add_argument("--ebins", type=int, default=400)
    add_out(g, inputs=("phonopy_yaml",))
    g.set_defaults(func=_dos)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])


# --- helpers -----------------------------------------------------------------------------------

def _energy_window(p) -> None:
    add_e_range(p, ends=("--emin", "--emax"), help="energy-transfer range of the map (meV; "
                "default: 0 to above the highest mode)")


def _triple(text: str, field: str) -> tuple[float, float, float]:
    try:
        v = tuple(float(x) for x in text.replace(" ", "").split(","))
    except ValueError:
        raise InputError("expected three comma-separated numbers", field=field, value=text) from None
    if len(v) != 3:
        raise InputError("expected three comma-separated numbers", field=field, value=text)
    return v


def _load(args) -> dict:
    """The model and how to compute it: the keywords shared by every latdyn.phonons.compute_*."""
    isotopes = {}
    for item in args.isotope:
        if "=" not in item:
            raise InputError("isotope must be EL=ISO, e.g. H=D", field="--isotope", value=item)
        el, iso = item.split("=", 1)
        isotopes[el.strip()] = iso.strip()
    return {"model": args.phonopy_yaml, "force_constants": args.fc, "born": args.born,
            "isotopes": isotopes or None, "asr": args.asr, "nac": not args.no_nac,
            "crystal": args.crystal, "symmetrize_fc": args.symmetrize_fc, "units": args.units,
            "executor": "dask" if args.dask else None, "backend": args.backend}


def _thermal(args) -> dict:
    return {"temperature": args.temperature, "dw_mesh": args.dw_mesh, "fwhm": args.fwhm,
            "kind": args.kind}


def _emit_files(result, files, args, title: str) -> int:
    emit([{"file": str(f)} for f in files], as_json=args.json, title=title,
         extra=result.to_json(), lines=result.lines())
    return 0


# --- commands: each one call of latdyn.phonons.compute_* ---------------------------------------

def _modes(args) -> int:
    from ..phonons import compute_modes

    r = compute_modes(q=[_triple(t, "--q") for t in args.q], **_load(args))
    emit(r.rows(), as_json=args.json, title=f"Phonon energies (meV), {r.source}",
         extra=r.to_json(), lines=r.lines())
    return 0


def _dispersion(args) -> int:
    from ..phonons import compute_dispersion

    path = None
    if args.path:
        path = [_triple(t, "--path") for t in args.path.split(";") if t.strip()]
    emin, emax = range_ends(args, "e_range")
    r = compute_dispersion(path=path, npts=args.npts, emin=emin, emax=emax,
                           ebins=args.ebins, q_fwhm=args.q_fwhm, **_thermal(args), **_load(args))
    return _emit_files(r, r.write(args.out), args, "phonons dispersion")


def _slice(args) -> int:
    from ..phonons import compute_slice

    r = compute_slice(energy=args.e_range, origin=_triple(args.origin, "--origin"),
                      u=_triple(args.u, "--u"), v=_triple(args.v, "--v"), extent=args.range,
                      n=args.n, **_thermal(args), **_load(args))
    return _emit_files(r, r.write(args.out), args, "phonons slice")


def _powder(args) -> int:
    from ..phonons import compute_powder

    emin, emax = range_ends(args, "e_range")
    r = compute_powder(qmax=args.q_max, qbins=args.qbins, emin=emin, emax=emax,
                       ebins=args.ebins, npts=args.npts, n_sets=args.n_sets, seed=args.seed,
                       tolerance=args.tolerance, max_npts=args.max_npts, q_fwhm=args.q_fwhm,
                       instrument=args.instrument, ei=args.ei, frequency=args.frequency,
                       package=args.package, mode=args.mode, q_energy=args.q_energy,
                       **_thermal(args), **_load(args))
    return _emit_files(r, r.write(args.out), args, "phonons powder")


def _diffuse(args) -> int:
    from ..phonons import compute_diffuse

    r = compute_diffuse(origin=_triple(args.origin, "--origin"), u=_triple(args.u, "--u"),
                        v=_triple(args.v, "--v"), extent=args.range, n=args.n,
                        w=_triple(args.w, "--w") if args.w else None, w_extent=args.w_range,
                        nw=args.nw, temperature=args.temperature, dw_mesh=args.dw_mesh,
                        kind=args.kind, **_load(args))
    return _emit_files(r, r.write(args.out), args, "phonons diffuse")


def _dos(args) -> int:
    from ..phonons import compute_dos

    r = compute_dos(mesh=args.mesh, fwhm=args.fwhm, ebins=args.ebins, **_load(args))
    files = r.write(args.out)
    emit(r.rows(), as_json=args.json, title="phonons dos",
         extra=r.to_json() | {"report": str(files[-1])}, lines=r.lines() + [f"report: {files[-1]}"])
    return 0
