"""Deprecated (one release): the QENS spectral fits moved to :mod:`latdyn.qens`, resolution
functions to :mod:`latdyn.convolution`, model selection to :mod:`latdyn.fitresult`."""

import importlib
import warnings

_MOVED = {
    "fit": "latdyn.qens", "data_arrays": "latdyn.qens", "Component": "latdyn.qens",
    "FitSetup": "latdyn.qens", "Rule": "latdyn.qens", "SpectrumModel": "latdyn.qens",
    "qens_model": "latdyn.qens", "GroupResult": "latdyn.qens",
    "AnalyticResolution": "latdyn.convolution", "MeasuredResolution": "latdyn.convolution",
    "fit_resolution": "latdyn.convolution", "select_model": "latdyn.fitresult",
}
_RENAMED = {"FitResult": ("latdyn.qens", "SpectralFitResult")}


def __getattr__(name: str):
    if name in _MOVED or name in _RENAMED:
        module, new = (_MOVED[name], name) if name in _MOVED else _RENAMED[name]
        warnings.warn(f"latdyn.fitting.{name} is deprecated; use {module}.{new}", DeprecationWarning,
                      stacklevel=2)
        return getattr(importlib.import_module(module), new)
    raise AttributeError(f"module 'latdyn.fitting' has no attribute '{name}'")
