"""Inelastic (phonon) analysis: damped-oscillator peak fits with an energy-dependent resolution,
sequential over temperature, with the overdamping criterion, lifetimes and mean free paths;
magnetic and phonon scattering of powders separated by their |Q| dependence; cuts of measured
S(Q,E).  ``latdyn ins cut|fit|magnetic`` are one call each here (:func:`cut_measurement`,
:func:`fit_phonon_series`, :func:`separate_magnetic`); ``latdyn ins dos|thermo`` are in
:mod:`latdyn.thermo` (docs/ins.md)."""

from .magnetic import (
    MagneticSeparation,
    ParamagneticFit,
    fit_paramagnetic,
    paramagnetic_sqe,
    separate_magnetic,
)
from .measured_cut import MeasuredCut, cut_measurement
from .peak_series import fit_phonon_series, load_spectrum
from .phonon_peaks import (
    PhononFit,
    PhononPeakModel,
    PhononSeries,
    fit_phonon_peaks,
    fit_temperature_series,
)

__all__ = ["PhononPeakModel", "PhononFit", "PhononSeries", "fit_phonon_peaks", "fit_temperature_series",
           "MagneticSeparation", "separate_magnetic", "paramagnetic_sqe", "ParamagneticFit",
           "fit_paramagnetic", "MeasuredCut", "cut_measurement", "fit_phonon_series", "load_spectrum"]
