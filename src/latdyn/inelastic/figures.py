"""Report figures of the inelastic analysis: fits with components, parameters versus T, DOS
(C_V / 3R: :func:`latdyn.thermo.figures.thermo_figure`)."""

from __future__ import annotations

import numpy as np

from ..report import axis_label, new_figure
from .phonon_peaks import component_label

__all__ = ["fit_figures", "dos_figure"]


def fit_figures(series) -> list[tuple[str, object, str]]:
    """(name, figure, caption): one plot per temperature (data, model, components) and the
    DHO energies, dampings and QE width versus temperature."""
    out = []
    for f in series.fits:
        fig, ax = new_figure()
        ax.errorbar(f.E, f.y, f.sigma_y, fmt=".", ms=3, color="k", lw=0.5, label="data")
        ax.plot(f.E, f.model, color="C3", lw=1.5, label="model")
        n_dho = f.model_definition.get("n_dho", 1)
        for i, (k, v) in enumerate(f.parts.items()):
            ax.plot(f.E, v, lw=1, ls="--", color=f"C{i}", label=component_label(k, n_dho))
        ax.set_xlabel(axis_label("E", "meV"))
        ax.set_ylabel("Intensity")
        ax.set_yscale("log")
        pos = f.y[f.y > 0]
        if pos.size:
            ax.set_ylim(max(pos.min() * 0.5, pos.max() * 1e-4), pos.max() * 2)
        ax.set_title(f"T = {f.temperature:g} K")
        ax.legend(frameon=False, fontsize=8)
        out.append((f"fit_{f.temperature:g}K", fig, f"Fit at {f.temperature:g} K with its components"))
    rows = series.rows()
    T = np.array([r["T_K"] for r in rows])
    n = series.fits[0].model_definition["n_dho"]
    if n:
        fig, ax = new_figure()
        for i in range(1, n + 1):
            for key, mk in (("E0", "o"), ("gamma", "s")):
                ax.errorbar(T, [r[f"dho{i}_{key}"] for r in rows], [r[f"dho{i}_{key}_err"] for r in rows],
                            fmt=mk + "-", ms=4, label=f"{component_label(f'dho{i}', n)}: "
                            + ("energy E0" if key == "E0" else "damping Γ"))
        ax.set_xlabel(axis_label("T", "K"))
        ax.set_ylabel(axis_label("E", "meV").replace("Energy transfer", "Energy"))
        ax.legend(frameon=False, fontsize=8)
        out.append(("dho_vs_T", fig, "Oscillator energies E0 and dampings Γ versus temperature "
                                     "(overdamped where Γ ≥ E0)"))
    if "qe_hwhm" in rows[0]:
        fig, ax = new_figure()
        ax.errorbar(T, [r["qe_hwhm"] for r in rows], [r["qe_hwhm_err"] for r in rows], fmt="o-")
        ax.set_xlabel(axis_label("T", "K"))
        ax.set_ylabel("QE HWHM (meV)")
        out.append(("qe_vs_T", fig, "Quasi-elastic half width versus temperature"))
    return out


def dos_figure(dos):
    """g(E) with its statistical error band."""
    fig, ax = new_figure()
    e = dos.coords["E"].values
    ax.plot(e, dos.values, color="C0")
    if dos.variances is not None:
        s = np.sqrt(dos.variances)
        ax.fill_between(e, dos.values - s, dos.values + s, color="C0", alpha=0.3, lw=0)
    ax.set_xlabel(axis_label("E", "meV").replace("Energy transfer", "Energy"))
    ax.set_ylabel("g(E) (states/meV/atom)")
    return fig

