r"""Resolution functions for QENS/INS fits: measured (vanadium) or analytic (pseudo-Voigt).

A measured resolution R_q(E) (one spectrum per Q group, or one for all) is normalised to unit
area and resampled (linear interpolation, zero outside its range) onto a uniform grid of the
data's spacing that covers the data and the resolution; the piecewise-linear function through
those points is convolved exactly with each line (:mod:`latdyn.fitting.kernels`).  An analytic
resolution R = (1 - eta) G(sigma) + eta L(a) centred at E_R is fitted per group to a resolution
measurement with :func:`fit_resolution`.  Either one is shifted by a fitted offset s per group:
the model is M(E) = M_0(E - s).

Problems that concern one group (no overlap with the data, NaN, zero area) are recorded in
``problems`` (group index -> reason) so the other groups can still be fitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipp as sc
from scipy import optimize

from ..errors import InputError
from ..lineshapes import hwhm_from_sigma, pseudo_voigt
from ..units import FWHM_PER_SIGMA
from .kernels import gaussian_conv_analytic, hat_kernel_on_grid, pole_conv_analytic, poles

__all__ = ["MeasuredResolution", "AnalyticResolution", "fit_resolution", "resolution_arrays",
           "match_groups", "MATCH_MODES"]


def resolution_arrays(da: sc.DataArray, source: str | None = None):
    """(Q or None, E points (nE,), values (nG, nE)) of a resolution DataArray ('E' or ('Q','E'))."""
    if not isinstance(da, sc.DataArray) or "E" not in da.dims or da.ndim > 2:
        raise InputError("resolution must be a DataArray with dim 'E' or dims ('Q', 'E')", file=source,
                         field="dims", value=getattr(da, "dims", type(da).__name__))
    if da.ndim == 2:
        da = da.transpose([d for d in da.dims if d != "E"] + ["E"])
    e = np.asarray(sc.to_unit(da.coords["E"], "meV").values, dtype=float)
    if da.coords.is_edges("E"):
        e = 0.5 * (e[1:] + e[:-1])
    v = np.atleast_2d(np.asarray(da.values, dtype=float))
    q = None
    if da.ndim == 2:
        other = da.dims[0]
        q = np.asarray(da.coords[other].values, dtype=float) if other in da.coords else None
        if q is not None and q.size == v.shape[0] + 1:
            q = 0.5 * (q[1:] + q[:-1])
    return q, e, v


#: how resolution groups are matched to data groups
MATCH_MODES = ("q", "nearest", "index")


def match_groups(n_res: int, q_res, q_data: np.ndarray, match: str = "q", tolerance: float | None = None,
                 source=None) -> tuple[np.ndarray, dict[int, str]]:
    """(resolution group of each data group, notes per data group).

    One resolution spectrum serves every group.  Otherwise groups are matched by |Q|
    (``match='q'``): each data group takes the resolution group at the same |Q| within
    ``tolerance`` (1/A; default half the smallest |Q| step of the data, or 0.05 1/A for one
    group), and any data group without one is an InputError that lists both |Q| lists.
    ``match='nearest'`` takes the nearest |Q| whatever the distance and notes every
    substitution beyond the tolerance; ``match='index'`` pairs groups by position (only when
    both have the same number of groups), with a note that |Q| was not checked."""
    if match not in MATCH_MODES:
        raise InputError(f"resolution matching must be one of {list(MATCH_MODES)}", field="resolution_match",
                         value=match)
    q_data = np.asarray(q_data, dtype=float)
    if n_res == 1:
        return np.zeros(q_data.size, dtype=int), {}
    if match == "index":
        if n_res != q_data.size:
            raise InputError(f"the resolution has {n_res} groups and the data {q_data.size}: they cannot "
                             "be paired by position", file=source, field="resolution_match", value="index")
        return np.arange(q_data.size), {i: "resolution paired by position (|Q| not checked)"
                                        for i in range(q_data.size)}
    qr = None if q_res is None else np.asarray(q_res, dtype=float)
    if qr is None or not np.all(np.isfinite(qr)) or not np.all(np.isfinite(q_data)):
        raise InputError(f"the resolution has {n_res} groups but no |Q| to match them to the data's "
                         f"{q_data.size} (give |Q| for both, or resolution_match='index' / "
                         "--resolution-match index to pair them by position)", file=source, field="Q",
                         value=n_res)
    if tolerance is None:
        steps = np.diff(np.unique(q_data))
        tolerance = 0.5 * float(steps.min()) if steps.size else 0.05
    dist = np.abs(qr[None, :] - q_data[:, None])
    gmap = dist.argmin(axis=1)
    off = dist[np.arange(q_data.size), gmap]
    far = np.where(off > tolerance)[0]
    if far.size and match == "q":
        raise InputError(f"{far.size} data group(s) have no resolution group within {tolerance:.3g} 1/A "
                         f"(data |Q|: {np.round(q_data, 4).tolist()}; resolution |Q|: "
                         f"{np.round(qr, 4).tolist()}); use --resolution-match nearest "
                         "(resolution_match='nearest') to take the nearest one anyway", file=source,
                         field="Q", value=np.round(q_data[far], 4).tolist())
    notes = {int(i): f"resolution of |Q| = {qr[gmap[i]]:.4g} 1/A used for the data group at "
                     f"{q_data[i]:.4g} 1/A (nearest; {off[i]:.3g} 1/A apart)" for i in far}
    return gmap, notes


@dataclass
class MeasuredResolution:
    """A measured resolution (vanadium or base temperature), one spectrum per group or one for all."""

    E: np.ndarray
    values: np.ndarray
    Q: np.ndarray | None = None
    source: str | None = None
    match: str = "q"
    tolerance: float | None = None

    @classmethod
    def from_data(cls, da: sc.DataArray, source: str | None = None, match: str = "q",
                  tolerance: float | None = None) -> MeasuredResolution:
        q, e, v = resolution_arrays(da, source)
        return cls(e, v, q, source, match, tolerance)

    def prepare(self, E: np.ndarray, Q: np.ndarray) -> PreparedMeasured:
        """Resample onto a uniform grid of the data spacing; record per-group problems."""
        E = np.asarray(E, dtype=float)
        gmap, notes = match_groups(self.values.shape[0], self.Q, np.asarray(Q, float), self.match,
                                   self.tolerance, self.source)
        d = np.diff(E)
        h = float(np.min(d))
        uniform = bool(np.allclose(d, d.mean(), rtol=1e-5, atol=0))
        if uniform:
            h = float(d.mean())
        lo = min(E[0], self.E[0])
        hi = max(E[-1], self.E[-1])
        span = E[-1] - E[0]
        lo, hi = max(lo, E[0] - span), min(hi, E[-1] + span)
        n_lo = int(np.ceil((E[0] - lo) / h - 1e-9))
        n_hi = int(np.ceil((hi - E[-1]) / h - 1e-9))
        if uniform:
            x = E[0] + h * np.arange(-n_lo, E.size + n_hi)
        else:
            x = E[0] - n_lo * h + h * np.arange(int(np.ceil((E[-1] - E[0]) / h)) + n_lo + n_hi + 1)
        R = np.zeros((Q.size, x.size))
        problems: dict[int, str] = {}
        for i, g in enumerate(gmap):
            r = self.values[g]
            if not np.all(np.isfinite(r)):
                problems[i] = f"resolution group {g} holds NaN or infinite values"
                continue
            area = np.trapezoid(r, self.E)
            if not area > 0:
                problems[i] = f"resolution group {g} has non-positive area {area:.3g}"
                continue
            ri = np.interp(x, self.E, r / area, left=0.0, right=0.0)
            inside = np.trapezoid(np.clip(ri, 0, None)[(x >= E[0]) & (x <= E[-1])],
                                  x[(x >= E[0]) & (x <= E[-1])]) if E.size > 1 else 0.0
            a2 = np.trapezoid(ri, x)
            if not (a2 > 0 and inside > 0.05 * a2):
                problems[i] = (f"resolution group {g} ({self.E[0]:.4g} to {self.E[-1]:.4g} meV) does "
                               f"not overlap the data ({E[0]:.4g} to {E[-1]:.4g} meV)")
                continue
            R[i] = ri / a2
        return PreparedMeasured(E, x, h, R, uniform, n_lo, problems, notes)


@dataclass
class PreparedMeasured:
    """A measured resolution on the uniform grid x; evaluates convolutions at the data energies."""

    E: np.ndarray
    x: np.ndarray
    h: float
    R: np.ndarray
    uniform: bool
    offset: int
    problems: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    _fft: dict = field(default_factory=dict, repr=False)

    def subset(self, groups) -> PreparedMeasured:
        g = np.asarray(groups)
        return PreparedMeasured(self.E, self.x, self.h, self.R[g], self.uniform, self.offset, {})

    def _spectra(self, nfft):
        if nfft not in self._fft:
            self._fft[nfft] = (np.fft.rfft(self.R, nfft), np.fft.rfft(self.R * self.x, nfft))
        return self._fft[nfft]

    def delta(self, shift: np.ndarray) -> np.ndarray:
        """R(E - s) for each group (linear interpolation = the piecewise-linear R)."""
        t = (self.E[None, :] - shift[:, None] - self.x[0]) / self.h
        j = np.clip(np.floor(t).astype(int), 0, self.x.size - 2)
        f = t - j
        rows = np.arange(self.R.shape[0])[:, None]
        out = (1 - f) * self.R[rows, j] + f * self.R[rows, j + 1]
        return np.where((t >= 0) & (t <= self.x.size - 1), out, 0.0)

    def line(self, kind: str, amp: np.ndarray, params: dict[str, np.ndarray], shift: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """(sum_k amp_k R (x) f_k, sum_k amp_k (uR) (x) f_k) at E - s; arrays (nQ, k) or (nQ,).

        The convolution is exact at the points of the uniform grid x (a Toeplitz product done by
        FFT).  Data on a uniform grid sit on those points; for a non-uniform data grid the
        result is linearly interpolated from the grid of spacing h = the smallest data spacing,
        an error of at most h^2/8 |(R (x) f)''| <= h^2/8 |R''|, the order of the
        piecewise-linear representation of R itself."""
        amp2 = np.atleast_2d(np.asarray(amp, dtype=float).T).T
        pr = {k: np.broadcast_to(np.atleast_2d(np.asarray(v, dtype=float).T).T, amp2.shape)
              for k, v in params.items()}
        nq, nx = self.R.shape
        if self.uniform:
            return self._grid_conv(kind, amp2, pr, shift, self.offset, self.E.size)
        stop = min(int(np.ceil((self.E[-1] - self.x[0]) / self.h - 1e-9)) + 1, nx - 1)
        count = stop - self.offset + 1
        val_g, mom_g = self._grid_conv(kind, amp2, pr, shift, self.offset, count)
        xg = self.x[self.offset:self.offset + count]
        val = np.stack([np.interp(self.E, xg, v) for v in val_g])
        mom = np.stack([np.interp(self.E, xg, m) for m in mom_g])
        return val, mom

    def _grid_conv(self, kind, amp2, pr, shift, start, count):
        """Convolutions at the grid points x[start:start + count] by FFT: the kernels of all
        terms are summed (weighted by their amplitudes) before one transform."""
        nq, nx = self.R.shape
        m = np.arange(-(nx - 1), nx) * self.h
        # the outputs needed are the middle nx of the 3 nx - 2 linear-convolution points, so a
        # cyclic length of 2 nx - 1 keeps every wrapped-around term out of them
        nfft = _fft_size(2 * nx - 1)
        rf, r1f = self._spectra(nfft)
        kern = 0.0
        for k in range(amp2.shape[1]):
            kern = kern + amp2[:, k, None] * hat_kernel_on_grid(
                kind, m[None, :] - shift[:, None], self.h, {n: v[:, k, None] for n, v in pr.items()})
        acc = np.fft.rfft(kern, nfft)
        i0 = start + nx - 1
        val = np.fft.irfft(acc * rf, nfft)[:, i0:i0 + count]
        mom = np.fft.irfft(acc * r1f, nfft)[:, i0:i0 + count]
        return val, mom


def _fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n (a fast length for pocketfft)."""
    from scipy.fft import next_fast_len

    return int(next_fast_len(int(n), real=True))


