r"""Harmonic thermodynamics from a phonon DOS g(E) normalised to 3 per atom.

The DOS is a :class:`latdyn.data.DensityOfStates` (or anything
:func:`latdyn.data.as_density_of_states` accepts: energies and values, a DataArray); the
integrals below use its total and its quadrature (exact for the interpolated g up to
Gauss-Legendre order 6 per interval).

With x = E / k_B T and n = 1 / (e^x - 1) (per mole of atoms, R = N_A k_B):

.. math::

    C_V &= R \int g(E)\, \frac{x^2 e^x}{(e^x - 1)^2}\, dE \\
    S   &= R \int g(E)\, [(n + 1)\ln(n + 1) - n \ln n]\, dE
         = R \int g(E)\, [x n - \ln(1 - e^{-x})]\, dE \\
    F   &= N_A \int g(E)\, [E/2 + k_B T \ln(1 - e^{-x})]\, dE \\
    U   &= N_A \int g(E)\, (E/2) \coth(x/2)\, dE, \qquad E_{ZP} = N_A \int g(E)\, E/2\, dE

so that F = U - T S and S = -dF/dT.  At high T, C_V -> 3R (Dulong-Petit).  Debye temperatures
from moments (Grimvall, *Thermophysical Properties of Materials*, 1999, sec. 6.5):

.. math::

    \theta_D(n) = \frac{1}{k_B}\left[\frac{n + 3}{3} \langle E^n \rangle\right]^{1/n},\quad
    \theta_D(0) = \frac{1}{k_B} \exp(1/3 + \langle \ln E \rangle)

which all equal the Debye temperature for a Debye DOS.  Units: T in K, heat capacity and
entropy in J/(mol K), energies in J/mol, per mole of atoms unless ``atoms_per_formula_unit``
is given.  Reference: Maradudin et al. (1971); Fultz, Prog. Mater. Sci. 55, 247 (2010).
"""

from __future__ import annotations

import numpy as np
from scipy import constants as C

from ..data.density_of_states import DensityOfStates, as_density_of_states
from ..errors import InputError
from ..units import KB_MEV_PER_K, MEV, check_temperature

__all__ = [
    "R_GAS",
    "DULONG_PETIT",
    "check_temperature",
    "heat_capacity",
    "entropy",
    "free_energy",
    "internal_energy",
    "zero_point_energy",
    "thermodynamics",
    "dulong_petit_ratio",
    "debye_temperature_from_moments",
    "band_centre",
    "entropy_difference",
]

#: Molar gas constant R = N_A k_B, J/(mol K).
R_GAS = C.R
#: The Dulong-Petit limit 3R, J/(mol K) per mole of atoms.
DULONG_PETIT = 3.0 * C.R
_J_PER_MOL_PER_MEV = C.N_A * MEV
_MAX_CHUNK = 2_000_000


def _chunks(n_rows: int, n_cols: int):
    """Slices over rows that keep row-block x columns below a bounded number of elements."""
    step = max(1, _MAX_CHUNK // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))


def _per_mode_integral(dos: DensityOfStates, T: np.ndarray, kernel) -> np.ndarray:
    """int g(E) kernel(E, kT) dE for every T (vectorised, memory bounded)."""
    flat = T.ravel()
    out = np.empty(flat.size)
    e = dos.nodes[None, :]
    for sl in _chunks(flat.size, dos.nodes.size):
        kt = KB_MEV_PER_K * flat[sl, None]
        out[sl] = kernel(e, kt) @ dos.weights
    return out.reshape(T.shape)


def _cv_kernel(e, kt):
    x = e / kt
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 1.0, safe * safe * np.exp(-safe) / np.expm1(-safe) ** 2)


def _s_kernel(e, kt):
    x = e / kt
    with np.errstate(over="ignore", divide="ignore"):
        n = np.where(x > 700, 0.0, 1.0 / np.expm1(np.minimum(x, 700)))
    return x * n - np.log(-np.expm1(-x))


def _f_kernel(e, kt):
    return 0.5 * e + kt * np.log(-np.expm1(-e / kt))


def _u_kernel(e, kt):
    x = e / kt
    with np.errstate(over="ignore"):
        n = np.where(x > 700, 0.0, 1.0 / np.expm1(np.minimum(x, 700)))
    return e * (0.5 + n)


def _thermal_integral(dos, T, atoms_per_formula_unit: float, kernel) -> np.ndarray:
    """atoms per formula unit x the per-mode integral of ``kernel`` over the DOS at each T."""
    d, t = as_density_of_states(dos), check_temperature(T)
    return atoms_per_formula_unit * _per_mode_integral(d, t, kernel)


