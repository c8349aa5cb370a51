"""``latdyn demo``: the seed review's chain end to end on shipped or simulated data.

Each step is a function ``step(ctx)`` that computes, adds its figures and tables to the
report and returns a short summary line for the terminal.  Every number in the report comes
from a computation in the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ..report import Report
from .context import DemoContext
from .diffraction import step_diffraction
from .ins import step_dos_thermo, step_ins_overdamping
from .lattice_spin import step_lattice_spin
from .md import step_md
from .phonons import step_phonons
from .plan import step_coverage, step_cross_sections
from .polarisation import step_polarisation
from .qens import step_qens_real_water, step_qens_virtual

__all__ = ["DemoContext", "run_demo", "STEPS"]

STEPS: list[tuple[str, Callable[[DemoContext], str]]] = [
    ("neutron cross sections", step_cross_sections),
    ("instrument coverage and resolution", step_coverage),
    ("virtual QENS experiments and their analysis", step_qens_virtual),
    ("QENS of real water data (IN5)", step_qens_real_water),
    ("phonon forward model of NaCl", step_phonons),
    ("INS: damping and overdamping versus temperature", step_ins_overdamping),
    ("DOS and heat capacity", step_dos_thermo),
    ("diffraction, PDF and maximum-entropy density", step_diffraction),
    ("MD correlation functions", step_md),
    ("lattice-spin coupling of a magnetocaloric", step_lattice_spin),
    ("polarisation analysis: coherent and incoherent QENS", step_polarisation),
]


def run_demo(out: str | Path = "latdyn-demo", quick: bool = False,
             log: Callable[[str], None] = print) -> Path:
    """Run every demo step and write ``out/report.html``; return its path.

    The folder is built beside ``out`` and replaces it whole at the end
    (:func:`latdyn.fileio.result_folder`): an interrupted demo leaves the previous one."""
    from .. import __version__
    from ..fileio import result_folder

    out = Path(out)
    report = Report("latdyn demo: from plan to physics",
                    command=f"latdyn demo --out {out}" + (" --quick" if quick else ""))
    report.add_text(None, f"latdyn {__version__}. Every number and figure below was computed "
                    "in this run" + (" (quick version: coarser grids, fewer temperatures)." if quick
                                     else "."))
    t_start = time.perf_counter()
    with result_folder(out) as tmp:
        ctx = DemoContext(out=tmp, quick=quick, report=report)
        for i, (name, fn) in enumerate(STEPS, 1):
            t0 = time.perf_counter()
            log(f"[{i}/{len(STEPS)}] {name} ...")
            summary = fn(ctx)
            log(f"      {summary} ({time.perf_counter() - t0:.1f} s)")
        report.write(tmp / "report.html")
    path = out / "report.html"
    log(f"report: {path} ({time.perf_counter() - t_start:.1f} s in all)")
    return path
