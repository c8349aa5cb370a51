"""What a figure plots, for the report check: per axes, the x-range of the data points and of
each drawn curve.

Data points are markers without connecting lines (``plot(x, y, "o")``, error bars, scatter);
curves are lines in data coordinates (fits, models).  Reference lines (``axhline``,
``axvline``) are in axes coordinates and are not curves.  An axes without data points (a map,
a pure model plot) records no data range and its curves are not checked.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plotted_ranges", "curves_outside_data"]

#: a curve may run past the outermost data point by this share of the data's x-span
SPAN_TOLERANCE = 0.02


def _finite_x(xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    ok = np.isfinite(xy).all(axis=1)
    return xy[ok, 0]


def _is_marker_only(line) -> bool:
    return (line.get_linestyle() in ("None", "", " ", "none")
            and line.get_marker() not in (None, "None", "", " "))


def plotted_ranges(fig) -> list[dict]:
    """``[{"axes": i, "data": [xmin, xmax, spacing] or None, "curves": [{"label", "x": [lo, hi]}]}]``
    for every axes of ``fig`` that draws something (``spacing``: the median gap between data x)."""
    from matplotlib.collections import PathCollection

    out = []
    for i, ax in enumerate(fig.axes):
        data_x, curves = [], []
        for line in ax.get_lines():
            if line.get_transform() != ax.transData or not line.get_visible():
                continue
            x = _finite_x(line.get_xydata())
            if x.size == 0:
                continue
            if _is_marker_only(line) or line.get_marker() not in (None, "None", "", " "):
                data_x.append(x)
            else:
                label = line.get_label()
                curves.append({"label": "" if label.startswith("_") else label,
                               "x": [float(x.min()), float(x.max())]})
        for coll in ax.collections:
            if isinstance(coll, PathCollection) and coll.get_offset_transform() == ax.transData:
                x = _finite_x(coll.get_offsets())
                if x.size:
                    data_x.append(x)
        if not data_x and not curves:
            continue
        data = None
        if data_x:
            xs = np.unique(np.concatenate(data_x))
            spacing = float(np.median(np.diff(xs))) if xs.size > 1 else 0.0
            data = [float(xs[0]), float(xs[-1]), spacing]
        out.append({"axes": i, "data": data, "curves": curves})
    return out


def curves_outside_data(ranges: list[dict]) -> list[str]:
    """The curves of :func:`plotted_ranges` that run outside their axes' data x-range by more
    than :data:`SPAN_TOLERANCE` of the span or half a data spacing, as sentences."""
    out = []
    for r in ranges:
        if not r.get("data"):
            continue
        lo, hi, spacing = r["data"]
        tol = max(SPAN_TOLERANCE * (hi - lo), 0.5 * spacing)
        for c in r["curves"]:
            clo, chi = c["x"]
            if clo < lo - tol or chi > hi + tol:
                name = f"curve '{c['label']}'" if c["label"] else "an unlabelled curve"
                out.append(f"axes {r['axes']}: {name} spans x = {clo:.4g} to {chi:.4g}, "
                           f"the data {lo:.4g} to {hi:.4g}")
    return out
