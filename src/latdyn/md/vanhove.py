r"""Self and distinct van Hove correlation functions G_s(r, t) and G_d(r, t).

Van Hove, Phys. Rev. 95, 249 (1954); eq. 2 of the review.  For species alpha, beta with
N_alpha, N_beta atoms, histogrammed in spherical shells [r, r + dr) (angstrom):

.. math::

    G_{s,\alpha}(r,t) = \frac{1}{N_\alpha}\sum_{j\in\alpha}
        \left\langle \delta\left(r - |\mathbf r_j(s+t) - \mathbf r_j(s)|\right)\right\rangle
        \Big/ 4\pi r^2,\qquad
    G_{d,\alpha\beta}(r,t) = \frac{1}{N_\alpha}\sum_{i\in\alpha}\sum_{j\in\beta, j\ne i}
        \left\langle \delta\left(r - |\mathbf r_j(s+t) - \mathbf r_i(s)|\right)\right\rangle
        \Big/ 4\pi r^2

both in 1/angstrom^3 (shell volumes (4 pi / 3)(r_2^3 - r_1^3) replace 4 pi r^2 dr).  The
self part is normalised, integral 4 pi r^2 G_s dr = 1; the distinct part tends to the number
density of beta, N_beta / V, at large r, and G_d,ab(r, 0) = rho_b g_ab(r).  The totals are
G_s = sum_a c_a G_s,a and G_d = sum_ab c_a G_d,ab.  The self part uses unwrapped
displacements; the distinct part uses minimum-image distances (fractional differences reduced
to [-1/2, 1/2]), valid up to half the smallest box width (r_max is checked against it).

The distinct part is the expensive one.  With numba (``latdyn[fast]``) it uses a cell list
(:func:`latdyn.md._numba_kernel.pair_histogram`): O(N x density x r_max^3) pair distances per
origin and lag, shared among threads; without it, a numpy fallback computes all N^2 distances
in blocks of ``atom_block`` rows (same histogram).
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import DependencyError, InputError
from ..progress import progress_bar
from .threads import resolve_threads, thread_limits
from .trajectory import Trajectory

__all__ = ["VanHoveResult", "compute_van_hove", "max_pair_distance", "shell_volumes"]


def shell_volumes(edges) -> np.ndarray:
    """Volumes (4 pi / 3)(r_2^3 - r_1^3) of the spherical shells between bin edges (angstrom^3)."""
    e = np.asarray(edges, dtype=float)
    return 4.0 / 3.0 * np.pi * (e[1:] ** 3 - e[:-1] ** 3)


@dataclass
class VanHoveResult:
    """r_edges (n_r + 1,) angstrom; time (n_t,) ps; g_self (n_s, n_t, n_r) and g_distinct
    (n_s, n_s, n_t, n_r) in 1/angstrom^3 (None when not computed)."""

    r_edges: np.ndarray
    time: np.ndarray
    species: tuple[str, ...]
    n_per_species: tuple[int, ...]
    g_self: np.ndarray
    g_distinct: np.ndarray | None
    volume: float
    n_origins: int
    source: str = ""

    @property
    def r(self) -> np.ndarray:
        return 0.5 * (self.r_edges[1:] + self.r_edges[:-1])

    @property
    def concentrations(self) -> np.ndarray:
        n = np.asarray(self.n_per_species, dtype=float)
        return n / n.sum()

    @property
    def shell_volumes(self) -> np.ndarray:
        """(n_r,) volumes of the r bins' spherical shells, angstrom^3 (:func:`shell_volumes`)."""
        return shell_volumes(self.r_edges)

    @property
    def number_density(self) -> float:
        """rho = N / V, atoms per angstrom^3."""
        return float(sum(self.n_per_species)) / self.volume

    def self_displacements(self) -> tuple[np.ndarray, np.ndarray]:
        """Per species and lag, (n_s, n_t) each: the fraction of atoms displaced by less than
        r_max, P = sum_r 4 pi r^2 G_s dr (1 when no atom moved further), and the mean-square
        displacement of those atoms, <r^2> = sum_r r^2 P(r) / P (angstrom^2, r the bin
        centres): the MSD of the atoms within r_max, a lower bound of the full MSD."""
        p = self.g_self * self.shell_volumes
        fraction = p.sum(axis=-1)
        return fraction, np.sum(p * self.r**2, axis=-1) / np.maximum(fraction, 1e-300)

    def total_distinct(self) -> np.ndarray:
        """G_d(r, t) = sum_ab c_a G_d,ab(r, t), (n_t, n_r) in 1/angstrom^3; tends to the number
        density N / V at large r (module docstring).  InputError when it was not computed."""
        if self.g_distinct is None:
            raise InputError("the distinct part was not computed", file=self.source,
                             field="distinct")
        return np.einsum("a,abtr->tr", self.concentrations, self.g_distinct)


