"""Resolution functions and exact convolutions of line shapes with them: measured (vanadium)
or analytic resolutions on a grid (QENS), energy-dependent Gaussian resolutions of
spectrometers (INS), and the pole kernels both use."""

from .energy_dependent import EnergyResolution, pole_gaussian_conv, thermal_conv
from .kernels import poles
from .resolution import AnalyticResolution, MeasuredResolution, fit_resolution

__all__ = ["EnergyResolution", "pole_gaussian_conv", "thermal_conv", "poles", "AnalyticResolution",
           "MeasuredResolution", "fit_resolution"]
