"""Fits of U_iso(T) from a file, their report and files (``latdyn diffraction debye``).

:func:`fit_u_iso_file` reads a table of T (K), U_iso (angstrom^2)[, error] and fits the Debye
or Einstein model plus a static offset (:func:`latdyn.diffraction.fit_u_iso`); the
:class:`latdyn.diffraction.ADPFit` it returns writes ``debye_fit.csv`` (the model on 300
temperatures from 0 to 1.1 T_max), ``report.html`` and ``figures/debye.png``
(``.svg`` too with ``LATDYN_FIGURE_FORMATS=png,svg``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .adp import ADPFit, fit_u_iso
from .tables import read_numeric_table, write_columns_csv

__all__ = ["fit_u_iso_file", "adp_report", "write_adp_fit"]


def fit_u_iso_file(table, *, mass: float | None = None, species: str | None = None,
                   model: str = "debye", static: bool = True) -> ADPFit:
    """Fit U_iso(T) of the table file ``table`` (columns T in K, U_iso in angstrom^2, optional
    error) with ``model`` 'debye' or 'einstein' + U_static (``static=False`` fixes it at 0).
    The atomic mass (amu) is ``mass`` or that of ``species`` (an element or isotope)."""
    from ..scattering import nuclide

    tab = read_numeric_table(table, 2, "T,U_iso")
    if mass is None and species is None:
        raise InputError("give --mass (amu) or --species", field="mass")
    m = mass if mass is not None else nuclide(species).mass
    res = fit_u_iso(tab[:, 0], tab[:, 1], tab[:, 2] if tab.shape[1] > 2 else None, mass=m, model=model,
                    static=static)
    res.inputs = [table]
    return res


def _model_curve(fit: ADPFit) -> tuple[np.ndarray, np.ndarray]:
    tt = np.linspace(0, fit.T.max() * 1.1, 300)
    return tt, fit.predict(tt)


def _figure(fit: ADPFit):
    from ..report import axis_label, new_figure

    tt, model = _model_curve(fit)
    fig, ax = new_figure()
    ax.errorbar(fit.T, fit.u_iso, yerr=fit.u_err, fmt="o", ms=4, label="data")
    ax.plot(tt, model, label=f"{fit.model} + static")
    ax.set_xlabel(axis_label("T", "K"))
    ax.set_ylabel("U$_{iso}$ (Å$^2$)")
    ax.legend(frameon=False)
    return fig


def adp_report(fit: ADPFit, command: str | None = None):
    """The report of a U_iso(T) fit: parameters, the figure, chi2, reduced chi2, AIC, BIC."""
    from ..report import Report

    rep = Report(f"{fit.model.capitalize()} fit of U_iso(T)", command=command)
    for i in fit.inputs:
        rep.add_input(i)
    rep.add_parameters("Parameters", fit.params)
    rep.add_figure("debye", _figure(fit), "U_iso(T) and the fitted model")
    rep.add_table("Statistics", [{"chi2": fit.chi2, "reduced chi2": fit.reduced_chi2, "AIC": fit.aic,
                                  "BIC": fit.bic}])
    return rep


def write_adp_fit(fit: ADPFit, folder, command: str | None = None) -> list[Path]:
    """``debye_fit.csv`` (T_K, U_iso_model_angstrom2; a comment with the parameters),
    ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
    from ..report.folder import write_result_folder

    summary = ", ".join(f"{k} = {v:.6g} +- {np.nan if e is None else e:.2g} {u}"
                        for k, (v, e, u) in fit.params.items())

    def csv(path):
        return write_columns_csv(path, ["T_K", "U_iso_model_angstrom2"], list(_model_curve(fit)),
                                 f"{fit.model} fit: {summary}")

    return write_result_folder(folder, {"debye_fit.csv": csv}, adp_report(fit, command))
