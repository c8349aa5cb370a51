r"""Mean-square displacement per species and the self-diffusion coefficient with its error.

.. math:: \mathrm{MSD}_\alpha(t) = \frac{1}{N_\alpha}\sum_{j\in\alpha}
          \left\langle |\mathbf r_j(s+t) - \mathbf r_j(s)|^2 \right\rangle_s
          \;\xrightarrow{t\to\infty}\; 6 D_\alpha t + c

(Einstein relation; Allen and Tildesley, *Computer Simulation of Liquids*, 2nd ed., sec. 8.2),
on unwrapped positions, in angstrom^2, averaged over time origins every ``origin_step``
frames.  D (angstrom^2/ps; 1 A^2/ps = 1e-4 cm^2/s) is the slope of a straight-line fit over a
lag range (by default 20 % to 80 % of the window) divided by 6.  Its standard error: with at
least ``MIN_ATOMS_FOR_GROUPS`` atoms of a species, the atoms are split into up to 16 interleaved
groups, D is fitted to each group's MSD (averaged over all time origins, so the correlation
between overlapping windows stays inside each group) and sigma_D = std(D_group) / sqrt(n_groups);
the atoms of a species are statistically independent walkers to a good approximation, the time
origins of one atom are not.  With fewer atoms the origins are split into ``n_blocks``
consecutive blocks instead (Flyvbjerg and Petersen, J. Chem. Phys. 91, 461 (1989)); blocks of
overlapping windows are correlated, so that error is a lower bound.

In the Gaussian approximation the MSD also gives the self intermediate scattering function,
F_s(Q, t) = exp(-Q^2 MSD(t) / 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .progress import progress_bar
from .trajectory import Trajectory

__all__ = ["MSDResult", "compute_msd", "fit_diffusion", "MIN_ATOMS_FOR_GROUPS"]

#: Species with at least this many atoms get the atom-group error of D (module docstring).
MIN_ATOMS_FOR_GROUPS = 8


@dataclass
class MSDResult:
    """time (n_t,) ps; msd (n_species, n_t) angstrom^2; per-origin sums for blocking."""

    time: np.ndarray
    species: tuple[str, ...]
    msd: np.ndarray
    origin_sums: np.ndarray        # (n_origins, n_species, n_t) sums of |dr|^2 per origin
    origin_valid: np.ndarray       # (n_origins, n_t) whether the origin reaches this lag
    n_per_species: tuple[int, ...]
    source: str = ""
    atom_msd: np.ndarray | None = None  # (n_atoms, n_t) per atom, atoms grouped by species


def compute_msd(traj: Trajectory, window: int, origin_step: int = 1, chunk_size: int = 100,
                start: int = 0, stop: int | None = None, progress: bool | None = None
                ) -> MSDResult:
    """MSD per species for lags 0 .. window frames (module docstring).  The trajectory must be
    unwrapped (the default of :func:`~latdyn.md.trajectory.open_trajectory`) or hold unwrapped
    coordinates."""
    window, origin_step = int(window), int(origin_step)
    if window < 1 or origin_step < 1:
        raise InputError("window and origin step must be at least 1 frame", file=traj.source,
                         field="window", value=(window, origin_step))
    n_lags = window + 1
    idx = list(traj.indices().values())
    order = np.concatenate(idx)
    bounds = np.cumsum([0] + [ix.size for ix in idx])
    species = traj.species
    open_origins: list[tuple[int, np.ndarray]] = []
    atom_sums = np.zeros((order.size, n_lags))
    rows: dict[int, np.ndarray] = {}
    n_seen = 0
    with progress_bar(traj.n_frames, "MSD", progress) as bar:
        for chunk in traj.chunks(chunk_size, start, stop, velocities=False):
            c0 = chunk.start - start
            pos = chunk.positions[:, order]
            first = -(-c0 // origin_step) * origin_step
            for s in range(first, c0 + chunk.n_frames, origin_step):
                open_origins.append((s, pos[s - c0].copy()))
                rows[s] = np.zeros((len(species), n_lags))
            open_origins = [(s, p) for s, p in open_origins if s + n_lags > c0]
            for s, p in open_origins:
                a = max(s, c0)
                b = min(s + n_lags, c0 + chunk.n_frames)
                d2 = np.sum((pos[a - c0:b - c0] - p) ** 2, axis=2)          # (lags, atoms)
                rows[s][:, a - s:b - s] += np.add.reduceat(d2, bounds[:-1], axis=1).T
                atom_sums[:, a - s:b - s] += d2.T
            n_seen = c0 + chunk.n_frames
            bar.update(chunk.n_frames)
    if n_seen < 2:
        raise InputError("the trajectory needs at least two frames", file=traj.source,
                         field="frames", value=n_seen)
    n_lags = min(n_lags, n_seen)
    origins = np.array(sorted(rows))
    sums = np.stack([rows[s][:, :n_lags] for s in origins])
    valid = origins[:, None] + np.arange(n_lags)[None, :] < n_seen
    counts = np.array([ix.size for ix in idx])
    n_origins = valid.sum(axis=0)
    msd = sums.sum(axis=0) / (n_origins[None, :] * counts[:, None])
    atom_msd = atom_sums[:, :n_lags] / n_origins[None, :]
    return MSDResult(np.arange(n_lags) * traj.dt, species, msd, sums, valid,
                     tuple(int(c) for c in counts), traj.source, atom_msd)


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(t, y, 1)[0])


def fit_diffusion(result: MSDResult, fit_range: tuple[float, float] | None = None,
                  n_blocks: int = 5) -> dict[str, tuple[float, float]]:
    """D per species (angstrom^2/ps) with its standard error: species -> (D, sigma_D).

    The error comes from groups of atoms, or from blocks of time origins for species with few
    atoms (module docstring).

    fit_range: (t_min, t_max) in ps; default 20 % to 80 % of the largest lag.
    """
    t = result.time
    lo, hi = fit_range if fit_range is not None else (0.2 * t[-1], 0.8 * t[-1])
    sel = (t >= lo) & (t <= hi)
    if sel.sum() < 3:
        raise InputError("the fit range holds fewer than 3 lags", file=result.source,
                         field="fit_range", value=(lo, hi))
    # blocks of the origins whose windows cover the whole fit range
    usable = np.flatnonzero(result.origin_valid[:, sel].all(axis=1))
    if n_blocks < 2 or usable.size < n_blocks:
        raise InputError(f"blocking needs at least 2 blocks and one origin per block "
                         f"({usable.size} origins cover the fit range)", file=result.source,
                         field="n_blocks", value=n_blocks)
    blocks = np.array_split(usable, n_blocks)
    counts = np.asarray(result.n_per_species, dtype=float)
    first = np.concatenate([[0], np.cumsum(result.n_per_species)])
    out = {}
    for k, sp in enumerate(result.species):
        d = _slope(t[sel], result.msd[k, sel]) / 6.0
        n_k = result.n_per_species[k]
        if result.atom_msd is not None and n_k >= MIN_ATOMS_FOR_GROUPS:
            atoms = np.arange(first[k], first[k + 1])
            groups = [atoms[g::min(n_k, 16)] for g in range(min(n_k, 16))]
            d_parts = [_slope(t[sel], result.atom_msd[g][:, sel].mean(axis=0)) / 6.0 for g in groups]
        else:
            d_parts = [_slope(t[sel], result.origin_sums[b][:, k][:, sel].sum(axis=0)
                              / (b.size * counts[k])) / 6.0 for b in blocks]
        out[sp] = (d, float(np.std(d_parts, ddof=1) / np.sqrt(len(d_parts))))
    return out
