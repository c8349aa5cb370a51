r"""Corrections before the separation: background per channel and the flipping ratio.

Finite polarisation (polariser, flipper and analyser together) mixes the two spin states of
a direction.  With beam polarisation P the measured intensities are

.. math::

    I^{NSF} = \tfrac{1+P}{2}\,\sigma^{NSF} + \tfrac{1-P}{2}\,\sigma^{SF},\qquad
    I^{SF}  = \tfrac{1-P}{2}\,\sigma^{NSF} + \tfrac{1+P}{2}\,\sigma^{SF}

and a non-magnetic coherent scatterer (quartz, amorphous silica: sigma^SF = 0) measures the
flipping ratio F = I^NSF / I^SF = (1 + P)/(1 - P).  Inverting,

.. math::

    \sigma^{NSF} = \frac{F I^{NSF} - I^{SF}}{F - 1},\qquad
    \sigma^{SF} = \frac{F I^{SF} - I^{NSF}}{F - 1}

(Stewart et al., J. Appl. Cryst. 42, 69 (2009), the quartz correction of D7; Mantid's
PolDiffILLReduction with a perfect flipper).  F is measured per direction and per detector
(scattering angle) and, on a time-of-flight instrument, per energy channel; a quartz run
with few counts is summed over the dims given in ``integrate`` first.  The two corrected
channels of a direction are correlated: :func:`latdyn.polarisation.separate` therefore takes
the raw channels and the ratios and propagates both exactly (counts and the error of F).
"""

from __future__ import annotations

import numpy as np
import scipp as sc

from ..errors import InputError
from .channels import Channel, channel_arrays, check_channels, parse_channel

__all__ = ["flipping_ratios", "leakage", "correction", "correct_flipping", "subtract_background",
           "polarisation_from_ratio", "ratio_from_polarisation"]


def polarisation_from_ratio(F):
    """P = (F - 1) / (F + 1)."""
    F = np.asarray(F, dtype=float)
    return (F - 1.0) / (F + 1.0)


def ratio_from_polarisation(P):
    """F = (1 + P) / (1 - P)."""
    P = np.asarray(P, dtype=float)
    return (1.0 + P) / (1.0 - P)


def leakage(F) -> np.ndarray:
    """The 2x2 mixing matrix (..., 2, 2), rows (NSF, SF) measured from (NSF, SF) true:
    [[F, 1], [1, F]] / (F + 1)."""
    F = np.asarray(F, dtype=float)
    out = np.empty(F.shape + (2, 2))
    out[..., 0, 0] = out[..., 1, 1] = F / (F + 1.0)
    out[..., 0, 1] = out[..., 1, 0] = 1.0 / (F + 1.0)
    return out


def correction(F) -> np.ndarray:
    """The inverse of :func:`leakage`: [[F, -1], [-1, F]] / (F - 1) (..., 2, 2)."""
    F = np.asarray(F, dtype=float)
    out = np.empty(F.shape + (2, 2))
    out[..., 0, 0] = out[..., 1, 1] = F / (F - 1.0)
    out[..., 0, 1] = out[..., 1, 0] = -1.0 / (F - 1.0)
    return out


def _grid_of(da: sc.DataArray):
    return {d: da.coords[d] for d in da.dims if d in da.coords}


