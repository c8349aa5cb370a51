"""What a file holds, in a few lines: :func:`summarise` (used by ``latdyn info``).

One row per entry (dims with sizes, coordinate ranges and units, value unit, uncertainties,
masked points) and the measurement's metadata: instrument, title, temperature, E_i or E_f and
where it was read, and the |Q| of every group with where it came from (the file's axis, or
detector angles and E_fixed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipp as sc

__all__ = ["summarise", "META_KEYS"]

META_KEYS = ("instrument", "title", "run_number", "sample_temperature", "incident_energy",
             "final_energy", "efixed_source", "wavelength", "emode", "two_theta_source", "q_source",
             "distribution", "text_encoding", "masked_bad_errors", "non_finite_points",
             "zero_count_points", "zero_error_points", "scipp_type", "n_frames", "n_atoms", "species",
             "time_step", "box", "has_velocities", "creator", "mode", "converged", "chi2", "n_points",
             "n_varied", "source", "reasons", "notes")


def _range(da, dim: str) -> str:
    c = da.coords[dim]
    vals = np.asarray(c.values)
    if vals.dtype.kind in "fi" and vals.size:
        edges = " edges" if da.coords.is_edges(dim) else ""
        return f"{vals.min():.6g} .. {vals.max():.6g} {c.unit}{edges}"
    return f"{vals.size} labels"


def _short(v: Any) -> str:
    arr = np.asarray(v) if not isinstance(v, str) else None
    if arr is not None and arr.ndim and arr.size > 1:
        if arr.dtype.kind in "fi":
            return f"[{arr.size} values, mean {arr.mean():.6g}]"
        return f"[{arr.size} values]"
    return str(v)


def _ranges(da) -> str:
    """Coordinate ranges of the dims; for a table column (no dim coordinate) its value range
    and the label columns beside it."""
    text = "; ".join(f"{d} {_range(da, d)}" for d in da.dims if d in da.coords)
    if text:
        return text
    vals = np.asarray(da.values, dtype=float)
    finite = vals[np.isfinite(vals)]
    parts = [f"values {finite.min():.6g} .. {finite.max():.6g}" if finite.size else "no finite values"]
    for k, c in da.coords.items():
        if c.dtype == sc.DType.string:
            labels = [str(x) for x in c.values]
            parts.append(f"{k} {', '.join(labels[:4])}" + (" ..." if len(labels) > 4 else ""))
    return "; ".join(parts)


def group_q(da) -> list[float] | None:
    """|Q| (1/A) of each group of a (group, E) entry: the Q dim's coordinate, or a Q coordinate
    on the group dim (e.g. from detector angles); None when the groups carry none."""
    if "E" not in da.dims or da.ndim != 2:
        return None
    other = next(d for d in da.dims if d != "E")
    if "Q" not in da.coords or da.coords["Q"].dims != (other,):
        return None
    q = np.asarray(da.coords["Q"].values, dtype=float)
    if da.coords.is_edges("Q"):
        q = 0.5 * (q[1:] + q[:-1])
    return [float(x) for x in q]


def summarise(loaded, logs: bool = False, as_text: bool = True
              ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(rows, fields) describing a :class:`LoadedData`; ``logs`` adds the sample logs (in
    short form when ``as_text``, in full otherwise)."""
    rows = []
    fields: dict[str, Any] = {"file": str(loaded.path), "format": loaded.format, "entries": len(loaded)}
    for name, da in loaded.entries.items():
        masked = sum(int(np.count_nonzero(m.values)) for m in da.masks.values())
        rows.append({"entry": name, "dims": " x ".join(f"{d}:{n}" for d, n in da.sizes.items()),
                     "ranges": _ranges(da),
                     "unit": str(da.unit), "errors": da.variances is not None, "masked_points": masked})
        meta = loaded.metadata.get(name, {})
        prefix = "" if len(loaded) == 1 else f"{name}: "
        for k in META_KEYS:
            if k in meta:
                fields[prefix + ("run_title" if k == "title" else k)] = meta[k]
        q = group_q(da)
        if q is not None:
            fields[prefix + "group_Q"] = [round(x, 6) for x in q]
            if "two_theta" in da.coords:
                tt = da.coords["two_theta"].values
                fields[prefix + "group_two_theta"] = [round(float(x), 4) for x in tt]
        if "provenance" in meta:
            prov = meta["provenance"]
            fields[prefix + "written_by"] = f"latdyn {prov.get('latdyn_version')}"
            fields[prefix + "command_line"] = prov.get("command_line")
            fields[prefix + "tables"] = ", ".join(meta.get("tables", []))
        if logs:
            entries = meta.get("logs", {})
            fields[prefix + "logs"] = ", ".join(f"{k}={_short(v)}" for k, v in entries.items()) \
                if as_text else entries
    return rows, fields
