"""Instruments: definitions (YAML library), resolution, coverage and triple-axis geometry.

Quick use::

    from latdyn.instruments import load_instrument
    amateras = load_instrument("AMATERAS")
    fwhm = amateras.resolution([0.0, 1.0, 2.0], ei=3.134)   # meV, FWHM
    cov = amateras.coverage(ei=3.134)                       # latdyn.kinematics.Coverage

Counting: ``amateras.solid_angle()`` (detector banks, Omega per scattering angle),
``mari.flux_at_sample(25.0, package="S")`` (n/cm^2/s, from published fluxes),
``detector_efficiency(E_f)``; used by :mod:`latdyn.simulate.counts`.

Every ``resolution`` returns the FWHM in meV (Gaussian-equivalent, 2.3548 sigma);
``resolution_sigma`` returns sigma.  Direct machines take ``ei=``, indirect ones ``ef=``
(optional, checked against the analyser), triple-axis machines ``q=``.  Direct geometry
defaults to the facility calculator's width convention (``convention="pychop"``,
:mod:`latdyn.instruments.calculator`); ``convention="second_moment"`` gives the Gaussian with the
variance of the propagated distribution.

``latdyn instrument list|show|resolution|coverage|tas`` and ``latdyn plan --compare`` are one
call each here (:func:`library_table`, :func:`describe_instrument`, :func:`resolution_table`,
:func:`coverage_table`, :func:`tas_table`, :func:`compare_instruments`); ``latdyn plan
INSTRUMENT`` is :func:`latdyn.simulate.plan_experiment` (docs/instruments.md).
"""

from .base import FWHM_PER_SIGMA, Moderator, fwhm_to_sigma, sigma_to_fwhm
from .choppers import DiskChopper, FermiChopper
from .detector import tube_efficiency
from .diffractometer import CWDiffractometer, TOFDiffractometer, caglioti_uvw
from .direct import DirectGeometry
from .flux import FluxPoint
from .indirect import IndirectGeometry
from .library import LIBRARY, instrument_from_dict, list_instruments, load_instrument
from .overview import (
    InstrumentTable,
    coverage_table,
    describe_instrument,
    library_table,
    resolution_table,
    tas_table,
)
from .planning import PlanComparison, compare_instruments
from .polarised import PolarisedInstrument
from .solid_angle import DetectorBank, DetectorCoverage
from .tas import TasAngles, TasResolution, TripleAxis
from .tas_geometry import TasGeometry

__all__ = [
    "FWHM_PER_SIGMA", "fwhm_to_sigma", "sigma_to_fwhm", "Moderator", "DiskChopper", "FermiChopper",
    "CWDiffractometer", "TOFDiffractometer", "caglioti_uvw", "DirectGeometry", "IndirectGeometry",
    "TripleAxis", "TasAngles", "TasResolution", "TasGeometry", "LIBRARY", "instrument_from_dict",
    "list_instruments", "load_instrument", "PolarisedInstrument", "DetectorBank", "DetectorCoverage",
    "FluxPoint", "tube_efficiency", "InstrumentTable", "library_table", "describe_instrument",
    "resolution_table", "coverage_table", "tas_table", "PlanComparison", "compare_instruments",
]
