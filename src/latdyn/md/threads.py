"""One thread setting for everything ``latdyn.md`` runs in parallel.

Every analysis of :mod:`latdyn.md` takes ``threads``: the number of worker threads of its
kernels (compiled numba functions that release the GIL, or numpy code).  Inside
:func:`thread_limits` the other thread pools of the process follow that one number:

- BLAS (OpenBLAS, MKL; through threadpoolctl) runs on one thread, because the parallel work is
  already split over ``threads`` workers: a BLAS pool inside each worker would put
  ``threads x cores`` threads on the cores (the numpy kernel's batched matrix products ran at
  half speed with two OpenBLAS threads inside two workers);
- numba's own parallel regions (``numba.set_num_threads``) use at most ``threads`` threads;
- :func:`current_threads` tells code without a ``threads`` argument (the FFTs of
  :class:`~latdyn.md.correlate.StreamCorrelator`) how many workers to use.

Dask tasks run their kernels with ``threads=1`` (the workers of the cluster are the parallel
units), so a task never starts more threads than its worker has cores.
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager
from contextvars import ContextVar

from ..errors import InputError

__all__ = ["DEFAULT_THREADS", "resolve_threads", "thread_limits", "current_threads"]

#: Threads when none are given: LATDYN_THREADS if set, else 2.
DEFAULT_THREADS = 2

_current: ContextVar[int | None] = ContextVar("latdyn_md_threads", default=None)


def resolve_threads(threads: int | None) -> int:
    """The number of threads to use: ``threads`` (at least 1), or the default (the environment
    variable LATDYN_THREADS, else DEFAULT_THREADS) when None."""
    if threads is None:
        env = os.environ.get("LATDYN_THREADS")
        if env is None:
            return DEFAULT_THREADS
        try:
            threads = int(env)
        except ValueError:
            raise InputError("LATDYN_THREADS must be an integer", field="LATDYN_THREADS",
                             value=env) from None
    threads = int(threads)
    if threads < 1:
        raise InputError("threads must be at least 1", field="threads", value=threads)
    return threads


def current_threads() -> int:
    """The thread count set by the innermost :func:`thread_limits`, else the default."""
    value = _current.get()
    return resolve_threads(None) if value is None else value


@contextmanager
def thread_limits(threads: int | None):
    """Run the enclosed work with ``threads`` latdyn workers, one BLAS thread per worker and
    numba's parallel regions limited to ``threads`` (module docstring).  Yields the thread
    count; the previous limits come back on exit."""
    n = resolve_threads(threads)
    token = _current.set(n)
    numba_before = _set_numba_threads(n)
    try:
        with _blas_controller().limit(limits=1, user_api="blas"):
            yield n
    finally:
        if numba_before is not None:
            _set_numba_threads(numba_before)
        _current.reset(token)


@functools.cache
def _blas_controller():
    """The process's threadpoolctl controller (finding the libraries takes milliseconds, so it
    is done once; Dask tasks call :func:`thread_limits` often)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _set_numba_threads(n: int) -> int | None:
    """Set numba's thread count (capped at its maximum); returns the previous value, or None
    without numba."""
    try:
        import numba
    except ImportError:
        return None
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return before
