"""Pair distribution functions as results: what ``latdyn diffraction pdf`` computes and writes.

:func:`compute_pdf` gives the model G(r) of a crystal (:func:`latdyn.diffraction.model_pdf`) or
transforms a measured S(Q) (:func:`latdyn.diffraction.pdf_from_sq`), with g(r), R(r) and, over
a shell [r1, r2], the coordination number N = int R dr.  :class:`PDFResult` writes
``pdf.csv``, ``report.html`` and ``figures/pdf.png``
(``.svg`` too with ``LATDYN_FIGURE_FORMATS=png,svg``) (layouts in docs/diffraction.md).
Units: r angstrom, G 1/angstrom^2, R 1/angstrom, rho0 atoms/angstrom^3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .pattern_results import grid
from .pdf import R_from_G, coordination_number, g_from_G, model_pdf, pdf_from_sq
from .reflection_results import _crystal, _inputs
from .tables import read_numeric_table, write_columns_csv

__all__ = ["PDFResult", "compute_pdf"]


@dataclass
class PDFResult:
    """G(r) (with its standard error when transformed from S(Q) with errors), the number
    density rho0 and, when a shell was given, its coordination number."""

    title: str
    r: np.ndarray
    G: np.ndarray
    rho0: float
    G_error: np.ndarray | None = None
    shell: tuple[float, float] | None = None
    coordination: float | None = None
    inputs: list = field(default_factory=list)

    @property
    def heading(self) -> str:
        return self.title

    @property
    def g(self) -> np.ndarray:
        """g(r) = 1 + G / (4 pi r rho0) (NaN everywhere when the grid reaches r = 0)."""
        if np.all(self.r > 0):
            return g_from_G(self.r, self.G, self.rho0)
        return np.full_like(self.G, np.nan)

    @property
    def R(self) -> np.ndarray:
        """R(r) = r G(r) + 4 pi r^2 rho0 (1/angstrom)."""
        return R_from_G(self.r, self.G, self.rho0)

    def rows(self) -> list[dict]:
        """The coordination number over the shell [r1, r2] (angstrom), when one was given."""
        if self.shell is None:
            return []
        return [{"r1": self.shell[0], "r2": self.shell[1], "coordination": self.coordination}]

    def to_json(self) -> dict:
        return {"rho0": {"value": self.rho0, "error": None, "unit": "1/angstrom**3"},
                "units": {"r1": "angstrom", "r2": "angstrom"}}

    def figure(self):
        from ..report import axis_label, new_figure

        fig, ax = new_figure(7, 4.2)
        ax.plot(self.r, self.G, lw=1)
        ax.set_xlabel(axis_label("r", "angstrom"))
        ax.set_ylabel("G(r) (Å$^{-2}$)")
        if self.shell is not None:
            ax.axvspan(*self.shell, color="0.9")
        return fig

    def report(self, command: str | None = None):
        from ..report import Report

        rep = Report(self.title, command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_figure("pdf", self.figure(), self.title)
        if self.shell is not None:
            rep.add_table("Coordination", self.rows())
        return rep

    def _write_csv(self, path: Path) -> Path:
        err = self.G_error is not None
        return write_columns_csv(
            path, ["r_angstrom", "G_inv_angstrom2", "g", "R_inv_angstrom"] + (["G_error"] if err else []),
            [self.r, self.G, self.g, self.R] + ([self.G_error] if err else []),
            f"{self.title}; rho0 = {self.rho0:.8g} atoms/angstrom^3")

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``pdf.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"pdf.csv": self._write_csv}, self.report(command))


def compute_pdf(source, *, sq: bool = False, rho0: float | None = None, r=(0.5, 20.0, 0.01),
                qmax: float | None = None, lorch: bool = False, radiation: str = "neutron",
                shell: tuple[float, float] | None = None) -> PDFResult:
    """G(r) as ``latdyn diffraction pdf`` gives it (the arguments are its options).

    ``source``: a CIF (path or Crystal) for the model G(r) of ``radiation``, or with ``sq`` a
    table of Q (1/angstrom), S(Q)[, error] transformed with the number density ``rho0``
    (atoms/angstrom^3).  ``r``: grid (angstrom; (min, max, step) or an array); ``qmax``
    (1/angstrom) the termination, ``lorch`` the Lorch modification; ``shell`` (r1, r2): the
    coordination number over it."""
    from ..data import make_sq

    r = grid(r, "r")
    modification = "lorch" if lorch else "none"
    if sq:
        if rho0 is None:
            raise InputError("transforming S(Q) needs the number density --rho0", field="rho0")
        tab = read_numeric_table(source, 2, "Q,S")
        data = make_sq(tab[:, 0], tab[:, 1], tab[:, 2] if tab.shape[1] > 2 else None, source=str(source))
        gda = pdf_from_sq(data, r, qmax=qmax, modification=modification)
        G, err = gda.values, None if gda.variances is None else np.sqrt(gda.variances)
        title = f"G(r) of {Path(source).name}"
    else:
        c = _crystal(source)
        G, err = model_pdf(c, r, radiation, qmax=qmax, modification=modification), None
        rho0, title = c.number_density, f"Model G(r) of {c.title} ({radiation})"
    n = coordination_number(r, G, rho0, *shell) if shell is not None else None
    return PDFResult(title, r, G, float(rho0), err, None if shell is None else tuple(shell), n,
                     _inputs(source))
