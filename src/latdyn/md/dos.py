"""Deprecated module path (one release): the VACF and vibrational DOS live in
:mod:`latdyn.md.vacf`."""

import warnings

from .vacf import (
    VACFResult,
    compute_vacf,
    neutron_dos_weights,
    vibrational_density_of_states,
    vibrational_dos,
)

warnings.warn("latdyn.md.dos is deprecated: import from latdyn.md (or latdyn.md.vacf)",
              DeprecationWarning, stacklevel=2)

__all__ = ["VACFResult", "compute_vacf", "vibrational_density_of_states", "vibrational_dos",
           "neutron_dos_weights"]
