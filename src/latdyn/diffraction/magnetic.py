r"""Magnetic Bragg scattering of unpolarised neutrons.

For a :class:`~latdyn.structure.MagneticStructure` with propagation vector k, magnetic Bragg
peaks sit at h = G + k and h = G - k (G a reciprocal-lattice vector of the structure's cell)
with the magnetic structure factor (Squires, *Introduction to the Theory of Thermal Neutron
Scattering* (1978), eq. 7.22; Rodriguez-Carvajal, Physica B 192, 55 (1993))

.. math::

    \mathbf F_M(\mathbf h) = p \sum_j o_j f_j(Q)\, e^{2\pi i\,\mathbf h\cdot\mathbf x_j}\,
        e^{-W_j(\mathbf Q)}\,\tilde{\mathbf m}_j(\mathbf h),\qquad
    \tilde{\mathbf m}_j = \tfrac12 \mathbf M_j e^{-2\pi i\mathbf k\cdot\mathbf x_j}
        [\mathbf h - \mathbf k\in\mathbb Z^3]
        + \tfrac12 \mathbf M_j^* e^{2\pi i\mathbf k\cdot\mathbf x_j}[\mathbf h + \mathbf k\in\mathbb Z^3]

(both terms for k = 0 or 2k in Z^3, giving the real moments), with p = gamma r_e / 2 =
2.6954 fm per Bohr magneton (:data:`latdyn.scattering.P_MAGNETIC_FM`), f_j the dipole form factor
of the ion (:func:`latdyn.scattering.magnetic_form_factor`), o_j the site occupancy and
exp(-W_j) = exp(-Q^T U_j Q / 2) the same Debye-Waller factor as the nuclear amplitude.  Only
the component perpendicular to Q scatters:

.. math::  \mathbf F_{M\perp} = \mathbf F_M - \hat{\mathbf Q}(\hat{\mathbf Q}\cdot\mathbf F_M),
           \qquad I_M \propto |\mathbf F_{M\perp}|^2 = |\mathbf F_M|^2 - |\hat{\mathbf Q}\cdot\mathbf F_M|^2

(for a collinear structure |F_M|^2 sin^2 alpha, alpha the angle between moment and Q).  For an
unpolarised beam nuclear and magnetic intensities add without interference; |F|^2 in barn.

Domains: a structure that lowers the parent symmetry forms domains related by the lost
operations (k-arms and orientation domains).  With equal weights the single-crystal intensity
of h is the mean of the single-domain intensity over the parent Laue orbit of h, and a powder
line carries the sum over that orbit (multiplicity m times the mean).  The parent group is the
crystal's space group for a structure built as crystal + k, the mCIF's parent group (with its
basis transformation) for a structure read from an mCIF, or given explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..scattering import P_MAGNETIC_FM, magnetic_form_factor
from ..structure import MagneticStructure
from .reflections import Reflections
from .structure_factor import structure_factor

__all__ = ["magnetic_structure_factor", "magnetic_interaction_vector", "magnetic_intensity",
           "domain_averaged_intensity", "parent_rotations", "MagneticReflections",
           "magnetic_reflections", "satellite_indices"]

_TOL = 1e-6


def _on_lattice(h: np.ndarray) -> np.ndarray:
    return np.all(np.abs(h - np.round(h)) < _TOL, axis=-1)


def _form_factors(structure: MagneticStructure, q: np.ndarray) -> np.ndarray:
    """(n_q, N) dipole form factors, zero for atoms without a moment."""
    out = np.zeros((len(q), len(structure.ion)))
    seen: dict[tuple[str, float], np.ndarray] = {}
    for j, ion in enumerate(structure.ion):
        if not ion:
            continue
        key = (ion, float(structure.orbital[j]))
        if key not in seen:
            seen[key] = magnetic_form_factor(ion, q, orbital=key[1])
        out[:, j] = seen[key]
    return out


def magnetic_structure_factor(structure: MagneticStructure, hkl, *, debye_waller: bool = True,
                              chunk: int = 20000) -> np.ndarray:
    """F_M(h) (n, 3) complex Cartesian vectors in fm (module docstring); zero where h is not
    G +- k.  ``hkl`` (n, 3) in reciprocal-lattice units of the structure's cell."""
    h = np.atleast_2d(np.asarray(hkl, dtype=float))
    if h.shape[-1] != 3 or not np.all(np.isfinite(h)):
        raise InputError("hkl must be finite triples", field="hkl", value=h.shape)
    at = structure.crystal.atoms
    mag = np.flatnonzero(structure.magnetic)
    out = np.zeros((len(h), 3), dtype=complex)
    if mag.size == 0:
        return out
    x = at.frac[mag]
    M = structure.moment[mag] * at.occupancy[mag, None]
    k = structure.k
    plus = M * np.exp(-2j * np.pi * (x @ k))[:, None] / 2.0
    minus = np.conj(M) * np.exp(2j * np.pi * (x @ k))[:, None] / 2.0
    bmat = structure.lattice.reciprocal_matrix
    for start in range(0, len(h), chunk):
        hh = h[start:start + chunk]
        qv = hh @ bmat
        qn = np.linalg.norm(qv, axis=1)
        f = _form_factors(structure, qn)[:, mag]
        phase = np.exp(2j * np.pi * (hh @ x.T)) * f
        if debye_waller:
            phase = phase * np.exp(-0.5 * np.einsum("ki,nij,kj->kn", qv, at.u_cart[mag], qv))
        a = _on_lattice(hh - k)[:, None].astype(float)
        b = _on_lattice(hh + k)[:, None].astype(float)
        out[start:start + chunk] = a * (phase @ plus) + b * (phase @ minus)
    return P_MAGNETIC_FM * out


