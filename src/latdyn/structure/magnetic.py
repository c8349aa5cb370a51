r"""Magnetic structures: ordered moments on the atoms of a :class:`Crystal` with one propagation
vector.

Every atom j of ``crystal.atoms`` (fractional position x_j) carries a complex moment amplitude
M_j (Cartesian components, Bohr magnetons); the moment of that atom in the cell at lattice
vector L is

.. math::  \mathbf m_j(\mathbf L) = \mathrm{Re}\left[\mathbf M_j\,
           e^{-2\pi i\,\mathbf k\cdot(\mathbf L + \mathbf x_j)}\right]

with the propagation vector k in reciprocal-lattice units of the crystal's cell (the phase
runs with the full position, so a modulation propagates uniformly through a cell of several
atoms).  This covers

* k = 0 (ferro-, ferri- and k = 0 antiferromagnets): M_j real, m_j = M_j in every cell;
* commensurate k (e.g. (1/2, 1/2, 1/2)): real M_j give collinear or non-collinear structures
  whose magnetic cell (:meth:`MagneticStructure.magnetic_cell`) is a supercell;
* single-k incommensurate structures: a sinusoidal (amplitude-modulated) wave
  M_j = A_j e^{-2 pi i phi_j} gives m = A cos(2 pi k.r + 2 pi phi), a helix or cycloid
  M_j = (A_j + i B_j) e^{-2 pi i phi_j} with A perpendicular to B and |A| = |B| gives
  m = A cos(...) + B sin(...), a moment of constant length rotating in the (A, B) plane.

The Fourier components of the usual convention m_j(L) = sum_{+-k} S_k exp(-2 pi i k.(L + x_j))
are S_k = M/2 and S_{-k} = M*/2 (Rodriguez-Carvajal, Physica B 192, 55 (1993) uses the
lattice vector L alone in the phase; here x_j is included).

Symmetry operations (R, t) act on moments as axial vectors, with time reversal theta = +-1:
m'(R r + t) = theta det(R) R m(r) (Litvin, *Magnetic Group Tables* (2013); the magCIF
convention).  Moments are given along the crystal axes (components on a/|a|, b/|b|, c/|c|, as
mCIF writes them) or in latdyn's Cartesian frame (a along x, b in the xy plane).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property

import numpy as np

from ..errors import InputError
from .crystal import Crystal, Site
from .lattice import Lattice
from .spacegroup import SpaceGroup

__all__ = ["MagneticStructure", "MagneticOps", "ParentSetting", "magnetic_structure",
           "parse_k", "commensurate_denominators", "supercell_matrix", "crystal_axes_to_cartesian",
           "cartesian_to_crystal_axes", "cartesian_rotation"]

#: Largest denominator a commensurate propagation vector may have (k = p/n, n <= this).
MAX_DENOMINATOR = 12


def crystal_axes_to_cartesian(lattice: Lattice, m) -> np.ndarray:
    """Moments along the crystal axes (components on a/|a|, b/|b|, c/|c|) -> Cartesian."""
    unit = lattice.matrix / lattice.abc[:, None]
    return np.asarray(m) @ unit


def cartesian_to_crystal_axes(lattice: Lattice, m) -> np.ndarray:
    """Cartesian moments -> components along a/|a|, b/|b|, c/|c| (the mCIF convention)."""
    unit = lattice.matrix / lattice.abc[:, None]
    return np.asarray(m) @ np.linalg.inv(unit)


def cartesian_rotation(lattice: Lattice, R) -> np.ndarray:
    """The Cartesian matrix A^T R A^-T of a rotation R acting on fractional coordinates."""
    a = lattice.matrix
    return a.T @ np.asarray(R, dtype=float) @ np.linalg.inv(a.T)


def parse_k(text, *, field: str = "k") -> np.ndarray:
    """A propagation vector from '1/2,1/2,0', '0 0 0.95' or a sequence of three numbers."""
    if isinstance(text, str):
        parts = [p for p in text.replace(",", " ").split() if p]
        try:
            vals = [float(Fraction(p)) for p in parts]
        except (ValueError, ZeroDivisionError) as exc:
            raise InputError("propagation vector components must be numbers or fractions",
                             field=field, value=text) from exc
    else:
        vals = list(np.asarray(text, dtype=float).ravel())
    k = np.array(vals, dtype=float)
    if k.shape != (3,) or not np.all(np.isfinite(k)):
        raise InputError("a propagation vector has three finite components", field=field, value=text)
    return k


def commensurate_denominators(k, max_denominator: int = MAX_DENOMINATOR,
                              tol: float = 1e-6) -> np.ndarray | None:
    """Denominators n_i with k_i n_i integer (n_i <= max_denominator), or None when some
    component is not such a fraction (incommensurate for this purpose)."""
    out = []
    for v in np.asarray(k, dtype=float):
        f = Fraction(float(v)).limit_denominator(max_denominator)
        if abs(float(f) - v) > tol:
            return None
        out.append(f.denominator)
    return np.array(out, dtype=int)


def supercell_matrix(k, max_denominator: int = MAX_DENOMINATOR) -> np.ndarray:
    """Smallest integer supercell T (rows: new lattice vectors in old ones) with k.T_i integer.

    The sublattice {L in Z^3 : k.L integer} has index n = lcm of the denominators of k; a reduced
    basis of it is found among the short lattice vectors.  Raises InputError when k is not
    commensurate (no denominator <= ``max_denominator``).
    """
    den = commensurate_denominators(k, max_denominator)
    if den is None:
        raise InputError(f"propagation vector is not commensurate with the cell (no denominator "
                         f"<= {max_denominator}); a magnetic supercell needs a commensurate k",
                         field="k", value=tuple(float(x) for x in np.asarray(k)))
    n = int(np.lcm.reduce(den))
    if n == 1:
        return np.eye(3, dtype=int)
    r = np.arange(-n, n + 1)
    cand = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    cand = cand[np.any(cand != 0, axis=1)]
    kk = np.asarray(k, dtype=float)
    ok = np.abs(cand @ kk - np.round(cand @ kk)) < 1e-6
    cand = cand[ok]
    cand = cand[np.argsort(np.einsum("ij,ij->i", cand, cand), kind="stable")]
    basis: list[np.ndarray] = []
    for v in cand:
        trial = basis + [v]
        if np.linalg.matrix_rank(np.array(trial)) == len(trial):
            basis = trial
        if len(basis) == 3:
            if round(abs(np.linalg.det(np.array(basis)))) == n:
                break
            basis.pop()
    t = np.array(basis, dtype=int)
    if t.shape != (3, 3) or round(abs(np.linalg.det(t))) != n:
        t = np.diag(den)  # a diagonal supercell always works
    if np.linalg.det(t) < 0:
        t[0] = -t[0]
    return t


@dataclass(frozen=True)
class MagneticOps:
    """Magnetic symmetry operations in the structure's cell: x -> R x + t, m -> theta det(R) R m.

    For a superspace (incommensurate) group each operation also acts on the internal
    coordinate: x4 -> epsilon x4 + H.x + t4 (``epsilon``, ``h``, ``t4`` not None).
    """

    rotations: np.ndarray
    translations: np.ndarray
    time_reversal: np.ndarray
    epsilon: np.ndarray | None = None
    h: np.ndarray | None = None
    t4: np.ndarray | None = None
    name: str = ""

    def __len__(self) -> int:
        return len(self.rotations)

    @property
    def superspace(self) -> bool:
        return self.epsilon is not None

    def triplets(self) -> list[str]:
        """Operations as mCIF strings 'x,y,z,+1' (or 'x1,x2,x3,x4,+1' in superspace)."""
        out = []
        for i, (r, t, th) in enumerate(zip(self.rotations, self.translations, self.time_reversal,
                                           strict=True)):
            names = ("x1", "x2", "x3") if self.superspace else ("x", "y", "z")
            rows = [_linear(r[j], t[j], names) for j in range(3)]
            if self.superspace:
                rows.append(_linear(np.r_[self.h[i], self.epsilon[i]], self.t4[i],
                                    ("x1", "x2", "x3", "x4")))
            out.append(",".join(rows) + f",{'+1' if th > 0 else '-1'}")
        return out

    @classmethod
    def identity(cls, superspace: bool = False) -> MagneticOps:
        if superspace:
            return cls(np.eye(3, dtype=int)[None], np.zeros((1, 3)), np.ones(1, int),
                       np.ones(1, int), np.zeros((1, 3), int), np.zeros(1))
        return cls(np.eye(3, dtype=int)[None], np.zeros((1, 3)), np.ones(1, int))


def _linear(coeffs, const: float, names) -> str:
    """'-x+y+1/2' from integer coefficients and a constant."""
    out = ""
    for c, n in zip(coeffs, names, strict=True):
        c = int(round(c))
        if c == 0:
            continue
        sign = "-" if c < 0 else ("+" if out else "")
        out += f"{sign}{'' if abs(c) == 1 else abs(c)}{n}"
    f = Fraction(float(const) % 1.0).limit_denominator(48)
    if f != 0:
        out += f"+{f}" if out else f"{f}"
    return out or "0"


@dataclass(frozen=True)
class ParentSetting:
    """The parent (paramagnetic) structure: child basis (a', b', c') = (a, b, c) P, origin shift p
    (``transform``: P (3x3) and p (3,)); parent space group (H-M symbol) and propagation vector
    in parent reciprocal-lattice units, where the mCIF gives them."""

    transform: np.ndarray
    origin: np.ndarray
    space_group: str = ""
    k: np.ndarray | None = None

    def parent_hkl(self, hkl) -> np.ndarray:
        """Indices in the parent cell of reflections indexed in the child (magnetic) cell:
        h_parent = h_child P^-1."""
        return np.asarray(hkl, dtype=float) @ np.linalg.inv(self.transform)


@dataclass(frozen=True)
class MagneticStructure:
    """Moments on the atoms of a crystal (module docstring).

    Attributes
    ----------
    crystal: the :class:`Crystal` whose cell describes the structure.
    k: propagation vector (3,), reciprocal-lattice units of that cell.
    moment: complex amplitudes M_j (N, 3), Cartesian, Bohr magnetons, one per atom of
        ``crystal.atoms`` (zero rows for non-magnetic atoms).
    ion: per atom the magnetic ion name ('Mn3+') or '' where there is no moment.
    orbital: per atom the orbital fraction C_2 of the dipole form factor.
    symmetry: magnetic operations (:class:`MagneticOps`) when known (read from an mCIF).
    parent: the parent setting (:class:`ParentSetting`) when known.
    """

    crystal: Crystal
    k: np.ndarray
    moment: np.ndarray
    ion: tuple
    orbital: np.ndarray
    title: str = ""
    source: str | None = None
    symmetry: MagneticOps | None = field(default=None, repr=False)
    parent: ParentSetting | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.crystal.atoms)
        m = np.array(self.moment, dtype=complex)
        if m.shape != (n, 3) or not np.all(np.isfinite(m)):
            raise InputError("moments must be finite, one (3,) vector per atom of the cell",
                             file=self.source, field="moment", value=m.shape)
        scale = max(float(np.abs(m).max(initial=0.0)), 1.0)
        m.real[np.abs(m.real) < 1e-12 * scale] = 0.0   # rounding noise of rotations
        m.imag[np.abs(m.imag) < 1e-12 * scale] = 0.0
        object.__setattr__(self, "moment", m)
        object.__setattr__(self, "k", parse_k(self.k))
        if len(self.ion) != n:
            raise InputError("one magnetic ion (or '') per atom", file=self.source, field="ion",
                             value=len(self.ion))
        object.__setattr__(self, "orbital", np.broadcast_to(np.asarray(self.orbital, float),
                                                            (n,)).copy())

    # --- properties -------------------------------------------------------------------------
    @property
    def lattice(self) -> Lattice:
        return self.crystal.lattice

    @property
    def magnetic(self) -> np.ndarray:
        """Boolean mask of the atoms that carry a moment."""
        return np.linalg.norm(self.moment, axis=1) > 0

    @property
    def k_is_zero(self) -> bool:
        return bool(np.all(np.abs(self.k - np.round(self.k)) < 1e-9))

    @property
    def k_equals_minus_k(self) -> bool:
        """True when 2k is a reciprocal-lattice vector (k and -k index the same satellites)."""
        return bool(np.all(np.abs(2 * self.k - np.round(2 * self.k)) < 1e-9))

    def is_commensurate(self, max_denominator: int = MAX_DENOMINATOR) -> bool:
        return commensurate_denominators(self.k, max_denominator) is not None

    def moments(self, cell=(0, 0, 0)) -> np.ndarray:
        """Real Cartesian moments (N, 3) in the cell at lattice vector ``cell`` (mu_B)."""
        x = self.crystal.atoms.frac + np.asarray(cell, dtype=float)
        phase = np.exp(-2j * np.pi * (x @ self.k))
        return np.real(self.moment * phase[:, None])

    @cached_property
    def ordered_moment(self) -> np.ndarray:
        """Root-mean-square moment of each atom over the crystal, sqrt(<|m|^2>) (mu_B): the
        average over one period of a commensurate structure, |M|/sqrt(2) for an incommensurate
        one (|A| for a helix, |A|/sqrt(2) for a sinusoid)."""
        den = commensurate_denominators(self.k)
        if den is None:
            return np.linalg.norm(self.moment, axis=1) / np.sqrt(2.0)
        cells = np.stack(np.meshgrid(*[np.arange(d) for d in den], indexing="ij"),
                         axis=-1).reshape(-1, 3)
        return np.sqrt(np.mean([np.sum(self.moments(c) ** 2, axis=1) for c in cells], axis=0))

    def rows(self) -> list[dict]:
        """One row per magnetic atom: label, ion, position, Re and Im of M along the crystal axes."""
        at = self.crystal.atoms
        re = cartesian_to_crystal_axes(self.lattice, self.moment.real)
        im = cartesian_to_crystal_axes(self.lattice, self.moment.imag)
        out = []
        for j in np.flatnonzero(self.magnetic):
            row = {"atom": int(j), "label": str(at.label[j]), "ion": self.ion[j],
                   "x": float(at.frac[j, 0]), "y": float(at.frac[j, 1]), "z": float(at.frac[j, 2]),
                   "Ma": float(re[j, 0]), "Mb": float(re[j, 1]), "Mc": float(re[j, 2])}
            if np.any(im[j] != 0):
                row.update({"Ma_im": float(im[j, 0]), "Mb_im": float(im[j, 1]), "Mc_im": float(im[j, 2])})
            row["|m|_rms"] = float(self.ordered_moment[j])
            out.append(row)
        return out

    # --- transformations --------------------------------------------------------------------
    def transformed(self, R, t, theta: int = 1) -> MagneticStructure:
        """The structure moved by the operation (R, t) with time reversal theta (+-1).

        Positions x -> R x + t must map the crystal onto itself (R, t an operation of its space
        group, or of a supergroup such as the parent group); moments transform as axial vectors,
        m' = theta det(R) R m, and k -> k R^-1.  Returns a structure on the same crystal.
        """
        R = np.asarray(R, dtype=float)
        t = np.asarray(t, dtype=float)
        at = self.crystal.atoms
        x_new = at.frac @ R.T + t
        idx = self._atom_index(x_new)
        k_new = self.k @ np.linalg.inv(R)
        rc = cartesian_rotation(self.lattice, R)
        m_new = np.zeros_like(self.moment)
        m_new[idx] = (theta * np.linalg.det(R) * self.moment @ rc.T) * np.exp(2j * np.pi * (k_new @ t))
        ion = [""] * len(at)
        orb = np.zeros(len(at))
        for i, j in enumerate(idx):
            ion[j] = self.ion[i]
            orb[j] = self.orbital[i]
        return replace(self, k=k_new, moment=m_new, ion=tuple(ion), orbital=orb, symmetry=None)

    def _atom_index(self, frac) -> np.ndarray:
        at = self.crystal.atoms
        d = np.mod(frac[:, None, :] - at.frac[None, :, :] + 0.5, 1.0) - 0.5
        dist = np.linalg.norm(d @ self.lattice.matrix, axis=2)
        idx = np.argmin(dist, axis=1)
        if np.any(dist[np.arange(len(idx)), idx] > max(self.crystal.symprec, 1e-3)) or \
                len(set(idx.tolist())) != len(idx):
            raise InputError("the operation does not map the crystal onto itself", field="operation")
        same = at.species[idx] == at.species
        if not np.all(same):
            raise InputError("the operation maps atoms onto atoms of another species",
                             field="operation")
        return idx

    def magnetic_cell(self, max_denominator: int = MAX_DENOMINATOR) -> MagneticStructure:
        """The same structure in its magnetic cell (a supercell where k becomes 0).

        Raises InputError when k is incommensurate (no denominator <= ``max_denominator``).
        """
        t = supercell_matrix(self.k, max_denominator)
        if np.array_equal(t, np.eye(3, dtype=int)):
            return replace(self, k=np.zeros(3), moment=self.moments().astype(complex))
        lat = self.lattice
        new_lat = Lattice.from_matrix(t @ lat.matrix, source=self.source)
        # the new lattice is stored in its standard orientation: rotate Cartesian vectors into it
        rot = np.linalg.inv(t @ lat.matrix) @ new_lat.matrix
        tinv = np.linalg.inv(t)
        n = round(abs(np.linalg.det(t)))
        span = np.abs(t).sum(axis=0)
        r = [np.arange(-s, s + 1) for s in span]
        cells = np.stack(np.meshgrid(*r, indexing="ij"), axis=-1).reshape(-1, 3)
        f = cells @ tinv
        inside = np.all((f >= -1e-9) & (f < 1 - 1e-9), axis=1)
        cells = cells[inside]
        if len(cells) != n:
            raise InputError("could not build the magnetic supercell", field="k", value=tuple(self.k))
        at = self.crystal.atoms
        sites, moments, ions, orb = [], [], [], []
        for c in cells:
            m = self.moments(c) @ rot
            x = (at.frac + c) @ tinv
            for j in range(len(at)):
                u = new_lat.u_cart_to_cif(rot.T @ at.u_cart[j] @ rot)
                sites.append(Site(f"{at.label[j]}_{len(sites) + 1}", str(at.species[j]),
                                  tuple(np.mod(x[j], 1.0)), float(at.occupancy[j]), None,
                                  tuple(map(tuple, 0.5 * (u + u.T)))))
                moments.append(m[j])
                ions.append(self.ion[j])
                orb.append(self.orbital[j])
        crystal = Crystal(new_lat, sites, SpaceGroup.p1(), self.crystal.title, self.crystal.symprec,
                          self.source)
        parent = ParentSetting(t.T.astype(float), np.zeros(3),
                               self.crystal.space_group.symbol, self.k.copy())
        return MagneticStructure(crystal, np.zeros(3), np.array(moments, dtype=complex), tuple(ions),
                                 np.array(orb), self.title, self.source, None, parent)

    def __repr__(self) -> str:
        k = ", ".join(f"{v:.4g}" for v in self.k)
        return (f"MagneticStructure({self.title or self.crystal.title!r}, k=({k}), "
                f"{int(self.magnetic.sum())} magnetic atoms of {len(self.crystal.atoms)})")


def _lookup(mapping, label: str, species: str, default=None):
    if mapping is None:
        return default
    if label in mapping:
        return mapping[label]
    return mapping.get(species, default)


def resolve_ions(crystal: Crystal, magnetic: np.ndarray, ions=None, charges=None, orbital=None,
                 g=None, g_J=None, source=None) -> tuple[tuple, np.ndarray]:
    """Magnetic ion and orbital fraction of every atom with a moment.

    ``ions``: {site label or species: ion name}; ``charges``: {site label: ion name} read from
    CIF type symbols (used when ``ions`` has no entry); ``orbital``, ``g``, ``g_J``: {label or
    species: value} for the dipole form factor (:func:`latdyn.scattering.orbital_fraction`).
    Raises InputError for a moment on a site whose element has no magnetic form factor, an
    unknown ion, an ion of another element, or a magnetic site without an ion.
    """
    from ..scattering import magnetic_ion, orbital_fraction
    from ..scattering.magnetic_form_factor import _shell, parse_ion
    from ..scattering.nuclides import parse_nuclide_symbol

    at = crystal.atoms
    out_ion = [""] * len(at)
    out_orb = np.zeros(len(at))
    for j in np.flatnonzero(magnetic):
        label, species = str(at.label[j]), str(at.species[j])
        element = parse_nuclide_symbol(species)[0]
        if _shell(element) is None:
            raise InputError(f"moment on a non-magnetic site: {element} has no magnetic form factor",
                             file=source, field=f"moment of site '{label}'", value=species)
        name = _lookup(ions, label, species) or _lookup(charges, label, species)
        if not name:
            raise InputError(f"the moment on site '{label}' needs its magnetic ion, e.g. "
                             f"ions={{'{label}': '{element}2+'}} (CLI: --ion {label}={element}2+)",
                             file=source, field="ion", value=label)
        ion = magnetic_ion(name)
        if parse_ion(ion.name)[0] != element:
            raise InputError(f"ion {ion.name} does not belong to site '{label}' ({element})",
                             file=source, field="ion", value=name)
        out_ion[j] = ion.name
        c2 = _lookup(orbital, label, species)
        out_orb[j] = float(c2) if c2 is not None else orbital_fraction(
            ion, g=_lookup(g, label, species), g_J=_lookup(g_J, label, species))
    return tuple(out_ion), out_orb


def magnetic_structure(crystal: Crystal, moments, *, k=(0.0, 0.0, 0.0), axes: str = "crystal",
                       second=None, phase=None, ions=None, orbital=None, g=None, g_J=None,
                       title: str = "") -> MagneticStructure:
    """Build a :class:`MagneticStructure` on ``crystal`` (module docstring).

    ``moments``: {site label: (3,) moment} applied to every atom of that site, or an (N, 3)
    array, one row per atom of ``crystal.atoms``; in mu_B along the crystal axes
    (``axes='crystal'``) or Cartesian (``axes='cartesian'``).  For k != 0 this is the amplitude A.
    ``second``: the same for B (helices and cycloids: M = A + iB); ``phase``: {label: phi} or
    (N,) in cycles (M -> M exp(-2 pi i phi)).  ``k``: propagation vector (r.l.u., or a string
    '1/2,1/2,0').  ``ions``: {label or species: 'Mn3+'}; ``orbital``, ``g``, ``g_J``: form-factor
    options per label or species (:func:`resolve_ions`).
    """
    if axes not in ("crystal", "cartesian"):
        raise InputError("axes must be 'crystal' or 'cartesian'", field="axes", value=axes)
    at = crystal.atoms
    n = len(at)
    A = _per_atom(crystal, moments, "moments")
    B = _per_atom(crystal, second, "second") if second is not None else np.zeros((n, 3))
    if axes == "crystal":
        A = crystal_axes_to_cartesian(crystal.lattice, A)
        B = crystal_axes_to_cartesian(crystal.lattice, B)
    if phase is None:
        phi = np.zeros(n)
    elif isinstance(phase, dict):
        _check_labels(crystal, phase, "phase")
        phi = np.array([float(_lookup(phase, str(at.label[j]), "", 0.0)) for j in range(n)])
    else:
        phi = np.broadcast_to(np.asarray(phase, dtype=float), (n,))
    M = (A + 1j * B) * np.exp(-2j * np.pi * phi)[:, None]
    kv = parse_k(k)
    if np.all(np.abs(kv - np.round(kv)) < 1e-12) and np.any(B != 0):
        raise InputError("a second (sine) component needs a non-zero propagation vector",
                         field="second")
    magnetic = np.linalg.norm(M, axis=1) > 0
    ion, orb = resolve_ions(crystal, magnetic, ions, None, orbital, g, g_J, crystal.source)
    return MagneticStructure(crystal, kv, M, ion, orb, title or crystal.title, crystal.source)


def _check_labels(crystal: Crystal, mapping, name: str) -> None:
    labels = {s.label for s in crystal.sites}
    unknown = [k for k in mapping if k not in labels]
    if unknown:
        raise InputError(f"unknown site label in {name}; the sites are {sorted(labels)}",
                         field=name, value=unknown[0])


def _per_atom(crystal: Crystal, values, name: str) -> np.ndarray:
    at = crystal.atoms
    n = len(at)
    if isinstance(values, dict):
        _check_labels(crystal, values, name)
        out = np.zeros((n, 3))
        for label, v in values.items():
            vec = np.asarray(v, dtype=float)
            if vec.shape != (3,) or not np.all(np.isfinite(vec)):
                raise InputError("a moment is three finite numbers (mu_B)", field=f"{name}[{label}]",
                                 value=v)
            out[at.label == label] = vec
        return out
    arr = np.asarray(values, dtype=float)
    if arr.shape != (n, 3) or not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must map site labels to vectors or be an (N_atoms, 3) array",
                         field=name, value=arr.shape)
    return arr
