"""Figures of the MD results (:mod:`latdyn.md.analysis`): S(Q,E) maps, S(Q), MSD with the
fitted lines, van Hove functions and vibrational DOS.  Each function returns a matplotlib
figure; :func:`add_figure` puts it into a report and closes it."""

from __future__ import annotations

import numpy as np

from ..report import new_figure, plot_sqe

__all__ = ["sqe_figure", "static_structure_figure", "msd_figure", "van_hove_self_figure",
           "van_hove_distinct_figure", "dos_figure", "add_figure"]


def add_figure(report, name: str, fig, caption: str) -> None:
    """Embed ``fig`` in ``report`` (a :class:`latdyn.report.Report`) and close it."""
    import matplotlib.pyplot as plt

    report.add_figure(name, fig, caption)
    plt.close(fig)


def sqe_figure(da, title: str):
    """Colour map (log scale) of S(Q or q, E), E up."""
    fig, _ = plot_sqe(da.transpose([da.dims[0], "E"]), log=True, title=title)
    return fig


def static_structure_figure(s_q):
    """S(Q) = F_coh(Q, 0) against |Q| (shells) or the path distance."""
    fig, ax = new_figure()
    qdim = s_q.dims[0]
    ax.plot(s_q.coords[qdim].values, s_q.values, "o-")
    ax.set_xlabel("|Q| (1/A)" if qdim == "Q" else "path (1/A)")
    ax.set_ylabel("S(Q)")
    return fig


def msd_figure(msd, fit):
    """MSD per species (:class:`latdyn.md.MSDResult`) with the fitted 6 D t + c over the fit
    range (:class:`latdyn.md.DiffusionFit`), dashed."""
    fig, ax = new_figure()
    lo, hi = fit.fit_range
    sel = (msd.time >= lo) & (msd.time <= hi)
    for k, s in enumerate(msd.species):
        ax.plot(msd.time, msd.msd[k], label=s)
        ax.plot(msd.time[sel], fit.line(s, msd.time[sel]), "k--", lw=0.8)
    ax.set_xlabel("Time (ps)")
    ax.set_ylabel("MSD (A^2)")
    ax.legend(frameon=False)
    return fig


def van_hove_self_figure(vh):
    """4 pi r^2 G_s(r, t) per species and lag (:class:`latdyn.md.VanHoveResult`)."""
    fig, ax = new_figure()
    for a, s in enumerate(vh.species):
        for k, t in enumerate(vh.time):
            ax.plot(vh.r, 4 * np.pi * vh.r**2 * vh.g_self[a, k], label=f"{s} t={t:.3g} ps")
    ax.set_xlabel("r (A)")
    ax.set_ylabel("4 pi r^2 G_s(r,t) (1/A)")
    ax.legend(frameon=False, fontsize=7)
    return fig


def van_hove_distinct_figure(vh):
    """The total distinct part over the number density, G_d(r, t) / rho, per lag."""
    fig, ax = new_figure()
    g = vh.total_distinct() / vh.number_density
    for k, t in enumerate(vh.time):
        ax.plot(vh.r, g[k], label=f"t={t:.3g} ps")
    ax.set_xlabel("r (A)")
    ax.set_ylabel("G_d(r,t) / rho")
    ax.legend(frameon=False)
    return fig


def dos_figure(energy, curves: dict):
    """Densities of states (name -> DataArray over ``energy``, 1/meV per atom)."""
    fig, ax = new_figure()
    for name, da in curves.items():
        ax.plot(energy, da.values, label=name)
    ax.set_xlabel("Energy (meV)")
    ax.set_ylabel("g(E) (1/meV per atom)")
    ax.legend(frameon=False)
    return fig
