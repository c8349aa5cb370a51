r"""Published incident fluxes at the sample and their transfer to other settings.

An instrument file may list published fluxes at the sample position (n/cm^2/s, time-averaged)
measured at given settings::

    flux:
      points:
        - {ei: {value: 25, source: isis}, package: S, fwhm_percent: {value: 5, source: isis},
           at_sample: {value: 1.5e4, source: isis}}
      missing: "text shown when no value is published"     # instead of points

Each point gives the incident energy (meV), the flux, and the setting: ``package`` (Fermi),
``mode`` (disk slot set), ``frequency`` (Hz) or, where the facility quotes a resolution instead
of a frequency, ``fwhm_percent`` (elastic FWHM / Ei in %), from which latdyn takes the chopper
frequency that reproduces it in its own resolution model.

Transfer to another Ei and setting (:meth:`DirectGeometry.flux_at_sample`): the flux is
Phi = r(E_i) F(E_i, setting), with F the chopper transmission trend of
:meth:`DirectGeometry.relative_flux` (wavelength band passed by the choppers times the moderator
spectrum when the file gives one) and r = Phi_k / F(E_k, setting_k) the calibration of the
published points, interpolated linearly in (log E_i, log r) between points of the same package
(or mode) and held constant outside them.  Between published points the result is therefore
anchored to the measurements; far from them only the chopper trend is modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InstrumentError
from ._yaml import Node

__all__ = ["FluxPoint", "read_flux_points", "interpolate_log"]


@dataclass(frozen=True)
class FluxPoint:
    """One published flux at the sample: Ei (meV), flux (n/cm^2/s) and its setting."""

    ei: float
    flux: float
    package: str | None = None
    mode: str | None = None
    frequency: float | None = None
    fwhm_percent: float | None = None
    source: str = ""


def read_flux_points(node: Node) -> tuple[list[FluxPoint], str | None]:
    """The file's published fluxes, or ([], reason) when the file says none is published.

    A file without a ``flux`` section gives ([], None).
    """
    fl = node.child("flux", None)
    if fl is None:
        return [], None
    if not fl.has("points"):
        return [], fl.text("missing", "no published flux at the sample in this file")
    points = []
    for p in fl.children("points"):
        freq = p.number("frequency", None)
        fwhm = p.number("fwhm_percent", None)
        points.append(FluxPoint(p.number("ei"), p.number("at_sample"), p.text("package", None),
                                p.text("mode", None), freq, fwhm, p.source_of("at_sample")))
    return points, None


def interpolate_log(x: float, xs: np.ndarray, ys: np.ndarray) -> float:
    """Linear interpolation of log y in log x, constant outside the range of ``xs``."""
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if np.any(xs <= 0) or np.any(ys <= 0):
        raise InstrumentError("flux calibration needs positive energies and fluxes", field="flux.points")
    order = np.argsort(xs)
    return float(np.exp(np.interp(np.log(x), np.log(xs[order]), np.log(ys[order]))))
