"""The virtual experiment: a model S(Q,E) measured on a latdyn instrument, with noise.

``simulate_sqe(model, instrument, q, energy, ei=...)`` and ``virtual_qens(...)`` return
DataArrays (dims Q, E; variances; a coverage mask) in the same layout as reduced data.
``fit_poisson`` wraps any least-squares fitter (e.g. :func:`latdyn.fitting.fit`) into a Poisson
maximum-likelihood fit by iterative reweighting, so low-count points are not biased.
``Sample`` and ``hours=`` turn the abstract noise level into the counts of a real sample
(flux, time, formula units, cross section, solid angle, detector efficiency, self-shielding;
:mod:`latdyn.simulate.counts`); ``elastic_count_rate`` plans a vanadium standard.
``simulate_measurement`` is ``latdyn simulate mode|qens`` in one call (a
:class:`SimulatedMeasurement` with ``rows()``, ``to_json()``, ``write(path)``, ``report()``).
``virtual_phase_sweep`` simulates powder patterns of phase mixtures (with magnetic order) on a
diffractometer of the instrument library (:mod:`latdyn.simulate.diffraction`).
``plan_experiment`` is ``latdyn plan INSTRUMENT``: resolution, |Q| resolution and the vanadium
rate of one instrument at its settings (:mod:`latdyn.simulate.plan`).
"""

from .convolve import convolve_gaussian_variable
from .counts import counts_factor, elastic_count_rate
from .diffraction import instrument_grid, virtual_phase_sweep, virtual_powder_pattern
from .plan import ExperimentPlan, plan_experiment
from .poisson import counts_per_unit, fit_poisson, pearson_variances
from .results import SimulatedMeasurement, simulate_measurement
from .sample import Sample, slab_attenuation
from .virtual import resolution_fwhm, simulate_sqe, virtual_qens

__all__ = ["convolve_gaussian_variable", "resolution_fwhm", "simulate_sqe", "virtual_qens",
           "counts_per_unit", "pearson_variances", "fit_poisson", "Sample", "slab_attenuation",
           "counts_factor", "elastic_count_rate", "virtual_powder_pattern", "virtual_phase_sweep",
           "instrument_grid", "simulate_measurement", "SimulatedMeasurement", "ExperimentPlan",
           "plan_experiment"]
