r"""Chopper opening-time distributions: Fermi choppers and disk choppers.

Each chopper is described by the variance of its transmitted time distribution (s^2) at the
nominal neutron speed, used as a Gaussian window in the time-of-flight propagation.

Fermi chopper (Windsor, *Pulsed Neutron Scattering*, Taylor & Francis 1981, ch. 7): slit
width p, rotor radius R, slit curvature radius rho, angular speed omega = 2 pi f.  The burst
FWHM for an infinitely fast neutron is Delta = p / (2 R omega); the finite neutron speed v
enters through

.. math::  \gamma = \frac{2R}{\Delta}\left|\frac{1}{2\omega\rho} - \frac{1}{v}\right|

with variance :math:`(\Delta^2/6)(1-\gamma^4/10)/(1-\gamma^2/6)` for gamma < 1 and
:math:`(\Delta^2/6)\,0.6\gamma(\sqrt\gamma-2)^2(\sqrt\gamma+8)/(\sqrt\gamma+4)` for
1 <= gamma < 4, and transmission (relative to the optimum) :math:`1-\gamma^2/6` and
:math:`\sqrt\gamma(\sqrt\gamma-2)^2(\sqrt\gamma+4)/6`; nothing passes for gamma >= 4.

A Fermi chopper is also a rotating collimator: a neutron crossing it at an angle alpha to the
beam axis is passed alpha / omega later.  With the beam-defining aperture (width, distance
``aperture_distance`` before the chopper) and the sample width this gives the divergence
("aperture") term of the time-of-flight resolution (Windsor 1981; T. G. Perring's CHOP), which
:mod:`latdyn.instruments.direct` propagates.

Disk chopper: a slot of width w at radius R crossing a beam of width b at rim speed
u = omega R (2 omega R for a counter-rotating pair) transmits a trapezoid in time, the
convolution of two boxes of widths w/u and b/u, with variance (w^2 + b^2) / (12 u^2).  A slot
given as an opening angle theta passes in theta / omega (theta / 2 omega for a pair); without a
beam width the beam is taken as wide as the slot (a triangle, variance w^2 / (6 u^2)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InstrumentError
from ..units import energy_to_velocity

__all__ = ["FermiChopper", "DiskChopper", "STRAIGHT_SLIT_MM"]

#: Slit curvature radius (mm) above which a Fermi package counts as straight (transmits twice
#: per turn).
STRAIGHT_SLIT_MM = 1.0e5


@dataclass(frozen=True)
class FermiChopper:
    """A Fermi chopper package. Lengths in mm (as published), frequency in Hz.

    ``slat_width_mm`` (absorbing slat between slits) enters only the flux (open fraction);
    ``aperture_distance_m`` / ``aperture_width_mm``: the beam-defining aperture before the
    chopper (the width may be left out: the divergence is then defined at that distance without
    an aperture term)."""

    name: str
    distance_m: float
    slit_width_mm: float
    radius_mm: float
    curvature_mm: float
    max_frequency: float
    package: str = ""
    aperture_distance_m: float | None = None
    aperture_width_mm: float | None = None
    slat_width_mm: float | None = None

    @property
    def label(self) -> str:
        """Chopper name with its package, e.g. 'Fermi A'."""
        return f"{self.name} {self.package}".strip()

    def gamma(self, ei, frequency: float) -> np.ndarray:
        """Windsor's gamma (dimensionless) at incident energy ``ei`` (meV)."""
        omega = 2.0 * np.pi * frequency
        r = self.radius_mm * 1e-3
        delta = self.slit_width_mm * 1e-3 / (2.0 * r * omega)
        v = np.asarray(energy_to_velocity(np.asarray(ei, dtype=float)))
        s = 2.0 * omega * self.curvature_mm * 1e-3
        return (2.0 * r / delta) * np.abs(1.0 / s - 1.0 / v)

    def period_s(self, frequency: float) -> float:
        """Time between openings (s): half a turn for straight slits (both orientations
        transmit), a full turn for curved slits."""
        return (0.5 if self.curvature_mm >= STRAIGHT_SLIT_MM else 1.0) / frequency

    def opening_fwhm_s(self, frequency: float) -> float:
        """Opening FWHM (s) for an infinitely fast neutron (the burst time Delta)."""
        return self.burst_fwhm_s(frequency)

    def burst_fwhm_s(self, frequency: float) -> float:
        """Opening FWHM Delta = p / (2 R omega) (s) for an infinitely fast neutron."""
        return self.slit_width_mm / (2.0 * self.radius_mm * 2.0 * np.pi * frequency)

    def transmission(self, ei, frequency: float) -> np.ndarray:
        """Transmission relative to the optimum (0 where gamma >= 4)."""
        g = np.asarray(self.gamma(ei, frequency), dtype=float)
        rg = np.sqrt(g)
        return np.where(g < 1, 1 - g**2 / 6, np.where(g < 4, rg * (rg - 2) ** 2 * (rg + 4) / 6, 0.0))

    def window_area_s(self, ei, frequency: float) -> np.ndarray:
        """Time integral (s) of the transmission window for one opening, Delta T(gamma)
        (Windsor: the triangle of FWHM Delta has area Delta; T is relative to the optimum)."""
        return self.burst_fwhm_s(frequency) * self.transmission(ei, frequency)

    def variance_s2(self, ei, frequency: float) -> np.ndarray:
        """Variance (s^2) of the transmitted time distribution; InstrumentError if gamma >= 4."""
        self.check_frequency(frequency)
        g = np.asarray(self.gamma(ei, frequency), dtype=float)
        if np.any(g >= 4):
            raise InstrumentError(
                f"Fermi chopper '{self.label}' at {frequency:g} Hz transmits no neutrons at this Ei "
                f"(Windsor gamma = {float(np.max(g)):.3g} >= 4); choose another Ei, frequency or "
                "package", field="ei", value=float(np.ravel(ei)[int(np.argmax(np.ravel(g)))]))
        d2 = self.burst_fwhm_s(frequency) ** 2
        rg = np.sqrt(g)
        with np.errstate(invalid="ignore", divide="ignore"):
            small = (1 - g**4 / 10) / (1 - g**2 / 6)
            large = 0.6 * g * (rg - 2) ** 2 * (rg + 8) / (rg + 4)
        return d2 / 6 * np.where(g < 1, small, large)

    def check_frequency(self, frequency: float) -> None:
        if not (0 < frequency <= self.max_frequency):
            raise InstrumentError(f"frequency outside (0, {self.max_frequency:g}] Hz",
                                  field=f"frequency of chopper '{self.name}'", value=frequency)


