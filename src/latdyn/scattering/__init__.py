"""Neutron scattering lengths and cross sections (Sears 1992 by default, Rauch-Waschkowski 2003
via periodictable), compositions with isotopes, sigma/M weights, X-ray form factors and
magnetic form factors of 3d, 4d, 4f and 5f ions.

The names are imported on first use (:mod:`latdyn.lazy`), so ``latdyn --help`` reads no table."""

from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "composition": ("Composition", "parse_formula", "sigma_over_mass"),
    "nuclides": ("Nuclide", "nuclide", "absorption_at", "LAMBDA_2200", "parse_nuclide_symbol"),
    "table_names": ("TABLES",),
    "xray": ("xray_form_factor", "R_ELECTRON_FM"),
    "magnetic_form_factor": ("magnetic_form_factor", "magnetic_ion", "magnetic_ions",
                             "radial_integral", "orbital_fraction", "hund_ground_state",
                             "parse_ion", "MagneticIon", "P_MAGNETIC_FM"),
})
