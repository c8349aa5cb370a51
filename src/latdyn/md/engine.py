r"""The correlation engine: partial sums of F_coh, F_s and the current correlations for one
block of frames.  Blocks are independent, so the sums of a trajectory are the sums of its
blocks' partial sums, whichever process computes them (serially here, or as Dask tasks).

Pairs and blocks.  The correlation sums run over pairs (t0, t) of a time origin t0 (a frame
number divisible by ``origin_step``, counted from the first frame analysed) and a target
frame t = t0 + tau, 0 <= tau <= W (W = n_lags - 1):

.. math:: C_{ab}(\tau) = \sum_{t_0 \in O,\; t_0+\tau < N_f} \mathrm{Re}\left[a^*(t_0)\, b(t_0+\tau)\right]

A :class:`Block` holds consecutive target frames [a, b) preceded by its history, the time
origins in [a - W, a); it contributes every pair whose target lies in [a, b), so blocks that
tile the trajectory count every pair exactly once.  Dividing by the number of origins N_tau
(:func:`latdyn.md.correlate.origin_counts`) and by N gives the functions of
:mod:`latdyn.md.intermediate` (dynasor's convention: windows near the end are shorter).

Coherent part and currents: the block's densities rho_alpha(q, t) (and currents) are
correlated by zero-padded FFTs over the block (Wiener-Khinchin), O(T log T) per q-point.

Self part, sum_j Re[e_j^*(q, t0) e_j(q, t)] with e_j = exp(i q.r_j), two methods:

- ``direct``: the phases of the open origins stay in cache (a ring per block of atoms, for a
  group of q-points at a time) and each group of target frames is multiplied with them as a
  small matrix product over the atoms, (W + 1) / origin_step products per atom, q-point and
  frame (the numpy kernel forms them as batched matrix products).  Best when few origins
  are open (large ``origin_step``).
- ``fft``: per atom, the phase series is cut into segments of L >= W frames, each zero-padded
  to n = 2L and transformed once (U_k).  Pairs with a target in segment k have their origin in
  segment k or k - 1; placing both on one axis of length n, the target series is U_k shifted
  by L (a factor (-1)^w) and the origin series V_{k-1} + (-1)^w V_k, so

  .. math:: \sum_{t} b(t)\, a^*(t - \tau) = \mathrm{IDFT}\Big[\sum_{j,k} U_k \bar V_k
            + (-1)^w\, U_k \bar V_{k-1}\Big](\tau),\qquad 0 \le \tau \le W \le L

  with no wrap-around (negative lags of U_k V_k^* land in bins > L).  V is the transform
  of the series masked to the origins; with ``origin_step`` s dividing n it follows from U
  without another transform, V(w) = (1/s) sum_p exp(2 pi i p g / s) U(w - p n / s) (g: frame
  number of the segment's first point).  The spectra are summed over atoms and segments
  before one inverse transform, so the cost is O(log L) per atom, q-point and frame,
  independent of W and of the origin step.  This is the method for small origin steps.

``self_method='auto'`` takes the method that a short probe on this machine finds cheaper
(:mod:`latdyn.md.probe`); both give the same sums to rounding (~1e-15 relative).

Memory: the FFT self part, the correlation FFTs of the densities and the numpy kernel work on
groups of q-points sized from the memory budget ``memory_mb`` (:mod:`latdyn.md.budget`).
"""

from __future__ import annotations

import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import scipy.fft

from ..errors import InputError
from .budget import ATOMS_NUMPY, DEFAULT_MEMORY_MB, LANES_FFT, MB, MemoryModel
from .phases import PhaseKernel

__all__ = ["Block", "PartialSums", "EngineSettings", "CorrelationEngine", "pair_sums",
           "segment_length"]

#: Atoms per block of the compiled kernel without a ring (densities, currents).
LANES_RHO = 64
#: Target frames per matrix product of the numpy kernel's direct self part.
TARGETS_NUMPY = 64