def heat_capacity(dos, T, atoms_per_formula_unit: float = 1.0) -> np.ndarray:
    """Isochoric heat capacity C_V(T) in J/(mol K) (module formula); -> 3R per mole of atoms."""
    return R_GAS * _thermal_integral(dos, T, atoms_per_formula_unit, _cv_kernel)


def entropy(dos, T, atoms_per_formula_unit: float = 1.0) -> np.ndarray:
    """Vibrational entropy S(T) in J/(mol K) (module formula)."""
    return R_GAS * _thermal_integral(dos, T, atoms_per_formula_unit, _s_kernel)


def free_energy(dos, T, atoms_per_formula_unit: float = 1.0) -> np.ndarray:
    """Harmonic Helmholtz free energy F(T) in J/mol, zero-point energy included."""
    return _J_PER_MOL_PER_MEV * _thermal_integral(dos, T, atoms_per_formula_unit, _f_kernel)


def internal_energy(dos, T, atoms_per_formula_unit: float = 1.0) -> np.ndarray:
    """Vibrational internal energy U(T) in J/mol, zero-point energy included."""
    return _J_PER_MOL_PER_MEV * _thermal_integral(dos, T, atoms_per_formula_unit, _u_kernel)


def zero_point_energy(dos, atoms_per_formula_unit: float = 1.0) -> float:
    """Zero-point energy E_ZP = N_A int g(E) E/2 dE in J/mol."""
    d = as_density_of_states(dos)
    return float(_J_PER_MOL_PER_MEV * atoms_per_formula_unit * d.integrate(lambda e: 0.5 * e))


def dulong_petit_ratio(dos, T) -> np.ndarray:
    """C_V / 3R per mole of atoms (dimensionless), -> 1 at high temperature."""
    return heat_capacity(dos, T) / DULONG_PETIT


def thermodynamics(dos, T, atoms_per_formula_unit: float = 1.0) -> dict[str, np.ndarray]:
    """All harmonic quantities at temperatures T (K) in one table.

    Keys: T (K), Cv (J/(mol K)), Cv_over_3R (per mole of atoms), S (J/(mol K)), F, U (J/mol),
    and the scalar ZPE (J/mol).
    """
    d, t = as_density_of_states(dos), check_temperature(T)
    n = atoms_per_formula_unit
    cv = heat_capacity(d, t, n)
    return {
        "T": t,
        "Cv": cv,
        "Cv_over_3R": cv / (DULONG_PETIT * n),
        "S": entropy(d, t, n),
        "F": free_energy(d, t, n),
        "U": internal_energy(d, t, n),
        "ZPE": zero_point_energy(d, n),
    }


def debye_temperature_from_moments(dos, n: float = 2.0) -> float:
    """Debye temperature (K) from the n-th moment of the DOS (module formula; n > -3).

    n = -2 weighs the acoustic region (low-T heat capacity), n = 0 (logarithmic moment) the
    high-T entropy, n = 2 the high-T heat capacity.
    """
    d = as_density_of_states(dos)
    if not np.isfinite(n) or n <= -3:
        raise InputError("moment order must be > -3", field="n", value=n)
    if n == 0:
        mean_log = float(d.integrate(lambda e: np.log(e)) / 3.0)
        return float(np.exp(1.0 / 3.0 + mean_log) / KB_MEV_PER_K)
    m = d.moment(n)
    return float(((n + 3.0) / 3.0 * m) ** (1.0 / n) / KB_MEV_PER_K)


def band_centre(dos) -> float:
    """Phonon band centre <E> = int E g dE / int g dE (meV), a lattice-softness descriptor.

    Used for ionic conductors: a lower band centre marks a softer lattice and correlates with
    lower migration barriers (Muy et al., Energy Environ. Sci. 11, 850 (2018)).
    """
    return as_density_of_states(dos).mean_energy


def entropy_difference(dos_2, dos_1, T, atoms_per_formula_unit: float = 1.0) -> np.ndarray:
    """S_2(T) - S_1(T) in J/(mol K): the vibrational entropy change from phase 1 to phase 2.

    At high T it tends to 3R (<ln E>_1 - <ln E>_2) per mole of atoms (Fultz 2010, eq. 8).
    """
    return (entropy(dos_2, T, atoms_per_formula_unit)
            - entropy(dos_1, T, atoms_per_formula_unit))
