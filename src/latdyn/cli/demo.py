"""``latdyn demo``: run the end-to-end demonstration and write an HTML report."""

from __future__ import annotations

import argparse

from .options import add_common, add_out
from .output import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the end-to-end demo and write an HTML report",
                       description="Plan, model, simulate, fit and report on shipped data.")
    add_out(p)
    p.add_argument("--quick", action="store_true", help="a shorter version (about 30 s)")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..console import info
    from ..demo import run_demo

    log = info if args.json or args.quiet else print
    path = run_demo(args.out, quick=args.quick, log=log)
    emit([{"output": "report", "path": str(path)}], as_json=args.json, title="latdyn demo")
    return 0
