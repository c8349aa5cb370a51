"""The crystal seen by the phonon code: lattice, sites, masses and scattering data per site."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..scattering import Nuclide, nuclide

__all__ = ["PhononCrystal"]


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