def magnetic_interaction_vector(structure: MagneticStructure, hkl, **kwargs) -> np.ndarray:
    """F_M perpendicular to Q, (n, 3) complex, fm (module docstring)."""
    h = np.atleast_2d(np.asarray(hkl, dtype=float))
    f = magnetic_structure_factor(structure, h, **kwargs)
    qv = h @ structure.lattice.reciprocal_matrix
    qn = np.linalg.norm(qv, axis=1)
    if np.any(qn == 0):
        raise InputError("the magnetic interaction vector needs Q != 0", field="hkl")
    u = qv / qn[:, None]
    return f - u * np.einsum("ni,ni->n", u, f)[:, None]


def magnetic_intensity(structure: MagneticStructure, hkl, **kwargs) -> np.ndarray:
    """Single-domain |F_M perp|^2 (barn) at ``hkl`` (n, 3)."""
    fp = magnetic_interaction_vector(structure, hkl, **kwargs)
    return np.sum(np.abs(fp) ** 2, axis=1) / 100.0


def parent_rotations(structure: MagneticStructure) -> np.ndarray:
    """The Laue rotations of the parent group in the basis of the structure's cell (m, 3, 3).

    From the mCIF parent (space-group symbol and P): R' = P^-1 R P; else the crystal's own Laue
    class (the parent for a structure built as crystal + k).
    """
    par = structure.parent
    if par is not None and par.space_group:
        from ..structure import SpaceGroup

        try:
            sg = SpaceGroup.from_symbol(par.space_group)
        except InputError:
            sg = None
        if sg is not None:
            P = par.transform
            rots = np.einsum("ij,njk,kl->nil", np.linalg.inv(P), sg.laue_rotations, P)
            return np.unique(np.round(rots, 9), axis=0)
    return structure.crystal.space_group.laue_rotations.astype(float)


