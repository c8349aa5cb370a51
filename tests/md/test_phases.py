"""The phase kernel: lattice (power tables), direct (cos/sin) and compiled paths agree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latdyn.errors import DependencyError, InputError
from latdyn.md.phases import PhaseKernel


def _setup(seed=0, n_frames=5, n_atoms=37):
    rng = np.random.default_rng(seed)
    cell = np.array([[9.0, 0.0, 0.0], [1.5, 8.0, 0.0], [0.5, -0.7, 10.0]])     # triclinic
    b = 2 * np.pi * np.linalg.inv(cell).T
    hkl = rng.integers(-9, 10, (23, 3))
    pos = rng.uniform(-20, 30, (n_frames, n_atoms, 3))                    # also outside the box
    return cell, hkl @ b, pos


def _direct(q, pos):
    return np.exp(1j * np.einsum("fjc,qc->qfj", pos, q))


def test_lattice_path_matches_direct_exponentials():
    cell, q, pos = _setup()
    kernel = PhaseKernel(q, cell, accelerator="numpy")
    assert kernel.on_lattice
    slices = [slice(0, 10), slice(10, 37)]
    rho, e = kernel.evaluate(pos, slices, keep_phases=True)
    ref = _direct(q, pos)
    assert np.max(np.abs(e - ref)) < 1e-12
    assert np.allclose(rho[0], ref[:, :, :10].sum(-1), atol=1e-11)
    assert np.allclose(rho[1], ref[:, :, 10:].sum(-1), atol=1e-11)


def test_off_lattice_points_use_the_direct_path():
    cell, q, pos = _setup()
    kernel = PhaseKernel(q + 0.0123, cell)
    assert not kernel.on_lattice
    rho, _ = kernel.evaluate(pos, [slice(0, 37)])
    assert np.allclose(rho[0], _direct(q + 0.0123, pos).sum(-1), atol=1e-11)


def test_compiled_kernel_matches_numpy():
    pytest.importorskip("numba")
    cell, q, pos = _setup(n_atoms=600)                     # several atom blocks
    slices = [slice(0, 250), slice(250, 270), slice(270, 600)]
    a = PhaseKernel(q, cell, accelerator="numba").evaluate(pos, slices, keep_phases=True)
    b = PhaseKernel(q, cell, accelerator="numpy").evaluate(pos, slices, keep_phases=True)
    assert np.max(np.abs(a[0] - b[0])) < 1e-11
    assert np.max(np.abs(a[1] - b[1])) < 1e-12


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-30, 30), min_size=3, max_size=3),
       st.floats(-100, 100, allow_nan=False))
def test_single_phase_any_index_and_coordinate(hkl, x):
    cell = np.eye(3) * 7.0
    q = np.array(hkl, dtype=float)[None, :] * 2 * np.pi / 7.0
    pos = np.array([[[x, -0.37 * x, 0.11]]])
    expected = np.exp(1j * (pos[0, 0] @ q[0]))
    for acc in ("numpy", "auto"):
        rho, _ = PhaseKernel(q, cell, accelerator=acc).evaluate(pos, [slice(0, 1)])
        assert abs(rho[0, 0, 0] - expected) < 1e-12


def test_bad_arguments():
    with pytest.raises(InputError):
        PhaseKernel(np.zeros((3, 2)), np.eye(3))
    with pytest.raises(InputError):
        PhaseKernel(np.zeros((1, 3)), np.eye(3), backend="opencl")
    with pytest.raises(DependencyError):
        PhaseKernel(np.full((1, 3), 0.3), np.eye(3), accelerator="numba")     # off lattice
