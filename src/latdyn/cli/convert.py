"""``latdyn convert IN OUT``: convert between data formats (and NXSPE to powder S(|Q|,E)).

Output format from ``--to`` or OUT's extension: ``.h5``/``.hdf5`` latdyn results file (every
entry, its metadata, provenance with the input's SHA-256 and this command line), ``.nxs``
Mantid processed NeXus (2-D entries), ``.csv`` long-form table (one entry), ``.nxspe`` NXSPE
(from an NXSPE input).  ``--powder`` rebins an NXSPE input to S(|Q|,E) first.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from ..errors import InputError
from ..fileio import check_output_file
from .options import add_common
from .output import emit

_EXT = {".h5": "results_h5", ".hdf5": "results_h5", ".nxs": "mantid_nexus", ".csv": "csv",
        ".nxspe": "nxspe"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert a data file to another format",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("input", help="input file (any format latdyn reads)")
    p.add_argument("output", help="output file")
    p.add_argument("--to", choices=sorted(set(_EXT.values())), default=None,
                   help="output format (default: from OUT's extension)")
    p.add_argument("--format", default=None, help="force the input reader")
    p.add_argument("--entry", default=None, help="convert only this entry (workspace)")
    p.add_argument("--powder", action="store_true",
                   help="NXSPE input: rebin to powder S(|Q|,E) before writing")
    p.add_argument("--q-bin", type=float, default=0.05, help="|Q| bin width for --powder, 1/A")
    p.add_argument("--e-bin", type=float, default=None,
                   help="energy bin width for --powder, meV (default: the file's bins)")
    p.add_argument("--statistic", choices=("mean", "sum"), default="mean",
                   help="--powder: mean (default) or sum of the pixels in a bin")
    p.add_argument("--chunk-size", type=int, default=2048, help="--powder: detectors per chunk")
    add_common(p)
    p.set_defaults(func=run)


def _command_line(args: argparse.Namespace) -> str:
    """The command as parsed (reproducible whether called from a shell or from main(argv))."""
    parts = ["latdyn", "convert", args.input, args.output]
    for key in ("to", "format", "entry"):
        if getattr(args, key) is not None:
            parts += [f"--{key}", str(getattr(args, key))]
    if args.powder:
        parts += ["--powder", "--q-bin", str(args.q_bin), "--statistic", args.statistic,
                  "--chunk-size", str(args.chunk_size)]
        if args.e_bin is not None:
            parts += ["--e-bin", str(args.e_bin)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    from ..data.io import (
        Results,
        load,
        nxspe_to_powder,
        write_csv,
        write_mantid_nexus,
        write_nxspe,
        write_results_h5,
    )

    out = check_output_file(args.output)
    target = args.to or _EXT.get(out.suffix.lower())
    if target is None:
        raise InputError(f"cannot tell the output format from the extension; use --to or one of "
                         f"{sorted(_EXT)}", file=out, field="output", value=out.suffix)
    if args.powder:
        loaded = nxspe_to_powder(args.input, args.q_bin, args.e_bin, statistic=args.statistic,
                                 chunk_size=args.chunk_size)
    else:
        loaded = load(args.input, format=args.format)
    entries = dict(loaded.entries)
    if args.entry is not None:
        entries = {args.entry: loaded[args.entry]}
    meta = {k: loaded.metadata[k] for k in entries}
    if target == "results_h5":
        command = _command_line(args)
        write_results_h5(out, Results(data=entries, metadata={"source_format": loaded.format,
                                                              "entries": meta}),
                         inputs=[args.input], command=command)
    elif target == "mantid_nexus":
        bad = {k: v.dims for k, v in entries.items() if v.ndim != 2}
        if bad:
            raise InputError("Mantid NeXus holds 2-D workspaces; pick a 2-D entry with --entry",
                             file=out, field="entry", value=bad)
        write_mantid_nexus(out, entries, metadata=meta)
    elif target == "csv":
        if len(entries) != 1:
            raise InputError("CSV holds one entry; choose one with --entry", file=out,
                             field="entry", value=list(entries))
        write_csv(out, next(iter(entries.values())))
    else:
        if loaded.format != "nxspe" or args.powder or len(entries) != 1:
            raise InputError("NXSPE output needs a single NXSPE entry (no --powder)", file=out,
                             field="to", value=loaded.format)
        name = next(iter(entries))
        write_nxspe(out, entries[name], meta[name]["incident_energy"],
                    psi=float(meta[name].get("psi", 0.0)),
                    instrument=str(meta[name].get("instrument", "")))
    rows = [{"entry": k, "dims": " x ".join(f"{d}:{n}" for d, n in v.sizes.items()),
             "unit": str(v.unit)} for k, v in entries.items()]
    emit(rows, as_json=args.json, title=f"{Path(args.input).name} -> {out.name}",
         extra={"input_format": loaded.format, "output_format": target, "output": str(out)})
    return 0
