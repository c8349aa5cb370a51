"""Data model (scipp DataArrays for S(Q,E), S(E), S(Q); the density of states) and file
input/output (``latdyn.data.io``)."""

from .density_of_states import DensityOfStates, as_density_of_states
from .model import (
    from_numpy,
    make_spectrum,
    make_sq,
    make_sqe,
    to_numpy,
    validate,
)

__all__ = ["from_numpy", "make_sq", "make_sqe", "make_spectrum", "to_numpy", "validate",
           "DensityOfStates", "as_density_of_states"]
