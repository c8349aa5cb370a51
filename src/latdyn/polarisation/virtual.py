r"""The virtual polarised experiment: channels from a model, finite polarisation, Poisson noise.

A model is a set of cross sections on one grid (DataArrays sharing dims and coordinates):
``coherent``, ``isotope_incoherent`` (non spin flip), ``spin_incoherent``, and either the
isotropic ``magnetic`` (paramagnet, powder) or ``magnetic_y`` and ``magnetic_z`` (single
crystal, with the angle alpha as a coordinate or argument).  The expected channel intensity
is (:mod:`latdyn.polarisation.cross_sections`, :mod:`latdyn.polarisation.flipping`)

.. math::  \langle I_c\rangle = t_c\, [L(F)\, A(\alpha)\, \theta]_c + b_c

with t_c the exposure of the channel (counts per unit cross section: flux x time x
scatterers x solid angle x efficiency), L the flipping-ratio mixing and b_c an optional
background; the counts are Poisson draws with variances equal to the counts.  A quartz run
(pure coherent, sigma^SF = 0) on the same grid gives the measured flipping ratio.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipp as sc

from ..errors import InputError
from .channels import Channel, channel_group, parse_direction
from .cross_sections import channel_coefficients
from .flipping import leakage

__all__ = ["expected_channels", "poisson_channels", "simulate_channels", "quartz_channels",
           "MODEL_PARTS"]

#: cross sections a model may hold
MODEL_PARTS = ("coherent", "isotope_incoherent", "spin_incoherent", "magnetic", "magnetic_y",
               "magnetic_z")


def _grid(parts: Mapping[str, sc.DataArray]) -> sc.DataArray:
    unknown = [k for k in parts if k not in MODEL_PARTS]
    if unknown:
        raise InputError(f"unknown model part; use {MODEL_PARTS}", field="parts", value=unknown)
    if not parts:
        raise InputError("the model has no parts", field="parts")
    if "magnetic" in parts and ("magnetic_y" in parts or "magnetic_z" in parts):
        raise InputError("give magnetic (isotropic) or magnetic_y/magnetic_z, not both", field="parts")
    first = next(iter(parts.values()))
    for k, da in parts.items():
        if not isinstance(da, sc.DataArray) or da.dims != first.dims or da.shape != first.shape:
            raise InputError("model parts must be DataArrays on one grid", field=k,
                             value=getattr(da, "sizes", type(da).__name__))
    return first


def _theta(parts, first) -> np.ndarray:
    """(N, I_si, M_y, M_z) on the grid, shape grid + (4,)."""
    z = np.zeros(first.shape)

    def get(k):
        return np.asarray(parts[k].values, float) if k in parts else z

    n = get("coherent") + get("isotope_incoherent")
    if "magnetic" in parts:
        my = mz = 0.5 * get("magnetic")
    else:
        my, mz = get("magnetic_y"), get("magnetic_z")
    return np.stack([n, get("spin_incoherent"), my, mz], axis=-1)


def _alpha(first: sc.DataArray, alpha) -> np.ndarray:
    if alpha is None:
        alpha = first.coords["alpha"].values if "alpha" in first.coords else 0.0
    return np.broadcast_to(np.asarray(alpha, dtype=float), first.shape)


def _ratio(flipping, d: str):
    if flipping is None:
        return None
    r = flipping.get(d) if isinstance(flipping, Mapping) else flipping
    if r is None:
        raise InputError(f"no flipping ratio for direction {d}", field="flipping", value=d)
    r = np.asarray(r, dtype=float)
    if np.any(~(r > 1.0)):
        raise InputError("flipping ratio must exceed 1", field="flipping", value=float(np.min(r)))
    return r


def expected_channels(parts: Mapping[str, sc.DataArray], directions=("x", "y", "z"), *,
                      flipping=None, alpha=None) -> sc.DataGroup:
    """The noiseless channels (NSF and SF of each direction) of a model (module docstring), in
    the unit of the model, with zero variances.  ``flipping``: one ratio or direction -> ratio
    (numbers or arrays on the grid); None for ideal polarisation."""
    first = _grid(parts)
    theta = _theta(parts, first)
    a = _alpha(first, alpha)
    out = {}
    for d in directions:
        dd = parse_direction(d)
        if dd is None:
            raise InputError("unknown polarisation direction", field="directions", value=d)
        vals = [np.einsum("...k,...k->...", channel_coefficients(Channel(dd, f), a), theta)
                for f in (False, True)]
        F = _ratio(flipping, dd)
        if F is not None:
            L = leakage(np.broadcast_to(F, first.shape))
            vals = [L[..., 0, 0] * vals[0] + L[..., 0, 1] * vals[1],
                    L[..., 1, 0] * vals[0] + L[..., 1, 1] * vals[1]]
        for f, v in zip((False, True), vals, strict=True):
            da = sc.DataArray(sc.array(dims=list(first.dims), values=v, variances=np.zeros(first.shape),
                                       unit=first.unit), coords=dict(first.coords.items()))
            out[Channel(dd, f).key] = da
    return channel_group(out)


def poisson_channels(expected, exposure=1.0, seed=None, background=None) -> sc.DataGroup:
    """Poisson counts (unit 'counts', variances = counts) with mean exposure x expected
    (+ background), per channel; ``exposure``: one number or channel -> number (or array)."""
    rng = np.random.default_rng(seed)
    out = {}
    for k, da in expected.items():
        t = exposure.get(k) if isinstance(exposure, Mapping) else exposure
        if t is None:
            raise InputError(f"no exposure for channel {k}", field="exposure", value=k)
        lam = np.asarray(t, dtype=float) * np.asarray(da.values, float)
        if background is not None:
            lam = lam + np.asarray(background[k].values, float) if not np.isscalar(background) \
                else lam + float(background)
        if np.any(lam < 0) or np.any(~np.isfinite(lam)):
            raise InputError("expected counts must be finite and non-negative", field=k,
                             value=float(np.nanmin(lam)))
        n = rng.poisson(lam).astype(float)
        out[k] = sc.DataArray(sc.array(dims=list(da.dims), values=n, variances=n.copy(), unit="counts"),
                              coords=dict(da.coords.items()))
    return channel_group(out)


def simulate_channels(parts: Mapping[str, sc.DataArray], directions=("x", "y", "z"), *,
                      exposure=1.0, flipping=None, alpha=None, seed=None) -> sc.DataGroup:
    """Poisson channels of a model: :func:`expected_channels` times ``exposure``."""
    return poisson_channels(expected_channels(parts, directions, flipping=flipping, alpha=alpha),
                            exposure, seed)


def quartz_channels(like: sc.DataArray, directions=("x", "y", "z"), *, flipping=20.0,
                    counts: float = 1e4, seed=None) -> sc.DataGroup:
    """A simulated quartz run on the grid of ``like``: NSF counts ``counts`` x F/(F+1) and SF
    counts x 1/(F+1) per point (Poisson), so that NSF/SF estimates F."""
    coh = sc.DataArray(sc.array(dims=list(like.dims), values=np.ones(like.shape)),
                       coords={k: v for k, v in like.coords.items()})
    return simulate_channels({"coherent": coh}, directions, exposure=counts, flipping=flipping, seed=seed)