def flipping_ratios(quartz, integrate: str | list[str] | None = None,
                    background=None, background_scale: float = 1.0) -> sc.DataGroup:
    """Flipping ratio F = NSF/SF per direction from a non-magnetic coherent standard.

    ``quartz``: channels (DataGroup or dict of DataArrays, see :func:`latdyn.polarisation
    .channel_group`) with both spin states of each direction; ``integrate``: dims summed
    before the ratio (e.g. 'E' for one ratio per detector from a TOF quartz run);
    ``background``: channels of the empty instrument subtracted first.  Returns a DataGroup
    direction -> F (dimensionless, variances var F = F^2 (var NSF / NSF^2 + var SF / SF^2));
    points where SF or NSF is masked or not positive are masked ('no_ratio').

    InputError (one line) when a direction misses a spin state or F < 1 anywhere: the NSF
    and SF channels of the standard would then be swapped or the standard is magnetic.
    """
    ch = check_channels(quartz, "quartz")
    if background is not None:
        ch = subtract_background(ch, background, background_scale)
    dims = [integrate] if isinstance(integrate, str) else list(integrate or [])
    out = {}
    for d in sorted({parse_channel(k).direction for k in ch}):
        keys = (Channel(d, False).key, Channel(d, True).key)
        missing = [k for k in keys if k not in ch]
        if missing:
            raise InputError(f"the flipping-ratio standard misses channel {missing[0]} of "
                             f"direction {d}", file="quartz", field="channel", value=missing[0])
        nsf, sf = ch[keys[0]], ch[keys[1]]
        for dim in dims:
            if dim not in nsf.dims:
                raise InputError(f"cannot integrate over '{dim}': the standard has dims {nsf.dims}",
                                 field="integrate", value=dim)
            nsf, sf = nsf.sum(dim), sf.sum(dim)
        vn, varn, mn = channel_arrays(nsf) if nsf.ndim else _scalar_arrays(nsf)
        vs, vars_, ms = channel_arrays(sf) if sf.ndim else _scalar_arrays(sf)
        bad = mn | ms | ~(vs > 0) | ~(vn > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            F = np.where(bad, 1.0, vn / np.where(bad, 1.0, vs))
            varF = np.where(bad, 0.0, F**2 * (varn / np.where(bad, 1.0, vn) ** 2
                                               + vars_ / np.where(bad, 1.0, vs) ** 2))
        low = (~bad) & (F < 1.0)
        if np.any(low):
            i = np.flatnonzero(np.ravel(low))[0]
            where = _point_text(nsf, i)
            raise InputError(f"flipping ratio < 1 (NSF/SF = {np.ravel(F)[i]:.3g}{where}) in direction "
                             f"{d}: the NSF and SF channels of the standard look swapped, or it is "
                             "not a non-magnetic coherent scatterer", field="flipping_ratio",
                             value=float(np.ravel(F)[i]))
        da = sc.DataArray(sc.array(dims=list(nsf.dims), values=F, variances=varF, unit=""),
                          coords=_grid_of(nsf))
        if np.any(bad):
            da.masks["no_ratio"] = sc.array(dims=list(nsf.dims), values=np.asarray(bad))
        out[d] = da
    return sc.DataGroup(out)


def _scalar_arrays(da: sc.DataArray):
    v = np.asarray(float(da.value))
    var = np.asarray(float(da.variance))
    missing = np.asarray(not (np.isfinite(v) and np.isfinite(var)))
    return v, var, missing


def _point_text(da: sc.DataArray, flat_index: int) -> str:
    if not da.ndim:
        return ""
    idx = np.unravel_index(flat_index, da.shape)
    parts = []
    for d, i in zip(da.dims, idx, strict=True):
        if d in da.coords and not da.coords.is_edges(d):
            c = da.coords[d]
            parts.append(f"{d} = {float(c.values[i]):.4g} {c.unit}")
    return (" at " + ", ".join(parts)) if parts else ""


def ratio_arrays(ratios, direction: str, like: sc.DataArray) -> tuple[np.ndarray, np.ndarray,
                                                                        np.ndarray, tuple[str, ...]]:
    """(F, var F, masked) broadcast to the grid of ``like`` and the dims F depends on.

    ``ratios``: a DataGroup/dict direction -> DataArray or number (an exact F), or one number
    for every direction."""
    if isinstance(ratios, int | float):
        ratios = {direction: float(ratios)}
    if direction not in ratios:
        raise InputError(f"no flipping ratio for direction {direction}", field="flipping_ratio",
                         value=sorted(ratios))
    r = ratios[direction]
    if not isinstance(r, sc.DataArray | sc.Variable):
        F = float(r)
        if not (np.isfinite(F) and F > 1.0):
            raise InputError("flipping ratio must be a finite number > 1", field="flipping_ratio",
                             value=F)
        shape = like.shape
        return np.full(shape, F), np.zeros(shape), np.zeros(shape, bool), ()
    da = r if isinstance(r, sc.DataArray) else sc.DataArray(r)
    extra = [d for d in da.dims if d not in like.dims]
    if extra:
        raise InputError(f"the flipping ratio of {direction} has dims {da.dims} the data lack",
                         field="flipping_ratio", value=extra)
    for d in da.dims:
        if da.sizes[d] != like.sizes[d]:
            raise InputError(f"the flipping ratio of {direction} has {da.sizes[d]} points along "
                             f"'{d}', the data {like.sizes[d]}", field=d, value=da.sizes[d])
        if d in da.coords and d in like.coords and not np.allclose(
                da.coords[d].values, like.coords[d].values, rtol=1e-6, atol=1e-9):
            raise InputError(f"the flipping ratio of {direction} lies on another '{d}' grid than "
                             "the data", field=d, value=direction)
    order = [d for d in like.dims if d in da.dims]
    tr = da.transpose(order) if order else da
    var = np.asarray(tr.variances if tr.variances is not None else np.zeros(tr.shape), float)
    F = np.asarray(tr.values, float)
    masked = np.zeros(tr.shape, bool)
    for m in tr.masks.values():
        masked |= np.asarray(m.broadcast(sizes=tr.sizes).values)
    if np.any(~masked & ~(F > 1.0)):
        raise InputError(f"flipping ratio < 1 in direction {direction}: NSF and SF swapped?",
                         field="flipping_ratio", value=float(np.min(F[~masked])))
    expand = tuple(slice(None) if d in order else None for d in like.dims)
    shape = like.shape
    return (np.broadcast_to(F[expand], shape), np.broadcast_to(var[expand], shape),
            np.broadcast_to(masked[expand], shape), tuple(order))


def correct_flipping(channels, ratios) -> sc.DataGroup:
    """Channels corrected for the flipping ratio (module docstring), one direction at a time.

    Each corrected channel carries its own variance (counts and the error of F); the
    correlation between the two corrected channels of a direction is not kept, so pass the
    raw channels and ``ratios`` to :func:`latdyn.polarisation.separate` for separated parts
    with exact errors."""
    ch = check_channels(channels)
    out = dict(ch.items())
    for d in sorted({parse_channel(k).direction for k in ch}):
        kn, ks = Channel(d, False).key, Channel(d, True).key
        if kn not in ch or ks not in ch:
            raise InputError(f"the flipping correction of direction {d} needs both spin states",
                             field="channel", value=kn if kn not in ch else ks)
        F, varF, fm, _ = ratio_arrays(ratios, d, ch[kn])
        K = correction(F)
        In, vn, mn = channel_arrays(ch[kn])
        Is, vs, ms = channel_arrays(ch[ks])
        dK = np.array([[-1.0, 1.0], [1.0, -1.0]]) / ((F - 1.0) ** 2)[..., None, None]
        for row, key in ((0, kn), (1, ks)):
            val = K[..., row, 0] * In + K[..., row, 1] * Is
            var = (K[..., row, 0] ** 2 * vn + K[..., row, 1] ** 2 * vs
                   + (dK[..., row, 0] * In + dK[..., row, 1] * Is) ** 2 * varF)
            da = ch[key].copy()
            da.values = np.where(mn | ms | fm, 0.0, val)
            da.variances = np.where(mn | ms | fm, 0.0, var)
            if np.any(mn | ms | fm):
                da.masks["flipping_correction"] = sc.array(dims=list(da.dims), values=mn | ms | fm)
            out[key] = da
    return sc.DataGroup(out)


def subtract_background(channels, background, scale: float = 1.0) -> sc.DataGroup:
    """Channel by channel: sample - scale * background (variances add, scale^2 var_bg);
    ``background`` holds the same channels on the same grid (InputError otherwise)."""
    ch = check_channels(channels)
    bg = check_channels(background, "background")
    if not (np.isfinite(scale) and scale >= 0):
        raise InputError("background scale must be finite and non-negative", field="scale", value=scale)
    out = {}
    for k, da in ch.items():
        if k not in bg:
            raise InputError(f"the background misses channel {k}", file="background", field="channel",
                             value=k)
        b = bg[k]
        if b.dims != da.dims or b.shape != da.shape:
            raise InputError(f"background channel {k} lies on another grid", field=k,
                             value=(dict(b.sizes), dict(da.sizes)))
        out[k] = da - scale * b.assign_coords(_grid_of(da))
    return sc.DataGroup(out)
