"""Deprecated (one release): the phonon-peak analysis moved to :mod:`latdyn.inelastic`,
energy-dependent resolutions to :mod:`latdyn.convolution`."""

import importlib
import warnings


def __getattr__(name: str):
    for module in ("latdyn.inelastic", "latdyn.convolution"):
        mod = importlib.import_module(module)
        if name in getattr(mod, "__all__", ()):
            warnings.warn(f"latdyn.ins.{name} is deprecated; use {module}.{name}", DeprecationWarning,
                          stacklevel=2)
            return getattr(mod, name)
    raise AttributeError(f"module 'latdyn.ins' has no attribute '{name}'")
