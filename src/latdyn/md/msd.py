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

The fit is a :class:`DiffusionFit` (the :class:`latdyn.fitresult.FitResult` protocol): per
species the parameters D_<a> (angstrom^2/ps) and the intercept c_<a> (angstrom^2), their
covariance from the same groups or blocks (species are fitted separately: the covariance
between species is not estimated and is zero), chi^2 the unweighted sum of squared residuals
of the straight lines (angstrom^4; the MSD carries no per-lag errors and its lags are
correlated, so chi^2 and the information criteria only compare fits of the same MSD).

In the Gaussian approximation the MSD also gives the self intermediate scattering function,
F_s(Q, t) = exp(-Q^2 MSD(t) / 6).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..fitresult import FitResult, Parameter, Quantities, Quantity, diagnose
from ..progress import progress_bar
from .trajectory import Trajectory

__all__ = ["MSDResult", "DiffusionFit", "compute_msd", "fit_diffusion", "MIN_ATOMS_FOR_GROUPS"]

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


def _line(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the least-squares straight line through (t, y)."""
    slope, intercept = np.polyfit(t, y, 1)
    return float(slope), float(intercept)


@dataclass(frozen=True)
class DiffusionFit(FitResult):
    """MSD = 6 D t + c fitted per species over ``fit_range`` (ps) (module docstring).

    Per species (order ``species``): ``diffusion`` D and ``diffusion_error`` (angstrom^2/ps),
    ``intercept`` c and ``intercept_error`` (angstrom^2), ``covariance_dc`` cov(D, c)
    (angstrom^4/ps), ``error_from`` (how the errors were estimated), ``n_atoms``.  Physical
    results: :attr:`derived` (``D_<species>`` as :class:`latdyn.fitresult.Quantity`), e.g.
    ``fit.coefficient('Li').to('cm**2/s')``.

    Deprecated (one release): ``fit['Li']`` and ``fit.items()`` give the former
    ``(D, sigma_D)`` tuples in angstrom^2/ps.
    """

    species: tuple[str, ...]
    diffusion: tuple[float, ...]
    diffusion_error: tuple[float, ...]
    intercept: tuple[float, ...]
    intercept_error: tuple[float, ...]
    covariance_dc: tuple[float, ...]
    error_from: tuple[str, ...]
    n_atoms: tuple[int, ...]
    fit_range: tuple[float, float]
    chi2: float
    n_points: int
    source: str = ""

    significant = ("D_*",)

    @property
    def n_varied(self) -> int:
        return 2 * len(self.species)

    @property
    def parameters(self) -> list[Parameter]:
        out = []
        for k, s in enumerate(self.species):
            out += [Parameter(f"D_{s}", self.diffusion[k], self.diffusion_error[k], "angstrom**2/ps"),
                    Parameter(f"c_{s}", self.intercept[k], self.intercept_error[k], "angstrom**2")]
        return out

    @property
    def covariance_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def covariance(self) -> np.ndarray:
        """Block diagonal: one 2 x 2 block (D, c) per species (module docstring)."""
        n = len(self.species)
        c = np.zeros((2 * n, 2 * n))
        for k in range(n):
            c[2 * k, 2 * k] = self.diffusion_error[k] ** 2
            c[2 * k + 1, 2 * k + 1] = self.intercept_error[k] ** 2
            c[2 * k, 2 * k + 1] = c[2 * k + 1, 2 * k] = self.covariance_dc[k]
        return c

    @property
    def reasons(self) -> list[str]:
        return diagnose(parameters=self.parameters, covariance=self.covariance)

    @property
    def derived(self) -> Quantities:
        """D per species as ``D_<species>`` (angstrom^2/ps, with its standard error)."""
        return Quantities({f"D_{s}": self.coefficient(s) for s in self.species})

    def coefficient(self, species: str) -> Quantity:
        """D of one species with its standard error (angstrom^2/ps; ``.to('cm**2/s')``)."""
        k = self._index(species)
        return Quantity(self.diffusion[k], self.diffusion_error[k], "angstrom**2/ps")

    def line(self, species: str, t) -> np.ndarray:
        """The fitted 6 D t + c (angstrom^2) at times t (ps)."""
        k = self._index(species)
        return 6.0 * self.diffusion[k] * np.asarray(t, dtype=float) + self.intercept[k]

    def flags(self) -> list[str]:
        """Implausible results: a D below zero by more than two standard errors (an MSD that
        decreases over the fit range is not diffusion: too short a run or a drifting frame)."""
        return [f"D_{s} = {d:.4g} ± {e:.2g} angstrom**2/ps is negative: the MSD decreases over "
                f"{self.fit_range[0]:.4g}-{self.fit_range[1]:.4g} ps"
                for s, d, e in zip(self.species, self.diffusion, self.diffusion_error, strict=True)
                if d < -2.0 * e]

    def _index(self, species: str) -> int:
        if species not in self.species:
            raise InputError(f"no species '{species}'; the fit has {list(self.species)}",
                             file=self.source or None, field="species", value=species)
        return self.species.index(species)

    # deprecated: the former dict of (D, sigma_D) tuples (one release)
    def __getitem__(self, species: str) -> tuple[float, float]:
        _deprecated_tuples()
        k = self._index(species)
        return self.diffusion[k], self.diffusion_error[k]

    def keys(self) -> tuple[str, ...]:
        _deprecated_tuples()
        return self.species

    def items(self) -> list[tuple[str, tuple[float, float]]]:
        _deprecated_tuples()
        return [(s, (d, e)) for s, d, e in zip(self.species, self.diffusion, self.diffusion_error,
                                                strict=True)]


def _deprecated_tuples() -> None:
    warnings.warn("fit_diffusion returns a DiffusionFit: the (D, sigma_D) tuples by species are "
                  "deprecated; use fit.coefficient(species) (a Quantity with value, error and "
                  "unit) or fit.derived", DeprecationWarning, stacklevel=3)


def fit_diffusion(result: MSDResult, fit_range: tuple[float, float] | None = None,
                  n_blocks: int = 5) -> DiffusionFit:
    """D per species (angstrom^2/ps) with its standard error, and the intercept c of
    MSD = 6 D t + c, as a :class:`DiffusionFit`.

    The errors come from groups of atoms, or from blocks of time origins for species with few
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
    ts = t[sel]
    cols: dict[str, list] = {k: [] for k in ("d", "d_err", "c", "c_err", "cov", "how")}
    chi2 = 0.0
    for k in range(len(result.species)):
        slope, c = _line(ts, result.msd[k, sel])
        chi2 += float(np.sum((result.msd[k, sel] - (slope * ts + c)) ** 2))
        n_k = result.n_per_species[k]
        if result.atom_msd is not None and n_k >= MIN_ATOMS_FOR_GROUPS:
            atoms = np.arange(first[k], first[k + 1])
            n_g = min(n_k, 16)
            parts = [_line(ts, result.atom_msd[atoms[g::n_g]][:, sel].mean(axis=0))
                     for g in range(n_g)]
            how = f"{n_g} groups of atoms"
        else:
            parts = [_line(ts, result.origin_sums[b][:, k][:, sel].sum(axis=0) / (b.size * counts[k]))
                     for b in blocks]
            how = f"{len(blocks)} blocks of time origins (a lower bound)"
        d_parts = np.array([p[0] for p in parts]) / 6.0
        c_parts = np.array([p[1] for p in parts])
        root_n = np.sqrt(len(parts))
        cols["d"].append(slope / 6.0)
        cols["d_err"].append(float(np.std(d_parts, ddof=1) / root_n))
        cols["c"].append(c)
        cols["c_err"].append(float(np.std(c_parts, ddof=1) / root_n))
        cols["cov"].append(float(np.cov(d_parts, c_parts, ddof=1)[0, 1] / len(parts)))
        cols["how"].append(how)
    return DiffusionFit(result.species, *(tuple(cols[k]) for k in ("d", "d_err", "c", "c_err", "cov", "how")),
                        tuple(result.n_per_species), (float(lo), float(hi)), chi2,
                        int(sel.sum()) * len(result.species), result.source)
