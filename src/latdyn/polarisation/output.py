"""Tables, JSON, files and the HTML report of a :class:`~latdyn.polarisation.Separation`.

Folder written by :meth:`Separation.write` (layouts in docs/polarisation.md)::

    parts.csv        one row per point (per point of the first dim, integrated over E when
                     the grid has an energy axis): coordinate, each part and its error
    separation.h5    latdyn results file: data/<part> (the separated parts on the full grid,
                     variances, masks) and data/channel_<name> (the channels used);
                     metadata: method, estimator, flipping ratios, notes
    report.html      method, flipping ratios, a figure of the parts, the table
    figures/         the figure as PNG and SVG
"""

from __future__ import annotations

import numpy as np
import scipp as sc

__all__ = ["separation_rows", "separation_json", "write_separation", "separation_report",
           "value_error", "jsonable"]


def jsonable(obj):
    """Plain JSON values (numpy scalars and arrays converted; NaN and inf become None)."""
    import math
    from collections.abc import Mapping

    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def value_error(da: sc.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """(values, standard errors) of a DataArray (errors NaN without variances)."""
    v = np.asarray(da.values, dtype=float)
    if da.variances is None:
        return v, np.full(v.shape, np.nan)
    e = np.sqrt(np.asarray(da.variances, dtype=float))
    return v, e


def _summary(sep):
    """The separation reduced to one dim for tables and plots (E integrated)."""
    if "E" in sep.dims and len(sep.dims) > 1:
        return sep.integrate("E")
    return sep


def separation_rows(sep) -> list[dict]:
    """One table row per point of a :class:`~latdyn.polarisation.Separation` (``parts.csv``).

    A grid with an energy axis is first integrated over E (sum of value x bin width, so the
    parts are in the channels' unit times meV; :meth:`Separation.integrate`); each row holds
    the coordinate of the first remaining dim (bin centres for edges; e.g. Q in 1/angstrom),
    then every part and its standard error ``<part>_err`` (exact propagation of counts and
    flipping ratios; frame of Scharpf and Capellmann, Phys. Status Solidi A 135, 359 (1993));
    points masked ``not_separable`` are None.  A 0-d separation
    gives one row of totals.
    """
    s = _summary(sep)
    first = next(iter(s.parts.values()))
    if first.ndim == 0:
        row = {}
        for name, da in s.parts.items():
            v, e = value_error(da)
            row[name], row[f"{name}_err"] = float(v), float(e)
        return [row]
    dim = first.dims[0]
    c = first.coords[dim] if dim in first.coords else None
    cv = np.asarray(c.values, float) if c is not None else np.arange(first.sizes[dim], dtype=float)
    if c is not None and first.coords.is_edges(dim):
        cv = 0.5 * (cv[1:] + cv[:-1])
    rows = []
    flat = {n: value_error(da) for n, da in s.parts.items()}
    masks = {n: (np.asarray(da.masks["not_separable"].values) if "not_separable" in da.masks
                 else np.zeros(da.shape, bool)) for n, da in s.parts.items()}
    for idx in np.ndindex(first.shape):
        row = {dim: float(cv[idx[0]])}
        for d, i in zip(first.dims[1:], idx[1:], strict=True):
            row[d] = float(first.coords[d].values[i]) if d in first.coords else i
        for n, (v, e) in flat.items():
            row[n] = None if masks[n][idx] else float(v[idx])
            row[f"{n}_err"] = None if masks[n][idx] else float(e[idx])
        rows.append(row)
    return rows


def separation_json(sep) -> dict:
    """The JSON summary of a separation (``--json``, metadata of ``separation.h5``).

    ``total``: each part integrated over E (meV) and summed over the other dims, with its
    exact error and unit; ``masked_points`` per part; the method with its reference, the
    estimator, the flipping ratios (mean, min, max per direction), the notes and, for a
    least-squares estimator, chi2, dof and reduced chi2.
    """
    s = sep
    for d in sep.dims:
        s = s.integrate(d, widths=(d == "E"))
    totals = {}
    for name, da in s.parts.items():
        totals[name] = {"value": float(da.value), "error": float(np.sqrt(da.variance)),
                        "unit": str(da.unit)}
    masked = {n: int(np.sum(da.masks["not_separable"].values)) if "not_separable" in da.masks else 0
              for n, da in sep.parts.items()}
    out = {"method": sep.method.name, "reference": sep.method.reference, "estimator": sep.estimator,
           "parts": list(sep.parts.keys()), "channels": list(sep.channels.keys()),
           "dims": list(sep.dims), "total": totals, "masked_points": masked,
           "flipping_ratio": _flipping_json(sep.flipping), "notes": list(sep.notes)}
    if sep.chi2 is not None:
        good = np.isfinite(sep.chi2) & (sep.dof > 0)
        out["chi2"] = float(np.sum(sep.chi2[good]))
        out["dof"] = int(np.sum(sep.dof[good]))
        out["reduced_chi2"] = out["chi2"] / max(out["dof"], 1)
    return out


def _flipping_json(ratios) -> dict | None:
    if ratios is None:
        return None
    out = {}
    for d, r in ratios.items():
        if isinstance(r, sc.DataArray):
            v, e = value_error(r)
            out[d] = {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v)),
                      "mean_error": float(np.mean(e)) if np.all(np.isfinite(e)) else None,
                      "dims": list(r.dims)}
        else:
            out[d] = {"value": float(r)}
    return out


