"""Figures of the phonon results (:mod:`latdyn.phonons.results`): S(Q,E) maps with an optional
instrument coverage outline, and densities of states.  Each function returns a matplotlib
figure; :func:`add_figure` puts it into a report and closes it."""

from __future__ import annotations

import numpy as np

from ..report import new_figure, plot_sqe

__all__ = ["map_figure", "dos_figure", "neutron_dos_figure", "add_figure"]


def map_figure(da, *, log: bool = False, title: str | None = None, coverage=None):
    """Colour map of a 2-D S(Q,E) DataArray (:func:`latdyn.report.plot_sqe`); with a
    :class:`latdyn.kinematics.Coverage`, its outline in white, the axes kept to the map."""
    fig, ax = plot_sqe(da, log=log, title=title)
    if coverage is not None:
        ax.plot(*coverage.polygon(), color="w", lw=1.0)
        for dim, set_lim in (("Q", ax.set_xlim), ("E", ax.set_ylim)):
            c = np.asarray(da.coords[dim].values)
            set_lim(float(c[0]), float(c[-1]))
    return fig


def _centres(da) -> np.ndarray:
    e = np.asarray(da.coords["E"].values)
    return 0.5 * (e[1:] + e[:-1]) if e.size == da.sizes["E"] + 1 else e


def dos_figure(total, elements: dict):
    """The total DOS per cell and the per-element partials (states/meV/cell) against E."""
    fig, ax = new_figure()
    e = _centres(total)
    ax.plot(e, total.values, label="total", color="k")
    for name, da in elements.items():
        ax.plot(e, da.values, label=name)
    ax.set_xlabel("Energy (meV)")
    ax.set_ylabel("g(E) (states/meV/cell)")
    ax.legend(frameon=False)
    return fig


def neutron_dos_figure(neutron):
    """The neutron-weighted DOS sum_k (sigma_k/M_k) g_k(E) (mbarn/meV per cell) against E."""
    fig, ax = new_figure()
    ax.plot(_centres(neutron), neutron.values)
    ax.set_xlabel("Energy (meV)")
    ax.set_ylabel("neutron-weighted g(E) (mbarn/meV)")
    return fig


def add_figure(report, name: str, fig, caption: str) -> None:
    """Embed ``fig`` in ``report`` (PNG and SVG rendered at once) and close it."""
    import matplotlib.pyplot as plt

    report.add_figure(name, fig, caption)
    plt.close(fig)
