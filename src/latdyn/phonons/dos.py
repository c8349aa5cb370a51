"""Deprecated module path (one release): the mesh DOS lives in :mod:`latdyn.phonons.mesh_dos`."""

import warnings

from .mesh_dos import PhononDOS, mode_gradients, phonon_dos

warnings.warn("latdyn.phonons.dos is deprecated: import from latdyn.phonons (or "
              "latdyn.phonons.mesh_dos)", DeprecationWarning, stacklevel=2)

__all__ = ["PhononDOS", "phonon_dos", "mode_gradients"]
