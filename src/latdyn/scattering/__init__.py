"""Neutron scattering lengths and cross sections (Sears 1992 by default, Rauch-Waschkowski 2003
via periodictable), compositions with isotopes, sigma/M weights, X-ray form factors and
magnetic form factors of 3d, 4d, 4f and 5f ions."""

from .composition import Composition, parse_formula, sigma_over_mass
from .magnetic_form_factor import (
    P_MAGNETIC_FM,
    MagneticIon,
    hund_ground_state,
    magnetic_form_factor,
    magnetic_ion,
    magnetic_ions,
    orbital_fraction,
    parse_ion,
    radial_integral,
)
from .nuclides import LAMBDA_2200, TABLES, Nuclide, absorption_at, nuclide, parse_nuclide_symbol
from .xray import R_ELECTRON_FM, xray_form_factor

__all__ = ["Composition", "parse_formula", "sigma_over_mass", "Nuclide", "nuclide", "absorption_at", "TABLES",
           "LAMBDA_2200", "parse_nuclide_symbol", "xray_form_factor", "R_ELECTRON_FM",
           "magnetic_form_factor", "magnetic_ion", "magnetic_ions", "radial_integral",
           "orbital_fraction", "hund_ground_state", "parse_ion", "MagneticIon", "P_MAGNETIC_FM"]
