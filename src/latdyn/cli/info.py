"""``latdyn info FILE``: summarise any supported data or results file.

One row per entry (workspace): dims with sizes, coordinate ranges and units, value unit,
whether uncertainties and masks are present; below the table the format and the main
metadata (instrument, title, temperature, E_i/E_f, how Q was obtained).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .output import add_json_flag, emit

_META_KEYS = ("instrument", "title", "run_number", "sample_temperature", "incident_energy",
              "final_energy", "wavelength", "emode", "q_source", "distribution")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarise a data or results file",
                       description="Read FILE (Mantid NeXus, NXSPE, LAMP HDF, INX, DAVE grp, "
                                   "column ASCII or latdyn results) and summarise its entries.")
    p.add_argument("file", help="the file to inspect")
    p.add_argument("--format", default=None, help="force a reader instead of detecting")
    p.add_argument("--logs", action="store_true", help="also list the sample logs (JSON only "
                   "prints them in full)")
    add_json_flag(p)
    p.set_defaults(func=run)


def _range(da, dim: str) -> str:
    c = da.coords[dim]
    vals = np.asarray(c.values)
    if vals.dtype.kind in "fi" and vals.size:
        edges = " edges" if da.coords.is_edges(dim) else ""
        return f"{vals.min():.6g} .. {vals.max():.6g} {c.unit}{edges}"
    return f"{vals.size} labels"


def summarise(loaded) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows (one per entry) and extra fields describing a LoadedData."""
    rows = []
    for name, da in loaded.entries.items():
        masked = sum(int(np.count_nonzero(m.values)) for m in da.masks.values())
        rows.append({
            "entry": name,
            "dims": " x ".join(f"{d}:{n}" for d, n in da.sizes.items()),
            "ranges": "; ".join(f"{d} {_range(da, d)}" for d in da.dims if d in da.coords),
            "unit": str(da.unit),
            "errors": da.variances is not None,
            "masked_points": masked,
        })
    extra: dict[str, Any] = {"file": str(loaded.path), "format": loaded.format,
                             "entries": len(loaded)}
    for name, meta in loaded.metadata.items():
        prefix = "" if len(loaded) == 1 else f"{name}: "
        for k in _META_KEYS:
            if k in meta:
                extra[prefix + ("run_title" if k == "title" else k)] = meta[k]
        if "provenance" in meta:
            prov = meta["provenance"]
            extra[prefix + "written_by"] = f"latdyn {prov.get('latdyn_version')}"
            extra[prefix + "command_line"] = prov.get("command_line")
            extra[prefix + "tables"] = ", ".join(meta.get("tables", []))
    return rows, extra


def run(args: argparse.Namespace) -> int:
    from ..data.io import load

    loaded = load(args.file, format=args.format)
    rows, extra = summarise(loaded)
    if args.logs:
        for name, meta in loaded.metadata.items():
            logs = meta.get("logs", {})
            key = "logs" if len(loaded) == 1 else f"{name}: logs"
            if args.json:
                extra[key] = logs
            else:
                extra[key] = ", ".join(f"{k}={_short(v)}" for k, v in logs.items())
    emit(rows, as_json=args.json, title=f"{loaded.path.name} ({loaded.format})", extra=extra)
    return 0


def _short(v: Any) -> str:
    arr = np.asarray(v) if not isinstance(v, str) else None
    if arr is not None and arr.ndim and arr.size > 1:
        if arr.dtype.kind in "fi":
            return f"[{arr.size} values, mean {arr.mean():.6g}]"
        return f"[{arr.size} values]"
    return str(v)
