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
cell (site occupancy kept), which is what structure factors, pair distribution functions, the
phonon code and MD use.

**The order of the atoms never changes**: site by site in the order of ``sites``, and the images
of one site in the order of the space group's operations (the first image kept where several
coincide).  A P1 crystal (:meth:`Crystal.from_atoms`, a phonopy cell) therefore lists its atoms
exactly as given, which force constants, Born charges and eigenvectors depend on.  The per-atom
arrays (:attr:`Crystal.symbols`, :attr:`Crystal.positions`, :attr:`Crystal.r_cart`,
:attr:`Crystal.masses`, :attr:`Crystal.nuclides`, :attr:`Crystal.b_coh`, ...) follow that order.

Masses: a site may carry its own mass (amu, e.g. from a force-constant file); otherwise the
mass of its nuclide in the crystal's scattering table.  Isotopes are species ('D', '7Li'):
:meth:`Crystal.with_isotopes` replaces species and takes the isotope's mass and scattering
lengths.

File formats are read and written by functions of the io modules of this package
(:func:`latdyn.structure.read_cif`, :func:`latdyn.structure.write_cif`); this module imports
none of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from ..errors import InputError
from ..scattering import TABLES, Nuclide, nuclide
from .lattice import Lattice
from .spacegroup import SpaceGroup

__all__ = ["Site", "Atoms", "Crystal", "site_labels", "FILE_FORMATS"]

#: Crystal file formats, name -> (reader(path, block) -> Crystal, writer(crystal, path)), filled
#: by the io modules of this package when it is imported ('cif' by
#: :mod:`latdyn.structure.cif`); only the deprecated :meth:`Crystal.from_cif` and
#: :meth:`Crystal.to_cif` look here, so that this module imports no file format.
FILE_FORMATS: dict[str, tuple[Callable, Callable]] = {}


