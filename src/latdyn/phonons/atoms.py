"""The crystal seen by the phonon code: lattice, sites, masses and scattering data per site,
and its two-way bridge to the shared :class:`latdyn.structure.Crystal` used by diffraction.

A phonon cell lists every atom (no symmetry): :meth:`PhononCrystal.to_crystal` makes a P1
``Crystal`` whose sites are those atoms with the same species (isotopes included, so the
scattering lengths of ``latdyn.scattering`` follow) and, when Debye-Waller tensors are given,
the anisotropic displacement parameters U = 2 W that the phonons predict;
:meth:`PhononCrystal.from_crystal` goes the other way, and :func:`species_from_crystal` finds
the species of each phonon atom in a Crystal (e.g. read from the CIF of a deuterated sample).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..scattering import Nuclide, nuclide, parse_nuclide_symbol

__all__ = ["PhononCrystal", "species_from_crystal", "site_labels"]


@dataclass(frozen=True)
class PhononCrystal:
    """Lattice, atoms and their neutron data.

    Attributes
    ----------
    cell: (3, 3) lattice vectors as rows, angstrom.
    positions: (N, 3) fractional positions, wrapped into [0, 1).
    symbols: N element or isotope symbols ('Na', 'D', '7Li').
    masses: (N,) amu (from the force-constant file unless an isotope replaced the element).
    nuclides: N :class:`latdyn.scattering.Nuclide` records (b_coh, b_inc, cross sections).
    """

    cell: np.ndarray
    positions: np.ndarray
    symbols: tuple[str, ...]
    masses: np.ndarray
    nuclides: tuple[Nuclide, ...]

    @classmethod
    def build(cls, cell, positions, symbols: Sequence[str], masses=None, *,
              isotopes: Mapping[str, str] | Sequence[str] | None = None,
              table: str = "sears", source: str | None = None) -> PhononCrystal:
        """Make a crystal; scattering data from ``latdyn.scattering.nuclide(symbol, table)``.

        ``isotopes``: a mapping element -> isotope ({'H': 'D'}) or one symbol per site; a site
        whose symbol is replaced takes the isotope's mass and scattering lengths.  ``masses``
        (amu) default to the table's masses.
        """
        cell = np.asarray(cell, dtype=float)
        pos = np.asarray(positions, dtype=float)
        if cell.shape != (3, 3) or abs(np.linalg.det(cell)) < 1e-8:
            raise InputError("lattice must be a non-singular 3x3 matrix", file=source,
                             field="lattice", value=cell.tolist())
        if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) != len(symbols):
            raise InputError("positions must be (N, 3) with one symbol per site", file=source,
                             field="positions", value=pos.shape)
        syms = list(symbols)
        replaced = [False] * len(syms)
        if isotopes is not None:
            if isinstance(isotopes, Mapping):
                for i, s in enumerate(syms):
                    if s in isotopes:
                        syms[i], replaced[i] = str(isotopes[s]), True
            else:
                iso = list(isotopes)
                if len(iso) != len(syms):
                    raise InputError(f"isotopes must name one symbol for each of {len(syms)} sites",
                                     file=source, field="isotopes", value=len(iso))
                replaced = [a != b for a, b in zip(iso, syms, strict=True)]
                syms = [str(s) for s in iso]
        nucs = tuple(nuclide(s, table=table) for s in syms)
        if masses is None:
            m = np.array([n.mass for n in nucs])
        else:
            m = np.asarray(masses, dtype=float).copy()
            if m.shape != (len(syms),):
                raise InputError("one mass per site is needed", file=source, field="masses",
                                 value=m.shape)
            for i, n in enumerate(nucs):
                if replaced[i]:
                    m[i] = n.mass
        if np.any(~(m > 0)):
            raise InputError("masses must be positive", file=source, field="masses",
                             value=m.tolist())
        return cls(cell=cell, positions=pos - np.floor(pos), symbols=tuple(syms), masses=m,
                   nuclides=nucs)

    @property
    def n_atoms(self) -> int:
        return len(self.symbols)

    @property
    def volume(self) -> float:
        """Cell volume, angstrom^3."""
        return float(abs(np.linalg.det(self.cell)))

    @property
    def reciprocal(self) -> np.ndarray:
        """Reciprocal lattice vectors as rows, with the 2 pi: a_i . b_j = 2 pi delta_ij (1/A)."""
        return 2 * np.pi * np.linalg.inv(self.cell).T

    @property
    def r_cart(self) -> np.ndarray:
        """Cartesian positions, angstrom."""
        return self.positions @ self.cell

    @property
    def b_coh(self) -> np.ndarray:
        """Bound coherent scattering lengths b' - i b'' (fm), complex (N,)."""
        return np.array([n.b_coh for n in self.nuclides], dtype=complex)

    @property
    def sigma_inc(self) -> np.ndarray:
        """Incoherent cross sections (barn), (N,)."""
        return np.array([n.sigma_inc for n in self.nuclides])

    @property
    def sigma_coh(self) -> np.ndarray:
        """Coherent cross sections (barn), (N,)."""
        return np.array([n.sigma_coh for n in self.nuclides])

    @property
    def elements(self) -> tuple[str, ...]:
        """Distinct symbols in order of first appearance."""
        return tuple(dict.fromkeys(self.symbols))

    def to_cartesian_q(self, q_frac) -> np.ndarray:
        """Q (1/A, Cartesian) from reduced (h, k, l): Q = h b1 + k b2 + l b3."""
        return np.asarray(q_frac, dtype=float) @ self.reciprocal

    def to_reduced_q(self, q_cart) -> np.ndarray:
        """Reduced (h, k, l) from Cartesian Q (1/A)."""
        return np.asarray(q_cart, dtype=float) @ self.cell.T / (2 * np.pi)

    # --- the shared Crystal -------------------------------------------------------------------
    def to_crystal(self, dw=None, *, title: str = ""):
        r"""This cell as a :class:`latdyn.structure.Crystal` (space group P1, one site per atom).

        Sites are labelled as in the DOS ('Na1', 'Cl1', ...), with the species of this cell
        (isotope symbols kept, so the Crystal's scattering lengths and masses come from
        ``latdyn.scattering`` like here).  ``dw``: Debye-Waller exponent tensors W_k (N, 3, 3)
        in angstrom^2 from :func:`latdyn.phonons.debye_waller` (Cartesian, this cell's frame);
        the sites then carry the anisotropic displacement parameters U_k = 2 W_k (Squires
        sec. 3.8: exp(-Q^T W Q) on the amplitude is the crystallographic
        exp(-Q^T U Q / 2)), converted to the CIF convention
        U_cif = N^-1 A^-1 U A^-T N^-1 (A: lattice vectors as columns, N = diag|a*_i|;
        Grosse-Kunstleve and Adams, J. Appl. Cryst. 35, 477 (2002)), so diffraction structure
        factors of the Crystal include the phonon Debye-Waller factors.  The Crystal's masses
        are the table masses of its species (a force-constant file may carry slightly
        different ones).
        """
        from ..structure import Crystal, Lattice, Site

        lattice = Lattice.from_matrix(self.cell)
        u_cif = None
        if dw is not None:
            w = np.asarray(dw, dtype=float)
            if w.shape != (self.n_atoms, 3, 3) or not np.all(np.isfinite(w)):
                raise InputError(f"Debye-Waller tensors must be finite, ({self.n_atoms}, 3, 3)",
                                 field="dw", value=w.shape)
            a_inv = np.linalg.inv(self.cell.T)
            n_inv = np.diag(1.0 / np.linalg.norm(np.linalg.inv(self.cell).T, axis=1))
            u_cif = n_inv @ a_inv @ (2.0 * w) @ a_inv.T @ n_inv
            u_cif = 0.5 * (u_cif + u_cif.transpose(0, 2, 1))
        sites = [Site(label, sym, tuple(self.positions[k]), 1.0, None,
                      None if u_cif is None else u_cif[k])
                 for k, (label, sym) in enumerate(zip(site_labels(self.symbols), self.symbols,
                                                      strict=True))]
        formula = "".join(f"{el}{self.symbols.count(el)}" for el in self.elements)
        return Crystal(lattice, sites, title=title or formula)

    @classmethod
    def from_crystal(cls, crystal, masses=None, *, table: str = "sears") -> PhononCrystal:
        """The phonon cell of a :class:`latdyn.structure.Crystal`: every atom of its unit cell
        (symmetry-expanded), species as given (isotopes honoured), masses from the table
        unless ``masses`` (amu, one per atom) are given.  The lattice keeps the orientation
        given to ``Lattice.from_matrix`` (force constants are Cartesian tensors).  Partially
        occupied sites are refused: a harmonic model needs every site filled.
        """
        atoms = crystal.atoms
        partial = np.flatnonzero(atoms.occupancy < 1.0 - 1e-6)
        if partial.size:
            k = int(partial[0])
            raise InputError("a phonon model needs fully occupied sites", file=crystal.source,
                             field=f"{atoms.label[k]}.occupancy", value=float(atoms.occupancy[k]))
        return cls.build(crystal.lattice.input_matrix, atoms.frac, [str(s) for s in atoms.species],
                         masses, table=table, source=crystal.source)