@dataclass
class AnalyticResolution:
    """R = (1 - eta) G(sigma) + eta L(a), centred at ``center``; arrays per group (meV)."""

    sigma: np.ndarray
    eta: np.ndarray
    a: np.ndarray
    center: np.ndarray
    Q: np.ndarray | None = None
    source: str | None = None
    match: str = "q"
    tolerance: float | None = None

    def prepare(self, E: np.ndarray, Q: np.ndarray) -> PreparedAnalytic:
        gmap, notes = match_groups(np.size(self.sigma), self.Q, np.asarray(Q, float), self.match,
                                   self.tolerance, self.source)
        pick = lambda v: np.asarray(v, dtype=float).reshape(-1)[gmap]  # noqa: E731
        return PreparedAnalytic(np.asarray(E, float), pick(self.sigma), pick(self.eta), pick(self.a),
                                pick(self.center), {}, notes)


@dataclass
class PreparedAnalytic:
    """An analytic resolution per group, evaluated with closed-form convolutions."""

    E: np.ndarray
    sigma: np.ndarray
    eta: np.ndarray
    a: np.ndarray
    center: np.ndarray
    problems: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)

    def subset(self, groups) -> PreparedAnalytic:
        g = np.asarray(groups)
        return PreparedAnalytic(self.E, self.sigma[g], self.eta[g], self.a[g], self.center[g], {})

    def delta(self, shift: np.ndarray) -> np.ndarray:
        x = self.E[None, :] - shift[:, None] - self.center[:, None]
        from ..lineshapes import gaussian, lorentzian

        hw = hwhm_from_sigma(self.sigma)[:, None]
        out = (1 - self.eta[:, None]) * gaussian(x, hw)
        with np.errstate(divide="ignore", invalid="ignore"):
            lor = np.where(self.a[:, None] > 0, lorentzian(x, np.where(self.a > 0, self.a, 1.0)[:, None]),
                           0.0)
        return out + self.eta[:, None] * lor

    def line(self, kind, amp, params, shift):
        amp2 = np.atleast_2d(np.asarray(amp, dtype=float).T).T
        pr = {k: np.broadcast_to(np.atleast_2d(np.asarray(v, dtype=float).T).T, amp2.shape)
              for k, v in params.items()}
        x = self.E[None, :] - shift[:, None] - self.center[:, None]
        s, eta, a = self.sigma[:, None], self.eta[:, None], self.a[:, None]
        val = np.zeros((amp2.shape[0], self.E.size))
        mom = np.zeros_like(val)
        for k in range(amp2.shape[1]):
            pk = {n: v[:, k, None] for n, v in pr.items()}
            A = amp2[:, k, None]
            if kind == "gaussian":
                c0 = pk.get("center", 0.0)
                val += A * gaussian_conv_analytic(x, pk["hwhm"], c0, s, eta, a)
                mom += A * gaussian_conv_analytic(x, pk["hwhm"], c0, s, eta, a, moment=True)
                continue
            for c, p in poles(kind, pk):
                val += A * pole_conv_analytic(x, c, p, s, eta, a)
                mom += A * pole_conv_analytic(x, c, p, s, eta, a, moment=True)
        # the moment is about the resolution centre; shift it to absolute energy u
        return val, mom + self.center[:, None] * val


