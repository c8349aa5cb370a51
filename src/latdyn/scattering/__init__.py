"""Neutron scattering lengths and cross sections (Sears 1992 by default, Rauch-Waschkowski 2003
via periodictable), compositions with isotopes, sigma/M weights and X-ray form factors."""

from .composition import Composition, parse_formula, sigma_over_mass
from .nuclides import LAMBDA_2200, TABLES, Nuclide, absorption_at, nuclide, parse_nuclide_symbol
from .xray import R_ELECTRON_FM, xray_form_factor

__all__ = ["Composition", "parse_formula", "sigma_over_mass", "Nuclide", "nuclide", "absorption_at", "TABLES",
           "LAMBDA_2200", "parse_nuclide_symbol", "xray_form_factor", "R_ELECTRON_FM"]
