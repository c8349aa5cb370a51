r"""Generalised (neutron-weighted) phonon DOS from powder S(Q,E) in the incoherent approximation.

The measured S(Q,E) of a powder (arbitrary scale c) is modelled as one effective atom of mass M
(:mod:`latdyn.reduce.multiphonon`):

.. math::

    S(Q,E) = c\, e^{-2W(Q)} \Big[ E_R(Q) \frac{g_1(E)}{E} (n(E) + 1)
             + \sum_{n \ge 2} \frac{(2W)^n}{n!} T_n(E) \Big]

and g_1 is found by the fixed-point iteration of Kresch et al. (Phys. Rev. B 75, 104301
(2007)) and Fultz et al. (*Experimental Inelastic Neutron Scattering*, ch. 6):

1. subtract the multiphonon part of the current estimate, S_1 = S / c - S_mp[g^(k)];
2. correct each (Q,E) point for Bose, Debye-Waller and recoil,
   y(Q,E) = S_1 e^{2W(Q)} E / (E_R(Q) (n(E) + 1)), and average over Q with weights
   1 / sigma_y^2 (masked points excluded): y(E) = g_1(E), with S_1 = S / c - S_mp;
3. below the elastic cut-off E_min extrapolate with the acoustic law g ~ E^2, normalise
   (c = int y dE) and recompute 2W and S_mp; repeat until g changes by less than ``tol``
   (relative to its maximum).

The result is normalised to 3 states per atom.  Neutron weighting of a compound: the
generalised DOS is g_n(E) = sum_j c_j (sigma_j / M_j) g_j(E) / sum_j c_j sigma_j / M_j
(:func:`neutron_weighted_dos`), with the effective mass 1 / M = sum_j c_j sigma_j / M_j /
sum_j c_j sigma_j (:func:`effective_mass`).  Units: Q 1/angstrom, E meV, T K, M amu.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..data.density_of_states import DensityOfStates
from ..data.model import validate
from ..errors import FitError, InputError
from ..units import KB_MEV_PER_K, check_temperature
from .cuts import _keep, cut_range_check
from .multiphonon import PhononExpansion, recoil_energy

__all__ = ["GDOSResult", "generalized_dos", "neutron_weighted_dos", "effective_mass",
           "sigma_over_mass_weights"]


@dataclass
class GDOSResult:
    """The generalised DOS (3 per atom) and what the extraction did.

    dos: :class:`latdyn.data.DensityOfStates` with one neutron-weighted partial
        ('generalised', weighting 'neutron') on points from 0 to E_max, with variances;
        ``dos.total`` is the DataArray g(E) (1/meV per atom, dim 'E').
    multiphonon_fraction: share of multiphonon scattering in the inelastic intensity used.
    two_w: 2W at the mean Q of the range; msd: <u_x^2> (angstrom^2); scale: the factor c.
    history: max relative change of g per iteration.
    """

    dos: DensityOfStates
    iterations: int
    converged: bool
    multiphonon_fraction: float
    two_w: float
    msd: float
    scale: float
    mass: float
    temperature: float
    q_range: tuple[float, float]
    e_range: tuple[float, float]
    history: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | bool]:
        return {"iterations": self.iterations, "converged": self.converged,
                "multiphonon_fraction": self.multiphonon_fraction, "two_w_at_mean_Q": self.two_w,
                "msd_x_A2": self.msd, "mass_amu": self.mass, "T_K": self.temperature,
                "Q_min": self.q_range[0], "Q_max": self.q_range[1],
                "E_min": self.e_range[0], "E_max": self.e_range[1]}


def sigma_over_mass_weights(formula: str, table: str = "sears") -> dict[str, float]:
    """Normalised neutron weights c_j (sigma_j / M_j) / sum_k c_k sigma_k / M_k per nuclide."""
    from ..scattering import Composition

    comp = Composition(formula, table=table)
    frac, som = comp.fractions(), comp.sigma_over_mass()
    total = sum(frac[s] * som[s] for s in frac)
    return {s: frac[s] * som[s] / total for s in frac}


def effective_mass(formula: str, table: str = "sears") -> float:
    """Effective mass (amu) of the incoherent approximation: 1/M = <sigma/M> / <sigma>."""
    from ..scattering import Composition

    comp = Composition(formula, table=table)
    som = comp.sigma_over_mass()
    num = sum(n * a.sigma_scatt for a, n in comp.atoms)
    den = sum(n * som[a.symbol] for a, n in comp.atoms)
    return float(num / den)


def neutron_weighted_dos(energy, partial_dos: dict, formula: str, table: str = "sears") -> sc.DataArray:
    """g_n(E) = sum_j w_j g_j(E) with w_j = c_j (sigma_j/M_j) / sum_k c_k sigma_k/M_k.

    ``energy``: grid (meV); ``partial_dos``: nuclide symbol -> (energies, values), a
    DataArray or a DensityOfStates, each partial normalised to 3 per atom before weighting
    and interpolated onto the grid.  Returns the view
    :meth:`latdyn.data.DensityOfStates.neutron_weighted` of these partials (1/meV, area 3).
    """
    from ..data.density_of_states import as_density_of_states
    from ..scattering import Composition

    e = np.asarray(energy, dtype=float)
    comp = Composition(formula, table=table)
    counts = {a.symbol: n for a, n in comp.atoms}
    missing = [s for s in counts if s not in partial_dos]
    if missing:
        raise InputError("a partial DOS is needed for every nuclide of the formula",
                         field="partial_dos", value=missing)
    rows = []
    for sym in counts:
        d = as_density_of_states(partial_dos[sym], source=f"partial DOS {sym}")
        ee = d.energy if not d.histogram else 0.5 * (d.energy[1:] + d.energy[:-1])
        rows.append(np.interp(e, ee, d.g, left=0.0, right=0.0))
    dos = DensityOfStates.from_arrays(e, np.array(rows), labels=list(counts),
                                      counts=list(counts.values()), normalise=False,
                                      name=f"neutron-weighted DOS {formula}")
    out = dos.neutron_weighted(table)
    out.name = dos.name
    return out


def _extrapolate(e: np.ndarray, y: np.ndarray, e_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Prepend a grid from 0 to below e_min with the E^2 law matched at the first point."""
    step = np.median(np.diff(e)) if e.size > 1 else e_min
    n_low = max(int(np.floor(e[0] / step)), 1)
    e_low = np.linspace(0.0, e[0], n_low + 1)[:-1]
    y_low = y[0] * (e_low / e[0]) ** 2
    return np.concatenate([e_low, e]), np.concatenate([y_low, y])


