"""A results table: named columns with units, optionally a fit's covariance matrices.

Used for fit results (one row per Q group or temperature, one column per parameter value
and standard error) and for any other tabular output; written by
:func:`~latdyn.data.io.write_results_h5` and :func:`~latdyn.data.io.write_csv`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError

__all__ = ["Table"]


@dataclass
class Table:
    """Columns of equal length, with units and an optional covariance.

    Attributes
    ----------
    columns: column name -> 1-D array (numbers, booleans or strings), in display order.
    units: column name -> unit string (missing means dimensionless / not applicable).
    covariance: fit covariance, shape (n_par, n_par) for one fit or (n_rows, n_par, n_par)
        for one fit per row; its axes follow ``parameters``.
    parameters: names labelling the covariance axes.
    """

    columns: dict[str, Any]
    units: dict[str, str] = field(default_factory=dict)
    covariance: Any = None
    parameters: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        cols = {}
        n = None
        for name, values in self.columns.items():
            arr = np.asarray(values)
            if arr.ndim != 1:
                raise InputError("table columns must be 1-D", field=str(name), value=arr.shape)
            if arr.dtype.kind in "OU":
                arr = arr.astype(str)
            if n is None:
                n = arr.size
            elif arr.size != n:
                raise InputError(f"column length {arr.size} differs from {n}", field=str(name),
                                 value=arr.size)
            cols[str(name)] = arr
        self.columns = cols
        unknown = set(self.units) - set(cols)
        if unknown:
            raise InputError("units given for columns that do not exist", field="units",
                             value=sorted(unknown))
        self.parameters = [str(p) for p in self.parameters]
        if self.covariance is not None:
            cov = np.asarray(self.covariance, dtype=float)
            k = len(self.parameters)
            ok = (cov.ndim == 2 and cov.shape == (k, k)) or (
                cov.ndim == 3 and cov.shape == (n or 0, k, k))
            if not ok:
                raise InputError("covariance must be (n_par, n_par) or (n_rows, n_par, n_par) "
                                 "with n_par = len(parameters)", field="covariance",
                                 value=(cov.shape, k, n))
            self.covariance = cov

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], units: dict[str, str] | None = None, **kw) -> Table:
        """A table from dicts (missing cells NaN, text columns as strings); ``units`` for the
        columns that exist."""
        cols = list(dict.fromkeys(k for r in rows for k in r))
        columns = {}
        for c in cols:
            cells = [r.get(c, np.nan) for r in rows]
            arr = np.array(["" if v is None else v for v in cells], dtype=object) \
                if any(isinstance(v, str) or v is None for v in cells) else np.asarray(cells)
            columns[c] = arr.astype(str) if arr.dtype == object else arr
        return cls(columns, units={c: u for c, u in (units or {}).items() if c in cols}, **kw)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return next(iter(self.columns.values())).size if self.columns else 0

    def correlation(self) -> np.ndarray:
        """Correlation matrix (or matrices) from the covariance: C_ij / sqrt(C_ii C_jj)."""
        if self.covariance is None:
            raise InputError("table has no covariance", field="covariance")
        d = np.sqrt(np.diagonal(self.covariance, axis1=-2, axis2=-1))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / (d[..., :, None] * d[..., None, :])

    def equals(self, other: Table) -> bool:
        """Exact equality of columns, units, parameters and covariance."""
        if list(self.columns) != list(other.columns) or self.units != other.units:
            return False
        if self.parameters != other.parameters:
            return False
        for k, v in self.columns.items():
            if v.dtype.kind != other.columns[k].dtype.kind or not np.array_equal(
                    v, other.columns[k], equal_nan=v.dtype.kind == "f"):
                return False
        if (self.covariance is None) != (other.covariance is None):
            return False
        return self.covariance is None or np.array_equal(self.covariance, other.covariance,
                                                         equal_nan=True)
