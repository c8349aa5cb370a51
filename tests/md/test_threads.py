"""One thread setting for latdyn.md: BLAS pinned to one thread inside, numba's threads set to
the same number, both restored afterwards; the default from LATDYN_THREADS."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from latdyn.errors import InputError
from latdyn.md.threads import current_threads, resolve_threads, thread_limits


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_limits_inside_and_restored_after():
    numba = pytest.importorskip("numba")
    import numpy as np

    np.ones((4, 4)) @ np.ones((4, 4))                      # BLAS loaded
    before_blas, before_numba = _blas_threads(), numba.get_num_threads()
    with thread_limits(1) as n:
        assert n == 1 and current_threads() == 1
        assert _blas_threads() <= {1}
        assert numba.get_num_threads() == 1
        with thread_limits(2):
            assert current_threads() == 2
            assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
            assert _blas_threads() <= {1}                  # BLAS stays at one thread
        assert current_threads() == 1 and numba.get_num_threads() == 1
    assert _blas_threads() == before_blas and numba.get_num_threads() == before_numba


def test_default_and_bad_values(monkeypatch):
    monkeypatch.delenv("LATDYN_THREADS", raising=False)
    assert resolve_threads(None) == 2 and resolve_threads(3) == 3
    monkeypatch.setenv("LATDYN_THREADS", "5")
    assert resolve_threads(None) == 5 and current_threads() == 5
    monkeypatch.setenv("LATDYN_THREADS", "many")
    with pytest.raises(InputError, match="LATDYN_THREADS"):
        resolve_threads(None)
    with pytest.raises(InputError, match="threads"):
        resolve_threads(0)
