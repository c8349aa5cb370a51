r"""Choosing the self-part method by a short measurement on this machine.

The two methods of :mod:`latdyn.md.engine` cost, per atom, q-point and frame, about
c_d (W / s + 1) (direct: one complex product per open time origin) and c_f log2(2L) (FFT:
transforms of segments of L >= W frames), plus the same densities; c_d and c_f depend on the
CPU (vector width, caches), on the kernel (compiled or numpy) and on the load of the machine,
so no constant fits every machine.  ``self_method='auto'`` therefore times both methods on a
small problem of the same shape (the run's window, origin step, box and q-points, 64 atoms at
random positions, a history and two segments of frames) on one thread, and takes the one with
the lower cost.  The probe takes a few tens of milliseconds (the first use of a kernel also
loads or compiles it); its result is kept for the rest of the process for the same window,
origin step and kernel, and both costs are reported in the result's settings.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["choose_self_method", "measure_costs", "PROBE_ATOMS", "PROBE_Q"]

#: Atoms and q-points of the probe problem.
PROBE_ATOMS = 64
PROBE_Q = 8

_cache: dict[tuple, dict[str, float]] = {}


def choose_self_method(settings, compiled: bool) -> tuple[str, dict[str, float]]:
    """('direct' or 'fft', {method: measured ns per atom, q-point and frame}) for the window,
    origin step and q-points of ``settings`` (a :class:`~latdyn.md.engine.EngineSettings`)."""
    q = np.asarray(settings.q_points, dtype=float)
    key = (int(settings.n_lags), int(settings.origin_step), bool(compiled),
           settings.backend, min(len(q), PROBE_Q))
    if key not in _cache:
        _cache[key] = measure_costs(settings)
    costs = _cache[key]
    return min(costs, key=costs.get), dict(costs)


def _probe_points(q: np.ndarray) -> np.ndarray:
    """PROBE_Q q-points spread over the set sorted by |q| (the largest |h|, |k|, |l| set the
    size of the power tables)."""
    order = np.argsort(np.linalg.norm(q, axis=1), kind="stable")
    pick = np.unique(np.linspace(0, len(q) - 1, min(len(q), PROBE_Q)).round().astype(int))
    return q[order[pick]]


def measure_costs(settings) -> dict[str, float]:
    """Time both methods on the probe problem (module docstring): ns per atom, q-point and
    target frame on one thread (CPU time of the calling thread, best of two runs)."""
    from .engine import Block, CorrelationEngine, EngineSettings, segment_length
    from .threads import thread_limits

    rng = np.random.default_rng(0)
    q = _probe_points(np.asarray(settings.q_points, dtype=float))
    n_lags, step = int(settings.n_lags), int(settings.origin_step)
    n_targets = 2 * segment_length(n_lags, step)
    first = n_lags - 1                             # the window before it holds the history
    frames = np.arange(first + n_targets)
    frames = frames[(frames >= first) | (frames % step == 0)]
    history = int(np.sum(frames < first))
    cell = np.asarray(settings.cell, dtype=float)
    positions = rng.uniform(0.0, 1.0, (frames.size, PROBE_ATOMS, 3)) @ cell
    costs = {}
    with thread_limits(1):
        for method in ("direct", "fft"):
            probe = EngineSettings(q, cell, np.arange(PROBE_ATOMS), (PROBE_ATOMS,), n_lags, step,
                                   True, False, settings.backend, settings.accelerator, 1,
                                   method)
            engine = CorrelationEngine(probe)
            try:
                warm = min(frames.size, history + 8)
                engine.process(Block(positions[:warm], None, frames[:warm], history))
                best = np.inf
                for _ in range(2):
                    t0 = time.thread_time()
                    engine.process(Block(positions, None, frames, history))
                    best = min(best, time.thread_time() - t0)
            finally:
                engine.close()
            costs[method] = best / (PROBE_ATOMS * len(q) * n_targets) * 1e9
    return costs
