r"""Polarised instruments and polarised modes: flux penalty and polarisation efficiency.

A file of kind ``polarised`` describes either a dedicated polarised instrument (D7, DNS:
its own polarised flux at the sample) or the polarised mode of an instrument of the library
(``base``: LET, HYSPEC; the incident flux is the base instrument's at its setting times the
transmission of the polariser)::

    name: LET-POLARISED
    kind: polarised
    base: {instrument: LET, mode: high_flux}          # or flux_at_sample: {value, source}
    polariser_transmission: {value: 0.3, source: KEY}  # of the unpolarised incident flux
    analyser_transmission: {value: 0.4, source: KEY}   # of the scattered wanted spin state
    flipping_ratio: {value: 15, source: KEY}           # on a quartz standard
    directions: [x, y, z]
    detector: {two_theta_min: ..., two_theta_max: ..., solid_angle_sr: ..., efficiency: ...}

The flux penalty is polariser_transmission x analyser_transmission: the fraction of the count
rate of an unpolarised measurement of the same scattering that one polarised channel
keeps.  The polarisation efficiency P = (F - 1)/(F + 1) follows from the flipping ratio F
(:mod:`latdyn.polarisation.flipping`).  Count rate of a channel per unit cross section:

.. math::  R = \Phi\, N_{fu}\, 10^{-24}\,\Delta\Omega\; T_{an}\,\eta_{det}
           \quad (\mathrm{counts/s\ per\ barn/sr\ per\ formula\ unit})

with Phi the polarised flux at the sample (n/cm^2/s), N_fu the formula units in the beam,
Delta Omega the solid angle of the detector group (sr) and eta_det the detector efficiency.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, InstrumentError
from ._yaml import Node
from .base import InstrumentBase

__all__ = ["PolarisedInstrument"]

_DIRS = ("x", "y", "z", "x+y", "x-y")


class PolarisedInstrument(InstrumentBase):
    """A polarised instrument or polarised mode (module docstring)."""

    kind = "polarised"

    def __init__(self, node: Node):
        super().__init__(node)
        base = node.child("base", None)
        self.base_name = base.text("instrument") if base is not None else None
        self.base_mode = base.text("mode", None) if base is not None else None
        self.base_package = base.text("package", None) if base is not None else None
        self._flux = node.number("flux_at_sample", None)
        if self.base_name is None and self._flux is None:
            raise InstrumentError("a polarised instrument needs flux_at_sample or a base instrument",
                                  file=node.file, field="flux_at_sample")
        self.reference_wavelength = node.number("reference_wavelength", None)
        self.polariser_transmission = node.number("polariser_transmission")
        self.analyser_transmission = node.number("analyser_transmission")
        for name, v in (("polariser_transmission", self.polariser_transmission),
                        ("analyser_transmission", self.analyser_transmission)):
            if v > 1.0:
                raise InstrumentError("a transmission cannot exceed 1", file=node.file, field=name, value=v)
        self.flipping_ratio = node.number("flipping_ratio")
        if not self.flipping_ratio > 1.0:
            raise InstrumentError("the flipping ratio must exceed 1", file=node.file, field="flipping_ratio",
                                  value=self.flipping_ratio)
        self.directions = tuple(node.strings("directions"))
        bad = [d for d in self.directions if d not in _DIRS]
        if bad:
            raise InstrumentError(f"unknown polarisation direction; use {_DIRS}", file=node.file,
                                  field="directions", value=bad)
        det = node.child("detector")
        self.two_theta_min = det.number("two_theta_min", allow_zero=True)
        self.two_theta_max = det.number("two_theta_max")
        self.solid_angle_sr = det.number("solid_angle_sr")
        self.detector_efficiency = det.number("efficiency", 1.0)
        self.wavelengths = node.array("wavelengths", None)
        self.energy_analysis = node.text("energy_analysis", "none")

    @property
    def polarisation(self) -> float:
        """P = (F - 1) / (F + 1) of the typical flipping ratio."""
        return (self.flipping_ratio - 1.0) / (self.flipping_ratio + 1.0)

    @property
    def flux_penalty(self) -> float:
        """Polariser x analyser transmission (x the flux factor of the base instrument's
        polarised mode, when it has one): the share of an unpolarised count rate one polarised
        channel keeps."""
        base = self.base_instrument()
        mode_factor = 1.0
        if base is not None and self.base_mode is not None:
            mode_factor = float(getattr(base, "flux_mode_factor", {}).get(self.base_mode, 1.0))
        return self.polariser_transmission * self.analyser_transmission * mode_factor

    def base_instrument(self):
        """The unpolarised instrument of a polarised mode (None for a dedicated one)."""
        if self.base_name is None:
            return None
        from .library import load_instrument

        return load_instrument(self.base_name)

    def flux_at_sample(self, ei: float | None = None, **setting) -> float:
        """Polarised flux at the sample (n/cm^2/s): the file's value for a dedicated instrument
        (at its reference wavelength; the wavelength dependence is not modelled), else the base
        instrument's flux at ``ei`` (meV) and its setting times the polariser transmission."""
        if self.base_name is None:
            return float(self._flux)
        if ei is None:
            raise InputError(f"{self.name} is a polarised mode of {self.base_name}: give ei (meV)",
                             field="ei")
        base = self.base_instrument()
        kw = {"mode": self.base_mode, "package": self.base_package} | setting
        kw = {k: v for k, v in kw.items() if v is not None}
        return float(base.flux_at_sample(ei, **kw)) * self.polariser_transmission

    def count_rate(self, formula_units: float, solid_angle_sr: float | None = None,
                   ei: float | None = None, **setting) -> float:
        """Counts per second of one channel per unit cross section (barn/sr per formula unit;
        module docstring).  ``solid_angle_sr`` of the detector group, default the whole
        polarisation-analysed detector."""
        if not (np.isfinite(formula_units) and formula_units > 0):
            raise InputError("the number of formula units in the beam must be positive",
                             field="formula_units", value=formula_units)
        omega = self.solid_angle_sr if solid_angle_sr is None else float(solid_angle_sr)
        if not (np.isfinite(omega) and omega > 0):
            raise InputError("solid angle must be positive (sr)", field="solid_angle_sr", value=omega)
        return (self.flux_at_sample(ei, **setting) * formula_units * 1e-24 * omega
                * self.analyser_transmission * self.detector_efficiency)

    def summary(self) -> dict:
        return {**super().summary(), "base": self.base_name or "-",
                "flipping ratio": self.flipping_ratio, "polarisation": round(self.polarisation, 4),
                "flux penalty": round(self.flux_penalty, 4), "directions": ",".join(self.directions),
                "2theta (deg)": f"{self.two_theta_min:g}-{self.two_theta_max:g}",
                "solid angle (sr)": self.solid_angle_sr}
