"""Demo steps that plan an experiment: cross sections, contrast, coverage and resolution."""

from __future__ import annotations

import numpy as np

from ..report import new_figure, plot_coverage
from .context import DemoContext

#: Materials of the seed review: superionic thermoelectrics, solid electrolytes,
#: plastic-crystal barocalorics, halide perovskites.
#: A typical incident energy (meV) per direct-geometry instrument for the resolution table.
TYPICAL_EI = {"AMATERAS": 3.134, "LET": 3.7, "CNCS": 3.32, "TOFTOF": 3.27, "MARI": 100.0, "MERLIN": 60.0}
MATERIALS = ("Ag8SnSe6", "Cu2Se", "Li6PS5Cl", "7Li3N", "NH4I", "ND4I", "CsPbBr3", "(CH3)2C(CH2OH)2")


def step_cross_sections(ctx: DemoContext) -> str:
    """Cross sections of the review's materials and the neutron / X-ray contrast."""
    from ..scattering import Composition, nuclide, xray_form_factor
    from ..scattering.xray import R_ELECTRON_FM

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
    """Coverage and energy resolution of real instruments (latdyn.instruments library)."""
    from ..instruments import list_instruments, load_instrument

    amateras = load_instrument("AMATERAS")
    eis = (3.134, 7.738) if ctx.quick else (3.134, 7.738, 15.0)
    covs = [amateras.coverage(ei=ei) for ei in eis]
    fig, ax = plot_coverage(covs, [f"AMATERAS, Ei = {ei:g} meV" for ei in eis])
    ax.set_ylim(-3, max(eis))
    ctx.report.add_heading("2. Plan: coverage and resolution")
    ctx.report.add_figure("coverage_amateras", fig, "Accessible (|Q|, E) of AMATERAS (cold "
                          "direct-geometry chopper spectrometer) at several incident energies.")
    fig2, ax2 = new_figure()
    for ei in eis:
        e = np.linspace(-0.5 * ei, 0.9 * ei, 200)
        ax2.plot(e, 1e3 * amateras.resolution(e, ei=ei), label=f"Ei = {ei:g} meV")
    ax2.set_xlabel("Energy transfer (meV)")
    ax2.set_ylabel("Resolution FWHM (µeV)")
    ax2.set_yscale("log")
    ax2.legend(frameon=False)
    ctx.report.add_figure("resolution_amateras", fig2, "Energy resolution (FWHM) of AMATERAS "
                          "versus energy transfer: moderator and chopper time widths propagated "
                          "over the flight paths.")
    rows = []
    for name in list_instruments():
        inst = load_instrument(name)
        if inst.kind == "direct":
            ei = TYPICAL_EI.get(name, inst.default_ei)
            fw = float(inst.resolution([0.0], ei=ei)[0])
            rows.append({"instrument": name, "geometry": "direct", "fixed energy (meV)": ei,
                         "elastic FWHM (µeV)": 1e3 * fw, "FWHM / E (%)": 100 * fw / ei})
        elif inst.kind == "indirect":
            fw = float(inst.resolution([0.0])[0])
            rows.append({"instrument": name, "geometry": "indirect",
                         "fixed energy (meV)": inst.final_energy, "elastic FWHM (µeV)": 1e3 * fw,
                         "FWHM / E (%)": 100 * fw / inst.final_energy})
    ctx.report.add_table("Elastic energy resolution of the instrument library", rows)
    ctx.results["resolution"] = rows
    ama = next(r for r in rows if r["instrument"] == "AMATERAS")
    return f"{len(rows)} spectrometers; AMATERAS {ama['elastic FWHM (µeV)']:.1f} µeV at Ei = 3.134 meV"
