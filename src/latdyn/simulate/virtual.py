r"""The virtual experiment: model S(Q,E) -> coverage -> resolution -> counts -> Poisson noise.

For each |Q| the model is broadened by the instrument's E-dependent resolution
(:func:`convolve_gaussian_variable`), turned into expected counts

.. math::  \mu(Q, E) = C\,\frac{k_f}{k_i}\,I(Q, E)

(the double-differential cross-section d^2 sigma / dOmega dE = (sigma/4 pi)(k_f/k_i) S(Q,E),
Squires, *Introduction to the Theory of Thermal Neutron Scattering*, eq. 1.57, with C = counts
per unit S per bin: flux x time x scatterers x sigma/4 pi x solid angle x bin width), drawn
from a Poisson law, and divided back by C k_f/k_i so the output is S(Q,E) in the model's units
with variances from the counts (var = max(N, 1) / (C k_f/k_i)^2).  Points outside the
instrument's (|Q|, E) coverage are masked (scipp mask ``outside_coverage``, values 0).
The result is a scipp DataArray (dims Q, E) that latdyn's readers, cuts and fits accept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipp as sc

from ..data import make_sqe
from ..errors import InputError, InstrumentError
from .convolve import convolve_gaussian_variable

__all__ = ["resolution_fwhm", "simulate_sqe", "virtual_qens"]


def resolution_fwhm(instrument, energy, *, ei: float | None = None, q: float | None = None,
                    **settings) -> np.ndarray:
    """FWHM (meV) of any latdyn instrument at ``energy`` (meV): direct needs ``ei``,
    triple-axis needs ``q``; indirect uses its analyser Ef."""
    kind = getattr(instrument, "kind", None)
    if kind == "direct":
        if ei is None:
            raise InputError("a direct-geometry instrument needs ei", field="ei")
        return instrument.resolution(energy, ei=ei, **settings)
    if kind == "indirect":
        return instrument.resolution(energy)
    if kind == "triple_axis":
        if q is None:
            raise InputError("a triple-axis instrument needs q", field="q")
        return np.asarray(instrument.resolution(energy, q=q))
    raise InstrumentError("instrument has no energy resolution", field="instrument",
                          value=getattr(instrument, "name", instrument))


def _kf_over_ki(instrument, energy: np.ndarray, ei: float | None) -> np.ndarray:
    if instrument.kind == "direct":
        return np.sqrt(np.clip(ei - energy, 0, None) / ei)
    if instrument.kind == "indirect":
        ef = instrument.final_energy
        return np.sqrt(ef / (ef + energy))
    return np.ones_like(energy)


def simulate_sqe(model: Callable, instrument, q, energy, *, ei: float | None = None,
                 counts_scale: float = 1e4, elastic: Callable | None = None,
                 lines: Callable | None = None, seed: int | None = None, noise: bool = True,
                 chunk_size: int = 256, **settings) -> sc.DataArray:
    """Simulate a measured S(Q,E) on the grid (q, energy) with the instrument's resolution.

    model(q, e) -> smooth S (1/meV) for one |Q| (1/angstrom) over energies e (meV), or None;
    elastic(q) -> area of an elastic delta line; lines(q) -> (positions, areas) of sharp
    modes (e.g. one-phonon branches), never sampled on a grid; counts_scale C: expected counts per unit S
    (sets the noise level); seed: random seed for the Poisson draw; noise=False returns the
    expected (noise-free) values with Poisson variances.  Returns a DataArray with dims
    (Q, E), unit 1/meV, variances and a mask ``outside_coverage``.
    """
    q = np.atleast_1d(np.asarray(q, dtype=float))
    e = np.asarray(energy, dtype=float)
    if not np.isfinite(counts_scale) or counts_scale <= 0:
        raise InputError("counts_scale must be positive", field="counts_scale", value=counts_scale)
    if np.any(q <= 0) or np.any(~np.isfinite(q)):
        raise InputError("|Q| must be positive", field="q", value=float(q.min()))
    rng = np.random.default_rng(seed)
    if instrument.kind == "direct":
        inside_e = e < instrument.check_ei(ei)
        cov = instrument.coverage(ei=ei, energy=np.where(inside_e, e, 0.0))
    elif instrument.kind == "indirect":
        inside_e = e > -instrument.final_energy
        cov = instrument.coverage(energy=np.where(inside_e, e, 0.0))
    else:
        inside_e = np.ones(e.shape, bool)
        cov = None
    e_ok = e[inside_e]
    values = np.zeros((q.size, e.size))
    variances = np.zeros_like(values)
    mask = np.ones_like(values, dtype=bool)
    kk = _kf_over_ki(instrument, e_ok, ei)
    for i, qi in enumerate(q):
        fwhm = resolution_fwhm(instrument, e_ok, ei=ei, q=qi if instrument.kind == "triple_axis"
                               else None, **settings)
        amp = 0.0 if elastic is None else float(elastic(qi))
        fn = None if model is None else (lambda x, qi=qi: model(qi, x))
        expected = convolve_gaussian_variable(fn, e_ok, fwhm, amp,
                                              None if lines is None else lines(qi),
                                              chunk_size=chunk_size)
        if np.any(expected < 0):
            raise InputError("model gives negative intensity", field="model", value=float(expected.min()))
        factor = counts_scale * kk
        mu = expected * factor
        counts = rng.poisson(mu).astype(float) if noise else mu
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = np.where(factor > 0, counts / factor, 0.0)
            var = np.where(factor > 0, np.maximum(counts, 1.0) / factor**2, 0.0)
        values[i, inside_e] = vals
        variances[i, inside_e] = var
        inside = cov.contains(np.full(e_ok.shape, qi), e_ok) if cov is not None else np.ones(e_ok.shape, bool)
        mask[i, inside_e] = ~inside
    values[mask] = 0.0
    da = make_sqe(q, e, values, np.sqrt(variances), unit="1/meV",
                  name=f"simulated S(Q,E) on {instrument.name}")
    da.masks["outside_coverage"] = sc.array(dims=["Q", "E"], values=mask)
    return da


def virtual_qens(model: Callable, instrument, q, energy=None, *, counts_scale: float = 1e4,
                 elastic: Callable | None = None, seed: int | None = None,
                 ei: float | None = None) -> sc.DataArray:
    """A QENS data set: per-|Q| spectra of ``model`` broadened by the instrument resolution.

    On an indirect machine ``energy`` defaults to its energy window (201 points).  The
    returned DataArray also carries the resolution FWHM (meV) as coordinate ``resolution_fwhm``
    (dim E, from the elastic channel at each E) so a fit can use the same resolution.
    """
    if energy is None:
        if instrument.kind != "indirect":
            raise InputError("give the energy grid for a direct-geometry QENS experiment",
                             field="energy")
        energy = np.linspace(instrument.e_min, instrument.e_max, 201)
    da = simulate_sqe(model, instrument, q, energy, ei=ei, counts_scale=counts_scale,
                      elastic=elastic, seed=seed)
    e = np.asarray(energy, dtype=float)
    fw = resolution_fwhm(instrument, e, ei=ei) if instrument.kind != "triple_axis" else None
    if fw is not None:
        da.coords["resolution_fwhm"] = sc.array(dims=["E"], values=np.asarray(fw), unit="meV")
    return da

