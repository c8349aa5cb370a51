"""One library call per ``latdyn phonons`` command, returning a result with ``write(folder)``
and ``report()`` (:mod:`latdyn.phonons.results`)::

    r = compute_powder("phonopy_nacl.yaml", qmax=8, fwhm=1.0); r.write("pow")

Every function takes the model as a loaded :class:`ForceConstants` or as a phonopy yaml (or
its folder) with the keywords of :func:`load_phonopy` (``force_constants``, ``born``,
``isotopes``, ``asr`` ('realspace', 'reciprocal', 'none' or None), ``nac``, ``crystal`` (a
:class:`latdyn.structure.Crystal` or a CIF file), ``symmetrize_fc``, ``units``), and
``executor``/``backend`` (:mod:`latdyn.phonons.backend`).  Map functions take ``temperature``
(K), ``dw_mesh`` (mesh of the Debye-Waller factors, 0 for none), ``fwhm`` (energy FWHM, meV)
and ``kind`` ('coherent', 'incoherent', 'incoherent_approximation').

Automatic energy range (when ``emin``/``emax`` are not given): E_max = 1.15 E_top and
E_min = -0.25 E_max, E_top the highest mode energy at :data:`N_TOP_SAMPLES` random reduced
q-points (seeded, so the range is reproducible); the DOS uses 0 to 1.2 E_top.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from .debye_waller import debye_waller
from .diffuse import diffuse_map
from .maps import path_map, powder_map, slice_map
from .mesh_dos import phonon_dos
from .model import ForceConstants
from .modes import calculate_modes
from .paths import seekpath_points
from .phonopy_io import load_phonopy
from .powder_resolution import PowderResolution, check_incident_energy
from .results import (
    DiffuseMap,
    DispersionMap,
    ModeTable,
    PhononDensity,
    PhononRun,
    PowderMap,
    SliceMap,
)

__all__ = ["load_run", "highest_mode_energy", "automatic_energy_range", "compute_modes",
           "compute_dispersion", "compute_slice", "compute_powder", "compute_dos", "compute_diffuse",
           "N_TOP_SAMPLES"]

#: random reduced q-points sampled for the highest mode energy E_top
N_TOP_SAMPLES = 64


def load_run(model, *, executor: str | None = None, backend: str = "numpy", **load) -> PhononRun:
    """A :class:`PhononRun`: ``model`` itself when it is a :class:`ForceConstants` (then no
    ``load`` keywords), else :func:`load_phonopy` of that path with ``load``."""
    if isinstance(model, ForceConstants):
        if load:
            raise InputError("loading options apply to a phonopy file, not to a loaded model",
                             field=sorted(load)[0])
        inputs = [model.source] if model.source and Path(str(model.source)).is_file() else []
        return PhononRun(model, inputs, executor, backend)
    if load.get("asr") == "none":
        load["asr"] = None
    crystal = load.get("crystal")
    if isinstance(crystal, str | Path):
        from ..structure import Crystal

        load["crystal"] = Crystal.from_cif(crystal)
    m = load_phonopy(model, **load)
    extras = [load.get("force_constants"), load.get("born"), crystal]
    inputs = [m.source] + [str(p) for p in extras if isinstance(p, str | Path)]
    return PhononRun(m, inputs, executor, backend)


def highest_mode_energy(model: ForceConstants, n: int = N_TOP_SAMPLES, seed: int = 0) -> float:
    """E_top (meV): the highest mode energy at ``n`` random reduced q-points (seeded)."""
    q = np.random.default_rng(seed).random((n, 3))
    return float(calculate_modes(model, q, eigenvectors=False, progress=False).energies.max())


def automatic_energy_range(model: ForceConstants, emin: float | None = None,
                           emax: float | None = None) -> tuple[float, float]:
    """(E_min, E_max) in meV: the given values, else E_max = 1.15 E_top, E_min = -0.25 E_max
    (module docstring); InputError unless E_max > E_min."""
    if emax is None:
        emax = 1.15 * highest_mode_energy(model)
    if emin is None:
        emin = -0.25 * emax
    if not emax > emin:
        raise InputError("need emax > emin", field="emax", value=(emin, emax))
    return float(emin), float(emax)


def _dw(run: PhononRun, temperature: float, dw_mesh: int):
    if dw_mesh <= 0:
        return None
    return debye_waller(run.model, temperature, dw_mesh, **run.options)


def compute_modes(model, q, *, executor: str | None = None, backend: str = "numpy",
                  **load) -> ModeTable:
    """Mode energies (meV) at reduced q-points ``q`` (n, 3) (``latdyn phonons modes``)."""
    run = load_run(model, executor=executor, backend=backend, **load)
    q = np.asarray(q, dtype=float)
    modes = calculate_modes(run.model, q, eigenvectors=False, progress=False, **run.options)
    return ModeTable(run, np.atleast_2d(q), modes.energies)


def compute_dispersion(model, *, path: Sequence | None = None, npts: int = 250,
                       temperature: float = 300.0, emin: float | None = None,
                       emax: float | None = None, ebins: int = 200, dw_mesh: int = 8,
                       fwhm=None, q_fwhm=None, kind: str = "coherent",
                       executor: str | None = None, backend: str = "numpy",
                       **load) -> DispersionMap:
    """S(Q,E) along ``path`` (corners (h, k, l), labelled by their indices; default the
    seekpath high-symmetry path) with ``npts`` points, ``ebins`` energy bins over the
    (automatic) range, |Q| FWHM ``q_fwhm`` (1/A) along the path (``latdyn phonons dispersion``)."""
    run = load_run(model, executor=executor, backend=backend, **load)
    if path is not None:
        points = [np.asarray(p, dtype=float) for p in path]
        labels = [",".join(f"{x:g}" for x in p) for p in points]
    else:
        points, labels = seekpath_points(run.model.crystal)
    emin, emax = automatic_energy_range(run.model, emin, emax)
    da = path_map(run.model, points, np.linspace(emin, emax, ebins + 1), temperature, npts=npts,
                  labels=labels, dw=_dw(run, temperature, dw_mesh), broadening=fwhm,
                  q_broadening=q_fwhm, kind=kind, **run.options)
    return DispersionMap(run, da, kind, temperature)


def compute_slice(model, energy: tuple[float, float], *, origin=(0, 0, 0), u=(1, 0, 0),
                  v=(0, 1, 0), extent=(-3.0, 3.0, -3.0, 3.0), n: int = 80,
                  temperature: float = 300.0, dw_mesh: int = 8, fwhm=None,
                  kind: str = "coherent", executor: str | None = None, backend: str = "numpy",
                  **load) -> SliceMap:
    """S integrated over ``energy`` (E_lo, E_hi) meV in the plane origin + x u + y v,
    ``extent`` (x_min, x_max, y_min, y_max) r.l.u., ``n`` points per axis
    (``latdyn phonons slice``)."""
    run = load_run(model, executor=executor, backend=backend, **load)
    x0, x1, y0, y1 = extent
    da = slice_map(run.model, origin, u, v, (x0, x1), (y0, y1), energy, temperature, nu=n, nv=n,
                   dw=_dw(run, temperature, dw_mesh), broadening=fwhm, kind=kind, **run.options)
    return SliceMap(run, da, (float(energy[0]), float(energy[1])))


def compute_diffuse(model, *, origin=(0, 0, 0), u=(1, 0, 0), v=(0, 1, 0),
                    extent=(-3.0, 3.0, -3.0, 3.0), n: int = 80, w=None,
                    w_extent=(0.0, 0.0), nw: int = 1, temperature: float = 300.0,
                    dw_mesh: int = 8, kind: str = "coherent", executor: str | None = None,
                    backend: str = "numpy", **load) -> DiffuseMap:
    """Thermal diffuse scattering, the energy-integrated one-phonon intensity
    sum_nu F_nu(Q) (2 n_nu + 1) (:mod:`latdyn.phonons.diffuse`), in barn per atom on the
    plane origin + x u + y v (``extent`` (x_min, x_max, y_min, y_max) r.l.u., ``n`` points per
    axis) or, with ``w`` and ``nw`` > 1, the volume adding z w, z in ``w_extent``
    (``latdyn phonons diffuse``).  Example:
    ``compute_diffuse("phonopy_nacl.yaml", origin=(0, 0, 0.5), temperature=300).write("tds")``.
    """
    run = load_run(model, executor=executor, backend=backend, **load)
    x0, x1, y0, y1 = extent
    dw = _dw(run, temperature, dw_mesh)
    da, res = diffuse_map(run.model, origin, u, v, (x0, x1), (y0, y1), temperature, w=w,
                          w_range=tuple(w_extent), nu=n, nv=n, nw=nw, dw=dw, kind=kind,
                          **run.options)
    return DiffuseMap(run, da, kind, float(temperature), res.n_imaginary, dw is not None)


def compute_powder(model, *, qmax: float = 8.0, qbins: int = 80, emin: float | None = None,
                   emax: float | None = None, ebins: int = 200, npts: int = 200,
                   n_sets: int = 4, seed: int = 0, tolerance: float | None = None,
                   max_npts: int = 6400, temperature: float = 300.0, dw_mesh: int = 8,
                   fwhm=None, q_fwhm=None, kind: str = "coherent", instrument=None,
                   ei: float | None = None, frequency: float | None = None,
                   package: str | None = None, mode: str | None = None,
                   q_energy: float | None = None, executor: str | None = None,
                   backend: str = "numpy", **load) -> PowderMap:
    """Powder-averaged S(|Q|,E) on ``qbins`` |Q| bins from 0 to ``qmax`` (1/A) with its
    sampling error (``npts`` directions in ``n_sets`` sets, doubled up to ``max_npts`` until
    the relative error is below ``tolerance``) (``latdyn phonons powder``).

    ``instrument`` (library name, YAML or instrument object; needs ``ei``, meV) broadens with
    that direct-geometry instrument's resolution and masks what it cannot reach
    (:mod:`latdyn.phonons.powder_resolution`); it excludes ``fwhm`` and ``q_fwhm``."""
    if not qmax > 0:
        raise InputError("qmax must be positive", field="qmax", value=qmax)
    if instrument is not None:
        check_incident_energy(ei)
    run = load_run(model, executor=executor, backend=backend, **load)
    emin, emax = automatic_energy_range(run.model, emin, emax)
    resolution = None
    if instrument is not None:
        if fwhm is not None or q_fwhm is not None:
            raise InputError("give either an instrument or fwhm/q_fwhm (--fwhm/--q-fwhm)",
                             field="instrument", value=str(instrument))
        resolution = PowderResolution.setup(instrument, ei, (emin, emax), frequency=frequency,
                                            package=package, mode=mode, q_energy=q_energy)
        fwhm, q_fwhm = resolution.energy_fwhm, resolution.q_fwhm
    res = powder_map(run.model, np.linspace(0.0, qmax, qbins + 1),
                     np.linspace(emin, emax, ebins + 1), temperature, npts=npts,
                     tolerance=tolerance, max_npts=max_npts, n_sets=n_sets, seed=seed,
                     dw=_dw(run, temperature, dw_mesh), broadening=fwhm, q_broadening=q_fwhm,
                     kind=kind, **run.options)
    if resolution is not None:
        resolution.mask(res.data)
    return PowderMap(run, res, kind, temperature, resolution)


def compute_dos(model, *, mesh: int = 16, fwhm="adaptive", ebins: int = 400,
                executor: str | None = None, backend: str = "numpy", **load) -> PhononDensity:
    """Total, partial and neutron-weighted DOS on a ``mesh``^3 grid, ``ebins`` bins from 0 to
    1.2 E_top, broadening ``fwhm`` (meV, or 'adaptive') (``latdyn phonons dos``)."""
    run = load_run(model, executor=executor, backend=backend, **load)
    if isinstance(fwhm, str) and fwhm != "adaptive":
        try:
            fwhm = float(fwhm)
        except ValueError:
            raise InputError("fwhm must be a number (meV) or 'adaptive'", field="fwhm",
                             value=fwhm) from None
    edges = np.linspace(0.0, 1.2 * highest_mode_energy(run.model), ebins + 1)
    return PhononDensity(run, phonon_dos(run.model, mesh, edges, broadening=fwhm, **run.options))
