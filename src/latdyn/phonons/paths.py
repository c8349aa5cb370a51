"""High-symmetry paths through the Brillouin zone (seekpath, Hinuma et al., Comput. Mater. Sci.
128, 140 (2017)), expressed in the reduced coordinates of the model's own cell."""

from __future__ import annotations

import numpy as np

from ..errors import DependencyError, InputError
from ..structure import Crystal, Lattice

__all__ = ["seekpath_points"]


def seekpath_points(crystal: Crystal, symprec: float = 1e-5):
    """Corners and labels of the seekpath path: (points, labels), points (K, 3) reduced in the
    crystal's reciprocal basis with None between disconnected segments.

    seekpath works in its standardised primitive cell, possibly rotated; its Cartesian k are
    rotated back (k_in = R^T k_std) and expressed in this crystal's reciprocal basis, so the
    path is right for any (conventional or primitive) input cell.
    """
    try:
        import seekpath
    except ImportError as exc:  # pragma: no cover - dependency
        raise DependencyError("paths need seekpath (pip install seekpath)",
                              field="seekpath") from exc
    numbers = [list(crystal.elements).index(s) for s in crystal.symbols]
    try:
        res = seekpath.get_path((crystal.cell, crystal.positions, numbers), symprec=symprec)
    except Exception as exc:
        raise InputError(f"seekpath could not find the path ({exc})", field="structure") from None
    recip_std = Lattice.from_matrix(res["primitive_lattice"]).reciprocal_matrix
    rot = np.asarray(res["rotation_matrix"])
    coords = res["point_coords"]
    points: list = []
    labels: list = []
    last = None
    for start, end in res["path"]:
        if last is not None and start != last:
            points.append(None)
            labels.append("")
        if last != start:
            points.append(start)
            labels.append(start)
        points.append(end)
        labels.append(end)
        last = end
    out = []
    for p in points:
        if p is None:
            out.append(None)
            continue
        k_std = np.asarray(coords[p]) @ recip_std
        k_in = rot.T @ k_std
        out.append(crystal.lattice.reduced_q(k_in))
    labels = ["Γ" if lab == "GAMMA" else lab for lab in labels]
    return out, labels
