"""Labelled results of MD correlations: scipp DataArrays (HDF5) for F(Q,t), S(Q,E) and more.

Shell q-sets are averaged per |Q| shell (dim ``Q``, the mean |q| of the points kept; the
standard error over the points of a shell is the uncertainty when every shell holds two or
more points).  Path and free q-sets keep every point (dim ``q``: the path distance, 1/angstrom,
or the point index), with coordinates ``h``, ``k``, ``l`` (box reciprocal lattice) and
``|Q|``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import scipp as sc

from ..data import from_numpy
from ..fileio import write_bytes_atomic
from ..units import HBAR_MEV_PS
from .fourier import energy_resolution, fourier_spectrum
from .intermediate import CorrelationResult
from .qpoints import QSet
from .weights import species_weights, weighted_coherent, weighted_incoherent

__all__ = ["group_q", "correlation_arrays", "save_results", "resolution_note"]


def group_q(values: np.ndarray, q_points: np.ndarray, qset: QSet | None):
    """Average (n_q, ...) over shells, or keep the points: (values, errors or None, coords)."""
    q_norm = np.linalg.norm(q_points, axis=1)
    if qset is not None and qset.kind == "shells":
        groups = np.unique(qset.group)
        mean = np.stack([values[qset.group == g].mean(axis=0) for g in groups])
        n = np.array([np.sum(qset.group == g) for g in groups])
        err = None
        if np.all(n >= 2):
            err = np.stack([values[qset.group == g].std(axis=0, ddof=1) for g in groups]) \
                / np.sqrt(n).reshape((-1,) + (1,) * (values.ndim - 1))
        q_mean = np.array([q_norm[qset.group == g].mean() for g in groups])
        return mean, err, ("Q", q_mean, "1/angstrom", {"points": n.astype(float)})
    extra = {"|Q|": q_norm}
    if qset is not None:
        extra.update(h=qset.hkl[:, 0].astype(float), k=qset.hkl[:, 1].astype(float),
                     l=qset.hkl[:, 2].astype(float))
        if qset.distance is not None:
            return values, None, ("q", qset.distance, "1/angstrom", extra)
    return values, None, ("q", np.arange(len(q_norm), dtype=float), "dimensionless", extra)


def _array(values, errors, qcoord, second: tuple[str, np.ndarray], unit: str, name: str,
           source: str) -> sc.DataArray:
    qdim, qvals, qunit, extra = qcoord
    da = from_numpy(values, {qdim: qvals, second[0]: second[1]}, errors, unit, {qdim: qunit},
                    name=name, source=source)
    for k, v in extra.items():
        da.coords[k] = sc.array(dims=[qdim], values=v,
                                unit="dimensionless" if k in ("h", "k", "l", "points") else
                                "1/angstrom")
    return da


def correlation_arrays(result: CorrelationResult, qset: QSet | None = None,
                       weighting: str = "neutron", table: str = "sears", normalize: bool = True,
                       window: str = "gaussian", temperature: float | None = None,
                       partials: bool = True) -> sc.DataGroup:
    """DataGroup of F_coh, F_inc, S_coh, S_inc (weighted), S(Q) = F_coh(Q, 0), the unweighted
    partials F_<a>_<b> and F_s_<a>, and C_L, C_T (unweighted totals) when computed.

    Weighting and normalisation: :mod:`latdyn.md.weights`; spectra: :mod:`latdyn.md.fourier`.
    """
    q = result.q_points
    b_coh, b_inc = species_weights(result.species, result.q_norm, weighting, table)
    c = result.concentrations
    unit = "dimensionless" if normalize or weighting == "none" else "barn"
    out = {}
    time = ("t", result.time)
    series = {"F_coh": weighted_coherent(result.f_coh, c, b_coh, normalize or weighting == "none")}
    if result.f_inc is not None and b_inc is not None:
        series["F_inc"] = weighted_incoherent(result.f_inc, c, b_inc,
                                              normalize or weighting == "none")
    for name, f in series.items():
        vals, err, qc = group_q(f, q, qset)
        out[name] = _array(vals, err, qc, time, unit, name, result.source)
        energy, s = fourier_spectrum(f, result.time, window, temperature)
        vals, err, qc = group_q(s, q, qset)
        sname = "S" + name[1:]
        out[sname] = _array(vals, err, qc, ("E", energy), unit + "/meV" if unit != "dimensionless"
                            else "1/meV", sname, result.source)
    vals, err, qc = group_q(series["F_coh"][:, 0], q, qset)
    qdim, qvals, qunit, _ = qc
    sq = from_numpy(vals, {qdim: qvals}, err, unit, {qdim: qunit}, name="S(Q)",
                    source=result.source)
    out["S_Q"] = sq
    if partials:
        sp = result.species
        for a in range(len(sp)):
            for b in range(a, len(sp)):
                vals, err, qc = group_q(result.f_coh[a, b], q, qset)
                out[f"F_{sp[a]}_{sp[b]}"] = _array(vals, err, qc, time, "dimensionless",
                                                   f"F_{sp[a]}_{sp[b]}", result.source)
            if result.f_inc is not None:
                vals, err, qc = group_q(result.f_inc[a], q, qset)
                out[f"F_s_{sp[a]}"] = _array(vals, err, qc, time, "dimensionless",
                                             f"F_s_{sp[a]}", result.source)
    for name, arr in (("C_L", result.c_l), ("C_T", result.c_t)):
        if arr is not None:
            vals, err, qc = group_q(arr.sum(axis=(0, 1)), q, qset)
            out[name] = _array(vals, err, qc, time, "angstrom**2/ps**2", name, result.source)
    return sc.DataGroup(out)


def resolution_note(result: CorrelationResult, window: str) -> str:
    """One sentence on the energy resolution and range of the spectra."""
    t = result.time
    sigma = energy_resolution(t, window)
    e_nyquist = np.pi * HBAR_MEV_PS / (t[1] - t[0])
    text = f"Window '{window}' over {t[-1]:.4g} ps; energies up to {e_nyquist:.4g} meV."
    if sigma is not None:
        text += f" Energy resolution (Gaussian sigma) {sigma:.4g} meV."
    return text


def save_results(path: str | os.PathLike, group: sc.DataGroup) -> Path:
    """Write a DataGroup to HDF5 (scipp layout) atomically: the file is built in memory and
    written with Python I/O, so a full disk is an OutputError, not a crash inside HDF5."""
    buffer = io.BytesIO()
    sc.io.save_hdf5(group, buffer)
    return write_bytes_atomic(path, buffer.getvalue())
