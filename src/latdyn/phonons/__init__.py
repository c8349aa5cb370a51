"""Phonons from force constants: dynamical matrices (with the Gonze-Lee dipole sum), modes,
one-phonon coherent and incoherent S(Q,E), Debye-Waller factors, powder averages and DOS."""

from .atoms import PhononCrystal
from .ewald import DipoleSum
from .model import ASR_CHOICES, ForceConstants, commensurate_qpoints
from .phonopy_io import load_phonopy

__all__ = ["PhononCrystal", "DipoleSum", "ForceConstants", "ASR_CHOICES",
           "commensurate_qpoints", "load_phonopy"]
