r"""S(Q,E) maps: along paths in reciprocal space, single-crystal slices and powder averages.

All maps are built from :func:`latdyn.phonons.one_phonon.coherent_structure_factors`
(or the incoherent variants) and :func:`latdyn.convolution.broadening.bin_lines`, so each obeys
detailed balance and integrates over energy to the summed one-phonon weights.

Powder average (orientational average over the sphere |Q| = const):

.. math::

    S(|Q|, E) = \frac{1}{4\pi} \int d\hat\Omega\, S(|Q|\hat{\mathbf n}, E)
        \approx \frac{1}{N} \sum_{i=1}^{N} S(|Q| \hat{\mathbf n}_i, E)

with the N directions split into K independent sets (``n_sets``, default 4), each a Fibonacci
(golden-spiral) lattice of N/K points, z_i = 1 - (2i + 1)/n, phi_i = 2 pi i / golden ratio
(R. Swinbank and R. J. Purser, Q. J. R. Meteorol. Soc. 132, 1769 (2006)), turned by its own
random rotation (seeded, ``seed``).  Each set is an unbiased estimate of the average and keeps
the low discrepancy of the lattice; the map is the mean of the K sets and its sampling error
the standard error of that mean, sigma = std_k(S_k) / sqrt(K) (sample standard deviation), per
(|Q|, E) bin, stored as the variances of the DataArray.  The summary ``relative_error`` is
sum sigma / sum |S| over the grid.  Convergence control: with ``tolerance`` set, N doubles (from
``npts``) until ``relative_error`` < ``tolerance`` or N reaches ``max_npts``; the N used, the
error and the change between the last two rounds (relative L1) are returned.  A single
Fibonacci lattice has no error estimate, and on low-symmetry cells its deterministic error at a
few thousand points can reach ~10 % in places (docs/phonons.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipp as sc

from ..convolution.broadening import Broadening, bin_lines, broaden_axis, cell_edges, check_edges
from ..data import from_numpy
from ..errors import InputError
from .backend import DASK_CHUNK, array_module, check_executor, run_tasks
from .model import ForceConstants, check_qpoints
from .modes import DEFAULT_CHUNK, calculate_modes
from .one_phonon import (
    coherent_structure_factors,
    incoherent_structure_factors,
    one_phonon_weights,
)

__all__ = ["sqe_lines", "sqe_at", "path_map", "slice_map", "powder_map", "fibonacci_sphere",
           "direction_sets", "PowderResult", "KINDS"]

#: Kinds of one-phonon scattering a map can hold.
KINDS = ("coherent", "incoherent", "incoherent_approximation")


def fibonacci_sphere(npts: int) -> np.ndarray:
    """N unit vectors of the Fibonacci (golden-spiral) lattice, (N, 3)."""
    if int(npts) < 1:
        raise InputError("need at least one point on the sphere", field="npts", value=npts)
    i = np.arange(int(npts))
    z = 1.0 - (2.0 * i + 1.0) / npts
    golden = (1.0 + np.sqrt(5.0)) / 2.0
    phi = 2.0 * np.pi * i / golden
    rho = np.sqrt(1.0 - z * z)
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)


def _structure_factors(modes, dw, kind: str, per: str, energy_min: float = 0.01):
    if kind == "coherent":
        return coherent_structure_factors(modes, dw, per=per, energy_min=energy_min)
    if kind == "incoherent":
        return incoherent_structure_factors(modes, dw, per=per, energy_min=energy_min)
    if kind == "incoherent_approximation":
        return incoherent_structure_factors(modes, dw, approximation=True, per=per,
                                            energy_min=energy_min)
    raise InputError(f"kind must be one of {KINDS}", field="kind", value=kind)


def sqe_lines(model: ForceConstants, q_frac, temperature: float, *, dw=None,
              kind: str = "coherent", per: str = "atom", directions=None,
              n_threads: int | None = None, backend: str = "numpy"):
    """Line positions and weights at reduced Q: (positions (nq, 2*3N), weights (nq, 2*3N)).

    Creation lines at +E_nu with F (n+1), annihilation at -E_nu with F n.  ``backend``: the
    array module of the dynamical matrices and eigh (:mod:`latdyn.phonons.backend`).
    """
    modes = calculate_modes(model, q_frac, directions=directions, n_threads=n_threads,
                            progress=False, backend=backend)
    f = _structure_factors(modes, dw, kind, per)
    up, down = one_phonon_weights(modes.energies, temperature)
    pos = np.concatenate([modes.energies, -modes.energies], axis=1)
    wts = np.concatenate([f * up, f * down], axis=1)
    return pos, wts


def _sqe_chunk(model, q, dirs, start, stop, edges, temperature, dw, broadening, kind, per,
               n_threads, backend):
    """Binned S(Q, E) of q[start:stop] (one task of :func:`sqe_at`)."""
    pos, wts = sqe_lines(model, q[start:stop], temperature, dw=dw, kind=kind, per=per,
                         directions=None if dirs is None else dirs[start:stop],
                         n_threads=n_threads, backend=backend)
    return bin_lines(pos, wts, edges, broadening)


def _plan(executor: str | None, chunk: int | None, n_threads: int | None):
    """(executor name, q-points per chunk, threads per chunk) for the map functions."""
    kind = check_executor(executor)
    if chunk is None:
        chunk = DASK_CHUNK if kind == "dask" else DEFAULT_CHUNK
    if int(chunk) < 1:
        raise InputError("chunk must be a positive number of q-points", field="chunk", value=chunk)
    return kind, int(chunk), (1 if kind == "dask" else n_threads)


def sqe_at(model: ForceConstants, q_frac, energy_bins, temperature: float, *, dw=None,
           broadening: Broadening = None, kind: str = "coherent", per: str = "atom",
           chunk: int | None = None, directions=None, n_threads: int | None = None,
           progress: bool | None = None, executor: str | None = None,
           backend: str = "numpy") -> np.ndarray:
    """S(Q, E) at reduced Q-points binned in energy: (nq, nE) in barn/meV (per atom or cell).

    ``dw``: Debye-Waller tensors (N, 3, 3) A^2 or None; ``broadening``: None, FWHM (meV) or a
    callable FWHM(E).  Memory is bounded by ``chunk`` q-points at a time; ``executor``
    ('dask': one task per chunk) and ``backend`` ('numpy', 'cupy', 'auto') as in
    :mod:`latdyn.phonons.backend`.
    """
    q = check_qpoints(q_frac, model.source)
    edges = check_edges(energy_bins)
    array_module(backend)                 # a missing CuPy fails here, not inside a task
    ex, chunk, threads = _plan(executor, chunk, n_threads)
    out = np.empty((len(q), len(edges) - 1))
    dirs = None if directions is None else np.asarray(directions, dtype=float)
    bounds = [(s, min(s + chunk, len(q))) for s in range(0, len(q), chunk)]

    def collect(i, part):
        out[slice(*bounds[i])] = part

    run_tasks(_sqe_chunk, [(a, b, edges, temperature, dw, broadening, kind, per, threads,
                            backend) for a, b in bounds],
              ex, shared=(model, q, dirs), collect=collect, progress=progress, desc="S(Q,E)")
    return out


def _path_directions(q_frac: np.ndarray, recip: np.ndarray) -> np.ndarray:
    """Cartesian direction of approach for each Gamma point on a path (LO-TO splitting)."""
    dirs = np.zeros_like(q_frac)
    gamma = np.all(np.abs(q_frac - np.rint(q_frac)) < 1e-10, axis=1)
    for i in np.flatnonzero(gamma):
        nb = i + 1 if i + 1 < len(q_frac) else i - 1
        if nb >= 0 and nb < len(q_frac):
            d = q_frac[nb] - q_frac[i]
            if np.any(np.abs(d) > 1e-12):
                dirs[i] = d @ recip
    return dirs


def path_map(model: ForceConstants, points, energy_bins, temperature: float, *,
             npts: int = 200, labels=None, dw=None, broadening: Broadening = None,
             q_broadening: Broadening = None, kind: str = "coherent", per: str = "atom",
             executor: str | None = None, backend: str = "numpy") -> sc.DataArray:
    """S(Q, E) along straight segments through reduced points (K, 3) -> DataArray ('q', 'E').

    ``points``: consecutive (h, k, l) corners (a list of lists, a None entry breaks the path);
    ``npts`` points in total spread by length.  Coordinates: ``q`` (path length, 1/A),
    ``E`` (bin edges, meV), ``h``, ``k``, ``l`` along ``q``.  Values: mbarn/meV (scipp
    prints the equal unit barn/eV) per atom/cell.
    LO-TO splitting at Gamma uses the direction along the path.
    ``broadening``: energy FWHM (meV) or callable FWHM(E).  ``q_broadening``: Gaussian
    FWHM (1/A) along the path, fixed or a callable FWHM(|Q|) of the |Q| of each point; each
    point stands for the stretch of path half-way to its neighbours and the broadening
    conserves the area over the path length (:func:`latdyn.convolution.broadening.broaden_axis`).
    It convolves along the path only (the resolution component along the cut) and mixes the
    two sides of a corner, as a cut with a finite Q bin does.
    ``executor``, ``backend``: see :mod:`latdyn.phonons.backend`.
    """
    q, dist = _sample_path(model, points, npts)
    edges = check_edges(energy_bins)
    dirs = _path_directions(q, model.crystal.reciprocal)
    values = sqe_at(model, q, edges, temperature, dw=dw, broadening=broadening, kind=kind,
                    per=per, directions=dirs if model.dipole is not None else None,
                    executor=executor, backend=backend)
    x = _strict(dist)
    if q_broadening is not None:
        q_abs = np.linalg.norm(model.crystal.to_cartesian_q(q), axis=1)
        values = broaden_axis(values, cell_edges(x), q_broadening, positions=x, fwhm_at=q_abs)
    da = from_numpy(values * 1e3, {"q": x, "E": edges}, unit="mbarn/meV",
                    units={"q": "1/angstrom", "E": "meV"}, name=f"S(Q,E) {kind}")
    for i, name in enumerate("hkl"):
        da.coords[name] = sc.array(dims=["q"], values=q[:, i])
    if labels is not None:
        da.coords["label"] = sc.array(dims=["q"], values=_labels_along(q, points, labels))
    return da


def _strict(x: np.ndarray) -> np.ndarray:
    """Make path lengths strictly increasing (duplicate points at segment joins)."""
    x = np.asarray(x, dtype=float).copy()
    for i in range(1, len(x)):
        if x[i] <= x[i - 1]:
            x[i] = x[i - 1] + 1e-9
    return x


def _labels_along(q, points, labels):
    out = np.array([""] * len(q), dtype=object)
    for p, lab in zip(points, labels, strict=True):
        if p is None:
            continue
        hit = np.flatnonzero(np.all(np.abs(q - np.asarray(p, float)) < 1e-9, axis=1))
        out[hit] = lab
    return out.astype(str)


def _sample_path(model: ForceConstants, points, npts: int):
    segments = []
    prev = None
    for p in points:
        if p is None:
            prev = None
            continue
        p = np.asarray(p, dtype=float)
        if p.shape != (3,):
            raise InputError("path points must be (h, k, l) triples", field="path",
                             value=np.asarray(p).tolist())
        if prev is not None:
            segments.append((prev, p))
        prev = p
    if not segments:
        raise InputError("a path needs at least two points", field="path", value=len(points))
    recip = model.crystal.reciprocal
    lengths = np.array([np.linalg.norm((b - a) @ recip) for a, b in segments])
    total = lengths.sum()
    if total <= 0:
        raise InputError("path has zero length", field="path")
    qs, ds = [], []
    offset = 0.0
    for (a, b), length in zip(segments, lengths, strict=True):
        n = max(2, int(round(npts * length / total)))
        t = np.linspace(0.0, 1.0, n)
        qs.append(a + t[:, None] * (b - a))
        ds.append(offset + t * length)
        offset += length
    return np.vstack(qs), np.concatenate(ds)


def slice_map(model: ForceConstants, origin, u, v, u_range, v_range, energy_window,
              temperature: float, *, nu: int = 60, nv: int = 60, dw=None,
              broadening: Broadening = None, kind: str = "coherent",
              per: str = "atom", executor: str | None = None,
              backend: str = "numpy") -> sc.DataArray:
    """Constant-energy single-crystal slice: S integrated over ``energy_window`` (E_lo, E_hi)
    meV in the plane Q = origin + x u + y v (reduced vectors), x in u_range, y in v_range.

    DataArray ('x', 'y') in barn per atom/cell; coordinates in r.l.u. along u and v.
    ``executor``, ``backend``: see :mod:`latdyn.phonons.backend`.
    """
    o, uu, vv = (np.asarray(a, dtype=float) for a in (origin, u, v))
    if any(a.shape != (3,) for a in (o, uu, vv)):
        raise InputError("origin, u and v must be (h, k, l) triples", field="slice")
    e_lo, e_hi = (float(x) for x in energy_window)
    if not e_hi > e_lo:
        raise InputError("energy window must be (low, high) with high > low",
                         field="energy_window", value=(e_lo, e_hi))
    x = np.linspace(*u_range, int(nu))
    y = np.linspace(*v_range, int(nv))
    xx, yy = np.meshgrid(x, y, indexing="ij")
    q = o + xx.reshape(-1, 1) * uu + yy.reshape(-1, 1) * vv
    values = sqe_at(model, q, np.array([e_lo, e_hi]), temperature, dw=dw,
                    broadening=broadening, kind=kind, per=per, executor=executor,
                    backend=backend)[:, 0] * (e_hi - e_lo)
    return from_numpy(values.reshape(len(x), len(y)), {"x": x, "y": y}, unit="barn",
                      units={"x": "dimensionless", "y": "dimensionless"},
                      name=f"S(Q) {kind} {e_lo:g}-{e_hi:g} meV")


@dataclass
class PowderResult:
    """A powder map, its sampling error and how it converged.

    ``data`` ('Q', 'E') in mbarn/meV with the variances sigma^2 of the sampling error;
    ``npts`` directions per sphere (all sets); ``n_sets`` independent direction sets;
    ``relative_error`` sum sigma / sum |S|; ``error`` sigma as a numpy array (mbarn/meV);
    ``change`` relative L1 change of the last doubling (None without convergence control);
    ``converged``: relative_error < tolerance (None without a tolerance).
    """

    data: sc.DataArray
    npts: int
    change: float | None
    n_sets: int = 1
    relative_error: float | None = None
    converged: bool | None = None

    @property
    def error(self) -> np.ndarray | None:
        """Standard error of the powder average per (|Q|, E) bin, mbarn/meV."""
        v = self.data.variances
        return None if v is None else np.sqrt(v)

    def summary(self) -> dict:
        """Scalars for tables and JSON."""
        return {"npts": self.npts, "n_sets": self.n_sets,
                "relative_sampling_error": self.relative_error, "change": self.change,
                "converged": self.converged}


def direction_sets(npts: int, n_sets: int, seed: int = 0) -> np.ndarray:
    """``n_sets`` Fibonacci lattices of ceil(npts / n_sets) points, each turned by its own
    random rotation (seeded): (n_sets, n, 3) unit vectors."""
    from scipy.spatial.transform import Rotation

    n_sets = int(n_sets)
    if n_sets < 1:
        raise InputError("need at least one direction set", field="n_sets", value=n_sets)
    n = max(1, -(-int(npts) // n_sets))
    base = fibonacci_sphere(n)
    if n_sets == 1:
        return base[None]
    rot = Rotation.random(n_sets, random_state=np.random.default_rng(seed))
    return np.stack([r.apply(base) for r in rot])


def _powder_chunk(model, dirs, q_abs, start, stop, edges, temperature, dw, broadening, kind,
                  per, n_threads, backend):
    """Spherical averages of S(|Q| n, E) over each set of directions ``dirs`` (K, n, 3) for
    the |Q| shells q_abs[start:stop] (one task of the powder map): (stop - start, K, nE)."""
    shells = q_abs[start:stop]
    k, npts = dirs.shape[:2]
    q_cart = (shells[:, None, None] * dirs.reshape(1, -1, 3)).reshape(-1, 3)
    q_frac = model.crystal.to_reduced_q(q_cart)
    pos, wts = sqe_lines(model, q_frac, temperature, dw=dw, kind=kind, per=per,
                         n_threads=n_threads, backend=backend)
    binned = bin_lines(pos, wts, edges, broadening)
    return binned.reshape(len(shells), k, npts, -1).mean(axis=2)


def _powder_once(model, q_abs, edges, temperature, dirs, dw, broadening, kind, per, chunk,
                 n_threads, progress, executor, backend):
    """Per-set averages (n|Q|, K, nE) over the direction sets ``dirs`` (K, n, 3)."""
    out = np.zeros((len(q_abs), dirs.shape[0], len(edges) - 1))
    npts = dirs.shape[0] * dirs.shape[1]
    # several |Q| shells per chunk of q-points
    per_chunk = max(1, chunk // npts)
    bounds = [(s, min(s + per_chunk, len(q_abs))) for s in range(0, len(q_abs), per_chunk)]

    def collect(i, part):
        out[slice(*bounds[i])] = part

    run_tasks(_powder_chunk, [(a, b, edges, temperature, dw, broadening, kind, per, n_threads,
                               backend) for a, b in bounds],
              executor, shared=(model, dirs, q_abs), collect=collect, progress=progress,
              desc=f"powder |Q| ({npts} dirs)")
    return out


def powder_map(model: ForceConstants, q_bins, energy_bins, temperature: float, *,
               npts: int = 200, tolerance: float | None = None, max_npts: int = 12800,
               n_sets: int = 4, seed: int = 0,
               dw=None, broadening: Broadening = None, q_broadening: Broadening = None,
               kind: str = "coherent", per: str = "atom", chunk: int | None = None,
               n_threads: int | None = None, progress: bool | None = None,
               executor: str | None = None, backend: str = "numpy") -> PowderResult:
    """Powder-averaged S(|Q|, E) on |Q| bin centres of ``q_bins`` (edges, 1/A) and energy
    bins (edges, meV), in mbarn/meV (= barn/eV) per atom (or cell), with its sampling error:
    see the module docstring.

    ``npts``: directions per sphere (all ``n_sets`` sets together; at least 2 sets for an
    error); ``tolerance``: double the directions until the relative sampling error is below
    it, up to ``max_npts``; ``seed``: the random rotations of the sets.

    ``broadening``: energy FWHM (meV) or callable FWHM(E).  ``q_broadening``: Gaussian FWHM in
    |Q| (1/A), fixed or a callable FWHM(|Q|), applied to every map (the convergence test
    compares broadened maps); the area over |Q| is kept
    (:func:`latdyn.convolution.broadening.broaden_axis`).  ``chunk``: q-points (|Q| shells x
    directions) per batch; ``executor`` ('dask': one task per batch of shells) and
    ``backend`` ('numpy', 'cupy', 'auto'): see :mod:`latdyn.phonons.backend`.
    """
    qe = check_edges(q_bins, "q_bins")
    if qe[0] < 0:
        raise InputError("|Q| bins must be >= 0", field="q_bins", value=qe[0])
    edges = check_edges(energy_bins)
    array_module(backend)
    ex, chunk, threads = _plan(executor, chunk, n_threads)
    q_abs = 0.5 * (qe[1:] + qe[:-1])
    if tolerance is not None and not tolerance > 0:
        raise InputError("tolerance must be positive", field="tolerance", value=tolerance)
    if tolerance is not None and int(n_sets) < 2:
        raise InputError("a tolerance needs at least 2 direction sets for its error",
                         field="n_sets", value=n_sets)

    def once(n_dirs):
        dirs = direction_sets(n_dirs, n_sets, seed)
        sets = _powder_once(model, q_abs, edges, temperature, dirs, dw, broadening, kind,
                            per, chunk, threads, progress, ex, backend)
        sets = np.stack([broaden_axis(sets[:, k], qe, q_broadening)
                         for k in range(sets.shape[1])], axis=1)
        mean = sets.mean(axis=1)
        k = sets.shape[1]
        var = sets.var(axis=1, ddof=1) / k if k > 1 else None
        return mean, var, dirs.shape[0] * dirs.shape[1]

    data, var, n = once(int(npts))
    change = None

    def rel(v, d):
        norm = np.abs(d).sum()
        return None if v is None else (float(np.sqrt(v).sum() / norm) if norm > 0 else 0.0)

    if tolerance is not None:
        while rel(var, data) >= tolerance and n * 2 <= max_npts:
            new, var, n = once(n * 2)
            norm = np.abs(new).sum()
            change = float(np.abs(new - data).sum() / norm) if norm > 0 else 0.0
            data = new
    rel_err = rel(var, data)
    da = from_numpy(data * 1e3, {"Q": qe, "E": edges}, unit="mbarn/meV",
                    name=f"S(|Q|,E) {kind}")
    if var is not None:
        da.variances = var * 1e6
    converged = None if tolerance is None else bool(rel_err < tolerance)
    return PowderResult(da, n, change, n_sets=int(n_sets), relative_error=rel_err,
                        converged=converged)
