"""Correlation functions from MD trajectories: F(Q,t) coherent and incoherent (partial and
neutron/X-ray weighted), S(Q,E), van Hove G_s(r,t) and G_d(r,t), MSD and diffusion
coefficients, VACF and vibrational DOS, current correlations; streamed in frame chunks.

Each ``latdyn md`` command is one call of :mod:`latdyn.md.compute` (``sqw_from_trajectory``,
``msd_from_trajectory``, ``vanhove_from_trajectory``, ``dos_from_trajectory``) returning a
result of :mod:`latdyn.md.analysis` with ``rows()``, ``to_json()``, ``write(folder)`` and
``report()``."""

from .analysis import DOSAnalysis, MSDAnalysis, SqwAnalysis, TrajectoryInfo, VanHoveAnalysis
from .compute import (
    dos_from_trajectory,
    load_trajectory,
    msd_from_trajectory,
    sqw_from_trajectory,
    vanhove_from_trajectory,
)
from .fourier import fourier_spectrum, time_window
from .intermediate import CorrelationResult, compute_correlations
from .msd import DiffusionFit, MSDResult, compute_msd, fit_diffusion
from .phases import PhaseKernel
from .qpoints import QSet, qpoints_along_path, qpoints_in_shells, reciprocal_cell
from .results import correlation_arrays, save_results
from .trajectory import Chunk, Trajectory, open_trajectory, write_h5md
from .vacf import (
    VACFResult,
    compute_vacf,
    neutron_dos_weights,
    vibrational_density_of_states,
    vibrational_dos,
)
from .vanhove import VanHoveResult, compute_van_hove
from .weights import species_weights, weighted_coherent, weighted_incoherent

__all__ = [
    "Chunk", "Trajectory", "open_trajectory", "write_h5md",
    "QSet", "qpoints_along_path", "qpoints_in_shells", "reciprocal_cell",
    "PhaseKernel", "CorrelationResult", "compute_correlations",
    "correlation_arrays", "save_results", "fourier_spectrum", "time_window",
    "species_weights", "weighted_coherent", "weighted_incoherent",
    "MSDResult", "DiffusionFit", "compute_msd", "fit_diffusion",
    "VACFResult", "compute_vacf", "vibrational_density_of_states", "vibrational_dos",
    "neutron_dos_weights",
    "VanHoveResult", "compute_van_hove",
    "sqw_from_trajectory", "msd_from_trajectory", "vanhove_from_trajectory", "dos_from_trajectory",
    "load_trajectory", "TrajectoryInfo", "SqwAnalysis", "MSDAnalysis", "VanHoveAnalysis",
    "DOSAnalysis",
]
