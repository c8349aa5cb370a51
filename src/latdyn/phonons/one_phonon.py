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
from .backend import DASK_CHUNK, check_executor, run_tasks
from .constants import FM2_TO_BARN, HBAR2_OVER_AMU
from .modes import DEFAULT_CHUNK, Modes, degenerate_sets

__all__ = ["coherent_structure_factors", "incoherent_structure_factors", "one_phonon_weights",
           "PER_CHOICES"]

PER_CHOICES = ("cell", "atom")


def _check_per(per: str) -> None:
    if per not in PER_CHOICES:
        raise InputError(f"per must be one of {PER_CHOICES}", field="per", value=per)


def _check_dw(dw, n: int) -> np.ndarray | None:
    """Debye-Waller tensors as an (N, 3, 3) float array (or None), InputError otherwise."""
    if dw is None:
        return None
    dw = np.asarray(dw, dtype=float)
    if dw.shape != (n, 3, 3):
        raise InputError(f"Debye-Waller tensors must be ({n}, 3, 3)", field="debye_waller",
                         value=dw.shape)
    return dw


def _dw_factor(q_cart: np.ndarray, dw: np.ndarray | None, n: int) -> np.ndarray:
    """exp(-Q^T W_k Q), (nq, N)."""
    if dw is None:
        return np.ones((len(q_cart), n))
    dw = _check_dw(dw, n)
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


def _rows(modes: Modes, start: int, stop: int) -> Modes:
    """The modes at q-points start..stop (a view; weights are not renormalised)."""
    sl = slice(start, stop)
    return Modes(modes.crystal, modes.q_frac[sl], modes.energies[sl],
                 None if modes.eigenvectors is None else modes.eigenvectors[sl], modes.weights[sl])


def _coherent_rows(modes: Modes, start: int, stop: int, dw, per: str, energy_min: float,
                   sum_degenerate: bool, tol: float) -> np.ndarray:
    m = _rows(modes, start, stop)
    c = m.crystal
    q = m.q_cart
    amp = (c.b_coh.real / np.sqrt(c.masses))[None, :] * _dw_factor(q, dw, c.n_atoms) \
        * np.exp(1j * (q @ c.r_cart.T))                                      # (nq, N)
    qe = np.einsum("qmka,qa->qmk", m.eigenvectors.conj(), q)                  # (nq, nm, N)
    f = np.abs(np.einsum("qmk,qk->qm", qe, amp)) ** 2
    return _finish(f, m, per, energy_min, sum_degenerate, tol)


def _incoherent_rows(modes: Modes, start: int, stop: int, dw, approximation: bool, per: str,
                     energy_min: float, sum_degenerate: bool, tol: float) -> np.ndarray:
    m = _rows(modes, start, stop)
    c = m.crystal
    sigma = c.sigma_inc + (c.sigma_coh if approximation else 0.0)
    # sigma / (4 pi) in barn -> fm^2 so that _finish's fm^2 -> barn conversion applies
    weight = sigma / (4 * np.pi) / FM2_TO_BARN / c.masses
    q = m.q_cart
    dwf = _dw_factor(q, dw, c.n_atoms) ** 2
    qe = np.abs(np.einsum("qmka,qa->qmk", m.eigenvectors, q)) ** 2
    f = np.einsum("qmk,qk,k->qm", qe, dwf, weight)
    return _finish(f, m, per, energy_min, sum_degenerate, tol)


def _over_chunks(fn, modes: Modes, extra: tuple, chunk: int | None, executor: str | None,
                 progress: bool | None) -> np.ndarray:
    """Apply a per-row function over chunks of q (threads or Dask) into one (nq, 3N) array."""
    if modes.eigenvectors is None:
        raise InputError("structure factors need eigenvectors", field="modes")
    kind = check_executor(executor)
    if chunk is None:
        chunk = DASK_CHUNK if kind == "dask" else DEFAULT_CHUNK
    if int(chunk) < 1:
        raise InputError("chunk must be a positive number of q-points", field="chunk", value=chunk)
    nq = len(modes.q_frac)
    bounds = [(s, min(s + int(chunk), nq)) for s in range(0, nq, int(chunk))]
    out = np.empty(modes.energies.shape)

    def collect(i, part):
        out[slice(*bounds[i])] = part

    run_tasks(fn, [(a, b, *extra) for a, b in bounds], kind, shared=(modes,), collect=collect,
              progress=False if progress is None else progress, desc="structure factors")
    return out


def coherent_structure_factors(modes: Modes, dw: np.ndarray | None = None, *,
                               per: str = "atom", energy_min: float = 0.01,
                               sum_degenerate: bool = False, tol: float = 1e-3,
                               chunk: int | None = None, executor: str | None = None,
                               progress: bool | None = None) -> np.ndarray:
    """F_nu(Q) of every mode at the q-points of ``modes`` (taken as Q, reduced), barn.

    (nq, 3N) array; modes with E <= ``energy_min`` (meV) get 0 (the 1/E factor diverges for the
    acoustic modes at Bragg points).  ``dw``: Debye-Waller tensors (N, 3, 3) in A^2 or None.
    Work runs over chunks of ``chunk`` q-points (memory bound), in this process or as Dask
    tasks (``executor='dask'``, see :mod:`latdyn.phonons.backend`); every row is computed by
    the same code either way.
    """
    _check_per(per)
    dw = _check_dw(dw, modes.crystal.n_atoms)
    return _over_chunks(_coherent_rows, modes, (dw, per, energy_min, sum_degenerate, tol),
                        chunk, executor, progress)


def incoherent_structure_factors(modes: Modes, dw: np.ndarray | None = None, *,
                                 approximation: bool = False, per: str = "atom",
                                 energy_min: float = 0.01, sum_degenerate: bool = False,
                                 tol: float = 1e-3, chunk: int | None = None,
                                 executor: str | None = None,
                                 progress: bool | None = None) -> np.ndarray:
    """Incoherent one-phonon F^inc_nu(Q) (barn), or the incoherent approximation
    (sigma_coh + sigma_inc) when ``approximation``; (nq, 3N).  ``chunk``, ``executor``: as
    for :func:`coherent_structure_factors`."""
    _check_per(per)
    dw = _check_dw(dw, modes.crystal.n_atoms)
    return _over_chunks(_incoherent_rows, modes,
                        (dw, approximation, per, energy_min, sum_degenerate, tol),
                        chunk, executor, progress)


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
