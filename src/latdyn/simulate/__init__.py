"""The virtual experiment: a model S(Q,E) measured on a latdyn instrument, with noise.

``simulate_sqe(model, instrument, q, energy, ei=...)`` and ``virtual_qens(...)`` return
DataArrays (dims Q, E; variances; a coverage mask) in the same layout as reduced data.
"""

from .convolve import convolve_gaussian_variable
from .virtual import resolution_fwhm, simulate_sqe, virtual_qens

__all__ = ["convolve_gaussian_variable", "resolution_fwhm", "simulate_sqe", "virtual_qens"]
