"""Progress bars for long steps: one helper for the whole package.

A bar is drawn on standard error, and only when it is a terminal: nothing is written when the
output is piped or captured, and nothing inside :func:`silenced` (``latdyn ... --json`` and
``--quiet`` run the command there, so that machine-read output stays clean).  Every long loop
takes ``progress: bool | None``; None means "on a terminal", True and False force it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator

__all__ = ["shown", "silenced", "progress_bar", "track", "dask_progress"]

_silenced = 0


def shown(enabled: bool | None = None, steps: int | None = None) -> bool:
    """Whether a bar is drawn: never with ``--quiet`` (:mod:`latdyn.console`); else
    ``enabled`` if given, else when standard error is a terminal, the caller is not inside
    :func:`silenced` and there is more than one step."""
    from .console import QUIET, verbosity

    if verbosity() <= QUIET:
        return False
    if enabled is not None:
        return bool(enabled)
    if _silenced or (steps is not None and steps < 2):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """No automatic bar (``progress=None``) is drawn inside this block."""
    global _silenced
    _silenced += 1
    try:
        yield
    finally:
        _silenced -= 1


@contextlib.contextmanager
def progress_bar(total: int | None, desc: str, enabled: bool | None = None, unit: str = "frame"):
    """A tqdm bar of ``total`` steps (``bar.update(n)`` as they finish), disabled unless
    :func:`shown`; it is removed from the terminal when done."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr,
               disable=not shown(enabled, total))
    try:
        yield bar
    finally:
        bar.close()


def track(items: Iterable, desc: str, enabled: bool | None = None, total: int | None = None,
          unit: str = "it") -> Iterable:
    """``items`` with a bar advancing once per item when :func:`shown`; else ``items`` as is."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    if not shown(enabled, total):
        return items
    from tqdm.auto import tqdm

    return tqdm(items, total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)


def dask_progress(enabled: bool | None = None, steps: int | None = None):
    """Dask's progress bar (local schedulers) on standard error when :func:`shown`, else a
    context that does nothing.  (Dask writes to standard output by default, which would mix
    the bar into ``--json`` output.)"""
    if not shown(enabled, steps):
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar

    return ProgressBar(out=sys.stderr)
