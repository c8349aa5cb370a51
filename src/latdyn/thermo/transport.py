r"""Phonon lifetimes, mean free paths, kinetic thermal conductivity and time scales.

Lifetime from a damping Gamma (HWHM of the line, meV): tau = hbar / (2 Gamma) (ps), the decay
time of the mode energy (the amplitude decays as exp(-Gamma t / hbar)).  Mean free path
l = v_g tau.  These two conversions live in :mod:`latdyn.units` (used by the analysis layer
below this one) and are re-exported here.  Kinetic theory (Peierls; Ziman, *Electrons and
Phonons*, 1960, ch. 8):

.. math::

    \kappa = \frac{1}{3} \sum_\lambda \frac{C_\lambda}{V} v_\lambda^2 \tau_\lambda,
    \qquad C_\lambda = k_B \frac{x^2 e^x}{(e^x - 1)^2},\ x = E_\lambda / k_B T

summed over modes lambda = (q, branch) of a crystal of volume V = N_q V_cell, or from averages
kappa = C_vol v^2 tau / 3 with C_vol the heat capacity per volume.  A relaxation time (QENS
HWHM Gamma) tau_res = hbar / Gamma compared with a phonon period 2 pi hbar / E = h / E tells
which vibrations are faster than a hop.

Units: E, Gamma meV; tau ps; v m/s; l angstrom; V angstrom^3; kappa W/(m K); C_vol J/(m^3 K).
Inputs may be scipp Variables with any convertible unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import constants as C

from ..errors import InputError
from ..units import HBAR_MEV_PS, KB_MEV_PER_K, lifetime, lifetime_error, mean_free_path, values_in
from .quantity_table import QuantityTable, quantities

__all__ = ["lifetime", "lifetime_error", "mean_free_path", "mode_heat_capacity",
           "kappa_modes", "kappa_average", "phonon_period", "residence_time",
           "timescale_comparison", "kinetic_kappa"]

_PS = C.pico
_ANGSTROM = C.angstrom


def _out(a: np.ndarray):
    return float(a) if a.ndim == 0 else a


def mode_heat_capacity(energy, T):
    """Heat capacity of one mode C = k_B x^2 e^x / (e^x - 1)^2 in J/K, x = E / k_B T."""
    e = values_in(energy, "meV", "energy")
    t = values_in(T, "K", "T")
    x = e / (KB_MEV_PER_K * t)
    return _out(C.k * x * x * np.exp(-x) / np.expm1(-x) ** 2)


def kappa_modes(energy, group_velocity, tau, T: float, cell_volume: float,
                n_qpoints: int) -> float:
    """Lattice thermal conductivity kappa = (1/3V) sum C v^2 tau (W/(m K)) from modes.

    Parameters
    ----------
    energy: mode energies (meV), shape (n_q, n_branch) or flat; acoustic modes at Gamma with
        E = 0 must be left out.
    group_velocity: speeds |v| (m/s) of the same shape, or vectors with a last axis of 3
        (then |v|^2 = sum_alpha v_alpha^2: the trace of the conductivity tensor over 3).
    tau: lifetimes (ps), same shape as energy.
    T: temperature (K); cell_volume: unit-cell volume (angstrom^3); n_qpoints: q points
        sampled, so V = n_qpoints * cell_volume.
    """
    e = values_in(energy, "meV", "energy")
    v = values_in(group_velocity, "m/s", "group_velocity", positive=False)
    t = values_in(tau, "ps", "tau")
    if v.shape == e.shape + (3,):
        v2 = np.sum(v * v, axis=-1)
    elif v.shape == e.shape:
        v2 = v * v
    else:
        raise InputError("group_velocity must match energy (speeds) or add a last axis of 3",
                         field="group_velocity", value=(v.shape, e.shape))
    if t.shape != e.shape:
        raise InputError("tau must have the shape of energy", field="tau", value=(t.shape, e.shape))
    if not (isinstance(n_qpoints, (int, np.integer)) and n_qpoints > 0):
        raise InputError("n_qpoints must be a positive integer", field="n_qpoints", value=n_qpoints)
    cell = float(values_in(cell_volume, "angstrom**3", "cell_volume"))
    c = np.asarray(mode_heat_capacity(e, T))
    volume = n_qpoints * cell * _ANGSTROM**3
    return float(np.sum(c * v2 * t * _PS) / (3.0 * volume))


def kappa_average(heat_capacity_per_volume, velocity, tau) -> float:
    """Kinetic kappa = C_vol v^2 tau / 3 in W/(m K) (C_vol J/(m^3 K), v m/s, tau ps)."""
    c = float(values_in(heat_capacity_per_volume, "J/(m**3*K)", "heat_capacity_per_volume",
                  allow_zero=True))
    v = float(values_in(velocity, "m/s", "velocity", allow_zero=True))
    t = float(values_in(tau, "ps", "tau"))
    return c * v * v * t * _PS / 3.0


def kinetic_kappa(heat_capacity: float, v: float, *, tau: float | None = None,
                  gamma: float | None = None) -> QuantityTable:
    """``latdyn thermo kappa``: kappa = C v^2 tau / 3 (:func:`kappa_average`) from the heat
    capacity per volume C (``heat_capacity``, J/(m^3 K)), velocity ``v`` (m/s) and the
    lifetime ``tau`` (ps) or a damping ``gamma`` (HWHM, meV: tau = hbar / (2 Gamma)), with
    the mean free path l = v tau (angstrom)."""
    if (tau is None) == (gamma is None):
        raise InputError("give one of tau (ps) and gamma (meV)", field="tau", value=(tau, gamma))
    t = tau if tau is not None else lifetime(gamma)
    return QuantityTable("kinetic thermal conductivity", quantities(
        C=(heat_capacity, "J/(m**3*K)"), v=(v, "m/s"), tau=(t, "ps"),
        mean_free_path=(mean_free_path(v, t), "angstrom"),
        kappa=(kappa_average(heat_capacity, v, t), "W/(m*K)")))


def phonon_period(energy):
    """Period of a vibration of energy E: 2 pi hbar / E (ps)."""
    return _out(2.0 * np.pi * HBAR_MEV_PS / values_in(energy, "meV", "energy"))


def residence_time(hwhm):
    """Relaxation (residence) time tau = hbar / Gamma (ps) of a Lorentzian of HWHM Gamma (meV)."""
    return _out(HBAR_MEV_PS / values_in(hwhm, "meV", "hwhm"))


def timescale_comparison(tau_residence: float, phonon_energies) -> list[dict[str, Any]]:
    """For each phonon energy (meV): its period (ps), the ratio period / tau_residence and
    whether it is faster than the hop (period < tau_residence, ps)."""
    tau = float(values_in(tau_residence, "ps", "tau_residence"))
    rows = []
    for e in np.atleast_1d(values_in(phonon_energies, "meV", "phonon_energies")):
        p = float(phonon_period(e))
        rows.append({"energy_meV": float(e), "period_ps": p, "period_over_tau": p / tau,
                     "faster_than_hop": bool(p < tau)})
    return rows