def max_pair_distance(cell) -> float:
    """Half the smallest perpendicular width of the box (angstrom): the minimum-image limit."""
    h = np.asarray(cell, dtype=float)
    vol = abs(np.linalg.det(h))
    widths = [vol / np.linalg.norm(np.cross(h[(i + 1) % 3], h[(i + 2) % 3])) for i in range(3)]
    return 0.5 * min(widths)


def compute_van_hove(traj: Trajectory, lags, r_max: float, n_bins: int = 200,
                     origin_step: int = 10, max_origins: int = 50, distinct: bool = True,
                     atom_block: int = 2048, chunk_size: int = 100, threads: int | None = None,
                     accelerator: str = "auto", progress: bool | None = None,
                     executor: str = "serial", scheduler=None) -> VanHoveResult:
    """G_s(r, t) and G_d(r, t) at the lags (frames) given, from up to ``max_origins`` time
    origins ``origin_step`` frames apart (module docstring).

    accelerator: 'auto' (cell-list kernel when numba is importable), 'numba' or 'numpy' (all
    N^2 distances per origin and lag, ``atom_block`` x N at a time).  threads: workers of the
    compiled kernel (None: LATDYN_THREADS or 2; :mod:`latdyn.md.threads`).
    executor: 'serial', or 'dask' (one task per time origin, which reads the frames from the
    origin to its largest lag and returns its histograms; ``pip install 'latdyn[dask]'``);
    scheduler: as for :func:`latdyn.md.intermediate.compute_correlations`.
    """
    if accelerator not in ("auto", "numba", "numpy"):
        raise InputError("unknown accelerator; use 'auto', 'numba' or 'numpy'",
                         file=traj.source, field="accelerator", value=accelerator)
    if executor not in ("serial", "dask"):
        raise InputError("unknown executor; use 'serial' or 'dask'", file=traj.source,
                         field="executor", value=executor)
    if accelerator == "numba":
        from . import _numba_kernel

        if _numba_kernel.load() is None:
            raise DependencyError("the compiled kernel needs numba: pip install 'latdyn[fast]'",
                                  file=traj.source, field="accelerator", value=accelerator)
    lags = np.unique(np.asarray(lags, dtype=int))
    if lags.size == 0 or lags[0] < 0:
        raise InputError("lags must be non-negative frame counts", file=traj.source,
                         field="lags", value=lags.tolist())
    if not (np.isfinite(r_max) and r_max > 0) or n_bins < 1:
        raise InputError("need r_max > 0 and at least one bin", file=traj.source, field="r_max",
                         value=(r_max, n_bins))
    limit = max_pair_distance(traj.cell)
    if distinct and r_max > limit + 1e-9:
        raise InputError(f"r_max exceeds half the box width ({limit:.4g} angstrom), where "
                         "minimum-image distances stop being unique", file=traj.source,
                         field="r_max", value=r_max)
    threads = resolve_threads(threads)
    idx = list(traj.indices().values())
    job = _Histograms(np.linspace(0.0, r_max, n_bins + 1), np.concatenate(idx),
                      np.cumsum([0] + [ix.size for ix in idx]),
                      np.repeat(np.arange(len(idx)), [ix.size for ix in idx]), len(idx),
                      np.asarray(traj.cell, dtype=float), lags, float(r_max), int(n_bins),
                      bool(distinct), int(atom_block), accelerator, threads)
    origins = list(range(0, max_origins * origin_step, origin_step))
    with thread_limits(threads):
        if executor == "dask":
            h_self, h_dist, n_o = _run_dask(traj, job, origins, chunk_size, scheduler, progress)
        else:
            h_self, h_dist, n_o = _run_serial(traj, job, origins, chunk_size, progress)
    keep = n_o > 0
    if not keep.any():
        raise InputError("the trajectory is shorter than the smallest lag", file=traj.source,
                         field="lags", value=lags.tolist())
    edges = job.edges
    shell = shell_volumes(edges)
    counts = np.diff(job.bounds).astype(float)
    n_per_lag = n_o[keep].astype(float)
    g_self = h_self[:, keep] / (counts[:, None, None] * n_per_lag[None, :, None] * shell)
    g_dist = None
    if distinct:
        g_dist = h_dist[:, :, keep] / (counts[:, None, None, None] * n_per_lag[None, None, :, None]
                                       * shell)
    n_used = len({s for s in origins if s in job.used})
    return VanHoveResult(edges, lags[keep] * traj.dt, traj.species,
                         tuple(int(c) for c in counts), g_self, g_dist, traj.volume, n_used,
                         traj.source)


