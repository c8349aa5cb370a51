"""The virtual experiment: a model S(Q,E) measured on a latdyn instrument, with noise.

``simulate_sqe(model, instrument, q, energy, ei=...)`` and ``virtual_qens(...)`` return
DataArrays (dims Q, E; variances; a coverage mask) in the same layout as reduced data.
``fit_poisson`` wraps any least-squares fitter (e.g. :func:`latdyn.fitting.fit`) into a Poisson
maximum-likelihood fit by iterative reweighting, so low-count points are not biased.
"""

from .convolve import convolve_gaussian_variable
from .poisson import counts_per_unit, fit_poisson, pearson_variances
from .virtual import resolution_fwhm, simulate_sqe, virtual_qens

__all__ = ["convolve_gaussian_variable", "resolution_fwhm", "simulate_sqe", "virtual_qens",
           "counts_per_unit", "pearson_variances", "fit_poisson"]