def segment_length(n_lags: int, origin_step: int) -> int:
    """Segment length L of the FFT self part: L >= W = n_lags - 1 with the origin step
    dividing n = 2L, preferring n a power of two, then 2^a 3^b 5^c (fast transforms)."""
    w = max(int(n_lags) - 1, 1)
    s = int(origin_step)
    best, best_cost = w, math.inf
    for length in range(w, 4 * w + 2 * s + 2):
        n = 2 * length
        if n % s:
            continue
        m, largest = n, 1
        for p in range(2, n + 1):
            while m % p == 0:
                m //= p
                largest = p
            if m == 1:
                break
        penalty = 1.0 if largest == 2 else 1.35 if largest <= 5 else 1.6 if largest <= 13 else 2.5
        cost = 2.0 * math.log2(n) * penalty
        if cost < best_cost - 1e-12:
            best, best_cost = length, cost
    return best


@dataclass
class Block:
    """Frames of one block: ``positions`` (n_f, N, 3) angstrom with the atoms in file order,
    ``velocities`` (same shape, angstrom/ps) or None, ``frames`` (n_f,) frame numbers counted
    from the first frame analysed, increasing; the first ``n_history`` frames are earlier time
    origins (within W frames of the first target), the rest consecutive target frames."""

    positions: np.ndarray
    velocities: np.ndarray | None
    frames: np.ndarray
    n_history: int


@dataclass
class PartialSums:
    """Unnormalised sums of one or more blocks: ``pairs`` maps (a, b) signal names to
    (n_q, n_lags) arrays, ``self_sums`` (n_species, n_q, n_lags) or None, ``n_frames`` = 1 +
    the largest target frame number.  Add two with ``+``."""

    pairs: dict[tuple[str, str], np.ndarray]
    self_sums: np.ndarray | None
    n_frames: int

    def __add__(self, other: PartialSums) -> PartialSums:
        pairs = {k: v + other.pairs[k] for k, v in self.pairs.items()}
        ss = None if self.self_sums is None else self.self_sums + other.self_sums
        return PartialSums(pairs, ss, max(self.n_frames, other.n_frames))


@dataclass
class EngineSettings:
    """Everything a :class:`CorrelationEngine` needs (small and picklable, for Dask workers):
    ``order`` lists the atoms species by species (``counts`` atoms each)."""

    q_points: np.ndarray
    cell: np.ndarray
    order: np.ndarray
    counts: tuple[int, ...]
    n_lags: int
    origin_step: int
    incoherent: bool = True
    currents: bool = False
    backend: str = "numpy"
    accelerator: str = "auto"
    threads: int = 2
    self_method: str = "auto"
    memory_mb: float = DEFAULT_MEMORY_MB


def pair_sums(signals: dict[str, np.ndarray], frames: np.ndarray, n_history: int,
              origin_step: int, pairs, n_lags: int, q_group: int | None = None
              ) -> dict[tuple[str, str], np.ndarray]:
    """sum_t Re[a^*(t - tau) b(t)] over origins t - tau and targets t of a block.

    ``signals`` map names to (n_f, n_q, ...) arrays on the block's frames; pairs are (a, b).
    The frames are laid on a dense time axis and correlated by FFTs of length >= T + W, for
    ``q_group`` q-points at a time (all when None).  Returns (n_q, n_lags) arrays.
    """
    n_q = next(iter(signals.values())).shape[1]
    step = n_q if q_group is None else max(1, int(q_group))
    if step < n_q:
        parts = [pair_sums({k: v[:, q0:q0 + step] for k, v in signals.items()}, frames,
                           n_history, origin_step, pairs, n_lags)
                 for q0 in range(0, n_q, step)]
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    f0 = int(frames[0])
    rel = np.asarray(frames, dtype=np.int64) - f0
    length = int(rel[-1]) + 1
    is_origin = (np.asarray(frames) % origin_step) == 0
    is_target = np.arange(len(frames)) >= n_history
    n_fft = scipy.fft.next_fast_len(length + n_lags - 1)
    spec_o, spec_t = {}, {}

    def dense(name, mask):
        v = signals[name]
        out = np.zeros((length,) + v.shape[1:], dtype=complex)
        out[rel[mask]] = v[mask]
        return scipy.fft.fft(out, n=n_fft, axis=0, workers=1)

    out = {}
    for a, b in pairs:
        if a not in spec_o:
            spec_o[a] = dense(a, is_origin)
        if b not in spec_t:
            spec_t[b] = dense(b, is_target)
        c = scipy.fft.ifft(spec_t[b] * np.conj(spec_o[a]), axis=0, workers=1)[:n_lags].real
        if c.ndim == 3:                                # vector signals: sum the components
            c = c.sum(axis=2)
        out[(a, b)] = c.T.copy()
    return out


