"""Demo step: the forward model of eq. (4) for a real material (NaCl, first-principles force
constants from phonondb, CC BY 4.0) with the coverage of a real spectrometer."""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..report import format_number, label_path, plot_sqe
from .context import DemoContext

TEMPERATURE = 300.0


def load_nacl(ctx: DemoContext):
    """The shipped NaCl force-constant model (cached in the context)."""
    from ..phonons import load_phonopy

    if "nacl_model" not in ctx.results:
        folder = resources.files("latdyn.examples").joinpath("nacl")
        with resources.as_file(folder.joinpath("phonopy_nacl.yaml")) as path:
            ctx.results["nacl_model"] = load_phonopy(path)
            ctx.report.add_input(path)
    return ctx.results["nacl_model"]


def step_phonons(ctx: DemoContext) -> str:
    """Dispersion with one-phonon intensities, powder S(|Q|,E) on MARI's coverage, partial DOS."""
    import matplotlib.pyplot as plt

    from ..instruments import load_instrument
    from ..phonons import debye_waller, path_map, phonon_dos, powder_map, seekpath_points

    model = load_nacl(ctx)
    dw = debye_waller(model, TEMPERATURE, mesh=6 if ctx.quick else 8)
    points, labels = seekpath_points(model.crystal)
    e_bins = np.linspace(-2.0, 35.0, 149)
    sqe_path = path_map(model, points, e_bins, TEMPERATURE, labels=labels, dw=dw, broadening=0.4,
                        npts=150 if ctx.quick else 250)
    ctx.report.add_heading("5. Forward model: one-phonon S(Q,E) of NaCl from force constants")
    ctx.report.add_text(None, "Force constants of NaCl from first principles (phonondb, A. Togo; "
                        "CC BY 4.0) with Born charges (LO-TO splitting by the Gonze-Lee dipole "
                        "sum). Coherent one-phonon S(Q,E) of eq. (4): b/√M per atom, anisotropic "
                        f"Debye-Waller factors from a Brillouin-zone mesh and the Bose factor at "
                        f"{TEMPERATURE:g} K.")
    # barn/eV and mbarn/meV are the same number; the caption and colour bar say mbarn/meV
    label = "S(Q,E) (mbarn/meV per atom)"
    fig, ax = plot_sqe(sqe_path.to(unit="barn/eV"), log=True, intensity_label=label,
                       title="NaCl: S(Q,E) along the high-symmetry path")
    label_path(ax, sqe_path.coords["q"].values, sqe_path.coords["label"].values)
    ax.set_xlabel("Wave vector along the path")
    ctx.report.add_figure("nacl_dispersion", fig, "One-phonon coherent S(Q,E) of NaCl along the "
                          "seekpath path, log intensity (mbarn/meV per atom), 0.4 meV FWHM; "
                          "U|K marks the jump between two path segments.")

    mari = load_instrument("MARI")
    ei = 45.0
    setting = {"package": "S", "frequency": 250.0}
    q_bins = np.linspace(0.1, 8.0, 41 if ctx.quick else 80)
    powder = powder_map(model, q_bins, e_bins, TEMPERATURE, dw=dw, npts=60 if ctx.quick else 150,
                        broadening=lambda energy: mari.resolution(energy, ei=ei, **setting),
                        q_broadening=(q_fwhm := mari.q_broadening(ei, 15.0, **setting)),
                        progress=False)
    fig2, ax2 = plot_sqe(powder.data.to(unit="barn/eV"), log=True, intensity_label=label,
                         title=f"NaCl powder S(|Q|,E), MARI Ei = {ei:g} meV")
    cov = mari.coverage(ei=ei)
    qp, ep = cov.polygon()
    ax2.plot(qp, ep, color="w", lw=1.2)
    ax2.set_xlim(q_bins[0], q_bins[-1])
    ax2.set_ylim(e_bins[0], e_bins[-1])
    ctx.report.add_figure("nacl_powder", fig2, "Powder-averaged S(|Q|,E) of NaCl "
                          f"({powder.npts} directions per |Q| on Fibonacci spheres) broadened by "
                          f"MARI's resolution at Ei = {ei:g} meV (S package, 250 Hz: energy FWHM "
                          f"{format_number(mari.elastic_resolution(ei, **setting), 3)} meV at the "
                          f"elastic line; |Q| FWHM {format_number(float(q_fwhm(3.0)), 2)} Å⁻¹ at "
                          f"|Q| = 3 Å⁻¹ and {format_number(float(q_fwhm(6.0)), 2)} Å⁻¹ at 6 Å⁻¹, "
                          "evaluated at 15 meV), log intensity (mbarn/meV per atom), with its "
                          "accessible region (white outline).")

    dos = phonon_dos(model, 10 if ctx.quick else 14, np.linspace(0.0, 35.0, 351), broadening=0.3)
    fig3, ax3 = plt.subplots(figsize=(6, 4), dpi=110, constrained_layout=True)
    per_cell = dos.per_formula_unit()
    per_species = dos.by_species()
    e = dos.energy
    centres = 0.5 * (e[1:] + e[:-1]) if dos.histogram else e
    for name in per_species.labels:
        ax3.plot(centres, per_species.partial(name, per_formula_unit=True).values,
                 label=f"{name} partial")
    ax3.plot(centres, per_cell.values, color="k", lw=1.2, label="total")
    ax3.set_xlabel("Energy (meV)")
    ax3.set_ylabel("DOS (states/meV per cell)")
    ax3.legend(frameon=False)
    ctx.report.add_figure("nacl_dos", fig3, "Phonon density of states of NaCl (total and per "
                          "element) from a Monkhorst-Pack mesh.")
    total = float(np.sum(per_cell.values) * np.diff(e).mean())
    ctx.results["nacl_dos"] = dos
    ctx.results["nacl_dos_energy"] = centres
    e_max = float(centres[np.nonzero(per_cell.values > 1e-6)[0][-1]])
    # U = 2W (docs/phonons.md): the mean-square displacement tensor is twice the Debye-Waller
    # exponent tensor, <u_x^2> = U_iso = tr(U)/3 and <u^2> = <|u|^2> = tr(U)
    u_na, u_cl = 2.0 * np.trace(dw[0]), 2.0 * np.trace(dw[4])
    ctx.report.add_table("Checks of the phonon model", [
        {"check": "DOS integral (states per cell, 3N = 24)", "value": total},
        {"check": "largest phonon energy (meV)", "value": e_max},
        {"check": f"Na at {TEMPERATURE:g} K: U_iso = <u_x²> = tr(U)/3, U = 2W (Å²)", "value": u_na / 3},
        {"check": f"Na at {TEMPERATURE:g} K: <u²> = <|u|²> = tr(U) (Å²)", "value": u_na},
        {"check": f"Cl at {TEMPERATURE:g} K: U_iso = <u_x²> = tr(U)/3 (Å²)", "value": u_cl / 3},
        {"check": f"Cl at {TEMPERATURE:g} K: <u²> = <|u|²> = tr(U) (Å²)", "value": u_cl},
    ])
    ctx.report.add_text(None, "Debye-Waller factor exp(-2W(Q)) per atom with W(Q) = Q·W·Q = ½<(Q·u)²>; "
                        "the displacement tensor is U = <u u^T> = 2W, so U_iso = <u_x²> = tr(U)/3 "
                        "(the crystallographic ADP) and <u²> = <|u|²> = 3 U_iso.")
    return f"NaCl dispersion, powder map ({powder.npts} directions), DOS integral {total:.2f} (3N = 24)"
