r"""Mean-square displacement per species and the self-diffusion coefficient with its error.

.. math:: \mathrm{MSD}_\alpha(t) = \frac{1}{N_\alpha}\sum_{j\in\alpha}
          \left\langle |\mathbf r_j(s+t) - \mathbf r_j(s)|^2 \right\rangle_s
          \;\xrightarrow{t\to\infty}\; 6 D_\alpha t + c

(Einstein relation; Allen and Tildesley, *Computer Simulation of Liquids*, 2nd ed., sec. 8.2),
on unwrapped positions, in angstrom^2, averaged over time origins every ``origin_step``
frames.  D (angstrom^2/ps; 1 A^2/ps = 1e-4 cm^2/s) is the slope of a straight-line fit over a
lag range (by default 20 % to 80 % of the window) divided by 6.  Its standard error comes
from blocking: the origins are split into ``n_blocks`` consecutive blocks, D is fitted in each,
and sigma_D = std(D_block) / sqrt(n_blocks) (Flyvbjerg and Petersen, J. Chem. Phys. 91, 461
(1989)), which accounts for the correlation between overlapping windows that a least-squares
error on the averaged MSD would ignore.

In the Gaussian approximation the MSD also gives the self intermediate scattering function,
F_s(Q, t) = exp(-Q^2 MSD(t) / 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .progress import progress_bar
from .trajectory import Trajectory

__all__ = ["MSDResult", "compute_msd", "fit_diffusion"]


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
    rows: dict[int, np.ndarray] = {}
    n_seen = 0
    with progress_bar(traj.n_frames, "MSD", progress) as bar:
        for chunk in traj.chunks(chunk_size, start, stop):
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
    msd = sums.sum(axis=0) / (valid.sum(axis=0)[None, :] * counts[:, None])
    return MSDResult(np.arange(n_lags) * traj.dt, species, msd, sums, valid,
                     tuple(int(c) for c in counts), traj.source)


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(t, y, 1)[0])


def fit_diffusion(result: MSDResult, fit_range: tuple[float, float] | None = None,
                  n_blocks: int = 5) -> dict[str, tuple[float, float]]:
    """D per species (angstrom^2/ps) with its blocking standard error: species -> (D, sigma_D).

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
    out = {}
    for k, sp in enumerate(result.species):
        d = _slope(t[sel], result.msd[k, sel]) / 6.0
        d_blocks = [_slope(t[sel], result.origin_sums[b][:, k][:, sel].sum(axis=0)
                           / (b.size * counts[k])) / 6.0 for b in blocks]
        out[sp] = (d, float(np.std(d_blocks, ddof=1) / np.sqrt(n_blocks)))
    return out
