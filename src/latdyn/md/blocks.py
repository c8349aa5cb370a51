"""Stacking frames read one at a time into blocks of at most ``size`` frames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["stack_blocks"]


def stack_blocks(frames: Iterable[tuple[int, np.ndarray, np.ndarray | None]], size: int, n_atoms: int,
                 start: int, with_velocities: bool
                 ) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
    """Yield (first frame index, positions (k, n_atoms, 3), velocities or None), k <= size.

    ``frames`` yields (index, positions (n_atoms, 3), velocities or None) in order; one buffer
    is reused and each yielded block is a copy, so memory stays at two blocks.
    """
    pos = np.empty((size, n_atoms, 3))
    vel = np.empty((size, n_atoms, 3)) if with_velocities else None
    k, first = 0, start
    for i, p, v in frames:
        pos[k] = p
        if vel is not None:
            vel[k] = v
        k += 1
        if k == size:
            yield first, pos.copy(), None if vel is None else vel.copy()
            k, first = 0, i + 1
    if k:
        yield first, pos[:k].copy(), None if vel is None else vel[:k].copy()
