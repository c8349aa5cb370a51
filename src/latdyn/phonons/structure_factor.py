"""Deprecated alias of :mod:`latdyn.phonons.one_phonon` (kept for one release)."""

import warnings

from .one_phonon import (
    coherent_structure_factors,
    incoherent_structure_factors,
    one_phonon_weights,
)

__all__ = ["coherent_structure_factors", "incoherent_structure_factors", "one_phonon_weights"]

warnings.warn("latdyn.phonons.structure_factor is deprecated: use latdyn.phonons.one_phonon",
              DeprecationWarning, stacklevel=2)
