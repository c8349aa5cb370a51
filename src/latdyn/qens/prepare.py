r"""Preparing measured QENS data for a fit: Q groups, ranges, container and solvent subtraction.

* :func:`as_q_groups` gives every spectrum set the layout the fits use, dims ('Q', 'E'): a
  ('spectrum', 'E') array whose groups are only numbered (the TOFTOF INX file) gets the |Q|
  values the user supplies; a single spectrum ('E',) becomes one group.
* :func:`crop` keeps the Q groups and energy points inside given ranges (bin-edge coordinates
  are cut consistently); masks travel with the data.
* :func:`subtract` removes a container and/or solvent measurement,

      S = (S_sample - a S_empty) - f (S_solvent - a S_empty),

  with the variances added (sigma^2 = sigma_s^2 + a^2 sigma_e^2 + ... ) and the masks of every
  input combined; a background on another energy grid is linearly interpolated onto the
  sample grid (its variance interpolated with the squared weights).  ``a`` is the container
  scale (transmission), ``f`` the solvent volume fraction seen by the beam.
* :func:`check_resolution_narrower` refuses a resolution wider than the sample (the files
  given the wrong way round).

Units: E in meV, Q in 1/A.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipp as sc

from ..errors import InputError

__all__ = ["as_q_groups", "crop", "subtract", "on_grid_of", "energy_points", "combined_mask",
           "central_width", "check_resolution_narrower"]


def energy_points(da: sc.DataArray) -> np.ndarray:
    """Energy transfer at the points (bin centres for histograms), meV."""
    e = np.asarray(sc.to_unit(da.coords["E"], "meV").values, dtype=float)
    return 0.5 * (e[1:] + e[:-1]) if da.coords.is_edges("E") else e


def combined_mask(da: sc.DataArray) -> np.ndarray:
    """All masks of ``da`` OR-ed, broadcast to its shape."""
    out = np.zeros(da.shape, dtype=bool)
    for m in da.masks.values():
        out |= np.asarray(m.broadcast(sizes=da.sizes).values, dtype=bool)
    return out


def as_q_groups(da: sc.DataArray, q: Sequence[float] | None = None, source: str | None = None,
                allow_missing_q: bool = False) -> sc.DataArray:
    """The data with dims ('Q', 'E') and a Q coordinate in 1/A.

    ``q``: |Q| of each group, required when the groups carry no |Q| (dim 'spectrum' or a
    single spectrum without Q); when given for data that has a Q coordinate it replaces it.
    ``allow_missing_q``: groups without |Q| get NaN (a one-spectrum resolution serves every
    group whatever its |Q|).
    """
    if not isinstance(da, sc.DataArray) or "E" not in da.dims or da.ndim > 2:
        raise InputError("QENS data must have an energy dimension 'E' and at most one group "
                         "dimension", file=source, field="dims", value=getattr(da, "dims", None))
    if da.ndim == 1:
        da = sc.DataArray(da.data.broadcast(dims=["Q", "E"], shape=[1, da.sizes["E"]]).copy(),
                          coords={k: v for k, v in da.coords.items() if "E" in v.dims},
                          masks={k: v.broadcast(dims=["Q", "E"], shape=[1, da.sizes["E"]]).copy()
                                 for k, v in da.masks.items()}, name=da.name)
        if q is None:
            q = [np.nan]
    other = [d for d in da.dims if d != "E"][0]
    da = da.transpose([other, "E"]).copy()
    if other != "Q":
        da = da.rename_dims({other: "Q"})
        if other in da.coords:
            da.coords[f"group_{other}"] = da.coords.pop(other)
    n = da.sizes["Q"]
    if q is not None:
        qv = np.asarray(q, dtype=float).ravel()
        if qv.size != n:
            raise InputError(f"{qv.size} Q values given for {n} groups", file=source, field="q",
                             value=qv.tolist())
        if np.any(qv[np.isfinite(qv)] <= 0):
            raise InputError("Q values must be positive (1/angstrom)", file=source, field="q",
                             value=qv.tolist())
        da.coords["Q"] = sc.array(dims=["Q"], values=qv, unit="1/angstrom")
    elif "Q" not in da.coords and allow_missing_q:
        da.coords["Q"] = sc.array(dims=["Q"], values=np.full(n, np.nan), unit="1/angstrom")
    elif "Q" not in da.coords:
        raise InputError(f"the {n} groups carry no |Q| (dimension '{other}'): give their Q "
                         "values (--q or q=[...])", file=source, field="Q", value=other)
    if da.coords.is_edges("Q"):
        qe = da.coords["Q"].values
        da.coords["Q"] = sc.array(dims=["Q"], values=0.5 * (qe[1:] + qe[:-1]), unit=da.coords["Q"].unit)
    return da


def crop(da: sc.DataArray, q_range: Sequence[float] | None = None,
         e_range: Sequence[float] | None = None, source: str | None = None) -> sc.DataArray:
    """Q groups with q_range[0] <= Q <= q_range[1] and energies inside e_range (meV).

    For histogram data a bin is kept when its centre lies inside the range."""
    out = da
    if e_range is not None:
        lo, hi = _range(e_range, "e_range", source)
        e = energy_points(out)
        idx = np.where((e >= lo) & (e <= hi))[0]
        if idx.size < 3:
            raise InputError(f"fewer than 3 energy points inside {lo:g} to {hi:g} meV (data: "
                             f"{e.min():.4g} to {e.max():.4g} meV)", file=source, field="e_range",
                             value=[lo, hi])
        out = out["E", int(idx[0]):int(idx[-1]) + 1]
    if q_range is not None:
        lo, hi = _range(q_range, "q_range", source)
        q = np.asarray(out.coords["Q"].values, dtype=float)
        keep = np.where((q >= lo) & (q <= hi))[0]
        if keep.size == 0:
            raise InputError(f"no Q group inside {lo:g} to {hi:g} 1/A (groups: {np.round(q, 4).tolist()})",
                             file=source, field="q_range", value=[lo, hi])
        out = out["Q", sc.array(dims=["Q"], values=keep)] if not _contiguous(keep) else \
            out["Q", int(keep[0]):int(keep[-1]) + 1]
    return out.copy()


def _contiguous(idx: np.ndarray) -> bool:
    return bool(np.all(np.diff(idx) == 1))


def _range(r, name, source) -> tuple[float, float]:
    vals = [float(x) for x in r]
    if len(vals) != 2 or not all(np.isfinite(vals)) or vals[0] >= vals[1]:
        raise InputError(f"{name} must be two increasing finite numbers", file=source, field=name,
                         value=list(r))
    return vals[0], vals[1]


def _on_grid(bg: sc.DataArray, target: sc.DataArray, name: str, source: str | None):
    """(values, variances, mask) of ``bg`` on the (Q, E) grid of ``target``."""
    if bg.sizes["Q"] != target.sizes["Q"]:
        raise InputError(f"{name} has {bg.sizes['Q']} groups, the sample {target.sizes['Q']}",
                         file=source, field=name, value=bg.sizes["Q"])
    qs, qb = target.coords["Q"].values, bg.coords["Q"].values
    if np.all(np.isfinite(qs)) and np.all(np.isfinite(qb)) and not np.allclose(qs, qb, rtol=1e-3, atol=1e-4):
        raise InputError(f"{name} Q groups differ from the sample's", file=source, field="Q",
                         value=np.round(qb, 4).tolist())
    es, eb = energy_points(target), energy_points(bg)
    v = np.asarray(bg.values, float)
    var = np.zeros_like(v) if bg.variances is None else np.asarray(bg.variances, float)
    m = combined_mask(bg)
    if es.size == eb.size and np.allclose(es, eb, rtol=0, atol=1e-9 * max(1.0, np.abs(es).max())):
        return v, var, m
    if es[0] < eb[0] - 1e-12 or es[-1] > eb[-1] + 1e-12:
        raise InputError(f"{name} ({eb[0]:.4g} to {eb[-1]:.4g} meV) does not cover the sample energies "
                         f"({es[0]:.4g} to {es[-1]:.4g} meV)", file=source, field="E", value=name)
    j = np.clip(np.searchsorted(eb, es) - 1, 0, eb.size - 2)
    f = (es - eb[j]) / (eb[j + 1] - eb[j])
    vi = (1 - f) * v[:, j] + f * v[:, j + 1]
    vari = (1 - f) ** 2 * var[:, j] + f**2 * var[:, j + 1]
    mi = m[:, j] | m[:, j + 1]
    return vi, vari, mi


def on_grid_of(other: sc.DataArray, target: sc.DataArray, name: str = "other",
               source: str | None = None) -> sc.DataArray:
    """``other`` (Q groups x E) interpolated linearly in E onto the (Q, E) grid of ``target``
    (the same Q groups); its masks combine into one mask ``name``."""
    v, var, m = _on_grid(other, target, name, source)
    out = target.copy()
    out.values = v
    if out.variances is not None:
        out.variances = var
    out.masks.clear()
    if m.any():
        out.masks[name] = sc.array(dims=list(out.dims), values=m)
    return out


def subtract(sample: sc.DataArray, empty: sc.DataArray | None = None, empty_scale: float = 1.0,
             solvent: sc.DataArray | None = None, solvent_scale: float = 1.0,
             source: str | None = None) -> sc.DataArray:
    """(sample - a empty) - f (solvent - a empty) on the sample grid, dims ('Q', 'E').

    a = ``empty_scale``, f = ``solvent_scale``.  Variances add; masks combine into one mask
    ``subtraction`` (points masked in any input)."""
    out = sample.copy()
    vals = np.asarray(out.values, float).copy()
    var = np.zeros_like(vals) if out.variances is None else np.asarray(out.variances, float).copy()
    mask = np.zeros(vals.shape, bool)
    for arr, coeff, name in ((empty, -empty_scale * (1.0 - (solvent_scale if solvent is not None else 0.0)),
                              "empty"), (solvent, -solvent_scale, "solvent")):
        if arr is None:
            continue
        if not np.isfinite(coeff):
            raise InputError("subtraction scale must be finite", file=source, field=f"{name}_scale",
                             value=coeff)
        v, vv, m = _on_grid(arr, out, name, source)
        vals += coeff * v
        var += coeff**2 * vv
        mask |= m
    out.values = vals
    if out.variances is not None:
        out.variances = var
    if mask.any():
        out.masks["subtraction"] = sc.array(dims=list(out.dims), values=mask)
        out.values = np.where(combined_mask(out), 0.0, out.values)
        if out.variances is not None:
            out.variances = np.where(combined_mask(out), 0.0, out.variances)
    return out


def central_width(da: sc.DataArray) -> float | None:
    """Width (meV) holding the central half of the spectrum's area: the interquartile range
    E_75 - E_25 of the Q-summed spectrum (masked points left out) above its background (its
    5th percentile), from the cumulative trapezoid area.  Unlike the FWHM it sees the wings
    of a quasi-elastic line under an elastic peak.  None when there is no area above the
    background."""
    e = energy_points(da)
    values = np.where(combined_mask(da), 0.0, np.asarray(da.values, dtype=float))
    y = values.reshape(-1, e.size).sum(axis=0) if values.ndim > 1 else values
    if y.size < 3 or not np.all(np.isfinite(y)):
        return None
    y = np.clip(y - np.percentile(y, 5), 0.0, None)
    area = np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(e))])
    if not area[-1] > 0:
        return None
    q25, q75 = np.interp([0.25 * area[-1], 0.75 * area[-1]], area, e)
    return float(q75 - q25)


#: a resolution wider than the sample spectrum by this factor means the files were swapped
#: (the sample is the resolution convolved with a positive S(Q,E), never narrower)
SWAP_RATIO = 1.5


def check_resolution_narrower(sample: sc.DataArray, resolution: sc.DataArray,
                              source: str | None = None, resolution_source: str | None = None) -> None:
    """InputError when the resolution is wider than the sample by more than
    :data:`SWAP_RATIO` (:func:`central_width` of the Q-summed spectra): a measured spectrum is
    the resolution convolved with S(Q,E) >= 0 and cannot be narrower, so the two files were
    most likely given the wrong way round."""
    w_sample, w_res = central_width(sample), central_width(resolution)
    if w_sample is None or w_res is None or not w_res > SWAP_RATIO * w_sample:
        return
    raise InputError(
        f"the resolution is wider than the sample (central width {w_res:.3g} meV against "
        f"{w_sample:.3g} meV); a sample spectrum is never narrower than its resolution: are the "
        "data and --resolution files swapped?", file=resolution_source, field="resolution",
        value=f"sample {source}" if source else None)
