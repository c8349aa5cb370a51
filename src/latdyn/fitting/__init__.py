"""Fitting: exact resolution convolution, model composition, per-Q / sequential / global fits,
model selection and result tables (CSV, HDF5)."""

from .fit import data_arrays, fit
from .model import Component, FitSetup, Rule, SpectrumModel, qens_model
from .resolution import AnalyticResolution, MeasuredResolution, fit_resolution
from .results import FitResult, GroupResult
from .select import select_model

__all__ = ["fit", "data_arrays", "Component", "FitSetup", "Rule", "SpectrumModel", "qens_model",
           "AnalyticResolution", "MeasuredResolution", "fit_resolution", "FitResult", "GroupResult",
           "select_model"]
