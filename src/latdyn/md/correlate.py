r"""Time correlation of streamed signals over sliding windows, with bounded memory.

Both correlators average over time origins s = 0, step, 2 step, ... (``origin_step``) and lags
tau = 0 .. n_lags - 1, using every pair (s, s + tau) inside the trajectory:

.. math:: C_{ab}(\tau) = \frac{1}{N_\tau} \sum_{s \in O,\; s+\tau < N_f}
          \mathrm{Re}\left[a^*(s)\, b(s+\tau)\right]

where N_tau counts the origins that contribute at lag tau (windows near the end of the
trajectory are shorter, so every available pair is used; this is also dynasor's convention).

:class:`StreamCorrelator` keeps at most ``n_lags - 1 + block`` frames of each signal and
evaluates the sums with zero-padded FFTs (Wiener-Khinchin: the sum over origins of a masked
signal is a cross-correlation), costing O(L log L) per frame block instead of O(L n_lags).
It serves the VACF (:mod:`latdyn.md.vacf`); the intermediate scattering functions use the
block engine of :mod:`latdyn.md.engine`, which also sums per-atom signals (the self part).
Its FFTs run on :func:`latdyn.md.threads.current_threads` workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.fft

from .threads import current_threads

__all__ = ["StreamCorrelator", "origin_counts"]


def origin_counts(n_frames: int, n_lags: int, origin_step: int) -> np.ndarray:
    """N_tau: number of origins s (multiples of origin_step) with s + tau < n_frames."""
    origins = np.arange(0, n_frames, origin_step)
    tau = np.arange(n_lags)
    return np.sum(origins[None, :] + tau[:, None] < n_frames, axis=1)


class StreamCorrelator:
    """Accumulate sum_s Re[a*(s) b(s + tau)] for pairs of named signals pushed in time blocks.

    Parameters
    ----------
    n_lags: number of lags (window size + 1).
    origin_step: frames between time origins.
    pairs: (a, b, reduce) triples; each signal is an array (time, k); with ``reduce`` the sum
        over k is taken (e.g. over atoms and Cartesian components), otherwise every k is kept.
    block: frames gathered before a correlation step (default: n_lags).
    """

    def __init__(self, n_lags: int, origin_step: int, pairs: Sequence[tuple[str, str, bool]],
                 block: int | None = None):
        self.n_lags = int(n_lags)
        self.step = int(origin_step)
        self.pairs = list(pairs)
        self.block = max(int(block or n_lags), 1)
        self._buffer: dict[str, list[np.ndarray]] = {}
        self._start = 0           # absolute index of the first buffered frame
        self._length = 0          # frames buffered
        self.sums: dict[tuple[str, str], np.ndarray] = {}
        self.n_frames = 0

    def push(self, signals: Mapping[str, np.ndarray]) -> None:
        """Append one block of frames of every signal (arrays (time, k), same time length)."""
        lengths = {np.shape(v)[0] for v in signals.values()}
        (n,) = lengths
        for name, v in signals.items():
            self._buffer.setdefault(name, []).append(np.asarray(v))
        self._length += n
        self.n_frames += n
        if self._length >= self.n_lags - 1 + self.block:
            self._correlate(final=False)

    def finish(self) -> dict[tuple[str, str], np.ndarray]:
        """Process what is left and return the sums (not yet divided by the counts)."""
        if self._length:
            self._correlate(final=True)
        return self.sums

    def counts(self) -> np.ndarray:
        return origin_counts(self.n_frames, self.n_lags, self.step)

    def _correlate(self, final: bool) -> None:
        data = {k: np.concatenate(v) if len(v) > 1 else v[0] for k, v in self._buffer.items()}
        length = self._length
        ready = length if final else length - (self.n_lags - 1)
        local = np.arange(ready)
        mask = ((self._start + local) % self.step == 0).astype(float)
        n_fft = scipy.fft.next_fast_len(length + self.n_lags - 1)
        real = all(not np.iscomplexobj(v) for v in data.values())
        fft, ifft = (scipy.fft.rfft, scipy.fft.irfft) if real else (scipy.fft.fft, scipy.fft.ifft)
        spectra_origin, spectra_all = {}, {}
        for a, b, _ in self.pairs:
            if a not in spectra_origin:
                x = data[a][:ready] * mask.reshape(-1, *([1] * (data[a].ndim - 1)))
                spectra_origin[a] = fft(x, n=n_fft, axis=0, workers=current_threads())
            if b not in spectra_all:
                spectra_all[b] = fft(data[b], n=n_fft, axis=0, workers=current_threads())
        for a, b, reduce in self.pairs:
            prod = spectra_all[b] * np.conj(spectra_origin[a])
            if reduce:
                prod = prod.reshape(prod.shape[0], -1).sum(axis=1)
            c = ifft(prod, n=n_fft, axis=0, workers=current_threads())[: self.n_lags]
            c = np.real(c)
            key = (a, b)
            self.sums[key] = c if key not in self.sums else self.sums[key] + c
        keep = {k: v[ready:] for k, v in data.items()}
        self._buffer = {k: [v] for k, v in keep.items()}
        self._start += ready
        self._length -= ready
