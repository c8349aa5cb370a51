"""QENS: diffusion (HWHM(Q)) and geometry (EISF) models, the resolution-convolved fit of
S(Q, E) spectra (one group at a time or globally), the standard analysis (per-Q fits, model
selection, Q dependence, global fit) and the elastic-scan mean-square displacement."""

from .analysis import CurveFit, QensAnalysis, QensPlan, analyse, fit_eisf, fit_hwhm
from .diffusion import (
    A2PS_TO_CM2S,
    DIFFUSION_ALIASES,
    DIFFUSION_MODELS,
    DiffusionModel,
    as_diffusion_model,
    chudley_elliott,
    de_gennes,
    de_gennes_model,
    diffusion_name,
    fick,
    get_diffusion_model,
    hall_ross,
    singwi_sjolander,
)
from .elastic_scan import (
    MSD_CONVENTIONS,
    ElasticScanMSD,
    bin_temperature,
    convert_msd,
    elastic_msd,
    msd_from_scan,
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
from .measurement import SPECTRAL_MODELS, fit_measurement, model_catalogue, plan_from_options
from .prepare import as_q_groups, crop, subtract
from .spectral_fit import data_arrays, fit
from .spectral_model import Component, FitSetup, Rule, SpectrumModel, qens_model
from .spectral_result import GroupResult, SpectralFitResult

__all__ = ["A2PS_TO_CM2S", "DIFFUSION_ALIASES", "DIFFUSION_MODELS", "DiffusionModel", "chudley_elliott",
           "as_diffusion_model", "de_gennes", "de_gennes_model",
           "diffusion_name", "fick", "get_diffusion_model", "hall_ross", "singwi_sjolander",
           "GEOMETRY_NAMES", "GeometryModel", "circle", "cube", "gaussian_eisf", "get_geometry_model",
           "jump_terms", "sphere_diffusion", "sphere_rotation", "tetrahedral", "two_site",
           "with_immobile", "MSD_CONVENTIONS", "convert_msd", "elastic_msd", "bin_temperature",
           "CurveFit", "fit_hwhm", "fit_eisf", "QensPlan", "QensAnalysis", "analyse", "as_q_groups",
           "crop", "subtract", "data_arrays", "fit", "Component", "FitSetup", "Rule", "SpectrumModel",
           "qens_model", "GroupResult", "SpectralFitResult", "ElasticScanMSD", "msd_from_scan",
           "SPECTRAL_MODELS", "fit_measurement", "model_catalogue", "plan_from_options"]
