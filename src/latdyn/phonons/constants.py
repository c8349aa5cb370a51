"""Unit factors of the phonon code, all derived from :mod:`scipy.constants`.

Internal units: force constants eV/angstrom^2, masses amu, lengths angstrom, energies meV,
Born charges e, scattering lengths fm, cross sections barn.
"""

from __future__ import annotations

import numpy as np
from scipy import constants as C

from ..units import MEV

__all__ = ["FC_TO_MEV2", "HBAR2_OVER_AMU", "COULOMB_EV_A", "FM2_TO_BARN"]

#: (hbar omega)^2 in meV^2 per eigenvalue of the mass-weighted force constants, eV/(A^2 amu).
FC_TO_MEV2 = C.hbar**2 * C.e / (1e-20 * C.atomic_mass) / MEV**2
#: hbar^2 / amu in meV angstrom^2 (so hbar^2 Q^2 / (2 M) is a recoil energy in meV).
HBAR2_OVER_AMU = C.hbar**2 / C.atomic_mass / MEV * 1e20
#: e^2 / (4 pi epsilon_0) in eV angstrom (14.3996...).
COULOMB_EV_A = C.e / (4 * np.pi * C.epsilon_0) * 1e10
#: 1 fm^2 in barn.
FM2_TO_BARN = 1e-2
