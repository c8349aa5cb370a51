r"""Magnetic form factors of 3d, 4d, 4f and 5f ions in the dipole approximation.

The radial integrals <j_l(Q)> = int U^2(r) j_l(Qr) 4 pi r^2 dr of the unpaired electrons are
taken from the analytic approximation of P. J. Brown, *International Tables for
Crystallography* Vol. C (2006), sec. 4.4.5, Tables 4.4.5.1-4.4.5.8, as carried by
``periodictable.magnetic_ff`` (the CrysFML transcription of the ILL tables):

.. math::

    \langle j_0(s)\rangle = A e^{-a s^2} + B e^{-b s^2} + C e^{-c s^2} + D,\qquad
    \langle j_l(s)\rangle = s^2 (A e^{-a s^2} + B e^{-b s^2} + C e^{-c s^2} + D)\ (l = 2, 4, 6)

with s = sin(theta)/lambda = Q / (4 pi) (1/angstrom).  The magnetic form factor in the dipole
approximation is (Lovesey, *Theory of Neutron Scattering from Condensed Matter* Vol. 2 (1984),
ch. 11; Brown, ITC Vol. C sec. 6.1.2.3)

.. math::  f(Q) = \langle j_0\rangle + C_2 \langle j_2\rangle,\qquad C_2 = \mu_L / \mu,

the orbital fraction of the ordered moment (spin part form factor <j0>, orbital part
<j0> + <j2>).  Two conventions give C_2:

* transition-metal ions (3d, 4d) with a moment g S mu_B, g the spectroscopic splitting
  factor: C_2 = 1 - 2/g (spin only, g = 2: f = <j0>; the default);
* ions with a Russell-Saunders J multiplet (4f, 5f), Lande factor g_J:
  C_2 = 2/g_J - 1 (the default uses the free-ion Hund's-rule ground state; Jensen and
  Mackintosh, *Rare Earth Magnetism* (1991)).

The two are the same physics (mu_L/mu) for the two kinds of ion; give ``g`` for the first,
``g_J`` for the second or ``orbital_fraction`` directly.  Higher multipoles (<j4>, <j6>)
enter beyond the dipole approximation with coefficients that depend on the crystal-field
ground state; they are available through :func:`radial_integral` and the ``c4``/``c6``
arguments.

Ion names: element symbol and charge as ``'Mn2+'``, ``'Mn+2'``, ``'Mn2'`` or ``'Mn'``
(neutral); :func:`magnetic_ions` lists the ones with tabulated coefficients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
from scipy import constants as C

from ..errors import InputError

__all__ = ["MagneticIon", "magnetic_ion", "magnetic_ions", "magnetic_form_factor",
           "radial_integral", "orbital_fraction", "hund_ground_state", "parse_ion",
           "P_MAGNETIC_FM"]

#: Magnetic scattering length per Bohr magneton, p = |gamma_n| r_e / 2 (fm): 2.6954 fm.
P_MAGNETIC_FM = (abs(C.physical_constants["neutron mag. mom. to nuclear magneton ratio"][0])
                 * C.physical_constants["classical electron radius"][0] * 1e15 / 2.0)

_SHELLS = {"3d": ("Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu"),
           "4d": ("Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd"),
           "4f": ("Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb"),
           "5f": ("U", "Np", "Pu", "Am")}
_CORE_Z = {"4f": 54, "5f": 86}
_ION_RE = re.compile(r"^([A-Z][a-z]?)(?:(\d*)([+-])|([+-])(\d*)|(\d*))$")


def parse_ion(name: str) -> tuple[str, int]:
    """(element, charge) of an ion name: 'Fe3+', 'Fe+3', 'Fe3', 'Fe' (charge 0)."""
    text = str(name).strip()
    m = _ION_RE.match(text)
    if m is None:
        raise InputError("unknown magnetic ion: give an element and charge such as 'Mn2+'",
                         field="ion", value=name)
    el, n1, s1, s2, n2, n3 = m.groups()
    if s1 is not None:
        charge = int(n1 or 1) * (1 if s1 == "+" else -1)
    elif s2 is not None:
        charge = int(n2 or 1) * (1 if s2 == "+" else -1)
    else:
        charge = int(n3 or 0)
    return el, charge


def _shell(element: str) -> str | None:
    return next((s for s, els in _SHELLS.items() if element in els), None)


@dataclass(frozen=True)
class MagneticIon:
    """Form-factor data of one ion.

    Attributes: name ('Mn2+'), element, charge, shell ('3d', '4d', '4f', '5f'),
    coefficients {l: (A, a, B, b, C, c, D)} for the tabulated l of 0, 2, 4, 6.
    """

    name: str
    element: str
    charge: int
    shell: str
    coefficients: dict

    @property
    def orders(self) -> tuple[int, ...]:
        """The l values with tabulated <j_l>."""
        return tuple(sorted(self.coefficients))

    def j(self, l: int, q) -> np.ndarray:
        """<j_l>(|Q|) for l in 0, 2, 4, 6 (dimensionless); ``q`` in 1/angstrom."""
        if l not in self.coefficients:
            raise InputError(f"<j{l}> is not tabulated for {self.name}; available "
                             f"l = {self.orders}", field="l", value=l)
        s2 = (_check_q(q) / (4.0 * np.pi)) ** 2
        A, a, B, b, C_, c, D = self.coefficients[l]
        val = A * np.exp(-a * s2) + B * np.exp(-b * s2) + C_ * np.exp(-c * s2) + D
        return val if l == 0 else s2 * val

    @property
    def hund(self) -> tuple[float, float, float, float | None] | None:
        """(S, L, J, g_J) of the free-ion Hund's-rule ground state of a 4f or 5f ion
        (g_J None when J = 0), or None for 3d/4d ions."""
        if self.shell not in _CORE_Z:
            return None
        return hund_ground_state(_f_electrons(self))


def _f_electrons(ion: MagneticIon) -> int:
    import periodictable as pt

    z = pt.elements.symbol(ion.element).number
    return z - _CORE_Z[ion.shell] - ion.charge


def hund_ground_state(n: int, l: int = 3) -> tuple[float, float, float, float | None]:
    """(S, L, J, g_J) of n equivalent electrons of orbital l by Hund's rules (Russell-Saunders).

    g_J = 3/2 + [S(S+1) - L(L+1)] / [2 J(J+1)]; None for J = 0.
    """
    if not 0 <= n <= 2 * (2 * l + 1):
        raise InputError(f"a shell of l = {l} holds 0 to {2 * (2 * l + 1)} electrons", field="n",
                         value=n)
    half = 2 * l + 1
    up, down = min(n, half), max(n - half, 0)
    ml = list(range(l, -l - 1, -1))
    S = Fraction(up - down, 2)
    L = abs(sum(ml[:up]) + sum(ml[:down]))
    J = abs(L - S) if n < half else L + S
    g = None
    if J > 0:
        g = float(Fraction(3, 2) + (S * (S + 1) - L * (L + 1)) / (2 * J * (J + 1)))
    return float(S), float(L), float(J), g


def _check_q(q) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    if np.any(~np.isfinite(q)) or np.any(q < 0):
        raise InputError("|Q| must be finite and non-negative (1/angstrom)", field="q",
                         value=float(np.ravel(q)[~np.isfinite(np.ravel(q)) | (np.ravel(q) < 0)][0]))
    return q


@cache
def _table() -> dict[str, MagneticIon]:
    import periodictable as pt

    out = {}
    for shell, elements in _SHELLS.items():
        for el in elements:
            ffs = getattr(pt.elements.symbol(el), "magnetic_ff", None) or {}
            for charge, ff in ffs.items():
                coeff = {l: tuple(float(v) for v in getattr(ff, f"j{l}"))
                         for l in (0, 2, 4, 6) if hasattr(ff, f"j{l}")}
                if 0 not in coeff:
                    continue
                name = f"{el}{charge}+" if charge else el
                out[name] = MagneticIon(name, el, int(charge), shell, coeff)
    return out


def magnetic_ions() -> list[str]:
    """Names of every ion with a tabulated <j0> (e.g. 'Mn2+', 'Gd3+', 'U4+', 'Fe')."""
    return sorted(_table(), key=lambda n: (parse_ion(n)[0], parse_ion(n)[1]))


def magnetic_ion(name: str | MagneticIon) -> MagneticIon:
    """The :class:`MagneticIon` of an ion name ('Mn2+'); InputError for an unknown ion."""
    if isinstance(name, MagneticIon):
        return name
    el, charge = parse_ion(name)
    key = f"{el}{charge}+" if charge > 0 else (el if charge == 0 else f"{el}{-charge}-")
    ion = _table().get(key)
    if ion is None:
        known = [n for n in magnetic_ions() if parse_ion(n)[0] == el]
        hint = f"tabulated for {el}: {', '.join(known)}" if known else \
            "the element has no tabulated magnetic form factor (3d, 4d, 4f, 5f ions only)"
        raise InputError(f"unknown magnetic ion ({hint})", field="ion", value=name)
    return ion


def radial_integral(ion: str | MagneticIon, q, l: int = 0) -> np.ndarray:
    """<j_l>(|Q|) of ``ion`` at |Q| ``q`` (1/angstrom), l in 0, 2, 4, 6 (module docstring)."""
    return magnetic_ion(ion).j(int(l), q)


def orbital_fraction(ion: str | MagneticIon, *, g: float | None = None,
                     g_J: float | None = None) -> float:
    """C_2 = mu_L / mu of the dipole form factor (module docstring).

    ``g`` (spectroscopic splitting factor, moment g S): 1 - 2/g; ``g_J`` (Lande factor):
    2/g_J - 1; neither: 0 for 3d/4d ions, the Hund's-rule g_J for 4f/5f ions.
    """
    ion = magnetic_ion(ion)
    if g is not None and g_J is not None:
        raise InputError("give g (spectroscopic, 3d/4d) or g_J (Lande, J multiplet), not both",
                         field="g", value=(g, g_J))
    for name, v in (("g", g), ("g_J", g_J)):
        if v is not None and (not np.isfinite(v) or v <= 0):
            raise InputError(f"{name} must be positive", field=name, value=v)
    if g is not None:
        return 1.0 - 2.0 / float(g)
    if g_J is None:
        if ion.shell in ("3d", "4d"):
            return 0.0
        S, L, J, g_J = ion.hund
        if g_J is None:
            raise InputError(f"{ion.name} has a J = 0 free-ion ground state (S = {S:g}, "
                             f"L = {L:g}): give g_J or the orbital fraction", field="g_J",
                             value=ion.name)
    return 2.0 / float(g_J) - 1.0


def magnetic_form_factor(ion: str | MagneticIon, q, *, g: float | None = None,
                         g_J: float | None = None, orbital: float | None = None,
                         c4: float = 0.0, c6: float = 0.0) -> np.ndarray:
    """Dipole magnetic form factor f(|Q|) = <j0> + C_2 <j2> (+ c4 <j4> + c6 <j6>).

    ``q``: |Q| in 1/angstrom (scalar or array, >= 0).  C_2 from ``orbital`` (mu_L/mu)
    when given, else from ``g`` or ``g_J`` (:func:`orbital_fraction`).  Raises InputError for
    an unknown ion or a term whose <j_l> is not tabulated (e.g. Pr3+ has only <j0>).
    f(0) = 1 to the accuracy of the tables (|<j0>(0) - 1| < 3e-3).
    """
    ion = magnetic_ion(ion)
    c2 = float(orbital) if orbital is not None else orbital_fraction(ion, g=g, g_J=g_J)
    f = ion.j(0, q)
    for l, c in ((2, c2), (4, float(c4)), (6, float(c6))):
        if c != 0.0:
            if l not in ion.coefficients:
                raise InputError(f"<j{l}> is not tabulated for {ion.name} (only l = "
                                 f"{ion.orders}); the dipole term needs it", field="ion",
                                 value=ion.name)
            f = f + c * ion.j(l, q)
    return f
