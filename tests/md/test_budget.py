"""The memory budget of the correlation engine: block sizes, the peak-memory model against the
memory actually allocated, and results that do not depend on the budget."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from latdyn.errors import InputError
from latdyn.md import Trajectory, compute_correlations, qpoints_in_shells
from latdyn.md.budget import MB, MemoryModel


@pytest.fixture(scope="module")
def liquid():
    rng = np.random.default_rng(4)
    n_f, n_a, box = 600, 240, 14.0
    pos = rng.uniform(0, box, (n_a, 3)) + np.cumsum(rng.normal(0, 0.15, (n_f, n_a, 3)), axis=0)
    symbols = ["Cu" if i % 4 else "Zr" for i in range(n_a)]
    q = qpoints_in_shells(np.eye(3) * box, q_max=3.0, n_shells=6, max_per_shell=6, seed=1).q
    return Trajectory.from_arrays(pos, np.eye(3) * box, symbols, 0.005), q


@pytest.mark.parametrize("accelerator, method, memory_mb", [
    ("auto", "direct", 3), ("auto", "direct", 12), ("auto", "fft", 6), ("auto", "fft", 24),
    ("numpy", "direct", 24), ("numpy", "fft", 48)])
def test_blocks_fit_the_budget_and_the_allocations_fit_the_model(liquid, accelerator, method,
                                                                 memory_mb):
    traj, q = liquid
    kw = dict(self_method=method, accelerator=accelerator, progress=False)
    # the same call on a few frames first: kernels, lazy imports and caches are not modelled
    compute_correlations(traj, q, 40, 2, stop=60, memory_mb=memory_mb, threads=1, **kw)
    tracemalloc.start()
    try:
        res = compute_correlations(traj, q, 40, 2, memory_mb=memory_mb, threads=1, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    model_mb = res.settings["memory_model_mb"]
    assert model_mb <= memory_mb
    assert peak <= model_mb * MB, (peak / MB, model_mb)
    assert res.settings["block_frames"] < traj.n_frames          # never the whole trajectory
    reference = compute_correlations(traj, q, 40, 2, self_method=method, chunk_size=600,
                                     progress=False)
    assert np.max(np.abs(res.f_inc - reference.f_inc)) < 1e-12
    assert np.max(np.abs(res.f_coh - reference.f_coh)) < 1e-12 * np.max(np.abs(reference.f_coh))


def test_block_frames_grow_with_the_budget_up_to_the_efficient_block():
    model = MemoryModel(20000, 300, 2, 201, 1, 2, "direct", 256)
    small, large = model.block_frames(300), model.block_frames(20000)
    assert 1 <= small < large == model.efficient_block()
    assert model.peak(small, 300 * MB) <= 300 * MB < model.peak(small + 1, 300 * MB)
    fft = MemoryModel(500, 300, 1, 201, 1, 2, "fft", 256)
    assert fft.block_frames(256) % 256 == 0
    assert fft.block_frames(256, n_frames=300) == 300             # a short trajectory: one block
    with pytest.raises(InputError, match="memory budget is too small: the smallest block needs"):
        MemoryModel(1_000_000, 300, 1, 201, 1, 2, "direct", 256).block_frames(256)


def test_bad_budget_is_refused(liquid):
    traj, q = liquid
    with pytest.raises(InputError, match="memory budget"):
        compute_correlations(traj, q, 10, memory_mb=0)
