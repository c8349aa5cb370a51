"""Diffraction and total scattering: structure factors and reflection lists (neutron, X-ray),
powder patterns (constant wavelength, time of flight), ADPs and the Debye/Einstein models,
pair distribution functions, maximum-entropy densities; magnetic Bragg scattering of
magnetic structures (nuclear and magnetic reflections and patterns); multi-phase fits of
pattern series with Hill-Howard weight fractions and the transitions they trace.

Each ``latdyn diffraction`` command is one call here, returning a result with ``rows()``,
``to_json()``, ``write(folder)`` and ``report()``: :func:`compute_reflections`,
:func:`compute_pattern`, :func:`compute_pdf`, :func:`fit_u_iso_file`, :func:`mem_density`,
:func:`phase_analysis` (docs/diffraction.md)."""

from .adp import ADPFit, debye_u_iso, einstein_u_iso, fit_u_iso, msd_from_u_iso, u_iso_from_msd
from .adp_results import fit_u_iso_file
from .magnetic import (
    MagneticReflections,
    domain_averaged_intensity,
    magnetic_intensity,
    magnetic_interaction_vector,
    magnetic_reflections,
    magnetic_structure_factor,
)
from .magnetic_powder import MagneticPattern, magnetic_powder_pattern
from .mem import MEMResult, density_from_structure, fourier_synthesis, maximum_entropy
from .mem_results import MEMAnalysis, mem_density, read_structure_factors
from .pattern_results import PowderPatterns, compute_pattern
from .patterns import caglioti_fwhm, cw_pattern, tof_pattern
from .pdf import (
    G_from_g,
    R_from_G,
    coordination_number,
    fq_to_gr,
    g_from_G,
    gr_to_fq,
    gr_to_sq,
    model_pdf,
    pdf_from_sq,
    sq_from_pdf,
    sq_to_gr,
)
from .pdf_results import PDFResult, compute_pdf
from .phase_manifest import phase_analysis, read_phase_manifest
from .phase_series import PhaseSeries, TransitionFit, fit_series, fit_transition
from .phases import PatternFit, Phase, fit_pattern, pattern_model, weight_fractions
from .powder_io import PowderData, read_powder, write_gsas, write_xye
from .profiles import back_to_back_gaussian, tof_exponents
from .reflection_results import (
    MagneticReflectionTable,
    ReflectionTable,
    compute_reflections,
    load_magnetic_structure,
)
from .reflections import Reflections, enumerate_hkl, reflections
from .structure_factor import RADIATIONS, f000, scattering_amplitudes, structure_factor
from .texture import march_dollase, march_dollase_factor

__all__ = ["RADIATIONS", "structure_factor", "scattering_amplitudes", "Reflections", "reflections",
           "enumerate_hkl", "caglioti_fwhm", "cw_pattern", "tof_pattern", "debye_u_iso", "einstein_u_iso",
           "fit_u_iso", "ADPFit", "msd_from_u_iso", "u_iso_from_msd", "fq_to_gr", "gr_to_fq", "sq_to_gr",
           "gr_to_sq", "g_from_G", "G_from_g", "R_from_G", "coordination_number", "model_pdf",
           "pdf_from_sq", "sq_from_pdf", "maximum_entropy", "MEMResult", "density_from_structure",
           "fourier_synthesis", "back_to_back_gaussian", "tof_exponents", "march_dollase",
           "march_dollase_factor", "magnetic_structure_factor", "magnetic_interaction_vector",
           "magnetic_intensity", "domain_averaged_intensity", "magnetic_reflections",
           "MagneticReflections", "MagneticPattern", "magnetic_powder_pattern", "Phase",
           "PatternFit", "fit_pattern", "pattern_model", "weight_fractions", "PhaseSeries",
           "TransitionFit", "fit_series", "fit_transition", "phase_analysis",
           "read_phase_manifest", "PowderData", "read_powder", "write_gsas", "write_xye", "f000",
           "compute_reflections", "ReflectionTable", "MagneticReflectionTable", "load_magnetic_structure",
           "compute_pattern", "PowderPatterns", "compute_pdf", "PDFResult", "fit_u_iso_file",
           "mem_density", "MEMAnalysis", "read_structure_factors"]
