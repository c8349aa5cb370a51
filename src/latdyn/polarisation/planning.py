r"""How long to count for a given relative error on a separated part.

The measurement: the channels of a separation method (:mod:`latdyn.polarisation.methods`) on
a grid, each counted for a time t_c, with expected count rates

.. math::  r_{c,p} = R\,[L(F)\,A(\alpha)\,\theta]_{c,p}\,\Delta E_p

(R the count rate per unit cross section of the instrument and sample,
:meth:`latdyn.instruments.PolarisedInstrument.count_rate`; theta the model cross sections per
point; Delta E the energy bin when the grid has an energy axis).  The channel rates are
estimated as N_c / t_c (Poisson: var = r_c / t_c) and separated with the weights W of the
method including the flipping-ratio correction, so the variance of the part k summed over the
grid, S_k = sum_p theta_k,p Delta E_p, is

.. math::  \mathrm{var}\,\hat S_k = \sum_c \frac{a_c}{t_c} + v_F,\qquad
           a_c = \sum_p (W_{kc,p}\,\Delta E_p)^2\, r_{c,p}

with v_F the (time-independent) contribution of the error of the flipping ratio.  Equal times
t_c = T / n_c give T = n_c sum_c a_c / (eps^2 S_k^2 - v_F) for a relative error eps; the
optimal split (Neyman allocation, t_c proportional to sqrt(a_c)) gives
T = (sum_c sqrt(a_c))^2 / (eps^2 S_k^2 - v_F).  ``over='each'`` asks every point to reach eps
(equal times).  :meth:`CountingPlan.monte_carlo` checks the answer by simulating the measurement
(Poisson counts), separating it as :func:`latdyn.polarisation.separate` does, and measuring the
scatter of the part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..errors import InputError
from .flipping import correction
from .methods import Method, get_method
from .virtual import _grid, _theta

__all__ = ["CountingPlan", "plan_counting"]


@dataclass
class CountingPlan:
    """The answer of :func:`plan_counting`: total time (s), time per channel, the relative
    error of every part at that time, the rates used and where they came from."""

    method: Method
    part: str
    target: float
    over: str
    allocation: str
    time: float
    channel_times: dict[str, float]
    relative_errors: dict[str, float]
    rate_per_cross_section: float
    flipping_ratio: float | None
    flipping_error: float
    parts: dict = field(repr=False, default_factory=dict)
    alpha: np.ndarray | None = field(repr=False, default=None)
    instrument: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    check: dict | None = None

    def rows(self) -> list[dict]:
        """One row per channel: its counting time and expected total counts."""
        rates = _channel_rates(self.method, self.parts, self.alpha, self.flipping_ratio,
                               self.rate_per_cross_section)
        return [{"channel": k, "time_s": t, "counts": float(np.sum(rates[k]) * t)}
                for k, t in self.channel_times.items()]

    def to_json(self) -> dict:
        return {"method": self.method.name, "part": self.part, "target_relative_error": self.target,
                "over": self.over, "allocation": self.allocation,
                "time": {"value": self.time, "unit": "s"},
                "time_hours": self.time / 3600.0,
                "channel_times": {k: {"value": v, "unit": "s"} for k, v in self.channel_times.items()},
                "relative_errors": self.relative_errors,
                "rate_per_cross_section": {"value": self.rate_per_cross_section,
                                           "unit": "counts/s per barn/sr per formula unit"},
                "flipping_ratio": self.flipping_ratio, "flipping_ratio_relative_error": self.flipping_error,
                "instrument": self.instrument, "monte_carlo": self.check, "notes": list(self.notes)}

    def report(self, command: str | None = None):
        """The HTML report: the answer, the time per channel and the Monte Carlo check."""
        from ..report import Report

        rep = Report(f"Counting time: {self.part} to {100 * self.target:g} % ({self.method.name})",
                     command=command)
        rep.add_text("Answer", f"{self.time:.4g} s ({self.time / 3600:.3g} h) in all, "
                     f"{self.allocation} split over {len(self.channel_times)} channels, for a relative "
                     f"error of {self.target:g} on the {self.part} part "
                     + ("summed over the grid" if self.over == "sum" else "at every point") + ". "
                     + " ".join(self.notes))
        rep.add_table("Channels", self.rows())
        rep.add_table("Relative errors at that time", [{"part": k, "relative_error": v}
                                                        for k, v in self.relative_errors.items()])
        if self.instrument:
            rep.add_table("Instrument and sample", [{"quantity": k, "value": v}
                                                    for k, v in self.instrument.items()])
        if self.check:
            rep.add_table("Monte Carlo check", [{"quantity": k, "value": v} for k, v in self.check.items()])
        return rep

    def write(self, folder, command: str | None = None) -> list:
        """plan.csv (one row per channel), plan.json (everything --json prints), report.html
        into ``folder`` (replaced whole)."""
        import json

        from ..data.io import Table, write_csv
        from ..fileio import check_output_folder, result_folder, write_text_atomic
        from .output import jsonable

        out = check_output_folder(folder)
        rows = self.rows()
        with result_folder(out) as tmp:
            write_csv(tmp / "plan.csv", Table({"channel": [r["channel"] for r in rows],
                                               "time_s": [r["time_s"] for r in rows],
                                               "counts": [r["counts"] for r in rows]}, units={"time_s": "s"}))
            write_text_atomic(tmp / "plan.json", json.dumps(jsonable(self.to_json()), indent=2))
            self.report(command).write(tmp / "report.html")
        return [out / n for n in ("plan.csv", "plan.json", "report.html")]

    def monte_carlo(self, runs: int = 500, seed=None) -> dict:
        """Simulate the planned measurement ``runs`` times (Poisson counts, the same channel
        times, separation with the flipping correction) and return the relative scatter of the
        part's sum next to the planned relative error."""
        from .separation import separate

        if runs < 10:
            raise InputError("a Monte Carlo check needs at least 10 runs", field="runs", value=runs)
        rng = np.random.default_rng(seed)
        first = next(iter(self.parts.values()))
        rates = _channel_rates(self.method, self.parts, self.alpha, self.flipping_ratio,
                               self.rate_per_cross_section)
        dims = ["run", *first.dims]
        coords = {d: first.coords[d] for d in first.dims if d in first.coords}
        ch = {}
        for k, t in self.channel_times.items():
            n = rng.poisson(np.broadcast_to(rates[k] * t, (runs, *first.shape))).astype(float)
            ch[k] = sc.DataArray(sc.array(dims=dims, values=n / t, variances=n / t**2, unit="counts/s"),
                                 coords=coords)
        F = self.flipping_ratio
        flip = None
        if F is not None:
            if self.flipping_error > 0:
                nd = len(self.method.directions)
                draws = F * (1.0 + self.flipping_error * rng.standard_normal((nd, runs)))
                flip = {}
                for d, f in zip(self.method.directions, draws, strict=True):
                    flip[d] = sc.DataArray(sc.array(dims=["run"], values=f,
                                                    variances=np.full(runs, (F * self.flipping_error) ** 2)))
            else:
                flip = float(F)
        alpha = None if self.alpha is None else np.broadcast_to(self.alpha, (runs, *first.shape))
        sep = separate(ch, self.method.name, flipping=flip, alpha=alpha,
                       direction=self.method.directions[0] if self.method.name == "uniaxial" else None)
        if self.over == "each":   # the worst point, as planned
            W, _ = _weights(self.method, np.ravel(np.broadcast_to(
                0.0 if self.alpha is None else self.alpha, first.shape)), self.flipping_ratio)
            r = np.stack([np.ravel(rates[k]) for k in self.method.channels], axis=-1)
            truth = np.einsum("pkc,pc->pk", W, r)[:, self.method.components.index(self.part)]
            v = np.asarray(sep[self.part].values, float).reshape(runs, -1)
            e = np.sqrt(np.asarray(sep[self.part].variances, float)).reshape(runs, -1)
            rel = np.std(v, axis=0, ddof=1) / np.abs(truth)
            worst = int(np.argmax(rel))
            return {"runs": runs, "over": "each", "relative_error_planned": self.relative_errors[self.part],
                    "relative_error_monte_carlo": float(rel[worst]),
                    "mean_relative_error_estimated": float(np.mean(e[:, worst]) / abs(truth[worst])),
                    "bias": float((np.mean(v[:, worst]) - truth[worst]) / abs(truth[worst]))}
        for d in first.dims:
            sep = sep.integrate(d, widths=False)
        v = np.asarray(sep[self.part].values, float)
        e = np.sqrt(np.asarray(sep[self.part].variances, float))
        truth = self.rate_per_cross_section * _part_sum(self.parts, self.part)
        return {"runs": runs, "over": "sum", "relative_error_planned": self.relative_errors[self.part],
                "relative_error_monte_carlo": float(np.std(v, ddof=1) / abs(truth)),
                "mean_relative_error_estimated": float(np.mean(e) / abs(truth)),
                "bias": float((np.mean(v) - truth) / abs(truth))}


