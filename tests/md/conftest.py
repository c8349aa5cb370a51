"""Fixtures of the MD tests: small synthetic trajectories with known physics."""

from __future__ import annotations

import numpy as np
import pytest


def _random_walk(n_frames: int, n_atoms: int, box: float, step_sigma: float, seed: int = 0):
    """Unwrapped Brownian positions (frames, atoms, 3) in a cubic box (angstrom)."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, box, (n_atoms, 3))
    steps = rng.normal(0.0, step_sigma, (n_frames, n_atoms, 3))
    steps[0] = 0.0
    return start + np.cumsum(steps, axis=0)


@pytest.fixture
def random_walk():
    """random_walk(n_frames, n_atoms, box, step_sigma, seed) -> unwrapped positions."""
    return _random_walk


@pytest.fixture
def two_species_walk():
    """40 frames of 48 atoms (Li and O) diffusing with some structure, cubic 9 angstrom box."""
    rng = np.random.default_rng(3)
    box = 9.0
    lattice = np.stack(np.meshgrid(*[np.arange(4)] * 3, indexing="ij"), -1).reshape(-1, 3)
    sites = (lattice[:48] + 0.25) * box / 4
    n_frames = 40
    vib = rng.normal(0, 0.08, (n_frames, 48, 3))
    drift = np.cumsum(rng.normal(0, 0.05, (n_frames, 48, 3)), axis=0)
    drift[:, 16:] = 0.0
    positions = sites + vib + drift
    symbols = ["Li"] * 16 + ["O"] * 32
    perm = rng.permutation(48)
    velocities = rng.normal(0, 5.0, (n_frames, 48, 3))
    return positions[:, perm], np.eye(3) * box, [symbols[i] for i in perm], velocities[:, perm]
