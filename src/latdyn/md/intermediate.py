r"""Intermediate scattering functions and current correlations from a trajectory.

Partial coherent and incoherent (self) intermediate scattering functions, per atom of the
whole system (N atoms in all; Hansen and McDonald, *Theory of Simple Liquids*, 4th ed., eqs.
7.4.22 and 7.4.25; eqs. 2-3 of the review for their Fourier transforms G(r, t)):

.. math::

    F_{\alpha\beta}(\mathbf q, t) = \frac{1}{N} \left\langle
        \mathrm{Re}\, \rho_\alpha^*(\mathbf q, 0)\, \rho_\beta(\mathbf q, t) \right\rangle,
    \qquad
    F_{s,\alpha}(\mathbf q, t) = \frac{1}{N} \sum_{j\in\alpha} \left\langle
        \cos\left[\mathbf q\cdot(\mathbf r_j(t) - \mathbf r_j(0))\right] \right\rangle

with :math:`\rho_\alpha(\mathbf q,t)=\sum_{j\in\alpha} e^{i\mathbf q\cdot\mathbf r_j(t)}` and the
average over time origins (:mod:`latdyn.md.correlate`).  The totals are
:math:`F = \sum_{\alpha\beta} F_{\alpha\beta}` (both orders of every unlike pair) and
:math:`F_s = \sum_\alpha F_{s,\alpha}`; F(q, 0) is the static structure factor S(q) and
F_s(q, 0) = 1.  dynasor reports the same quantities per atom of the system; its partial
``Fqt_coh_A_B`` for unlike A, B is F_AB + F_BA = 2 F_AB.

Current correlations (longitudinal L along q-hat, transverse T perpendicular to it), with
:math:`\mathbf j_\alpha(\mathbf q,t)=\sum_{j\in\alpha}\mathbf v_j e^{i\mathbf q\cdot\mathbf r_j}`:

.. math::

    C_{L,\alpha\beta}(\mathbf q,t) = \frac1N\langle \mathrm{Re}\,
        j^{L*}_\alpha(\mathbf q,0)\, j^L_\beta(\mathbf q,t)\rangle,\qquad
    C_{T,\alpha\beta}(\mathbf q,t) = \frac1{2N}\langle \mathrm{Re}\,
        \mathbf j^{T*}_\alpha(\mathbf q,0)\cdot \mathbf j^T_\beta(\mathbf q,t)\rangle

in (angstrom/ps)^2; for a classical system C_L(q, 0) = sum_alpha c_alpha k_B T / m_alpha.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .correlate import OriginCorrelator, StreamCorrelator
from .phases import CompiledSelfPart, PhaseKernel
from .progress import progress_bar
from .trajectory import Trajectory

__all__ = ["CorrelationResult", "compute_correlations"]


@dataclass
class CorrelationResult:
    """Partial correlation functions on q-points and time lags.

    Attributes: ``q_points`` (n_q, 3) 1/angstrom; ``time`` (n_t,) ps; ``species`` (sorted);
    ``n_per_species``; ``f_coh`` (n_s, n_s, n_q, n_t) with F_ab = F_ba; ``f_inc`` (n_s, n_q,
    n_t) or None; ``c_l`` and ``c_t`` (n_s, n_s, n_q, n_t) or None; ``q_label`` (shell index or
    path position of each q-point, or None); ``source``.
    """

    q_points: np.ndarray
    time: np.ndarray
    species: tuple[str, ...]
    n_per_species: tuple[int, ...]
    f_coh: np.ndarray
    f_inc: np.ndarray | None = None
    c_l: np.ndarray | None = None
    c_t: np.ndarray | None = None
    source: str = ""
    settings: dict = field(default_factory=dict)

    @property
    def n_atoms(self) -> int:
        return int(sum(self.n_per_species))

    @property
    def concentrations(self) -> np.ndarray:
        return np.asarray(self.n_per_species, dtype=float) / self.n_atoms

    @property
    def q_norm(self) -> np.ndarray:
        return np.linalg.norm(self.q_points, axis=1)

    def total_coherent(self) -> np.ndarray:
        """F(q, t) = sum over ordered species pairs, (n_q, n_t)."""
        return self.f_coh.sum(axis=(0, 1))

    def total_incoherent(self) -> np.ndarray:
        """F_s(q, t) = sum over species, (n_q, n_t)."""
        if self.f_inc is None:
            raise InputError("the incoherent part was not computed", field="incoherent")
        return self.f_inc.sum(axis=0)


def _species_order(traj: Trajectory) -> tuple[np.ndarray, list[slice], tuple[int, ...]]:
    """Atom permutation grouping species contiguously, the slices, and the counts."""
    order, slices, counts, start = [], [], [], 0
    for idx in traj.indices().values():
        order.append(idx)
        slices.append(slice(start, start + idx.size))
        counts.append(int(idx.size))
        start += idx.size
    return np.concatenate(order), slices, tuple(counts)


def compute_correlations(traj: Trajectory, q_points, window: int, origin_step: int = 1,
                         incoherent: bool = True, currents: bool = False, chunk_size: int = 50,
                         threads: int = 2, backend: str = "numpy", accelerator: str = "auto",
                         start: int = 0,
                         stop: int | None = None, progress: bool | None = None
                         ) -> CorrelationResult:
    """Partial F_coh(q, t), F_inc(q, t) and (optionally) current correlations of a trajectory.

    Parameters
    ----------
    traj: an open :class:`~latdyn.md.trajectory.Trajectory` (fixed box).
    q_points: (n_q, 3) Cartesian wave vectors, 1/angstrom (see :mod:`latdyn.md.qpoints`).
    window: largest lag in frames; lags 0 .. window are returned (time = lag * traj.dt, ps).
    origin_step: frames between time origins (1 uses every frame as an origin).
    incoherent: also compute the self part F_s (its cost grows as window / origin_step).
    currents: also compute C_L and C_T (the trajectory must carry velocities).
    chunk_size: frames read and transformed at a time (memory ~ 16 B x n_q x n_atoms x chunk).
    threads, backend, accelerator: see :class:`~latdyn.md.phases.PhaseKernel` (the optional
        numba kernel is used when numba is importable, numpy otherwise).
    start, stop: frame range to use.
    progress: show a progress bar (None: only on a terminal).
    """
    window, origin_step = int(window), int(origin_step)
    if window < 1:
        raise InputError("window must be at least 1 frame", file=traj.source, field="window",
                         value=window)
    if origin_step < 1:
        raise InputError("origin step must be at least 1 frame", file=traj.source,
                         field="origin_step", value=origin_step)
    if currents and not traj.has_velocities:
        raise InputError("current correlations need velocities, which the trajectory lacks",
                         file=traj.source, field="velocities")
    kernel = PhaseKernel(q_points, traj.cell, threads=threads, backend=backend,
                         accelerator=accelerator)
    order, slices, counts = _species_order(traj)
    species = traj.species
    n_s, n_lags = len(species), window + 1
    names = [f"rho{a}" for a in range(n_s)]
    pairs = [(names[a], names[b], False) for a in range(n_s) for b in range(n_s)]
    if currents:
        q_hat = kernel.q / np.where(np.linalg.norm(kernel.q, axis=1) > 0,
                                    np.linalg.norm(kernel.q, axis=1), 1.0)[:, None]
        pairs += [(f"jl{a}", f"jl{b}", False) for a in range(n_s) for b in range(n_s)]
        pairs += [(f"jt{a}", f"jt{b}", False) for a in range(n_s) for b in range(n_s)]
    coherent = StreamCorrelator(n_lags, origin_step, pairs, block=max(n_lags, chunk_size))
    fused = incoherent and not currents and kernel.compiled
    self_part = None
    if fused:
        self_part = CompiledSelfPart(kernel, n_lags, origin_step, slices, traj.n_atoms,
                                     chunk_size)
    elif incoherent:
        self_part = OriginCorrelator(n_lags, origin_step, slices)
    xp = kernel.xp
    total = None if traj.n_frames is None else (min(stop, traj.n_frames) if stop else traj.n_frames) - start
    try:
        with progress_bar(total, "correlations", progress) as bar:
            for chunk in traj.chunks(chunk_size, start, stop):
                pos = chunk.positions[:, order]
                if fused:
                    rho, e = self_part.push(pos, chunk.start - start), None
                else:
                    rho, e = kernel.evaluate(pos, slices, keep_phases=incoherent or currents)
                signals = {names[a]: _host(xp, rho[a].T) for a in range(n_s)}
                if currents:
                    j = kernel.currents(e, chunk.velocities[:, order], slices)   # (s, q, t, 3)
                    j = _host(xp, j)
                    jl = np.einsum("sqtc,qc->sqt", j, q_hat)
                    jt = j - jl[..., None] * q_hat[None, :, None, :]
                    for a in range(n_s):
                        signals[f"jl{a}"] = jl[a].T
                        signals[f"jt{a}"] = jt[a].transpose(1, 0, 2)          # (t, q, 3)
                coherent.push(signals)
                if self_part is not None and not fused:
                    self_part.push(_host(xp, e), chunk.start - start)
                bar.update(chunk.n_frames)
    finally:
        kernel.close()
    sums = coherent.finish()
    n_frames = coherent.n_frames
    if n_frames < 2:
        raise InputError("the trajectory needs at least two frames", file=traj.source,
                         field="frames", value=n_frames)
    n_lags = min(n_lags, n_frames)
    norm = coherent.counts()[:n_lags] * traj.n_atoms

    def matrix(prefix: str, scale: float = 1.0) -> np.ndarray:
        out = np.empty((n_s, n_s, kernel.n_q, n_lags))
        for a in range(n_s):
            for b in range(n_s):
                c = sums[(f"{prefix}{a}", f"{prefix}{b}")]
                if c.ndim == 3:                       # transverse: sum the Cartesian components
                    c = c.sum(axis=2)
                out[a, b] = (c[:n_lags] / norm[:, None]).T * scale
        return 0.5 * (out + out.transpose(1, 0, 2, 3))

    f_coh = matrix("rho")
    f_inc = None
    if self_part is not None:
        parts = self_part.sums() if fused else self_part.sums
        f_inc = np.stack([s[:, :n_lags] for s in parts]) / norm[None, None, :]
    c_l = matrix("jl") if currents else None
    c_t = matrix("jt", 0.5) if currents else None
    return CorrelationResult(kernel.q.copy(), np.arange(n_lags) * traj.dt, species, counts,
                             f_coh, f_inc, c_l, c_t, traj.source,
                             {"window": window, "origin_step": origin_step, "dt_ps": traj.dt,
                              "frames": n_frames, "first_frame": start})


def _host(xp, a):
    """A numpy array (copies from the GPU when the backend is CuPy)."""
    return a if xp is np else xp.asnumpy(a)
