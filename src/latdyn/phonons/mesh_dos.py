r"""Phonon densities of states on a Brillouin-zone mesh, as a :class:`latdyn.data.DensityOfStates`.

.. math::

    g_k(E) = \sum_{q\nu} w_q\, |\mathbf e_{k,q\nu}|^2 \delta(E - E_{q\nu}),

one partial per site k of the primitive cell (label 'Na1', ..., one atom per cell each), with
sum_q w_q = 1, so each g_k integrates to 3 and sum_k g_k (the DOS per cell,
``per_formula_unit()``) to 3N.  Per species the partials of its sites are added
(``by_species()``).  The neutron-weighted DOS (what incoherent-approximation spectrometers
measure up to Debye-Waller and thermal factors) is sum_k (sigma_k / M_k) g_k(E), with
sigma_k = sigma_coh + sigma_inc and M_k the masses of the force-constant model
(``neutron_weighted()``; e.g. Taraskin and Elliott, PRB 55, 117 (1997)).

Broadening: None (histogram), a fixed FWHM (meV) or a callable FWHM(E), or ``'adaptive'``:
each mode gets FWHM = a |grad_q E| dq with dq the mesh spacing (J. R. Yates, X. Wang,
D. Vanderbilt and I. Souza, PRB 75, 195121 (2007)), a = ``adaptive_scale`` and a floor of
``adaptive_min`` meV.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipp as sc

from ..convolution.broadening import bin_lines, check_edges
from ..data import DensityOfStates, from_numpy
from ..errors import InputError
from ..structure import site_labels
from .debye_waller import monkhorst_pack
from .model import ForceConstants
from .modes import Modes, calculate_modes

__all__ = ["PhononDOS", "phonon_dos", "mode_gradients"]


@dataclass
class PhononDOS:
    """Deprecated (one release): the former result of :func:`phonon_dos`, DataArrays over
    ``E`` (bin edges, meV) per primitive cell and meV: ``total``; ``sites`` (one per atom of
    the cell, label 'Na1', ...); ``elements``; ``neutron_weighted`` (mbarn/meV, M as relative
    atomic mass).  :meth:`from_density_of_states` gives the same arrays from the
    :class:`latdyn.data.DensityOfStates` that :func:`phonon_dos` now returns.
    """

    total: sc.DataArray
    sites: dict[str, sc.DataArray]
    elements: dict[str, sc.DataArray]
    neutron_weighted: sc.DataArray

    def __post_init__(self) -> None:
        warnings.warn("PhononDOS is deprecated: phonon_dos returns a latdyn.data.DensityOfStates "
                      "(per_formula_unit(), partial(label, per_formula_unit=True), by_species(), "
                      "neutron_weighted(normalise=False))", DeprecationWarning, stacklevel=3)

    @classmethod
    def from_density_of_states(cls, dos: DensityOfStates) -> PhononDOS:
        """The former per-cell arrays of a phonon DOS (one atom per label)."""
        mk = {"E": dos.energy}
        sites = {lab: from_numpy(dos.counts[k] * dos.partials[k], mk, unit="1/meV",
                                 name=f"g {lab}(E)") for k, lab in enumerate(dos.labels)}
        elements = {}
        for el in dict.fromkeys(dos.species):
            v = sum(dos.counts[k] * dos.partials[k] for k in range(len(dos.labels))
                    if dos.species[k] == el)
            elements[el] = from_numpy(v, mk, unit="1/meV", name=f"g {el}(E)")
        w = dos.neutron_weights()
        nw = sum(w[k] * dos.counts[k] * dos.partials[k] for k in range(len(dos.labels)))
        total = dos.per_formula_unit()
        return cls(total=from_numpy(total.values, mk, unit="1/meV", name="g(E)"), sites=sites,
                   elements=elements,
                   neutron_weighted=from_numpy(nw * 1e3, mk, unit="mbarn/meV", name="g_n(E)"))


def mode_gradients(model: ForceConstants, modes: Modes, step: float = 1e-4) -> np.ndarray:
    """|grad_q E| per mode (meV angstrom), (nq, 3N): Hellmann-Feynman expectation values of
    dD/dq / (2E) (no rotation inside degenerate sets: enough for broadening widths)."""
    grad = model.dynamical_matrix_gradient(modes.q_frac, step=step)
    n3 = modes.n_modes
    e = modes.eigenvectors.reshape(len(modes.q_frac), n3, n3)
    proj = np.einsum("qmi,qaij,qmj->qma", e.conj(), grad, e).real
    energies = modes.energies
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(energies[..., None] > 0, proj / (2 * energies[..., None]), 0.0)
    return np.linalg.norm(g, axis=-1)


def phonon_dos(model: ForceConstants, mesh, energy_bins, *, broadening=None,
               adaptive_scale: float = 1.0, adaptive_min: float = 0.01,
               shift: bool = True, chunk: int | None = None, executor: str | None = None,
               backend: str = "numpy") -> DensityOfStates:
    """The DOS on an MP mesh with one partial per site of the cell (see module doc).

    Returns a :class:`latdyn.data.DensityOfStates` on the bin edges ``energy_bins`` (meV):
    labels 'Na1', 'Cl1', ... (one atom each per primitive cell), species and masses of the
    model; ``total`` is per atom (area 3), ``per_formula_unit()`` per cell (area 3N).

    ``mesh``: n or (n1, n2, n3); ``shift``: offset the mesh by half a step (avoids Gamma).
    Modes outside the energy bins are lost from the integrals: choose bins that cover them.
    ``chunk``, ``executor``, ``backend``: how the mesh modes are computed
    (:func:`latdyn.phonons.calculate_modes`).
    """
    edges = check_edges(energy_bins)
    q = monkhorst_pack(mesh, shift=shift)
    modes = calculate_modes(model, q, chunk=chunk, executor=executor, backend=backend)
    c = model.crystal
    e = modes.energies
    if isinstance(broadening, str):
        if broadening != "adaptive":
            raise InputError("broadening must be None, a FWHM in meV, a callable or 'adaptive'",
                             field="broadening", value=broadening)
        n = np.asarray(mesh, dtype=int).reshape(-1)
        n = np.repeat(n, 3) if n.size == 1 else n
        dq = float(np.mean(np.linalg.norm(c.reciprocal, axis=1) / n))
        widths = np.maximum(adaptive_scale * mode_gradients(model, modes) * dq, adaptive_min)
        spread = _PerLine(widths)
    else:
        spread = broadening
    weights = np.broadcast_to(modes.weights[:, None], e.shape)
    ev2 = np.sum(np.abs(modes.eigenvectors) ** 2, axis=-1)                  # (nq, 3N, N)
    site_vals = [bin_lines(e, weights * ev2[..., k], edges, spread).sum(axis=0)
                 for k in range(c.n_atoms)]
    return DensityOfStates.from_arrays(edges, np.array(site_vals), labels=site_labels(c.symbols),
                                       species=c.symbols, masses=c.masses, normalise=False,
                                       per="primitive cell")


class _PerLine:
    """A broadening 'callable' that returns one precomputed FWHM per line."""

    def __init__(self, widths: np.ndarray) -> None:
        self.widths = widths

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        return self.widths
