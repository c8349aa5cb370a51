"""Arrhenius fits of a table file: what ``latdyn thermo arrhenius`` computes, prints and writes.

:func:`fit_arrhenius_file` reads a text table of T (K), y and an optional error of y
(whitespace or commas, ``#`` comments, a header line allowed) and fits
y = A exp(-E_a / k_B T) (:func:`latdyn.thermo.arrhenius_fit`).  :class:`ArrheniusAnalysis`
writes ``arrhenius.csv`` (``T [K],y,y_err,fit``), ``report.html`` and
``figures/arrhenius.png``
(``.svg`` too with ``LATDYN_FIGURE_FORMATS=png,svg``) (docs/thermo.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import read_text_file
from .kinetics import ArrheniusResult, arrhenius_fit

__all__ = ["ArrheniusAnalysis", "fit_arrhenius_file", "read_arrhenius_table"]


def read_arrhenius_table(path) -> np.ndarray:
    """Rows of 2 or 3 numbers (T, y[, error]); a non-numeric line before the numbers is a
    header, one after them an InputError naming the line."""
    rows = []
    content, _ = read_text_file(path)
    for i, line in enumerate(content.splitlines(), 1):
        text = line.split("#", 1)[0].replace(",", " ").strip()
        if not text:
            continue
        try:
            rows.append([float(x) for x in text.split()])
        except ValueError:
            if rows:
                raise InputError("not a number", file=path, field=f"line {i}", value=line.strip()) \
                    from None
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) not in (2, 3):
        raise InputError("expected 2 or 3 numeric columns (T, y, error)", file=path, field="columns",
                         value=sorted({len(r) for r in rows}))
    return np.asarray(rows)


@dataclass
class ArrheniusAnalysis:
    """An Arrhenius fit (:class:`latdyn.thermo.ArrheniusResult`) with its data: T (K), y and
    the errors of y (None when not given), and the file they came from."""

    fit: ArrheniusResult
    T: np.ndarray
    y: np.ndarray
    y_error: np.ndarray | None
    source: str

    @property
    def heading(self) -> str:
        return f"Arrhenius fit of {self.source}"

    def rows(self) -> list[dict]:
        """T (K), y and the fitted y at each temperature."""
        pred = self.fit.predict(self.T)
        return [{"T": a, "y": b, "fit": c} for a, b, c in zip(self.T, self.y, pred, strict=True)]

    def warnings(self) -> list[str]:
        """Why the fit should not be used as it stands: its reasons and implausible values
        (an error larger than E_a or A, no finite errors)."""
        return list(self.fit.reasons) + self.fit.implausible()

    def to_json(self) -> dict:
        """E_a (eV) and A with errors and units, their correlation and the fit statistics."""
        return {**self.fit.to_json(), "correlation": self.fit.ea_prefactor_correlation,
                "units": {"T": "K"}}

    def figure(self):
        """ln y against 1000/T with the fitted line."""
        from ..report import new_figure

        res = self.fit
        fig, ax = new_figure()
        x = 1000.0 / self.T
        ax.errorbar(x, self.y, self.y_error, fmt="o")
        xx = np.linspace(x.min(), x.max(), 100)
        ax.plot(xx, res.predict(1000.0 / xx), label=f"Ea = {res.activation_energy:.3f} ± "
                f"{res.activation_energy_error:.3f} eV")
        ax.set_yscale("log")
        ax.set_xlabel("1000 / T (1/K)")
        ax.set_ylabel("y")
        ax.legend(frameon=False)
        return fig

    def report(self, command: str | None = None):
        from ..report import Report

        rep = Report(self.heading, command=command)
        rep.add_input(self.source)
        rep.add_figure("arrhenius", self.figure(), "ln y versus 1/T with the fit")
        rep.add_table("Result", [self.fit.as_dict()])
        return rep

    def _write_csv(self, path: Path) -> Path:
        import csv
        import io

        from ..fileio import write_text_atomic

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["T [K]", "y", "y_err", "fit"])
        for i, t in enumerate(self.T):
            err = self.y_error[i] if self.y_error is not None else ""
            w.writerow([t, self.y[i], err, self.fit.predict(t)])
        return write_text_atomic(path, buf.getvalue())

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``arrhenius.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"arrhenius.csv": self._write_csv}, self.report(command))


def fit_arrhenius_file(path) -> ArrheniusAnalysis:
    """Read T, y[, error] from the table ``path`` (:func:`read_arrhenius_table`) and fit
    y = A exp(-E_a / k_B T)."""
    t = read_arrhenius_table(path)
    err = t[:, 2] if t.shape[1] == 3 else None
    return ArrheniusAnalysis(arrhenius_fit(t[:, 0], t[:, 1], err), t[:, 0], t[:, 1], err, str(path))