def separation_report(sep, command: str | None = None):
    """The HTML :class:`~latdyn.report.Report` of a separation: method and channels, a figure
    of the parts (integrated over E, with standard errors) on a 1-d grid, the table of
    :func:`separation_rows`.  ``command`` is recorded as the command that made it.
    """
    from ..report import Report, new_figure

    rep = Report(f"Polarisation analysis ({sep.method.name})", command=command)
    rep.add_text("Method", f"{sep.method.name} separation ({sep.method.reference}), {sep.estimator} "
                 f"estimator; channels {', '.join(sep.channels.keys())}. "
                 + " ".join(sep.notes))
    s = _summary(sep)
    first = next(iter(s.parts.values()))
    if first.ndim == 1:
        dim = first.dims[0]
        fig, ax = new_figure(7.0, 4.2)
        x = np.asarray(first.coords[dim].values, float) if dim in first.coords else np.arange(first.size)
        if x.size == first.size + 1:
            x = 0.5 * (x[1:] + x[:-1])
        for name, da in s.parts.items():
            v, e = value_error(da)
            keep = ~np.asarray(da.masks["not_separable"].values) if "not_separable" in da.masks else \
                np.ones(v.shape, bool)
            ax.errorbar(x[keep], v[keep], e[keep], fmt="o-", ms=3, lw=0.8, label=name.replace("_", " "))
        unit = str(first.coords[dim].unit) if dim in first.coords else ""
        ax.set_xlabel(f"{dim} ({unit})" if unit else dim)
        ax.set_ylabel(f"separated cross section ({first.unit})" + (", integrated over E"
                                                                   if "E" in sep.dims else ""))
        ax.axhline(0.0, color="0.6", lw=0.5)
        ax.legend(frameon=False)
        rep.add_figure("parts", fig, "The separated parts with their standard errors (exact "
                       "propagation of counts and flipping ratios).")
        import matplotlib.pyplot as plt

        plt.close(fig)
    rep.add_table("Separated parts", sep.rows())
    return rep


def write_separation(sep, folder, command: str | None = None) -> list:
    """Write ``parts.csv``, ``separation.h5`` and ``report.html`` (layout in the module
    docstring and docs/polarisation.md) into ``folder``, atomically (the folder is built beside
    it and swapped in whole); return the paths written.
    """
    from ..data.io import Results, Table, write_csv, write_results_h5
    from ..fileio import check_output_folder, result_folder

    out = check_output_folder(folder)
    rows = sep.rows()
    with result_folder(out) as tmp:
        files = []
        cols = {k: np.array([np.nan if r.get(k) is None else r[k] for r in rows], dtype=float)
                for k in (rows[0] if rows else {})}
        write_csv(tmp / "parts.csv", Table(cols))
        files.append("parts.csv")
        data = {name: da for name, da in sep.parts.items()}
        data |= {f"channel_{k}": da for k, da in sep.channels.items()}
        meta = {k: v for k, v in sep.to_json().items()}
        write_results_h5(tmp / "separation.h5", Results(data=data, metadata=meta,
                                                        model={"method": sep.method.name,
                                                               "estimator": sep.estimator}),
                         command=command)
        files.append("separation.h5")
        rep = sep.report(command)
        rep.write(tmp / "report.html")
        files.append("report.html")
    return [out / f for f in files]
