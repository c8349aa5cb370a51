"""``latdyn demo``: the seed review's chain end to end on shipped or simulated data.

Each step is a function ``step(ctx)`` that computes, adds its figures and tables to the
report and returns a short summary line for the terminal.  Every number in the report comes
from a computation in the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .report import Report, new_figure, plot_coverage

__all__ = ["DemoContext", "run_demo", "STEPS"]

#: Materials of the seed review: superionic thermoelectrics, solid electrolytes,
#: plastic-crystal barocalorics, halide perovskites.
MATERIALS = ("Ag8SnSe6", "Cu2Se", "Li6PS5Cl", "7Li3N", "NH4I", "ND4I", "CsPbBr3", "(CH3)2C(CH2OH)2")


@dataclass
class DemoContext:
    """State shared by the demo steps."""

    out: Path
    quick: bool
    report: Report
    results: dict = field(default_factory=dict)


def step_cross_sections(ctx: DemoContext) -> str:
    """Cross sections of the review's materials and the neutron / X-ray contrast."""
    from .scattering import Composition, nuclide, xray_form_factor
    from .scattering.xray import R_ELECTRON_FM

    rows = []
    for formula in MATERIALS:
        c = Composition(formula)
        pa = c.per_atom(wavelength=5.0)
        rows.append({"formula": formula, "mass (amu)": c.mass, "atoms": c.n_atoms,
                     "σ_coh (b)": c.sigma_coh, "σ_inc (b)": c.sigma_inc,
                     "σ_abs at 5 Å (b)": c.sigma_abs(5.0), "σ_inc / σ_scatt": c.sigma_inc /
                     (c.sigma_coh + c.sigma_inc), "σ_total per atom at 5 Å (b)": pa["sigma_total"]})
    ctx.report.add_heading("1. Plan: what neutrons see in these materials")
    ctx.report.add_text(None, "Neutron cross sections per formula unit (Sears 1992 table); the "
                        "incoherent fraction tells whether a QENS signal is self (H, V) or "
                        "collective motion, the absorption whether a thin sample is needed.")
    ctx.report.add_table("Cross sections", rows)
    elements = ["H", "D", "Li", "N", "O", "S", "Cl", "Cu", "Se", "Ag", "Sn", "I", "Cs", "Pb", "Br"]
    q = 2.0
    b = [abs(nuclide(e).b_coh.real) for e in elements]
    fx = [R_ELECTRON_FM * xray_form_factor(e, q) for e in elements]
    fig, ax = new_figure(7.0, 3.8)
    x = np.arange(len(elements))
    ax.bar(x - 0.2, b, 0.4, label="neutron |b_coh|")
    ax.bar(x + 0.2, fx, 0.4, label=f"X-ray r_e f0(Q = {q:g} Å$^{{-1}}$)")
    ax.set_xticks(x, elements)
    ax.set_ylabel("Scattering amplitude (fm)")
    ax.set_yscale("log")
    ax.legend(frameon=False)
    ctx.report.add_figure("contrast", fig, "Neutron versus X-ray scattering amplitudes: light "
                          "Li, H/D and N are visible to neutrons next to heavy Ag, Pb, I.")
    ctx.results["cross_sections"] = rows
    worst = max(rows, key=lambda r: r["σ_inc / σ_scatt"])
    return f"cross sections of {len(rows)} materials; most incoherent: {worst['formula']}"


def step_coverage(ctx: DemoContext) -> str:
    """Kinematic coverage of direct- and indirect-geometry spectrometers."""
    from .kinematics import coverage_direct, coverage_indirect

    eis = (3.134, 7.738, 23.7) if not ctx.quick else (3.134, 23.7)
    covs = [coverage_direct(ei, 5.0, 135.0) for ei in eis]
    fig, ax = plot_coverage(covs, [f"direct, Ei = {ei:g} meV" for ei in eis])
    ax.set_ylim(-5, max(eis))
    ctx.report.add_heading("2. Plan: accessible (|Q|, E)")
    ctx.report.add_figure("coverage_direct", fig, "Accessible (|Q|, E) of a direct-geometry "
                          "spectrometer with detectors from 5° to 135° at three incident energies.")
    ind = coverage_indirect(1.845, 25.0, 160.0, energy=np.linspace(-1.0, 1.0, 201))
    fig2, ax2 = plot_coverage([ind], ["indirect, Ef = 1.845 meV (PG002)"])
    ctx.report.add_figure("coverage_indirect", fig2, "Accessible (|Q|, E) of an indirect-geometry "
                          "backscattering spectrometer, detectors from 25° to 160°.")
    rows = [{"geometry": c.geometry, "fixed energy (meV)": c.fixed_energy,
             "Q_min at E=0 (1/Å)": float(np.interp(0.0, c.energy, c.q_min)),
             "Q_max at E=0 (1/Å)": float(np.interp(0.0, c.energy, c.q_max))} for c in [*covs, ind]]
    ctx.report.add_table("Elastic-line Q range", rows)
    ctx.results["coverage"] = rows
    return f"coverage for {len(covs)} incident energies and one indirect machine"


STEPS: list[tuple[str, Callable[[DemoContext], str]]] = [
    ("neutron cross sections", step_cross_sections),
    ("instrument coverage", step_coverage),
]


def run_demo(out: str | Path = "latdyn-demo", quick: bool = False,
             log: Callable[[str], None] = print) -> Path:
    """Run every demo step and write ``out/report.html``; return its path."""
    from . import __version__

    out = Path(out)
    report = Report("latdyn demo: from plan to physics",
                    command=f"latdyn demo --out {out}" + (" --quick" if quick else ""))
    report.add_text(None, f"latdyn {__version__}. Every number and figure below was computed "
                    "in this run.")
    ctx = DemoContext(out=out, quick=quick, report=report)
    t_start = time.perf_counter()
    for i, (name, fn) in enumerate(STEPS, 1):
        t0 = time.perf_counter()
        log(f"[{i}/{len(STEPS)}] {name} ...")
        summary = fn(ctx)
        log(f"      {summary} ({time.perf_counter() - t0:.1f} s)")
    path = report.write(out / "report.html")
    log(f"report: {path} ({time.perf_counter() - t_start:.1f} s in all)")
    return path