class _Histograms:
    """Histograms of the self and distinct distances of (origin, lag) frame pairs."""

    def __init__(self, edges, order, bounds, species_of, n_s, cell, lags, r_max, n_bins,
                 distinct, atom_block, accelerator, threads):
        self.edges, self.order, self.bounds = edges, order, bounds
        self.species_of, self.n_s, self.cell = species_of, n_s, cell
        self.inv = np.linalg.inv(cell)
        self.lags, self.r_max, self.n_bins = lags, r_max, n_bins
        self.distinct, self.atom_block = distinct, atom_block
        self.accelerator, self.threads = accelerator, threads
        self.used: set[int] = set()

    def empty(self):
        h_self = np.zeros((self.n_s, self.lags.size, self.n_bins))
        h_dist = np.zeros((self.n_s, self.n_s, self.lags.size, self.n_bins)) \
            if self.distinct else None
        return h_self, h_dist, np.zeros(self.lags.size, dtype=np.int64)

    def add(self, r0, r1, lag: int, h_self, h_dist, n_o) -> None:
        """Add the pair of frames r0 (origin) and r1 (lag frames later), atoms sorted by
        species."""
        li = int(np.searchsorted(self.lags, lag))
        n_o[li] += 1
        d_self = np.linalg.norm(r1 - r0, axis=1)
        for a in range(self.n_s):
            h_self[a, li] += np.histogram(d_self[self.bounds[a]:self.bounds[a + 1]],
                                          self.edges)[0]
        if not self.distinct:
            return
        kernels = None
        if self.accelerator != "numpy":
            from . import _numba_kernel

            kernels = _numba_kernel.load()
        if kernels is not None:
            _distinct_histogram_cells(kernels, r0, r1, self.cell, self.inv, self.r_max,
                                      self.n_bins, self.species_of, self.n_s, self.threads,
                                      h_dist[:, :, li])
        else:
            _distinct_histogram(r0, r1, self.cell, self.inv, self.edges, self.species_of,
                                self.n_s, self.atom_block, h_dist[:, :, li])


def _run_serial(traj, job: _Histograms, origins, chunk_size, progress):
    """Read the frames of every origin and lag once (unwrapped), then histogram the pairs."""
    wanted = {s + int(lag) for s in origins for lag in job.lags}
    frames: dict[int, np.ndarray] = {}
    with progress_bar(traj.n_frames, "van Hove (read)", progress) as bar:
        for chunk in traj.chunks(chunk_size, 0, max(wanted) + 1, velocities=False):
            for k in range(chunk.n_frames):
                if chunk.start + k in wanted or chunk.start + k in origins:
                    frames[chunk.start + k] = chunk.positions[k, job.order]
            bar.update(chunk.n_frames)
    pairs = [(s, int(lag)) for s in origins for lag in job.lags
             if s in frames and s + lag in frames]
    job.used = {s for s, _ in pairs}
    h_self, h_dist, n_o = job.empty()
    with progress_bar(len(pairs), "van Hove (pairs)", progress) as bar:
        for s, lag in pairs:
            job.add(frames[s], frames[s + lag], lag, h_self, h_dist, n_o)
            bar.update()
    return h_self, h_dist, n_o


def _origin_task(traj, job: _Histograms, s: int, lags, chunk_size: int):
    """Histograms of origin s with each of ``lags``: reads frames s .. s + max(lags),
    unwrapped from s, keeping those needed (one thread)."""
    wanted = {s + int(lag) for lag in lags}
    frames = {}
    for chunk in traj.chunks(chunk_size, s, max(wanted) + 1, velocities=False):
        for k in range(chunk.n_frames):
            if chunk.start + k in wanted:
                frames[chunk.start + k] = chunk.positions[k, job.order]
    job = copy.copy(job)
    job.threads = 1
    h_self, h_dist, n_o = job.empty()
    with thread_limits(1):
        for lag in lags:
            job.add(frames[s], frames[s + int(lag)], int(lag), h_self, h_dist, n_o)
    return h_self, h_dist, n_o