@dataclass(frozen=True)
class DiskChopper:
    """A disk chopper (single or counter-rotating pair). Lengths in mm, frequency in Hz.

    The slot is given either as a width ``slot_width_mm`` at ``radius_mm`` or as an opening
    angle ``slot_angle_deg`` (then the radius is only needed with a beam width).  ``slots`` is
    the number of equally spaced slots per disk (openings per turn), or ``slot_angles_deg``
    the angular positions of unequally spaced slots (the slot at a larger angle passes the beam
    later by angle / (360 f)).  ``fixed_frequency`` (Hz): the disk keeps this speed whatever
    the resolution frequency (e.g. a pulse-shaping chopper locked to the source); otherwise it
    follows it with ``frequency_ratio``.

    Phase: by default the disk is phased so that slot ``phase_slot`` (index into
    ``slot_angles_deg``, 0 for equal slots) is centred on the neutrons of the chosen Ei;
    ``phase_us`` instead fixes the time (microseconds after the source pulse) at which a slot
    starts to open, whatever the Ei (a frame-overlap disk phased on its own).
    """

    name: str
    distance_m: float
    slot_width_mm: float | None
    radius_mm: float | None
    double: bool
    max_frequency: float
    guide_width_mm: float | None = None
    frequency_ratio: float = 1.0
    slot_angle_deg: float | None = None
    slots: int = 1
    fixed_frequency: float | None = None
    slot_angles_deg: tuple | None = None
    phase_slot: int = 0
    phase_us: float | None = None

    def __post_init__(self):
        if self.slot_angle_deg is None and (self.slot_width_mm is None or self.radius_mm is None):
            raise InstrumentError("a disk chopper needs slot_width_mm and radius_mm, or "
                                  "slot_angle_deg", field=f"chopper '{self.name}'")
        if self.guide_width_mm is not None and self.radius_mm is None:
            raise InstrumentError("a beam (guide) width needs the disk radius_mm",
                                  field=f"chopper '{self.name}'")

    @property
    def label(self) -> str:
        return self.name

    def angular_speed(self, frequency: float) -> float:
        """Relative angular speed of slot and beam (rad/s): omega, doubled for a pair."""
        return 2.0 * np.pi * frequency * (2.0 if self.double else 1.0)

    def rim_speed(self, frequency: float) -> float:
        """Relative speed of slot edges and beam (m/s) at the radius: omega R (2 omega R for a pair)."""
        if self.radius_mm is None:
            raise InstrumentError("rim speed needs the disk radius", field=f"chopper '{self.name}'")
        return self.angular_speed(frequency) * self.radius_mm * 1e-3

    def _times_s(self, frequency: float) -> tuple[float, float]:
        """Passage times (s) of the slot and of the beam width at the slot edge speed."""
        if self.slot_angle_deg is not None:
            t_slot = np.radians(self.slot_angle_deg) / self.angular_speed(frequency)
        else:
            t_slot = self.slot_width_mm * 1e-3 / self.rim_speed(frequency)
        t_beam = t_slot if self.guide_width_mm is None else \
            self.guide_width_mm * 1e-3 / self.rim_speed(frequency)
        return t_slot, t_beam

    def opening_fwhm_s(self, frequency: float) -> float:
        """FWHM of the transmitted time trapezoid, max(w, b) / u (s)."""
        return max(self._times_s(frequency))

    def period_s(self, frequency: float) -> float:
        """Time (s) after which the pattern of openings repeats: 1 / (f slots) for equal slots,
        a full turn 1 / f for unequally spaced ones."""
        if self.slot_angles_deg is not None:
            return 1.0 / frequency
        return 1.0 / (frequency * self.slots)

    def slot_offsets_s(self, frequency: float) -> np.ndarray:
        """Times (s) at which the slots pass the beam relative to the phased slot, within one
        period of :meth:`period_s` (one entry for equal slots)."""
        if self.slot_angles_deg is None:
            return np.zeros(1)
        angles = np.asarray(self.slot_angles_deg, dtype=float)
        return (angles - angles[self.phase_slot]) / (360.0 * frequency)

    def full_opening_s(self, frequency: float) -> float:
        """Time (s) from the first to the last transmission of one slot, (w + b) / u."""
        return float(sum(self._times_s(frequency)))

    def variance_s2(self, ei, frequency: float) -> np.ndarray:
        """Variance (s^2) of the transmitted time distribution, (w^2 + b^2) / (12 u^2)."""
        self.check_frequency(frequency)
        t_slot, t_beam = self._times_s(frequency)
        return np.full(np.shape(ei), (t_slot**2 + t_beam**2) / 12.0)

    def window_area_s(self, ei, frequency: float) -> np.ndarray:
        """Time integral (s) of the unit-peak trapezoid, max(w, b) / u (a box of the slot
        passage time convolved with the beam passage time, normalised to unit peak)."""
        self.check_frequency(frequency)
        return np.full(np.shape(ei), max(self._times_s(frequency)))

    def transmission(self, ei, frequency: float) -> np.ndarray:
        """Time-averaged opening per pulse relative to 1 ms (a flux trend, not absolute)."""
        return np.full(np.shape(ei), np.sqrt(12.0 * float(self.variance_s2(1.0, frequency))) / 1e-3)

    def check_frequency(self, frequency: float) -> None:
        if not (0 < frequency <= self.max_frequency):
            raise InstrumentError(f"frequency outside (0, {self.max_frequency:g}] Hz",
                                  field=f"frequency of chopper '{self.name}'", value=frequency)
