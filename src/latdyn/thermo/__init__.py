"""Thermodynamics from a phonon DOS, Debye/Einstein models, kinetic thermal conductivity,
Arrhenius analysis and the entropy bookkeeping of caloric transitions, including the lattice
and magnetic entropy balance of magnetostructural (magnetocaloric) transitions.

The DOS is :class:`latdyn.data.DensityOfStates`; ``latdyn.thermo.DOS`` and
``latdyn.thermo.as_dos`` are deprecated aliases kept for one release.

The commands ``latdyn thermo arrhenius|caloric|magnetocaloric|kappa`` and
``latdyn ins thermo|dos`` are one call each here (:func:`fit_arrhenius_file`,
:func:`caloric_balance`, :func:`entropy_balance`, :func:`kinetic_kappa`,
:func:`thermodynamics_from_dos`, :func:`generalized_dos_thermodynamics`), returning a result
with ``rows()``, ``to_json()``, ``write(folder)`` and ``report()`` (docs/thermo.md, docs/ins.md)."""

import warnings as _warnings

from ..data.density_of_states import DensityOfStates as _DensityOfStates
from ..data.density_of_states import as_density_of_states as _as_density_of_states
from .arrhenius_analysis import ArrheniusAnalysis, fit_arrhenius_file, read_arrhenius_table
from .caloric import (
    caloric_balance,
    clausius_clapeyron,
    configurational_entropy,
    driving_pressure,
    total_transition_entropy,
)
from .dos_analysis import (
    DOSThermodynamics,
    GDOSThermodynamics,
    generalized_dos_thermodynamics,
    read_dos,
    temperature_grid,
    thermodynamics_from_dos,
)
from .harmonic import (
    DULONG_PETIT,
    R_GAS,
    band_centre,
    debye_temperature_from_moments,
    dulong_petit_ratio,
    entropy,
    entropy_difference,
    free_energy,
    heat_capacity,
    internal_energy,
    thermodynamics,
    zero_point_energy,
)
from .kinetics import ArrheniusResult, arrhenius, arrhenius_fit
from .magnetocaloric import (
    EntropyBalance,
    brillouin,
    clausius_clapeyron_field,
    entropy_balance,
    magnetic_entropy,
    magnetic_entropy_bound,
    mean_field_magnetisation,
)
from .models import (
    debye_dos,
    debye_entropy,
    debye_heat_capacity,
    einstein_entropy,
    einstein_heat_capacity,
)
from .quantity_table import QuantityTable
from .transport import (
    kappa_average,
    kappa_modes,
    kinetic_kappa,
    lifetime,
    lifetime_error,
    mean_free_path,
    mode_heat_capacity,
    phonon_period,
    residence_time,
    timescale_comparison,
)

__all__ = [
    "DOS", "as_dos", "R_GAS", "DULONG_PETIT", "heat_capacity", "entropy", "free_energy",
    "internal_energy", "zero_point_energy", "thermodynamics", "dulong_petit_ratio",
    "debye_temperature_from_moments", "band_centre", "entropy_difference", "debye_dos",
    "debye_heat_capacity", "debye_entropy", "einstein_heat_capacity", "einstein_entropy",
    "lifetime", "lifetime_error", "mean_free_path", "mode_heat_capacity", "kappa_modes",
    "kappa_average", "phonon_period", "residence_time", "timescale_comparison",
    "ArrheniusResult", "arrhenius", "arrhenius_fit", "configurational_entropy",
    "total_transition_entropy", "clausius_clapeyron", "driving_pressure", "EntropyBalance",
    "entropy_balance", "brillouin", "mean_field_magnetisation", "magnetic_entropy",
    "magnetic_entropy_bound", "clausius_clapeyron_field", "ArrheniusAnalysis", "fit_arrhenius_file",
    "read_arrhenius_table", "caloric_balance", "kinetic_kappa", "QuantityTable", "temperature_grid",
    "read_dos", "DOSThermodynamics", "thermodynamics_from_dos", "GDOSThermodynamics",
    "generalized_dos_thermodynamics",
]


def as_dos(energy, g=None, *, source=None):
    """Deprecated: use :meth:`latdyn.data.DensityOfStates.from_arrays` (or
    :func:`latdyn.data.as_density_of_states`); same checks, same normalisation to 3 per atom."""
    _warnings.warn("latdyn.thermo.as_dos is deprecated: use latdyn.data.DensityOfStates."
                   "from_arrays or latdyn.data.as_density_of_states", DeprecationWarning,
                   stacklevel=2)
    return _as_density_of_states(energy, g, source=source)


def __getattr__(name):
    if name == "DOS":
        _warnings.warn("latdyn.thermo.DOS is deprecated: use latdyn.data.DensityOfStates",
                       DeprecationWarning, stacklevel=2)
        return _DensityOfStates
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
