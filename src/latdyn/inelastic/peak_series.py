"""Phonon-peak fits of measured spectra over temperature: ``latdyn ins fit``.

:func:`fit_phonon_series` loads one spectrum per temperature (S(E), or S(Q,E) averaged over a
|Q| range first), keeps an energy window and fits elastic + quasi-elastic + N damped
oscillators with the Bose factor, sequentially in temperature
(:func:`latdyn.inelastic.fit_temperature_series`), with a Gaussian resolution given as a
FWHM(E) polynomial or by an instrument of the library.  The :class:`PhononSeries` it returns
writes ``fits.csv``, ``report.html`` and ``figures/`` (layouts in docs/ins.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .phonon_peaks import PhononPeakModel, PhononSeries, fit_temperature_series

__all__ = ["load_spectrum", "fit_phonon_series", "series_report", "write_series"]


def load_spectrum(path, q=None, e_range=None):
    """The spectrum S(E) of a file: S(Q,E) is averaged over the |Q| range ``q`` (1/angstrom)
    first; ``e_range`` (meV) keeps that energy window (at least 5 points)."""
    from ..data.io import load
    from ..reduce import cut

    da = load(path).data
    if "Q" in da.dims:
        if q is None:
            raise InputError("S(Q,E) input needs --q QMIN QMAX to cut it first", file=path, field="--q")
        da = cut(da, "Q", q[0], q[1], average=True, source=str(path))
    if e_range is not None:
        e = da.coords["E"].values
        sel = (e >= e_range[0]) & (e <= e_range[1])
        if sel.sum() < 5:
            raise InputError("fewer than 5 points in the energy window", file=path, field="--e-range",
                             value=e_range)
        idx = np.nonzero(sel)[0]
        da = da["E", int(idx[0]):int(idx[-1]) + 1]
    return da


def fit_phonon_series(files, temperatures, *, e0, gamma=None, q=None, e_range=None,
                      quasielastic: bool = True, elastic: bool = True, background: str = "flat",
                      fix_shift: bool = False, resolution=None, instrument=None, ei: float | None = None,
                      group_velocity=None) -> PhononSeries:
    """Fit one spectrum file per temperature (K) with len(``e0``) damped oscillators started at
    ``e0`` (meV; dampings ``gamma``), an elastic line and a quasi-elastic Lorentzian (unless
    switched off), a ``background`` 'none', 'flat' or 'linear' and an energy offset (held at
    0 with ``fix_shift``).  Resolution: ``resolution`` = FWHM(E) polynomial coefficients
    (meV: FWHM = sum c_k E^k) or ``instrument`` (a library name) with ``ei`` (meV).
    ``group_velocity`` (m/s per oscillator) gives mean free paths."""
    files = list(files)
    temps = [float(t) for t in temperatures]
    if len(temps) != len(files):
        raise InputError("give one temperature per file", field="--T", value=(len(temps), len(files)))
    if (resolution is None) == (instrument is None):
        raise InputError("give a resolution polynomial or an instrument", field="--resolution")
    settings = {}
    if instrument is not None:
        from ..instruments import load_instrument

        if ei is None:
            raise InputError("--instrument needs --ei (meV)", field="--ei")
        resolution, settings = load_instrument(instrument), {"ei": ei}
    model = PhononPeakModel(n_dho=len(e0), elastic=elastic, quasielastic=quasielastic,
                            background=background, fit_shift=not fix_shift)
    spectra = [load_spectrum(f, q, e_range) for f in files]
    series = fit_temperature_series(spectra, temps, resolution, model=model, e0=e0, gamma=gamma,
                                    group_velocity=group_velocity, **settings)
    series.inputs = files
    return series


def series_report(series: PhononSeries, command: str | None = None):
    """The HTML report: the model, one fit per temperature, parameters versus temperature."""
    from ..report import Report
    from .figures import fit_figures

    rep = Report("Phonon-peak fits", command=command)
    for f in series.inputs:
        rep.add_input(f)
    n = series.fits[0].model_definition["n_dho"]
    rep.add_text("Model", f"elastic x R + quasi-elastic Lorentzian x R + {n} DHO(s) with the Bose "
                 f"factor, Gaussian resolution {series.fits[0].model_definition['resolution']}; "
                 "overdamped when Gamma >= E0; lifetime tau = hbar/(2 Gamma).")
    for name, fig, caption in fit_figures(series):
        rep.add_figure(name, fig, caption)
    rep.add_table("Parameters versus temperature", series.rows())
    return rep


def write_series(series: PhononSeries, folder, command: str | None = None) -> list[Path]:
    """``fits.csv`` (one row per temperature), ``report.html`` and ``figures/`` into ``folder``
    (replaced whole)."""
    from ..report.folder import write_result_folder

    return write_result_folder(folder, {"fits.csv": series.write_csv}, series_report(series, command))
