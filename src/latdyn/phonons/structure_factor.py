r"""One-phonon structure factors of each mode: coherent, incoherent, incoherent approximation.

Coherent one-phonon scattering (Squires 1978, eq. 3.120; Dove, Structure and Dynamics (2003),
p. 225): for Q = q + G and mode nu of energy E_nu = hbar omega_nu,

.. math::

    S_{coh}(\mathbf Q, E) = \sum_\nu F_\nu(\mathbf Q)
        \left[(n_\nu + 1)\,\delta(E - E_\nu) + n_\nu\,\delta(E + E_\nu)\right],

.. math::

    F_\nu(\mathbf Q) = \frac{\hbar^2}{2 E_\nu} \left| \sum_k \frac{b_k}{\sqrt{M_k}}
        e^{-W_k(\mathbf Q)} e^{i\mathbf Q\cdot\mathbf r_k}
        (\mathbf Q\cdot\mathbf e^*_{k\nu}) \right|^2

with n the Bose occupation, W_k(Q) = Q^T W_k Q (:mod:`latdyn.phonons.debye_waller`), b_k the
real part b' of the bound coherent scattering length (fm; the imaginary part b'' describes
absorption, is tabulated for 2200 m/s neutrons only and is left out, as in Euphonic and
phonopy-based codes), M_k the mass and r_k the position of atom k;
E = Ei - Ef > 0 is phonon creation (neutron energy loss).  F is in barn per unit cell
(``per='cell'``) or divided by the number of atoms in the cell (``per='atom'``, Euphonic's
normalisation).  Incoherent one-phonon scattering (Squires eq. 3.142) replaces the
interference by a sum over atoms:

.. math::

    F^{inc}_\nu(\mathbf Q) = \frac{\hbar^2}{2E_\nu} \sum_k \frac{\sigma_k}{4\pi M_k}
        e^{-2W_k(\mathbf Q)} |\mathbf Q\cdot\mathbf e_{k\nu}|^2

with sigma_k = sigma_inc (incoherent) or sigma_coh + sigma_inc (the incoherent
approximation, which treats all scattering as incoherent).  Intensities summed over a
degenerate set do not depend on the basis chosen in it; ``sum_degenerate=True`` gives every
mode of a set the set's mean so that per-mode numbers are basis-independent too.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..units import bose_occupation
from .constants import FM2_TO_BARN, HBAR2_OVER_AMU
from .modes import Modes, degenerate_sets

__all__ = ["coherent_structure_factors", "incoherent_structure_factors", "one_phonon_weights",
           "PER_CHOICES"]

PER_CHOICES = ("cell", "atom")


def _dw_factor(q_cart: np.ndarray, dw: np.ndarray | None, n: int) -> np.ndarray:
    """exp(-Q^T W_k Q), (nq, N)."""
    if dw is None:
        return np.ones((len(q_cart), n))
    dw = np.asarray(dw, dtype=float)
    if dw.shape != (n, 3, 3):
        raise InputError(f"Debye-Waller tensors must be ({n}, 3, 3)", field="debye_waller",
                         value=dw.shape)
    return np.exp(-np.einsum("qa,kab,qb->qk", q_cart, dw, q_cart))


def _finish(f: np.ndarray, modes: Modes, per: str, energy_min: float,
            sum_degenerate: bool, tol: float) -> np.ndarray:
    if per not in PER_CHOICES:
        raise InputError(f"per must be one of {PER_CHOICES}", field="per", value=per)
    e = modes.energies
    use = e > energy_min
    f = np.where(use, f * (HBAR2_OVER_AMU / 2) / np.where(use, e, 1.0), 0.0)
    f *= FM2_TO_BARN
    if per == "atom":
        f /= modes.crystal.n_atoms
    if sum_degenerate:
        sets = degenerate_sets(e, tol)
        nset = sets.max() + 1
        rows = np.repeat(np.arange(len(e)), e.shape[1])
        total = np.zeros((len(e), nset))
        count = np.zeros((len(e), nset))
        np.add.at(total, (rows, sets.ravel()), f.ravel())
        np.add.at(count, (rows, sets.ravel()), 1.0)
        f = np.take_along_axis(total / np.maximum(count, 1), sets, axis=1)
    return f


def coherent_structure_factors(modes: Modes, dw: np.ndarray | None = None, *,
                               per: str = "atom", energy_min: float = 0.01,
                               sum_degenerate: bool = False, tol: float = 1e-3) -> np.ndarray:
    """F_nu(Q) of every mode at the q-points of ``modes`` (taken as Q, reduced), barn.

    (nq, 3N) array; modes with E <= ``energy_min`` (meV) get 0 (the 1/E factor diverges for the
    acoustic modes at Bragg points).  ``dw``: Debye-Waller tensors (N, 3, 3) in A^2 or None.
    """
    if modes.eigenvectors is None:
        raise InputError("structure factors need eigenvectors", field="modes")
    c = modes.crystal
    q = modes.q_cart
    amp = (c.b_coh.real / np.sqrt(c.masses))[None, :] * _dw_factor(q, dw, c.n_atoms) \
        * np.exp(1j * (q @ c.r_cart.T))                                      # (nq, N)
    qe = np.einsum("qmka,qa->qmk", modes.eigenvectors.conj(), q)              # (nq, nm, N)
    f = np.abs(np.einsum("qmk,qk->qm", qe, amp)) ** 2
    return _finish(f, modes, per, energy_min, sum_degenerate, tol)


def incoherent_structure_factors(modes: Modes, dw: np.ndarray | None = None, *,
                                 approximation: bool = False, per: str = "atom",
                                 energy_min: float = 0.01, sum_degenerate: bool = False,
                                 tol: float = 1e-3) -> np.ndarray:
    """Incoherent one-phonon F^inc_nu(Q) (barn), or the incoherent approximation
    (sigma_coh + sigma_inc) when ``approximation``; (nq, 3N)."""
    if modes.eigenvectors is None:
        raise InputError("structure factors need eigenvectors", field="modes")
    c = modes.crystal
    sigma = c.sigma_inc + (c.sigma_coh if approximation else 0.0)
    # sigma / (4 pi) in barn -> fm^2 so that _finish's fm^2 -> barn conversion applies
    weight = sigma / (4 * np.pi) / FM2_TO_BARN / c.masses
    q = modes.q_cart
    dwf = _dw_factor(q, dw, c.n_atoms) ** 2
    qe = np.abs(np.einsum("qmka,qa->qmk", modes.eigenvectors, q)) ** 2
    f = np.einsum("qmk,qk,k->qm", qe, dwf, weight)
    return _finish(f, modes, per, energy_min, sum_degenerate, tol)


def one_phonon_weights(energies: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Thermal factors (n + 1) for creation at +E and n for annihilation at -E, E in meV, T in K.

    T = 0 gives (1, 0).  Energies <= 0 get zero weights.
    """
    e = np.asarray(energies, dtype=float)
    if not np.isfinite(temperature) or temperature < 0:
        raise InputError("temperature must be >= 0 K", field="temperature", value=temperature)
    pos = e > 0
    n = np.where(pos, bose_occupation(np.where(pos, e, 1.0), float(temperature)), 0.0)
    return np.where(pos, n + 1.0, 0.0), n
