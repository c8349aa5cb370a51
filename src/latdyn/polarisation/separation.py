r"""Separation of coherent, spin-incoherent and magnetic scattering with exact errors.

The measured (background-subtracted) channels I are linear in the separated cross sections
theta: I = L A theta, with A the channel model of the method (:mod:`latdyn.polarisation
.methods`) and L the flipping-ratio mixing of each direction (:func:`latdyn.polarisation
.flipping.leakage`; the identity for ideal polarisation).  Two estimators, both linear in the
raw counts:

``combination`` (default)
    theta = C L^-1 I with the published combination C of the method (C A = 1): the
    textbook numbers, independent of the data's own errors.
``weighted``
    generalised least squares on the raw channels, theta = (B^T V^-1 B)^-1 B^T V^-1 I with
    B = L A and V the diagonal of the channels' variances: uses every redundant channel (six
    channels for three unknowns in ``xyz``) and gives chi^2 per point as a consistency check.
    Needs alpha for the in-plane channels (a coordinate 'alpha' in degrees, or ``alpha=``).

Error propagation: with theta = W I at each point (W the estimator's weights),

.. math::  \mathrm{cov}(\theta) = W\,\mathrm{diag}(\mathrm{var}\,I)\,W^T
           + \sum_d J_d J_d^T\,\mathrm{var}\,F_d,\qquad J_d = \partial\theta/\partial F_d ,

the first term from the counts, the second from the flipping ratio F_d of each direction
(a ratio shared by several points correlates them; :meth:`Separation.integrate` keeps that).
A point where a channel is missing (masked or not finite) masks the parts that depend on it:
for ``combination`` every part with a non-zero weight on that channel; for ``weighted`` the
point is solved from the remaining channels and masked only where they do not determine it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import scipp as sc

from ..errors import InputError
from .channels import channel_arrays, check_channels, parse_channel
from .flipping import correction, leakage, ratio_arrays, subtract_background
from .methods import Method, get_method

__all__ = ["Separation", "separate", "ParameterTerm", "incoherent_normalisation"]

_ESTIMATORS = ("combination", "weighted")


@dataclass
class ParameterTerm:
    """An uncertain parameter shared by points (a flipping ratio, a normalisation): the
    derivative of the parts (grid + (n_parts,)), its variance (grid) and the grid dims along
    which it varies (constant along the others)."""

    name: str
    jacobian: np.ndarray
    variance: np.ndarray
    dims: tuple[str, ...]


@dataclass
class Separation:
    """Separated parts of a set of channels (:func:`separate`).

    ``parts``: DataGroup name -> DataArray (coherent, spin_incoherent, magnetic, ...) with
    variances and a mask 'not_separable' where a needed channel is missing; ``channels``: the
    channels used; ``method``, ``estimator``; ``flipping``: direction -> flipping ratio used
    (None for ideal polarisation); ``count_covariance`` (grid + (n, n)) and ``terms``
    (:class:`ParameterTerm`) give the full covariance (:meth:`covariance`); ``chi2`` and
    ``dof`` per point for the weighted estimator.  Units are those of the channels.
    """

    method: Method
    estimator: str
    parts: sc.DataGroup
    channels: sc.DataGroup
    count_covariance: np.ndarray
    terms: list[ParameterTerm] = field(default_factory=list)
    flipping: dict | None = None
    chi2: np.ndarray | None = None
    dof: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    source: str | None = None

    @property
    def names(self) -> list[str]:
        return list(self.parts.keys())

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(next(iter(self.parts.values())).dims)

    def __getitem__(self, name: str) -> sc.DataArray:
        if name not in self.parts:
            raise InputError(f"no separated part '{name}'; there are {self.names}", field="part",
                             value=name)
        return self.parts[name]

    def covariance(self) -> np.ndarray:
        """Covariance of the parts at every point, grid + (n_parts, n_parts)."""
        cov = np.array(self.count_covariance, dtype=float, copy=True)
        for t in self.terms:
            cov += t.jacobian[..., :, None] * t.jacobian[..., None, :] * t.variance[..., None, None]
        return cov

    def _mask(self) -> np.ndarray:
        first = next(iter(self.parts.values()))
        out = np.zeros((len(self.parts), *first.shape), bool)
        for k, da in enumerate(self.parts.values()):
            if "not_separable" in da.masks:
                out[k] = np.asarray(da.masks["not_separable"].values)
        return out

    def integrate(self, dim: str, widths: bool = True) -> Separation:
        """The parts integrated over ``dim`` (sum of value x bin width; widths from bin edges
        or, for point coordinates, from the spacing; ``widths=False``: the plain sum), with
        exact errors: count noise adds in quadrature, a parameter constant along ``dim`` adds
        coherently.  Masked points are left out (an integral is masked only where every point
        is)."""
        first = next(iter(self.parts.values()))
        if dim not in first.dims:
            raise InputError(f"cannot integrate over '{dim}': the parts have dims {first.dims}",
                             field="dim", value=dim)
        ax = first.dims.index(dim)
        w = _widths(first, dim) if widths else np.ones(first.sizes[dim])
        shape = [1] * first.ndim
        shape[ax] = w.size
        wgrid = w.reshape(shape)
        mask = self._mask()
        keep = ~mask.any(axis=0)   # a point masked in any part leaves every part's integral
        wk = np.where(keep, wgrid, 0.0)
        vals = {}
        for name, da in self.parts.items():
            vals[name] = np.sum(np.asarray(da.values) * wk, axis=ax)
        cc = np.sum(self.count_covariance * (wk**2)[..., None, None], axis=ax)
        terms = []
        for t in self.terms:
            J = t.jacobian * wk[..., None]
            if dim in t.dims:
                cc = cc + np.sum(J[..., :, None] * J[..., None, :] * t.variance[..., None, None], axis=ax)
            else:
                terms.append(ParameterTerm(t.name, np.sum(J, axis=ax), np.take(t.variance, 0, axis=ax),
                                           tuple(d for d in t.dims if d != dim)))
        all_masked = ~np.any(keep, axis=ax)
        dims = [d for d in first.dims if d != dim]
        coords = {d: first.coords[d] for d in dims if d in first.coords}
        unit = first.unit * first.coords[dim].unit if (widths and dim in first.coords) else first.unit
        parts = {}
        cov = cc + sum((t.jacobian[..., :, None] * t.jacobian[..., None, :] * t.variance[..., None, None]
                        for t in terms), np.zeros_like(cc))
        for k, name in enumerate(self.parts):
            var = np.diagonal(cov, axis1=-2, axis2=-1)[..., k]
            da = sc.DataArray(sc.array(dims=dims, values=vals[name], variances=np.clip(var, 0, None),
                                       unit=unit), coords=coords, name=name)
            if np.any(all_masked):
                da.masks["not_separable"] = sc.array(dims=dims, values=all_masked)
            parts[name] = da
        ch = sc.DataGroup({k: _integrate_da(v, dim, w, widths) for k, v in self.channels.items()})
        what = "integrated over" if widths else "summed over"
        return replace(self, parts=sc.DataGroup(parts), channels=ch, count_covariance=cc, terms=terms,
                       chi2=None, dof=None, notes=self.notes + [f"{what} {dim}"])

    def normalise(self, factor: sc.DataArray, name: str = "normalisation") -> Separation:
        """Every part divided by ``factor`` (a DataArray with variances whose dims are a subset
        of the grid's, e.g. a detector efficiency per angle from vanadium); its error enters as
        a parameter term J = -theta / f^2."""
        first = next(iter(self.parts.values()))
        f = factor if isinstance(factor, sc.DataArray) else sc.DataArray(factor)
        extra = [d for d in f.dims if d not in first.dims]
        if extra:
            raise InputError(f"the normalisation has dims {f.dims} the data lack", field=name, value=extra)
        order = [d for d in first.dims if d in f.dims]
        tr = f.transpose(order) if order else f
        expand = tuple(slice(None) if d in order else None for d in first.dims)
        fv = np.broadcast_to(np.asarray(tr.values, float)[expand], first.shape)
        fvar = np.broadcast_to(np.asarray(tr.variances if tr.variances is not None else np.zeros(tr.shape),
                                          float)[expand], first.shape)
        if np.any(~np.isfinite(fv)) or np.any(fv == 0):
            raise InputError("the normalisation must be finite and non-zero", field=name)
        theta = np.stack([np.asarray(da.values) for da in self.parts.values()], axis=-1)
        cc = self.count_covariance / (fv**2)[..., None, None]
        terms = [replace(t, jacobian=t.jacobian / fv[..., None]) for t in self.terms]
        terms.append(ParameterTerm(name, -theta / (fv**2)[..., None], fvar, tuple(order)))
        unit = first.unit / tr.unit
        out = replace(self, count_covariance=cc, terms=terms,
                      notes=self.notes + [f"divided by {name}"])
        cov = out.covariance()
        parts = {}
        for k, (n, da) in enumerate(self.parts.items()):
            d2 = da.copy()
            d2.values = np.asarray(da.values) / fv
            d2.variances = np.clip(np.diagonal(cov, axis1=-2, axis2=-1)[..., k], 0, None)
            d2.unit = unit
            parts[n] = d2
        out.parts = sc.DataGroup(parts)
        return out

    # --- output --------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """One row per point (per point of the first dim, integrated over E, when the grid has
        an energy axis): the coordinate, every part and its standard error."""
        from .output import separation_rows

        return separation_rows(self)

    def to_json(self) -> dict:
        """Method, estimator, flipping ratios, the parts summed over the whole grid (value,
        error, unit), masked points, chi^2 (weighted estimator) and notes."""
        from .output import separation_json

        return separation_json(self)

    def write(self, folder, command: str | None = None) -> list:
        """parts.csv, separation.h5 (latdyn results file with parts and channels), report.html
        and figures/ into ``folder`` (replaced whole; layouts in docs/polarisation.md)."""
        from .output import write_separation

        return write_separation(self, folder, command)

    def report(self, command: str | None = None):
        """The HTML report (:class:`latdyn.report.Report`)."""
        from .output import separation_report

        return separation_report(self, command)


def _widths(da: sc.DataArray, dim: str) -> np.ndarray:
    if dim not in da.coords:
        return np.ones(da.sizes[dim])
    c = np.asarray(da.coords[dim].values, dtype=float)
    if da.coords.is_edges(dim):
        return np.abs(np.diff(c))
    return np.abs(np.gradient(c)) if c.size > 1 else np.ones(1)


def _integrate_da(da: sc.DataArray, dim: str, w: np.ndarray, widths: bool) -> sc.DataArray:
    unit = da.coords[dim].unit if (widths and dim in da.coords) else ""
    weights = sc.array(dims=[dim], values=w, unit=unit)
    return (da * weights).sum(dim)


def _alpha(ch: sc.DataGroup, alpha, method: Method, estimator: str) -> np.ndarray:
    first = next(iter(ch.values()))
    need = method.needs_alpha or (estimator == "weighted" and any(
        d in ("x", "y", "x+y", "x-y") for d in method.directions))
    if alpha is None and "alpha" in first.coords:
        alpha = first.coords["alpha"]
    if alpha is None:
        if need:
            raise InputError(f"the {method.name} method" + (" with the weighted estimator"
                             if not method.needs_alpha else "") + " needs the angle alpha from x "
                             "to Q (a coordinate 'alpha' in degrees, or alpha=)", field="alpha")
        return np.zeros(first.shape)
    if isinstance(alpha, sc.Variable | sc.DataArray):
        var = alpha if isinstance(alpha, sc.Variable) else alpha.data
        var = sc.to_unit(var, "deg") if var.unit != sc.units.dimensionless else var
        order = [d for d in first.dims if d in var.dims]
        if set(var.dims) - set(first.dims):
            raise InputError("alpha has dims the channels lack", field="alpha", value=var.dims)
        tr = var.transpose(order) if order else var
        expand = tuple(slice(None) if d in order else None for d in first.dims)
        return np.broadcast_to(np.asarray(tr.values, float)[expand], first.shape)
    a = np.asarray(alpha, dtype=float)
    try:
        return np.broadcast_to(a, first.shape)
    except ValueError:
        raise InputError(f"alpha of shape {a.shape} does not fit channels of shape {first.shape}",
                         field="alpha", value=a.shape) from None


def _choose_method(method, direction, ch) -> Method:
    m = get_method(method, direction)
    if m.name == "uniaxial" and direction is None and m.channels[0] not in ch:
        dirs = sorted({parse_channel(k).direction for k in ch})
        if len(dirs) == 1:
            m = get_method("uniaxial", dirs[0])
    missing = [k for k in m.channels if k not in ch]
    if missing:
        raise InputError(f"missing channel {missing[0]} for the {m.name} method (have "
                         f"{', '.join(ch.keys())})", field="channel", value=missing[0])
    return m


def separate(channels, method: str = "xyz", *, flipping=None, alpha=None,
             estimator: str = "combination", direction: str | None = None, background=None,
             background_scale: float = 1.0, source: str | None = None) -> Separation:
    """Separate coherent, spin-incoherent (and magnetic) scattering (module docstring).

    channels: DataGroup or dict of DataArrays keyed by channel name (:func:`latdyn
        .polarisation.channel_group`), raw counts or cross sections with variances.
    method: 'uniaxial' (``direction``, default z or the only one measured), 'xyz',
        'xyz-crystal' or 'ten-point' (:mod:`latdyn.polarisation.methods`).
    flipping: flipping ratio per direction (a DataGroup from :func:`latdyn.polarisation
        .flipping_ratios`, a dict direction -> DataArray or number, or one number for all);
        None for ideal polarisation.
    alpha: angle from x to Q (degrees; scalar, array on the grid or a Variable), else the
        channels' coordinate 'alpha'.
    background: channels subtracted first (times ``background_scale``).
    """
    if estimator not in _ESTIMATORS:
        raise InputError(f"estimator must be one of {_ESTIMATORS}", field="estimator", value=estimator)
    ch = check_channels(channels, source)
    if background is not None:
        ch = subtract_background(ch, background, background_scale)
    m = _choose_method(method, direction, ch)
    notes = []
    extra = [k for k in ch if k not in m.channels]
    if extra:
        notes.append(f"channels not used by the {m.name} method: {', '.join(extra)}")
    ch = sc.DataGroup({k: ch[k] for k in m.channels})
    first = next(iter(ch.values()))
    shape = first.shape
    P = int(np.prod(shape)) if shape else 1
    alpha_g = _alpha(ch, alpha, m, estimator).reshape(P)
    I = np.empty((P, len(m.channels)))
    V = np.empty_like(I)
    miss = np.zeros(I.shape, bool)
    for j, k in enumerate(m.channels):
        v, var, mi = channel_arrays(ch[k]) if first.ndim else _scalar_channel(ch[k])
        I[:, j], V[:, j], miss[:, j] = np.ravel(v), np.ravel(var), np.ravel(mi)
    ratios, F, varF, fdims = _flipping(flipping, m, first)
    for i, d in enumerate(m.directions):
        miss[:, 2 * i:2 * i + 2] |= F[d][2][:, None]
    I = np.where(miss, 0.0, I)
    V = np.where(miss | ~np.isfinite(V), 0.0, V)
    Fv = {d: F[d][0] for d in m.directions}
    D = m.derived()
    if estimator == "combination":
        C, singular = m.combination(alpha_g)
        W = np.einsum("kb,pbc->pkc", D, C) @ _block(m, Fv, correction)
        theta = np.einsum("pkc,pc->pk", W, I)
        dead = np.einsum("pkc,pc->pk", np.abs(W) > 1e-12 * np.abs(W).max(initial=1.0), miss) > 0
        dead |= singular[:, None]
        jac = {d: np.einsum("pkc,pc->pk", np.einsum("kb,pbc->pkc", D, C) @ _dblock(m, Fv, d), I)
               for d in m.directions if varF[d] is not None}
        chi2 = dof = None
    else:
        W, theta, dead, chi2, dof, jac, floor = _weighted(m, D, alpha_g, Fv, I, V, miss, varF)
        if floor:
            notes.append(f"{floor} channel points with zero variance weighted with their channel's "
                         "smallest positive variance")
    cc = np.einsum("pkc,pc,pjc->pkj", W, V, W)
    theta = np.where(dead, 0.0, theta)
    cc = np.where((dead[:, :, None] | dead[:, None, :]), 0.0, cc)
    terms = []
    for d, J in jac.items():
        J = np.where(dead, 0.0, J)
        terms.append(ParameterTerm(f"flipping ratio {d}", J.reshape(*shape, -1),
                                   np.where(F[d][2], 0.0, varF[d]).reshape(shape), fdims[d]))
    cc = cc.reshape(*shape, len(m.components), len(m.components))
    sep = Separation(m, estimator, sc.DataGroup({}), ch, cc, terms, ratios,
                     None if chi2 is None else chi2.reshape(shape),
                     None if dof is None else dof.reshape(shape), notes, source)
    cov = sep.covariance()
    coords = {d: first.coords[d] for d in first.coords}
    parts = {}
    for k, name in enumerate(m.components):
        var = np.clip(np.diagonal(cov, axis1=-2, axis2=-1)[..., k], 0.0, None)
        da = sc.DataArray(sc.array(dims=list(first.dims), values=theta[:, k].reshape(shape),
                                   variances=var, unit=first.unit), coords=coords, name=name)
        if np.any(dead[:, k]):
            da.masks["not_separable"] = sc.array(dims=list(first.dims), values=dead[:, k].reshape(shape))
        parts[name] = da
    sep.parts = sc.DataGroup(parts)
    if ratios is None:
        sep.notes.append("ideal polarisation assumed (no flipping-ratio correction)")
    return sep


def _scalar_channel(da):
    v = np.asarray([float(da.value)])
    var = np.asarray([float(da.variance)])
    return v, var, ~(np.isfinite(v) & np.isfinite(var))


def _flipping(flipping, m: Method, like: sc.DataArray):
    """(ratios used, {d: (F, varF, masked) flat}, {d: varF flat or None}, {d: dims})."""
    P = int(np.prod(like.shape)) if like.shape else 1
    out, var, dims = {}, {}, {}
    if flipping is None:
        for d in m.directions:
            out[d] = (None, None, np.zeros(P, bool))
            var[d], dims[d] = None, ()
        return None, out, var, dims
    if isinstance(flipping, int | float):
        flipping = {d: float(flipping) for d in m.directions}
    used = {}
    for d in m.directions:
        F, vF, fm, fd = ratio_arrays(flipping, d, like) if like.ndim else _scalar_ratio(flipping, d)
        out[d] = (np.ravel(F).astype(float), np.ravel(vF), np.ravel(fm))
        var[d] = np.ravel(vF) if np.any(np.ravel(vF) > 0) else None
        dims[d] = fd
        used[d] = flipping[d]
    return used, out, var, dims


def _scalar_ratio(flipping, d):
    r = flipping[d] if d in flipping else None
    if r is None:
        raise InputError(f"no flipping ratio for direction {d}", field="flipping_ratio")
    if isinstance(r, sc.DataArray | sc.Variable):
        return (np.asarray([float(r.value)]), np.asarray([float(r.variance or 0.0)]),
                np.zeros(1, bool), ())
    return np.asarray([float(r)]), np.zeros(1), np.zeros(1, bool), ()


def _block(m: Method, F: dict, fn) -> np.ndarray:
    """Block-diagonal (P, nc, nc) of fn(F_d) per direction (identity where F is None)."""
    nc = len(m.channels)
    P = next((f.size for f in F.values() if f is not None), 1)
    out = np.zeros((P, nc, nc))
    for i, d in enumerate(m.directions):
        s = slice(2 * i, 2 * i + 2)
        out[:, s, s] = np.eye(2) if F[d] is None else fn(F[d])
    return out


def _dblock(m: Method, F: dict, direction: str) -> np.ndarray:
    """d(correction)/dF_direction (P, nc, nc): [[-1, 1], [1, -1]] / (F - 1)^2 in its block."""
    nc = len(m.channels)
    f = F[direction]
    out = np.zeros((f.size, nc, nc))
    i = m.directions.index(direction)
    s = slice(2 * i, 2 * i + 2)
    out[:, s, s] = np.array([[-1.0, 1.0], [1.0, -1.0]]) / ((f - 1.0) ** 2)[:, None, None]
    return out


def _weighted(m: Method, D, alpha, F, I, V, miss, varF):
    A = m.design(alpha)
    floor = 0
    Vw = V.copy()
    for j in range(V.shape[1]):
        bad = ~miss[:, j] & ~(V[:, j] > 0)
        if np.any(bad):
            pos = V[~miss[:, j] & (V[:, j] > 0), j]
            Vw[bad, j] = pos.min() if pos.size else 1.0
            floor += int(bad.sum())
    w = np.where(miss, 0.0, 1.0 / np.where(Vw > 0, Vw, 1.0))

    def solve(Fd):
        B = _block(m, Fd, leakage) @ A
        G = np.einsum("pcb,pc,pcj->pbj", B, w, B)
        cond = np.linalg.cond(G)
        sing = ~np.isfinite(cond) | (cond > 1e12)
        Gs = np.where(sing[:, None, None], np.eye(G.shape[-1]), G)
        Wb = np.linalg.solve(Gs, np.swapaxes(B, 1, 2) * w[:, None, :])
        Wb[sing] = 0.0
        return B, Wb, sing

    B, Wb, sing = solve(F)
    W = np.einsum("kb,pbc->pkc", D, Wb)
    theta = np.einsum("pkc,pc->pk", W, I)
    tb = np.einsum("pbc,pc->pb", Wb, I)
    r = I - np.einsum("pcb,pb->pc", B, tb)
    chi2 = np.sum(w * r * r, axis=1)
    dof = (~miss).sum(axis=1) - len(m.base)
    jac = {}
    for d, vf in varF.items():
        if vf is None:
            continue
        h = 1e-6 * np.maximum(F[d], 1.0)
        Fh = dict(F)
        Fh[d] = F[d] + h
        _, Wh, _ = solve(Fh)
        jac[d] = (np.einsum("kb,pbc,pc->pk", D, Wh, I) - theta) / h[:, None]
    dead = np.broadcast_to(sing[:, None], theta.shape).copy()
    return W, theta, dead, np.where(sing, np.nan, chi2), dof, jac, floor


def incoherent_normalisation(reference: Separation, sigma_si: float | None = None,
                             dim: str | None = "E") -> sc.DataArray:
    r"""Detector normalisation from the spin-incoherent part of a reference (vanadium-like)
    sample: its spin-incoherent scattering is flat in Q, so what varies from detector to
    detector is their efficiency (Stewart et al. 2009, the D7 vanadium and paramagnetic
    normalisations).

    Returns the factor f (integrated over ``dim`` when the reference has it) to pass to
    :meth:`Separation.normalise`: the reference's spin-incoherent part divided by its mean
    (relative efficiencies, mean 1) or, with ``sigma_si`` (barn per formula unit of the
    reference), by sigma_si / 4 pi, so that a sample divided by f is in barn/sr per formula
    unit of the reference times (reference amount / sample amount).  Its variance is the
    reference's; the mean is treated as exact (it averages many detectors)."""
    if "spin_incoherent" not in reference.parts:
        raise InputError("the reference separation has no spin-incoherent part", field="reference",
                         value=reference.names)
    ref = reference.integrate(dim) if (dim is not None and dim in reference.dims) else reference
    si = ref["spin_incoherent"]
    v = np.asarray(si.values, float)
    keep = np.ones(v.shape, bool)
    if "not_separable" in si.masks:
        keep = ~np.asarray(si.masks["not_separable"].values)
    if not np.any(keep) or np.any(~(v[keep] > 0)):
        raise InputError("the reference's spin-incoherent part must be positive", field="spin_incoherent",
                         value=float(np.min(v[keep])) if np.any(keep) else None)
    scale = float(np.mean(v[keep])) if sigma_si is None else float(sigma_si) / (4.0 * np.pi)
    if not (np.isfinite(scale) and scale > 0):
        raise InputError("sigma_si must be positive (barn)", field="sigma_si", value=sigma_si)
    out = si / sc.scalar(scale, unit=si.unit if sigma_si is None else sc.units.one)
    out.name = "incoherent normalisation"
    return out
