r"""Entropy bookkeeping of caloric (barocaloric) phase transitions.

Configurational entropy of orientational disorder (Boltzmann), per mole of formula units:
Delta S_conf = R ln(Omega_2 / Omega_1), Omega the number of equivalent orientations of a
molecular ion (NH4+ in NH4I: ordered, then two-fold, then six-fold... as in the review).

Clausius-Clapeyron for a first-order transition (Callen, *Thermodynamics*, ch. 9):

.. math::  \frac{dT_t}{dP} = \frac{\Delta V}{\Delta S}

with Delta V the molar volume change (cm^3/mol) and Delta S the molar entropy change
(J/(mol K)); dT/dP comes in K/MPa (1 cm^3 J^-1 K = 1 K/MPa).  The driving pressure to move
the transition by Delta T is P = Delta T / (dT/dP).
"""

from __future__ import annotations

import numpy as np
from scipy import constants as C

from ..errors import InputError
from .quantity_table import QuantityTable, quantities

__all__ = ["configurational_entropy", "clausius_clapeyron", "driving_pressure",
           "total_transition_entropy", "caloric_balance"]

_CM3 = C.centi**3
_MPA = C.mega


def configurational_entropy(omega_2: float, omega_1: float = 1.0, n_units: float = 1.0) -> float:
    """Delta S_conf = n R ln(Omega_2 / Omega_1) in J/(mol K) (n disordering units per formula)."""
    for name, v in (("omega_2", omega_2), ("omega_1", omega_1), ("n_units", n_units)):
        if not np.isfinite(v) or v <= 0:
            raise InputError(f"{name} must be finite and > 0", field=name, value=v)
    return float(n_units * C.R * np.log(omega_2 / omega_1))


def total_transition_entropy(delta_s_conf: float, delta_s_vib: float) -> float:
    """Delta S = Delta S_conf + Delta S_vib (J/(mol K)), the entropy a caloric cycle can use."""
    return float(delta_s_conf) + float(delta_s_vib)


def clausius_clapeyron(delta_v: float, delta_s: float) -> float:
    """dT/dP = Delta V / Delta S in K/MPa (Delta V cm^3/mol, Delta S J/(mol K), both 2 - 1)."""
    if not np.isfinite(delta_v):
        raise InputError("volume change must be finite", field="delta_v", value=delta_v)
    if not np.isfinite(delta_s) or delta_s == 0:
        raise InputError("entropy change must be finite and non-zero", field="delta_s",
                         value=delta_s)
    return float(delta_v * _CM3 / delta_s * _MPA)


def driving_pressure(delta_t: float, delta_v: float, delta_s: float) -> float:
    """Pressure (MPa) that shifts the transition by Delta T (K): P = Delta T / (dT/dP)."""
    slope = clausius_clapeyron(delta_v, delta_s)
    if slope == 0:
        raise InputError("no volume change: pressure does not move the transition",
                         field="delta_v", value=delta_v)
    return float(delta_t / slope)


def caloric_balance(omega_1: float, omega_2: float, *, dV: float, units: float = 1.0,
                    dS_vib: float = 0.0, dT: float | None = None) -> QuantityTable:
    """The entropy bookkeeping of ``latdyn thermo caloric`` per mole of formula units:
    Delta S_conf = n R ln(Omega_2/Omega_1) (``units`` = n disordering units per formula unit),
    Delta S_total = Delta S_conf + ``dS_vib`` (J/(mol K)), the Clausius-Clapeyron slope
    dT/dP = Delta V / Delta S (K/MPa; ``dV`` in cm^3/mol) and, with ``dT`` (K), the pressure
    that shifts the transition by dT (MPa)."""
    s_conf = configurational_entropy(omega_2, omega_1, units)
    s_tot = total_transition_entropy(s_conf, dS_vib)
    items = {"dS_conf": (s_conf, "J/(mol*K)"), "dS_vib": (dS_vib, "J/(mol*K)"),
             "dS_total": (s_tot, "J/(mol*K)"), "dV": (dV, "cm**3/mol"),
             "dT_dP": (clausius_clapeyron(dV, s_tot), "K/MPa")}
    if dT is not None:
        items["driving_pressure"] = (driving_pressure(dT, dV, s_tot), "MPa")
    return QuantityTable("caloric entropy bookkeeping (per mole of formula units)", quantities(**items))
