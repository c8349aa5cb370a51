"""ILL LAMP-written HDF5 (NeXus-like) files of reduced TOF / backscattering data.

Layout read (as LAMP writes it, e.g. IN5 ``H2O_293K_5A.hdf``)::

    /                       attrs SOURCE (instrument), TITLES, HISTORY, ...
    /entry1/data1/DATA      (nY, nX) intensity; rows are Q groups (or angles)
    /entry1/data1/errors    (nY, nX) standard deviations; -1 marks bins with no data
    /entry1/data1/X         (nX or nX+1) energy transfer, meV (long_name says the unit)
    /entry1/data1/Y         (nY or nY+1) Q in 1/angstrom (long_name 'Wavevector Transfer')
    /entry1/data1/PARAMETERS  one text block, lines 'name = value'

The result has dims ``('Q', 'E')`` (``('spectrum', 'E')`` when Y is not a wave-vector
transfer).  Bins LAMP marks with error -1 (exactly) are masked (mask ``'unmeasured'``; value
and variance set to 0); any other negative error, a NaN error or a zero error on a non-zero
value is a FormatError unless the caller asks to mask them (``bad_errors='mask'``, count in
``metadata['masked_bad_errors']``).  Every ``PARAMETERS`` line becomes
``metadata['parameters'][name]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError
from ...fileio import names_input_file
from ...units import E_LAMBDA2
from ._common import (
    assemble,
    bytes_to_str,
    check_axis,
    check_bad_errors_option,
    open_hdf5,
    read_array,
    read_dataset,
)
from .container import LoadedData
from .validate import MAX_FIXED_ENERGY

__all__ = ["read_lamp_hdf", "parse_lamp_parameters", "is_lamp_hdf"]

_BACKSCATTERING = ("IN10", "IN13", "IN16", "IN16B")


def is_lamp_hdf(fh: Any) -> bool:
    """True when an open h5py file has the LAMP ``entry1/data1/DATA`` layout (False when the
    file is too damaged to tell)."""
    try:
        return "entry1/data1/DATA" in fh and "entry1/data1/X" in fh
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False


def parse_lamp_parameters(text: str) -> dict[str, Any]:
    """Parse a LAMP PARAMETERS block into ``{name: value}``.

    Lines read ``' 11) Sample temperature [K] = 293.349'`` or ``'(Sample) temperature = 293.3'``;
    a name with a colon (``'(Instrument) name: IN5 = 0.0'``) carries a string value after the
    colon.  Numbering prefixes are dropped and inner whitespace collapsed.
    """
    out: dict[str, Any] = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        left, _, right = line.rpartition("=")
        name = re.sub(r"^\s*\d+\)\s*", "", left)
        name = re.sub(r"\s+", " ", name).strip()
        if not name:
            continue
        if ":" in name:
            key, _, sval = name.partition(":")
            out[key.strip()] = sval.strip()
            continue
        try:
            out[name] = float(right)
        except ValueError:
            out[name] = right.strip()
    return out


def _axis_unit(long_name: str) -> tuple[str, float]:
    """Energy unit named in a LAMP long_name -> (scipp unit, factor to meV)."""
    low = long_name.lower()
    if "uev" in low or "micro" in low or "\u00b5ev" in low:
        return "meV", 1e-3
    return "meV", 1.0


def _first(params: dict[str, Any], *names: str) -> Any:
    for n in names:
        if n in params and params[n] not in ("", 0.0):
            return params[n]
    return None


@names_input_file
def read_lamp_hdf(path: str | Path, *, bad_errors: str = "error",
                  max_fixed_energy: float = MAX_FIXED_ENERGY) -> LoadedData:
    """Read an ILL LAMP HDF5 file into a DataArray S(Q, E) with variances.

    ``bad_errors``: 'error' (default) or 'mask' (module docstring); ``max_fixed_energy``: the
    largest E_i/E_f accepted (meV).

    Units: E in meV (converted from micro-eV when X's long_name says so), Q in 1/angstrom,
    values dimensionless (LAMP-normalised intensity).  Metadata: ``instrument``, ``title``,
    ``sample_temperature`` (K), ``wavelength`` (angstrom), ``incident_energy`` or
    ``final_energy`` (meV, E = 81.80 meV A^2 / lambda^2; final for backscattering
    instruments), ``run_number``, ``monitor``, ``parameters`` (all of PARAMETERS), ``history``.
    """
    p = Path(path)
    check_bad_errors_option(bad_errors, p)
    with open_hdf5(p) as fh:
        if not is_lamp_hdf(fh):
            raise FormatError("not a LAMP HDF5 file", file=p, field="entry1/data1/DATA")
        base = "entry1/data1/"
        data = read_array(fh, base + "DATA", p, ndim=2)
        errors = read_array(fh, base + "errors", p, ndim=2)
        x = read_array(fh, base + "X", p, ndim=1)
        y = read_array(fh, base + "Y", p, ndim=1)
        x_name = str(bytes_to_str(fh[base + "X"].attrs.get("long_name", b"")))
        y_name = str(bytes_to_str(fh[base + "Y"].attrs.get("long_name", b"")))
        ptext = ""
        if base + "PARAMETERS" in fh:
            ptext = bytes_to_str(read_dataset(fh[base + "PARAMETERS"], p, base + "PARAMETERS"))
            if isinstance(ptext, np.ndarray):
                ptext = "\n".join(str(bytes_to_str(v)) for v in ptext.ravel())
            ptext = str(ptext)
        attrs = {k: bytes_to_str(v) for k, v in fh.attrs.items()}
        monitor = fh[base + "DATA"].attrs.get("MONITORS")
    if data.shape == (x.size, y.size) or data.shape == (x.size - 1, y.size - 1):
        data, errors = data.T, errors.T
    ny, nx = data.shape
    if x.size not in (nx, nx + 1):
        raise FormatError(f"X has {x.size} values for {nx} energy columns",
                          file=p, field=base + "X", value=x.size)
    if y.size not in (ny, ny + 1):
        raise FormatError(f"Y has {y.size} values for {ny} rows", file=p, field=base + "Y",
                          value=y.size)
    if errors.shape != data.shape:
        raise FormatError("errors and DATA differ in shape", file=p, field=base + "errors",
                          value=(errors.shape, data.shape))
    unit_e, factor = _axis_unit(x_name)
    x = x * factor
    sx = check_axis(x, p, base + "X", allow_decreasing=True)
    sy = check_axis(y, p, base + "Y", allow_decreasing=True)
    if sx < 0:
        x, data, errors = x[::-1], data[:, ::-1], errors[:, ::-1]
    if sy < 0:
        y, data, errors = y[::-1], data[::-1], errors[::-1]
    is_q = ("wavevector" in y_name.lower() or y_name.strip().upper().startswith("Q")
            or "a-1" in y_name.lower() or "A!U-1" in y_name)
    ydim = "Q" if is_q else "spectrum"
    unmeasured = errors == -1.0
    report: dict[str, Any] = {}
    da = assemble(data, errors, {ydim: y, "E": x},
                  {ydim: "1/angstrom" if is_q else "dimensionless", "E": unit_e},
                  "dimensionless", p, base + "DATA", mask=unmeasured, mask_name="unmeasured",
                  name=str(attrs.get("TITLES", "")), bad_errors=bad_errors, report=report)
    params = parse_lamp_parameters(ptext)
    meta: dict[str, Any] = {"parameters": params, "x_label": x_name.strip(),
                            "y_label": y_name.strip(), **report}
    instrument = _first(params, "(Instrument) name") or attrs.get("SOURCE")
    if instrument:
        meta["instrument"] = str(instrument).strip()
    if attrs.get("TITLES"):
        meta["title"] = str(attrs["TITLES"]).strip()
    temp = _first(params, "(Sample) temperature", "Sample temperature [K]")
    if isinstance(temp, float):
        meta["sample_temperature"] = temp
    lam = _first(params, "(Entry) wavelength", "Wavelength (angstroms)")
    if isinstance(lam, float):
        if not (np.isfinite(lam) and lam > 0):
            raise FormatError("the wavelength must be a positive finite number (angstrom)",
                              file=p, field=base + "PARAMETERS (wavelength)", value=lam)
        meta["wavelength"] = lam
        key = ("final_energy" if str(meta.get("instrument", "")).upper() in _BACKSCATTERING
               else "incident_energy")
        meta[key] = E_LAMBDA2 / lam**2
    run = _first(params, "(Entry) run_number", "Numor")
    if run is not None:
        meta["run_number"] = (str(int(run)) if isinstance(run, float) and np.isfinite(run)
                              else str(run))
    if monitor is not None:
        try:
            m = np.asarray(monitor, dtype=float).ravel()
        except (TypeError, ValueError):
            m = np.empty(0)
        if m.size and np.isfinite(m[0]):
            meta["monitor"] = float(m[0])
    if attrs.get("HISTORY"):
        meta["history"] = [s.strip() for s in str(attrs["HISTORY"]).split("...") if s.strip()]
    meta["q_source"] = "file (Y axis)" if is_q else "none"
    return LoadedData(p, "lamp_hdf", {p.stem: da}, {p.stem: meta},
                      max_fixed_energy=max_fixed_energy)
