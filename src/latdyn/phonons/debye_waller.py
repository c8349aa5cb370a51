r"""Anisotropic Debye-Waller factors from the modes on a Brillouin-zone mesh.

G. L. Squires, Introduction to the Theory of Thermal Neutron Scattering (1978), sec. 3.8:
exp(-2W_k(Q)) with W_k(Q) = Q^T W_k Q = (1/2) <(Q.u_k)^2>, and

.. math::

    W^{\alpha\beta}_k = \frac{\hbar^2}{4 M_k} \frac{1}{\sum_q w_q} \sum_{q\nu} w_q
        \frac{e_{k\alpha,q\nu} e^*_{k\beta,q\nu}}{\hbar\omega_{q\nu}}
        \coth\frac{\hbar\omega_{q\nu}}{2 k_B T}

(angstrom^2; U = 2 W is the displacement tensor <u_a u_b>).  Modes below ``energy_min``
(the three acoustic modes at Gamma, imaginary modes) are left out.  The mesh is
Gamma-centred (Monkhorst-Pack with an offset of half a step for even sizes when asked);
``symmetrise`` averages W over the space group (spglib) so that a mesh that breaks the point
symmetry still gives symmetric tensors.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..units import KB_MEV_PER_K
from .constants import HBAR2_OVER_AMU
from .model import ForceConstants
from .modes import Modes, calculate_modes

__all__ = ["debye_waller", "monkhorst_pack", "symmetrise_tensors"]


def monkhorst_pack(mesh, shift: bool = False) -> np.ndarray:
    """Reduced q-points of an n1 x n2 x n3 mesh: q_i = (m_i + s_i) / n_i, m_i = 0..n_i-1
    (s_i = 0, or 1/2 when ``shift``); (n1 n2 n3, 3)."""
    n = np.asarray(mesh, dtype=int).reshape(-1)
    if n.size == 1:
        n = np.repeat(n, 3)
    if n.shape != (3,) or np.any(n < 1):
        raise InputError("mesh must be one or three positive integers", field="mesh",
                         value=np.asarray(mesh).tolist())
    axes = [(np.arange(m) + (0.5 if shift else 0.0)) / m for m in n]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    return grid - np.rint(grid)


def symmetrise_tensors(crystal, tensors: np.ndarray, symprec: float = 1e-5) -> np.ndarray:
    """Average per-site Cartesian 3x3 tensors over the space group: T_k' = <R T_k R^T>."""
    import spglib

    numbers = [list(crystal.elements).index(s) for s in crystal.symbols]
    sym = spglib.get_symmetry((crystal.cell, crystal.positions, numbers), symprec=symprec)
    if sym is None:
        return tensors
    out = np.zeros_like(tensors)
    cell = crystal.cell
    for rot, trans in zip(sym["rotations"], sym["translations"], strict=True):
        rc = cell.T @ rot @ np.linalg.inv(cell.T)
        new = crystal.positions @ rot.T + trans
        diff = new[:, None, :] - crystal.positions[None, :, :]
        dist = np.abs(diff - np.rint(diff)).max(axis=-1)
        target = np.argmin(dist, axis=1)
        out[target] += np.einsum("ab,kbc,dc->kad", rc, tensors, rc)
    return out / len(sym["rotations"])


def debye_waller(model: ForceConstants | None, temperature: float, mesh=None, *,
                 modes: Modes | None = None, energy_min: float = 0.01,
                 symmetrise: bool = True, chunk: int | None = None,
                 executor: str | None = None, backend: str = "numpy") -> np.ndarray:
    """Debye-Waller exponent tensors W_k (N, 3, 3), angstrom^2, at ``temperature`` (K).

    Give either ``mesh`` (e.g. 12 or (12, 12, 12); the modes are computed from ``model``) or
    precomputed ``modes`` with eigenvectors (their weights are used).  T = 0 gives the
    zero-point motion (coth -> 1).  ``chunk``, ``executor``, ``backend``: how the mesh modes
    are computed (:func:`latdyn.phonons.calculate_modes`).
    """
    t = float(temperature)
    if not np.isfinite(t) or t < 0:
        raise InputError("temperature must be >= 0 K", field="temperature", value=temperature)
    if modes is None:
        if model is None or mesh is None:
            raise InputError("give a force-constant model and a mesh, or modes", field="mesh")
        modes = calculate_modes(model, monkhorst_pack(mesh), chunk=chunk, executor=executor,
                                backend=backend)
    if modes.eigenvectors is None:
        raise InputError("Debye-Waller factors need eigenvectors", field="modes")
    e = modes.energies
    use = e > energy_min
    safe = np.where(use, e, 1.0)
    if t > 0:
        factor = 1.0 / (safe * np.tanh(safe / (2 * KB_MEV_PER_K * t)))
    else:
        factor = 1.0 / safe
    factor = np.where(use, factor, 0.0) * modes.weights[:, None]           # (nq, nm)
    ev = modes.eigenvectors                                                   # (nq, nm, N, 3)
    w = np.einsum("qm,qmka,qmkb->kab", factor, ev, ev.conj()).real / modes.weights.sum()
    w *= HBAR2_OVER_AMU / (4 * modes.crystal.masses[:, None, None])
    if symmetrise:
        w = symmetrise_tensors(modes.crystal, w)
    return w