def _orbits(h: np.ndarray, rots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key, size): a representative (the largest image in (h, k, l) order) and the orbit size of
    each h (n, 3) under h -> h R for the rotations ``rots`` (indices resolved to 1e-4)."""
    img = np.einsum("ki,nij->knj", h, rots)
    code = np.round(img * 1e4).astype(np.int64)
    if np.abs(code).max(initial=0) >= 2**20:
        raise InputError("reflection indices too large to classify; raise d_min", field="d_min")
    scalar = ((code[..., 0] + 2**20) << 42) + ((code[..., 1] + 2**20) << 21) + (code[..., 2] + 2**20)
    srt = np.sort(scalar, axis=1)
    size = 1 + np.count_nonzero(np.diff(srt, axis=1), axis=1)
    best = np.argmax(scalar, axis=1)
    return img[np.arange(len(h)), best], size


def domain_averaged_intensity(structure: MagneticStructure, hkl, rotations=None,
                              **kwargs) -> np.ndarray:
    """Equal-weight domain average of |F_M perp|^2 (barn) of a single crystal:
    (1/n) sum_R I(h R) over the parent Laue rotations (``rotations``, default
    :func:`parent_rotations`)."""
    h = np.atleast_2d(np.asarray(hkl, dtype=float))
    rots = parent_rotations(structure) if rotations is None else np.asarray(rotations, float)
    img = np.einsum("ki,nij->knj", h, rots).reshape(-1, 3)
    return magnetic_intensity(structure, img, **kwargs).reshape(len(h), len(rots)).mean(axis=1)


def satellite_indices(structure: MagneticStructure, d_min: float, d_max: float = np.inf) -> np.ndarray:
    """Every h = G + k and G - k (G integer, (n, 3)) with d_min <= d <= d_max; h != 0."""
    if not np.isfinite(d_min) or d_min <= 0 or not d_max > d_min:
        raise InputError("need 0 < d_min < d_max", field="d_min", value=(d_min, d_max))
    lat = structure.lattice
    lim = np.floor(lat.abc / d_min).astype(int) + 1
    if np.prod(2 * lim + 1) > 5e7:
        raise InputError("too many reflections for this d_min; raise it", field="d_min", value=d_min)
    axes = [np.arange(-n, n + 1) for n in lim]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(float)
    k = structure.k
    hs = [g + k] if structure.k_equals_minus_k else [g + k, g - k]
    h = np.unique(np.round(np.concatenate(hs), 9), axis=0)
    d = lat.d_spacing(h)
    keep = (d >= d_min * (1 - 1e-12)) & (d <= d_max) & np.any(np.abs(h) > _TOL, axis=1)
    return h[keep]


@dataclass(frozen=True)
class MagneticReflections:
    """Nuclear and magnetic reflections of a magnetic structure, sorted by decreasing d.

    hkl (n, 3) representatives (floats: satellites are not integer) in the structure's cell;
    d (angstrom), q (1/angstrom); multiplicity (parent Laue orbit size); f2_nuclear and
    f2_magnetic: domain-averaged |F_N|^2 and |F_M perp|^2 per orbit member (barn), so that
    m f2 is the powder line strength; parent_hkl (n, 3) in the parent cell where known.
    """

    hkl: np.ndarray
    d: np.ndarray
    q: np.ndarray
    multiplicity: np.ndarray
    f2_nuclear: np.ndarray
    f2_magnetic: np.ndarray
    parent_hkl: np.ndarray | None
    k: np.ndarray
    parent_k: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.d)

    def rows(self) -> list[dict]:
        """One dict per reflection for tables and JSON: h, k, l (, parent hkl), d (angstrom),
        Q (1/angstrom), multiplicity, F2_nuclear and F2_magnetic (barn)."""
        out = []
        for i in range(len(self)):
            row = {"h": _fmt(self.hkl[i, 0]), "k": _fmt(self.hkl[i, 1]), "l": _fmt(self.hkl[i, 2])}
            if self.parent_hkl is not None:
                row["parent hkl"] = " ".join(_fmt(v) for v in self.parent_hkl[i])
            row.update({"d": float(self.d[i]), "Q": float(self.q[i]),
                        "multiplicity": int(self.multiplicity[i]),
                        "F2_nuclear": float(self.f2_nuclear[i]),
                        "F2_magnetic": float(self.f2_magnetic[i])})
            out.append(row)
        return out

    def summary(self) -> dict:
        """Counts and the strongest lines, for tables and JSON."""
        mag = self.f2_magnetic > 0
        out = {"k": [float(v) for v in self.k], "n_reflections": len(self),
                "n_magnetic": int(mag.sum()), "n_nuclear": int((self.f2_nuclear > 0).sum()),
                "strongest_magnetic_d": float(self.d[np.argmax(self.multiplicity * self.f2_magnetic)])
                if mag.any() else None}
        if self.parent_k is not None:
            out["parent_k"] = [float(v) for v in self.parent_k]
        return out

    def reflections(self, part: str = "total") -> Reflections:
        """A :class:`Reflections` list ('nuclear', 'magnetic' or 'total' |F|^2) for the powder
        pattern functions (``cw_pattern(..., refl=...)``)."""
        if part not in ("nuclear", "magnetic", "total"):
            raise InputError("part must be 'nuclear', 'magnetic' or 'total'", field="part", value=part)
        f2 = {"nuclear": self.f2_nuclear, "magnetic": self.f2_magnetic,
              "total": self.f2_nuclear + self.f2_magnetic}[part]
        return Reflections(hkl=self.hkl, d=self.d, q=self.q, multiplicity=self.multiplicity,
                           f=np.sqrt(f2 * 100.0).astype(complex), f2=f2, radiation="neutron",
                           f2_unit="barn")


def _fmt(v: float) -> str:
    r = round(float(v))
    if abs(v - r) < 1e-6:
        return str(int(r))
    return f"{float(v):.4f}".rstrip("0")


def magnetic_reflections(structure: MagneticStructure, d_min: float, d_max: float = np.inf, *,
                         rotations=None, debye_waller: bool = True, keep_zero: bool = False,
                         scattering_lengths=None, table: str = "sears") -> MagneticReflections:
    """Nuclear and magnetic reflections with d_min <= d <= d_max (angstrom), module docstring.

    Nuclear peaks at integer h of the structure's cell, magnetic ones at G +- k; each grouped
    into parent Laue orbits (``rotations``: Laue rotations in the structure's basis, default
    :func:`parent_rotations`) with domain-averaged |F|^2.  Reflections with both |F|^2 below
    1e-10 of the strongest are dropped unless ``keep_zero``.  ``scattering_lengths`` and
    ``table`` go to :func:`latdyn.diffraction.structure_factor`.
    """
    rots = parent_rotations(structure) if rotations is None else np.asarray(rotations, float)
    sat = satellite_indices(structure, d_min, d_max)
    lat = structure.lattice
    lim = np.floor(lat.abc / d_min).astype(int)
    axes = [np.arange(-n, n + 1) for n in lim]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(float)
    g = g[np.any(g != 0, axis=1)]
    dg = lat.d_spacing(g)
    g = g[(dg >= d_min * (1 - 1e-12)) & (dg <= d_max)]
    h = np.unique(np.round(np.concatenate([g, sat]), 9), axis=0) if len(sat) else g
    integer = _on_lattice(h)
    f2n = np.zeros(len(h))
    if np.any(integer):
        fn = structure_factor(structure.crystal, np.round(h[integer]), "neutron",
                              debye_waller=debye_waller, scattering_lengths=scattering_lengths,
                              table=table)
        f2n[integer] = np.abs(fn) ** 2 / 100.0
    f2m = np.zeros(len(h))
    sat = _on_lattice(h - structure.k) | _on_lattice(h + structure.k)
    if np.any(sat):
        f2m[sat] = magnetic_intensity(structure, h[sat], debye_waller=debye_waller)
    key, size = _orbits(h, rots)
    ukey, inv = np.unique(np.round(key, 6), axis=0, return_inverse=True)
    inv = inv.ravel()
    # show each orbit by one of its enumerated members (integer or G +- k in this cell): the
    # largest in (h, k, l) order
    order = np.lexsort((h[:, 2], h[:, 1], h[:, 0]))
    ukey = np.empty_like(ukey)
    ukey[inv[order]] = h[order]
    sum_n = np.bincount(inv, f2n, len(ukey))
    sum_m = np.bincount(inv, f2m, len(ukey))
    mult = np.zeros(len(ukey), dtype=int)
    mult[inv] = size
    avg_n, avg_m = sum_n / mult, sum_m / mult
    avg_n[avg_n < 1e-12 * avg_n.max(initial=0.0)] = 0.0   # rounding noise of extinct reflections
    avg_m[avg_m < 1e-12 * avg_m.max(initial=0.0)] = 0.0
    keep = np.ones(len(ukey), bool)
    if not keep_zero:
        keep = (avg_n > 1e-10 * max(avg_n.max(initial=0), 1e-30)) | \
               (avg_m > 1e-10 * max(avg_m.max(initial=0), 1e-30))
    ukey, mult, avg_n, avg_m = ukey[keep], mult[keep], avg_n[keep], avg_m[keep]
    d = lat.d_spacing(ukey)
    order = np.lexsort((-ukey[:, 2], -ukey[:, 1], -ukey[:, 0], -np.round(d, 10)))
    ukey, mult, avg_n, avg_m, d = ukey[order], mult[order], avg_n[order], avg_m[order], d[order]
    par = structure.parent.parent_hkl(ukey) if structure.parent is not None else None
    pk = structure.parent.k if structure.parent is not None else None
    return MagneticReflections(ukey, d, 2 * np.pi / d, mult, avg_n, avg_m, par, structure.k.copy(), pk)
