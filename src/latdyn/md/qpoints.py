r"""q-points on the reciprocal lattice of a simulation box: along paths and in |Q| shells.

Only wave vectors of the box's reciprocal lattice, :math:`\mathbf q = h\mathbf b_1 + k\mathbf b_2
+ l\mathbf b_3` with integer h, k, l and :math:`\mathbf a_i\cdot\mathbf b_j = 2\pi\delta_{ij}`,
are compatible with periodic boundaries (rho(q) is then unchanged when an atom is wrapped
into the box).  The finest spacing along b_i is 2 pi / L_i.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np

from ..errors import InputError
from ..structure import Lattice
from .phases import MILLER_TOLERANCE

__all__ = ["QSet", "reciprocal_cell", "qpoints_along_path", "qpoints_in_shells"]


@dataclass
class QSet:
    """Cartesian q-points (n, 3) in 1/angstrom with their integer (h, k, l) on the box lattice.

    ``group`` labels each point: the shell index (shells) or the segment index (paths);
    ``group_q`` is the |Q| (shells: mean |q| of the points kept) or path distance of each group
    and ``distance`` the path coordinate of every point (paths, 1/angstrom).
    """

    q: np.ndarray
    hkl: np.ndarray
    group: np.ndarray
    kind: str
    shell_edges: np.ndarray | None = None
    distance: np.ndarray | None = None


def reciprocal_cell(cell) -> np.ndarray:
    """Rows b_i = 2 pi (h^-1)^T of a box whose rows are a_i (angstrom) -> 1/angstrom
    (:attr:`latdyn.structure.Lattice.reciprocal_matrix`)."""
    return Lattice.from_matrix(np.asarray(cell, dtype=float).reshape(3, 3)).reciprocal_matrix


def _to_box_hkl(q_cart: np.ndarray, cell: np.ndarray, what: str) -> np.ndarray:
    m = Lattice.from_matrix(cell).reduced_q(q_cart)
    bad = np.abs(m - np.round(m)).max(axis=-1) > MILLER_TOLERANCE
    if np.any(bad):
        i = int(np.argmax(bad))
        raise InputError(f"{what} {i} is not on the reciprocal lattice of the box "
                         f"(box h, k, l = {np.round(m[i], 4).tolist()}); choose points "
                         "commensurate with the supercell", field=what, value=q_cart[i].tolist())
    return np.round(m).astype(int)


def qpoints_along_path(cell, points, primitive_cell=None) -> QSet:
    """Every box reciprocal-lattice point on the straight segments joining ``points``.

    ``points`` are (n, 3) in reduced coordinates of ``primitive_cell``'s reciprocal lattice
    when it is given (rows are primitive vectors, angstrom; e.g. [[0,0,0],[0.5,0,0.5]]), or
    Cartesian 1/angstrom otherwise.  Each end point must itself lie on the box lattice.
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 3 or pts.shape[0] < 2:
        raise InputError("a path needs at least two 3-vectors", field="points", value=pts.shape)
    q_ends = pts @ reciprocal_cell(primitive_cell) if primitive_cell is not None else pts
    ends = _to_box_hkl(q_ends, cell, "path point")
    b = reciprocal_cell(cell)
    hkl, group, dist, offset = [], [], [], 0.0
    for seg in range(len(ends) - 1):
        d = ends[seg + 1] - ends[seg]
        n = gcd(*(abs(int(x)) for x in d))
        if n == 0:
            continue
        steps = np.arange(0 if seg == 0 else 1, n + 1)
        seg_hkl = ends[seg] + np.outer(steps, d // n)
        seg_len = np.linalg.norm(d @ b)
        hkl.append(seg_hkl)
        group.append(np.full(steps.size, seg))
        dist.append(offset + steps / n * seg_len)
        offset += seg_len
    if not hkl:
        raise InputError("the path has zero length", field="points", value=pts.tolist())
    hkl = np.concatenate(hkl)
    return QSet(hkl @ b, hkl, np.concatenate(group), "path", distance=np.concatenate(dist))


def qpoints_in_shells(cell, q_max: float, n_shells: int = 50, q_min: float = 0.0,
                      max_per_shell: int = 100, seed: int = 0) -> QSet:
    """Box reciprocal-lattice points in spherical |Q| shells, at most ``max_per_shell`` each.

    Shells are ``n_shells`` equal bins of |Q| between q_min and q_max (1/angstrom); q = 0 is
    excluded.  Shells holding more points keep a random subset (reproducible with ``seed``);
    empty shells are dropped.
    """
    if not (np.isfinite(q_max) and q_max > 0):
        raise InputError("q_max must be positive (1/angstrom)", field="q_max", value=q_max)
    if not (0 <= q_min < q_max):
        raise InputError("need 0 <= q_min < q_max", field="q_min", value=q_min)
    if n_shells < 1 or max_per_shell < 1:
        raise InputError("need at least one shell and one point per shell", field="n_shells",
                         value=(n_shells, max_per_shell))
    b = reciprocal_cell(cell)
    # |h| <= q_max * |a_i| / 2 pi bounds every lattice point inside the sphere
    n_max = np.ceil(q_max * np.linalg.norm(np.asarray(cell, float), axis=1) / (2 * np.pi)).astype(int)
    if np.prod(2 * n_max + 1) > 50_000_000:
        raise InputError("too many lattice points below q_max; lower q_max", field="q_max",
                         value=q_max)
    grids = np.meshgrid(*[np.arange(-n, n + 1) for n in n_max], indexing="ij")
    hkl = np.stack([g.ravel() for g in grids], axis=1)
    qn = np.linalg.norm(hkl @ b, axis=1)
    edges = np.linspace(q_min, q_max, n_shells + 1)
    inside = (qn > 0) & (qn >= q_min) & (qn <= q_max)
    hkl, qn = hkl[inside], qn[inside]
    shell = np.clip(np.searchsorted(edges, qn, side="right") - 1, 0, n_shells - 1)
    rng = np.random.default_rng(seed)
    keep, groups = [], []
    for s in range(n_shells):
        idx = np.flatnonzero(shell == s)
        if idx.size > max_per_shell:
            idx = np.sort(rng.choice(idx, max_per_shell, replace=False))
        keep.append(idx)
        groups.append(np.full(idx.size, s))
    keep = np.concatenate(keep)
    if keep.size == 0:
        raise InputError("no reciprocal-lattice point of the box lies between q_min and q_max",
                         field="q_max", value=q_max)
    return QSet(hkl[keep] @ b, hkl[keep], np.concatenate(groups), "shells", shell_edges=edges)