def _run_dask(traj, job: _Histograms, origins, chunk_size, scheduler, progress):
    """One Dask task per time origin; the histograms are added in a tree."""
    try:
        import dask
    except ImportError as exc:
        raise DependencyError("executor='dask' needs dask: pip install 'latdyn[dask]'",
                              file=traj.source, field="executor", value="dask") from exc
    from .intermediate import _dask_scheduler

    n = traj.frame_count()
    task = dask.delayed(_origin_task, pure=True)
    parts = []
    for s in origins:
        lags = [int(lag) for lag in job.lags if s + lag < n]
        if lags:
            job.used.add(s)
            parts.append(task(traj, job, s, lags, chunk_size))
    if not parts:
        return job.empty()
    add = dask.delayed(_add_histograms, pure=True)
    while len(parts) > 1:
        parts = [add(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    (total,) = dask.compute(parts[0], **_dask_scheduler(scheduler, job.threads))
    return total


def _add_histograms(a, b):
    return (a[0] + b[0], None if a[1] is None else a[1] + b[1], a[2] + b[2])


def cell_grid(cell, r_max: float, n_atoms: int) -> np.ndarray:
    """Cells along each box vector: slabs at least r_max thick, at most ~8 N cells in all."""
    h = np.asarray(cell, dtype=float)
    vol = abs(np.linalg.det(h))
    widths = np.array([vol / np.linalg.norm(np.cross(h[(i + 1) % 3], h[(i + 2) % 3]))
                       for i in range(3)])
    n = np.maximum(1, np.floor(widths / r_max)).astype(np.int64)
    limit = 8 * max(n_atoms, 1)
    if np.prod(n) > limit:
        n = np.maximum(1, np.floor(n * (limit / np.prod(n)) ** (1 / 3))).astype(np.int64)
    return n


def _distinct_histogram_cells(kernels, r0, r1, cell, inv, r_max, n_bins, species_of, n_s,
                              threads, out) -> None:
    """The compiled cell-list version of :func:`_distinct_histogram` (adds to out)."""
    s0 = np.ascontiguousarray(r0 @ inv)
    s1 = np.ascontiguousarray(r1 @ inv)
    n = s0.shape[0]
    n_cells = cell_grid(cell, r_max, n)
    cell0, _, _ = kernels.cell_list(s0, n_cells)
    _, order1, start1 = kernels.cell_list(s1, n_cells)
    species = np.ascontiguousarray(species_of, dtype=np.int64)
    h = np.ascontiguousarray(cell, dtype=float)
    n_tasks = max(1, min(int(threads), n // 256 + 1))

    def work(t):
        part = np.zeros((n_s, n_s, n_bins), dtype=np.int64)
        kernels.pair_histogram(s0, s1, h, t * n // n_tasks, (t + 1) * n // n_tasks, n_cells,
                               cell0, order1, start1, species, n_s, float(r_max), n_bins, part)
        return part

    if n_tasks == 1:
        out += work(0)
    else:
        with ThreadPoolExecutor(n_tasks) as pool:
            for part in pool.map(work, range(n_tasks)):
                out += part


def _distinct_histogram(r0, r1, cell, inv, edges, species_of, n_s, block, out) -> None:
    """Add the histogram of minimum-image |r1_j - r0_i| over i != j to out (n_s, n_s, n_r)."""
    n = r0.shape[0]
    s1 = r1 @ inv
    n_bins = edges.size - 1
    r_max = edges[-1]
    width = r_max / n_bins
    for a in range(0, n, block):
        b = min(a + block, n)
        ds = s1[None, :, :] - (r0[a:b] @ inv)[:, None, :]
        ds -= np.round(ds)
        d = np.linalg.norm(ds @ cell, axis=2)                       # (block, n)
        rows = np.arange(a, b)
        d[rows - a, rows] = np.inf                                    # exclude i == j
        i_idx, j_idx = np.nonzero(d < r_max)
        bins = np.minimum((d[i_idx, j_idx] / width).astype(int), n_bins - 1)
        pair = species_of[rows[i_idx]] * n_s + species_of[j_idx]
        out += np.bincount(pair * n_bins + bins, minlength=n_s * n_s * n_bins
                           ).reshape(n_s, n_s, n_bins)
