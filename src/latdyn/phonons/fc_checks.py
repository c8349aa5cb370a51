r"""Checks of supercell force constants on load: permutation symmetry, acoustic sum rule, and
what breaking them does to the phonon energies; phonopy's symmetrisation.

Two symmetries every harmonic force-constant matrix of a supercell must have:

- permutation: Phi_ab(l, m) = Phi_ba(m, l) (the second derivative of the energy is symmetric);
- translation (acoustic sum rule): sum_m Phi_ab(l, m) = 0 for every l, a, b.

Finite-displacement files break both by round-off and fitting noise.  latdyn (like phonopy)
uses the symmetric part of the dynamical matrix, which is the dynamical matrix of the
permutation-symmetrised force constants; a code that reads one triangle of Phi (Euphonic) gets
another answer, and the acoustic sum rule is restored by the model's ``asr`` correction.  The
checks measure both breakings and their effect on the energies, computed exactly at the
q-points commensurate with the supercell (where D(q) = sum_m Phi(l_i, m) exp(2 pi i q.R_m) /
sqrt(M M') needs no choice of periodic images):

- ``triangle_energy_change``: max |E(one triangle) - E(symmetric part)| over modes, those
  q-points and both triangles (l < m or l > m copied to the other), meV, leaving out the three
  acoustic modes at Gamma (they follow the sum rule, which the model's ``asr`` restores);
- ``acoustic_gamma``: the largest |E| of the three acoustic modes at Gamma of the symmetric part
  without a sum-rule correction, meV.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from .constants import FC_TO_MEV2

__all__ = ["ForceConstantChecks", "ForceConstantWarning", "check_force_constants",
           "symmetrize_full_fc", "WARN_MEV"]

#: Energy effect (meV) above which loading warns.
WARN_MEV = 1e-3


class ForceConstantWarning(UserWarning):
    """Force constants that break permutation symmetry or the acoustic sum rule noticeably."""


@dataclass(frozen=True)
class ForceConstantChecks:
    """How far the loaded force constants are from the symmetries they must have.

    Attributes (eV/angstrom^2 unless stated):

    permutation_asymmetry: max |Phi_ab(l, m) - Phi_ba(m, l)| over the supercell.
    asr_violation: max |sum_m Phi_ab(l, m)|.
    max_force_constant: max |Phi|, the scale of the two above.
    triangle_energy_change: meV, see the module docstring.
    acoustic_gamma: meV, see the module docstring.
    n_qpoints: commensurate q-points used for the two energies.
    symmetrized: True when phonopy's symmetrisation was applied before the model was built
        (the first four numbers are then those after it).
    """

    permutation_asymmetry: float
    asr_violation: float
    max_force_constant: float
    triangle_energy_change: float
    acoustic_gamma: float
    n_qpoints: int
    symmetrized: bool

    def as_dict(self) -> dict:
        """Plain dict (JSON output, report tables), units in the key names' docstring."""
        return asdict(self)

    def rows(self) -> list[dict]:
        """Table rows (quantity, value) for reports."""
        return [
            {"quantity": "permutation asymmetry max |Phi_ij - Phi_ji^T| (eV/A^2)",
             "value": self.permutation_asymmetry},
            {"quantity": "acoustic-sum-rule violation max |sum_j Phi_ij| (eV/A^2)",
             "value": self.asr_violation},
            {"quantity": "largest force constant (eV/A^2)", "value": self.max_force_constant},
            {"quantity": "energy change, one triangle vs symmetric part (meV)",
             "value": self.triangle_energy_change},
            {"quantity": "acoustic energies at Gamma without ASR correction (meV)",
             "value": self.acoustic_gamma},
            {"quantity": "force constants symmetrised (phonopy)", "value": self.symmetrized}]

    def warning_text(self, source, asr) -> str | None:
        """The warning to give for a model with this ``asr`` setting, or None."""
        parts = []
        if self.triangle_energy_change > WARN_MEV:
            rel = self.permutation_asymmetry / self.max_force_constant
            parts.append(
                f"break permutation symmetry: max |Phi_ij - Phi_ji^T| = "
                f"{self.permutation_asymmetry:.3g} eV/A^2 ({rel:.2g} "
                f"of the largest constant, {self.max_force_constant:.3g} eV/A^2); latdyn and phonopy "
                f"use the symmetric part, a code that reads one triangle (Euphonic) gets energies "
                f"up to {self.triangle_energy_change:.3g} meV different")
        if asr is None and self.acoustic_gamma > WARN_MEV:
            parts.append(f"break the acoustic sum rule: max |sum_j Phi_ij| = {self.asr_violation:.3g} "
                         f"eV/A^2 puts the acoustic modes at Gamma at up to "
                         f"{self.acoustic_gamma:.3g} meV (asr=None)")
        if not parts:
            return None
        return (f"force constants of {source} " + "; they ".join(parts)
                + ". Load with symmetrize_fc=True (CLI --symmetrize-fc) to make them exact.")


