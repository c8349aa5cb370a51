"""Diffraction and total scattering: structure factors and reflection lists (neutron, X-ray),
powder patterns (constant wavelength, time of flight), ADPs and the Debye/Einstein models,
pair distribution functions, maximum-entropy densities."""

from .reflections import Reflections, enumerate_hkl, reflections
from .structure_factor import RADIATIONS, scattering_amplitudes, structure_factor

__all__ = ["RADIATIONS", "structure_factor", "scattering_amplitudes", "Reflections", "reflections",
           "enumerate_hkl"]