@dataclass(frozen=True)
class Site:
    """One site of the asymmetric unit.

    Attributes: label, species (nuclide symbol), frac (3 fractional coordinates), occupancy,
    u_iso (angstrom^2, or None), u_aniso (3x3 CIF U_ij in angstrom^2 referred to the crystal
    axes, or None; it takes precedence over u_iso), mass (amu, or None for the mass of the
    species in the crystal's scattering table).
    """

    label: str
    species: str
    frac: tuple[float, float, float]
    occupancy: float = 1.0
    u_iso: float | None = None
    u_aniso: tuple | None = field(default=None)
    mass: float | None = None

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
        if self.mass is not None:
            m = float(self.mass)
            if not (np.isfinite(m) and m > 0):
                raise InputError("mass must be positive (amu)", field=f"{self.label}.mass",
                                 value=self.mass)
            object.__setattr__(self, "mass", m)


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

    The one crystal object of latdyn: structure factors, powder patterns and PDFs, the phonon
    model (:class:`latdyn.phonons.ForceConstants` holds one), MD boxes with species and
    instruments' sample orientation all use it.

    Parameters
    ----------
    lattice: :class:`Lattice`.
    sites: the asymmetric unit (a sequence of :class:`Site`).
    space_group: :class:`SpaceGroup` (default P1: the sites are the whole cell).
    title: a name for reports.
    symprec: distance (angstrom) under which two images of a site are one atom.
    source: file name used in error messages.
    table: scattering table of :func:`latdyn.scattering.nuclide` ('sears' or 'rauch') for the
        per-atom scattering lengths, cross sections and default masses.

    Unknown species raise InputError when the crystal is built, so every atom has neutron
    scattering data (``latdyn.scattering.nuclide``).
    """

    def __init__(self, lattice: Lattice, sites, space_group: SpaceGroup | None = None,
                 title: str = "", symprec: float = 1e-3, source: str | None = None, *,
                 table: str = "sears") -> None:
        self.lattice = lattice
        self.sites = tuple(sites)
        self.space_group = space_group or SpaceGroup.p1()
        self.title = title
        self.symprec = float(symprec)
        self.source = source
        self.table = table
        if not self.sites:
            raise InputError("a crystal needs at least one site", file=source, field="sites")
        if table not in TABLES:
            raise InputError(f"unknown scattering table; use one of {TABLES}", file=source,
                             field="table", value=table)
        for s in self.sites:
            try:
                nuclide(s.species, table=table)
            except InputError as exc:
                raise InputError(f"unknown species of site '{s.label}'", file=source,
                                 field="_atom_site_type_symbol", value=s.species) from exc

    # --- constructors -----------------------------------------------------------------------
    @classmethod
    def from_atoms(cls, lattice, frac, species, occupancy=None, u_iso=None, labels=None,
                   title: str = "", *, masses=None, isotopes=None, table: str = "sears",
                   source: str | None = None) -> Crystal:
        """A P1 crystal from arrays, its atoms in the order given (e.g. a phonopy cell).

        lattice: :class:`Lattice` or a 3x3 row matrix (angstrom; kept in its Cartesian frame).
        frac: (N, 3) fractional positions (wrapped into [0, 1)); species: N nuclide symbols.
        occupancy (N,) and u_iso (N,) angstrom^2: optional.  labels: N site labels (default:
        the species with a running number per species, :func:`site_labels`).
        masses: (N,) amu (default: the table masses of the species).
        isotopes: a mapping species -> isotope ({'H': 'D'}) or one symbol per atom; an atom
        whose species is replaced takes the isotope's mass and scattering lengths.
        table: the scattering table ('sears' or 'rauch').
        """
        lat = lattice if isinstance(lattice, Lattice) else Lattice.from_matrix(lattice,
                                                                               source=source)
        x = np.atleast_2d(np.asarray(frac, dtype=float))
        n = len(x)
        species = [str(s) for s in species]
        if x.ndim != 2 or x.shape[1] != 3 or len(species) != n:
            raise InputError("positions must be (N, 3) with one species per atom", file=source,
                             field="positions", value=(x.shape, len(species)))
        m = [None] * n
        if masses is not None:
            m = np.asarray(masses, dtype=float).reshape(-1)
            if m.shape != (n,):
                raise InputError("one mass per atom is needed", file=source, field="masses",
                                 value=m.shape)
            m = list(m)
        species, replaced = _apply_isotopes(species, isotopes, source)
        m = [None if r else v for v, r in zip(m, replaced, strict=True)]
        occ = np.ones(n) if occupancy is None else np.broadcast_to(np.asarray(occupancy, float), (n,))
        uis = [None] * n if u_iso is None else np.broadcast_to(np.asarray(u_iso, float), (n,))
        labels = site_labels(species) if labels is None else list(labels)
        x = x - np.floor(x)
        try:
            sites = [Site(str(labels[i]), species[i], tuple(x[i]), float(occ[i]),
                          None if uis[i] is None else float(uis[i]), None,
                          None if m[i] is None else float(m[i])) for i in range(n)]
        except InputError as exc:
            raise InputError(str(exc), file=source) from None
        return cls(lat, sites, SpaceGroup.p1(), title, source=source, table=table)

    @classmethod
    def from_cif(cls, path, block: str | int = 0) -> Crystal:
        """Deprecated: :func:`latdyn.structure.read_cif`."""
        warnings.warn("Crystal.from_cif is deprecated: use latdyn.structure.read_cif(path)",
                      DeprecationWarning, stacklevel=2)
        return FILE_FORMATS["cif"][0](path, block)

    def to_cif(self, path) -> None:
        """Deprecated: :func:`latdyn.structure.write_cif`."""
        warnings.warn("Crystal.to_cif is deprecated: use latdyn.structure.write_cif(crystal, path)",
                      DeprecationWarning, stacklevel=2)
        FILE_FORMATS["cif"][1](self, path)

    def _with_sites(self, sites, space_group: SpaceGroup | None = None, title: str | None = None,
                    table: str | None = None) -> Crystal:
        return Crystal(self.lattice, sites, space_group or self.space_group,
                       self.title if title is None else title, self.symprec, self.source,
                       table=self.table if table is None else table)

    def with_u_iso(self, u_iso: float | dict) -> Crystal:
        """A copy whose sites have isotropic ADPs: one value (angstrom^2) or {label or species: value}."""
        sites = []
        for s in self.sites:
            u = u_iso.get(s.label, u_iso.get(s.species)) if isinstance(u_iso, dict) else u_iso
            if u is None:
                raise InputError("no U_iso given for site", field="u_iso", value=s.label)
            sites.append(replace(s, u_iso=float(u), u_aniso=None))
        return self._with_sites(sites)

    def with_isotopes(self, isotopes: Mapping[str, str] | Sequence[str]) -> Crystal:
        """A copy with species replaced by isotopes: a mapping species -> isotope
        ({'H': 'D', 'Li': '7Li'}, applied to every site of that species) or one symbol per atom
        of the cell (the crystal is first made P1, :meth:`to_p1`).  A replaced site takes the
        isotope's mass and scattering lengths; site labels are kept."""
        base = self
        if not isinstance(isotopes, Mapping) and len(self.sites) != self.n_atoms:
            base = self.to_p1()
        species, replaced = _apply_isotopes([s.species for s in base.sites], isotopes, self.source)
        sites = [replace(s, species=sp, mass=None) if r else s
                 for s, sp, r in zip(base.sites, species, replaced, strict=True)]
        return base._with_sites(sites)

    def to_p1(self, masses=None, *, table: str | None = None) -> Crystal:
        """This crystal as P1: one site per atom of the cell, in the order of :attr:`atoms`,
        labelled by species (:func:`site_labels`), with each atom's occupancy, rotated ADPs
        and mass (``masses``, amu, one per atom, replace them); ``table`` changes the
        scattering table."""
        at = self.atoms
        n = len(at)
        m = self.masses if masses is None else np.asarray(masses, dtype=float).reshape(-1)
        if m.shape != (n,):
            raise InputError("one mass per atom is needed", file=self.source, field="masses",
                             value=m.shape)
        own = [self.sites[i] for i in at.site]
        sites = [Site(label, str(at.species[k]), tuple(at.frac[k]), float(at.occupancy[k]),
                      own[k].u_iso if own[k].u_aniso is None else None,
                      None if own[k].u_aniso is None else at.u_cif[k],
                      None if masses is None and own[k].mass is None else float(m[k]))
                 for k, label in enumerate(site_labels(at.species))]
        return self._with_sites(sites, SpaceGroup.p1(), table=table)

    def with_debye_waller(self, dw, *, title: str | None = None) -> Crystal:
        r"""A P1 copy whose atoms carry the ADPs that the phonons predict, U_k = 2 W_k.

        ``dw``: Debye-Waller exponent tensors W_k (N, 3, 3), angstrom^2, Cartesian in this
        lattice's frame (:func:`latdyn.phonons.debye_waller`); exp(-Q^T W Q) on the amplitude
        is the crystallographic exp(-Q^T U Q / 2) (Squires sec. 3.8).  They are stored in the
        CIF convention U_cif = N^-1 A^-1 U A^-T N^-1 (:meth:`Lattice.u_cart_to_cif`), so
        structure factors of the result include the phonon Debye-Waller factors.
        """
        n = self.n_atoms
        w = np.asarray(dw, dtype=float)
        if w.shape != (n, 3, 3) or not np.all(np.isfinite(w)):
            raise InputError(f"Debye-Waller tensors must be finite, ({n}, 3, 3)", field="dw",
                             value=w.shape)
        u_cif = self.lattice.u_cart_to_cif(2.0 * w)
        u_cif = 0.5 * (u_cif + u_cif.transpose(0, 2, 1))
        p1 = self.to_p1()
        sites = [replace(s, u_iso=None, u_aniso=u_cif[k]) for k, s in enumerate(p1.sites)]
        return p1._with_sites(sites, title=title)

    def to_crystal(self, dw=None, *, title: str = "") -> Crystal:
        """Deprecated (from ``PhononCrystal``): :meth:`with_debye_waller` or :meth:`to_p1`."""
        warnings.warn("to_crystal is deprecated: the phonon model's crystal is a Crystal; use "
                      "crystal.with_debye_waller(dw) or crystal.to_p1()", DeprecationWarning,
                      stacklevel=2)
        if dw is not None:
            return self.with_debye_waller(dw, title=title or None)
        p1 = self.to_p1()
        return p1._with_sites(p1.sites, title=title) if title else p1

    # --- the expanded cell ------------------------------------------------------------------
    @cached_property
    def atoms(self) -> Atoms:
        """All atoms of the unit cell, symmetry-expanded with rotated ADP tensors, in the fixed
        order of the module docstring (site by site, images in operation order)."""
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

    def require_full_occupancy(self, what: str = "a phonon model") -> None:
        """InputError naming the first partially occupied atom, if any (``what`` needs them full)."""
        atoms = self.atoms
        partial = np.flatnonzero(atoms.occupancy < 1.0 - 1e-6)
        if partial.size:
            k = int(partial[0])
            raise InputError(f"{what} needs fully occupied sites", file=self.source,
                             field=f"{atoms.label[k]}.occupancy", value=float(atoms.occupancy[k]))

    # --- per-atom arrays, in the order of :attr:`atoms` ---------------------------------------
    @property
    def n_atoms(self) -> int:
        """Number of atoms in the unit cell (positions of :attr:`atoms`, whatever their occupancy)."""
        return len(self.atoms)

    @cached_property
    def symbols(self) -> tuple[str, ...]:
        """Species (nuclide symbols: 'Na', 'D', '7Li') of every atom of the cell."""
        return tuple(str(s) for s in self.atoms.species)

    @property
    def elements(self) -> tuple[str, ...]:
        """Distinct :attr:`symbols` in order of first appearance."""
        return tuple(dict.fromkeys(self.symbols))

    @property
    def positions(self) -> np.ndarray:
        """(N, 3) fractional positions of the atoms, in [0, 1)."""
        return self.atoms.frac

    @property
    def r_cart(self) -> np.ndarray:
        """(N, 3) Cartesian positions of the atoms, angstrom (r = x @ lattice.matrix)."""
        return self.atoms.cart

    @property
    def cell(self) -> np.ndarray:
        """Lattice vectors as rows, angstrom (:attr:`Lattice.matrix`)."""
        return self.lattice.matrix

    @property
    def reciprocal(self) -> np.ndarray:
        """Reciprocal lattice vectors as rows, with the 2 pi (:attr:`Lattice.reciprocal_matrix`)."""
        return self.lattice.reciprocal_matrix

    @cached_property
    def nuclides(self) -> tuple[Nuclide, ...]:
        """Scattering data of every atom (:func:`latdyn.scattering.nuclide` in :attr:`table`)."""
        known = {s: nuclide(s, table=self.table) for s in set(self.symbols)}
        return tuple(known[s] for s in self.symbols)

    @cached_property
    def masses(self) -> np.ndarray:
        """Mass of each atom, amu: its site's mass, else its nuclide's (isotope masses where a
        species names one).  Read-only."""
        own = [self.sites[i].mass for i in self.atoms.site]
        return _frozen([n.mass if m is None else m for m, n in zip(own, self.nuclides, strict=True)])

    @cached_property
    def b_coh(self) -> np.ndarray:
        """Bound coherent scattering length of each atom b' - i b'' (fm), complex.  Read-only."""
        return _frozen([n.b_coh for n in self.nuclides], complex)

    @cached_property
    def sigma_coh(self) -> np.ndarray:
        """Coherent cross section of each atom (barn).  Read-only."""
        return _frozen([n.sigma_coh for n in self.nuclides])

    @cached_property
    def sigma_inc(self) -> np.ndarray:
        """Incoherent cross section of each atom (barn).  Read-only."""
        return _frozen([n.sigma_inc for n in self.nuclides])

    def to_cartesian_q(self, q_frac) -> np.ndarray:
        """Cartesian Q (1/angstrom) of reduced (h, k, l) (:meth:`Lattice.q_vectors`)."""
        return self.lattice.q_vectors(q_frac)

    def to_reduced_q(self, q_cart) -> np.ndarray:
        """Reduced (h, k, l) of Cartesian Q (1/angstrom) (:meth:`Lattice.reduced_q`)."""
        return self.lattice.reduced_q(q_cart)

    # --- derived quantities -----------------------------------------------------------------
    @property
    def volume(self) -> float:
        """Unit-cell volume, angstrom^3."""
        return self.lattice.volume

    @property
    def atoms_per_cell(self) -> float:
        """Number of atoms per cell counted with occupancy."""
        return float(self.atoms.occupancy.sum())

    @property
    def number_density(self) -> float:
        """rho_0 = atoms per cell / V (atoms per angstrom^3, occupancy-weighted)."""
        return self.atoms_per_cell / self.volume

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
        numbers = np.array([n.Z for n in self.nuclides])
        return self.lattice.matrix.copy(), self.atoms.frac.copy(), numbers

    def to_ase(self):
        """An ``ase.Atoms`` of the unit cell (occupancies are kept in the 'occupancy' array)."""
        import ase

        symbols = [str(n.symbol).lstrip("0123456789") for n in self.nuclides]
        symbols = ["H" if s in ("D", "T") else s for s in symbols]
        at = ase.Atoms(symbols=symbols, scaled_positions=self.atoms.frac, cell=self.lattice.matrix,
                       pbc=True)
        at.set_masses(self.masses)
        at.set_array("occupancy", self.atoms.occupancy.astype(float))
        return at

    def __repr__(self) -> str:
        return (f"Crystal({self.title or self.formula!r}, {self.lattice!r}, "
                f"{self.space_group.symbol or '?'}, {len(self.sites)} sites, {len(self.atoms)} atoms)")


