"""Inelastic (phonon) analysis: damped-oscillator peak fits with an energy-dependent resolution,
sequential over temperature, with the overdamping criterion, lifetimes and mean free paths."""

from .phonon_peaks import (
    PhononFit,
    PhononPeakModel,
    PhononSeries,
    fit_phonon_peaks,
    fit_temperature_series,
)

__all__ = ["PhononPeakModel", "PhononFit", "PhononSeries", "fit_phonon_peaks", "fit_temperature_series"]
