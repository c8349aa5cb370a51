"""Cuts of a measured S(Q,E) file: what ``latdyn ins cut`` computes, prints and writes.

:func:`cut_measurement` loads S(Q,E) (any format :func:`latdyn.data.io.load` reads), optionally
applies k_i/k_f (:func:`latdyn.reduce.kf_ki_correction`) and the conversion to chi''
(:func:`latdyn.reduce.bose_to_chi`), integrates or averages over a |Q| or energy range with
bin fractions (:func:`latdyn.reduce.cut`) and, for a cut S(E), can fit the sample temperature
from detailed balance (:func:`latdyn.reduce.detailed_balance_check`).  :class:`MeasuredCut`
writes the cut as one CSV file (:func:`latdyn.data.io.write_csv`; layout in docs/ins.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipp as sc

from ..errors import InputError

__all__ = ["MeasuredCut", "cut_measurement"]

_RANGE_UNITS = {"Q": "1/angstrom", "E": "meV"}


def _unit(unit) -> str:
    """A scipp unit in the ASCII spelling of latdyn's JSON ('1/angstrom', not '1/Å')."""
    return str(unit).replace("Å", "angstrom")


@dataclass
class MeasuredCut:
    """A 1-D (or higher) cut ``cut`` of the file ``source`` over ``dim`` in ``bounds``
    (integrated, or averaged with ``average``), and the detailed-balance fit when asked for."""

    cut: sc.DataArray
    source: str
    dim: str
    bounds: tuple[float, float]
    average: bool = False
    balance: object = None

    @property
    def heading(self) -> str:
        return f"cut of {self.source} over {self.dim} {self.bounds[0]:g}..{self.bounds[1]:g}"

    def rows(self) -> list[dict]:
        """The remaining axis, value and error per point (a 1-D cut; none otherwise)."""
        out = self.cut
        if out.ndim != 1:
            return []
        other = out.dims[0]
        err = np.sqrt(out.variances) if out.variances is not None else np.full(out.shape, np.nan)
        return [{other: float(x), "value": float(v), "error": float(e)}
                for x, v, e in zip(out.coords[other].values, out.values, err, strict=True)]

    def to_json(self) -> dict:
        out = self.cut
        units = {"value": _unit(out.unit), "error": _unit(out.unit)}
        if out.ndim == 1:
            units = {out.dims[0]: _unit(out.coords[out.dims[0]].unit)} | units
        res = {"file": self.source, "cut_over": self.dim,
               "range": {"value": list(self.bounds), "error": None, "unit": _RANGE_UNITS.get(self.dim, "")},
               "mode": "average" if self.average else "integrate", "units": units}
        if self.balance is not None:
            b = self.balance
            res["temperature_fit"] = {"value": b.temperature, "error": b.temperature_error, "unit": "K"}
            res["balance_reduced_chi2"] = b.reduced_chi2
        return res

    def figure(self):
        from ..report import axis_label, new_figure

        out = self.cut
        fig, ax = new_figure()
        if out.ndim == 1:
            other = out.dims[0]
            err = np.sqrt(out.variances) if out.variances is not None else None
            ax.errorbar(out.coords[other].values, out.values, err, fmt="o-", ms=3)
            ax.set_xlabel(axis_label(other, str(out.coords[other].unit)))
            ax.set_ylabel(f"Intensity ({out.unit})")
        return fig

    def report(self, command: str | None = None):
        """An HTML report of the cut: figure and table (the command writes only the CSV)."""
        from ..report import Report

        rep = Report(self.heading, command=command)
        rep.add_input(self.source)
        rep.add_figure("cut", self.figure(), self.heading)
        rep.add_table("Cut", self.rows())
        return rep

    def write(self, path, command: str | None = None) -> list[Path]:
        """The cut as one CSV file at ``path`` (atomic); returns [path]."""
        from ..data.io import write_csv

        return [Path(write_csv(path, self.cut))]


def cut_measurement(file, *, q=None, e=None, average: bool = False, ei: float | None = None,
                    ef: float | None = None, chi: float | None = None, balance=None) -> MeasuredCut:
    """``latdyn ins cut``: integrate (or ``average``) the S(Q,E) of ``file`` over the |Q| range
    ``q`` (1/angstrom; gives S(E)) or the energy range ``e`` (meV; gives S(Q)), after k_i/k_f
    (``ei`` direct or ``ef`` indirect geometry, meV) and the conversion to chi'' at ``chi`` K
    when given.  ``balance`` (E_min, E_max in meV): fit the sample temperature from
    S(-E)/S(E) of the cut."""
    from ..data.io import load
    from ..reduce import bose_to_chi, cut, detailed_balance_check, kf_ki_correction

    if (q is None) == (e is None):
        raise InputError("give one of the |Q| range (q) and the energy range (e)", field="q,e", value=(q, e))
    source = str(file)
    da = load(file).data
    if ei is not None or ef is not None:
        da = kf_ki_correction(da, ei=ei, ef=ef, source=source)
    if chi is not None:
        da = bose_to_chi(da, chi, source=source)
    dim, rng = ("Q", q) if q is not None else ("E", e)
    out = cut(da, dim, rng[0], rng[1], average=average, source=source)
    res = None
    if balance is not None:
        res = detailed_balance_check(out, balance[0], balance[1], source=source)
    return MeasuredCut(out, source, dim, (float(rng[0]), float(rng[1])), average, res)
