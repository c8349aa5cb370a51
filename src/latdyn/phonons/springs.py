r"""Model force constants from central springs (Born-von Karman), for crystals without a
force-constant file: tests, benchmarks and quick estimates.

Every pair of atoms closer than ``cutoff`` is joined by a central spring of stiffness k (eV/A^2),
the same for all pairs, one per pair of species (a mapping {(A, B): k}; pairs not named get no
spring), and times exp(-(d - d_min)/decay) when ``decay`` is given.  The force constants are
(M. T. Dove, Introduction to Lattice Dynamics (1993), section 3.2)

.. math::

    \Phi_{\alpha\beta}(0k; \mathbf R k') = -k\, \hat d_\alpha \hat d_\beta, \qquad
    \Phi_{\alpha\beta}(0k; 0k) = \sum_{(\mathbf R k') \ne (0k)} k\, \hat d_\alpha \hat d_\beta

with d = r_k' + R - r_k: symmetric under permutation and obeying the acoustic sum rule by
construction.  A crystal whose atoms have too few springs to be stable gives imaginary modes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import InputError
from ..structure import Crystal
from .model import ForceConstants

__all__ = ["spring_model"]


def _pair_stiffness(crystal: Crystal, k) -> np.ndarray:
    """(N, N) stiffness of each pair of atoms (eV/A^2) from a number or {(A, B): k}."""
    n = crystal.n_atoms
    if not isinstance(k, Mapping):
        if not k > 0:
            raise InputError("k must be positive", field="k", value=k)
        return np.full((n, n), float(k))
    species = [str(s) for s in crystal.symbols]
    out = np.zeros((n, n))
    for pair, value in k.items():
        if len(pair) != 2 or not value > 0:
            raise InputError("k must map pairs of species (A, B) to positive stiffnesses",
                             field="k", value=(pair, value))
        a, b = pair
        if a not in species or b not in species:
            raise InputError("k names a species the crystal does not hold", field="k",
                             value=(pair, sorted(set(species))))
        for i in range(n):
            for j in range(n):
                if {species[i], species[j]} == {a, b}:
                    out[i, j] = float(value)
    return out


def spring_model(crystal: Crystal, cutoff: float, k: float | Mapping = 1.0,
                 decay: float | None = None, asr: str | None = "realspace") -> ForceConstants:
    """A :class:`ForceConstants` of central springs between all pairs closer than ``cutoff``
    (angstrom), stiffness ``k`` eV/A^2 or a mapping {(species A, species B): k} (unnamed pairs
    get no spring), times exp(-(d - d_min)/decay) when ``decay`` is given."""
    if not cutoff > 0:
        raise InputError("cutoff must be positive", field="cutoff", value=cutoff)
    pair_k = _pair_stiffness(crystal, k)
    n = crystal.n_atoms
    cell = crystal.cell
    r = crystal.r_cart
    span = np.ceil(cutoff / crystal.lattice.plane_spacings()).astype(int) + 1
    axes = [np.arange(-s, s + 1) for s in span]
    cells = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    d = r[None, None, :, :] + (cells @ cell)[:, None, None, :] - r[None, :, None, :]  # (nR, i, j, 3)
    dist = np.linalg.norm(d, axis=-1)
    bond = (dist < cutoff) & (dist > 1e-8) & (pair_k[None] > 0)
    if not bond.any():
        raise InputError("no pair of atoms within the cutoff", field="cutoff", value=cutoff)
    d_min = dist[bond].min()
    kk = np.where(bond, pair_k[None] * (np.exp(-(dist - d_min) / decay) if decay else 1.0), 0.0)
    unit = np.where(bond[..., None], d / np.where(bond, dist, 1.0)[..., None], 0.0)
    blocks = -kk[..., None, None] * unit[..., :, None] * unit[..., None, :]      # (nR, i, j, 3, 3)
    zero = int(np.flatnonzero(np.all(cells == 0, axis=1))[0])
    self_term = -blocks.sum(axis=(0, 2))                                       # (i, 3, 3)
    for i in range(n):
        blocks[zero, i, i] += self_term[i]
    keep = np.any(blocks != 0, axis=(1, 2, 3, 4))
    blocks = blocks[keep].transpose(0, 1, 3, 2, 4).reshape(int(keep.sum()), 3 * n, 3 * n)
    return ForceConstants(crystal, cells[keep], blocks, asr=asr, source="spring model")