def site_labels(symbols) -> list[str]:
    """'Na1', 'Na2', 'Cl1', ...: the symbol and a running number per symbol."""
    count: dict[str, int] = {}
    out = []
    for s in symbols:
        count[s] = count.get(s, 0) + 1
        out.append(f"{s}{count[s]}")
    return out


def _same_cell(lattice, cell: np.ndarray, rtol: float = 1e-4, atol_deg: float = 1e-2) -> bool:
    """Whether a Lattice and a row matrix have the same six parameters."""
    lengths = np.linalg.norm(cell, axis=1)
    ang = [np.degrees(np.arccos(np.clip(cell[j] @ cell[k] / (lengths[j] * lengths[k]), -1, 1)))
           for j, k in ((1, 2), (0, 2), (0, 1))]
    return bool(np.allclose(lattice.abc, lengths, rtol=rtol)
                and np.allclose(lattice.angles, ang, atol=atol_deg))


def species_from_crystal(crystal, cells, r_cart, symbols, *, tolerance: float = 0.01,
                         source=None) -> list[str]:
    """Species (nuclide symbols) of the Crystal atom at the place of each phonon atom.

    ``cells``: candidate frames of the force-constant calculation, (3, 3) row matrices in its
    Cartesian frame (e.g. phonopy's unit cell and primitive cell); the first whose lattice
    parameters equal the Crystal's is used, and positions are compared as fractional
    coordinates of that cell (so the two frames may differ by a rotation).  ``r_cart``: (N, 3)
    Cartesian positions of the phonon atoms (angstrom); ``symbols``: their elements.
    An atom matches when it lies within ``tolerance`` angstrom of a Crystal atom (modulo the
    lattice) of the same element.  InputError when no cell fits, an atom has no partner or the
    elements differ.
    """
    lattice = crystal.lattice
    frame = next((np.asarray(c, dtype=float) for c in cells if _same_cell(lattice, np.asarray(c))),
                 None)
    if frame is None:
        raise InputError("the Crystal's cell matches neither the unit cell nor the primitive cell "
                         "of the force constants", file=crystal.source, field="lattice",
                         value=tuple(round(v, 5) for v in lattice.parameters))
    atoms = crystal.atoms
    partial = np.flatnonzero(atoms.occupancy < 1.0 - 1e-6)
    if partial.size:
        k = int(partial[0])
        raise InputError("a phonon model needs fully occupied sites", file=crystal.source,
                         field=f"{atoms.label[k]}.occupancy", value=float(atoms.occupancy[k]))
    frac = np.asarray(r_cart, dtype=float) @ np.linalg.inv(frame)
    out = []
    for k, (x, sym) in enumerate(zip(frac, symbols, strict=True)):
        d = atoms.frac - x
        d -= np.rint(d)
        dist = np.linalg.norm(d @ lattice.matrix, axis=1)
        j = int(np.argmin(dist))
        if dist[j] > tolerance:
            raise InputError(f"atom {k} ({sym}) of the force constants has no atom of the Crystal "
                             f"within {tolerance} angstrom", file=crystal.source, field="sites",
                             value=np.round(x % 1.0, 5).tolist())
        species = str(atoms.species[j])
        if parse_nuclide_symbol(species)[0] != parse_nuclide_symbol(sym)[0]:
            raise InputError(f"atom {k} is {sym} in the force constants but {species} in the "
                             "Crystal", file=crystal.source if source is None else source,
                             field=f"{atoms.label[j]}.species", value=species)
        out.append(species)
    return out
