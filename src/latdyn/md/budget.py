r"""Peak memory of the correlation engine and the block size that fits a memory budget.

:func:`latdyn.md.intermediate.compute_correlations` streams a trajectory in blocks of T target
frames, each preceded by its history, the H <= W / s + 1 time origins of the window before it
(W: largest lag, s: origin step).  Its peak memory, in bytes, beyond the fixed cost of the
interpreter and the imported libraries (about 115 MB for latdyn.md with numba), is modelled
term by term as

.. math::

    M(T) = \underbrace{24\,N\,v\,(4T + 2H)}_{\text{positions}}
         + \underbrace{16\,n_s\,n_q\,(T + H)\,(c_k P + c_s + 2)}_{\text{densities}}
         + \underbrace{S}_{\text{self part}} + \underbrace{C}_{\text{correlation FFTs}}

with N atoms, n_s species, n_q q-points, P threads, v = 2 with velocities (currents) else 1,
c_k = 1 (3 more with currents) density arrays per thread and c_s = 1 (4 more with currents)
signals.  The positions term counts the block with its history (T + H frames), the history
kept for the next block (H), the chunk being read ahead (T) and the reader's buffer and copy
(2T).  S is the self part's working memory: the direct method's ring of open origins
(16 B x slots x LANES_DIRECT atoms per q-point, in passes over as many q-points as fit in
RING_BYTES per thread) or the FFT method's segment buffers, 2 x 16 B x n_q,g x 2L x 16 atoms
per thread for groups of n_q,g q-points (chosen so that they take at most a quarter of the
budget).  C are the zero-padded FFTs of the densities, computed for groups of q-points that
take at most an eighth of the budget.  Loading the compiled kernels (the first run in a
process) is not part of M(T).

T is the largest block that fits the budget, but not longer than a few histories (16 H,
at least 64 frames, for the direct method; 4 segments for the FFT method), beyond which a
longer block saves nothing: the memory then stays near that of a streaming tool that holds
one window, plus the fixed cost.  The numpy kernel also holds the phases of a group of atoms
for its q-points (groups of q-points within a quarter of the budget) and a copy of the block's
positions in species order; the model adds them.  A budget smaller than the
smallest possible block (one target frame and its history; a segment with the FFT method)
is refused with the memory it would need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError

__all__ = ["DEFAULT_MEMORY_MB", "MB", "RING_BYTES", "MemoryModel"]

MB = 1 << 20
#: Default memory budget of a correlation run (or of one Dask task), MB.
DEFAULT_MEMORY_MB = 256.0
#: Bytes of origin phases the direct method keeps per thread (stays in the L2/L3 caches).
RING_BYTES = 2 << 20
#: Atoms per block of the FFT self part.
LANES_FFT = 16
#: Atoms per block of the numpy kernel's self part (FFT method; the direct one takes 4x more).
ATOMS_NUMPY = 8
#: Largest atom block of the direct self part.
LANES_DIRECT = 64
#: Fewest q-points per pass of the direct self part (its power tables are shared by them).
DIRECT_MIN_Q = 16


@dataclass(frozen=True)
class MemoryModel:
    """The terms of the module docstring for one run.

    ``method`` is the self-part method ('direct', 'fft' or None without the self part),
    ``segment`` the FFT segment length L, ``threads`` the worker threads P, ``compiled``
    whether the compiled kernel runs, ``tables`` the bytes of the numpy kernel's power
    tables.
    """

    n_atoms: int
    n_q: int
    n_species: int
    n_lags: int
    origin_step: int
    threads: int
    method: str | None
    segment: int
    currents: bool = False
    compiled: bool = True
    tables: int = 0

    @property
    def history(self) -> int:
        """H: time origins in the window before a block's first target frame."""
        return (self.n_lags - 1) // self.origin_step + 1

    # --- the terms ---------------------------------------------------------------------------
    def positions(self, t: int) -> int:
        v = 2 if self.currents else 1
        return 24 * self.n_atoms * v * (4 * t + 2 * self.history)

    def densities(self, t: int) -> int:
        c_k = 1 + 3 * self.currents
        c_s = 1 + 4 * self.currents
        return 16 * self.n_species * self.n_q * (t + self.history) * (c_k * self.threads + c_s + 2)

    def fft_q_group(self, budget: int) -> int:
        """q-points per group of the FFT self part: its buffers take <= budget / 4."""
        per_q = 2 * 16 * 2 * self.segment * LANES_FFT * self.threads
        return int(max(1, min(self.n_q, budget // 4 // per_q)))

    def _slots(self) -> int:
        from ._numba_kernel import GROUP

        return (self.n_lags - 2 + GROUP) // self.origin_step + 1

    def direct_lanes(self) -> int:
        """Atoms per block of the direct method: LANES_DIRECT, fewer (down to 16) when even
        DIRECT_MIN_Q q-points of open origins would not fit in RING_BYTES."""
        per_lane = 16 * DIRECT_MIN_Q * (self._slots() + 4)
        return int(min(LANES_DIRECT, max(16, RING_BYTES // per_lane // 8 * 8)))

    def direct_q_group(self) -> int:
        """q-points per pass of the direct method over a block: its ring of open origins,
        q-points x slots x 2 lanes doubles, stays below RING_BYTES (in the L2 cache)."""
        per_q = 16 * (self._slots() + 4) * self.direct_lanes()
        return int(max(1, min(self.n_q, RING_BYTES // per_q)))

    def self_part(self, budget: int) -> int:
        if self.method == "direct":
            ring = 16 * self.direct_q_group() * (self._slots() + 4) * self.direct_lanes()
            return ring * self.threads + 8 * self.n_species * self.n_q * self.n_lags \
                * (self.threads + 1)
        if self.method == "fft":
            q_g = self.fft_q_group(budget)
            buffers = 2 * 16 * q_g * 2 * self.segment * LANES_FFT * self.threads
            spectra = 16 * self.n_species * self.n_q * 2 * self.segment * (self.threads + 1)
            return buffers + spectra
        return 0

    def numpy_q_group(self, budget: int, t: int) -> int:
        """q-points per group of the numpy kernel: the phases of a group of atoms for them
        (and the FFT method's segment arrays) take <= budget / 4."""
        per = ATOMS_NUMPY * (4 if self.method == "direct" else 1)
        n_f = t + self.history
        per_q = 3 * 16 * n_f * per
        if self.method == "fft":
            n_seg = -(-t // self.segment) + 1
            per_q += 4 * 16 * n_seg * 2 * self.segment * per
        return int(max(1, min(self.n_q, budget // 4 // per_q)))

    def numpy_kernel(self, budget: int, t: int) -> int:
        """Working memory of the numpy kernel (0 for the compiled one)."""
        if self.compiled:
            return 0
        per = ATOMS_NUMPY * (4 if self.method == "direct" else 1)
        n_f = t + self.history
        per_q = 3 * 16 * n_f * per
        if self.method == "fft":
            per_q += 4 * 16 * (-(-t // self.segment) + 1) * 2 * self.segment * per
        return per_q * self.numpy_q_group(budget, t) + 24 * self.n_atoms * n_f + self.tables

    def correlation_q_group(self, budget: int, t: int) -> int:
        """q-points per group of the density FFTs: <= budget / 8 (signals, spectra, product)."""
        n_fft = t + self.history + self.n_lags
        signals = self.n_species * (1 + 4 * self.currents)
        per_q = 16 * n_fft * (3 * signals + 3)
        return int(max(1, min(self.n_q, budget // 8 // per_q)))

    def correlation(self, budget: int, t: int) -> int:
        n_fft = t + self.history + self.n_lags
        signals = self.n_species * (1 + 4 * self.currents)
        return 16 * n_fft * (3 * signals + 3) * self.correlation_q_group(budget, t)

    def peak(self, t: int, budget: int) -> int:
        """M(T) in bytes for blocks of ``t`` target frames under ``budget`` bytes."""
        return self.positions(t) + self.densities(t) + self.self_part(budget) \
            + self.correlation(budget, t) + self.numpy_kernel(budget, t)

    # --- the block size ----------------------------------------------------------------------
    def smallest_block(self) -> int:
        return self.segment if self.method == "fft" else 1

    def efficient_block(self) -> int:
        """Beyond this many target frames a longer block saves (almost) nothing."""
        if self.method == "fft":
            return 4 * self.segment
        return max(64, 16 * self.history)

    def block_frames(self, memory_mb: float, n_frames: int | None = None,
                     source: str | None = None, longest: int | None = None) -> int:
        """T: target frames per block under ``memory_mb`` (module docstring), at most the
        ``n_frames`` of the trajectory when known and at most ``longest`` (default: the
        efficient block); whole segments with the FFT method."""
        budget = int(float(memory_mb) * MB)
        smallest = self.smallest_block()
        need = self.peak(smallest, budget)
        if need > budget:
            raise InputError(f"the memory budget is too small: the smallest block needs "
                             f"{math.ceil(need / MB)} MB (a larger origin step shortens the "
                             "history of time origins each block carries)", file=source,
                             field="memory_mb", value=memory_mb)
        lo, hi = smallest, max(smallest, longest or self.efficient_block())
        if n_frames is not None:
            hi = max(smallest, min(hi, int(n_frames)))
        if self.peak(hi, budget) <= budget:
            t = hi
        else:
            while hi - lo > 1:                      # peak(lo) fits, peak(hi) does not
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if self.peak(mid, budget) <= budget else (lo, mid)
            t = lo
        if self.method == "fft" and (n_frames is None or t < n_frames):
            t = max(self.segment, t // self.segment * self.segment)   # whole segments
        return int(t)
