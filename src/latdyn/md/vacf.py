r"""Velocity autocorrelation and vibrational density of states (total, partial, neutron-weighted).

.. math::

    Z_\alpha(t) = \frac{1}{N_\alpha}\sum_{j\in\alpha}\langle \mathbf v_j(s)\cdot\mathbf v_j(s+t)\rangle_s,
    \qquad
    g_\alpha(E) = \frac{2}{2\pi\hbar}\int_{-t_m}^{t_m} w(t)\,\frac{Z_\alpha(t)}{Z_\alpha(0)}\,
        e^{-iEt/\hbar}\,dt\quad (E \ge 0)

(Dickey and Paskin, Phys. Rev. 188, 1407 (1969)); Z in (angstrom/ps)^2, g_alpha in 1/meV with
integral over E >= 0 equal to 1 (the window ``w`` is that of :mod:`latdyn.md.fourier`, which
also fixes the energy grid).  :func:`vibrational_density_of_states` returns them as a
:class:`latdyn.data.DensityOfStates`, 3 g_alpha per atom of species alpha (area 3) with the
atoms N_alpha of the MD cell as counts, so that the total is g = sum_a c_a g_a and the
neutron-weighted DOS in the incoherent approximation (the generalised DOS of a powder) is its
view ``neutron_weighted()``:

.. math:: g_n(E) = \frac{\sum_\alpha c_\alpha (\sigma_\alpha/m_\alpha)\, g_\alpha(E)}
                        {\sum_\alpha c_\alpha \sigma_\alpha/m_\alpha}

with sigma = sigma_coh + sigma_inc (barn) and m in amu.  When the trajectory has no
velocities they come from forward differences of the unwrapped positions, v = (r(t+dt) -
r(t)) / dt; that filters the spectrum by sinc^2(E dt / 2 hbar), which is divided out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..data import DensityOfStates
from ..errors import InputError
from ..progress import progress_bar
from ..scattering import sigma_over_mass
from ..units import HBAR_MEV_PS
from .correlate import StreamCorrelator
from .fourier import fourier_spectrum
from .trajectory import Trajectory

__all__ = ["VACFResult", "compute_vacf", "vibrational_density_of_states", "vibrational_dos",
           "neutron_dos_weights"]


@dataclass
class VACFResult:
    """time (n_t,) ps; vacf (n_species, n_t) (angstrom/ps)^2; from_positions: velocities were
    finite differences."""

    time: np.ndarray
    species: tuple[str, ...]
    n_per_species: tuple[int, ...]
    vacf: np.ndarray
    from_positions: bool
    source: str = ""

    @property
    def concentrations(self) -> np.ndarray:
        n = np.asarray(self.n_per_species, dtype=float)
        return n / n.sum()


def compute_vacf(traj: Trajectory, window: int, origin_step: int = 1, chunk_size: int = 100,
                 start: int = 0, stop: int | None = None, progress: bool | None = None
                 ) -> VACFResult:
    """Z_alpha(t) for lags 0 .. window frames; memory ~ (window + chunk) x N x 3 doubles."""
    window, origin_step = int(window), int(origin_step)
    if window < 2 or origin_step < 1:
        raise InputError("need window >= 2 and origin step >= 1 frames", file=traj.source,
                         field="window", value=(window, origin_step))
    idx = list(traj.indices().values())
    names = [f"v{a}" for a in range(len(idx))]
    corr = StreamCorrelator(window + 1, origin_step, [(n, n, True) for n in names],
                            block=max(window + 1, chunk_size))
    from_positions = not traj.has_velocities
    last = None
    with progress_bar(traj.n_frames, "VACF", progress) as bar:
        for chunk in traj.chunks(chunk_size, start, stop):
            if from_positions:
                pos = chunk.positions if last is None else np.concatenate([last, chunk.positions])
                last = chunk.positions[-1:]
                if pos.shape[0] < 2:
                    continue
                vel = np.diff(pos, axis=0) / traj.dt
            else:
                vel = chunk.velocities
            corr.push({n: vel[:, ix].reshape(vel.shape[0], -1) for n, ix in zip(names, idx,
                                                                              strict=True)})
            bar.update(chunk.n_frames)
    sums = corr.finish()
    if corr.n_frames < 3:
        raise InputError("the trajectory needs at least three frames", file=traj.source,
                         field="frames", value=corr.n_frames)
    n_lags = min(window + 1, corr.n_frames)
    counts = corr.counts()[:n_lags]
    vacf = np.stack([sums[(n, n)][:n_lags] / (counts * ix.size) for n, ix in zip(names, idx,
                                                                               strict=True)])
    return VACFResult(np.arange(n_lags) * traj.dt, traj.species,
                      tuple(int(ix.size) for ix in idx), vacf, from_positions, traj.source)


def neutron_dos_weights(species, table: str = "sears") -> np.ndarray:
    """Deprecated (one release): :func:`latdyn.scattering.sigma_over_mass`, sigma_total / mass
    (barn/amu) per species for the neutron-weighted DOS."""
    warnings.warn("neutron_dos_weights is deprecated: use latdyn.scattering.sigma_over_mass",
                  DeprecationWarning, stacklevel=2)
    return sigma_over_mass(species, table=table)


def _partial_spectra(result: VACFResult, window: str) -> tuple[np.ndarray, np.ndarray]:
    """E >= 0 (meV) and the one-sided g_alpha (n_s, n_E) in 1/meV (module formula), integral
    1 over E >= 0."""
    z0 = result.vacf[:, :1]
    if np.any(z0 <= 0):
        raise InputError("a species has zero mean-square velocity", file=result.source,
                         field="vacf")
    energy, g = fourier_spectrum(result.vacf / z0, result.time, window)
    pos = energy >= 0
    energy, g = energy[pos], 2.0 * g[:, pos]
    if result.from_positions:
        dt = result.time[1] - result.time[0]
        g = g / np.sinc(energy * dt / (2 * np.pi * HBAR_MEV_PS)) ** 2
    return energy, g


def vibrational_density_of_states(result: VACFResult, window: str = "gaussian"
                                  ) -> DensityOfStates:
    """The vibrational DOS of an MD run (module formula) as a DensityOfStates.

    Points E >= 0 (meV), piecewise linear; one partial per species, 3 g_alpha in 1/meV per
    atom (area 3, values as computed: a short window can leave small negative ripples); counts
    N_alpha per MD cell.  ``window``: 'gaussian', 'hann' or 'none' (:mod:`latdyn.md.fourier`).
    The value at E = 0 is the density g(0) itself (proportional to the self-diffusion
    coefficient), twice the E = 0 entry of the former :func:`vibrational_dos`, which halved it
    as a weight of its rectangle-rule sum.
    """
    energy, g = _partial_spectra(result, window)
    return DensityOfStates.from_arrays(energy, 3.0 * g, labels=result.species,
                                       counts=result.n_per_species, normalise=False,
                                       per="MD cell", name="vibrational DOS",
                                       source=result.source or None)


def vibrational_dos(result: VACFResult, window: str = "gaussian", weights=None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deprecated (one release): use :func:`vibrational_density_of_states` (3 per atom).

    (E >= 0 in meV, partial g_alpha (n_s, n_E), weighted total (n_E,)) in 1/meV, each
    normalised to 1.  weights: per-species weights w_alpha (e.g. :func:`neutron_dos_weights`);
    the total is sum c_a w_a g_a / sum c_a w_a, the plain total with w = 1 (default).
    """
    warnings.warn("vibrational_dos is deprecated: use vibrational_density_of_states, a "
                  "DensityOfStates normalised to 3 per atom (total, partial(species), "
                  "neutron_weighted())", DeprecationWarning, stacklevel=2)
    energy, g = _partial_spectra(result, window)
    g[:, 0] *= 0.5                                   # E = 0 appears once in the two-sided sum
    c = result.concentrations
    w = np.ones(len(c)) if weights is None else np.asarray(weights, dtype=float)
    total = np.sum((c * w)[:, None] * g, axis=0) / np.sum(c * w)
    return energy, g, total
