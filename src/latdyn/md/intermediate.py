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

import operator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DependencyError, InputError
from ..progress import dask_progress, progress_bar
from .budget import DEFAULT_MEMORY_MB, MB, MemoryModel
from .engine import Block, CorrelationEngine, EngineSettings, PartialSums
from .threads import resolve_threads, thread_limits
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


def _species_order(traj: Trajectory) -> tuple[np.ndarray, tuple[int, ...]]:
    """Atom permutation grouping species contiguously (in ``traj.species`` order), and the
    number of atoms of each species."""
    idx = list(traj.indices().values())
    return np.concatenate(idx), tuple(int(ix.size) for ix in idx)


def compute_correlations(traj: Trajectory, q_points, window: int, origin_step: int = 1,
                         incoherent: bool = True, currents: bool = False,
                         chunk_size: int | None = None, threads: int | None = None,
                         backend: str = "numpy", accelerator: str = "auto",
                         self_method: str = "auto", executor: str = "serial", scheduler=None,
                         start: int = 0, stop: int | None = None,
                         progress: bool | None = None,
                         memory_mb: float = DEFAULT_MEMORY_MB) -> CorrelationResult:
    """Partial F_coh(q, t), F_inc(q, t) and (optionally) current correlations of a trajectory.

    Parameters
    ----------
    traj: an open :class:`~latdyn.md.trajectory.Trajectory` (fixed box).
    q_points: (n_q, 3) Cartesian wave vectors, 1/angstrom (see :mod:`latdyn.md.qpoints`).
    window: largest lag in frames; lags 0 .. window are returned (time = lag * traj.dt, ps).
    origin_step: frames between time origins (1 uses every frame as an origin).
    incoherent: also compute the self part F_s.
    currents: also compute C_L and C_T (the trajectory must carry velocities).
    chunk_size: target frames per block (None: the largest block that fits ``memory_mb``,
        :mod:`latdyn.md.budget`).
    threads: worker threads (None: LATDYN_THREADS or 2); BLAS and numba follow
        (:mod:`latdyn.md.threads`).  Dask tasks run on one thread each.
    backend, accelerator: see :class:`~latdyn.md.phases.PhaseKernel` (the compiled kernel
        is used when numba is importable, ``pip install 'latdyn[fast]'``).
    self_method: 'auto', 'fft' or 'direct': how the self part is summed (:mod:`latdyn.md.engine`;
        'auto' measures both on this machine, :mod:`latdyn.md.probe`); the results agree to
        rounding.
    executor: 'serial' (stream the blocks here) or 'dask' (one task per block, partial sums
        added; ``pip install 'latdyn[dask]'``).  Each Dask task reads only its own frames, so a
        ``dask.distributed`` cluster can share out a trajectory larger than any worker's
        memory, on machines that see the same file.
    scheduler: Dask scheduler for ``executor='dask'``: a ``distributed.Client``, or a name such
        as 'threads', 'processes' or 'synchronous'; None uses the active distributed Client if
        there is one, else local threads.
    start, stop: frame range to use.
    progress: show a progress bar (None: only on a terminal).
    memory_mb: memory budget in MB for the blocks and working arrays (per task with Dask),
        beyond the fixed cost of Python and the libraries; the peak is modelled in
        :mod:`latdyn.md.budget` and reported as ``settings['memory_model_mb']``.
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
    if executor not in ("serial", "dask"):
        raise InputError("unknown executor; use 'serial' or 'dask'", file=traj.source,
                         field="executor", value=executor)
    if not (np.isfinite(memory_mb) and memory_mb > 0):
        raise InputError("memory budget must be a positive number of MB", file=traj.source,
                         field="memory_mb", value=memory_mb)
    start = int(start)
    if start < 0 or (stop is not None and int(stop) <= start):
        raise InputError("need 0 <= start < stop", file=traj.source, field="start",
                         value=(start, stop))
    threads = resolve_threads(threads)
    order, counts = _species_order(traj)
    with thread_limits(threads):
        settings = EngineSettings(np.asarray(q_points, dtype=float), traj.cell, order, counts,
                                  window + 1, origin_step, bool(incoherent), bool(currents),
                                  backend, accelerator, threads, self_method, float(memory_mb))
        engine = CorrelationEngine(settings)
        # the method is fixed once (Dask tasks and later blocks do not probe again)
        settings = replace(settings, self_method=engine.method or "auto")
        n_known = None if traj.n_frames is None else \
            max(1, (traj.n_frames if stop is None else min(int(stop), traj.n_frames)) - start)
        longest = None
        if executor == "dask":
            model = replace(engine.model, threads=1)
            if n_known is not None:        # blocks as long as the budget allows, >= 4 per worker
                per_worker = -(-n_known // (4 * _dask_workers(scheduler, threads)))
                longest = max(model.efficient_block(), per_worker)
        else:
            model = engine.model
        size = _block_frames(chunk_size, model, memory_mb, n_known, traj.source, longest)
        # phases of box-lattice q-points do not change when an atom is wrapped: skip unwrapping
        unwrap = traj.unwrap and not engine.kernel.on_lattice
        try:
            if executor == "dask":
                engine.close()
                total, n_tasks = _run_dask(traj, settings, engine.kernel.on_lattice, size,
                                           start, stop, scheduler, progress)
            else:
                total, n_tasks = _run_serial(traj, engine, size, start, stop, unwrap,
                                             progress), None
        finally:
            engine.close()
    extra = {"self_method": engine.method, "executor": executor, "block_frames": size,
             "compiled": engine.compiled, "threads": threads, "memory_mb": float(memory_mb),
             "memory_model_mb": model.peak(size, int(memory_mb * MB)) / MB}
    if engine.probe_costs is not None:
        extra["self_method_costs_ns"] = engine.probe_costs
    if n_tasks is not None:
        extra["tasks"] = n_tasks
    return _result(traj, engine, total, counts, window, origin_step, start, extra)


def _block_frames(chunk_size, model: MemoryModel, memory_mb: float, n_frames: int | None,
                  source: str, longest: int | None = None) -> int:
    """Target frames per block: ``chunk_size`` when given, else from the memory budget."""
    if chunk_size is not None:
        if int(chunk_size) < 1:
            raise InputError("chunk size must be at least 1 frame", file=source,
                             field="chunk_size", value=chunk_size)
        return int(chunk_size)
    return model.block_frames(memory_mb, n_frames, source, longest)


def _run_serial(traj, engine, size, start, stop, unwrap, progress) -> PartialSums:
    """Stream blocks of ``size`` target frames; each block carries the time origins of the
    window before it (positions only: nothing else is kept between blocks).  The next chunk
    is read in a background thread meanwhile."""
    st = engine.settings
    w = st.n_lags - 1
    h_pos = np.zeros((0, traj.n_atoms, 3))
    h_vel = np.zeros((0, traj.n_atoms, 3)) if st.currents else None
    h_frames = np.zeros(0, dtype=np.int64)
    total = None
    n_total = None if traj.n_frames is None else \
        (min(stop, traj.n_frames) if stop else traj.n_frames) - start
    with progress_bar(n_total, "correlations", progress) as bar:
        for chunk in _read_ahead(traj.chunks(size, start, stop, unwrap=unwrap,
                                             velocities=st.currents)):
            n_new = chunk.n_frames
            frames = np.concatenate([h_frames, chunk.start - start + np.arange(n_new)])
            pos = np.concatenate([h_pos, chunk.positions]) if h_pos.size else chunk.positions
            vel = None if h_vel is None else np.concatenate([h_vel, chunk.velocities])
            del chunk                                # the block holds its frames now
            part = engine.process(Block(pos, vel, frames, h_frames.size))
            total = part if total is None else total + part
            keep = (frames % st.origin_step == 0) & (frames > frames[-1] - w)
            h_pos, h_frames = pos[keep], frames[keep]
            h_vel = None if vel is None else vel[keep]
            bar.update(n_new)
    if total is None:
        raise InputError("the trajectory has no frames in the range", file=traj.source,
                         field="start", value=(start, stop))
    return total


_END = object()


def _read_ahead(chunks):
    """Yield the chunks, reading the next one in a background thread while the caller works
    on the current one (file reading overlaps the compiled kernels, which release the GIL)."""
    with ThreadPoolExecutor(1) as reader:
        pending = reader.submit(next, chunks, _END)
        while (chunk := pending.result()) is not _END:
            pending = reader.submit(next, chunks, _END)
            yield chunk
            del chunk


def _block_task(traj: Trajectory, settings: EngineSettings, a: int, b: int, start: int
                ) -> PartialSums:
    """Partial sums of the target frames [a, b) (counted from ``start``): reads the frames
    from a - W, keeps the time origins among those before a, and runs one block on one
    thread (BLAS and numba too)."""
    w = settings.n_lags - 1
    h0 = max(0, a - w)
    chunks = list(traj.chunks(b - h0, start + h0, start + b, unwrap=False,
                              velocities=settings.currents))
    pos = np.concatenate([c.positions for c in chunks]) if len(chunks) != 1 else \
        chunks[0].positions
    vel = None
    if settings.currents:
        vel = np.concatenate([c.velocities for c in chunks]) if len(chunks) != 1 else \
            chunks[0].velocities
    del chunks
    frames = h0 + np.arange(pos.shape[0])
    if frames.size != b - h0:
        raise InputError(f"expected frames {start + h0} to {start + b - 1}, read {frames.size}",
                         file=traj.source, field=f"frame {start + h0 + frames.size}")
    keep = (frames >= a) | (frames % settings.origin_step == 0)
    n_history = int(np.sum(keep & (frames < a)))
    if not keep.all():
        pos = pos[keep]
        vel = None if vel is None else vel[keep]
    with thread_limits(1):
        engine = CorrelationEngine(settings)
        try:
            return engine.process(Block(pos, vel, frames[keep], n_history))
        finally:
            engine.close()


def _run_dask(traj, settings, on_lattice, size, start, stop, scheduler, progress
              ) -> tuple[PartialSums, int]:
    """One Dask task per block of ``size`` target frames (each reads its own frames); the
    partial sums are added in a tree.  Returns the total and the number of block tasks."""
    try:
        import dask
    except ImportError as exc:
        raise DependencyError("executor='dask' needs dask: pip install 'latdyn[dask]'",
                              field="executor", value="dask") from exc
    if not on_lattice:
        raise InputError("executor='dask' needs q-points on the reciprocal lattice of the box "
                         "(off-lattice phases depend on where each task starts unwrapping)",
                         file=traj.source, field="q_points")
    n_all = traj.frame_count()
    end = n_all if stop is None else min(int(stop), n_all)
    if end <= start:
        raise InputError("the trajectory has no frames in the range", file=traj.source,
                         field="start", value=(start, stop))
    task_settings = replace(settings, threads=1)
    task = dask.delayed(_block_task, pure=True)
    parts = [task(traj, task_settings, a, min(a + size, end - start), start)
             for a in range(0, end - start, size)]
    n_tasks = len(parts)
    add = dask.delayed(operator.add, pure=True)
    while len(parts) > 1:
        parts = [add(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    kwargs = _dask_scheduler(scheduler, settings.threads)
    local = isinstance(kwargs.get("scheduler"), str)  # Dask's bar follows local schedulers only
    with dask_progress(progress if local else False, n_tasks):
        (total,) = dask.compute(parts[0], **kwargs)
    return total, n_tasks


def _dask_workers(scheduler, threads: int) -> int:
    """Tasks the scheduler runs at a time: the threads of a distributed Client's workers (the
    given one or the active one), else ``threads`` local workers."""
    client = scheduler
    if client is None:
        try:
            from distributed import default_client

            client = default_client()
        except (ImportError, ValueError):
            return threads
    info = getattr(client, "scheduler_info", None)
    if info is None:
        return threads
    workers = info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def _dask_scheduler(scheduler, threads: int) -> dict:
    """Keyword arguments of ``dask.compute``: the given scheduler (a name or a distributed
    Client), else the active distributed Client, else ``threads`` local threads."""
    if scheduler is not None:
        return {"scheduler": scheduler}
    try:
        from distributed import default_client

        default_client()
        return {}                               # an active distributed Client takes the graph
    except (ImportError, ValueError):
        return {"scheduler": "threads", "num_workers": threads}


def _result(traj, engine, total: PartialSums, counts, window, origin_step, start, extra
            ) -> CorrelationResult:
    from .correlate import origin_counts

    n_frames = total.n_frames
    if n_frames < 2:
        raise InputError("the trajectory needs at least two frames", file=traj.source,
                         field="frames", value=n_frames)
    n_s = len(counts)
    n_lags = min(window + 1, n_frames)
    norm = origin_counts(n_frames, n_lags, origin_step) * traj.n_atoms
    sums = total.pairs

    def matrix(prefix: str, scale: float = 1.0) -> np.ndarray:
        out = np.empty((n_s, n_s, engine.n_q, n_lags))
        for a in range(n_s):
            for b in range(n_s):
                out[a, b] = sums[(f"{prefix}{a}", f"{prefix}{b}")][:, :n_lags] / norm * scale
        return 0.5 * (out + out.transpose(1, 0, 2, 3))

    f_coh = matrix("rho")
    f_inc = None
    if total.self_sums is not None:
        f_inc = total.self_sums[:, :, :n_lags] / norm
    currents = engine.settings.currents
    c_l = matrix("jl") if currents else None
    c_t = matrix("jt", 0.5) if currents else None
    settings = {"window": window, "origin_step": origin_step, "dt_ps": traj.dt,
                "frames": n_frames, "first_frame": start, **extra}
    return CorrelationResult(engine.q.copy(), np.arange(n_lags) * traj.dt, traj.species, counts,
                             f_coh, f_inc, c_l, c_t, traj.source, settings)
