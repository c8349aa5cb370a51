r"""Reflection lists: every symmetry-distinct (hkl) with d-spacing, multiplicity and |F|^2.

Miller indices are enumerated in the box |h_i| <= |a_i| / d_min, kept where
d_min <= d <= d_max (d = 1 / sqrt(h G* h^T)), grouped into Laue orbits {h R} U {-h R} of the
space group (the powder multiplicity m is the orbit size) and flagged as systematically absent
where an operation with h R = h carries a non-integer phase h.t (International Tables Vol. A,
sec. 1.6).  |F|^2 comes from :func:`latdyn.diffraction.structure_factor` (neutron: barn,
X-ray: electrons^2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..structure import Crystal
from .structure_factor import _check_radiation, structure_factor

__all__ = ["Reflections", "reflections", "enumerate_hkl"]


@dataclass(frozen=True)
class Reflections:
    """A reflection list sorted by decreasing d.

    hkl (n,3) representative indices, d (angstrom), q = 2 pi / d (1/angstrom), multiplicity,
    f (complex F of the representative: fm or electrons), f2 (|F|^2: barn or electrons^2),
    radiation ('neutron' or 'xray'), f2_unit.
    """

    hkl: np.ndarray
    d: np.ndarray
    q: np.ndarray
    multiplicity: np.ndarray
    f: np.ndarray
    f2: np.ndarray
    radiation: str
    f2_unit: str

    def __len__(self) -> int:
        return len(self.d)

    def rows(self) -> list[dict]:
        """One dict per reflection for tables and JSON: h, k, l, d (angstrom), Q (1/angstrom),
        multiplicity, F2 (``f2_unit``)."""
        return [{"h": int(h[0]), "k": int(h[1]), "l": int(h[2]), "d": float(d), "Q": float(q),
                 "multiplicity": int(m), "F2": float(f2)}
                for h, d, q, m, f2 in zip(self.hkl, self.d, self.q, self.multiplicity, self.f2,
                                          strict=True)]


def enumerate_hkl(crystal: Crystal, d_min: float, d_max: float = np.inf) -> np.ndarray:
    """All Miller indices (k, 3) with d_min <= d <= d_max (angstrom), (000) excluded."""
    if not np.isfinite(d_min) or d_min <= 0:
        raise InputError("d_min must be positive", field="d_min", value=d_min)
    if not d_max > d_min:
        raise InputError("d_max must exceed d_min", field="d_max", value=d_max)
    lim = np.floor(crystal.lattice.abc / d_min).astype(int)
    if np.prod(2 * lim + 1) > 5e7:
        raise InputError("too many reflections for this d_min; raise it", field="d_min", value=d_min)
    axes = [np.arange(-n, n + 1) for n in lim]
    hkl = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    d = crystal.lattice.d_spacing(hkl)
    return hkl[(d >= d_min * (1 - 1e-12)) & (d <= d_max)]


def reflections(crystal: Crystal, d_min: float, d_max: float = np.inf, radiation: str = "neutron",
                *, debye_waller: bool = True, keep_absent: bool = False,
                scattering_lengths: Mapping[str, complex] | None = None,
                table: str = "sears") -> Reflections:
    """Reflection families of ``crystal`` with d_min <= d <= d_max (angstrom).

    Systematic absences of the space group are dropped unless ``keep_absent``; reflections that
    are extinct only by the atomic positions (e.g. Si 222 for spherical atoms) are kept with
    their (near-zero) |F|^2.  See :func:`structure_factor` for the other arguments.
    """
    _check_radiation(radiation)
    hkl = enumerate_hkl(crystal, d_min, d_max)
    sg = crystal.space_group
    keys, mult = np.unique(sg.family_key(hkl), axis=0, return_counts=True)
    if not keep_absent:
        ok = ~sg.is_absent(keys)
        keys, mult = keys[ok], mult[ok]
    f = structure_factor(crystal, keys, radiation, debye_waller=debye_waller,
                         scattering_lengths=scattering_lengths, table=table)
    d = crystal.lattice.d_spacing(keys)
    order = np.lexsort((-keys[:, 2], -keys[:, 1], -keys[:, 0], -np.round(d, 10)))
    f2 = np.abs(f) ** 2
    if radiation == "neutron":
        f2 = f2 / 100.0
    return Reflections(hkl=keys[order], d=d[order], q=2 * np.pi / d[order], multiplicity=mult[order],
                       f=f[order], f2=f2[order], radiation=radiation,
                       f2_unit="barn" if radiation == "neutron" else "electrons^2")
