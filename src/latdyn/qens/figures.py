"""Figures of a QENS analysis: fits per Q group with residuals, HWHM(Q^2), EISF(Q), MSD(T).

Every curve is drawn only over the range of the data it describes; legends name the physics
(elastic line, Lorentzian, background), not internal parameter names.
"""

from __future__ import annotations

import numpy as np

from ..report import axis_label, new_figure

__all__ = ["fits_figure", "hwhm_figure", "eisf_figure", "msd_figure", "ln_elastic_figure",
           "component_label"]


def component_label(name: str) -> str:
    """Words for a model component: 'elastic' -> 'elastic line', 'L2' -> 'Lorentzian 2'."""
    if name == "elastic":
        return "elastic line"
    if name == "background":
        return "background"
    if name.startswith("L") and name[1:].isdigit():
        return f"Lorentzian {name[1:]}"
    return name


def fits_figure(result, max_groups: int = 24):
    """Data, fit and components per Q group (log scale), with (data - fit)/sigma below."""
    import matplotlib.pyplot as plt

    groups = result.groups
    if len(groups) > max_groups:
        idx = np.unique(np.linspace(0, len(groups) - 1, max_groups).round().astype(int))
        groups = [groups[i] for i in idx]
    n = len(groups)
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig = plt.figure(figsize=(3.2 * ncol, 3.0 * nrow), dpi=100)
    # a fixed grid (constrained layout is slow with many panels): fit over residuals per group
    outer = fig.add_gridspec(nrow, ncol, left=0.06, right=0.99, bottom=0.6 / (3.0 * nrow),
                             top=1 - 0.35 / (3.0 * nrow), wspace=0.3, hspace=0.45)
    for k, g in enumerate(groups):
        sub = outer[k // ncol, k % ncol].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.0)
        ax = fig.add_subplot(sub[0])
        axr = fig.add_subplot(sub[1], sharex=ax)
        ok = g.mask
        ax.errorbar(g.E[ok], g.y[ok], g.sigma[ok], fmt=".", ms=2, lw=0.4, color="0.35", label="data")
        ax.plot(g.E, g.model, color="C3", lw=1.1, label="fit")
        for j, (name, part) in enumerate(g.parts.items()):
            ax.plot(g.E, part, lw=0.7, ls="--", color=f"C{j % 10}", label=component_label(name))
        pos = g.y[ok][g.y[ok] > 0]
        if pos.size:
            ax.set_yscale("log")
            ax.set_ylim(max(pos.min() * 0.5, pos.max() * 1e-4), pos.max() * 2)
        ax.set_title(f"Q = {g.Q:.3g} Å$^{{-1}}$, χ²ᵣ = {g.chi2 / max(g.npts, 1):.3g}", fontsize=8)
        ax.tick_params(labelbottom=False, labelsize=7)
        z = np.where(ok, (g.y - g.model) / np.where(g.sigma > 0, g.sigma, 1.0), np.nan)
        axr.plot(g.E, z, ".", ms=2, color="0.3")
        axr.axhline(0, color="C3", lw=0.8)
        axr.tick_params(labelsize=7)
        axr.set_xlabel(axis_label("E", "meV"), fontsize=8)
        if k == 0:
            ax.legend(fontsize=6, frameon=False)
    return fig


def hwhm_figure(widths: list[dict], hwhm_fits: dict, global_result=None):
    """HWHM of each Lorentzian versus Q^2 with the diffusion models fitted to the narrowest one
    (drawn over the Q range of the data) and the global fit's translational width."""
    fig, ax = new_figure(6.0, 4.2)
    q = np.array([r["Q"] for r in widths])
    k = 1
    while f"hwhm_{k}" in widths[0]:
        y = np.array([r[f"hwhm_{k}"] for r in widths])
        e = np.array([r[f"hwhm_{k}_err"] for r in widths])
        ax.errorbar(q**2, y, e, fmt="o" if k == 1 else "s", ms=4, mfc="none",
                    label=f"Lorentzian {k} (per-Q fits)")
        k += 1
    qq = np.linspace(q.min(), q.max(), 200)
    for j, (name, r) in enumerate(hwhm_fits.items()):
        ax.plot(qq**2, r.curve(qq), lw=1, color=f"C{j + 3}",
                label=f"{name} (χ²ᵣ {r.reduced_chi2:.3g})")
    g = global_result
    if g is not None and g.groups and "L1_hwhm" in g.groups[0].values:
        gq = np.array([x.Q for x in g.groups])
        gw = np.array([float(np.ravel(x.values["L1_hwhm"])[0]) for x in g.groups])
        series = np.size(g.groups[0].values["L1_hwhm"]) > 1
        ax.plot(gq**2, gw, "k-", lw=1.6, alpha=0.6,
                label="global fit: translational width" if series else "global fit")
    ax.set_xlabel("Q² (Å$^{-2}$)")
    ax.set_ylabel("HWHM (meV)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False)
    return fig


def eisf_figure(widths: list[dict], eisf_fits: dict, global_result=None):
    """Elastic fraction (EISF) per Q group with the geometry models over the data's Q range."""
    fig, ax = new_figure(6.0, 4.2)
    rows = [r for r in widths if "eisf" in r]
    q = np.array([r["Q"] for r in rows])
    ax.errorbar(q, [r["eisf"] for r in rows], [r["eisf_err"] for r in rows], fmt="o", ms=4, mfc="none",
                color="0.2", label="per-Q fits")
    qq = np.linspace(q.min(), q.max(), 200)
    for j, (name, r) in enumerate(eisf_fits.items()):
        ax.plot(qq, r.curve(qq), lw=1, color=f"C{j}", label=f"{name} (χ²ᵣ {r.reduced_chi2:.3g})")
    g = global_result
    if g is not None and g.groups and "elastic_fraction" in g.groups[0].values:
        ax.plot([x.Q for x in g.groups], [float(x.values["elastic_fraction"]) for x in g.groups], "k-",
                lw=1.6, alpha=0.6, label="global fit")
    ax.set_xlabel(axis_label("Q", "1/angstrom"))
    ax.set_ylabel("EISF")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, frameon=False)
    return fig


def msd_figure(T, msd, err, valid, ylabel: str):
    """MSD versus temperature; points outside the validity of the Gaussian law marked."""
    fig, ax = new_figure()
    ax.errorbar(T[valid], msd[valid], err[valid], fmt="o", ms=3, mfc="none", label="valid")
    if (~valid).any():
        ax.errorbar(T[~valid], msd[~valid], err[~valid], fmt="x", ms=3, color="0.5",
                    label="outside validity")
    ax.set_xlabel(axis_label("T", "K"))
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8)
    return fig


def ln_elastic_figure(q, T, ln_ratio, intercept, slope_per_q2, q_fit):
    """ln I(Q,T)/I(Q,T_ref) versus Q^2 at a few temperatures with the fitted straight lines
    (drawn over the fitted Q range, shaded)."""
    fig, ax = new_figure()
    picks = np.unique(np.linspace(0, T.size - 1, 6).round().astype(int))
    qq = np.linspace(q_fit[0], q_fit[1], 50) ** 2
    for j, i in enumerate(picks):
        ax.plot(q**2, ln_ratio[i], "o", ms=3, color=f"C{j}", label=f"{T[i]:.0f} K")
        ax.plot(qq, intercept[i] - qq * slope_per_q2[i], "-", color=f"C{j}", lw=0.8)
    ax.axvspan(q_fit[0] ** 2, q_fit[1] ** 2, color="0.9", zorder=0)
    ax.set_xlabel("Q² (Å$^{-2}$)")
    ax.set_ylabel("ln I(Q,T)/I(Q,T_ref)")
    ax.legend(frameon=False, fontsize=7)
    return fig
