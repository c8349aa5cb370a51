"""``latdyn demo``: run the end-to-end demonstration and write an HTML report."""

from __future__ import annotations

import argparse

from .output import add_json_flag, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the end-to-end demo and write an HTML report",
                       description="Plan, model, simulate, fit and report on shipped data.")
    p.add_argument("--out", default="latdyn-demo", help="output folder (default: latdyn-demo)")
    p.add_argument("--quick", action="store_true", help="a shorter version (about 30 s)")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from ..demo import run_demo

    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    path = run_demo(args.out, quick=args.quick, log=log)
    emit([{"output": "report", "path": str(path)}], as_json=args.json, title="latdyn demo")
    return 0