def fit_resolution(da: sc.DataArray, shape: str = "pseudo-voigt", source: str | None = None,
                   match: str = "q", tolerance: float | None = None) -> AnalyticResolution:
    """Fit a Gaussian or pseudo-Voigt (one HWHM, mixing eta) to each resolution spectrum.

    Least squares on the area-normalised spectrum, weighted by its errors where given.
    Returns an :class:`AnalyticResolution`; sigma = HWHM / sqrt(2 ln 2), a = HWHM.
    """
    if shape not in ("gaussian", "pseudo-voigt"):
        raise InputError("resolution shape must be 'gaussian' or 'pseudo-voigt'", field="shape",
                         value=shape)
    q, e, v = resolution_arrays(da, source)
    err = None
    if da.variances is not None:
        order = [*[d for d in da.dims if d != "E"], "E"]
        err = np.atleast_2d(np.sqrt(np.asarray(da.transpose(order).variances)))
    out = {"hw": [], "eta": [], "c": []}
    for g in range(v.shape[0]):
        r = v[g]
        area = np.trapezoid(r, e)
        if not (np.all(np.isfinite(r)) and area > 0):
            raise InputError("resolution spectrum is not finite with positive area", file=source,
                             field=f"group {g}", value=area)
        y = r / area
        w = 1.0 / np.where(err[g] > 0, err[g] / area, np.inf) if err is not None else np.ones_like(y)
        c0 = float(e[np.argmax(y)])
        hw0 = max(0.5 * np.trapezoid(y > 0.5 * y.max(), e), np.min(np.diff(e)))

        def resid(p, y=y, w=w):
            eta = p[3] if shape == "pseudo-voigt" else 0.0
            return (p[0] * pseudo_voigt(e, p[1], eta, p[2]) - y) * w

        x0 = [1.0, hw0, c0] + ([0.2] if shape == "pseudo-voigt" else [])
        lo = [0.0, 1e-6 * hw0, e[0]] + ([0.0] if shape == "pseudo-voigt" else [])
        hi = [np.inf, 10 * (e[-1] - e[0]), e[-1]] + ([1.0] if shape == "pseudo-voigt" else [])
        sol = optimize.least_squares(resid, x0, bounds=(lo, hi))
        out["hw"].append(sol.x[1])
        out["c"].append(sol.x[2])
        out["eta"].append(sol.x[3] if shape == "pseudo-voigt" else 0.0)
    hw = np.array(out["hw"])
    return AnalyticResolution(sigma=hw / (FWHM_PER_SIGMA / 2), eta=np.array(out["eta"]), a=hw,
                              center=np.array(out["c"]), Q=q, source=source, match=match, tolerance=tolerance)
