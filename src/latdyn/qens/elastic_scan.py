r"""Mean-square displacement from elastic (fixed-window) scans in the Gaussian approximation.

For an isotropic harmonic (Gaussian) motion the elastic intensity is

    S_el(Q, T) / S_el(Q, T_0) = exp(-Q^2 [<u^2>(T) - <u^2>(T_0)] / 3),

<u^2> = <u_x^2 + u_y^2 + u_z^2> (A^2), so ln of the normalised intensity is linear in Q^2 with
slope -<u^2>/3 (Rahman, Singwi & Sjolander, Phys. Rev. 126, 986 (1962); Zaccai, Science 288,
1604 (2000)).  The approximation holds for Q^2 <u^2> / 3 below about 1; :func:`elastic_msd`
reports for each temperature whether the fitted Q range obeys it.

Conventions in use (FIELD-NOTES): ``u2`` exp(-Q^2 <u^2>/3) (this module); ``ux2``
exp(-Q^2 <u_x^2>), <u^2> = 3 <u_x^2> (nPDyn built-ins); ``r2`` exp(-Q^2 <r^2>/6) with
<r^2> = <|r(t) - r(0)|^2> = 2 <u^2> (Mantid MSDFit, nPDyn docs).  :func:`convert_msd` converts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..errors import InputError

__all__ = ["MSD_CONVENTIONS", "convert_msd", "elastic_msd", "bin_temperature", "normalised_intensity",
           "ElasticScanMSD", "msd_from_scan", "MSD_DEFINITIONS"]

#: what each convention reports, in words (written into every output).
MSD_DEFINITIONS = {"u2": "<u^2> (A^2) in I = exp(-Q^2 <u^2> / 3), <u^2> = <u_x^2 + u_y^2 + u_z^2>",
                   "r2": "<r^2> = 2 <u^2> (A^2) in I = exp(-Q^2 <r^2> / 6)",
                   "ux2": "<u_x^2> = <u^2> / 3 (A^2) in I = exp(-Q^2 <u_x^2>)"}

#: value in each convention per <u^2> (A^2).
MSD_CONVENTIONS = {"u2": 1.0, "ux2": 1.0 / 3.0, "r2": 2.0}


def convert_msd(value, source: str = "u2", target: str = "r2"):
    """Convert an MSD between conventions 'u2' (<u^2>), 'ux2' (<u_x^2>) and 'r2' (<r^2> = 2<u^2>)."""
    for c in (source, target):
        if c not in MSD_CONVENTIONS:
            raise InputError(f"unknown MSD convention; use one of {sorted(MSD_CONVENTIONS)}",
                             field="convention", value=c)
    return np.asarray(value, dtype=float) * MSD_CONVENTIONS[target] / MSD_CONVENTIONS[source]


def bin_temperature(scan: sc.DataArray, width: float, source: str | None = None) -> sc.DataArray:
    """Average an elastic scan (dims 'T', 'Q') over temperature bins of ``width`` K.

    Bins start at the lowest temperature; each output row is the plain mean of the n rows in
    its bin, I = (1/n) sum I_i, sigma^2 = (1/n^2) sum sigma_i^2, at the mean temperature.
    Empty bins are dropped.  Used to reduce a continuous ramp (thousands of short runs) to a
    readable MSD(T) curve.
    """
    if not isinstance(scan, sc.DataArray) or "T" not in scan.dims:
        raise InputError("elastic scan must be a DataArray with a 'T' dimension", file=source,
                         field="dims", value=getattr(scan, "dims", type(scan).__name__))
    if not (np.isfinite(width) and width > 0):
        raise InputError("temperature bin width must be positive (K)", file=source, field="t_bin",
                         value=width)
    da = scan.transpose(["T", *[d for d in scan.dims if d != "T"]])
    T = np.asarray(da.coords["T"].values, dtype=float)
    idx = np.floor((T - T.min()) / width + 1e-9).astype(int)
    keep = np.unique(idx)
    vals = np.asarray(da.values, dtype=float)
    var = None if da.variances is None else np.asarray(da.variances, dtype=float)
    out_v, out_var, out_t = [], [], []
    for k in keep:
        rows = idx == k
        n = rows.sum()
        out_t.append(T[rows].mean())
        out_v.append(vals[rows].mean(axis=0))
        if var is not None:
            out_var.append(var[rows].sum(axis=0) / n**2)
    dims = list(da.dims)
    data = sc.array(dims=dims, values=np.array(out_v), unit=da.unit,
                    variances=np.array(out_var) if var is not None else None)
    coords = {"T": sc.array(dims=["T"], values=np.array(out_t), unit=da.coords["T"].unit)}
    for name, c in da.coords.items():
        if name != "T" and "T" not in c.dims:
            coords[name] = c.copy()
    return sc.DataArray(data, coords=coords, name=da.name)


def elastic_msd(scan: sc.DataArray, q_range: tuple[float, float] | None = None,
                reference: str = "lowest", validity: float = 1.0, convention: str = "u2",
                reference_range: tuple[float, float] | None = None,
                source: str | None = None) -> sc.DataArray:
    r"""<u^2>(T) from an elastic scan with dims ('T', 'Q') (either order) and variances.

    Each Q column is normalised to its value at the lowest temperature (``reference='lowest'``;
    with ``reference_range`` (K) to the weighted mean of the rows inside that range, which
    lowers the noise of the reference) or left as it is (``'none'``: the intercept absorbs the
    scale).  For each T a weighted straight line ln I = c - (Q^2 / 3) <u^2> is fitted over
    ``q_range`` (1/A, default all Q), with weights from the propagated variances.  The MSD is
    then relative to the reference temperature: <u^2>(T) - <u^2>(T_ref).

    Returns a DataArray over T: the MSD in the requested ``convention`` (A^2, with variances),
    coords ``intercept`` and ``valid`` (True where Q_max^2 <u^2> / 3 <= ``validity``).
    """
    if not isinstance(scan, sc.DataArray) or set(scan.dims) != {"T", "Q"}:
        raise InputError("elastic scan must be a DataArray with dims ('T', 'Q')", file=source,
                         field="dims", value=getattr(scan, "dims", type(scan).__name__))
    da = scan.transpose(["T", "Q"])
    T = np.asarray(da.coords["T"].values, dtype=float)
    Q = np.asarray(sc.to_unit(da.coords["Q"], "1/angstrom").values, dtype=float)
    if da.coords.is_edges("Q"):
        Q = 0.5 * (Q[1:] + Q[:-1])
    I = np.asarray(da.values, dtype=float)
    var = np.asarray(da.variances) if da.variances is not None else None
    if var is None:
        raise InputError("elastic scan needs uncertainties (variances)", file=source, field="variances")
    sel = np.ones(Q.size, bool) if q_range is None else (Q >= q_range[0]) & (Q <= q_range[1])
    if sel.sum() < 2:
        raise InputError("fewer than two Q groups inside the Q range", file=source, field="q_range",
                         value=q_range)
    y, y_var = normalised_intensity(T, Q, I, var, sel, reference, reference_range, source)
    x = Q[sel] ** 2
    out_val = np.full(T.size, np.nan)
    out_var = np.full(T.size, np.nan)
    icpt = np.full(T.size, np.nan)
    for it in range(T.size):
        yy, vv = y[it, sel], y_var[it, sel]
        ok = (yy > 0) & (vv > 0)
        if ok.sum() < 2:
            raise InputError("fewer than two usable (positive, with errors) points", file=source,
                             field=f"T={T[it]:g}", value=int(ok.sum()))
        ln = np.log(yy[ok])
        w = yy[ok] ** 2 / vv[ok]  # 1 / var(ln y)
        X = np.stack([np.ones(ok.sum()), -x[ok] / 3.0], axis=1)
        cov = np.linalg.inv(X.T @ (X * w[:, None]))
        beta = cov @ (X.T @ (w * ln))
        icpt[it], out_val[it], out_var[it] = beta[0], beta[1], cov[1, 1]
    valid = x.max() * out_val / 3.0 <= validity
    f = MSD_CONVENTIONS[convert_msd_check(convention)]
    res = sc.DataArray(
        sc.array(dims=["T"], values=out_val * f, variances=out_var * f * f, unit="angstrom**2"),
        coords={"T": da.coords["T"].copy(),
                "intercept": sc.array(dims=["T"], values=icpt),
                "valid": sc.array(dims=["T"], values=valid)},
        name=f"MSD ({convention})")
    return res


def normalised_intensity(T, Q, I, var, sel, reference="lowest", reference_range=None, source=None):
    """(I / I_ref, variance) per (T, Q): I_ref the lowest-T row, or the inverse-variance
    weighted mean of the rows inside ``reference_range`` (K); ``reference='none'`` leaves I."""
    if reference == "none":
        return I, var
    if reference != "lowest":
        raise InputError("reference must be 'lowest' or 'none'", field="reference", value=reference)
    if reference_range is None:
        rows = np.zeros(T.size, bool)
        rows[int(np.argmin(T))] = True
    else:
        rows = (T >= reference_range[0]) & (T <= reference_range[1])
        if not rows.any():
            raise InputError("no temperature inside the reference range", file=source,
                             field="reference_range", value=reference_range)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(var[rows] > 0, 1.0 / var[rows], 0.0)
        wsum = w.sum(axis=0)
        ref = np.where(wsum > 0, (w * I[rows]).sum(axis=0) / np.where(wsum > 0, wsum, 1), I[rows].mean(0))
        ref_var = np.where(wsum > 0, 1.0 / np.where(wsum > 0, wsum, 1), np.inf)
    if np.any(ref[sel] <= 0):
        raise InputError("reference (lowest-T) intensity is not positive", file=source,
                         field="Q", value=Q[sel][ref[sel] <= 0][0])
    y = I / ref
    y_var = var / ref**2 + (I**2) * ref_var / ref**4
    if rows.sum() == 1:
        y_var[rows] = var[rows] / ref**2  # the reference row is exactly 1 up to its own noise
    return y, y_var


def convert_msd_check(convention: str) -> str:
    """Return ``convention`` if known, else raise InputError."""
    if convention not in MSD_CONVENTIONS:
        raise InputError(f"unknown MSD convention; use one of {sorted(MSD_CONVENTIONS)}",
                         field="convention", value=convention)
    return convention


@dataclass
class ElasticScanMSD:
    """The MSD of an elastic scan (:func:`msd_from_scan`): ``msd`` over T (A^2, variances;
    coords ``intercept``, ``valid``), the scan it came from (binned), and the settings."""

    msd: sc.DataArray
    scan: sc.DataArray
    convention: str
    q_fit: tuple[float, float]
    reference_range: tuple[float, float] | None
    t_bin: float | None
    validity: float
    inputs: list = field(default_factory=list)

    @property
    def definition(self) -> str:
        return MSD_DEFINITIONS[self.convention]

    def rows(self) -> list[dict]:
        """T, msd, msd_err, valid per temperature."""
        m = self.msd
        return [{"T": float(t), "msd": float(v), "msd_err": float(np.sqrt(e)), "valid": bool(ok)}
                for t, v, e, ok in zip(m.coords["T"].values, m.values, m.variances,
                                       m.coords["valid"].values, strict=True)]

    def ln_ratio(self) -> np.ndarray:
        """ln I(Q,T)/I(Q,T_ref) (T, Q) with the reference of the fit (NaN where not positive)."""
        da = self.scan.transpose(["T", "Q"])
        T = np.asarray(da.coords["T"].values, float)
        Q = np.asarray(da.coords["Q"].values, float)
        y, _ = normalised_intensity(T, Q, np.asarray(da.values, float), np.asarray(da.variances, float),
                                    (Q >= self.q_fit[0]) & (Q <= self.q_fit[1]), "lowest",
                                    self.reference_range)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), np.nan)

    @property
    def reference(self):
        """'lowest temperature' or the reference range [T_min, T_max] (K)."""
        return list(self.reference_range) if self.reference_range else "lowest temperature"

    def to_json(self) -> dict:
        return {"convention": self.convention, "definition": self.definition,
                "q_range": {"value": list(self.q_fit), "unit": "1/angstrom"},
                "reference": self.reference, "rows": self.rows()}

    def write(self, folder, command: str | None = None) -> list:
        """msd.csv, results.h5, report.html and figures/ into ``folder`` (replaced whole)."""
        from .report import write_msd

        return write_msd(self, folder, command)

    def report(self, command: str | None = None):
        from .report import msd_report

        return msd_report(self, command)


def msd_from_scan(scan, *, entry: str | None = None, q_range: tuple[float, float] | None = None,
                  t_bin: float | None = None, reference_range: tuple[float, float] | None = None,
                  convention: str = "u2", validity: float = 1.0) -> ElasticScanMSD:
    """<u^2>(T) of an elastic scan (a file path, e.g. an IN16B INX file, or a DataArray with
    dims (T, Q)): optional temperature bins of ``t_bin`` K, then :func:`elastic_msd`."""
    from pathlib import Path

    if isinstance(scan, sc.DataArray):
        da, src, inputs = scan, None, []
    else:
        from ..data.io import load

        da, _ = load(scan).pick(entry)
        src, inputs = str(scan), [Path(scan)]
    if set(da.dims) != {"T", "Q"}:
        raise InputError("an elastic scan needs dims (T, Q) (an INX temperature scan)", file=src,
                         field="dims", value=list(da.dims))
    binned = bin_temperature(da, t_bin, source=src) if t_bin else da.transpose(["T", "Q"])
    res = elastic_msd(binned, q_range=q_range, convention=convention, validity=validity,
                      reference_range=reference_range, source=src)
    q = np.asarray(binned.coords["Q"].values, float)
    sel = np.ones(q.size, bool) if q_range is None else (q >= q_range[0]) & (q <= q_range[1])
    return ElasticScanMSD(res, binned, convention, (float(q[sel].min()), float(q[sel].max())),
                          tuple(reference_range) if reference_range else None, t_bin, validity, inputs)