def _widths(da: sc.DataArray) -> np.ndarray:
    """Delta E per point of the grid (1 without an energy axis)."""
    if "E" not in da.dims or "E" not in da.coords:
        return np.ones(da.shape)
    c = np.asarray(da.coords["E"].values, float)
    w = np.abs(np.diff(c)) if da.coords.is_edges("E") else np.abs(np.gradient(c))
    shape = [1] * da.ndim
    shape[da.dims.index("E")] = w.size
    return np.broadcast_to(w.reshape(shape), da.shape)


def _part_sum(parts, name: str) -> float:
    first = _grid(parts)
    theta = _theta(parts, first)
    w = _widths(first)
    comp = {"coherent": theta[..., 0], "spin_incoherent": theta[..., 1], "magnetic_y": theta[..., 2],
            "magnetic_z": theta[..., 3], "magnetic": theta[..., 2] + theta[..., 3]}
    return float(np.sum(comp[name] * w))


def _channel_rates(m: Method, parts, alpha, F, R) -> dict[str, np.ndarray]:
    from .virtual import expected_channels

    exp = expected_channels(parts, m.directions, flipping=F, alpha=alpha)
    first = _grid(parts)
    w = _widths(first)
    return {k: R * np.clip(np.asarray(exp[k].values, float), 0, None) * w for k in m.channels}


