"""Powder patterns as results: what ``latdyn diffraction pattern`` computes, prints and writes.

:func:`compute_pattern` reads a CIF and returns :class:`PowderPatterns`: the neutron and X-ray
powder patterns of :func:`latdyn.diffraction.cw_pattern` (constant wavelength, 2theta in deg)
or :func:`latdyn.diffraction.tof_pattern` (time of flight on a d axis in angstrom) side by
side, with the reflection positions (Bragg's law, :func:`latdyn.kinematics.d_to_two_theta`).
With ``magnetic=`` it returns the nuclear and magnetic neutron pattern of the magnetic
structure (:class:`latdyn.diffraction.MagneticPattern`).  ``write(folder)``: ``pattern.csv``,
``report.html``, ``figures/pattern.png``
(``.svg`` too with ``LATDYN_FIGURE_FORMATS=png,svg``) (layouts in docs/diffraction.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..kinematics import d_to_two_theta, two_theta_to_d
from .magnetic_powder import MagneticPattern, magnetic_powder_pattern
from .patterns import cw_pattern, tof_pattern
from .reflection_results import _crystal, _inputs, load_magnetic_structure
from .reflections import Reflections, reflections
from .tables import write_columns_csv

__all__ = ["PowderPatterns", "compute_pattern", "grid"]

RADIATIONS = ("neutron", "xray")


def grid(spec, name: str) -> np.ndarray:
    """Grid points from a (min, max, step) tuple or list (``numpy.arange``: max excluded), or
    the points themselves given as an array."""
    if isinstance(spec, (tuple, list)):
        if len(spec) != 3:
            raise InputError("give a grid as (min, max, step)", field=name, value=spec)
        lo, hi, step = (float(v) for v in spec)
        if not (np.isfinite(lo + hi + step) and step > 0 and hi > lo):
            raise InputError("a grid needs min < max and step > 0", field=name, value=spec)
        return np.arange(lo, hi, step)
    return np.asarray(spec, dtype=float)


@dataclass
class PowderPatterns:
    """Neutron and X-ray powder patterns of one crystal on one axis ('two_theta' in deg or 'd'
    in angstrom; intensities as in :func:`cw_pattern` / :func:`tof_pattern`), the reflections
    and their positions on the axis (NaN where not reachable)."""

    title: str
    axis: str
    x: np.ndarray
    intensity: dict[str, np.ndarray]
    reflections: Reflections
    positions: np.ndarray
    inputs: list = field(default_factory=list)

    @property
    def unit(self) -> str:
        return "deg" if self.axis == "two_theta" else "angstrom"

    @property
    def heading(self) -> str:
        return f"{self.title}: reflection positions"

    def normalised(self, radiation: str) -> np.ndarray:
        """The pattern of ``radiation`` over its maximum."""
        y = self.intensity[radiation]
        return y / y.max()

    def rows(self, limit: int = 40) -> list[dict]:
        """h, k, l, position on the axis and multiplicity of the first ``limit`` reflections
        inside the pattern (decreasing d)."""
        r, x = self.reflections, self.x
        return [{"h": int(h[0]), "k": int(h[1]), "l": int(h[2]), self.axis: float(p), "multiplicity": int(m)}
                for h, p, m in zip(r.hkl, self.positions, r.multiplicity, strict=True)
                if np.isfinite(p) and x[0] <= p <= x[-1]][:limit]

    def to_json(self) -> dict:
        return {"structure": self.title, "axis": self.axis, "points": len(self.x),
                "units": {self.axis: self.unit}}

    def figure(self):
        from ..report import axis_label, new_figure

        fig, ax = new_figure(7, 4.2)
        ax.plot(self.x, self.normalised("neutron"), lw=1, label="neutron")
        ax.plot(self.x, self.normalised("xray"), lw=1, label="X-ray", alpha=0.8)
        ax.set_xlabel(axis_label(self.axis, self.unit))
        ax.set_ylabel("Intensity (normalised)")
        ax.legend(frameon=False)
        return fig

    def report(self, command: str | None = None):
        from ..report import Report

        rep = Report(f"Powder pattern of {self.title}", command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_figure("pattern", self.figure(), "Neutron and X-ray powder patterns, each normalised "
                       "to its maximum")
        rep.add_table("Reflections", self.rows())
        return rep

    def _write_csv(self, path: Path) -> Path:
        y = self.intensity
        return write_columns_csv(
            path, [f"{self.axis}_{self.unit}", "neutron", "xray", "neutron_norm", "xray_norm"],
            [self.x, y["neutron"], y["xray"], self.normalised("neutron"), self.normalised("xray")],
            f"{self.title}: powder pattern ({'TOF' if self.axis == 'd' else 'CW'}), neutron and X-ray")

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``pattern.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"pattern.csv": self._write_csv}, self.report(command))


def _magnetic_pattern(cif, magnetic, ions, magnetic_cell, wavelength, two_theta, uvw, tof, difc,
                      flight_path, angle, d_range, dd, eta, profile, alpha, beta,
                      instrument_range) -> MagneticPattern:
    s = load_magnetic_structure(magnetic, cif, ions=ions, magnetic_cell=magnetic_cell)
    if tof:
        pat = magnetic_powder_pattern(s, grid(d_range, "d_range"), tof=True, difc=difc, path_m=flight_path,
                                      two_theta=angle, dd_over_d=dd, eta=eta, profile=profile,
                                      alpha=alpha, beta=beta, instrument_range=instrument_range)
    else:
        pat = magnetic_powder_pattern(s, grid(two_theta, "two_theta"), wavelength=wavelength, U=uvw[0],
                                      V=uvw[1], W=uvw[2], eta=eta, instrument_range=instrument_range)
    pat.inputs, pat.magnetic_cell = _inputs(cif, magnetic), magnetic_cell
    return pat


def compute_pattern(cif=None, *, wavelength: float | None = None, two_theta=(5.0, 160.0, 0.02),
                    uvw=(0.01, -0.005, 0.01), tof: bool = False, difc: float | None = None,
                    flight_path: float | None = None, angle: float | None = None,
                    d_range=(0.5, 4.0, 0.0005), dd: float = 0.003, eta: float = 0.0,
                    preferred_orientation=None, profile: str = "pseudo-voigt", alpha=None, beta=None,
                    instrument_range=None, magnetic=None, ions: dict | None = None,
                    magnetic_cell: bool = False) -> PowderPatterns | MagneticPattern:
    """The powder patterns of ``latdyn diffraction pattern`` (the arguments are its options).

    Constant wavelength (default): ``wavelength`` (angstrom), ``two_theta`` grid (deg; a
    (min, max, step) tuple or an array), Caglioti ``uvw`` (deg^2).  Time of flight (``tof``):
    ``d_range`` grid (angstrom), DIFC from ``difc`` (us/angstrom) or ``flight_path`` (m) and
    ``angle`` (2theta of the detector, deg), ``dd`` = Delta d/d (FWHM), ``profile``
    'pseudo-voigt' or 'back-to-back' (``alpha``, ``beta`` in 1/us).  ``eta``: Lorentzian
    fraction; ``preferred_orientation``: (axis hkl, r), March-Dollase; ``instrument_range``:
    (lo, hi) on the pattern axis (InstrumentError outside).  ``cif``: a path or a Crystal.
    ``magnetic`` (mCIF or YAML moments; ``ions``, ``magnetic_cell``): nuclear + magnetic
    neutron pattern (:class:`MagneticPattern`); else :class:`PowderPatterns`."""
    if profile != "pseudo-voigt" and not tof:
        raise InputError("the back-to-back profile is a TOF peak shape (add --tof)", field="--profile",
                         value=profile)
    if magnetic is not None:
        if preferred_orientation is not None:
            raise InputError("preferred orientation is not modelled for magnetic patterns",
                             field="preferred_orientation", value=preferred_orientation)
        return _magnetic_pattern(cif, magnetic, ions, magnetic_cell, wavelength, two_theta, uvw, tof,
                                 difc, flight_path, angle, d_range, dd, eta, profile, alpha, beta,
                                 instrument_range)
    c = _crystal(cif)
    if tof:
        x = grid(d_range, "d_range")
        y = {rad: tof_pattern(c, x, difc=difc, path_m=flight_path, two_theta=angle, dd_over_d=dd,
                              radiation=rad, eta=eta, instrument_range=instrument_range, profile=profile,
                              alpha=alpha, beta=beta, preferred_orientation=preferred_orientation).values
             for rad in RADIATIONS}
        refl = reflections(c, x[0], x[-1])
        return PowderPatterns(c.title, "d", x, y, refl, refl.d.copy(), _inputs(cif))
    if wavelength is None:
        raise InputError("a CW pattern needs --wavelength (or use --tof)", field="wavelength")
    x = grid(two_theta, "two_theta")
    y = {rad: cw_pattern(c, wavelength, x, *uvw, radiation=rad, eta=eta, instrument_range=instrument_range,
                         preferred_orientation=preferred_orientation).values for rad in RADIATIONS}
    refl = reflections(c, two_theta_to_d(x[-1], wavelength))
    reachable = refl.d >= wavelength / 2
    positions = np.full(len(refl), np.nan)
    positions[reachable] = d_to_two_theta(refl.d[reachable], wavelength)
    return PowderPatterns(c.title, "two_theta", x, y, refl, positions, _inputs(cif))