def site_labels(symbols) -> list[str]:
    """'Na1', 'Na2', 'Cl1', ...: each symbol with a running number per symbol."""
    count: dict[str, int] = {}
    out = []
    for s in symbols:
        s = str(s)
        count[s] = count.get(s, 0) + 1
        out.append(f"{s}{count[s]}")
    return out


def _apply_isotopes(species: list[str], isotopes, source) -> tuple[list[str], list[bool]]:
    """(new species, replaced flags) for a mapping species -> isotope or one symbol per entry."""
    if isotopes is None:
        return list(species), [False] * len(species)
    if isinstance(isotopes, Mapping):
        new = [str(isotopes[s]) if s in isotopes else s for s in species]
        return new, [s in isotopes for s in species]
    iso = [str(s) for s in isotopes]
    if len(iso) != len(species):
        raise InputError(f"isotopes must name one symbol for each of {len(species)} atoms",
                         file=source, field="isotopes", value=len(iso))
    return iso, [a != b for a, b in zip(iso, species, strict=True)]


def _frozen(values, dtype=float) -> np.ndarray:
    a = np.array(values, dtype=dtype)
    a.setflags(write=False)
    return a


def _periodic_distances(lat: Lattice, x: np.ndarray) -> np.ndarray:
    """Matrix of minimum-image distances (angstrom) between fractional positions x (n, 3)."""
    d = x[:, None, :] - x[None, :, :]
    d -= np.round(d)
    return np.linalg.norm(d @ lat.matrix, axis=2)


def _fmt_count(n: float) -> str:
    if abs(n - round(n)) < 1e-9:
        return "" if round(n) == 1 else str(int(round(n)))
    return f"{n:.4g}"
