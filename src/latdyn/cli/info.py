"""``latdyn info FILE``: summarise any supported data or results file.

One row per entry (workspace): dims with sizes, coordinate ranges and units, value unit,
whether uncertainties and masks are present; below the table the format and the main
metadata (instrument, title, temperature, E_i/E_f and its source, the |Q| of each group and
how it was obtained): :func:`latdyn.data.io.summarise`.
"""

from __future__ import annotations

import argparse

from .options import add_common
from .output import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarise a data or results file",
                       description="Read FILE (Mantid NeXus, NXSPE, LAMP HDF, INX, DAVE grp, "
                                   "column ASCII, or anything latdyn writes: results and QENS fit "
                                   "HDF5, scipp HDF5, H5MD, CSV tables) and summarise its entries.")
    p.add_argument("file", help="the file to inspect")
    p.add_argument("--format", default=None, help="force a reader instead of detecting")
    p.add_argument("--logs", action="store_true", help="also list the sample logs (JSON only "
                   "prints them in full)")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.io import load, summarise

    loaded = load(args.file, format=args.format)
    rows, fields = summarise(loaded, logs=args.logs, as_text=not args.json)
    emit(rows, as_json=args.json, title=f"{loaded.path.name} ({loaded.format})", extra=fields)
    return 0
