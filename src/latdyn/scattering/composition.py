r"""Chemical formulas with isotopes, and the cross sections and weights of a composition.

Formula syntax: element symbols with counts ("Ag8SnSe6", "Li6PS5Cl", "Li0.5La0.5TiO3"),
groups in () or [] with a count ("[NH4]I", "(NH4)2SO4"), isotopes written with a leading
mass number at the start of the formula or of a group ("7Li3N", "Li3(15N)"), anywhere with a
caret ("Li3^15N"), or as D and T ("ND4I").  A number right after an element or a group is
always its count.

Per formula unit: sigma_X = sum_j n_j sigma_X,j (barn); per atom: divided by sum_j n_j.
Absorption is taken at 2200 m/s unless a wavelength is given (1/v law).
Neutron-weighted DOS weights: w_j = sigma_j / M_j (barn/amu) with sigma_j the total bound
scattering cross section (or coherent / incoherent on request), as in the generalised DOS
g_n(E) = sum_j (sigma_j / M_j) c_j g_j(E) / sum_j (sigma_j / M_j) c_j
(e.g. M. M. Koza et al., Phys. Rev. B 89, 014302 (2014)).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .nuclides import Nuclide, absorption_at, nuclide

__all__ = ["parse_formula", "Composition", "sigma_over_mass"]

_SIGMA_KINDS = {"total": "sigma_scatt", "coherent": "sigma_coh", "incoherent": "sigma_inc"}


def sigma_over_mass(species: Iterable[str | Nuclide], *, masses=None, kind: str = "total",
                    table: str = "sears") -> np.ndarray:
    """Neutron-weighted DOS weights w_j = sigma_j / M_j (barn/amu), one per species.

    ``species``: nuclide symbols ('Na', 'D', '7Li') looked up in ``table``, or
    :class:`Nuclide` records; ``masses``: amu, one per species, instead of the tables' masses
    (a force-constant file's masses, say); ``kind``: 'total' (sigma_coh + sigma_inc, the
    default), 'coherent' or 'incoherent' bound scattering cross section.  Formula in the module
    docstring.  Raises InputError for an unknown species or kind, or bad masses.
    """
    if kind not in _SIGMA_KINDS:
        raise InputError("kind must be total, coherent or incoherent", field="kind", value=kind)
    nucs = []
    for s in species:
        if isinstance(s, Nuclide):
            nucs.append(s)
            continue
        try:
            nucs.append(nuclide(s, table=table))
        except InputError as exc:
            raise InputError(f"no neutron data for species '{s}' ({exc})", field="species",
                             value=s) from exc
    sigma = np.array([getattr(n, _SIGMA_KINDS[kind]) for n in nucs], dtype=float)
    if masses is None:
        m = np.array([n.mass for n in nucs], dtype=float)
    else:
        m = np.asarray(masses, dtype=float).reshape(-1)
        if m.shape != sigma.shape or not np.all(np.isfinite(m) & (m > 0)):
            raise InputError("one positive mass (amu) per species is needed", field="masses",
                             value=m.tolist())
    return sigma / m

_ISOTOPE = re.compile(r"(\^?\d+)?([A-Z][a-z]?)")
_EXPLICIT_ISOTOPE = re.compile(r"(\^\d+)?([A-Z][a-z]?)")
_OTHER = re.compile(r"([(\[])|([)\]])|(\d+(?:\.\d*)?|\.\d+)")


def parse_formula(formula: str) -> list[tuple[str, float]]:
    """Parse a formula into [(nuclide symbol, count)], merging repeats, in order of appearance.

    Isotope prefixes are kept in the symbol ('7Li'); D and T stay as written.
    Raises InputError for a malformed formula.
    """
    if not isinstance(formula, str) or not formula.strip():
        raise InputError("empty chemical formula", field="formula", value=formula)
    text = formula.replace(" ", "")
    last_len = 0
    stack: list[list[tuple[str, float]]] = [[]]
    pos = 0
    last: list[tuple[str, float]] | None = None  # the item a following count applies to
    while pos < len(text):
        iso = sym = opening = closing = count = None
        m = (_EXPLICIT_ISOTOPE if last is not None else _ISOTOPE).match(text, pos)
        if m is not None:
            iso, sym = m.groups()
        else:
            m = _OTHER.match(text, pos)
            if m is None:
                raise InputError("malformed chemical formula", field="formula",
                                 value=f"{formula!r} at position {pos}")
            opening, closing, count = m.groups()
        pos = m.end()
        if sym is not None:
            label = f"{iso.lstrip('^')}{sym}" if iso else sym
            item = [(label, 1.0)]
            stack[-1].extend(item)
            last = stack[-1]
            last_len = 1
        elif opening is not None:
            stack.append([])
            last = None
        elif closing is not None:
            if len(stack) == 1:
                raise InputError("unbalanced parenthesis in chemical formula", field="formula",
                                 value=formula)
            group = stack.pop()
            stack[-1].extend(group)
            last = stack[-1]
            last_len = len(group)
        else:
            if last is None:
                raise InputError("a count must follow an element or group", field="formula",
                                 value=f"{formula!r} at position {pos}")
            n = float(count)
            if n <= 0:
                raise InputError("counts must be positive", field="formula", value=formula)
            for k in range(len(last) - last_len, len(last)):
                s, c = last[k]
                last[k] = (s, c * n)
            last = None
    if len(stack) != 1:
        raise InputError("unbalanced parenthesis in chemical formula", field="formula",
                         value=formula)
    merged: dict[str, float] = {}
    for s, c in stack[0]:
        merged[s] = merged.get(s, 0.0) + c
    return list(merged.items())


@dataclass(frozen=True)
class Composition:
    """A chemical formula with its nuclides looked up in one scattering table.

    Example::

        c = Composition("Ag8SnSe6")
        c.sigma_total(wavelength=5.0)   # barn per formula unit
        c.sigma_over_mass()             # {'Ag': ..., 'Sn': ..., 'Se': ...} barn/amu
    """

    formula: str
    table: str = "sears"
    atoms: tuple[tuple[Nuclide, float], ...] = field(init=False)

    def __post_init__(self) -> None:
        parsed = parse_formula(self.formula)
        try:
            atoms = tuple((nuclide(s, self.table), n) for s, n in parsed)
        except InputError as exc:
            raise InputError(f"in formula {self.formula!r}: {exc}") from exc
        object.__setattr__(self, "atoms", atoms)

    @property
    def n_atoms(self) -> float:
        """Atoms per formula unit."""
        return sum(n for _, n in self.atoms)

    @property
    def mass(self) -> float:
        """Formula mass (amu)."""
        return sum(a.mass * n for a, n in self.atoms)

    def _sum(self, attr: str) -> float:
        return sum(getattr(a, attr) * n for a, n in self.atoms)

    @property
    def sigma_coh(self) -> float:
        """Coherent cross section per formula unit (barn)."""
        return self._sum("sigma_coh")

    @property
    def sigma_inc(self) -> float:
        """Incoherent cross section per formula unit (barn)."""
        return self._sum("sigma_inc")

    def sigma_abs(self, wavelength: float | None = None) -> float:
        """Absorption cross section per formula unit (barn), at 2200 m/s or ``wavelength`` (A)."""
        total = self._sum("sigma_abs")
        return total if wavelength is None else absorption_at(total, wavelength)

    def sigma_total(self, wavelength: float | None = None) -> float:
        """Scattering plus absorption per formula unit (barn)."""
        return self.sigma_coh + self.sigma_inc + self.sigma_abs(wavelength)

    def per_atom(self, wavelength: float | None = None) -> dict[str, float]:
        """Cross sections per atom (barn): coherent, incoherent, absorption, total."""
        n = self.n_atoms
        return {"sigma_coh": self.sigma_coh / n, "sigma_inc": self.sigma_inc / n,
                "sigma_abs": self.sigma_abs(wavelength) / n,
                "sigma_total": self.sigma_total(wavelength) / n}

    def fractions(self) -> dict[str, float]:
        """Atomic fractions c_j by nuclide symbol."""
        n = self.n_atoms
        return {a.symbol: c / n for a, c in self.atoms}

    def sigma_over_mass(self, kind: str = "total") -> dict[str, float]:
        """Neutron-weighted DOS weights sigma_j / M_j (barn/amu) by nuclide symbol
        (:func:`sigma_over_mass`).

        ``kind``: 'total' (coherent + incoherent, default), 'coherent' or 'incoherent'.
        """
        w = sigma_over_mass([a for a, _ in self.atoms], kind=kind)
        return {a.symbol: float(v) for (a, _), v in zip(self.atoms, w, strict=True)}

    def table_rows(self, wavelength: float | None = None) -> list[dict[str, float | str]]:
        """One row per nuclide: count, mass, b_coh, sigma_coh/inc/abs/total, sigma/M."""
        rows = []
        for a, n in self.atoms:
            s_abs = a.sigma_abs if wavelength is None else absorption_at(a.sigma_abs, wavelength)
            rows.append({"nuclide": a.symbol, "count": n, "mass_amu": a.mass,
                         "b_coh_fm": a.b_coh.real, "b_coh_imag_fm": a.b_coh.imag,
                         "sigma_coh_b": a.sigma_coh, "sigma_inc_b": a.sigma_inc,
                         "sigma_abs_b": s_abs, "sigma_total_b": a.sigma_scatt + s_abs,
                         "sigma_over_M": float(sigma_over_mass([a])[0])})
        return rows
