r"""Debye and Einstein models of the lattice heat capacity, entropy and DOS.

Debye (per mole of atoms, x_D = theta_D / T; Kittel, *Introduction to Solid State Physics*,
ch. 5):

.. math::

    g_D(E) = 9 E^2 / E_D^3 \ (E \le E_D = k_B \theta_D), \qquad
    C_V = 9R \left(\frac{T}{\theta_D}\right)^3 \int_0^{x_D} \frac{x^4 e^x}{(e^x - 1)^2} dx

    S = 3R \left[\frac{4}{x_D^3}\int_0^{x_D} \frac{x^3}{e^x - 1} dx - \ln(1 - e^{-x_D})\right]

Einstein (x_E = theta_E / T): C_V = 3R x_E^2 e^{x_E} / (e^{x_E} - 1)^2,
S = 3R [x_E / (e^{x_E} - 1) - ln(1 - e^{-x_E})].

The integrals use a 200-point Gauss-Legendre rule on [0, min(x_D, 80)] (the integrand beyond
x = 80 is below 1e-30 of its peak): relative accuracy better than 1e-12.
Units: T and theta in K, C_V and S in J/(mol K), E in meV.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..units import KB_MEV_PER_K, check_temperature
from .harmonic import R_GAS

__all__ = ["debye_dos", "debye_heat_capacity", "debye_entropy", "einstein_heat_capacity",
           "einstein_entropy"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(200)
_X_CUT = 80.0


def _theta(theta, name: str) -> float:
    th = float(theta)
    if not np.isfinite(th) or th <= 0:
        raise InputError(f"{name} must be finite and > 0 K", field=name, value=theta)
    return th


def _debye_integral(x_d: np.ndarray, integrand) -> np.ndarray:
    """int_0^{x_D} integrand(x) dx for every x_D (Gauss-Legendre on [0, min(x_D, 80)])."""
    upper = np.minimum(x_d, _X_CUT)[..., None]
    x = 0.5 * upper * (_GL_X + 1.0)
    return (0.5 * upper[..., 0]) * (integrand(x) @ _GL_W)


def debye_dos(energy, theta_d: float) -> np.ndarray:
    """Debye DOS g(E) = 9 E^2 / E_D^3 for 0 <= E <= E_D, else 0 (states/meV/atom, area 3)."""
    e_d = KB_MEV_PER_K * _theta(theta_d, "theta_d")
    e = np.asarray(energy, dtype=float)
    return np.where((e >= 0) & (e <= e_d), 9.0 * e * e / e_d**3, 0.0)


def debye_heat_capacity(T, theta_d: float) -> np.ndarray:
    """Debye heat capacity C_V(T) in J/(mol K) per mole of atoms (module formula)."""
    t = check_temperature(T)
    x_d = _theta(theta_d, "theta_d") / t

    def f(x):
        return x**4 * np.exp(-x) / np.expm1(-x) ** 2

    return 9.0 * R_GAS * _debye_integral(x_d, f) / x_d**3


def debye_entropy(T, theta_d: float) -> np.ndarray:
    """Debye vibrational entropy S(T) in J/(mol K) per mole of atoms (module formula)."""
    t = check_temperature(T)
    x_d = _theta(theta_d, "theta_d") / t

    def f(x):
        return x**3 / np.expm1(x)

    return 3.0 * R_GAS * (4.0 * _debye_integral(x_d, f) / x_d**3 - np.log(-np.expm1(-x_d)))


def einstein_heat_capacity(T, theta_e: float) -> np.ndarray:
    """Einstein heat capacity C_V = 3R x^2 e^x / (e^x - 1)^2, x = theta_E / T (J/(mol K))."""
    x = _theta(theta_e, "theta_e") / check_temperature(T)
    return 3.0 * R_GAS * x * x * np.exp(-x) / np.expm1(-x) ** 2


def einstein_entropy(T, theta_e: float) -> np.ndarray:
    """Einstein entropy S = 3R [x / (e^x - 1) - ln(1 - e^{-x})], x = theta_E / T (J/(mol K))."""
    x = _theta(theta_e, "theta_e") / check_temperature(T)
    return 3.0 * R_GAS * (x / np.expm1(x) - np.log(-np.expm1(-x)))
