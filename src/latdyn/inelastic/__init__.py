"""Inelastic (phonon) analysis: damped-oscillator peak fits with an energy-dependent resolution,
sequential over temperature, with the overdamping criterion, lifetimes and mean free paths;
magnetic and phonon scattering of powders separated by their |Q| dependence."""

from .magnetic import (
    MagneticSeparation,
    ParamagneticFit,
    fit_paramagnetic,
    paramagnetic_sqe,
    separate_magnetic,
)
from .phonon_peaks import (
    PhononFit,
    PhononPeakModel,
    PhononSeries,
    fit_phonon_peaks,
    fit_temperature_series,
)

__all__ = ["PhononPeakModel", "PhononFit", "PhononSeries", "fit_phonon_peaks", "fit_temperature_series",
           "MagneticSeparation", "separate_magnetic", "paramagnetic_sqe", "ParamagneticFit",
           "fit_paramagnetic"]
