"""Polarised neutrons: separate coherent, spin-incoherent and magnetic scattering, and fit each
with its own physics.

* channels (:mod:`~latdyn.polarisation.channels`): names, directions, one DataGroup per set;
* channel cross sections (:mod:`~latdyn.polarisation.cross_sections`, Moon, Riste & Koehler
  1969; Scharpf & Capellmann 1993), sample cross sections split into coherent, isotope- and
  spin-incoherent, paramagnetic and polarised Bragg scattering;
* corrections (:mod:`~latdyn.polarisation.flipping`): background per channel, flipping ratio
  from a quartz run;
* separation (:mod:`~latdyn.polarisation.separation`): uniaxial, xyz, xyz-crystal, ten-point
  (Schweika 2010), exact errors and masks;
* reading channels (:mod:`~latdyn.polarisation.io`), the virtual experiment
  (:mod:`~latdyn.polarisation.virtual`), physics of the parts
  (:mod:`~latdyn.polarisation.physics`, :mod:`~latdyn.polarisation.analysis`) and counting
  times (:mod:`~latdyn.polarisation.planning`).
"""

from .analysis import PolarisedAnalysis, analyse
from .channels import DIRECTIONS, Channel, channel_group, check_channels, parse_channel
from .cross_sections import (
    bragg_channels,
    channel_coefficients,
    channel_cross_sections,
    paramagnetic_cross_section,
    polarised_bragg,
    sample_cross_sections,
    scharpf_angle,
)
from .flipping import correct_flipping, flipping_ratios, subtract_background
from .io import read_channels, write_channels_text
from .methods import METHODS, Method, get_method
from .physics import (
    CoherentFit,
    fit_coherent,
    fit_incoherent,
    fit_paramagnet,
    ion_conductor_parts,
    structure_factor,
)
from .planning import CountingPlan, plan_counting
from .separation import Separation, incoherent_normalisation, separate
from .virtual import expected_channels, poisson_channels, quartz_channels, simulate_channels
from .workflow import analyse_files, model_parts, plan_measurement, separate_files

__all__ = ["DIRECTIONS", "Channel", "channel_group", "check_channels", "parse_channel",
           "bragg_channels", "channel_coefficients", "channel_cross_sections",
           "paramagnetic_cross_section", "polarised_bragg", "sample_cross_sections", "scharpf_angle",
           "correct_flipping", "flipping_ratios", "subtract_background", "read_channels",
           "write_channels_text", "METHODS", "Method", "get_method", "CoherentFit", "fit_coherent",
           "fit_incoherent", "fit_paramagnet", "ion_conductor_parts", "structure_factor",
           "CountingPlan", "plan_counting", "Separation", "separate",
           "incoherent_normalisation", "expected_channels",
           "poisson_channels", "quartz_channels", "simulate_channels", "PolarisedAnalysis", "analyse",
           "analyse_files", "model_parts", "plan_measurement", "separate_files"]