def _weights(m: Method, alpha: np.ndarray, F) -> tuple[np.ndarray, np.ndarray | None]:
    """(W (P, n_parts, n_channels), dW/dF (P, n_parts, n_channels) for one F of all directions)."""
    C, singular = m.combination(alpha)
    D = m.derived()
    nc = len(m.channels)
    if F is None:
        K = np.eye(nc)[None]
        dK = None
    else:
        K = np.zeros((1, nc, nc))
        dK = np.zeros((1, nc, nc))
        for i in range(len(m.directions)):
            s = slice(2 * i, 2 * i + 2)
            K[0, s, s] = correction(F)
            dK[0, s, s] = np.array([[-1.0, 1.0], [1.0, -1.0]]) / (F - 1.0) ** 2
    DC = np.einsum("kb,pbc->pkc", D, C)
    if np.any(singular):
        raise InputError(f"the {m.name} method cannot separate at {int(singular.sum())} points "
                         "(alpha where cos 2 alpha = 0?)", field="alpha")
    return DC @ K, (None if dK is None else DC @ dK)


def plan_counting(parts: Mapping[str, sc.DataArray], method: str = "xyz", *, target: float,
                  part: str = "coherent", instrument=None, formula_units: float | None = None,
                  formula: str | None = None, mass_g: float | None = None,
                  solid_angle_sr: float | None = None, ei: float | None = None,
                  rate: float | None = None, flipping_ratio: float | None = None,
                  flipping_error: float = 0.0, over: str = "sum", allocation: str = "equal",
                  alpha=None, direction: str | None = None) -> CountingPlan:
    """The counting time for relative error ``target`` on ``part`` (module docstring).

    parts: model cross sections on the measurement grid (barn/sr per formula unit, or
        barn/sr/meV with an 'E' axis): coherent, isotope_incoherent, spin_incoherent and
        magnetic (or magnetic_y/magnetic_z), as for :func:`latdyn.polarisation.virtual
        .expected_channels`.
    instrument: a :class:`latdyn.instruments.PolarisedInstrument` or its library name (D7,
        DNS, LET-POLARISED, HYSPEC-POLARISED): flux, analyser transmission and the default
        flipping ratio; with ``formula_units`` (or ``formula`` and ``mass_g``) in the beam,
        ``solid_angle_sr`` per grid point (default: the instrument's analysed solid angle
        shared by the points of the first dim) and ``ei`` (meV) for a polarised mode.
        Or give ``rate`` (counts/s per barn/sr per formula unit per point) directly.
    flipping_ratio: F used in the correction (default the instrument's; None for ideal);
        ``flipping_error``: its relative error (from the quartz run), a floor no counting time
        beats.
    over: 'sum' (the part summed over the grid) or 'each' (every point); allocation: 'equal'
        or 'optimal' (Neyman; 'sum' only).
    """
    if not (np.isfinite(target) and 0 < target < 1):
        raise InputError("target relative error must lie between 0 and 1", field="target", value=target)
    if over not in ("sum", "each"):
        raise InputError("over must be 'sum' or 'each'", field="over", value=over)
    if allocation not in ("equal", "optimal"):
        raise InputError("allocation must be 'equal' or 'optimal'", field="allocation", value=allocation)
    if over == "each" and allocation == "optimal":
        raise InputError("the optimal split is defined for over='sum'", field="allocation", value=allocation)
    m = get_method(method, direction)
    if part not in m.components:
        raise InputError(f"the {m.name} method separates {list(m.components)}", field="part", value=part)
    first = _grid(parts)
    notes = ["rates from the sample's scattering alone: no background, container, absorption or "
             "multiple scattering"]
    inst_info = {}
    inst = None
    if instrument is not None:
        from ..instruments import PolarisedInstrument, load_instrument

        inst = load_instrument(instrument) if isinstance(instrument, str) else instrument
        if not isinstance(inst, PolarisedInstrument):
            raise InputError(f"{inst.name} is not a polarised instrument", field="instrument",
                             value=inst.name)
        missing = [d for d in m.directions if d not in inst.directions]
        if missing:
            raise InputError(f"{inst.name} does not polarise along {missing[0]} (it has "
                             f"{', '.join(inst.directions)}): the {m.name} method needs it",
                             field="method", value=m.name)
    if rate is None:
        if inst is None:
            raise InputError("give an instrument (with the sample amount) or the count rate", field="rate")
        if formula_units is None:
            if formula is None or mass_g is None:
                raise InputError("give formula_units, or formula and mass_g", field="formula_units")
            from scipy.constants import N_A

            from ..scattering import Composition

            formula_units = float(mass_g) / Composition(formula).mass * N_A
        n_first = first.sizes[first.dims[0]] if first.ndim and first.dims[0] != "E" else 1
        omega = solid_angle_sr if solid_angle_sr is not None else inst.solid_angle_sr / n_first
        rate = inst.count_rate(formula_units, omega, ei)
        inst_info = {"name": inst.name, "flux_at_sample": inst.flux_at_sample(ei) if inst.base_name is None
                     or ei is not None else None, "flux_penalty": inst.flux_penalty,
                     "analyser_transmission": inst.analyser_transmission,
                     "solid_angle_per_point_sr": omega, "formula_units": formula_units}
    elif not (np.isfinite(rate) and rate > 0):
        raise InputError("rate must be positive", field="rate", value=rate)
    F = flipping_ratio if flipping_ratio is not None else (inst.flipping_ratio if inst is not None else None)
    if F is not None and not F > 1:
        raise InputError("flipping ratio must exceed 1", field="flipping_ratio", value=F)
    if F is None:
        notes.append("ideal polarisation (no flipping-ratio correction)")
    a = np.broadcast_to(np.asarray(alpha if alpha is not None else
                                   (first.coords["alpha"].values if "alpha" in first.coords else 0.0),
                                   dtype=float), first.shape)
    P = int(np.prod(first.shape)) if first.shape else 1
    W, dW = _weights(m, a.reshape(P), F)
    rates = _channel_rates(m, parts, a, F, rate)
    r = np.stack([np.ravel(rates[k]) for k in m.channels], axis=-1)        # (P, nc), per bin
    k = m.components.index(part)
    truth = {c: rate * _part_sum(parts, c) for c in m.components}
    if truth[part] == 0:
        raise InputError(f"the model has no {part} scattering: no relative error", field="part", value=part)
    theta_bin = np.einsum("pkc,pc->pk", W, r)                                 # parts per bin
    if over == "sum":
        a_c = np.einsum("pkc,pc->kc", W**2, r)                              # per part, channel
        vF = _flipping_variance(dW, r, F, flipping_error)
        need = (target * truth[part]) ** 2 - vF[k]
        if need <= 0:
            raise InputError(f"a relative error of {target:g} on {part} is below the floor "
                             f"{np.sqrt(vF[k]) / abs(truth[part]):.3g} set by the flipping-ratio error",
                             field="target", value=target)
        if allocation == "equal":
            T = len(m.channels) * float(np.sum(a_c[k])) / need
            times = {c: T / len(m.channels) for c in m.channels}
        else:
            s = np.sqrt(a_c[k])
            T = float(np.sum(s)) ** 2 / need
            times = {c: float(T * s[j] / np.sum(s)) for j, c in enumerate(m.channels)}
        rel = {c: float(np.sqrt(np.sum(a_c[j] / np.array([times[x] for x in m.channels])) + vF[j])
                        / abs(truth[c])) if truth[c] != 0 else float("inf")
               for j, c in enumerate(m.components)}
    else:
        per = np.einsum("pkc,pc->pk", W**2, r)                              # var x t_c, equal t_c
        vF = _flipping_variance(dW, r, F, flipping_error, per_point=True)
        tp = theta_bin[:, k]
        need = (target * tp) ** 2 - vF[:, k]
        if np.any(need <= 0):
            raise InputError(f"a relative error of {target:g} on {part} cannot be reached at every "
                             "point (zero scattering or the flipping-ratio floor)", field="target",
                             value=target)
        T = float(np.max(len(m.channels) * per[:, k] / need))
        times = {c: T / len(m.channels) for c in m.channels}
        rel = {c: float(np.max(np.sqrt(len(m.channels) * per[:, j] / T + vF[:, j])
                               / np.abs(theta_bin[:, j])))
               if np.all(theta_bin[:, j] != 0) else float("inf") for j, c in enumerate(m.components)}
    return CountingPlan(m, part, float(target), over, allocation, T, times, rel, float(rate),
                        None if F is None else float(F), float(flipping_error), dict(parts),
                        None if alpha is None and "alpha" not in first.coords else a, inst_info, notes)


def _flipping_variance(dW, r, F, rel_err, per_point: bool = False):
    """Variance from the flipping-ratio error (one F per direction, independent between
    directions, shared by all points): J = sum_c (dW/dF_d)_kc r_c over the block of d."""
    nk = dW.shape[1] if dW is not None else 1
    out = np.zeros((r.shape[0], nk)) if per_point else np.zeros(nk)
    if dW is None or rel_err == 0 or F is None:
        return out
    varF = (F * rel_err) ** 2
    nc = dW.shape[2]
    for i in range(nc // 2):
        blk = np.zeros(nc)
        blk[2 * i:2 * i + 2] = 1.0
        J = np.einsum("pkc,pc->pk", dW * blk, r)
        out += (J**2 if per_point else np.sum(J, axis=0) ** 2) * varF
    return out
