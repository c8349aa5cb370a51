"""QENS physics: diffusion models of the HWHM(Q), geometry models of the EISF, elastic-scan MSD."""

from .diffusion import (
    A2PS_TO_CM2S,
    DIFFUSION_MODELS,
    DiffusionModel,
    chudley_elliott,
    fick,
    get_diffusion_model,
    hall_ross,
    singwi_sjolander,
)
from .geometry import (
    GEOMETRY_NAMES,
    GeometryModel,
    circle,
    cube,
    gaussian_eisf,
    get_geometry_model,
    jump_terms,
    sphere_diffusion,
    sphere_rotation,
    tetrahedral,
    two_site,
    with_immobile,
)
from .msd import MSD_CONVENTIONS, bin_temperature, convert_msd, elastic_msd
from .qfit import CurveFit, fit_eisf, fit_hwhm

__all__ = ["A2PS_TO_CM2S", "DIFFUSION_MODELS", "DiffusionModel", "chudley_elliott", "fick",
           "get_diffusion_model", "hall_ross", "singwi_sjolander", "GEOMETRY_NAMES", "GeometryModel",
           "circle", "cube", "gaussian_eisf", "get_geometry_model", "jump_terms", "sphere_diffusion",
           "sphere_rotation", "tetrahedral", "two_site", "with_immobile", "MSD_CONVENTIONS",
           "convert_msd", "elastic_msd", "bin_temperature", "CurveFit", "fit_hwhm", "fit_eisf"]
