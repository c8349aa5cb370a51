"""Where the phonon work runs: the array module (numpy or CuPy) and the executor over q chunks
(threads in this process, or Dask).

Array module (``backend``):

- ``'numpy'`` (default): host arrays, LAPACK's batched ``eigh``.
- ``'cupy'``: dynamical matrices are built and diagonalised on a CUDA GPU with CuPy
  (``pip install 'latdyn[gpu]'``); results come back to the host as numpy arrays.  When CuPy
  is not installed, or no CUDA device can be used, a :class:`~latdyn.errors.DependencyError`
  says so.
- ``'auto'``: CuPy when it is installed and a CUDA device answers, numpy otherwise (a silent,
  documented fallback; :func:`resolve_backend` tells which one ``'auto'`` picks).

The numpy and CuPy paths are the same code, written against the module ``xp`` that
:func:`array_module` returns (the CuPy array API mirrors numpy's for everything used here).

Executor (``executor``):

- ``None`` or ``'threads'`` (default): chunks of q one after the other, each split over the
  threads of this process (numpy and LAPACK release the GIL).
- ``'dask'``: one Dask task per chunk (``pip install 'latdyn[dask]'``), computed with Dask's
  current scheduler: the local thread pool by default, or a ``dask.distributed`` client when
  one is active, so the work can spread over a cluster.  Results are the same numbers as with
  threads: every q-point is computed by the same code whatever chunk it falls in.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np

from ..errors import DependencyError, InputError
from ..progress import dask_progress, track

__all__ = ["BACKENDS", "EXECUTORS", "DASK_CHUNK", "array_module", "resolve_backend", "to_host",
           "check_executor", "require_dask", "run_tasks", "blas_single_thread"]

#: Array modules: see the module docstring.
BACKENDS = ("numpy", "cupy", "auto")
#: Executors over chunks of q: see the module docstring.
EXECUTORS = ("threads", "dask")
#: Default q-points per Dask task (several tasks per worker balance the load).
DASK_CHUNK = 500


def _import_cupy() -> ModuleType:
    """CuPy with a usable CUDA device, or a DependencyError that says what is missing."""
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as exc:
        raise DependencyError("the CuPy backend needs CuPy and a CUDA GPU: pip install "
                              "'latdyn[gpu]'", field="backend", value="cupy") from exc
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # CUDARuntimeError, missing driver, ...
        raise DependencyError(f"CuPy is installed but no CUDA device can be used ({exc})",
                              field="backend", value="cupy") from exc
    if count < 1:
        raise DependencyError("CuPy is installed but no CUDA device was found",
                              field="backend", value="cupy")
    return cupy


def array_module(backend: str | None = "numpy") -> ModuleType:
    """The array module for ``backend`` ('numpy', 'cupy' or 'auto'; None means 'numpy')."""
    if backend is None or backend == "numpy":
        return np
    if backend == "cupy":
        return _import_cupy()
    if backend == "auto":
        try:
            return _import_cupy()
        except DependencyError:
            return np
    raise InputError(f"backend must be one of {BACKENDS}", field="backend", value=backend)


def resolve_backend(backend: str | None = "numpy") -> str:
    """Name of the array module ``backend`` resolves to here: 'numpy' or 'cupy'."""
    return "numpy" if array_module(backend) is np else "cupy"


def to_host(xp: ModuleType, a):
    """A numpy array from an array of module ``xp`` (no copy for numpy)."""
    return a if xp is np else xp.asnumpy(a)


def check_executor(executor: str | None) -> str:
    """'threads' for None, else the executor name if known (InputError otherwise)."""
    if executor is None:
        return "threads"
    if executor not in EXECUTORS:
        raise InputError(f"executor must be one of {EXECUTORS} or None", field="executor",
                         value=executor)
    return executor


def require_dask() -> ModuleType:
    """The dask module, or a DependencyError naming the extra to install."""
    try:
        return importlib.import_module("dask")
    except ImportError as exc:
        raise DependencyError("executor='dask' needs Dask: pip install 'latdyn[dask]'",
                              field="executor", value="dask") from exc


def blas_single_thread():
    """Context that limits BLAS to one thread (threadpoolctl, when installed): the work is
    split over our own threads or Dask tasks instead, which avoids oversubscription."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run_tasks(fn: Callable, args: Sequence[tuple], executor: str | None = None, *,
              shared: tuple = (), collect: Callable[[int, object], None] | None = None,
              progress: bool | None = None, desc: str = "chunks") -> list | None:
    """``[fn(*shared, *a) for a in args]`` in order, one call per chunk, with the given executor.

    ``shared``: large objects every call needs (the model, the modes); with Dask each becomes
    one node of the graph (sent once to a distributed cluster, not once per task) and the
    per-chunk ``args`` should stay small (slice bounds).  Each call is a delayed task with a
    random key (nothing is hashed), computed with ``dask.compute`` under the current
    scheduler; BLAS in this process is held to one thread meanwhile, since tasks run in
    parallel.  ``collect(i, result)``: called for each result in order instead of returning
    the list (with threads, a result is handed over as soon as it is made, so only one chunk
    of results is alive at a time).  ``progress``: a tqdm bar (threads) or Dask's progress
    bar (local schedulers); default: on a terminal when there are several chunks.
    """
    kind = check_executor(executor)
    if kind == "threads":
        it = track(args, desc, progress, unit="chunk")
        if collect is None:
            return [fn(*shared, *a) for a in it]
        for i, a in enumerate(it):
            collect(i, fn(*shared, *a))
        return None
    dask = require_dask()
    nodes = [dask.delayed(obj, pure=False, traverse=False) for obj in shared]
    tasks = [dask.delayed(fn, pure=False, traverse=False)(*nodes, *a) for a in args]
    with dask_progress(progress, len(args)), blas_single_thread():
        results = list(dask.compute(*tasks))
    if collect is None:
        return results
    for i in range(len(results)):
        collect(i, results[i])
        results[i] = None
    return None
