r"""Preferred orientation of a powder: the March-Dollase correction.

Platelets or needles in a flat or capillary sample lie with a crystal direction H (the
preferred-orientation axis, given as a reciprocal-lattice vector hkl) along the sample axis.
For a reflection whose scattering vector makes the angle alpha with H, the intensity is scaled
by (W. A. Dollase, J. Appl. Cryst. 19, 267 (1986); A. March, Z. Kristallogr. 81, 285 (1932))

.. math::  P(\alpha) = \left(r^2\cos^2\alpha + \frac{\sin^2\alpha}{r}\right)^{-3/2},

averaged over the symmetry-equivalent members of the reflection family (the Laue orbit).
r = 1 is a random powder; r < 1 platelets with H normal to the plate (reflections along H
enhanced), r > 1 needles.  P is normalised over orientation: its average over the sphere is 1.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..structure import Crystal

__all__ = ["march_dollase", "march_dollase_factor"]


def march_dollase(cos_alpha, r: float) -> np.ndarray:
    """P(alpha) for cos(alpha) (arrays) and the March-Dollase parameter r > 0 (module docstring)."""
    r = _ratio(r)
    c2 = np.clip(np.asarray(cos_alpha, dtype=float) ** 2, 0.0, 1.0)
    return (r * r * c2 + (1.0 - c2) / r) ** -1.5


def march_dollase_factor(crystal: Crystal, hkl, axis, r: float) -> np.ndarray:
    """Preferred-orientation factor of each reflection family ``hkl`` (n, 3): P(alpha) averaged
    over the family's Laue orbit, alpha the angle between Q(hkl') and Q(``axis``) in Cartesian
    reciprocal space."""
    r = _ratio(r)
    h = np.atleast_2d(np.asarray(hkl, dtype=float))
    ax = np.asarray(axis, dtype=float).reshape(-1)
    if ax.shape != (3,) or not np.any(ax != 0) or np.any(~np.isfinite(ax)):
        raise InputError("the preferred-orientation axis must be a non-zero hkl", field="axis",
                         value=np.asarray(axis).tolist())
    b = crystal.lattice.reciprocal_matrix
    u = ax @ b
    u = u / np.linalg.norm(u)
    rots = crystal.space_group.laue_rotations
    out = np.empty(len(h))
    for i, hi in enumerate(h):
        orbit = np.unique(np.round(np.einsum("i,nij->nj", hi, rots)).astype(int), axis=0)
        q = orbit @ b
        cos = (q @ u) / np.linalg.norm(q, axis=1)
        out[i] = float(np.mean(march_dollase(cos, r)))
    return out


def _ratio(r) -> float:
    try:
        r = float(r)
    except (TypeError, ValueError) as exc:
        raise InputError("the March-Dollase r must be a number", field="r", value=r) from exc
    if not np.isfinite(r) or r <= 0:
        raise InputError("the March-Dollase r must be positive", field="r", value=r)
    return r
