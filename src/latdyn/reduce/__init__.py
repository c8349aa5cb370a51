"""Corrections and reductions of S(Q,E): cuts and rebinning with bin fractions, k_i/k_f,
Bose factor to chi'', detailed-balance check, incoherent multiphonon expansion, the
generalised DOS of powders and the self-shielding of cylindrical samples."""

from .absorption import container_correction, cylinder_attenuation, paalman_pings, self_shielding_correction
from .balance import DetailedBalanceResult, detailed_balance_check
from .corrections import bose_to_chi, chi_to_sqe, energy_centres, kf_ki_correction
from .cuts import bin_edges, cut, cut_range_check, overlap_matrix, rebin
from .gdos import (
    GDOSResult,
    effective_mass,
    generalized_dos,
    neutron_weighted_dos,
    sigma_over_mass_weights,
)
from .multiphonon import PhononExpansion, incoherent_sqe, neutron_weighted_sqe, recoil_energy

__all__ = [
    "bin_edges", "overlap_matrix", "cut", "rebin", "cut_range_check", "energy_centres",
    "kf_ki_correction", "bose_to_chi", "chi_to_sqe", "DetailedBalanceResult",
    "detailed_balance_check", "PhononExpansion", "incoherent_sqe", "neutron_weighted_sqe",
    "recoil_energy", "GDOSResult", "generalized_dos", "neutron_weighted_dos", "effective_mass",
    "sigma_over_mass_weights", "cylinder_attenuation",
    "self_shielding_correction", "paalman_pings", "container_correction",
]
