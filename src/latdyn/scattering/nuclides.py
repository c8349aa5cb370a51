r"""Neutron scattering lengths and cross sections of elements and isotopes.

Two tables, selected by name:

``"sears"`` (default)
    V. F. Sears, Neutron News 3 (1992) 26: the values Mantid, Euphonic and pymatgen use.
    Shipped as ``tables/sears1992.csv``, written by ``tools/make_sears_table.py`` from the NIST
    NCNR list of Sears 1992 with three corrections; audited entry by entry against Euphonic,
    NCrystal, neutronpy and periodictable (docs/foundation.md, tests/foundation/test_sears_table.py).
``"rauch"``
    H. Rauch and W. Waschkowski (2003), ILL Neutron Data Booklet, as carried by
    ``periodictable``.  Its coherent cross sections are tabulated rather than 4 pi b_c^2.

Conventions: b in fm, cross sections in barn (1 b = 100 fm^2), absorption at
v = 2200 m/s (lambda0 = 1.798 angstrom) and scaled as 1/v:
sigma_abs(lambda) = sigma_abs(lambda0) lambda / lambda0.  The complex coherent length is
b = b' - i b'' with b'' = sigma_abs / (2 lambda) (optical theorem, sigma_abs = 4 pi b'' / k),
so b'' follows the absorption in both tables.  The incoherent "length"
b_inc = sqrt(sigma_inc / 4 pi) is the r.m.s. spin/isotope disorder amplitude.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from scipy import constants

from ..errors import InputError
from .table_names import TABLES

__all__ = ["Nuclide", "nuclide", "TABLES", "LAMBDA_2200", "absorption_at", "parse_nuclide_symbol"]

#: Tables that ``nuclide`` accepts.
#: Wavelength of a 2200 m/s neutron, angstrom (h / (m_n 2200 m/s)).
LAMBDA_2200 = constants.h / (constants.m_n * 2200.0) * 1e10


@dataclass(frozen=True)
class Nuclide:
    """Scattering data of one element (natural abundance, A = 0) or isotope.

    Attributes: symbol ('Li', '7Li', 'D'), Z, A (0 for the natural element), mass (amu),
    b_coh (complex fm, b' - i b''), b_inc (fm), sigma_coh, sigma_inc, sigma_abs (barn,
    absorption at 2200 m/s), table ('sears' or 'rauch').
    """

    symbol: str
    Z: int
    A: int
    mass: float
    b_coh: complex
    b_inc: float
    sigma_coh: float
    sigma_inc: float
    sigma_abs: float
    table: str

    @property
    def sigma_scatt(self) -> float:
        """Total bound scattering cross section sigma_coh + sigma_inc (barn)."""
        return self.sigma_coh + self.sigma_inc

    def sigma_abs_at(self, wavelength) -> float | np.ndarray:
        """Absorption cross section (barn) at a wavelength (angstrom), 1/v law."""
        return absorption_at(self.sigma_abs, wavelength)


def absorption_at(sigma_abs_2200: float, wavelength):
    """sigma_abs(lambda) = sigma_abs(1.798 A) * lambda / 1.798 A (barn; lambda in angstrom)."""
    lam = np.asarray(wavelength, dtype=float)
    if np.any(~np.isfinite(lam)) or np.any(lam <= 0):
        raise InputError("wavelength must be positive", field="wavelength", value=wavelength)
    out = sigma_abs_2200 * lam / LAMBDA_2200
    return float(out) if out.ndim == 0 else out


def _b_imag(sigma_abs: float) -> float:
    # sigma_abs [b] = 2 lambda0 b'' -> b'' [fm] = sigma_abs * 100 fm^2 / (2 lambda0 * 1e5 fm)
    return sigma_abs * 100.0 / (2.0 * LAMBDA_2200 * 1e5)


_SYMBOL_RE = re.compile(r"^(?:(\d+)-?)?([A-Z][a-z]?)(?:-(\d+))?$")


def parse_nuclide_symbol(symbol: str) -> tuple[str, int]:
    """'Li' -> ('Li', 0); '7Li', 'Li7', 'Li-7', '^7Li' -> ('Li', 7); 'D' -> ('H', 2); 'T' -> ('H', 3)."""
    s = str(symbol).strip().lstrip("^")
    if s == "D":
        return "H", 2
    if s == "T":
        return "H", 3
    m = _SYMBOL_RE.match(s)
    if m is None:
        m2 = re.match(r"^([A-Z][a-z]?)(\d+)$", s)
        if m2 is None:
            raise InputError("malformed element or isotope symbol", field="symbol", value=symbol)
        return m2.group(1), int(m2.group(2))
    mass = m.group(1) or m.group(3)
    return m.group(2), int(mass) if mass else 0


@cache
def _sears_rows() -> dict[tuple[str, int], dict[str, float]]:
    text = resources.files("latdyn.scattering").joinpath("tables/sears1992.csv").read_text()
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    out = {}
    for row in csv.DictReader(lines):
        out[(row["symbol"], int(row["A"]))] = {k: float(v) for k, v in row.items()
                                               if k not in ("symbol",)}
    return out


def _label(element: str, a: int) -> str:
    if element == "H" and a in (2, 3):
        return "D" if a == 2 else "T"
    return element if a == 0 else f"{a}{element}"


def _from_sears(element: str, a: int) -> Nuclide:
    rows = _sears_rows()
    row = rows.get((element, a))
    if row is None:
        known = (element, 0) in rows
        raise InputError(
            "isotope not in the Sears 1992 table" if known else "unknown element",
            field="symbol", value=_label(element, a))
    sigma_abs = row["sigma_abs_b"]
    return Nuclide(symbol=_label(element, a), Z=int(row["Z"]), A=a, mass=row["mass_amu"],
                   b_coh=complex(row["b_coh_fm"], -_b_imag(sigma_abs)),
                   b_inc=float(np.sqrt(row["sigma_inc_b"] / (4 * np.pi)) * 10.0),
                   sigma_coh=row["sigma_coh_b"], sigma_inc=row["sigma_inc_b"],
                   sigma_abs=sigma_abs, table="sears")


def _from_rauch(element: str, a: int) -> Nuclide:
    import periodictable as pt

    try:
        el = getattr(pt, element)
    except AttributeError:
        raise InputError("unknown element", field="symbol", value=element) from None
    try:
        iso = el if a == 0 else el[a]
    except (KeyError, IndexError):
        raise InputError("isotope unknown to periodictable", field="symbol",
                         value=_label(element, a)) from None
    n = iso.neutron
    if n is None or n.b_c is None:
        raise InputError("no neutron data in the Rauch-Waschkowski table (periodictable)",
                         field="symbol", value=_label(element, a))
    sigma_abs = float(n.absorption or 0.0)
    sigma_inc = float(n.incoherent or 0.0)
    return Nuclide(symbol=_label(element, a), Z=int(el.number), A=a, mass=float(iso.mass),
                   b_coh=complex(float(n.b_c), -_b_imag(sigma_abs)),
                   b_inc=float(np.sqrt(sigma_inc / (4 * np.pi)) * 10.0),
                   sigma_coh=float(n.coherent or 0.0), sigma_inc=sigma_inc,
                   sigma_abs=sigma_abs, table="rauch")


@cache
def nuclide(symbol: str, table: str = "sears") -> Nuclide:
    """Scattering data of an element or isotope ('Ag', '7Li', 'Li-7', 'D') from a table.

    ``table``: 'sears' (Sears 1992, default) or 'rauch' (Rauch-Waschkowski 2003 via
    periodictable).  Raises InputError for an unknown element, isotope or table.
    """
    if table not in TABLES:
        raise InputError(f"unknown scattering table; use one of {TABLES}", field="table",
                         value=table)
    element, a = parse_nuclide_symbol(symbol)
    return _from_sears(element, a) if table == "sears" else _from_rauch(element, a)