def generalized_dos(sqe: sc.DataArray, T: float, mass: float, *, q_range: tuple[float, float],
                    e_range: tuple[float, float], n_max: int = 10, max_iter: int = 50,
                    tol: float = 1e-4, source: str | None = None) -> GDOSResult:
    """Extract the generalised DOS from powder S(Q,E) (algorithm in the module docstring).

    Parameters
    ----------
    sqe: DataArray with dims (Q, E), variances, masks for uncovered points; Q in 1/angstrom,
        E in meV (energy loss positive), background and empty can already subtracted,
        corrected for k_i/k_f.
    T: sample temperature (K). mass: effective mass (amu), e.g. :func:`effective_mass`.
    q_range: (Q_min, Q_max) to use; e_range: (E_min, E_max) of the inelastic region, E_min
        above the elastic line (the DOS below it follows the E^2 law), E_max above the phonon
        cut-off.
    n_max: highest phonon order; tol: convergence on max|g_new - g| / max g.

    Raises InputError for ranges outside the data, T <= 0 or no usable intensities; FitError
    when the iteration diverges.
    """
    validate(sqe, source=source)
    if set(sqe.dims) != {"Q", "E"}:
        raise InputError("a powder S(Q,E) with dims (Q, E) is needed", file=source, field="dims",
                         value=sqe.dims)
    t = float(check_temperature(T))
    recoil_energy(1.0, mass)
    da = sqe.transpose(["Q", "E"])
    q_min, q_max = (float(v) for v in q_range)
    e_min, e_max = (float(v) for v in e_range)
    cut_range_check(da, "Q", q_min, q_max, source)
    cut_range_check(da, "E", e_min, e_max, source)
    if e_min <= 0:
        raise InputError("E_min must be > 0 meV (above the elastic line)", file=source,
                         field="E range", value=(e_min, e_max))
    q_all = np.asarray(sc.to_unit(da.coords["Q"], "1/angstrom").values, dtype=float)
    e_all = np.asarray(sc.to_unit(da.coords["E"], "meV").values, dtype=float)
    if da.coords.is_edges("Q"):
        q_all = 0.5 * (q_all[1:] + q_all[:-1])
    if da.coords.is_edges("E"):
        e_all = 0.5 * (e_all[1:] + e_all[:-1])
    qs = (q_all >= q_min) & (q_all <= q_max)
    es = (e_all >= e_min) & (e_all <= e_max)
    if qs.sum() < 1 or es.sum() < 3:
        raise InputError("too few data points in the Q and E ranges", file=source,
                         field="Q/E range", value=(int(qs.sum()), int(es.sum())))
    q, e = q_all[qs], e_all[es]
    s = np.asarray(da.values)[np.ix_(qs, es)]
    if da.variances is None:
        var = np.maximum(np.abs(s), np.max(np.abs(s)) * 1e-6)
    else:
        var = np.asarray(da.variances)[np.ix_(qs, es)]
    keep = _keep(da)[np.ix_(qs, es)] & (var > 0)
    if not np.any(keep.any(axis=0)):
        raise InputError("no unmasked data with uncertainties in the ranges", file=source,
                         field="Q/E range", value=(q_range, e_range))

    kt = KB_MEV_PER_K * t
    bose = -e * np.expm1(-e / kt)                       # E / (n + 1)
    e_r = recoil_energy(q, mass)
    s_mp = np.zeros_like(s)
    two_w = np.zeros_like(q)
    history: list[float] = []
    g_prev = None
    converged = False
    y_mean = y_err = None
    scale = 1.0
    exp = None
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        corr = (np.exp(two_w) / e_r)[:, None] * bose[None, :]
        y = (s / scale - s_mp) * corr
        w = np.where(keep, scale**2 / (var * corr**2), 0.0)
        wsum = w.sum(axis=0)
        good = wsum > 0
        y_mean = np.where(good, (w * y).sum(axis=0) / np.where(good, wsum, 1.0), 0.0)
        y_err = np.where(good, 1.0 / np.sqrt(np.where(good, wsum, 1.0)), 0.0)
        if not good.all():
            y_mean = np.interp(e, e[good], y_mean[good])
        y_pos = np.clip(y_mean, 0.0, None)
        e_full, y_full = _extrapolate(e, y_pos, e_min)
        area = np.trapezoid(y_full, e_full)
        if not (np.isfinite(area) and area > 0):
            raise FitError("the one-phonon intensity is not positive: check the background and "
                           "the energy range", file=source, field="S(Q,E)", value=area)
        g = y_full / area
        step = min(np.min(np.diff(e_full)), e_full[-1] / 500.0)
        exp = PhononExpansion.from_dos(DensityOfStates.from_arrays(e_full, g), t, mass, step=step,
                                       n_max=n_max)
        two_w = exp.two_w(q)
        s_mp = exp.sqe(q, e, orders=range(2, n_max + 1))
        model = exp.sqe(q, e, orders=[1]) + s_mp
        wm = np.where(keep, 1.0 / var, 0.0)
        scale = float(np.sum(wm * s * model) / np.sum(wm * model * model))
        if g_prev is not None:
            change = float(np.max(np.abs(g - g_prev)) / np.max(g))
            history.append(change)
            if not np.isfinite(change) or change > 1e3:
                raise FitError("multiphonon iteration diverged", file=source, field="g",
                               value=change)
            if change < tol:
                converged = True
                break
        g_prev = g
    s1 = exp.sqe(q, e, orders=[1])
    inel = float(np.sum(np.where(keep, s1 + s_mp, 0.0)))
    mp_frac = float(np.sum(np.where(keep, s_mp, 0.0)) / inel) if inel > 0 else 0.0
    e_full, _ = _extrapolate(e, np.clip(y_mean, 0.0, None), e_min)
    err_full = np.concatenate([np.zeros(e_full.size - e.size), y_err]) / area
    dos = DensityOfStates.from_arrays(e_full, 3.0 * g, errors=3.0 * err_full, normalise=False,
                                      labels=["generalised"], weighting="neutron",
                                      name="generalised DOS", source=source)
    q_mean = float(np.mean(q))
    return GDOSResult(dos=dos, iterations=n_iter, converged=converged, multiphonon_fraction=mp_frac,
                      two_w=float(exp.two_w(q_mean)), msd=exp.msd(), scale=scale, mass=float(mass),
                      temperature=t, q_range=(q_min, q_max), e_range=(e_min, e_max), history=history)
