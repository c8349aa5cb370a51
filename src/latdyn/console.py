"""How much a running latdyn prints besides its results: the CLI's ``--quiet`` / ``--verbose``.

Three levels: :data:`QUIET` (results and warnings only: no progress bars, no informational
lines), :data:`NORMAL` (the default: progress bars on a terminal, where the files went) and
:data:`VERBOSE` (also the notes of a result: conventions, assumptions, what was skipped).
Warnings are printed at every level.  The level lives in a context variable, so a library
caller that never sets it gets :data:`NORMAL`.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator

__all__ = ["QUIET", "NORMAL", "VERBOSE", "verbosity", "set_verbosity", "use_verbosity",
           "info"]

QUIET, NORMAL, VERBOSE = -1, 0, 1

_LEVEL: contextvars.ContextVar[int] = contextvars.ContextVar("latdyn_verbosity", default=NORMAL)


def verbosity() -> int:
    """The current level: :data:`QUIET`, :data:`NORMAL` or :data:`VERBOSE`."""
    return _LEVEL.get()


def set_verbosity(level: int) -> None:
    """Set the level for the rest of this context (the CLI calls it once per command)."""
    _LEVEL.set(max(QUIET, min(VERBOSE, int(level))))


@contextlib.contextmanager
def use_verbosity(level: int) -> Iterator[None]:
    """The level ``level`` within the block, the previous one afterwards."""
    token = _LEVEL.set(max(QUIET, min(VERBOSE, int(level))))
    try:
        yield
    finally:
        _LEVEL.reset(token)


def info(message: str) -> None:
    """An informational line on standard error, left out when quiet."""
    if verbosity() > QUIET:
        print(message, file=sys.stderr)
