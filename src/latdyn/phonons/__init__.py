"""Phonons from force constants: dynamical matrices (with the Gonze-Lee dipole sum), modes,
one-phonon coherent and incoherent S(Q,E), Debye-Waller factors, maps, powder averages, DOS;
optional Dask execution and a CuPy array module (:mod:`latdyn.phonons.backend`)."""

from ..convolution.broadening import bin_lines, broaden_axis
from .atoms import PhononCrystal, phonon_crystal, species_from_crystal
from .backend import BACKENDS, EXECUTORS, array_module, resolve_backend
from .debye_waller import debye_waller, monkhorst_pack, symmetrise_tensors
from .diffuse import DiffuseIntensity, diffuse_intensity, diffuse_map
from .ewald import DipoleSum
from .maps import KINDS, PowderResult, fibonacci_sphere, path_map, powder_map, slice_map, sqe_at
from .mesh_dos import PhononDOS, mode_gradients, phonon_dos
from .model import ASR_CHOICES, ForceConstants, commensurate_qpoints
from .modes import Modes, calculate_modes, degenerate_sets, group_velocities
from .one_phonon import (
    coherent_structure_factors,
    incoherent_structure_factors,
    one_phonon_weights,
)
from .paths import seekpath_points
from .phonopy_io import load_phonopy
from .springs import spring_model

__all__ = ["PhononCrystal", "phonon_crystal", "species_from_crystal", "BACKENDS", "EXECUTORS", "array_module",
           "resolve_backend", "broaden_axis", "DipoleSum", "ForceConstants", "ASR_CHOICES",
           "commensurate_qpoints",
           "load_phonopy", "Modes", "calculate_modes", "degenerate_sets", "group_velocities",
           "debye_waller", "monkhorst_pack", "symmetrise_tensors", "coherent_structure_factors",
           "incoherent_structure_factors", "one_phonon_weights", "bin_lines", "sqe_at",
           "path_map", "slice_map", "powder_map", "PowderResult", "fibonacci_sphere", "KINDS",
           "PhononDOS", "phonon_dos", "mode_gradients", "seekpath_points", "diffuse_intensity",
           "diffuse_map", "DiffuseIntensity", "spring_model"]

# one call per `latdyn phonons` command, returning a result with write(folder) and report()
from .compute import (  # noqa: E402
    automatic_energy_range,
    compute_diffuse,
    compute_dispersion,
    compute_dos,
    compute_modes,
    compute_powder,
    compute_slice,
)
from .results import (  # noqa: E402
    DiffuseMap,
    DispersionMap,
    ModeTable,
    PhononDensity,
    PowderMap,
    SliceMap,
)

__all__ += ["compute_modes", "compute_dispersion", "compute_slice", "compute_powder",
            "compute_dos", "automatic_energy_range", "ModeTable", "DispersionMap", "SliceMap",
            "PowderMap", "PhononDensity", "compute_diffuse", "DiffuseMap"]
