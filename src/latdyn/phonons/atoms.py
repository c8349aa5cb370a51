"""The crystal of a phonon model is a :class:`latdyn.structure.Crystal` (P1, its atoms in the
order of the force constants, masses from the force-constant file, isotopes as species).

:func:`species_from_crystal` finds the species of each phonon atom in another Crystal (e.g.
read from the CIF of a deuterated sample).  :class:`PhononCrystal` is a deprecated alias kept
for one release: its constructor, ``build`` and ``from_crystal`` return a Crystal and warn.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..scattering import parse_nuclide_symbol
from ..structure import Crystal, Lattice, site_labels

__all__ = ["PhononCrystal", "species_from_crystal", "site_labels", "phonon_crystal"]


def phonon_crystal(cell, positions, symbols: Sequence[str], masses=None, *,
                   isotopes: Mapping[str, str] | Sequence[str] | None = None,
                   table: str = "sears", source: str | None = None) -> Crystal:
    """The P1 :class:`~latdyn.structure.Crystal` of a force-constant calculation.

    cell: (3, 3) lattice vectors as rows, angstrom (kept in its Cartesian frame); positions:
    (N, 3) fractional; symbols: N element or isotope symbols; masses: (N,) amu (default: the
    table's).  ``isotopes``: a mapping element -> isotope ({'H': 'D'}) or one symbol per atom;
    a replaced atom takes the isotope's mass and scattering lengths.  Atoms keep the order
    given and are labelled by species ('Na1', 'Na2', 'Cl1', ...).
    """
    cell = np.asarray(cell, dtype=float)
    if cell.shape != (3, 3) or not np.all(np.isfinite(cell)) or abs(np.linalg.det(cell)) < 1e-8:
        raise InputError("lattice must be a non-singular 3x3 matrix", file=source,
                         field="lattice", value=cell.tolist())
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) != len(symbols):
        raise InputError("positions must be (N, 3) with one symbol per site", file=source,
                         field="positions", value=pos.shape)
    return Crystal.from_atoms(Lattice.from_matrix(cell, source=source), pos, list(symbols),
                              masses=masses, isotopes=isotopes, table=table, source=source)


class _AliasMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Crystal)


class PhononCrystal(metaclass=_AliasMeta):
    """Deprecated alias: the phonon model's crystal is a :class:`latdyn.structure.Crystal`.

    ``PhononCrystal(cell, positions, symbols, masses, nuclides=None)``,
    ``PhononCrystal.build(...)`` (:func:`phonon_crystal`) and
    ``PhononCrystal.from_crystal(crystal, masses=None, table='sears')``
    (:meth:`Crystal.to_p1`) return a Crystal and warn; kept for one release.
    """

    def __new__(cls, cell, positions, symbols, masses, nuclides=None):
        _deprecated("PhononCrystal(...)", "latdyn.phonons.phonon_crystal(...)")
        return phonon_crystal(cell, positions, symbols, masses)

    @classmethod
    def build(cls, cell, positions, symbols: Sequence[str], masses=None, *,
              isotopes: Mapping[str, str] | Sequence[str] | None = None,
              table: str = "sears", source: str | None = None) -> Crystal:
        _deprecated("PhononCrystal.build", "latdyn.phonons.phonon_crystal")
        return phonon_crystal(cell, positions, symbols, masses, isotopes=isotopes, table=table,
                              source=source)

    @classmethod
    def from_crystal(cls, crystal: Crystal, masses=None, *, table: str = "sears") -> Crystal:
        _deprecated("PhononCrystal.from_crystal", "crystal.to_p1(masses, table=...)")
        crystal.require_full_occupancy()
        return crystal.to_p1(masses, table=table)


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated: phonon models hold a latdyn.structure.Crystal; use {new}",
                  DeprecationWarning, stacklevel=3)


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
    crystal.require_full_occupancy()
    atoms = crystal.atoms
    frac = Lattice.from_matrix(frame).fractional(r_cart)
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
