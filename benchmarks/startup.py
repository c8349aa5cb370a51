"""Start-up time of the ``latdyn`` command: ``--help``, ``xs`` and every ``GROUP --help``.

Each command runs as a fresh ``python -m latdyn.cli.main ...`` subprocess (what the console
script does); its wall time and CPU time (user + system of the child, from ``os.wait4``) are
recorded, the best of --repeats runs is kept, and the order of the commands is rotated between
rounds so that a burst of load on a shared machine does not always hit the same command.  The
target is 0.5 s; on a busy machine the wall time includes waiting for a core, so the CPU time
is the steadier figure and both are printed.

Then ``python -X importtime`` of ``latdyn --help`` lists the slowest imports and says which of
the heavy libraries (numpy, scipy, scipp, matplotlib, h5py, phonopy) the bare start-up loads.

Usage: python benchmarks/startup.py [--repeats 5] [--target 0.5] [--top 15]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HEAVY = ("numpy", "scipy", "scipp", "matplotlib", "h5py", "phonopy", "lmfit", "yaml", "tqdm",
         "spglib", "ase", "gemmi", "periodictable")


def command_lines() -> list[list[str]]:
    """``--help``, ``xs Ag8SnSe6`` and ``GROUP --help`` for every command group."""
    from latdyn.cli.main import build_parser

    parser = build_parser()
    groups = next(a for a in parser._actions if a.dest == "command").choices
    lines = [["--help"], ["xs", "Ag8SnSe6"], ["xs", "Li3N", "--json"]]
    lines += [[g, "--help"] for g in sorted(groups)]
    return lines


def run_once(args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one ``latdyn ARGS`` subprocess; raises if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "latdyn.cli.main", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"latdyn {' '.join(args)} exited {proc.returncode}: {err.strip()}")
    return wall, usage.ru_utime + usage.ru_stime


def import_profile(args: list[str], top: int) -> tuple[list[tuple[int, str]], list[str]]:
    """The ``top`` slowest top-level imports (cumulative microseconds) and the heavy
    libraries imported by ``latdyn ARGS``, from ``python -X importtime``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "latdyn.cli.main", *args],
                          capture_output=True, text=True, check=True)
    rows, loaded = [], set()
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        indent = len(line.rsplit("|", 1)[1]) - len(line.rsplit("|", 1)[1].lstrip())
        root = name.split(".")[0]
        if root in HEAVY:
            loaded.add(root)
        if indent <= 1:
            rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top], sorted(loaded)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs per command (best is kept)")
    ap.add_argument("--target", type=float, default=0.5, help="target time in s")
    ap.add_argument("--top", type=int, default=15, help="slowest imports listed")
    opts = ap.parse_args()

    lines = command_lines()
    best = {tuple(a): [float("inf"), float("inf")] for a in lines}
    for r in range(opts.repeats):
        shift = r % len(lines)
        for args in lines[shift:] + lines[:shift]:
            wall, cpu = run_once(args)
            entry = best[tuple(args)]
            entry[0], entry[1] = min(entry[0], wall), min(entry[1], cpu)

    load = os.getloadavg()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; best of {opts.repeats}, order rotated")
    print(f"{'command':<34}{'wall s':>8}{'CPU s':>8}  verdict (target {opts.target} s)")
    slow = 0
    for args in lines:
        wall, cpu = best[tuple(args)]
        ok = cpu < opts.target and wall < opts.target
        slow += not ok
        verdict = "ok" if ok else ("CPU ok, wall over (busy machine?)" if cpu < opts.target
                                   else "OVER")
        print(f"{'latdyn ' + ' '.join(args):<34}{wall:8.3f}{cpu:8.3f}  {verdict}")

    rows, loaded = import_profile(["--help"], opts.top)
    print(f"\nheavy libraries imported by 'latdyn --help': {', '.join(loaded) or 'none'}")
    print("slowest top-level imports of 'latdyn --help' (python -X importtime):")
    for micro, name in rows:
        print(f"  {micro / 1e3:8.1f} ms  {name}")
    return 0 if slow == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
