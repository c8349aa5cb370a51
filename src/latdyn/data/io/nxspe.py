r"""NXSPE files (direct-geometry reduced data per detector) and their powder S(|Q|, E).

Layout (NeXus application definition NXSPE, as written by Mantid's SaveNXSPE)::

    /<entry>                      NXentry; definition = 'NXSPE'
        NXSPE_info/fixed_energy   E_i, meV
        NXSPE_info/psi            sample rotation, deg;  ki_over_kf_scaling (0/1)
        data/data                 (n_det, n_E) intensity per detector and energy bin
        data/error                (n_det, n_E) standard deviations
        data/energy               (n_E + 1) energy-transfer bin edges, meV
        data/polar, azimuthal     (n_det) detector angles, deg
        data/polar_width, azimuthal_width, distance (m)   (optional)
        instrument/name

Masked detectors carry NaN (or Mantid's -1e30 flag) and are masked.  A measured pixel with a
NaN, negative, or zero (on a non-zero value) error is a FormatError, or is masked and counted
with ``bad_errors='mask'``.

Powder rebinning (:func:`nxspe_to_powder`) maps every (detector, energy bin) pixel to
|Q| from its bin-centre energy transfer E and polar angle 2theta (direct geometry,
E_f = E_i - E):

.. math::  Q^2 = k_i^2 + k_f^2 - 2 k_i k_f \cos 2\theta

and histograms the pixels by their centres onto the (|Q|, E) grid ("centre-point" rebinning,
as in Mantid's SofQW centre method).  The result in each output bin is the **mean** of the
N contributing pixels, :math:`\bar S = \frac{1}{N}\sum_i S_i`, with
:math:`\sigma^2 = \frac{1}{N^2}\sum_i \sigma_i^2` (independent pixels); ``statistic='sum'``
gives :math:`\sum_i S_i` and :math:`\sum_i \sigma_i^2`.  Bins without pixels are masked
(``'no_coverage'``) and the pixel counts are returned as the coordinate ``n_pixels``.
Detectors are streamed in chunks of ``chunk_size`` rows, so memory is bounded by
chunk_size x n_E whatever the file size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError, InputError
from ...fileio import check_read_size, names_input_file
from ...progress import progress_bar
from ...units import E_PER_K2
from ._common import (
    assemble,
    check_axis,
    check_bad_errors_option,
    check_dataset,
    dataset,
    decode,
    open_hdf5,
    read_array,
)
from .container import LoadedData
from .validate import MAX_FIXED_ENERGY, check_metadata

__all__ = ["read_nxspe", "nxspe_to_powder", "is_nxspe", "write_nxspe"]

_MASK_FLAG = -1e29


def _entry(fh: Any) -> str | None:
    import h5py

    for k in fh:
        g = fh.get(k)
        if isinstance(g, h5py.Group) and "NXSPE_info" in g:
            return k
    return None


def is_nxspe(fh: Any) -> bool:
    """True when an open h5py file has an entry with an ``NXSPE_info`` group."""
    return _entry(fh) is not None


def _header(fh: Any, p: Path, max_fixed_energy: float = MAX_FIXED_ENERGY) -> dict[str, Any]:
    key = _entry(fh)
    if key is None:
        raise FormatError("no entry with an NXSPE_info group", file=p, field="/")
    base = key + "/"
    ei = read_array(fh, base + "NXSPE_info/fixed_energy", p).ravel()
    if ei.size != 1 or not np.isfinite(ei[0]) or ei[0] <= 0:
        raise FormatError("fixed_energy must be one positive number", file=p,
                          field=base + "NXSPE_info/fixed_energy", value=ei.tolist())
    shape = dataset(fh, base + "data/data", p).shape
    if shape is None or len(shape) != 2:
        raise FormatError("data must be 2-D (detectors x energy)", file=p,
                          field=base + "data/data", value=shape)
    if 0 in shape:
        raise FormatError("no data points (zero-length data)", file=p, field=base + "data/data",
                          value=shape)
    check_dataset(dataset(fh, base + "data/data", p), p, base + "data/data", whole=False)
    check_dataset(dataset(fh, base + "data/error", p), p, base + "data/error", whole=False)
    err_shape = dataset(fh, base + "data/error", p).shape
    if err_shape != shape:
        raise FormatError("error and data differ in shape", file=p, field=base + "data/error",
                          value=(err_shape, shape))
    energy = read_array(fh, base + "data/energy", p, ndim=1)
    if energy.size not in (shape[1], shape[1] + 1):
        raise FormatError(f"energy has {energy.size} values for {shape[1]} bins", file=p,
                          field=base + "data/energy", value=energy.size)
    check_axis(energy, p, base + "data/energy")
    angles = {}
    for name in ("polar", "azimuthal", "polar_width", "azimuthal_width", "distance"):
        if base + "data/" + name in fh:
            a = read_array(fh, base + "data/" + name, p, ndim=1)
            if a.size != shape[0]:
                raise FormatError(f"{name} has {a.size} values for {shape[0]} detectors",
                                  file=p, field=base + "data/" + name, value=a.size)
            if not np.all(np.isfinite(a)):
                raise FormatError("angles hold NaN", file=p, field=base + "data/" + name)
            angles[name] = a
        elif name in ("polar", "azimuthal"):
            raise FormatError("missing dataset", file=p, field=base + "data/" + name)
    meta: dict[str, Any] = {"entry": key, "incident_energy": float(ei[0]),
                            "efixed_source": "NXSPE_info/fixed_energy"}
    check_metadata(meta, p, max_fixed_energy)
    for name in ("psi", "ki_over_kf_scaling"):
        if base + "NXSPE_info/" + name in fh:
            v = read_array(fh, base + "NXSPE_info/" + name, p).ravel()
            if v.size == 1 and np.isfinite(v[0]):
                meta[name] = v[0].item()
    inst = decode(fh, base + "instrument/name")
    if inst:
        meta["instrument"] = inst
    return {"base": base, "shape": shape, "energy": energy, "angles": angles, "meta": meta}


@names_input_file
def read_nxspe(path: str | Path, *, bad_errors: str = "error",
               max_fixed_energy: float = MAX_FIXED_ENERGY) -> LoadedData:
    """Read an NXSPE file into a DataArray with dims ``('spectrum', 'E')``.

    Coordinates: ``E`` (meV, bin edges as in the file), ``spectrum`` (detector index),
    ``two_theta`` (polar angle, deg), ``azimuthal`` (deg) and, when present,
    ``polar_width``, ``azimuthal_width`` (deg) and ``distance`` (m).  Masked detectors
    (NaN or -1e30) are masked (``'masked_detectors'``).  Metadata: ``incident_energy`` (meV),
    ``psi`` (deg), ``ki_over_kf_scaling``, ``instrument``.  The whole file is read into
    memory; use :func:`nxspe_to_powder` to stream large files.  ``bad_errors``: 'error' or
    'mask' (module docstring); ``max_fixed_energy``: largest E_i accepted (meV).
    """
    p = Path(path)
    check_bad_errors_option(bad_errors, p)
    with open_hdf5(p) as fh:
        h = _header(fh, p, max_fixed_energy)
        base = h["base"]
        values = read_array(fh, base + "data/data", p, ndim=2)
        errors = read_array(fh, base + "data/error", p, ndim=2)
    bad = ~np.isfinite(values) | (values <= _MASK_FLAG)
    masked_det = np.all(bad, axis=1)
    n_det = h["shape"][0]
    report: dict[str, Any] = {}
    da = assemble(values, errors, {"spectrum": np.arange(n_det, dtype=float), "E": h["energy"]},
                  {"spectrum": "dimensionless", "E": "meV"}, "dimensionless", p,
                  base + "data/data", mask=bad, mask_name="masked_pixels", name=p.stem,
                  bad_errors=bad_errors, report=report)
    h["meta"].update(report)
    if "masked_pixels" in da.masks:
        del da.masks["masked_pixels"]
        da.masks["masked_detectors"] = sc.array(dims=["spectrum"], values=masked_det)
        partial = bad & ~masked_det[:, None]
        if partial.any():
            da.masks["masked_pixels"] = sc.array(dims=["spectrum", "E"], values=partial)
    units = {"polar": "deg", "azimuthal": "deg", "polar_width": "deg", "azimuthal_width": "deg",
             "distance": "m"}
    for name, arr in h["angles"].items():
        cname = "two_theta" if name == "polar" else name
        da.coords[cname] = sc.array(dims=["spectrum"], values=arr, unit=units[name])
    return LoadedData(p, "nxspe", {p.stem: da}, {p.stem: h["meta"]},
                      max_fixed_energy=max_fixed_energy)


def _edges(bins: Any, lo: float, hi: float, name: str, file: Any) -> np.ndarray:
    if np.ndim(bins) == 0:
        step = float(bins)
        if not np.isfinite(step) or step <= 0:
            raise InputError("bin width must be positive", file=file, field=name, value=bins)
        n = max(1, float(np.ceil((hi - lo) / step)))
        check_read_size(8.0 * (n + 1), file=file, field=name, what=f"{n:.3g} bins")
        return lo + step * np.arange(int(n) + 1)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise InputError("bin edges must be a strictly increasing 1-D array of >= 2 values",
                         file=file, field=name, value=edges.shape)
    return edges


@names_input_file
def nxspe_to_powder(path: str | Path, q_bins: float | Sequence[float] = 0.05,
                    e_bins: float | Sequence[float] | None = None, *,
                    statistic: str = "mean", chunk_size: int = 2048,
                    progress: bool | None = None, bad_errors: str = "error",
                    max_fixed_energy: float = MAX_FIXED_ENERGY) -> LoadedData:
    """Powder-average an NXSPE file onto a (|Q|, E) grid, streaming detectors in chunks.

    Parameters
    ----------
    q_bins: |Q| bin width (1/angstrom) from 0 to the largest |Q| reached, or bin edges.
    e_bins: energy-transfer bin width or edges (meV); None keeps the file's energy bins.
    statistic: ``'mean'`` (default) or ``'sum'`` of the pixels in each bin (module docstring).
    chunk_size: detectors read per chunk (memory ~ 40 bytes x chunk_size x n_E).
    progress: show a tqdm bar (default: when stderr is a terminal).
    bad_errors: 'error' (default) or 'mask': a measured pixel with a NaN, negative, or zero
        (on a non-zero value) error raises FormatError, or is left out and counted in
        ``metadata['masked_bad_errors']``.
    max_fixed_energy: largest E_i accepted (meV).

    Returns
    -------
    LoadedData with one DataArray, dims ``('Q', 'E')`` with bin edges, variances, mask
    ``'no_coverage'`` and coordinate ``n_pixels``; metadata as :func:`read_nxspe` plus
    ``statistic`` and ``rebinning``.
    """

    p = Path(path)
    if statistic not in ("mean", "sum"):
        raise InputError("statistic must be 'mean' or 'sum'", field="statistic", value=statistic)
    if int(chunk_size) < 1:
        raise InputError("chunk_size must be a positive integer", field="chunk_size",
                         value=chunk_size)
    chunk_size = int(chunk_size)
    check_bad_errors_option(bad_errors, p)
    n_bad = 0
    with open_hdf5(p) as fh:
        h = _header(fh, p, max_fixed_energy)
        base = h["base"]
        n_det, n_e = h["shape"]
        energy = h["energy"]
        e_centre = 0.5 * (energy[1:] + energy[:-1]) if energy.size == n_e + 1 else energy
        ei = h["meta"]["incident_energy"]
        polar = np.deg2rad(h["angles"]["polar"])
        e_out = (energy if (e_bins is None and energy.size == n_e + 1)
                 else _edges(e_bins if e_bins is not None else float(np.min(np.diff(energy))),
                             float(e_centre[0]), float(e_centre[-1]) + 1e-9, "e_bins", p))
        allowed = e_centre < ei
        ki = np.sqrt(ei / E_PER_K2)
        kf = np.sqrt(np.clip(ei - e_centre, 0.0, None) / E_PER_K2)
        q_max = float(np.max(np.sqrt(ki**2 + kf**2 - 2 * ki * kf * np.cos(polar.max()))))
        q_out = _edges(q_bins, 0.0, q_max * (1 + 1e-12), "q_bins", p)
        nq, ne = q_out.size - 1, e_out.size - 1
        check_read_size(4.0 * 8 * nq * ne, file=p, field="q_bins, e_bins",
                        what=f"a powder grid of {nq} x {ne} bins")
        e_idx = np.searchsorted(e_out, e_centre, side="right") - 1
        e_ok = allowed & (e_idx >= 0) & (e_idx < ne)
        total = np.zeros(nq * ne)
        var = np.zeros(nq * ne)
        count = np.zeros(nq * ne)
        ds_v = fh[base + "data/data"]
        ds_e = fh[base + "data/error"]
        with progress_bar(n_det, "powder S(|Q|,E)", progress, unit="det") as bar:
            for i0 in range(0, n_det, chunk_size):
                i1 = min(n_det, i0 + chunk_size)
                try:
                    v = np.asarray(ds_v[i0:i1], dtype=float)
                    s = np.asarray(ds_e[i0:i1], dtype=float)
                except (OSError, RuntimeError) as exc:
                    raise FormatError(f"cannot read detectors {i0}-{i1} ({exc})", file=p,
                                      field=base + "data/data") from None
                cos2t = np.cos(polar[i0:i1])[:, None]
                q = np.sqrt(np.clip(ki**2 + kf[None, :] ** 2 - 2 * ki * kf[None, :] * cos2t,
                                    0.0, None))
                q_idx = np.searchsorted(q_out, q, side="right") - 1
                good = (np.isfinite(v) & (v > _MASK_FLAG) & e_ok[None, :]
                        & (q_idx >= 0) & (q_idx < nq))
                bad_err = good & ~(np.isfinite(s) & ((s > 0) | ((s == 0) & (v == 0))))
                if bad_err.any():
                    if bad_errors == "error":
                        r, c = np.argwhere(bad_err)[0]
                        raise FormatError("error is NaN, negative, or zero on a non-zero value "
                                          "for a measured pixel (bad_errors='mask' masks them)",
                                          file=p, field=base + "data/error",
                                          value=f"detector {i0 + r}, bin {c}: {s[r, c]}")
                    n_bad += int(bad_err.sum())
                    good &= ~bad_err
                flat = (q_idx * ne + e_idx[None, :])[good]
                total += np.bincount(flat, weights=v[good], minlength=nq * ne)
                var += np.bincount(flat, weights=s[good] ** 2, minlength=nq * ne)
                count += np.bincount(flat, minlength=nq * ne)
                bar.update(i1 - i0)
    total, var, count = (a.reshape(nq, ne) for a in (total, var, count))
    covered = count > 0
    if statistic == "mean":
        n = np.where(covered, count, 1.0)
        total, var = total / n, var / n**2
    da = sc.DataArray(
        sc.array(dims=["Q", "E"], values=total, variances=var, unit="dimensionless"),
        coords={"Q": sc.array(dims=["Q"], values=q_out, unit="1/angstrom"),
                "E": sc.array(dims=["E"], values=e_out, unit="meV"),
                "n_pixels": sc.array(dims=["Q", "E"], values=count.astype(np.int64))},
        masks={"no_coverage": sc.array(dims=["Q", "E"], values=~covered)},
        name=f"{p.stem} powder")
    meta = dict(h["meta"], statistic=statistic,
                rebinning="centre-point: each (detector, E) pixel goes to the (|Q|, E) bin of "
                          "its centre")
    if n_bad:
        meta["masked_bad_errors"] = n_bad
    return LoadedData(p, "nxspe", {f"{p.stem}_powder": da}, {f"{p.stem}_powder": meta},
                      max_fixed_energy=max_fixed_energy)


def write_nxspe(path: str | Path, da: sc.DataArray, incident_energy: float, *,
                psi: float = 0.0, instrument: str = "", ki_over_kf_scaling: bool = True) -> Path:
    """Write a ``('spectrum', 'E')`` DataArray with a ``two_theta`` coordinate as NXSPE.

    E must be bin edges in meV; ``azimuthal``, ``polar_width``, ``azimuthal_width``,
    ``distance`` coordinates are written when present (else 0).  Masked detectors are
    written as NaN.  Atomic.
    """

    from ...fileio import hdf5_writer

    p = Path(path)
    if not isinstance(da, sc.DataArray) or da.dims != ("spectrum", "E"):
        raise InputError("expected a DataArray with dims ('spectrum', 'E')", file=p,
                         field="dims", value=getattr(da, "dims", None))
    if "two_theta" not in da.coords or not da.coords.is_edges("E"):
        raise InputError("need a 'two_theta' coordinate and E bin edges", file=p, field="coords",
                         value=list(da.coords))
    values = np.array(da.values, dtype=float)
    errors = (np.sqrt(da.variances) if da.variances is not None else np.zeros_like(values))
    if "masked_detectors" in da.masks:
        values[da.masks["masked_detectors"].values] = np.nan
    n = da.sizes["spectrum"]

    def coord(name: str, unit: str) -> np.ndarray:
        if name in da.coords:
            return np.asarray(da.coords[name].to(unit=unit, dtype="float64").values)
        return np.zeros(n)

    with hdf5_writer(p) as fh:
        entry = fh.create_group(p.stem or "entry")
        entry.attrs["NX_class"] = np.bytes_("NXentry")
        d = entry.create_dataset("definition", data=np.bytes_("NXSPE"))
        d.attrs["version"] = np.bytes_("1.3")
        info = entry.create_group("NXSPE_info")
        info.attrs["NX_class"] = np.bytes_("NXcollection")
        info.create_dataset("fixed_energy", data=np.array([float(incident_energy)]))
        info.create_dataset("psi", data=np.array([float(psi)]))
        info.create_dataset("ki_over_kf_scaling", data=np.array([int(ki_over_kf_scaling)]))
        grp = entry.create_group("data")
        grp.attrs["NX_class"] = np.bytes_("NXdata")
        grp.create_dataset("data", data=values, chunks=(min(n, 1024), values.shape[1]))
        grp.create_dataset("error", data=errors, chunks=(min(n, 1024), values.shape[1]))
        grp.create_dataset("energy", data=da.coords["E"].to(unit="meV", dtype="float64").values)
        grp.create_dataset("polar", data=coord("two_theta", "deg"))
        grp.create_dataset("azimuthal", data=coord("azimuthal", "deg"))
        grp.create_dataset("polar_width", data=coord("polar_width", "deg"))
        grp.create_dataset("azimuthal_width", data=coord("azimuthal_width", "deg"))
        grp.create_dataset("distance", data=coord("distance", "m"))
        inst = entry.create_group("instrument")
        inst.attrs["NX_class"] = np.bytes_("NXinstrument")
        inst.create_dataset("name", data=np.bytes_(instrument or " "))
    return p
