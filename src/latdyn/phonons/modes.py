r"""Phonon modes at many q: batched diagonalisation, degenerate sets, group velocities.

Eigenproblem (Dove 1993, eq. 8.21): D(q) e_nu = omega_nu^2 e_nu, eigenvectors normalised
sum_k |e_k|^2 = 1, energies E_nu = hbar omega_nu in meV (negative for imaginary modes, i.e.
sign(omega^2) sqrt(|omega^2|)).  Group velocities by the Hellmann-Feynman theorem,
v_nu = (1/hbar) dE_nu/dq = <e_nu| dD/dq |e_nu> / (2 hbar E_nu), diagonalised inside every
degenerate set so that they do not depend on the basis chosen there.
"""

from __future__ import annotations

import contextlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..units import HBAR_MEV_PS
from .atoms import PhononCrystal
from .model import ForceConstants, check_qpoints

__all__ = ["Modes", "calculate_modes", "degenerate_sets", "DEFAULT_CHUNK"]

#: q-points per chunk: bounds memory (chunk x (3N)^2 complex numbers live at once).
DEFAULT_CHUNK = 2000


@dataclass
class Modes:
    """Frequencies and eigenvectors at a set of q-points.

    Attributes
    ----------
    crystal: the primitive cell.
    q_frac: (nq, 3) reduced wave vectors (units of the reciprocal lattice).
    energies: (nq, 3N) mode energies hbar omega, meV, ascending.
    eigenvectors: (nq, 3N, N, 3) complex, or None when not requested.
    weights: (nq,) q-point weights (sum 1), for Brillouin-zone averages.
    """

    crystal: PhononCrystal
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
        return self.q_frac @ self.crystal.reciprocal


def _n_threads(n_threads: int | None) -> int:
    if n_threads is not None:
        return max(1, int(n_threads))
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1, 8))


def _blas_single_thread():
    """Context that limits BLAS to one thread (threadpoolctl, when installed): the work is
    split over our own threads instead, which avoids oversubscription on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _solve(model: ForceConstants, q: np.ndarray, dirs, vectors: bool):
    """Dynamical matrices and their eigen-decomposition for one block of q."""
    d = model.dynamical_matrices(q, dirs)
    if vectors:
        return np.linalg.eigh(d)
    return np.linalg.eigvalsh(d), None


def calculate_modes(model: ForceConstants, q_frac, *, eigenvectors: bool = True,
                    directions=None, weights=None, chunk: int = DEFAULT_CHUNK,
                    n_threads: int | None = None, progress: bool | None = None) -> Modes:
    """Frequencies (and eigenvectors) at reduced q-points, batched over chunks of q.

    Parameters
    ----------
    model: a :class:`ForceConstants`.
    q_frac: (nq, 3) reduced wave vectors.
    directions: (nq, 3) Cartesian directions for the LO-TO term at Gamma (see
        :meth:`ForceConstants.dynamical_matrices`).
    weights: (nq,) weights (normalised to sum 1); default equal.
    chunk: q-points per batch (memory ~ chunk * (3N)^2 * 16 bytes * 3).
    n_threads: threads, each building and diagonalising its share of a chunk (default: the
        available cores, at most 8); BLAS runs single-threaded meanwhile (threadpoolctl).
    progress: show a tqdm bar (default: on a terminal when there are several chunks).
    """
    q = check_qpoints(q_frac, model.source)
    if chunk < 1:
        raise InputError("chunk must be a positive number of q-points", field="chunk", value=chunk)
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
    energies = np.empty((nq, n3))
    vecs = np.empty((nq, n3, n3 // 3, 3), dtype=complex) if eigenvectors else None
    starts = range(0, nq, chunk)
    show = (sys.stderr.isatty() and len(starts) > 1) if progress is None else progress
    threads = _n_threads(n_threads)
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    try:
        it = starts
        if show:
            from tqdm import tqdm

            it = tqdm(starts, desc="phonon modes", unit="chunk")
        with _blas_single_thread():
            for s in it:
                stop = min(s + chunk, nq)
                # each thread builds and diagonalises its own block of q (numpy and LAPACK
                # release the GIL)
                bounds = np.linspace(s, stop, (threads if stop - s >= 64 * threads else 1) + 1)
                blocks = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:],
                                                                strict=True)]
                args = [(model, q[b], None if dirs is None else dirs[b], eigenvectors)
                        for b in blocks]
                results = (pool.map(lambda a: _solve(*a), args) if pool is not None
                           else map(lambda a: _solve(*a), args))
                for b, (ev, v) in zip(blocks, results, strict=True):
                    energies[b] = np.sign(ev) * np.sqrt(np.abs(ev))
                    if eigenvectors:
                        vecs[b] = v.transpose(0, 2, 1).reshape(len(ev), n3, n3 // 3, 3)
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


def group_velocities(model: ForceConstants, modes: Modes, tol: float = 1e-3,
                     step: float = 1e-4) -> np.ndarray:
    r"""Group velocities v = grad_q omega, (nq, 3N, 3) in angstrom/ps (1 A/ps = 100 m/s).

    v_nu,a = Re <e_nu| dD/dq_a |e_nu> / (2 hbar E_nu) with dD/dq by central differences
    (``step`` 1/A); inside each degenerate set (energies within ``tol`` meV) the derivative
    is diagonalised along each axis first.  Modes with E <= 0 get zero velocity.
    """
    if modes.eigenvectors is None:
        raise InputError("group velocities need eigenvectors", field="eigenvectors")
    n3 = modes.n_modes
    grad = model.dynamical_matrix_gradient(modes.q_frac, step=step)        # (nq, 3, n3, n3)
    e = modes.eigenvectors.reshape(len(modes.q_frac), n3, n3)              # (nq, mode, comp)
    proj = np.einsum("qmi,qaij,qnj->qamn", e.conj(), grad, e)              # (nq, 3, m, n)
    sets = degenerate_sets(modes.energies, tol)
    out = np.real(np.diagonal(proj, axis1=2, axis2=3)).transpose(0, 2, 1).copy()   # (nq, m, 3)
    multiple = np.zeros(sets.shape, dtype=bool)
    multiple[:, 1:] |= sets[:, 1:] == sets[:, :-1]
    multiple[:, :-1] |= sets[:, 1:] == sets[:, :-1]
    for iq in np.flatnonzero(multiple.any(axis=1)):
        for sid in np.unique(sets[iq][multiple[iq]]):
            idx = np.flatnonzero(sets[iq] == sid)
            for a in range(3):
                out[iq, idx, a] = np.linalg.eigvalsh(proj[iq, a][np.ix_(idx, idx)])
    energies = modes.energies
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(energies[..., None] > 0, out / (2 * energies[..., None]), 0.0)
    return v / HBAR_MEV_PS
