r"""The virtual experiment: model S(Q,E) -> coverage -> resolution -> counts -> Poisson noise.

For each |Q| the model is broadened by the instrument's E-dependent resolution
(:func:`convolve_gaussian_variable`), optionally along |Q| by a direct-geometry instrument's
|Q| resolution at each energy transfer (``q_resolution=True``: each |Q| cell spread as a
Gaussian of FWHM :meth:`~latdyn.instruments.direct.DirectGeometry.q_resolution`, integrated
over the cells, area conserved), turned into expected counts mu(Q, E) = F(Q, E) I(Q, E),
drawn from a Poisson law, and divided back by F so the output is S(Q,E) in the model's units
with variances from the counts (var = max(N, 1) / F^2).  The counts per unit S, F, are either

* abstract, F = C k_f/k_i with C = ``counts_scale`` (the noise level of a unit S), or
* those of a sample on the instrument (``sample=Sample(...)``, ``hours=``): F = flux x time x
  formula units x sigma/4 pi x k_f/k_i x Delta E x Delta Omega(Q, E) x detector efficiency x
  self-shielding (:mod:`latdyn.simulate.counts`; d^2 sigma / dOmega dE = N (sigma/4 pi)
  (k_f/k_i) S(Q,E), Squires, *Introduction to the Theory of Thermal Neutron Scattering*).

Points outside the instrument's (|Q|, E) coverage, or seen by no detector (gaps between banks),
are masked (scipp mask ``outside_coverage``, values 0).
The result is a scipp DataArray (dims Q, E) that latdyn's readers, cuts and fits accept.
The variances are those of the observed counts, as in reduced data; fit low-count data with
:func:`latdyn.simulate.fit_poisson` (Poisson likelihood), not with these variances alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipp as sc

from ..convolution.broadening import broaden_axis, cell_edges
from ..data import make_sqe
from ..errors import InputError, InstrumentError
from ..progress import track
from ..units import FWHM_PER_SIGMA
from .convolve import convolve_gaussian_variable, convolve_sampled, fine_grid, sharp_lines
from .counts import counts_factor
from .sample import Sample

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
                 chunk_size: int = 256, progress: bool | None = None, sample: Sample | None = None,
                 hours: float | None = None, flux: float | None = None, cross_section="total",
                 q_width: float | None = None, analyser_reflectivity: float | None = None,
                 q_resolution: bool = False, **settings) -> sc.DataArray:
    """Simulate a measured S(Q,E) on the grid (q, energy) with the instrument's resolution.

    model(q, e) -> smooth S (1/meV) for one |Q| (1/angstrom) over energies e (meV), or None;
    elastic(q) -> area of an elastic delta line; lines(q) -> (positions, areas) of sharp
    modes (e.g. one-phonon branches), never sampled on a grid; counts_scale C: expected counts per unit S
    (sets the noise level); seed: random seed for the Poisson draw; noise=False returns the
    expected (noise-free) values with Poisson variances.  ``chunk_size``: energy channels per
    block of resolution kernels (memory ~ chunk_size x fine grid); ``progress``: a progress
    bar (None: only on a terminal).

    Counts for a real sample instead of ``counts_scale``: ``sample`` (:class:`Sample`) and
    ``hours`` (counting time), with ``flux`` (default: the instrument file's published flux),
    ``cross_section`` (normalisation of the model S per formula unit: 'total', 'coherent',
    'incoherent', 'absolute' or barn), ``q_width`` (|Q| bin width, default from the grid) and
    ``analyser_reflectivity`` (indirect machines); see :func:`latdyn.simulate.counts_factor`.
    ``q_resolution``: also broaden along |Q| with the instrument's powder |Q| resolution at
    each energy transfer (direct geometry only; the |Q| grid must be increasing).

    Returns a DataArray with dims (Q, E), unit 1/meV, variances and a mask
    ``outside_coverage``.
    """
    q = np.atleast_1d(np.asarray(q, dtype=float))
    e = np.asarray(energy, dtype=float)
    if not np.isfinite(counts_scale) or counts_scale <= 0:
        raise InputError("counts_scale must be positive", field="counts_scale", value=counts_scale)
    if (sample is None) != (hours is None):
        raise InputError("counts for a sample need both sample= and hours=",
                         field="sample" if sample is None else "hours")
    if np.any(q <= 0) or np.any(~np.isfinite(q)):
        raise InputError("|Q| must be positive", field="q", value=float(q.min()))
    if e.ndim != 1 or e.size < 2 or np.any(~np.isfinite(e)):
        raise InputError("energy must be a finite 1-D grid of at least two points", field="energy")
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
    expected = _expected(model, instrument, q, e_ok, ei, elastic, lines, chunk_size, progress,
                         settings)
    if q_resolution:
        expected = _broaden_q(expected, instrument, q, e_ok, ei, settings)
    if np.any(expected < 0):
        raise InputError("model gives negative intensity", field="model", value=float(expected.min()))
    if sample is not None:
        factor = counts_factor(instrument, q, e, sample=sample, hours=hours, ei=ei, flux=flux,
                               cross_section=cross_section, q_width=q_width,
                               analyser_reflectivity=analyser_reflectivity, **settings)[:, inside_e]
    else:
        factor = np.broadcast_to(counts_scale * _kf_over_ki(instrument, e_ok, ei)[None, :], expected.shape)
    mu = expected * factor
    counts = rng.poisson(mu).astype(float) if noise else mu
    values = np.zeros((q.size, e.size))
    variances = np.zeros_like(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        values[:, inside_e] = np.where(factor > 0, counts / factor, 0.0)
        variances[:, inside_e] = np.where(factor > 0, np.maximum(counts, 1.0) / factor**2, 0.0)
    mask = np.ones_like(values, dtype=bool)
    for i, qi in enumerate(q):
        inside = cov.contains(np.full(e_ok.shape, qi), e_ok) if cov is not None else np.ones(e_ok.shape, bool)
        mask[i, inside_e] = ~(inside & (factor[i] > 0))
    values[mask] = 0.0
    da = make_sqe(q, e, values, np.sqrt(variances), unit="1/meV",
                  name=f"simulated S(Q,E) on {instrument.name}")
    da.masks["outside_coverage"] = sc.array(dims=["Q", "E"], values=mask)
    return da


def _broaden_q(expected: np.ndarray, instrument, q: np.ndarray, e: np.ndarray, ei, settings) -> np.ndarray:
    """Broaden (n_q, n_e) along |Q| with the direct-geometry |Q| resolution at each energy."""
    if instrument.kind != "direct":
        raise InstrumentError("the |Q| resolution is modelled for direct-geometry instruments",
                              field="q_resolution", value=instrument.kind)
    if q.size < 2 or np.any(np.diff(q) <= 0):
        raise InputError("|Q| resolution needs an increasing |Q| grid of at least two points",
                         field="q", value=q.size)
    edges = cell_edges(q)
    out = np.empty_like(expected)
    for j, ej in enumerate(e):
        width = instrument.q_broadening(ei, float(ej), **settings)
        out[:, j] = broaden_axis(expected[:, j:j + 1], edges, width, positions=q)[:, 0]
    return out


def _progress(enabled: bool | None, total: int, desc: str):
    """A wrapper adding a progress bar to an iterable of ``total`` items
    (:func:`latdyn.progress.track`; None: shown only on a terminal)."""
    return lambda items: track(items, desc, enabled, total=total, unit="chunk")


def _expected(model, instrument, q, e, ei, elastic, lines, chunk_size, progress, settings):
    """Noise-free broadened S (n_q, n_e): one set of kernels for all |Q| where the resolution
    does not depend on |Q| (TOF), one per |Q| on a triple-axis machine."""
    out = np.zeros((q.size, e.size))
    if e.size == 0:
        return out
    if instrument.kind == "triple_axis":
        rows = track(range(q.size), f"simulating {instrument.name}", progress, unit="Q")
        for i in rows:
            fwhm = resolution_fwhm(instrument, e, q=float(q[i]), **settings)
            fn = None if model is None else (lambda x, qi=float(q[i]): model(qi, x))
            out[i] = convolve_gaussian_variable(
                fn, e, fwhm, 0.0 if elastic is None else float(elastic(q[i])),
                None if lines is None else lines(q[i]), chunk_size=chunk_size)
        return out
    fwhm = np.broadcast_to(np.asarray(resolution_fwhm(instrument, e, ei=ei, **settings), float), e.shape)
    if np.any(~np.isfinite(fwhm)) or np.any(fwhm <= 0):
        raise InputError("resolution FWHM must be positive", field="fwhm", value=float(np.min(fwhm)))
    sigma = fwhm / FWHM_PER_SIGMA
    for i, qi in enumerate(q):
        out[i] = sharp_lines(e, sigma, 0.0 if elastic is None else float(elastic(qi)),
                             None if lines is None else lines(qi))
    if model is not None:
        fine = fine_grid(e, sigma)
        sampled = np.empty((q.size, fine.size))
        for i, qi in enumerate(q):
            s = np.asarray(model(float(qi), fine), dtype=float)
            if s.shape != fine.shape or np.any(~np.isfinite(s)):
                raise InputError("model must return finite values on the energy grid", field="model",
                                 value=float(qi))
            sampled[i] = s
        n_chunks = -(-e.size // max(int(chunk_size), 1))
        out += convolve_sampled(sampled, fine, e, sigma, chunk_size,
                                _progress(progress, n_chunks, f"simulating {instrument.name}"))
    return out


def virtual_qens(model: Callable, instrument, q, energy=None, *, counts_scale: float = 1e4,
                 elastic: Callable | None = None, seed: int | None = None,
                 ei: float | None = None, progress: bool | None = None, **counting) -> sc.DataArray:
    """A QENS data set: per-|Q| spectra of ``model`` broadened by the instrument resolution.

    ``counting``: ``sample``, ``hours``, ``flux``, ``cross_section``, ``q_width``,
    ``analyser_reflectivity`` as in :func:`simulate_sqe` (counts for a real sample).
    On an indirect machine ``energy`` defaults to its energy window (201 points).  The
    returned DataArray also carries the resolution FWHM (meV) as coordinate ``resolution_fwhm``
    (dim E, from the elastic channel at each E) so a fit can use the same resolution.
    """
    if energy is None:
        if instrument.kind != "indirect":
            raise InputError("give the energy grid for a direct-geometry QENS experiment",
                             field="energy")
        energy = np.linspace(instrument.e_min, instrument.e_max, 201)
    allowed = {"sample", "hours", "flux", "cross_section", "q_width", "analyser_reflectivity"}
    unknown = set(counting) - allowed
    if unknown:
        raise InputError(f"unknown argument; use one of {sorted(allowed)}", field=sorted(unknown)[0])
    da = simulate_sqe(model, instrument, q, energy, ei=ei, counts_scale=counts_scale,
                      elastic=elastic, seed=seed, progress=progress, **counting)
    e = np.asarray(energy, dtype=float)
    fw = resolution_fwhm(instrument, e, ei=ei) if instrument.kind != "triple_axis" else None
    if fw is not None:
        da.coords["resolution_fwhm"] = sc.array(dims=["E"], values=np.asarray(fw), unit="meV")
    return da

