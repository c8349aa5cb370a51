r"""Powder patterns of magnetic structures: nuclear and magnetic parts side by side.

The two parts are the powder patterns of :mod:`latdyn.diffraction.patterns` (constant
wavelength: I = s m |F|^2 L Phi with L = 1/(sin^2 theta cos theta); time of flight:
I(d) = s m |F|^2 d^4 Phi) evaluated with the domain-averaged nuclear and magnetic |F|^2 of
:func:`latdyn.diffraction.magnetic_reflections`; for unpolarised neutrons they add.  Results
carry their reflection list and write CSV files, a figure and an HTML report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..kinematics import d_to_two_theta, two_theta_to_d
from ..structure import MagneticStructure
from .magnetic import MagneticReflections, magnetic_reflections
from .patterns import caglioti_fwhm, cw_pattern, tof_pattern
from .reflection_results import (
    REFLECTION_UNITS,
    _MagneticSource,
    magnetic_reflections_figure,
    write_magnetic_reflections_csv,
)
from .tables import write_columns_csv

__all__ = ["MagneticPattern", "magnetic_powder_pattern"]


@dataclass
class MagneticPattern(_MagneticSource):
    """A powder pattern with its nuclear and magnetic parts (same units as
    :func:`latdyn.diffraction.cw_pattern` / :func:`tof_pattern`) on ``x`` ('two_theta' in deg
    or 'd' in angstrom), the reflection list with each reflection's position on x, and the
    structure and input files it came from."""

    axis: str
    x: np.ndarray
    nuclear: np.ndarray
    magnetic: np.ndarray
    reflections: MagneticReflections
    positions: np.ndarray
    title: str = ""
    settings: dict = field(default_factory=dict)
    structure: MagneticStructure | None = None
    inputs: list = field(default_factory=list)
    magnetic_cell: bool = False

    @property
    def heading(self) -> str:
        return f"{self.title}: nuclear and magnetic reflections"

    @property
    def total(self) -> np.ndarray:
        return self.nuclear + self.magnetic

    @property
    def unit(self) -> str:
        return "deg" if self.axis == "two_theta" else "angstrom"

    def rows(self, limit: int = 60) -> list[dict]:
        """Reflections inside the pattern with their position, strongest magnetic first."""
        ok = np.isfinite(self.positions) & (self.positions >= self.x[0]) & (self.positions <= self.x[-1])
        idx = np.flatnonzero(ok)
        out = []
        for i, row in enumerate(self.reflections.rows()):
            if i in idx:
                row[self.axis] = float(self.positions[i])
                out.append(row)
        return out[:limit]

    def figure(self):
        from ..report import axis_label, new_figure

        fig, ax = new_figure(7.5, 4.2)
        ax.plot(self.x, self.total, lw=1, color="k", label="total")
        ax.plot(self.x, self.nuclear, lw=0.8, color="C0", label="nuclear")
        ax.plot(self.x, self.magnetic, lw=0.8, color="C3", label="magnetic")
        ax.set_xlabel(axis_label("2θ" if self.axis == "two_theta" else "d", self.unit))
        ax.set_ylabel("Intensity")
        ax.legend(frameon=False)
        return fig

    def to_json(self) -> dict:
        return {"structure": self.title, "axis": self.axis, "unit": self.unit, "points": len(self.x),
                **self.reflections.summary(), "units": {**REFLECTION_UNITS, self.axis: self.unit}}

    def report(self, command: str | None = None):
        """The HTML report: settings, the pattern and reflection figures, the reflections in range."""
        from ..report import Report

        rep = Report(f"Magnetic powder pattern of {self.title}", command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_parameters("Settings", {k: (v, None, "") for k, v in self.settings.items()
                                        if isinstance(v, (int, float))})
        rep.add_figure("pattern", self.figure(), "Nuclear, magnetic and total powder pattern")
        rep.add_figure("reflections", magnetic_reflections_figure(self.reflections),
                       "Powder line strengths m|F|², nuclear up, magnetic down")
        rep.add_table("Reflections in range", self.rows())
        return rep

    def _write_pattern(self, path: Path) -> Path:
        return write_columns_csv(path, [f"{self.axis}_{self.unit}", "nuclear", "magnetic", "total"],
                                 [self.x, self.nuclear, self.magnetic, self.total],
                                 f"{self.title}: powder pattern, nuclear and magnetic parts (unpolarised "
                                 "neutrons); " + ", ".join(f"{k} = {v}" for k, v in self.settings.items()))

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``pattern.csv`` (x, nuclear, magnetic, total), ``reflections.csv``, ``report.html`` and
        ``figures/`` (``pattern``, ``reflections``) into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        def refl(path):
            return write_magnetic_reflections_csv(self.reflections, path, self.title)

        return write_result_folder(folder, {"pattern.csv": self._write_pattern, "reflections.csv": refl},
                                   self.report(command))


def magnetic_powder_pattern(structure: MagneticStructure, x, *, wavelength: float | None = None,
                            U: float = 0.01, V: float = -0.005, W: float = 0.01,
                            tof: bool = False, difc: float | None = None, path_m: float | None = None,
                            two_theta: float | None = None, dd_over_d: float = 0.003,
                            dt: float = 0.0, eta: float = 0.0, scale: float = 1.0,
                            profile: str = "pseudo-voigt", alpha=None, beta=None,
                            instrument_range=None, debye_waller: bool = True) -> MagneticPattern:
    """Nuclear and magnetic powder pattern of ``structure`` on the grid ``x``.

    Constant wavelength (``tof=False``): ``x`` is 2theta (deg), ``wavelength`` (angstrom) and the
    Caglioti U, V, W (deg^2) as in :func:`latdyn.diffraction.cw_pattern`.  Time of flight: ``x``
    is d (angstrom), DIFC from ``difc`` or ``path_m`` and ``two_theta``, widths ``dd_over_d``
    and ``dt`` and the ``profile`` of :func:`latdyn.diffraction.tof_pattern`.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise InputError("the pattern grid must be 1-D with at least two points", field="x",
                         value=x.shape)
    title = structure.title or structure.crystal.title
    if not tof:
        if wavelength is None or not np.isfinite(wavelength) or wavelength <= 0:
            raise InputError("a constant-wavelength pattern needs a positive wavelength (angstrom)",
                             field="wavelength", value=wavelength)
        hw = 3 * float(caglioti_fwhm(min(x[-1], 179.0), U, V, W))
        d_min = two_theta_to_d(min(x[-1] + hw, 179.99), wavelength)
        d_max = two_theta_to_d(max(x[0] - hw, 1e-3), wavelength)
        refl = magnetic_reflections(structure, d_min, d_max, debye_waller=debye_waller)
        parts = {}
        for part in ("nuclear", "magnetic"):
            parts[part] = cw_pattern(structure.crystal, wavelength, x, U, V, W, eta=eta, scale=scale,
                                     instrument_range=instrument_range,
                                     refl=refl.reflections(part)).values
        pos = np.full(len(refl), np.nan)
        ok = refl.d >= wavelength / 2
        pos[ok] = d_to_two_theta(refl.d[ok], wavelength)
        settings = {"wavelength (angstrom)": wavelength, "U": U, "V": V, "W": W, "eta": eta}
        axis = "two_theta"
    else:
        pad = 4 * np.hypot(dd_over_d * x[-1], dt / difc if difc else 0.0)
        refl = magnetic_reflections(structure, max(x[0] - pad, 0.05), x[-1] + pad,
                                    debye_waller=debye_waller)
        if len(refl) == 0:
            raise InputError("no reflection in this d range", field="d", value=(float(x[0]), float(x[-1])))
        parts = {}
        for part in ("nuclear", "magnetic"):
            parts[part] = tof_pattern(structure.crystal, x, axis="d", difc=difc, path_m=path_m,
                                      two_theta=two_theta, dd_over_d=dd_over_d, dt=dt, eta=eta,
                                      scale=scale, instrument_range=instrument_range,
                                      refl=refl.reflections(part), profile=profile, alpha=alpha,
                                      beta=beta).values
        pos = refl.d.copy()
        settings = {"dd_over_d": dd_over_d, "dt (us)": dt, "eta": eta}
        if difc is not None:
            settings["DIFC (us/angstrom)"] = difc
        axis = "d"
    return MagneticPattern(axis, x, parts["nuclear"], parts["magnetic"], refl, pos, title, settings,
                           structure)