def symmetrize_full_fc(full_fc: np.ndarray, max_level: int = 20) -> np.ndarray:
    """Permutation- and translation-symmetric copy of full supercell force constants
    (Nsc, Nsc, 3, 3), by phonopy's successive symmetrisation, repeated until both hold to
    round-off (1e-12 of the largest constant) or ``max_level`` passes."""
    from phonopy.harmonic.force_constants import symmetrize_force_constants

    fc = np.array(full_fc, dtype=float, order="C")
    scale = max(float(np.abs(fc).max()), 1e-300)
    for _ in range(max_level):
        symmetrize_force_constants(fc, level=1)
        if (np.abs(fc - fc.transpose(1, 0, 3, 2)).max() <= 1e-12 * scale
                and np.abs(fc.sum(axis=1)).max() <= 1e-12 * scale):
            break
    return fc


def _energies(fc_rows, masses, s2p, cells, qpts) -> np.ndarray:
    """Energies (meV) at commensurate q from rows (N, Nsc, 3, 3) of the primitive atoms."""
    n = fc_rows.shape[0]
    phase = np.exp(2j * np.pi * (qpts @ cells.T))                         # (nq, Nsc)
    onehot = np.zeros((len(s2p), n))
    onehot[np.arange(len(s2p)), s2p] = 1.0
    d = np.einsum("ilab,ql,lj->qiajb", fc_rows, phase, onehot).reshape(len(qpts), 3 * n, 3 * n)
    w = np.repeat(1.0 / np.sqrt(masses), 3)
    d = FC_TO_MEV2 * d * np.outer(w, w)
    d = 0.5 * (d + np.conj(d.transpose(0, 2, 1)))
    ev = np.linalg.eigvalsh(d)
    return np.sign(ev) * np.sqrt(np.abs(ev))


def check_force_constants(full_fc: np.ndarray, p2s, s2p, cells, masses, qpoints,
                          symmetrized: bool = False) -> ForceConstantChecks:
    """Measure a full supercell force-constant array (Nsc, Nsc, 3, 3) eV/A^2.

    p2s: (N,) supercell index of each primitive atom; s2p: (Nsc,) primitive atom of each
    supercell atom; cells: (Nsc, 3) lattice vector (primitive fractional) from its primitive
    atom to each supercell atom; masses: (N,) amu; qpoints: (nq, 3) reduced q commensurate with
    the supercell (Gamma included).
    """
    fc = np.asarray(full_fc, dtype=float)
    p2s = np.asarray(p2s, dtype=int)
    s2p = np.asarray(s2p, dtype=int)
    cells = np.asarray(cells, dtype=float)
    qpts = np.asarray(qpoints, dtype=float)
    transposed = fc.transpose(1, 0, 3, 2)
    asym = float(np.abs(fc - transposed).max())
    asr = float(np.abs(fc.sum(axis=1)).max())
    sym = 0.5 * (fc + transposed)
    e_sym = _energies(sym[p2s], masses, s2p, cells, qpts)
    gamma = np.flatnonzero(np.all(np.abs(qpts - np.rint(qpts)) < 1e-9, axis=1))
    # the acoustic modes at Gamma go with the sum rule (corrected by the model's asr), not here
    skip = np.zeros(e_sym.shape, dtype=bool)
    for g in gamma:
        skip[g, np.argsort(np.abs(e_sym[g]))[:3]] = True
    change = 0.0
    if asym > 0:
        nsc = len(fc)
        for lower in (True, False):
            keep = np.tril(np.ones((nsc, nsc), dtype=bool), -1)
            keep = keep if lower else keep.T
            tri = np.where(keep[:, :, None, None], fc, transposed)
            diag = np.arange(nsc)
            tri[diag, diag] = sym[diag, diag]
            e_tri = _energies(tri[p2s], masses, s2p, cells, qpts)
            change = max(change, float(np.abs(e_tri - e_sym)[~skip].max()))
    acoustic = np.sort(np.abs(e_sym[gamma[0]]))[:3] if len(gamma) else np.zeros(3)
    return ForceConstantChecks(permutation_asymmetry=asym, asr_violation=asr,
                               max_force_constant=float(np.abs(fc).max()),
                               triangle_energy_change=change,
                               acoustic_gamma=float(acoustic.max()), n_qpoints=len(qpts),
                               symmetrized=symmetrized)


def warn_if_needed(checks: ForceConstantChecks, source, asr) -> None:
    """Issue a :class:`ForceConstantWarning` when the checks call for one."""
    text = checks.warning_text(source, asr)
    if text is not None:
        warnings.warn(text, ForceConstantWarning, stacklevel=3)
