"""Common pieces of instrument models: Gaussian width conventions and moderator pulse models.

Convention used throughout :mod:`latdyn.instruments`: a *FWHM* is the full width at half
maximum of the Gaussian with the same variance as the propagated contribution,
FWHM = 2 sqrt(2 ln 2) sigma = 2.3548 sigma.  Every public method says which one it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InstrumentError
from ..units import FWHM_PER_SIGMA, energy_to_velocity, energy_to_wavelength
from ._yaml import Node

__all__ = ["FWHM_PER_SIGMA", "fwhm_to_sigma", "sigma_to_fwhm", "Moderator", "InstrumentBase"]

def fwhm_to_sigma(fwhm):
    """sigma = FWHM / (2 sqrt(2 ln 2)) of a Gaussian."""
    return np.asarray(fwhm, dtype=float) / FWHM_PER_SIGMA


def sigma_to_fwhm(sigma):
    """FWHM = 2 sqrt(2 ln 2) sigma of a Gaussian."""
    return np.asarray(sigma, dtype=float) * FWHM_PER_SIGMA


@dataclass(frozen=True)
class Moderator:
    """Time width of the neutron pulse leaving the moderator, and its flux spectrum.

    The pulse width is given either as a table of FWHM (microseconds) against wavelength
    (angstrom), interpolated linearly (constant outside the table), or as a width proportional
    to wavelength, FWHM = c * lambda (the slowing-down regime of a hydrogenous moderator,
    Carpenter and Loong, *Elements of Slow-Neutron Scattering*, CUP 2015, ch. 5).  Below the
    shortest tabulated wavelength (epithermal neutrons, where powder Bragg peaks are too dense
    to measure the pulse) an optional ``slowing_down`` model takes over: the modified chi^2
    width of T. G. Perring's CHOP, sigma_t = (delta_0 + delta_G sqrt(E)) / (1.96 v) with
    delta_0 (mm) and delta_G (mm meV^-1/2) from the file.  ``angle_deg`` is the angle between
    the beam line and the moderator face normal, signed as in CHOP (it couples the moderator to
    a Fermi chopper's divergence term, see :mod:`latdyn.instruments.direct`).  A continuous
    (reactor) source has no pulse: ``continuous: true``, and the first chopper defines the
    emission time.
    The optional flux table (wavelength, flux in the file's units) gives the flux trend.
    """

    name: str
    wavelength: np.ndarray | None = None
    fwhm_us: np.ndarray | None = None
    fwhm_us_per_angstrom: float | None = None
    continuous: bool = False
    flux_wavelength: np.ndarray | None = None
    flux: np.ndarray | None = None
    slowing_down_mm: tuple[float, float] | None = None
    angle_deg: float = 0.0

    @classmethod
    def from_node(cls, node: Node) -> Moderator:
        name = node.text("name", "moderator")
        if bool(node.raw("continuous", False)):
            return cls(name, continuous=True)
        table = node.child("pulse_fwhm", None)
        per_a = node.number("fwhm_us_per_angstrom", None)
        wl = fw = None
        if table is not None:
            wl = table.array("wavelength")
            fw = table.array("fwhm_us", length=wl.size)
            order = np.argsort(wl)
            wl, fw = wl[order], fw[order]
            if np.any(fw <= 0):
                raise InstrumentError("pulse widths must be positive", file=node.file,
                                      field=table.path + ".fwhm_us")
        elif per_a is None:
            raise InstrumentError("moderator needs 'pulse_fwhm' (table) or 'fwhm_us_per_angstrom'",
                                  file=node.file, field=node.path + ".pulse_fwhm")
        fl = node.child("flux", None)
        fwl = ff = None
        if fl is not None:
            fwl = fl.array("wavelength")
            ff = fl.array("flux", length=fwl.size)
        sd = node.child("slowing_down", None)
        slowing = None
        if sd is not None:
            slowing = (sd.number("delta_0_mm"), sd.number("delta_g_mm", allow_zero=True))
        angle = node.number("angle_deg", 0.0, positive=False)
        if not abs(angle) < 90.0:
            raise InstrumentError("moderator angle must lie between -90 and 90 degrees",
                                  file=node.file, field=node.path + ".angle_deg", value=angle)
        return cls(name, wl, fw, per_a, flux_wavelength=fwl, flux=ff, slowing_down_mm=slowing,
                   angle_deg=angle)

    def pulse_fwhm_us(self, energy) -> np.ndarray:
        """Pulse FWHM (microseconds) at neutron energy ``energy`` (meV); inf for a reactor."""
        if self.continuous:
            return np.full(np.shape(energy), np.inf)
        energy = np.asarray(energy, dtype=float)
        lam = np.asarray(energy_to_wavelength(energy))
        if self.wavelength is None:
            return self.fwhm_us_per_angstrom * lam
        width = np.interp(lam, self.wavelength, self.fwhm_us)
        if self.slowing_down_mm is None:
            return width
        delta0, delta_g = self.slowing_down_mm
        with np.errstate(divide="ignore"):
            sigma_us = (delta0 + delta_g * np.sqrt(energy)) * 1e3 / (1.96 * energy_to_velocity(energy))
        return np.where(lam < self.wavelength[0], FWHM_PER_SIGMA * sigma_us, width)

    def relative_flux(self, energy) -> np.ndarray:
        """Moderator flux per unit wavelength at ``energy`` (meV), in the table's units (1 if none)."""
        lam = np.asarray(energy_to_wavelength(np.asarray(energy, dtype=float)))
        if self.flux is None:
            return np.ones_like(lam)
        return np.interp(lam, self.flux_wavelength, self.flux, left=0.0, right=0.0)


class InstrumentBase:
    """Fields shared by every instrument: name, kind, facility, references and file."""

    kind = "instrument"

    def __init__(self, node: Node):
        self.node = node
        self.name = node.text("name")
        self.facility = node.text("facility", "")
        self.description = node.text("description", "")
        self.references = dict(node.references)
        self.file = node.file

    #: what the detector banks are called in messages ('detector', 'analyser')
    banks_word = "detector"
    banks = None

    def solid_angle(self):
        """The detector (or analyser) banks: a :class:`DetectorCoverage` (solid angle per
        scattering angle); InstrumentError naming ``detector.banks`` when the file does not
        describe them."""
        if self.banks is None:
            raise InstrumentError(f"the instrument file does not give the {self.banks_word} "
                                  "geometry needed for solid angles", file=self.file,
                                  field="detector.banks")
        return self.banks

    def summary(self) -> dict:
        """Key facts for tables (name, kind, facility)."""
        return {"name": self.name, "kind": self.kind, "facility": self.facility}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
