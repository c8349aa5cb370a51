"""Figure style shared by every analysis: units on every axis, S(Q,E) colour maps.

Matplotlib runs with the non-interactive Agg backend so figures work without a screen.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402

from ..fileio import atomic_path  # noqa: E402

__all__ = ["axis_label", "new_figure", "plot_sqe", "plot_coverage", "save_figure", "label_path",
           "SQE_CMAP"]

#: Perceptually uniform colour map for intensity maps.
SQE_CMAP = "viridis"

_PRETTY_UNITS = {
    "1/angstrom": "Å$^{-1}$", "angstrom": "Å", "meV": "meV", "K": "K", "ps": "ps",
    "deg": "°", "us": "µs", "dimensionless": "", "barn": "b", "fm": "fm",
}
_NAMES = {"Q": "|Q|", "E": "Energy transfer", "T": "Temperature", "r": "r", "t": "Time",
          "d": "d-spacing", "two_theta": "2θ", "tof": "Time of flight"}


def axis_label(name: str, unit: str | None) -> str:
    """'|Q| (Å^-1)' style label; dims get their conventional name."""
    label = _NAMES.get(name, name)
    u = _PRETTY_UNITS.get(str(unit), str(unit)) if unit is not None else ""
    return f"{label} ({u})" if u else label


def new_figure(width: float = 6.0, height: float = 4.2):
    """A figure and axes in the report style."""
    fig, ax = plt.subplots(figsize=(width, height), dpi=110, constrained_layout=True)
    ax.tick_params(direction="in", top=True, right=True)
    return fig, ax


def _edges(c: np.ndarray, n: int) -> np.ndarray:
    if c.size == n + 1:
        return c
    mid = 0.5 * (c[1:] + c[:-1])
    first = c[0] - (mid[0] - c[0]) if c.size > 1 else c[0] - 0.5
    last = c[-1] + (c[-1] - mid[-1]) if c.size > 1 else c[-1] + 0.5
    return np.concatenate([[first], mid, [last]])


def plot_sqe(da, ax=None, log: bool = False, vmin: float | None = None,
             vmax: float | None = None, title: str | None = None, colorbar: bool = True,
             intensity_label: str | None = None):
    """Colour map of a 2-D DataArray S(Q,E) (E up, Q across); log or linear intensity.  The
    colour bar reads 'Intensity (<unit of da>)' unless ``intensity_label`` is given (say the
    unit the caption uses: scipp prints mbarn/meV as barn/eV, the same number)."""
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    dims = list(da.dims)
    xdim, ydim = ("Q", "E") if set(dims) == {"Q", "E"} else (dims[0], dims[1])
    data = da.transpose([ydim, xdim]).values
    x = _edges(np.asarray(da.coords[xdim].values), data.shape[1])
    y = _edges(np.asarray(da.coords[ydim].values), data.shape[0])
    positive = data[np.isfinite(data) & (data > 0)]
    if log and positive.size:
        lo = vmin if vmin is not None else max(positive.min(), positive.max() * 1e-3)
        norm = LogNorm(vmin=lo, vmax=vmax if vmax is not None else positive.max())
        data = np.where(np.isfinite(data), np.clip(data, lo, None), np.nan)
    else:
        norm = Normalize(vmin=vmin, vmax=vmax)
    mesh = ax.pcolormesh(x, y, data, cmap=SQE_CMAP, norm=norm, shading="flat")
    ax.set_xlabel(axis_label(xdim, str(da.coords[xdim].unit)))
    ax.set_ylabel(axis_label(ydim, str(da.coords[ydim].unit)))
    if title:
        ax.set_title(title)
    if colorbar:
        cb = fig.colorbar(mesh, ax=ax)
        unit = str(da.unit)
        cb.set_label(intensity_label or (f"Intensity ({unit})" if unit not in ("dimensionless", "None")
                                         else "Intensity (arb. units)"))
    return fig, ax


def label_path(ax, positions, labels) -> list[tuple[float, str]]:
    """Tick a wave-vector path's high-symmetry points: ``positions`` (path coordinate) and
    ``labels`` (empty where no point) per path point.  Points at the same position (the end of
    one segment and the start of the next) share one tick: the same label once (``X``), a jump
    between different points as ``U|K``, so labels never overprint.  Returns the ticks."""
    pos = np.asarray(positions, dtype=float)
    tol = 1e-6 * max(float(np.ptp(pos)) if pos.size else 0.0, 1e-12)
    ticks: list[tuple[float, list[str]]] = []
    for x, lab in zip(pos, labels, strict=True):
        if not lab:
            continue
        if ticks and abs(ticks[-1][0] - x) <= tol:
            if lab not in ticks[-1][1]:
                ticks[-1][1].append(str(lab))
        else:
            ticks.append((float(x), [str(lab)]))
    out = [(x, "|".join(labs)) for x, labs in ticks]
    ax.set_xticks([x for x, _ in out], [t for _, t in out])
    for x, _ in out[1:-1]:
        ax.axvline(x, color="w", lw=0.4, alpha=0.5)
    return out


def plot_coverage(coverages, labels, ax=None):
    """Outline the accessible (|Q|, E) regions (latdyn.kinematics.Coverage) on one plot."""
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    for cov, label in zip(coverages, labels, strict=True):
        q, e = cov.polygon()
        ax.fill(q, e, alpha=0.25, label=label)
        ax.plot(q, e, lw=1)
    ax.set_xlabel(axis_label("Q", "1/angstrom"))
    ax.set_ylabel(axis_label("E", "meV"))
    ax.axhline(0, color="0.5", lw=0.5)
    ax.legend(frameon=False)
    return fig, ax


def save_figure(fig, path_stem: str | Path, formats: tuple[str, ...] | None = None) -> list[Path]:
    """Write the figure (atomically) in ``formats``, by default PNG (and SVG when
    ``LATDYN_FIGURE_FORMATS=png,svg``, :func:`latdyn.report.html.figure_formats_setting`), and
    return the paths."""
    from .html import figure_formats_setting

    out = []
    for fmt in formats or figure_formats_setting():
        p = Path(f"{path_stem}.{fmt}")
        with atomic_path(p) as tmp:
            fig.savefig(tmp, format=fmt)
        out.append(p)
    return out
