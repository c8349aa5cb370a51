"""The boundary check every loaded dataset passes (:class:`LoadedData` runs it on creation).

Measured data (every format but latdyn's own results files):

* each dim has at least one point and a coordinate that is finite and strictly increasing;
* values finite, variances finite and not negative (the readers have already turned points
  the file marks as unmeasured into masks, and refused or masked bad errors:
  :func:`latdyn.data.io._common.assemble`);
* masks are boolean;
* metadata are physical: ``incident_energy`` and ``final_energy`` finite, positive and at
  most ``max_fixed_energy`` (1000 meV = 1 eV unless the caller says otherwise);
  ``wavelength`` finite and positive; ``sample_temperature`` finite and positive, or it is
  removed and the reason is added to ``metadata['notes']`` (a temperature the file gets
  wrong must not switch detailed balance on or off silently).

Results files (``results_h5``) hold what latdyn wrote, model curves with NaN outside a fit
range included; only their masks are checked.  Files in scipp's own layout (``scipp_h5``, as
``latdyn simulate``, ``phonons`` and ``md`` write them) may have coordinates that are not
monotonic (a dispersion path); their masks and metadata are checked, and their reader has
already masked non-finite values.  CSV results tables (``csv_table``) are checked like results
files (a table may hold NaN for an undetermined value), and so are QENS fit files
(``qens_fit_h5``).  Every failure is a FormatError naming the
file, the entry and the field.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError

__all__ = ["validate_loaded", "check_metadata", "MAX_FIXED_ENERGY"]

#: default upper limit of E_i and E_f (meV): 1 eV
MAX_FIXED_ENERGY = 1000.0


def _where(name: str, n_entries: int, field: str) -> str:
    return field if n_entries == 1 else f"{name}: {field}"


def _check_masks(da: sc.DataArray, file: Any, where) -> None:
    for mname, m in da.masks.items():
        if m.dtype != sc.DType.bool:
            raise FormatError("mask is not boolean", file=file, field=where(f"mask '{mname}'"),
                              value=str(m.dtype))


def _check_measured(da: sc.DataArray, file: Any, where) -> None:
    for dim, size in da.sizes.items():
        if size == 0:
            raise FormatError("no data along this dimension (zero length)", file=file,
                              field=where(dim))
        if dim not in da.coords:
            continue
        c = da.coords[dim]
        if c.dtype not in (sc.DType.float64, sc.DType.float32, sc.DType.int64, sc.DType.int32):
            continue
        v = np.asarray(c.values, dtype=float)
        if v.ndim != 1:
            continue
        if not np.all(np.isfinite(v)):
            raise FormatError("coordinate holds NaN or infinity", file=file, field=where(dim))
        if v.size > 1 and not np.all(np.diff(v) > 0):
            raise FormatError("coordinate is not strictly increasing", file=file, field=where(dim))
    for cname, c in da.coords.items():
        if c.dtype in (sc.DType.float64, sc.DType.float32) and \
                not np.all(np.isfinite(np.asarray(c.values))):
            raise FormatError("coordinate holds NaN or infinity", file=file, field=where(cname))
    if not np.all(np.isfinite(da.values)):
        raise FormatError("values hold NaN or infinity", file=file, field=where("values"))
    if da.variances is not None:
        var = np.asarray(da.variances)
        if not np.all(np.isfinite(var)) or np.any(var < 0):
            raise FormatError("variances must be finite and not negative", file=file,
                              field=where("errors"))


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def check_metadata(meta: dict[str, Any], file: Any, max_fixed_energy: float = MAX_FIXED_ENERGY,
                   where=lambda field: field) -> None:
    """Check E_i, E_f, wavelength and temperature in ``meta`` (module docstring); readers call
    it before they use those values (e.g. to convert angles to |Q|)."""
    for key in ("incident_energy", "final_energy"):
        if key not in meta:
            continue
        e = _number(meta[key])
        source = meta.get("efixed_source")
        field = where(f"{key}" + (f" from {source}" if source else ""))
        if e is None or not np.isfinite(e) or e <= 0:
            raise FormatError("the fixed energy must be a positive finite number (meV)",
                              file=file, field=field, value=meta[key])
        if e > max_fixed_energy:
            raise FormatError(f"the fixed energy is above {max_fixed_energy:g} meV (a damaged "
                              "file or a wrong unit?  pass max_fixed_energy= to allow it)",
                              file=file, field=field, value=e)
    if "wavelength" in meta:
        lam = _number(meta["wavelength"])
        if lam is None or not np.isfinite(lam) or lam <= 0:
            raise FormatError("the wavelength must be a positive finite number (angstrom)",
                              file=file, field=where("wavelength"), value=meta["wavelength"])
    if "sample_temperature" in meta:
        t = _number(meta["sample_temperature"])
        if t is None or not np.isfinite(t) or t <= 0:
            bad = meta.pop("sample_temperature")
            notes = meta.setdefault("notes", [])
            notes.append(f"the sample temperature in the file ({bad!r}) is not a positive finite "
                         "number (K) and was ignored; give the temperature explicitly where "
                         "it matters (detailed balance)")


def validate_loaded(loaded: Any, max_fixed_energy: float = MAX_FIXED_ENERGY) -> None:
    """Check every entry of a :class:`LoadedData` (module docstring); FormatError naming the
    file, entry and field at the first problem.  May remove an unphysical temperature from
    the metadata (with a note)."""
    file = loaded.path
    n = len(loaded.entries)
    if n == 0:
        raise FormatError("the file holds no data entry", file=file)
    measured = loaded.format not in ("results_h5", "scipp_h5", "csv_table", "qens_fit_h5")
    for name, da in loaded.entries.items():
        def where(field: str, _name: str = name) -> str:
            return _where(_name, n, field)

        if not isinstance(da, sc.DataArray):
            raise FormatError("entry is not a DataArray", file=file, field=where("entry"),
                              value=type(da).__name__)
        _check_masks(da, file, where)
        if measured:
            _check_measured(da, file, where)
        if measured or loaded.format == "scipp_h5":
            check_metadata(loaded.metadata.setdefault(name, {}), file, max_fixed_energy, where)
