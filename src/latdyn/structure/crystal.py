r"""The Crystal: lattice, asymmetric-unit sites, space group, and the expanded unit cell.

A :class:`Site` is one entry of the asymmetric unit (a CIF ``_atom_site`` row): species as a
nuclide symbol (``'Ag'``, ``'7Li'``, ``'D'``) so isotopes select their scattering lengths,
fractional position, occupancy (the fraction of this site that is occupied, 0 < occ <= 1, as
CIF writes it) and displacement parameters.

Displacement conventions (Trueblood et al., Acta Cryst. A52, 770 (1996)):

* ``u_iso``: isotropic mean-square displacement along any direction, angstrom^2;
  <u^2> = 3 U_iso, Debye-Waller factor exp(-Q^2 U_iso) on |F|^2.
* ``u_aniso``: the CIF tensor U_ij referred to the crystal axes (basis a_i / |a_i| dual to
  a*_i / |a*_i|); the Cartesian tensor is U_cart = A N U N A^T (:meth:`Lattice.u_cif_to_cart`)
  and the Debye-Waller factor on the amplitude is exp(-1/2 Q^T U_cart Q) = exp(-2 pi^2 h^T N U N h).
  U_eq = trace(U_cart) / 3.

Expansion: every operation (R, t) maps a site to x' = R x + t; images closer than ``symprec``
(angstrom) to an earlier one are the same atom (a special position).  The Cartesian ADP tensor
of an image is rotated with the operation that made it: with the fractional covariance
S = N U_cif N, S' = R S R^T.  The result, :class:`Crystal.atoms`, lists every atom of the unit
cell (site occupancy kept), which is what structure factors, pair distribution functions and the
phonon code use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import InputError
from ..scattering import nuclide
from .lattice import Lattice
from .spacegroup import SpaceGroup

__all__ = ["Site", "Atoms", "Crystal"]


@dataclass(frozen=True)
class Site:
    """One site of the asymmetric unit.

    Attributes: label, species (nuclide symbol), frac (3 fractional coordinates), occupancy,
    u_iso (angstrom^2, or None), u_aniso (3x3 CIF U_ij in angstrom^2 referred to the crystal
    axes, or None; it takes precedence over u_iso).
    """

    label: str
    species: str
    frac: tuple[float, float, float]
    occupancy: float = 1.0
    u_iso: float | None = None
    u_aniso: tuple | None = field(default=None)

    def __post_init__(self) -> None:
        x = np.asarray(self.frac, dtype=float)
        if x.shape != (3,) or not np.all(np.isfinite(x)):
            raise InputError("site position must be three finite fractional coordinates",
                             field=f"{self.label}.frac", value=self.frac)
        object.__setattr__(self, "frac", tuple(float(v) for v in x))
        occ = float(self.occupancy)
        if not np.isfinite(occ) or occ <= 0 or occ > 1 + 1e-6:
            raise InputError("site occupancy must lie in (0, 1]", field=f"{self.label}.occupancy",
                             value=self.occupancy)
        object.__setattr__(self, "occupancy", min(occ, 1.0))
        if self.u_iso is not None:
            u = float(self.u_iso)
            if not np.isfinite(u) or u < 0:
                raise InputError("U_iso must be finite and non-negative", field=f"{self.label}.u_iso",
                                 value=self.u_iso)
            object.__setattr__(self, "u_iso", u)
        if self.u_aniso is not None:
            u = np.asarray(self.u_aniso, dtype=float)
            if u.shape == (6,):
                u11, u22, u33, u12, u13, u23 = u
                u = np.array([[u11, u12, u13], [u12, u22, u23], [u13, u23, u33]])
            if u.shape != (3, 3) or not np.all(np.isfinite(u)) or not np.allclose(u, u.T):
                raise InputError("U_ij must be a finite symmetric 3x3 tensor or (U11,U22,U33,U12,U13,U23)",
                                 field=f"{self.label}.u_aniso", value=self.u_aniso)
            if np.any(np.linalg.eigvalsh(u) < -1e-8):
                raise InputError("U_ij tensor is not positive semi-definite (non-physical ADP)",
                                 field=f"{self.label}.u_aniso", value=u.round(6).tolist())
            object.__setattr__(self, "u_aniso", tuple(map(tuple, u)))


@dataclass(frozen=True)
class Atoms:
    """Every atom of the unit cell (arrays of length N).

    frac (N,3) in [0,1), cart (N,3) angstrom, species (N,) nuclide symbols, occupancy (N,),
    u_cart (N,3,3) angstrom^2 Cartesian, u_cif (N,3,3) CIF convention, u_iso (N,) = U_eq,
    label (N,) site labels, site (N,) index of the asymmetric-unit site.
    """

    frac: np.ndarray
    cart: np.ndarray
    species: np.ndarray
    occupancy: np.ndarray
    u_cart: np.ndarray
    u_cif: np.ndarray
    u_iso: np.ndarray
    label: np.ndarray
    site: np.ndarray
    op: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frac)


class Crystal:
    """A crystal structure: lattice, sites of the asymmetric unit and space group.

    Parameters
    ----------
    lattice: :class:`Lattice`.
    sites: the asymmetric unit (a sequence of :class:`Site`).
    space_group: :class:`SpaceGroup` (default P1: the sites are the whole cell).
    title: a name for reports.
    symprec: distance (angstrom) under which two images of a site are one atom.
    source: file name used in error messages.

    Unknown species raise InputError when the crystal is built, so every atom has neutron
    scattering data (``latdyn.scattering.nuclide``).
    """

    def __init__(self, lattice: Lattice, sites, space_group: SpaceGroup | None = None,
                 title: str = "", symprec: float = 1e-3, source: str | None = None) -> None:
        self.lattice = lattice
        self.sites = tuple(sites)
        self.space_group = space_group or SpaceGroup.p1()
        self.title = title
        self.symprec = float(symprec)
        self.source = source
        if not self.sites:
            raise InputError("a crystal needs at least one site", file=source, field="sites")
        for s in self.sites:
            try:
                nuclide(s.species)
            except InputError as exc:
                raise InputError(f"unknown species of site '{s.label}'", file=source,
                                 field="_atom_site_type_symbol", value=s.species) from exc

    # --- constructors -----------------------------------------------------------------------
    @classmethod
    def from_atoms(cls, lattice, frac, species, occupancy=None, u_iso=None, labels=None,
                   title: str = "") -> Crystal:
        """A P1 crystal from arrays: lattice (Lattice or 3x3 row matrix, angstrom), fractional
        positions (N,3), species (N,), optional occupancy (N,) and U_iso (N,) angstrom^2."""
        lat = lattice if isinstance(lattice, Lattice) else Lattice.from_matrix(lattice)
        x = np.atleast_2d(np.asarray(frac, dtype=float))
        n = len(x)
        species = list(species)
        if len(species) != n:
            raise InputError("species and positions differ in length", field="species",
                             value=(len(species), n))
        occ = np.ones(n) if occupancy is None else np.broadcast_to(np.asarray(occupancy, float), (n,))
        uis = [None] * n if u_iso is None else np.broadcast_to(np.asarray(u_iso, float), (n,))
        labels = labels or [f"{s}{i + 1}" for i, s in enumerate(species)]
        sites = [Site(str(labels[i]), str(species[i]), tuple(x[i]), float(occ[i]),
                      None if uis[i] is None else float(uis[i])) for i in range(n)]
        return cls(lat, sites, SpaceGroup.p1(), title)

    @classmethod
    def from_cif(cls, path, block: str | int = 0) -> Crystal:
        """Read a CIF file (see :func:`latdyn.structure.cif.read_cif`)."""
        from .cif import read_cif

        return read_cif(path, block)

    def to_cif(self, path) -> None:
        """Write a CIF file (see :func:`latdyn.structure.cif.write_cif`)."""
        from .cif import write_cif

        write_cif(self, path)

    def with_u_iso(self, u_iso: float | dict) -> Crystal:
        """A copy whose sites have isotropic ADPs: one value (angstrom^2) or {label or species: value}."""
        sites = []
        for s in self.sites:
            u = u_iso.get(s.label, u_iso.get(s.species)) if isinstance(u_iso, dict) else u_iso
            if u is None:
                raise InputError("no U_iso given for site", field="u_iso", value=s.label)
            sites.append(Site(s.label, s.species, s.frac, s.occupancy, float(u), None))
        return Crystal(self.lattice, sites, self.space_group, self.title, self.symprec, self.source)

    # --- the expanded cell ------------------------------------------------------------------
    @cached_property
    def atoms(self) -> Atoms:
        """All atoms of the unit cell, symmetry-expanded with rotated ADP tensors."""
        lat = self.lattice
        n_mat = np.diag(lat.reciprocal_lengths)
        n_inv = np.diag(1.0 / lat.reciprocal_lengths)
        frac, species, occ, ucif, label, site, ops = [], [], [], [], [], [], []
        for i, s in enumerate(self.sites):
            images = self.space_group.apply(s.frac)[:, 0, :]
            close = _periodic_distances(lat, images) < self.symprec
            keep = np.flatnonzero(~np.any(np.tril(close, -1), axis=1))
            if s.u_aniso is not None:
                u0 = np.array(s.u_aniso)
            else:
                u_iso = 0.0 if s.u_iso is None else s.u_iso
                u0 = lat.u_cart_to_cif(np.eye(3) * u_iso)
            cov = n_mat @ u0 @ n_mat
            for k in keep:
                r = self.space_group.rotations[k]
                ucif.append(n_inv @ r @ cov @ r.T @ n_inv)
                frac.append(np.mod(images[k], 1.0))
                species.append(s.species)
                occ.append(s.occupancy)
                label.append(s.label)
                site.append(i)
                ops.append(k)
        frac = np.mod(np.array(frac), 1.0)
        frac[np.isclose(frac, 1.0, atol=1e-12)] = 0.0
        ucif = np.array(ucif)
        ucart = lat.u_cif_to_cart(ucif)
        return Atoms(frac=frac, cart=lat.cartesian(frac), species=np.array(species),
                     occupancy=np.array(occ), u_cart=ucart, u_cif=ucif,
                     u_iso=np.trace(ucart, axis1=1, axis2=2) / 3.0,
                     label=np.array(label), site=np.array(site), op=np.array(ops))

    def site_multiplicities(self) -> np.ndarray:
        """Number of atoms each asymmetric-unit site gives in the unit cell (Wyckoff multiplicity)."""
        return np.bincount(self.atoms.site, minlength=len(self.sites))

    # --- derived quantities -----------------------------------------------------------------
    @property
    def volume(self) -> float:
        """Unit-cell volume, angstrom^3."""
        return self.lattice.volume

    @property
    def n_atoms(self) -> float:
        """Number of atoms per cell counted with occupancy."""
        return float(self.atoms.occupancy.sum())

    @property
    def number_density(self) -> float:
        """rho_0 = N_atoms / V (atoms per angstrom^3, occupancy-weighted)."""
        return self.n_atoms / self.volume

    @property
    def masses(self) -> np.ndarray:
        """Mass of each atom of :attr:`atoms`, amu (isotope masses where a species names one)."""
        return np.array([nuclide(s).mass for s in self.atoms.species])

    @property
    def composition(self) -> dict[str, float]:
        """Species -> atoms per cell (occupancy-weighted)."""
        out: dict[str, float] = {}
        for s, o in zip(self.atoms.species, self.atoms.occupancy, strict=True):
            out[str(s)] = out.get(str(s), 0.0) + float(o)
        return out

    @property
    def formula(self) -> str:
        """Cell contents as a formula string, e.g. 'Na4Cl4'."""
        return "".join(f"{s}{_fmt_count(n)}" for s, n in self.composition.items())

    def to_spglib(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lattice rows, fractional positions, atomic numbers) as spglib and phonopy take them.

        Partially occupied sites are passed as they are (spglib sees them as full atoms).
        """
        numbers = np.array([nuclide(s).Z for s in self.atoms.species])
        return self.lattice.matrix.copy(), self.atoms.frac.copy(), numbers

    def to_ase(self):
        """An ``ase.Atoms`` of the unit cell (occupancies are kept in the 'occupancy' array)."""
        import ase

        symbols = [str(nuclide(s).symbol).lstrip("0123456789") for s in self.atoms.species]
        symbols = ["H" if s in ("D", "T") else s for s in symbols]
        at = ase.Atoms(symbols=symbols, scaled_positions=self.atoms.frac, cell=self.lattice.matrix,
                       pbc=True)
        at.set_masses(self.masses)
        at.set_array("occupancy", self.atoms.occupancy.astype(float))
        return at

    def __repr__(self) -> str:
        return (f"Crystal({self.title or self.formula!r}, {self.lattice!r}, "
                f"{self.space_group.symbol or '?'}, {len(self.sites)} sites, {len(self.atoms)} atoms)")


def _periodic_distances(lat: Lattice, x: np.ndarray) -> np.ndarray:
    """Matrix of minimum-image distances (angstrom) between fractional positions x (n, 3)."""
    d = x[:, None, :] - x[None, :, :]
    d -= np.round(d)
    return np.linalg.norm(d @ lat.matrix, axis=2)


def _fmt_count(n: float) -> str:
    if abs(n - round(n)) < 1e-9:
        return "" if round(n) == 1 else str(int(round(n)))
    return f"{n:.4g}"
