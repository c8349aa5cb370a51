r"""The entropy balance of a field-driven magnetostructural transition (magnetocalorics).

Clausius-Clapeyron for a first-order transition driven by the field (the magnetic analogue of
dT/dP = Delta V / Delta S; Gschneidner, Pecharsky and Tsokol, Rep. Prog. Phys. 68, 1479 (2005)):

.. math::  \frac{dT_t}{d(\mu_0 H)} = -\frac{\Delta M}{\Delta S}

with Delta = phase 2 - phase 1; per mole of formula units Delta M = N_A mu_B Delta m (Delta m in
Bohr magnetons per formula unit), so dT/d(mu_0 H) is in K/T for Delta S in J/(mol K).

The total entropy change is split into a lattice part from the phonon DOS of the two phases
(:func:`latdyn.thermo.entropy_difference`, harmonic) and a magnetic part.  The magnetic entropy of
n ions of angular momentum J in the mean-field (Weiss) model with Brillouin magnetisation
(Smart, *Effective Field Theories of Magnetism* (1966); Tishin and Spichkin, *The Magnetocaloric
Effect and its Applications* (2003), ch. 2):

.. math::

    S_{mag} = n R \left[\ln\frac{\sinh\frac{2J+1}{2J}x}{\sinh\frac{x}{2J}} - x B_J(x)\right],
    \qquad x = \frac{3J}{J+1}\frac{T_C}{T}\,\sigma + \frac{g J \mu_B \mu_0 H}{k_B T},
    \qquad \sigma = B_J(x)

which tends to the bound n R ln(2J+1) of fully disordered moments; a paramagnetic phase has
T_C = 0.  Entropies in J/(mol K) per mole of formula units (J/(kg K) with the molar mass).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import constants as C
from scipy.optimize import brentq

from ..errors import InputError
from .harmonic import check_temperature, entropy_difference

__all__ = ["brillouin", "mean_field_magnetisation", "magnetic_entropy", "magnetic_entropy_bound",
           "clausius_clapeyron_field", "EntropyBalance", "entropy_balance", "MU_B_PER_FU_TO_AM2_MOL"]

#: One Bohr magneton per formula unit as a molar moment, N_A mu_B (A m^2/mol = J/(T mol)).
MU_B_PER_FU_TO_AM2_MOL = C.N_A * C.physical_constants["Bohr magneton"][0]
_MU_B_OVER_K = C.physical_constants["Bohr magneton"][0] / C.k   # K/T


def _check_j(J: float) -> float:
    J = float(J)
    if not np.isfinite(J) or J <= 0 or abs(2 * J - round(2 * J)) > 1e-9:
        raise InputError("J must be a positive integer or half-integer", field="J", value=J)
    return J


def brillouin(J: float, x) -> np.ndarray:
    """B_J(x) = (2J+1)/(2J) coth((2J+1)x/(2J)) - 1/(2J) coth(x/(2J)); B_J ~ (J+1)x/(3J) at small x."""
    J = _check_j(J)
    x = np.asarray(x, dtype=float)
    a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
    small = np.abs(x) < 1e-4
    xs = np.where(small, 1.0, x)
    full = a / np.tanh(a * xs) - b / np.tanh(b * xs)
    series = (J + 1) / (3 * J) * x - ((J + 1) * (2 * J * J + 2 * J + 1)) / (90 * J**3) * x**3
    return np.where(small, series, full)


def _ln_z(J: float, x: np.ndarray) -> np.ndarray:
    """ln[sinh((2J+1)x/2J) / sinh(x/2J)] without overflow (-> ln(2J+1) at x = 0)."""
    a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
    ax = np.abs(x)
    small = ax < 1e-6
    s = np.where(small, 1.0, ax)
    val = (a - b) * s + np.log1p(-np.exp(-2 * a * s)) - np.log1p(-np.exp(-2 * b * s))
    return np.where(small, np.log(2 * J + 1) + (a * a - b * b) * x * x / 6, val)


def mean_field_magnetisation(T, J: float, T_c: float = 0.0, field_T: float = 0.0,
                             g: float = 2.0) -> np.ndarray:
    """Reduced magnetisation sigma = M/M_s of the Weiss model (module docstring) at T (K), the
    mean-field Curie temperature ``T_c`` (K, 0 for a paramagnet) and field mu_0 H (T)."""
    J = _check_j(J)
    t = np.atleast_1d(check_temperature(T))
    if not np.isfinite(T_c) or T_c < 0 or not np.isfinite(field_T) or field_T < 0 or g <= 0:
        raise InputError("need T_c >= 0 (K), field >= 0 (T), g > 0", field="T_c,field,g",
                         value=(T_c, field_T, g))
    out = np.empty_like(t)
    for i, ti in enumerate(t):
        c = 3 * J / (J + 1) * T_c / ti
        h = g * J * _MU_B_OVER_K * field_T / ti

        def f(s, c=c, h=h):
            return float(brillouin(J, c * s + h)) - s

        if h == 0 and c <= 1:
            out[i] = 0.0
        else:
            lo = 1e-12 if h == 0 else 0.0
            out[i] = brentq(f, lo, 1.0, xtol=1e-14) if f(lo) > 0 else 0.0
    return out.reshape(np.shape(T)) if np.ndim(T) else out[0]


def magnetic_entropy(T, J: float, T_c: float = 0.0, field_T: float = 0.0, g: float = 2.0,
                     n_ions: float = 1.0):
    """Mean-field magnetic entropy (J/(mol K) per mole of formula units with ``n_ions`` magnetic
    ions each), module docstring."""
    J = _check_j(J)
    t = check_temperature(T)
    sigma = mean_field_magnetisation(t, J, T_c, field_T, g)
    x = 3 * J / (J + 1) * T_c / t * sigma + g * J * _MU_B_OVER_K * field_T / t
    s = n_ions * C.R * (_ln_z(J, x) - x * brillouin(J, x))
    return float(s) if np.ndim(s) == 0 else s


def magnetic_entropy_bound(J: float, n_ions: float = 1.0) -> float:
    """n R ln(2J+1) (J/(mol K)): the entropy of fully disordered moments."""
    return float(n_ions * C.R * np.log(2 * _check_j(J) + 1))


def clausius_clapeyron_field(delta_m: float, delta_s: float) -> float:
    """dT_t/d(mu_0 H) = -Delta M / Delta S in K/T, Delta m in mu_B per formula unit and Delta S in
    J/(mol K) per mole of formula units (both phase 2 - phase 1)."""
    if not np.isfinite(delta_m):
        raise InputError("magnetisation change must be finite", field="delta_m", value=delta_m)
    if not np.isfinite(delta_s) or delta_s == 0:
        raise InputError("entropy change must be finite and non-zero", field="delta_s", value=delta_s)
    return float(-delta_m * MU_B_PER_FU_TO_AM2_MOL / delta_s)


@dataclass
class EntropyBalance:
    """Entropy changes (phase 2 - phase 1, J/(mol K) per mole of formula units) at T_t and
    field mu_0 H: lattice (phonon DOS), magnetic (mean field) and its bound, their sum, the
    measured total when given, and the Clausius-Clapeyron slopes."""

    T: float
    field: float
    delta_s_lattice: float | None
    delta_s_magnetic: float
    magnetic_bound: float
    delta_m: float | None
    measured: float | None
    molar_mass: float | None
    slope: float | None = None
    measured_slope: float | None = None
    notes: list = field(default_factory=list)

    @property
    def delta_s_model(self) -> float:
        return (self.delta_s_lattice or 0.0) + self.delta_s_magnetic

    @property
    def same_sign(self) -> bool | None:
        if self.delta_s_lattice is None:
            return None
        return bool(np.sign(self.delta_s_lattice) == np.sign(self.delta_s_magnetic))

    def sign_statement(self) -> str:
        if self.delta_s_lattice is None:
            return "no lattice term (no phonon DOS given)"
        a, b = self.delta_s_lattice, self.delta_s_magnetic
        if self.same_sign:
            return (f"lattice ({a:+.3g}) and magnetic ({b:+.3g} J/(mol K)) entropy changes have the "
                    "same sign: they add")
        return (f"lattice ({a:+.3g}) and magnetic ({b:+.3g} J/(mol K)) entropy changes have "
                "opposite signs: they compensate")

    def rows(self) -> list[dict]:
        """One row per quantity (J/(mol K), and J/(kg K) when the molar mass is known)."""
        kg = (lambda v: None if v is None else v / (self.molar_mass * 1e-3)) if self.molar_mass \
            else (lambda v: None)
        items = [("Delta S lattice (phonon DOS)", self.delta_s_lattice),
                 ("Delta S magnetic (mean field)", self.delta_s_magnetic),
                 ("R ln(2J+1) bound (x n)", self.magnetic_bound),
                 ("Delta S lattice + magnetic", self.delta_s_model),
                 ("Delta S measured", self.measured)]
        if self.measured is not None:
            items.append(("measured - model", self.measured - self.delta_s_model))
        rows = [{"quantity": n, "J/(mol K)": v, "J/(kg K)": kg(v)} for n, v in items if v is not None]
        if self.slope is not None:
            rows.append({"quantity": "dT_t/d(mu0 H) = -dM/dS of the model (K/T)",
                         "J/(mol K)": self.slope, "J/(kg K)": None})
        if self.measured_slope is not None:
            rows.append({"quantity": "dT_t/d(mu0 H) measured (K/T)", "J/(mol K)": self.measured_slope,
                         "J/(kg K)": None})
        return rows

    def summary(self) -> dict:
        return {"T": self.T, "field": self.field, "delta_s_lattice": self.delta_s_lattice,
                "delta_s_magnetic": self.delta_s_magnetic, "magnetic_bound": self.magnetic_bound,
                "delta_s_model": self.delta_s_model, "delta_s_measured": self.measured,
                "delta_m": self.delta_m, "dT_dH_model": self.slope, "dT_dH_measured": self.measured_slope,
                "same_sign": self.same_sign, "sign": self.sign_statement(), "notes": self.notes}

    def figure(self):
        from ..report import new_figure

        fig, ax = new_figure(6, 3.8)
        names = ["lattice", "magnetic", "sum"] + (["measured"] if self.measured is not None else [])
        vals = [self.delta_s_lattice or 0.0, self.delta_s_magnetic, self.delta_s_model]
        vals += [self.measured] if self.measured is not None else []
        ax.bar(names, vals, color=["C0", "C3", "0.4", "k"][:len(vals)])
        ax.axhline(0, color="k", lw=0.6)
        ax.axhline(-self.magnetic_bound, color="C3", lw=0.6, ls=":")
        ax.axhline(self.magnetic_bound, color="C3", lw=0.6, ls=":")
        ax.set_ylabel("ΔS (J mol⁻¹ K⁻¹)")
        return fig

    def write(self, folder, *, inputs=()) -> dict[str, str]:
        """``entropy_balance.csv`` (quantity, J/(mol K), J/(kg K)) and ``report.html``."""
        from pathlib import Path

        from ..fileio import write_text_atomic
        from ..report import Report

        out = Path(folder)
        lines = ["quantity,J_per_mol_K,J_per_kg_K"] + [
            f"\"{r['quantity']}\",{_f(r['J/(mol K)'])},{_f(r['J/(kg K)'])}" for r in self.rows()]
        csv = write_text_atomic(out / "entropy_balance.csv", "\n".join(lines) + "\n")
        rep = Report("Entropy balance of a magnetostructural transition")
        for i in inputs:
            rep.add_input(i)
        rep.add_text(None, f"T_t = {self.T:g} K, mu0 H = {self.field:g} T. {self.sign_statement()}. "
                     + " ".join(self.notes))
        rep.add_figure("entropy_balance", self.figure(), "Entropy changes phase 2 - phase 1; dotted: "
                       "the ±n R ln(2J+1) bound")
        rep.add_table("Entropy balance", self.rows())
        return {"csv": str(csv), "report": str(rep.write(out / "report.html"))}


def _dos(obj):
    """A DensityOfStates from anything :func:`latdyn.data.as_density_of_states` takes, or a file
    (latdyn.data.io)."""
    from pathlib import Path

    from ..data import as_density_of_states

    if isinstance(obj, (str, Path)):
        from ..data.io import load

        return as_density_of_states(load(obj).data, source=str(obj))
    return as_density_of_states(obj)


def _f(v) -> str:
    return "" if v is None else f"{v:.10g}"


def entropy_balance(T_t: float, *, J: float, n_ions: float = 1.0, g: float = 2.0,
                    T_c1: float = 0.0, T_c2: float = 0.0, field_T: float = 0.0, dos_1=None,
                    dos_2=None, atoms_per_formula_unit: float = 1.0, delta_m: float | None = None,
                    measured: float | None = None, measured_slope: float | None = None,
                    molar_mass: float | None = None) -> EntropyBalance:
    """Entropy balance of a transition from phase 1 to phase 2 at T_t (K) and field (T).

    Magnetic part: mean-field entropies of the two phases (``T_c1``, ``T_c2``: their mean-field
    Curie temperatures in K, 0 for a paramagnet; ``J``, ``g``, ``n_ions`` magnetic ions per formula
    unit); lattice part: S_2 - S_1 of the phonon DOS ``dos_1``, ``dos_2`` (anything
    :func:`latdyn.thermo.as_dos` takes, or a file path) with ``atoms_per_formula_unit``.
    ``delta_m`` (mu_B per formula unit, M_2 - M_1) gives the Clausius-Clapeyron slope of the
    model; ``measured`` (J/(mol K)) is compared with the sum; ``measured_slope``
    (dT_t/d(mu0 H), K/T) with ``delta_m`` gives the entropy change the slope implies
    (Clausius-Clapeyron), also compared.
    """
    T_t = float(check_temperature(T_t))
    notes = []
    s1 = magnetic_entropy(T_t, J, T_c1, field_T, g, n_ions)
    s2 = magnetic_entropy(T_t, J, T_c2, field_T, g, n_ions)
    d_lat = None
    if (dos_1 is None) != (dos_2 is None):
        raise InputError("the lattice term needs the DOS of both phases", field="dos_1,dos_2")
    if dos_1 is not None:
        d_lat = float(entropy_difference(_dos(dos_2), _dos(dos_1), T_t, atoms_per_formula_unit))
    slope = None
    d_model = (d_lat or 0.0) + (s2 - s1)
    if delta_m is not None and d_model != 0:
        slope = clausius_clapeyron_field(delta_m, d_model)
    if measured is None and measured_slope is not None:
        if delta_m is None:
            raise InputError("a measured dT/d(mu0 H) needs Delta M to give Delta S",
                             field="delta_m")
        measured = float(-delta_m * MU_B_PER_FU_TO_AM2_MOL / measured_slope)
        notes.append(f"Measured Delta S from Clausius-Clapeyron: -Delta M / (dT/d(mu0 H)) with "
                     f"Delta m = {delta_m:g} mu_B/f.u. and {measured_slope:g} K/T.")
    bound = magnetic_entropy_bound(J, n_ions)
    if abs(s2 - s1) > bound * (1 + 1e-9):
        notes.append("the magnetic entropy change exceeds n R ln(2J+1): check the inputs")
    return EntropyBalance(T_t, float(field_T), d_lat, float(s2 - s1), bound, delta_m, measured,
                          molar_mass, slope, measured_slope, notes)