class CorrelationEngine:
    """Computes :class:`PartialSums` of blocks for a fixed set of q-points, box and settings."""

    def __init__(self, settings: EngineSettings):
        self.settings = st = settings
        self.n_s = len(st.counts)
        bounds = np.cumsum((0,) + tuple(st.counts))
        self.slices = [slice(int(bounds[i]), int(bounds[i + 1])) for i in range(self.n_s)]
        self.n_atoms = int(bounds[-1])
        self.order = np.asarray(st.order, dtype=np.int64)
        if self.order.shape != (self.n_atoms,):
            raise InputError("the atom order must list every atom once", field="order",
                             value=self.order.shape)
        self.kernel = PhaseKernel(st.q_points, st.cell, threads=st.threads, backend=st.backend,
                                  accelerator=st.accelerator)
        self.compiled = self.kernel.compiled
        self.q = self.kernel.q
        self.n_q = self.kernel.n_q
        self.n_lags = int(st.n_lags)
        self.step = int(st.origin_step)
        if st.self_method not in ("auto", "fft", "direct"):
            raise InputError("unknown self-part method; use 'auto', 'fft' or 'direct'",
                             field="self_method", value=st.self_method)
        self.segment = segment_length(self.n_lags, self.step)
        #: Measured cost per atom, q-point and frame of each method (ns), when probed.
        self.probe_costs: dict[str, float] | None = None
        self.method = None
        if st.incoherent:
            if st.self_method == "auto":
                from .probe import choose_self_method

                self.method, self.probe_costs = choose_self_method(st, self.compiled)
            else:
                self.method = st.self_method
        self.budget = int(float(st.memory_mb) * MB)
        tables = 0 if self.compiled else 16 * PhaseKernel.BLOCK_POINTS * max(1, st.threads) * \
            (sum(len(n | {1}) + 1 for n in self.kernel.needed) + 2)
        self.model = MemoryModel(self.n_atoms, self.n_q, self.n_s, self.n_lags, self.step,
                                 max(1, int(st.threads)), self.method, self.segment,
                                 bool(st.currents), self.compiled, tables)
        names = [f"rho{a}" for a in range(self.n_s)]
        self.pairs = [(names[a], names[b]) for a in range(self.n_s) for b in range(self.n_s)]
        if st.currents:
            norm = np.linalg.norm(self.q, axis=1)
            self.q_hat = self.q / np.where(norm > 0, norm, 1.0)[:, None]
            for p in ("jl", "jt"):
                self.pairs += [(f"{p}{a}", f"{p}{b}") for a in range(self.n_s)
                               for b in range(self.n_s)]
        self._pool = None

    # --- public -----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the worker threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        self._close_groups()
        self.kernel.close()

    def process(self, block: Block) -> PartialSums:
        """Partial sums of the pairs whose target frame is in the block."""
        frames = np.asarray(block.frames, dtype=np.int64)
        n_f = frames.size
        if block.n_history >= n_f:
            raise InputError("a block needs at least one target frame", field="frames",
                             value=n_f)
        if self.settings.currents and block.velocities is None:
            raise InputError("current correlations need velocities", field="velocities")
        if self.compiled:
            rho, cur, fs = self._compiled(block, frames)
        else:
            rho, cur, fs = self._numpy(block, frames)
        signals = {f"rho{a}": rho[a].T for a in range(self.n_s)}          # (n_f, n_q)
        if cur is not None:
            jl = np.einsum("sqfc,qc->sqf", cur, self.q_hat)
            jt = cur - jl[..., None] * self.q_hat[None, :, None, :]
            for a in range(self.n_s):
                signals[f"jl{a}"] = jl[a].T
                signals[f"jt{a}"] = jt[a].transpose(1, 0, 2)               # (n_f, n_q, 3)
        q_group = self.model.correlation_q_group(self.budget, n_f - block.n_history)
        sums = pair_sums(signals, frames, block.n_history, self.step, self.pairs, self.n_lags,
                         q_group)
        return PartialSums(sums, fs, int(frames[-1]) + 1)

    # --- compiled kernel --------------------------------------------------------------------
    def _blocks(self, lanes: int) -> np.ndarray:
        rows = []
        for sp, sl in enumerate(self.slices):
            for a0 in range(sl.start, sl.stop, lanes):
                rows.append((a0, min(a0 + lanes, sl.stop), sp))
        return np.array(rows, dtype=np.int64).reshape(-1, 3)

    def _map(self, fn, n_tasks: int):
        if n_tasks <= 1 or self.settings.threads <= 1:
            return [fn(i) for i in range(n_tasks)]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.threads)
        return list(self._pool.map(fn, range(n_tasks)))

    @staticmethod
    def _ranges(n_items: int, n_threads: int):
        """A thread-safe source of item ranges (about 8 per thread, handed out in order), so
        a thread slowed by other work takes fewer of them."""
        per = max(1, n_items // (8 * n_threads))
        counter, lock = itertools.count(), threading.Lock()

        def take():
            with lock:
                lo = next(counter) * per
            return (lo, min(lo + per, n_items)) if lo < n_items else None

        return take

    def _compiled(self, block: Block, frames: np.ndarray):
        from ._numba_kernel import GROUP, MODE_CURRENTS, MODE_RHO, ORIGIN, TARGET

        ker = self.kernel.compiled_kernels
        st = self.settings
        r = np.ascontiguousarray(block.positions, dtype=float)
        inv = self.kernel.inv_cell
        n_f = frames.size
        vel = (np.ascontiguousarray(block.velocities, dtype=float) if st.currents
               else np.zeros((0, self.n_atoms, 3)))
        flags = np.where(frames % self.step == 0, ORIGIN, 0).astype(np.uint8)
        flags[block.n_history:] |= TARGET
        hkl = self.kernel.hkl.astype(np.int64)
        n_max = np.abs(hkl).max(axis=0).astype(np.int64)
        if self.method == "fft":
            return self._compiled_fft(frames, r, inv, block.n_history, vel, flags, hkl, n_max)
        direct = self.method == "direct"
        n_slots = (self.n_lags - 2 + GROUP) // self.step + 1
        lanes = self.model.direct_lanes() if direct else LANES_RHO
        blocks = self._blocks(lanes)
        q_group = self.model.direct_q_group() if direct else self.n_q
        groups = [(q0, min(q0 + q_group, self.n_q)) for q0 in range(0, self.n_q, q_group)]
        n_items = len(blocks) * len(groups)
        n_tasks = min(max(1, int(st.threads)), n_items)
        empty = np.zeros((1, 1, 1, 1), dtype=complex)
        no_idx = np.zeros(1, dtype=np.int64)
        take = self._ranges(n_items, n_tasks)

        def run(t):
            rho = np.zeros((self.n_s, self.n_q, n_f, 2))
            cur = np.zeros((self.n_s, self.n_q, n_f, 3, 2) if st.currents else (1, 1, 1, 1, 1))
            fs = np.zeros((self.n_s, self.n_q, self.n_lags)) if direct else None
            while (rng := take()) is not None:
                for item in range(*rng):
                    b, (q0, q1) = item // len(groups), groups[item % len(groups)]
                    if direct:
                        ker.sweep_direct(r, inv, self.order, frames, flags, blocks, b, b + 1,
                                         hkl[q0:q1], n_max, lanes, rho[:, q0:q1],
                                         fs[:, q0:q1], n_slots)
                    if (not direct or st.currents) and q0 == 0:
                        ker.sweep(r, inv, self.order, vel, blocks, b, b + 1, hkl, n_max,
                                  MODE_CURRENTS if direct else MODE_RHO, lanes, rho, cur, 0,
                                  empty, no_idx, no_idx, 0)
            return rho, cur, fs

        parts = self._map(run, n_tasks)
        rho, cur = _sum_rho_currents(parts, st.currents)
        fs = sum(p[2] for p in parts) if direct else None
        return rho, cur, fs

    def _compiled_fft(self, frames, r, inv, n_h, vel, flags, hkl, n_max):
        st = self.settings
        n_f = frames.size
        seg = self.segment
        first = int(frames[n_h])                       # first target frame
        blocks = self._blocks(LANES_FFT)
        q_group = self.model.fft_q_group(self.budget)
        groups = [(q0, min(q0 + q_group, self.n_q)) for q0 in range(0, self.n_q, q_group)]
        n_items = len(blocks) * len(groups)
        n_tasks = min(max(1, int(st.threads)), n_items)
        pos = np.zeros(n_f, dtype=np.int64)
        pos[:n_h] = frames[:n_h] - (first - seg)       # history in the segment before the first
        pos[n_h:] = (frames[n_h:] - first) % seg
        job = SimpleNamespace(frames=frames, r=r, inv=inv, n_h=n_h, vel=vel, flags=flags,
                              hkl=hkl, n_max=n_max, blocks=blocks, pos=pos, first=first,
                              rows=np.zeros(n_f, dtype=np.int64), groups=groups,
                              starts=list(range(n_h, n_f, seg)))
        take = self._ranges(n_items, n_tasks)

        def run(t):
            out = SimpleNamespace(
                rho=np.zeros((self.n_s, self.n_q, n_f, 2)),
                cur=np.zeros((self.n_s, self.n_q, n_f, 3, 2) if st.currents else (1, 1, 1, 1, 1)),
                spectra=np.zeros((self.n_s, self.n_q, 2 * seg), dtype=complex),
                bufs=[np.zeros((q_group, 1, 2 * seg, LANES_FFT), dtype=complex)
                      for _ in range(2)])
            while (rng := take()) is not None:
                for item in range(*rng):
                    self._fft_atoms(job, item // len(groups), groups[item % len(groups)], out)
            return out.rho, out.cur, out.spectra

        parts = self._map(run, n_tasks)
        rho, cur = _sum_rho_currents(parts, st.currents)
        spectra = sum(p[2] for p in parts)
        fs = scipy.fft.ifft(spectra, axis=-1, workers=1)[..., :self.n_lags].real
        return rho, cur, np.ascontiguousarray(fs)

    def _fft_atoms(self, job, b: int, q_range: tuple[int, int], out) -> None:
        """The FFT self part (and densities) of atom block b and the q-points in ``q_range``
        over the segments of a block of frames: history segment first, then each target
        segment with its predecessor."""
        from ._numba_kernel import MODE_STORE

        ker = self.kernel.compiled_kernels
        currents = self.settings.currents
        seg = self.segment
        n_f, n_h = job.frames.size, job.n_h
        a0, a1, sp = (int(x) for x in job.blocks[b])
        q0, q1 = q_range
        hkl = job.hkl[q0:q1]
        rho = out.rho[:, q0:q1]
        cur = out.cur[:, q0:q1] if currents else out.cur
        bufs = [buf[:q1 - q0] for buf in out.bufs]

        def phases(k0, k1, buf):
            ker.sweep(job.r[k0:k1], job.inv, self.order, job.vel[k0:k1] if currents else job.vel,
                      job.blocks, b, b + 1, hkl, job.n_max, MODE_STORE, LANES_FFT, rho, cur, k0,
                      buf, job.rows[k0:k1], job.pos[k0:k1], a0)
            return scipy.fft.fft(buf, axis=2, workers=1, overwrite_x=True)

        prev, g_prev, which = None, 0, 1              # the transform may share its buffer
        if n_h:
            bufs[1][...] = 0.0
            prev, g_prev = phases(0, n_h, bufs[1]), job.first - seg
        for k0 in job.starts:
            k1 = min(k0 + seg, n_f)
            which = 1 - which
            buf = bufs[which]
            buf[:, :, k1 - k0:, :] = 0.0               # padding (the rest is overwritten)
            u = phases(k0, k1, buf)
            g = int(job.frames[k0])
            ker.accumulate_spectra(u[:, 0], g, (u if prev is None else prev)[:, 0], g_prev,
                                   prev is not None, a1 - a0, self.step,
                                   out.spectra[sp, q0:q1])
            prev, g_prev = u, g

    # --- numpy (and CuPy) kernel -----------------------------------------------------------
    def _numpy_groups(self, n_f: int, n_history: int):
        """(first, end, PhaseKernel) of the q-point groups of the numpy kernel: its phases and
        self-part arrays of one group take at most a quarter of the memory budget."""
        st = self.settings
        size = self.model.numpy_q_group(self.budget, n_f - n_history)
        if getattr(self, "_groups", (None,))[0] != size:
            if size == self.n_q:
                kernels = [(0, self.n_q, self.kernel)]
            else:
                kernels = [(q0, min(q0 + size, self.n_q),
                            PhaseKernel(self.q[q0:q0 + size], st.cell, threads=st.threads,
                                        backend=st.backend, accelerator="numpy"))
                           for q0 in range(0, self.n_q, size)]
            self._close_groups()
            self._groups = (size, kernels)
        return self._groups[1]

    def _close_groups(self) -> None:
        for _, _, kernel in getattr(self, "_groups", (None, []))[1]:
            if kernel is not self.kernel:
                kernel.close()

    def _numpy(self, block: Block, frames: np.ndarray):
        st = self.settings
        xp = self.kernel.xp
        pos = np.asarray(block.positions, dtype=float)[:, self.order]
        n_f = frames.size
        if not (st.incoherent or st.currents):
            rho = xp.zeros((self.n_s, self.n_q, n_f), dtype=complex)
            for q0, q1, kernel in self._numpy_groups(n_f, block.n_history):
                rho[:, q0:q1] = kernel.evaluate(pos, self.slices)[0]
            return _host(xp, rho), None, None
        rho = xp.zeros((self.n_s, self.n_q, n_f), dtype=complex)
        cur = xp.zeros((self.n_s, self.n_q, n_f, 3), dtype=complex) if st.currents else None
        fs = xp.zeros((self.n_s, self.n_q, self.n_lags)) if st.incoherent else None
        vel = None if cur is None else np.asarray(block.velocities, dtype=float)
        per = ATOMS_NUMPY * (4 if self.method == "direct" else 1)
        for q0, q1, kernel in self._numpy_groups(n_f, block.n_history):
            self_part = None
            if st.incoherent:
                kind = _NumpyDirect if self.method == "direct" else _NumpySelf
                self_part = kind(self, frames, block.n_history, q1 - q0)
            for sp, sl in enumerate(self.slices):
                for a0 in range(sl.start, sl.stop, per):
                    a1 = min(a0 + per, sl.stop)
                    _, e = kernel.evaluate(pos[:, a0:a1], [slice(0, a1 - a0)], keep_phases=True)
                    rho[sp, q0:q1] += e.sum(axis=2)
                    if cur is not None:
                        v = xp.asarray(vel[:, self.order[a0:a1]])
                        cur[sp, q0:q1] += xp.einsum("qfa,fac->qfc", e, v)
                    if self_part is not None:
                        self_part.add(e, sp)
            if self_part is not None:
                fs[:, q0:q1] = self_part.sums()
            if kernel is not self.kernel:
                kernel.release()                 # one group's work arrays at a time
        return _host(xp, rho), (None if cur is None else _host(xp, cur)), \
            (None if fs is None else _host(xp, fs))


class _NumpySelf:
    """The FFT self part of the module docstring with array operations (numpy or CuPy).

    Rows of the segment array: 0 = the history segment [first - L, first), 1.. = the target
    segments.  V, the transform of the series masked to the time origins, is a second
    transform of the masked series (array code has no cheap frequency shift)."""

    def __init__(self, engine: CorrelationEngine, frames: np.ndarray, n_history: int, n_q: int):
        self.xp = xp = engine.kernel.xp
        self.engine = engine
        seg = engine.segment
        self.n = n = 2 * seg
        first = int(frames[n_history])
        n_f = frames.size
        self.n_seg = -(-(n_f - n_history) // seg)
        rows = np.empty(n_f, dtype=np.int64)
        pos = np.empty(n_f, dtype=np.int64)
        rows[:n_history] = 0
        pos[:n_history] = frames[:n_history] - (first - seg)
        rel = frames[n_history:] - first
        rows[n_history:] = 1 + rel // seg
        pos[n_history:] = rel % seg
        self.rows, self.pos = xp.asarray(rows), xp.asarray(pos)
        mask = np.zeros((self.n_seg + 1, n))
        mask[rows, pos] = frames % engine.step == 0
        self.mask = None if mask[rows, pos].all() else xp.asarray(mask)[None, :, :, None]
        self.spectra = xp.zeros((len(engine.slices), n_q, n), dtype=complex)
        self.sign = xp.asarray(1.0 - 2.0 * (np.arange(n) % 2))[None, None, :, None]

    def add(self, e, sp: int) -> None:
        """Phases e (n_q, n_f, n_atoms) of atoms of species sp."""
        xp = self.xp
        n_q, _, n_at = e.shape
        u = xp.zeros((n_q, self.n_seg + 1, self.n, n_at), dtype=complex)
        u[:, self.rows, self.pos, :] = e
        v = u if self.mask is None else u * self.mask
        u = self._fft(u)
        v = u if self.mask is None else self._fft(v)
        v = xp.conj(v)
        prod = v[:, 1:] + self.sign * v[:, :-1]              # conj(V_k) + (-1)^w conj(V_k-1)
        self.spectra[sp] += xp.einsum("qrwa,qrwa->qw", u[:, 1:], prod)

    def _fft(self, a):
        if self.xp is np:
            return scipy.fft.fft(a, axis=2, overwrite_x=True,
                                 workers=max(1, self.engine.settings.threads))
        return self.xp.fft.fft(a, axis=2)

    def sums(self) -> np.ndarray:
        xp = self.xp
        fs = xp.fft.ifft(self.spectra, axis=-1)[..., :self.engine.n_lags].real
        return _host(xp, fs)


class _NumpyDirect:
    """The direct self part with array operations: per group of TARGETS_NUMPY target frames, the
    products of their phases with those of every origin in reach are one batched real matrix
    product over the atoms ([Re e, Im e] . [Re e', Im e']), and a 0/1 matrix adds each product
    to the sum of its lag."""

    def __init__(self, engine: CorrelationEngine, frames: np.ndarray, n_history: int, n_q: int):
        self.xp = xp = engine.kernel.xp
        self.engine = engine
        w = engine.n_lags - 1
        origins = np.flatnonzero(frames % engine.step == 0)
        self.groups = []
        for t0 in range(n_history, frames.size, TARGETS_NUMPY):
            t_sel = np.arange(t0, min(t0 + TARGETS_NUMPY, frames.size))
            lo, hi = frames[t_sel[0]] - w, frames[t_sel[-1]]
            o_sel = origins[(frames[origins] >= lo) & (frames[origins] <= hi)]
            lag = frames[t_sel][:, None] - frames[o_sel][None, :]
            valid = (lag >= 0) & (lag <= w)
            onehot = np.zeros((int(valid.sum()), engine.n_lags))
            onehot[np.arange(onehot.shape[0]), lag[valid]] = 1.0
            self.groups.append((xp.asarray(t_sel), xp.asarray(o_sel), xp.asarray(valid),
                                xp.asarray(onehot)))
        self.sums_ = xp.zeros((len(engine.slices), n_q, engine.n_lags))

    def add(self, e, sp: int) -> None:
        """Phases e (n_q, n_f, n_atoms) of atoms of species sp."""
        xp = self.xp
        er = xp.concatenate([e.real, e.imag], axis=2)                  # (n_q, n_f, 2 n_atoms)
        for t_sel, o_sel, valid, onehot in self.groups:
            g = xp.matmul(er[:, t_sel], er[:, o_sel].transpose(0, 2, 1))     # (n_q, n_t, n_o)
            self.sums_[sp] += g[:, valid] @ onehot

    def sums(self) -> np.ndarray:
        return _host(self.xp, self.sums_)


def _host(xp, a):
    """A numpy array (copied from the GPU when the backend is CuPy)."""
    return a if xp is np else xp.asnumpy(a)


def _sum_rho_currents(parts, currents: bool):
    """Add the per-task (real, imaginary) rho and current sums and make them complex."""
    rho = sum(p[0] for p in parts)
    cur = None
    if currents:
        c = sum(p[1] for p in parts)
        cur = c[..., 0] + 1j * c[..., 1]
    return rho[..., 0] + 1j * rho[..., 1], cur
