r"""Phonon modes at many q: batched diagonalisation, degenerate sets, group velocities.

Eigenproblem (Dove 1993, eq. 8.21): D(q) e_nu = omega_nu^2 e_nu, eigenvectors normalised
sum_k |e_k|^2 = 1, energies E_nu = hbar omega_nu in meV (negative for imaginary modes, i.e.
sign(omega^2) sqrt(|omega^2|)).  Group velocities by the Hellmann-Feynman theorem,
v_nu = (1/hbar) dE_nu/dq = <e_nu| dD/dq |e_nu> / (2 hbar E_nu); inside every degenerate set
the basis is the one that diagonalises the velocity operator along a generic direction fixed to
the crystal, so that the velocities do not depend on the basis that eigh happened to return.

Execution: chunks of q, in threads or as Dask tasks, with numpy or CuPy
(:mod:`latdyn.phonons.backend`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..structure import Crystal
from ..units import HBAR_MEV_PS
from .backend import DASK_CHUNK, array_module, blas_single_thread, check_executor, run_tasks, to_host
from .model import BLOCK, ForceConstants, check_qpoints

__all__ = ["Modes", "calculate_modes", "degenerate_sets", "group_velocities", "DEFAULT_CHUNK",
           "SPLIT_DIRECTION"]

#: q-points per chunk: bounds memory (chunk x (3N)^2 complex numbers live at once).
DEFAULT_CHUNK = 2000


@dataclass
class Modes:
    """Frequencies and eigenvectors at a set of q-points.

    Attributes
    ----------
    crystal: the primitive cell (:class:`latdyn.structure.Crystal`).
    q_frac: (nq, 3) reduced wave vectors (units of the reciprocal lattice).
    energies: (nq, 3N) mode energies hbar omega, meV, ascending.
    eigenvectors: (nq, 3N, N, 3) complex, or None when not requested.
    weights: (nq,) q-point weights (sum 1), for Brillouin-zone averages.
    """

    crystal: Crystal
    q_frac: np.ndarray
    energies: np.ndarray
    eigenvectors: np.ndarray | None
    weights: np.ndarray

    @property
    def n_modes(self) -> int:
        return self.energies.shape[1]

    @property
    def q_cart(self) -> np.ndarray:
        """(nq, 3) wave vectors in 1/angstrom."""
        return self.crystal.lattice.q_vectors(self.q_frac)


def _n_threads(n_threads: int | None) -> int:
    if n_threads is not None:
        return max(1, int(n_threads))
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1, 8))


def _solve(model: ForceConstants, q: np.ndarray, dirs, vectors: bool, xp, energies, vecs) -> None:
    """Energies (meV) and eigenvectors of q into ``energies`` (nq, 3N) and ``vecs``
    (nq, 3N, N, 3) or None, host arrays; on the CPU in blocks of
    :data:`latdyn.phonons.model.BLOCK` q, built and diagonalised while they are in cache."""
    n3 = energies.shape[1]
    step = BLOCK if xp is np else max(len(q), 1)
    for s0 in range(0, len(q), step):
        sl = slice(s0, s0 + step)
        d = model.dynamical_matrices(q[sl], None if dirs is None else dirs[sl], xp=xp)
        if vectors:
            ev, v = xp.linalg.eigh(d)
            vecs[sl] = to_host(xp, v).transpose(0, 2, 1).reshape(len(ev), n3, n3 // 3, 3)
        else:
            ev = xp.linalg.eigvalsh(d)
        ev = to_host(xp, ev)
        energies[sl] = np.sign(ev) * np.sqrt(np.abs(ev))


def _modes_chunk(model: ForceConstants, q: np.ndarray, dirs, start: int, stop: int,
                 vectors: bool, backend: str, threads: int, pool):
    """Energies (stop-start, 3N) meV and eigenvectors (stop-start, 3N, N, 3) of q[start:stop].

    With numpy and several threads each thread builds and diagonalises its own block of q
    (numpy and LAPACK release the GIL); with CuPy the chunk is one batch on the GPU.
    """
    xp = array_module(backend)
    n3 = 3 * model.crystal.n_atoms
    nb = threads if (xp is np and pool is not None and stop - start >= 64 * threads) else 1
    bounds = np.linspace(0, stop - start, nb + 1).astype(int)
    energies = np.empty((stop - start, n3))
    vecs = np.empty((stop - start, n3, n3 // 3, 3), dtype=complex) if vectors else None
    args = [(slice(a, b), slice(start + a, start + b)) for a, b in zip(bounds[:-1], bounds[1:],
                                                                       strict=True)]

    def one(local, glob):
        _solve(model, q[glob], None if dirs is None else dirs[glob], vectors, xp,
               energies[local], None if vecs is None else vecs[local])

    if nb > 1:
        list(pool.map(lambda a: one(*a), args))
    else:
        one(*args[0])
    return energies, vecs


def calculate_modes(model: ForceConstants, q_frac, *, eigenvectors: bool = True,
                    directions=None, weights=None, chunk: int | None = None,
                    n_threads: int | None = None, progress: bool | None = None,
                    executor: str | None = None, backend: str = "numpy") -> Modes:
    """Frequencies (and eigenvectors) at reduced q-points, batched over chunks of q.

    Parameters
    ----------
    model: a :class:`ForceConstants`.
    q_frac: (nq, 3) reduced wave vectors.
    directions: (nq, 3) Cartesian directions for the LO-TO term at Gamma (see
        :meth:`ForceConstants.dynamical_matrices`).
    weights: (nq,) weights (normalised to sum 1); default equal.
    chunk: q-points per batch (memory ~ chunk * (3N)^2 * 16 bytes * 3); default
        :data:`DEFAULT_CHUNK`, or :data:`~latdyn.phonons.backend.DASK_CHUNK` per Dask task.
    n_threads: threads, each building and diagonalising its share of a chunk (default: the
        available cores, at most 8); BLAS runs single-threaded meanwhile (threadpoolctl).
        With Dask, each task runs in one thread and Dask's scheduler provides the parallelism.
    progress: show a progress bar (default: on a terminal when there are several chunks).
    executor: None/'threads' or 'dask' (one task per chunk, extra ``latdyn[dask]``).
    backend: 'numpy', 'cupy' (dynamical matrices and eigh on a CUDA GPU, extra
        ``latdyn[gpu]``) or 'auto' (CuPy when usable, numpy otherwise); see
        :mod:`latdyn.phonons.backend`.  Results are numpy arrays in every case.
    """
    q = check_qpoints(q_frac, model.source)
    kind = check_executor(executor)
    xp = array_module(backend)             # raises DependencyError early if CuPy is missing
    name = "numpy" if xp is np else "cupy"
    if chunk is None:
        chunk = DASK_CHUNK if kind == "dask" else DEFAULT_CHUNK
    if int(chunk) < 1:
        raise InputError("chunk must be a positive number of q-points", field="chunk", value=chunk)
    chunk = int(chunk)
    nq = len(q)
    n3 = 3 * model.crystal.n_atoms
    if weights is None:
        w = np.full(nq, 1.0 / max(nq, 1))
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (nq,) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise InputError("weights must be (nq,) non-negative with a positive sum",
                             field="weights", value=w.shape)
        w = w / w.sum()
    dirs = None if directions is None else np.asarray(directions, dtype=float)
    if dirs is not None and dirs.shape != q.shape:
        raise InputError("directions must have the shape of the q-points", field="directions",
                         value=dirs.shape)
    bounds = [(s, min(s + chunk, nq)) for s in range(0, nq, chunk)]
    energies = np.empty((nq, n3))
    vecs = np.empty((nq, n3, n3 // 3, 3), dtype=complex) if eigenvectors else None

    def collect(i, part):
        sl = slice(*bounds[i])
        energies[sl] = part[0]
        if eigenvectors:
            vecs[sl] = part[1]

    threads = _n_threads(n_threads) if (kind == "threads" and xp is np) else 1
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    try:
        with blas_single_thread():
            run_tasks(_modes_chunk, [(a, b, eigenvectors, name, threads, pool) for a, b in bounds],
                      kind, shared=(model, q, dirs), collect=collect, progress=progress,
                      desc="phonon modes")
    finally:
        if pool is not None:
            pool.shutdown()
    return Modes(model.crystal, q, energies, vecs, w)


def degenerate_sets(energies: np.ndarray, tol: float = 1e-3) -> np.ndarray:
    """Label degenerate modes: (nq, 3N) integer ids, equal within a q for energies closer than
    ``tol`` meV to their neighbour (energies ascending)."""
    e = np.asarray(energies)
    new = np.ones(e.shape, dtype=bool)
    new[:, 1:] = np.diff(e, axis=1) > tol
    return np.cumsum(new, axis=1) - 1


#: Direction (reduced, reciprocal-lattice coordinates) along which the velocity operator is
#: diagonalised inside degenerate sets: generic, so that it splits the set, and fixed to the
#: crystal, so that velocities turn with the crystal.
SPLIT_DIRECTION = (1.0, 2.0, 3.0)


def _velocity_rows(model: ForceConstants, modes: Modes, start: int, stop: int, tol: float,
                   step: float, direction: np.ndarray) -> np.ndarray:
    """dE/dq (meV angstrom) of the modes at q-points start..stop, (stop - start, 3N, 3)."""
    q = modes.q_frac[start:stop]
    n3 = modes.n_modes
    grad = model.dynamical_matrix_gradient(q, step=step)                  # (nq, 3, n3, n3)
    e = modes.eigenvectors[start:stop].reshape(len(q), n3, n3)            # (nq, mode, comp)
    # <e_m| dD/dq_a |e_n> for all pairs: e* G e^T, batched over q and the three axes
    proj = np.conj(e)[:, None] @ grad @ e.transpose(0, 2, 1)[:, None]      # (nq, 3, m, n)
    out = np.real(np.diagonal(proj, axis1=2, axis2=3)).transpose(0, 2, 1).copy()   # (nq, m, 3)
    sets = degenerate_sets(modes.energies[start:stop], tol)
    rows = np.repeat(np.arange(len(q)), n3)
    sizes = np.zeros((len(q), n3), dtype=int)
    np.add.at(sizes, (rows, sets.ravel()), 1)
    first = np.ones(sets.shape, dtype=bool)
    first[:, 1:] = sets[:, 1:] != sets[:, :-1]
    iq, m0 = np.nonzero(first)
    size = sizes[iq, sets[iq, m0]]
    # degenerate set of s modes: one basis for all three components, the eigenvectors U of
    # the s x s block of the velocity operator along ``direction``; v_a = diag(U^H V_a U).
    # All sets of one size are done in one batched eigh.
    for s_ in np.unique(size[size > 1]):
        pick = size == s_
        qi = iq[pick]
        idx = m0[pick][:, None] + np.arange(s_)                               # (ns, s)
        blocks = proj[qi[:, None, None], :, idx[:, :, None], idx[:, None, :]]  # (ns, s, s, 3)
        blocks = blocks.transpose(0, 3, 1, 2)                                 # (ns, 3, s, s)
        _, u = np.linalg.eigh(np.einsum("a,nabc->nbc", direction, blocks))
        rotated = np.conj(u.transpose(0, 2, 1))[:, None] @ blocks @ u[:, None]
        out[qi[:, None], idx, :] = np.real(np.diagonal(rotated, axis1=2, axis2=3)).transpose(0, 2, 1)
    return out


def group_velocities(model: ForceConstants, modes: Modes, tol: float = 1e-3,
                     step: float = 1e-4, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    r"""Group velocities v = grad_q omega, (nq, 3N, 3) in angstrom/ps (1 A/ps = 100 m/s).

    v_nu,a = Re <e_nu| dD/dq_a |e_nu> / (2 hbar E_nu) (Hellmann-Feynman) with dD/dq by
    central differences (``step`` 1/A, Cartesian axes).  Inside a degenerate set (energies
    within ``tol`` meV) the eigenvectors are arbitrary; the set is first rotated to the basis
    that diagonalises the velocity operator along the generic direction
    :data:`SPLIT_DIRECTION` of the crystal (degenerate perturbation theory, as phonopy does with
    a fixed direction), and all three components are taken in that basis.  So each mode's
    velocity is a consistent vector, the velocities turn with the crystal, and v . d are the
    slopes of the bands that leave the degeneracy along d.  Modes with E <= 0 get zero
    velocity.  Work runs over ``chunk`` q-points at a time.
    """
    if modes.eigenvectors is None:
        raise InputError("group velocities need eigenvectors", field="eigenvectors")
    if int(chunk) < 1:
        raise InputError("chunk must be a positive number of q-points", field="chunk", value=chunk)
    direction = modes.crystal.lattice.q_vectors(np.asarray(SPLIT_DIRECTION))
    direction = direction / np.linalg.norm(direction)
    nq = len(modes.q_frac)
    out = np.empty((nq, modes.n_modes, 3))
    for s in range(0, nq, int(chunk)):
        stop = min(s + int(chunk), nq)
        out[s:stop] = _velocity_rows(model, modes, s, stop, tol, step, direction)
    energies = modes.energies
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(energies[..., None] > 0, out / (2 * energies[..., None]), 0.0)
    return v / HBAR_MEV_PS
