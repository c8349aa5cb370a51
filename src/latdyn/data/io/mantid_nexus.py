"""Mantid processed NeXus files (written by ``SaveNexusProcessed``): read and write.

Layout (one ``NXentry`` per workspace; a workspace group gives ``mantid_workspace_1..N``)::

    /mantid_workspace_N/workspace/values   (n_spectra, n_x) signal; attrs units, unit_label
    /mantid_workspace_N/workspace/errors   (n_spectra, n_x) standard deviations
    /mantid_workspace_N/workspace/axis1    x: n_x (points) or n_x + 1 (bin edges);
                                           attrs units (DeltaE, TOF, ...), distribution
    /mantid_workspace_N/workspace/axis2    spectrum axis: spectrum numbers (units
                                           'spectraNumber'), a numeric axis (MomentumTransfer,
                                           Degrees, Label + caption) or text
    /mantid_workspace_N/workspace/masked_spectra, masked_bins, mask_weights   masked bins
    /mantid_workspace_N/logs/<name>/value (+ time)          sample logs (NXlog)
    /mantid_workspace_N/instrument/name, instrument_parameter_map/data, detector/...,
                                   physical_detectors/{detector_number, polar_angle, ...}
    /mantid_workspace_N/workspace_name, title, process/MantidAlgorithm_k/data

Reading gives one DataArray per workspace, keyed by ``workspace_name``.  Dims: the spectrum
axis becomes ``Q`` (MomentumTransfer; or Degrees converted to the elastic
|Q| = 4 pi sin(theta) / lambda_fixed when E_fixed is known, keeping ``two_theta`` as a
coordinate), ``two_theta``, ``T``, a Label caption, or ``spectrum`` (with ``two_theta`` and
``azimuthal`` from the detectors when the file holds them); the x axis becomes ``E``
(DeltaE, meV; DeltaE_inWavenumber/Frequency are converted to meV), ``energy``, ``tof`` (us),
``d``, ``Q``, ``Q2``, ``wavelength``, ``k`` or a Label caption.  Mantid's masked bins and
bins whose value is NaN (SofQW leaves NaN outside the kinematic range) become masks
(``'masked_bins'``, ``'not_measured'``); a finite value with a NaN or negative error is an
error.  The writer produces the same layout for a 2-D DataArray, readable by Mantid's
``LoadNexusProcessed``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ... import __version__
from ...errors import FormatError, InputError
from ...fileio import hdf5_writer, names_input_file
from ...kinematics import q_elastic
from ...units import energy_to_wavelength, inverse_cm_to_mev, thz_to_mev
from ._common import (
    assemble,
    bytes_to_str,
    check_axis,
    check_bad_errors_option,
    decode,
    open_hdf5,
    read_array,
    read_dataset,
    to_scipp_unit,
)
from .container import LoadedData
from .validate import MAX_FIXED_ENERGY, check_metadata

__all__ = ["read_mantid_nexus", "write_mantid_nexus", "is_mantid_nexus", "MANTID_UNITS"]

#: Mantid unit ID -> (latdyn dim, scipp unit, factor to that unit).
MANTID_UNITS: dict[str, tuple[str, str, float]] = {
    "DeltaE": ("E", "meV", 1.0),
    "DeltaE_inWavenumber": ("E", "meV", float(inverse_cm_to_mev(1.0))),
    "DeltaE_inFrequency": ("E", "meV", float(thz_to_mev(1.0)) * 1e-3),
    "Energy": ("energy", "meV", 1.0),
    "Energy_inWavenumber": ("energy", "meV", float(inverse_cm_to_mev(1.0))),
    "TOF": ("tof", "us", 1.0),
    "dSpacing": ("d", "angstrom", 1.0),
    "MomentumTransfer": ("Q", "1/angstrom", 1.0),
    "QSquared": ("Q2", "1/angstrom**2", 1.0),
    "Wavelength": ("wavelength", "angstrom", 1.0),
    "Momentum": ("k", "1/angstrom", 1.0),
    "Degrees": ("two_theta", "deg", 1.0),
    "Temperature": ("T", "K", 1.0),
}
# DeltaE_inFrequency is in GHz in Mantid: 1 GHz = 1e-3 THz.

#: latdyn dim -> Mantid unit ID used by the writer.
_DIM_TO_MANTID = {"E": "DeltaE", "energy": "Energy", "tof": "TOF", "d": "dSpacing",
                  "Q": "MomentumTransfer", "Q2": "QSquared", "wavelength": "Wavelength",
                  "k": "Momentum", "two_theta": "Degrees", "T": "Temperature"}

_TEMPERATURE_LOGS = ("sample.temperature", "temperature", "sample_temperature", "Temp_Sample",
                     "SampleTemp", "sample_temp", "temp_sample", "T_Sample")
_MASK_FLAG = -1e29


def is_mantid_nexus(fh: Any) -> bool:
    """True when an open h5py file has ``mantid_workspace_*`` entries."""
    return any(k.startswith("mantid_workspace_") for k in fh)


def _entry_names(fh: Any) -> list[str]:
    names = [k for k in fh if re.fullmatch(r"mantid_workspace_\d+", k)]
    return sorted(names, key=lambda k: int(k.rsplit("_", 1)[1]))


def _axis_spec(attrs: Any, file: Any, field: str) -> tuple[str, str, float]:
    unit = str(bytes_to_str(attrs.get("units", b""))).strip()
    if unit in MANTID_UNITS:
        return MANTID_UNITS[unit]
    if unit == "Label":
        caption = str(bytes_to_str(attrs.get("caption", b""))).strip() or "x"
        label = str(bytes_to_str(attrs.get("label", b""))).strip()
        if caption.lower().startswith("temp"):
            return ("T", "K", 1.0)
        dim = re.sub(r"\W+", "_", caption).strip("_") or "x"
        try:
            u = str(sc.Unit(label)) if label else "dimensionless"
        except Exception:
            u = "dimensionless"
        return (dim, u, 1.0)
    if unit in ("spectraNumber", "Empty", ""):
        return ("spectrum", "dimensionless", 1.0)
    raise FormatError("unknown unit", file=file, field=field + " (units)", value=unit)


#: names under which Mantid instrument definitions and reductions store the fixed energy
_EFIXED_NAMES = ("Efixed", "efixed-val", "EFixed", "efixed")


def _param_records(text: str | None) -> list[tuple[str, str, str]]:
    """(component, name, value) of each ``component;type;name;value`` record of the map."""
    out = []
    for rec in (text or "").split("|"):
        parts = rec.split(";")
        if len(parts) >= 4:
            out.append((parts[0], parts[2], ";".join(parts[3:])))
    return out


def _param_map(text: str | None, instrument: str | None) -> dict[str, str]:
    """Top-level parameters of the instrument parameter map (per-detector ones when all
    detectors agree)."""
    out: dict[str, str] = {}
    per_detector: dict[str, set[str]] = {}
    for comp, name, value in _param_records(text):
        if comp.startswith("detID:"):
            per_detector.setdefault(name, set()).add(value)
        elif instrument is None or comp == instrument or "/" not in comp:
            out.setdefault(name, value)
    for name, values in per_detector.items():
        if len(values) == 1 and name not in out:
            out[name] = next(iter(values))
    return out


def _efixed_from_map(text: str | None) -> tuple[float | None, dict[int, float], str]:
    """E_fixed (meV) from the parameter map: one value for the whole instrument (any component,
    e.g. the analyser 'IRIS/graphite', or every detector alike), or a value per detector ID;
    and where it was found."""
    per_det: dict[int, float] = {}
    comps: dict[str, float] = {}
    for comp, name, value in _param_records(text):
        if name not in _EFIXED_NAMES:
            continue
        try:
            v = float(value)
        except ValueError:
            continue
        if not (np.isfinite(v) and v > 0):
            continue
        if comp.startswith("detID:"):
            try:
                per_det[int(comp[6:])] = v
            except ValueError:
                continue
        else:
            comps[f"{comp};{name}"] = v
    values = set(comps.values()) | set(per_det.values())
    if len(values) == 1:
        where = next(iter(comps), None) or f"detID:*;{_EFIXED_NAMES[0]}"
        return next(iter(values)), {}, f"instrument parameter map ({where})"
    if per_det:
        return None, per_det, "instrument parameter map (per detector)"
    return None, {}, ""


def _logs(grp: Any, file: Any, notes: list[str]) -> dict[str, Any]:
    """Sample logs by name; a log that cannot be read is left out and named in ``notes``."""
    import h5py

    logs: dict[str, Any] = {}
    for name, log in grp.items():
        if not isinstance(log, h5py.Group) or "value" not in log:
            continue
        try:
            v = read_dataset(log["value"], file, f"{log.name}/value")
        except (FormatError, OSError, RuntimeError, KeyError, TypeError, ValueError) as exc:
            notes.append(f"sample log '{name}' could not be read and was left out ({exc})")
            continue
        v = bytes_to_str(v)
        if isinstance(v, np.ndarray):
            if v.dtype.kind in "SO":
                v = [str(bytes_to_str(x)) for x in v.ravel()]
                v = v[0] if len(v) == 1 else v
            elif v.size == 1:
                v = v.reshape(-1)[0].item()
        logs[name] = v
    return logs


def _log_mean(v: Any) -> float | None:
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(np.mean(arr)) if arr.size and np.all(np.isfinite(arr)) else None


def _masks(ws: Any, shape: tuple[int, int], file: Any, base: str) -> np.ndarray | None:
    if "masked_spectra" not in ws:
        return None
    spec = read_array(ws, "masked_spectra", file, dtype=np.int64)
    if spec.size % 2 or (spec.ndim == 2 and spec.shape[1] != 2) or spec.ndim > 2:
        raise FormatError("masked_spectra must hold (spectrum index, offset) pairs", file=file,
                          field=base + "masked_spectra", value=spec.shape)
    spec = spec.reshape(-1, 2)
    bins = read_array(ws, "masked_bins", file, dtype=np.int64).ravel()
    mask = np.zeros(shape, dtype=bool)
    offsets = list(spec[:, 1]) + [bins.size]
    for k, (index, start) in enumerate(spec):
        stop = offsets[k + 1]
        if not (0 <= index < shape[0]) or not (0 <= start <= stop <= bins.size):
            raise FormatError("masked_spectra points outside the data", file=file,
                              field=base + "masked_spectra", value=(int(index), int(start)))
        b = bins[start:stop]
        if b.size and (b.min() < 0 or b.max() >= shape[1]):
            raise FormatError("masked bin index outside the data", file=file,
                              field=base + "masked_bins", value=int(b.max()))
        mask[index, b] = True
    return mask


def _optional(entry: Any, name: str, dtype: Any) -> np.ndarray | None:
    """The flattened dataset ``name`` of ``entry`` as ``dtype``, None when absent; FormatError
    when present but damaged (size beyond the file or the read budget, wrong type)."""
    if name not in entry:
        return None
    return read_array(entry, name, entry.file.filename, dtype=dtype).ravel()


def _spectrum_detectors(entry: Any, n_spec: int) -> list[np.ndarray] | None:
    """The detector IDs of each spectrum (instrument/detector index, count and list)."""
    det = "instrument/detector/"
    index, count, dlist = (_optional(entry, det + n, np.int64)
                           for n in ("detector_index", "detector_count", "detector_list"))
    if index is None or count is None or dlist is None:
        return None
    if index.size != n_spec or count.size != n_spec or np.any(index < 0) or np.any(count < 0) or \
            np.any(index + count > dlist.size):
        return None
    return [dlist[index[i]:index[i] + count[i]] for i in range(n_spec)]


def _detector_angles(entry: Any, n_spec: int) -> tuple[dict[str, np.ndarray], str]:
    """Polar and azimuthal angle (deg) of each spectrum and where they came from: the
    per-spectrum (R, 2theta, phi) table ``instrument/detector/detector_positions`` Mantid
    computes for grouped detectors, else the mean over the spectrum's detectors in
    ``instrument/physical_detectors``."""
    pos = "instrument/detector/detector_positions"
    if pos in entry:
        p = read_array(entry, pos, entry.file.filename)
        if p.ndim == 2 and p.shape == (n_spec, 3) and np.all(np.isfinite(p)) and np.any(p[:, 1] != 0):
            out = {"two_theta": p[:, 1]}
            if np.any(p[:, 2] != 0):
                out["azimuthal"] = p[:, 2]
            return out, "detector positions (instrument/detector/detector_positions)"
    phys = "instrument/physical_detectors/"
    groups = _spectrum_detectors(entry, n_spec)
    if groups is None or not all(phys + n in entry for n in ("detector_number", "polar_angle")):
        return {}, ""
    number = _optional(entry, phys + "detector_number", np.int64)
    polar = _optional(entry, phys + "polar_angle", float)
    azim = _optional(entry, phys + "azimuthal_angle", float)
    if number.size != polar.size or (azim is not None and azim.size != polar.size):
        return {}, ""
    lookup = dict(zip(number.tolist(), range(number.size), strict=True))
    tt = np.full(n_spec, np.nan)
    az = np.full(n_spec, np.nan)
    for i, ids in enumerate(groups):
        rows = [lookup[d] for d in ids if d in lookup]
        if rows:
            tt[i] = polar[rows].mean()
            if azim is not None:
                az[i] = azim[rows].mean()
    if not np.all(np.isfinite(tt)):
        return {}, ""
    out = {"two_theta": tt}
    if azim is not None and np.all(np.isfinite(az)):
        out["azimuthal"] = az
    return out, "detector angles (instrument/physical_detectors)"


def _spectrum_efixed(entry: Any, n_spec: int, per_det: dict[int, float]) -> np.ndarray | None:
    """E_fixed (meV) of each spectrum from per-detector values (mean over its detectors)."""
    groups = _spectrum_detectors(entry, n_spec)
    if groups is None or not per_det:
        return None
    out = np.array([np.mean([per_det[d] for d in ids if d in per_det]) if any(d in per_det for d in ids)
                    else np.nan for ids in groups])
    return out if np.all(np.isfinite(out)) else None


def _read_entry(fh: Any, key: str, file: Path, bad_errors: str = "error",
                max_fixed_energy: float = MAX_FIXED_ENERGY
                ) -> tuple[str, sc.DataArray, dict[str, Any]] | None:
    import h5py

    entry = fh[key]
    base = f"{key}/workspace/"
    if not isinstance(entry, h5py.Group) or "workspace" not in entry:
        return None
    ws = entry["workspace"]
    values = read_array(fh, base + "values", file)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise FormatError("values must be 2-D (spectra x bins)", file=file, field=base + "values",
                          value=values.shape)
    errors = read_array(fh, base + "errors", file)
    if errors.ndim == 1:
        errors = errors[None, :]
    if errors.shape != values.shape:
        raise FormatError("errors and values differ in shape", file=file, field=base + "errors",
                          value=(errors.shape, values.shape))
    n_spec, n_x = values.shape
    x = read_array(fh, base + "axis1", file)
    if x.ndim == 2:
        if not np.allclose(x, x[0], rtol=1e-12, atol=0, equal_nan=False):
            raise FormatError("spectra have different x bins; rebin to common bins first "
                              "(Mantid: Rebin)", file=file, field=base + "axis1", value=x.shape)
        x = x[0]
    if x.size not in (n_x, n_x + 1):
        raise FormatError(f"axis1 has {x.size} values for {n_x} bins", file=file,
                          field=base + "axis1", value=x.size)
    xdim, xunit, xfac = _axis_spec(ws["axis1"].attrs, file, base + "axis1")
    x = x * xfac
    if xdim == "spectrum":
        xdim = "x"
    ax2 = ws["axis2"] if "axis2" in ws else None
    ydim, yunit = "spectrum", "dimensionless"
    y = np.arange(1, n_spec + 1, dtype=float)
    text_labels = None
    if ax2 is not None:
        raw = read_dataset(ax2, file, base + "axis2")
        if np.asarray(raw).dtype.kind in "SOU":
            text_labels = [str(bytes_to_str(v)) for v in np.asarray(raw).ravel()]
        else:
            try:
                y = np.asarray(raw, dtype=float).ravel()
            except (TypeError, ValueError) as exc:
                raise FormatError(f"axis2 is not numeric ({exc})", file=file,
                                  field=base + "axis2") from None
            ydim, yunit, yfac = _axis_spec(ax2.attrs, file, base + "axis2")
            y = y * yfac
    if y.size not in (n_spec, n_spec + 1):
        raise FormatError(f"axis2 has {y.size} values for {n_spec} spectra", file=file,
                          field=base + "axis2", value=y.size)
    if xdim == ydim:
        ydim = "spectrum_" + ydim
    mask = _masks(ws, values.shape, file, base)
    nan_values = ~np.isfinite(values) | (values <= _MASK_FLAG)
    meta = _metadata(entry, fh, key, file)
    check_metadata(meta, file, max_fixed_energy, lambda f: f"{key}: {f}")
    meta["distribution"] = str(bytes_to_str(ws["axis1"].attrs.get("distribution", b"0"))) == "1"
    y_label = str(bytes_to_str(ws["values"].attrs.get("units", b""))).strip()
    meta["y_unit_label"] = (str(bytes_to_str(ws["values"].attrs.get("unit_label", b""))).strip()
                            or y_label)
    vunit = "counts" if y_label.lower() == "counts" else "dimensionless"
    if "latdyn_unit" in ws["values"].attrs:
        vunit = to_scipp_unit(str(bytes_to_str(ws["values"].attrs["latdyn_unit"])), file,
                              base + "values (latdyn_unit)")
    extra: dict[str, tuple[str, np.ndarray]] = {}
    if ydim == "two_theta":
        efixed = meta.get("final_energy") or meta.get("incident_energy")
        if efixed:
            extra["two_theta"] = ("deg", y)
            y = q_elastic(float(energy_to_wavelength(efixed)), y)
            ydim, yunit = "Q", "1/angstrom"
            meta["q_source"] = f"elastic Q from 2theta (axis2) and E_fixed ({meta.get('efixed_source')})"
    elif ydim == "spectrum":
        angles, angle_source = _detector_angles(entry, n_spec)
        extra.update({k: ("deg", v) for k, v in angles.items()})
        if angle_source:
            meta["two_theta_source"] = angle_source
        efixed = meta.get("final_energy") if meta.get("emode") != "direct" else meta.get("incident_energy")
        per_spec = None if efixed else _spectrum_efixed(entry, n_spec, meta.pop("_efixed_per_detector", {}))
        if "two_theta" in extra and (efixed or per_spec is not None):
            tt = extra["two_theta"][1]
            lam = energy_to_wavelength(np.full(n_spec, efixed) if efixed else per_spec)
            extra["Q"] = ("1/angstrom", q_elastic(np.asarray(lam, float), tt))
            if per_spec is not None:
                extra["efixed"] = ("meV", per_spec)
            meta["q_source"] = (f"elastic |Q| = 4 pi sin(theta) / lambda per spectrum from the "
                                f"{angle_source} and E_fixed ({meta.get('efixed_source', 'per detector')})")
    if ydim == "Q" and "q_source" not in meta:
        meta["q_source"] = "file (axis2, MomentumTransfer)"
    sx = check_axis(x, file, base + "axis1", allow_decreasing=True)
    if sx < 0:
        x = x[::-1]
        values, errors = values[:, ::-1], errors[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
        nan_values = nan_values[:, ::-1]
    if ydim != "spectrum":
        sy = check_axis(y, file, base + "axis2", allow_decreasing=True)
        if sy < 0:
            y = y[::-1]
            values, errors, nan_values = values[::-1], errors[::-1], nan_values[::-1]
            mask = None if mask is None else mask[::-1]
            extra = {k: (u, v[::-1]) for k, (u, v) in extra.items()}
            text_labels = None if text_labels is None else text_labels[::-1]
    if mask is None:
        mask = np.zeros(values.shape, dtype=bool)
    report: dict[str, Any] = {}
    da = assemble(values, errors, {ydim: y, xdim: x}, {ydim: yunit, xdim: xunit}, vunit, file,
                  base + "values", mask=mask | nan_values, mask_name="masked_bins",
                  name=meta.get("workspace_name", key), bad_errors=bad_errors, report=report)
    meta.update(report)
    if "masked_bins" in da.masks:
        del da.masks["masked_bins"]
        if mask.any():
            da.masks["masked_bins"] = sc.array(dims=[ydim, xdim], values=mask)
        only_nan = nan_values & ~mask
        if only_nan.any():
            da.masks["not_measured"] = sc.array(dims=[ydim, xdim], values=only_nan)
    for name, (unit, vals) in extra.items():
        da.coords[name] = sc.array(dims=[ydim], values=vals, unit=unit)
    if text_labels is not None and len(text_labels) == n_spec:
        da.coords["label"] = sc.array(dims=[ydim], values=text_labels)
    meta.pop("_efixed_per_detector", None)
    return meta.get("workspace_name", key), da, meta


def _metadata(entry: Any, fh: Any, key: str, file: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {"entry": key}
    name = decode(entry, "workspace_name")
    if name:
        meta["workspace_name"] = name
    instrument = decode(entry, "instrument/name")
    if instrument:
        meta["instrument"] = instrument
    notes: list[str] = []
    logs = _logs(entry["logs"], file, notes) if "logs" in entry else {}
    meta["logs"] = logs
    if notes:
        meta["notes"] = notes
    title = decode(entry, "title")
    for cand in (logs.get("run_title"), title, logs.get("title")):
        if isinstance(cand, str) and cand.strip():
            meta["title"] = cand.strip()
            break
    params = _param_map(decode(entry, "instrument/instrument_parameter_map/data"), instrument)
    meta["instrument_parameters"] = params
    mode = params.get("deltaE-mode", logs.get("deltaE-mode", ""))
    if isinstance(mode, str) and mode:
        meta["emode"] = mode.strip().lower()
    for k in _TEMPERATURE_LOGS:
        if k not in logs:
            continue
        t = _log_mean(logs[k])
        if t is not None:
            meta["sample_temperature"] = t
            break
        meta.setdefault("notes", []).append(
            f"temperature log '{k}' holds no finite numbers and was ignored")
    if "run_number" in logs:
        meta["run_number"] = str(logs["run_number"])
    pmap_text = decode(entry, "instrument/instrument_parameter_map/data")
    map_efixed, per_det, map_source = _efixed_from_map(pmap_text)
    efixed, source = None, ""
    for value, where in ((map_efixed, map_source), (_log_mean(logs.get("Efixed")), "sample log 'Efixed'"),
                         (_log_mean(logs.get("efixed")), "sample log 'efixed'")):
        if value is not None and value > 0:
            efixed, source = value, where
            break
    ei = _log_mean(logs.get("Ei"))
    if meta.get("emode") == "indirect" and efixed:
        meta["final_energy"], meta["efixed_source"] = efixed, source
    elif ei:
        meta["incident_energy"], meta["efixed_source"] = ei, "sample log 'Ei'"
    elif efixed:
        key_e = "incident_energy" if meta.get("emode") == "direct" else "final_energy"
        meta[key_e], meta["efixed_source"] = efixed, source
    elif per_det:
        meta["_efixed_per_detector"] = per_det
        meta["efixed_source"] = map_source
    history = []
    if "process" in entry:
        for pname in sorted(entry["process"], key=lambda s: (len(s), s)):
            if pname.startswith("MantidAlgorithm"):
                text = decode(entry["process"], pname + "/data") or ""
                history.append(text.splitlines()[0] if text else pname)
    meta["history"] = history
    return meta


@names_input_file
def read_mantid_nexus(path: str | Path, workspaces: list[str] | None = None, *,
                      bad_errors: str = "error",
                      max_fixed_energy: float = MAX_FIXED_ENERGY) -> LoadedData:
    """Read a Mantid processed NeXus file (one entry per workspace).

    Parameters
    ----------
    workspaces: names (``workspace_name``) of the workspaces to keep; all when None.
    bad_errors: 'error' (default) or 'mask': what to do with NaN, negative, or zero errors on
        non-zero values (:func:`latdyn.data.io._common.assemble`).
    max_fixed_energy: largest E_i/E_f accepted (meV).

    Returns
    -------
    LoadedData; each DataArray is 2-D (spectrum axis, x axis) with variances = errors**2.
    Metadata per entry: ``workspace_name``, ``instrument``, ``title``, ``logs`` (all sample
    logs; time series as arrays), ``sample_temperature`` (K, mean of the temperature log),
    ``incident_energy`` or ``final_energy`` (meV; from the ``Ei``/``Efixed`` logs or the
    instrument parameter map, by ``deltaE-mode``), ``emode``, ``run_number``,
    ``distribution``, ``y_unit_label``, ``instrument_parameters``, ``history`` (algorithms),
    ``q_source``.
    """
    p = Path(path)
    check_bad_errors_option(bad_errors, p)
    entries: dict[str, sc.DataArray] = {}
    metadata: dict[str, dict[str, Any]] = {}
    skipped = []
    with open_hdf5(p) as fh:
        keys = _entry_names(fh)
        if not keys:
            raise FormatError("no mantid_workspace_N entry", file=p, field="/")
        for key in keys:
            got = _read_entry(fh, key, p, bad_errors, max_fixed_energy)
            if got is None:
                skipped.append(key)
                continue
            name, da, meta = got
            if name in entries:
                name = f"{name}_{key}"
            if workspaces is None or name in workspaces:
                entries[name] = da
                metadata[name] = meta
    if not entries:
        raise FormatError("no readable 2-D workspace (table and event workspaces are not "
                          f"supported; skipped {skipped})", file=p, field="/",
                          value=workspaces)
    if skipped:
        for meta in metadata.values():
            meta["skipped_entries"] = skipped
    return LoadedData(p, "mantid_nexus", entries, metadata, max_fixed_energy=max_fixed_energy)


def _str_ds(grp: Any, name: str, text: str, **attrs: str) -> None:
    data = text.encode("utf-8") or b" "
    ds = grp.create_dataset(name, data=np.array([data]))
    for k, v in attrs.items():
        ds.attrs[k] = np.bytes_(v)


def _axis_attrs(dim: str, unit: str, file: Any) -> tuple[dict[str, str], float]:
    if dim in _DIM_TO_MANTID:
        mid = _DIM_TO_MANTID[dim]
        target = MANTID_UNITS[mid][1]
        try:
            factor = float(sc.scalar(1.0, unit=unit).to(unit=target).value)
        except Exception:
            raise InputError(f"coordinate unit cannot be converted to {target}", file=file,
                             field=dim, value=unit) from None
        return {"units": mid}, factor
    return {"units": "Label", "caption": dim, "label": "" if unit == "dimensionless" else unit}, 1.0


def _sample_group(entry: Any) -> None:
    """An empty NXsample as SaveNexusProcessed writes it (no shape, empty material)."""
    sample = entry.create_group("sample")
    sample.attrs["NX_class"] = np.bytes_("NXsample")
    sample.attrs["name"] = np.bytes_(" ")
    sample.attrs["shape_xml"] = np.bytes_('<type name="userShape">  </type>')
    sample.attrs["version"] = np.int32(1)
    for k in ("geom_height", "geom_thickness", "geom_width"):
        sample.create_dataset(k, data=np.array([0.0]))
    for k in ("geom_id", "num_oriented_lattice", "num_other_samples"):
        sample.create_dataset(k, data=np.array([0], dtype=np.int32))
    material = sample.create_group("material")
    material.attrs["NX_class"] = np.bytes_("NXdata")
    material.attrs["formulaStyle"] = np.bytes_("empty")
    material.attrs["name"] = np.bytes_(" ")
    material.attrs["version"] = np.int32(2)
    for k in ("number_density", "pressure", "temperature"):
        material.create_dataset(k, data=np.array([0.0]))


def write_mantid_nexus(path: str | Path, data: sc.DataArray | dict[str, sc.DataArray], *,
                       metadata: dict[str, dict[str, Any]] | None = None) -> Path:
    """Write 2-D DataArrays (e.g. S(Q,E)) as Mantid processed NeXus (SaveNexusProcessed layout).

    ``data`` is one DataArray or a dict name -> DataArray (a workspace group).  Each array must
    be 2-D; its first dim is the spectrum axis (axis2), the second the x axis (axis1).  Units
    are converted to Mantid's (E -> DeltaE in meV, Q -> MomentumTransfer in 1/angstrom, ...);
    other dims are written as Label axes.  Masks are written as masked bins; variances as
    errors (sqrt).  Metadata scalars ``instrument``, ``title`` and ``sample_temperature`` are
    written when given.  The write is atomic.
    """
    arrays = {data.name or "workspace": data} if isinstance(data, sc.DataArray) else dict(data)
    if not arrays:
        raise InputError("nothing to write", file=path, field="data")
    metadata = metadata or {}

    p = Path(path)
    prepared = []
    for name, da in arrays.items():
        if not isinstance(da, sc.DataArray) or da.ndim != 2:
            raise InputError("each workspace must be a 2-D DataArray", file=p, field=name,
                             value=getattr(da, "dims", type(da).__name__))
        ydim, xdim = da.dims
        for d in (ydim, xdim):
            if d not in da.coords:
                raise InputError("dimension has no coordinate", file=p, field=f"{name}.{d}")
        xattrs, xfac = _axis_attrs(xdim, str(da.coords[xdim].unit), p)
        if ydim == "spectrum":
            yattrs, yfac = {"units": "spectraNumber"}, 1.0
        else:
            yattrs, yfac = _axis_attrs(ydim, str(da.coords[ydim].unit), p)
        mask = np.zeros(da.shape, dtype=bool)
        for m in da.masks.values():
            mask |= np.broadcast_to(m.broadcast(sizes=da.sizes).values, da.shape)
        prepared.append((name, da, xattrs, xfac, yattrs, yfac, mask))
    with hdf5_writer(p) as fh:
        fh.attrs["NeXus_version"] = np.bytes_("4.3.0")
        fh.attrs["file_name"] = np.bytes_(str(p))
        fh.attrs["creator"] = np.bytes_(f"latdyn {__version__}")
        for k, (name, da, xattrs, xfac, yattrs, yfac, mask) in enumerate(prepared, start=1):
            meta = metadata.get(name, {})
            entry = fh.create_group(f"mantid_workspace_{k}")
            entry.attrs["NX_class"] = np.bytes_("NXentry")
            _str_ds(entry, "definition", "Mantid Processed Workspace",
                    URL="http://www.nexusformat.org/instruments/xml/NXprocessed.xml",
                    Version="1.0")
            _str_ds(entry, "workspace_name", name)
            _str_ds(entry, "title", str(meta.get("title", name)))
            inst = entry.create_group("instrument")
            inst.attrs["NX_class"] = np.bytes_("NXinstrument")
            _str_ds(inst, "name", str(meta.get("instrument", "")))
            _sample_group(entry)
            logs = entry.create_group("logs")
            logs.attrs["NX_class"] = np.bytes_("NXgroup")
            if "sample_temperature" in meta:
                lg = logs.create_group("sample.temperature")
                lg.attrs["NX_class"] = np.bytes_("NXlog")
                lg.create_dataset("value", data=np.array([float(meta["sample_temperature"])]))
                lg["value"].attrs["units"] = np.bytes_("K")
            ws = entry.create_group("workspace")
            ws.attrs["NX_class"] = np.bytes_("NXdata")
            ydim, xdim = da.dims
            vals = np.array(da.values, dtype=float)
            errs = (np.sqrt(np.array(da.variances, dtype=float)) if da.variances is not None
                    else np.zeros_like(vals))
            v = ws.create_dataset("values", data=vals)
            v.attrs["signal"] = np.int32(1)
            v.attrs["axes"] = np.bytes_("axis2,axis1")
            unit = str(da.unit) if da.unit is not None else ""
            v.attrs["units"] = np.bytes_("Counts" if unit == "counts" else "")
            v.attrs["unit_label"] = np.bytes_(str(meta.get("y_unit_label", unit)))
            v.attrs["latdyn_unit"] = np.bytes_(unit or "dimensionless")
            ws.create_dataset("errors", data=errs)
            a1 = ws.create_dataset("axis1", data=np.asarray(da.coords[xdim].values, float) * xfac)
            for kk, vv in xattrs.items():
                a1.attrs[kk] = np.bytes_(vv)
            a1.attrs["distribution"] = np.bytes_("1" if meta.get("distribution") else "0")
            yv = np.asarray(da.coords[ydim].values, float) * yfac
            a2 = ws.create_dataset("axis2", data=yv)
            for kk, vv in yattrs.items():
                a2.attrs[kk] = np.bytes_(vv)
            if mask.any():
                spectra = np.flatnonzero(mask.any(axis=1))
                bins, offsets = [], []
                for s in spectra:
                    offsets.append(sum(len(b) for b in bins))
                    bins.append(np.flatnonzero(mask[s]))
                flat = np.concatenate(bins).astype(np.uint64)
                ws.create_dataset("masked_spectra", data=np.stack(
                    [spectra, np.asarray(offsets)], axis=1).astype(np.int32))
                ws["masked_spectra"].attrs["description"] = np.bytes_(
                    "spectra index,offset in masked_bins and mask_weights")
                ws.create_dataset("masked_bins", data=flat)
                ws.create_dataset("mask_weights", data=np.ones(flat.size))
            proc = entry.create_group("process")
            proc.attrs["NX_class"] = np.bytes_("NXprocess")
            note = proc.create_group("MantidAlgorithm_1")
            note.attrs["NX_class"] = np.bytes_("NXnote")
            _str_ds(note, "author", "latdyn")
            _str_ds(note, "data", f"Algorithm: latdyn.write_mantid_nexus v{__version__}")
            _str_ds(note, "description", "Mantid Algorithm data")
    return p
