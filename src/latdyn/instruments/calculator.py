r"""The facility-calculator convention of direct-geometry resolution (CHOP and MulpyRep).

ISIS and SNS plan and publish the resolution of their chopper spectrometers with PyChop, which
carries T. G. Perring's CHOP for Fermi-chopper instruments (Perring, *The resolution function of
the chopper spectrometer HET at ISIS*, ICANS XII, RAL-94-025 (1993); Carlile, Taylor and
Williams, RAL-85-052) and R. I. Bewley's MulpyRep for multi-disk instruments.  Both add the
squared FWHM of independent time contributions, each propagated to the detector time, and
convert to energy with

.. math::  \Delta E = \frac{2 E_f v_f}{x_2}\sqrt{\textstyle\sum_k \Delta t_k^2}

(x_2 sample-detector, E_f, v_f the final energy and speed).  With x_0 the distance from the
source of the pulse to the last (monochromating) chopper, x_1 from it to the sample,
r = (v_i / v_f)^3 and omega = 2 pi f of the last chopper:

* moderator (or first chopper): :math:`\Delta t_m (x_1 + r x_2)/x_0`;
* last chopper: :math:`\Delta t_c (1 + (x_1 + r x_2)/x_0)`;
* aperture (Fermi choppers; width W_a a distance x_a before the chopper, moderator face at
  theta): :math:`(f_1 + r x_2 g_1/x_0)\,\Delta y_a` with
  :math:`g_{1,2} = G_{1,2}/D`, :math:`f_{1,2} = (1 + x_1 G_{1,2}/x_0)/D`, D = omega (x_a + x_1),
  :math:`G_1 = 1 - \omega\tan\theta\,(x_a + x_1)/v_i`, :math:`G_2 = 1 - \omega\tan\theta\,(x_0 - x_a)/v_i`
  and :math:`\Delta y_a^2 = 8\ln 2\,W_a^2/12`;
* sample (width W across the beam, detector at the reference angle phi):
  :math:`(-\sin\phi/v_f - f_2 - r x_2 g_2/x_0)\,\Delta y_s`, :math:`\Delta y_s^2 = 8\ln 2\,W^2 s`
  with s = 1/12 for a plate and 1/8 for an annulus;
* detector: the depth spread of absorption in the tube, :math:`\Delta x^2/v_f^2`
  (:mod:`latdyn.instruments.detector`).

The approximations that make this the *facility* number rather than the second moment of the
transmitted distribution (:mod:`latdyn.instruments.direct`):

* A chopper window counts with a FWHM, not with its variance: for a Fermi chopper the
  Gaussian-equivalent FWHM of Windsor's variance, for a disk half the full opening time,
  (w + b)/(2u) for a slot w and a beam b passing at rim speed u (MulpyRep).
* With two or more resolution choppers only the first and the last count: the pulse is the
  narrower of the first chopper's opening and the moderator pulse seen from it,
  :math:`\Delta t_m (1 - x_m/x_0)` (x_m the first chopper's distance), and x_0 becomes the
  distance between the two choppers.  A continuous source has no pulse, so the first chopper
  defines it.
* Every term is independent of the others (no correlation between pulse, chopper and beam
  divergence), and disks in between are ignored.

For a box-like window these FWHM approximations differ from the FWHM of the true line
(docs/instruments.md, Monte Carlo); latdyn keeps them because they are the numbers users and
facilities plan with, and offers the second-moment propagation as ``convention="second_moment"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InstrumentError
from ..units import energy_to_velocity, energy_to_wavelength
from .base import FWHM_PER_SIGMA
from .choppers import DiskChopper, FermiChopper

__all__ = ["calculator_time_widths", "calculator_fwhm", "window_fwhm_s", "SAMPLE_SHAPES",
           "CALCULATOR_TERMS", "CalculatorFlux", "calculator_flux", "FERMI_FLUX_CONSTANT"]

#: The time contributions, in the order of the module docstring.  An instrument file may name
#: some under ``calculator.leaves_out`` where the facility's own calculator file leaves them out
#: (e.g. PyChop's LET file has no detector model).
CALCULATOR_TERMS = ("moderator", "chopper", "aperture", "sample", "detector")

#: Variance of the sample position across the beam in units of the width squared, by shape
#: (uniform plate: 1/12; thin annulus seen side-on: 1/8).
SAMPLE_SHAPES = {"plate": 1.0 / 12.0, "annulus": 1.0 / 8.0}

_FWHM2 = FWHM_PER_SIGMA**2


def window_fwhm_s(chopper, ei: float, frequency: float) -> float:
    """FWHM (s) of one chopper window in the facility convention: Gaussian-equivalent FWHM of
    Windsor's variance for a Fermi chopper; half the full opening time (w + b)/(2u) for a disk."""
    if isinstance(chopper, FermiChopper):
        return FWHM_PER_SIGMA * float(np.sqrt(chopper.variance_s2(ei, frequency)))
    if isinstance(chopper, DiskChopper):
        chopper.check_frequency(frequency)
        t_slot, t_beam = chopper._times_s(frequency)
        return 0.5 * (t_slot + t_beam)
    raise TypeError(f"not a chopper: {chopper!r}")


def calculator_time_widths(inst, ei: float, energy_transfer, frequency=None, mode=None,
                           package=None) -> dict[str, np.ndarray]:
    """Squared FWHM (s^2) of each time contribution at the detector, the facility-calculator
    convention (module docstring): keys 'moderator' (or the first chopper, whichever is the
    pulse), 'chopper', 'aperture', 'sample', 'detector'.

    ``inst``: a :class:`~latdyn.instruments.direct.DirectGeometry`; ``ei`` (meV) already
    checked; ``energy_transfer`` (meV) an array below Ei; settings as its ``resolution``."""
    e = np.asarray(energy_transfer, dtype=float)
    chops = sorted(inst.choppers(mode, package), key=lambda c: c.distance_m)
    last = chops[-1]
    f_last = inst._frequency(last, frequency)
    x0 = last.distance_m
    x1 = inst.moderator_sample - x0
    x2 = inst.sample_detector
    dt_chop = window_fwhm_s(last, ei, f_last)
    dt_mod = float(inst.moderator.pulse_fwhm_us(ei)) * 1e-6
    if len(chops) > 1:
        first = chops[0]
        dt_first = window_fwhm_s(first, ei, inst._frequency(first, frequency))
        dt_mod = min(dt_mod * (1.0 - first.distance_m / x0), dt_first)
        x_pulse = x0 - first.distance_m
    else:
        x_pulse = x0
    v_i = float(energy_to_velocity(ei))
    v_f = np.asarray(energy_to_velocity(ei - e))
    ratio = (v_i / v_f) ** 3
    modfac = (x1 + ratio * x2) / x_pulse
    out = {"moderator": (dt_mod * modfac) ** 2, "chopper": (dt_chop * (1.0 + modfac)) ** 2}
    # divergence through the last chopper: aperture and sample position (CHOP's g and f)
    omega = 2.0 * np.pi * f_last
    x_a = getattr(last, "aperture_distance_m", None) or x0
    width_a = (getattr(last, "aperture_width_mm", None) or 0.0) * 1e-3
    tan_m = np.tan(np.radians(inst.moderator.angle_deg))
    d = omega * (x_a + x1)
    big_g1 = 1.0 - omega * tan_m * (x_a + x1) / v_i
    big_g2 = 1.0 - omega * tan_m * (x_pulse - x_a) / v_i
    g1, g2 = big_g1 / d, big_g2 / d
    f1, f2 = (1.0 + x1 * big_g1 / x_pulse) / d, (1.0 + x1 * big_g2 / x_pulse) / d
    out["aperture"] = (f1 + ratio * x2 * g1 / x_pulse) ** 2 * _FWHM2 * width_a**2 / 12.0
    width_s = (inst.sample_width_mm or 0.0) * 1e-3
    phi = np.radians(inst.reference_angle_deg)
    sample_fac = -np.sin(phi) / v_f - f2 - ratio * x2 * g2 / x_pulse
    out["sample"] = sample_fac**2 * _FWHM2 * width_s**2 * SAMPLE_SHAPES[inst.sample_shape]
    out["detector"] = _FWHM2 * inst.detector.path_variance(ei - e) / v_f**2
    return {k: np.broadcast_to(np.asarray(v, dtype=float), e.shape) for k, v in out.items()
            if k not in inst.calculator_leaves_out}


def calculator_fwhm(inst, ei: float, energy_transfer, frequency=None, mode=None,
                    package=None) -> np.ndarray:
    """Energy FWHM (meV) in the facility-calculator convention:
    2 E_f v_f sqrt(sum of squared time FWHMs) / x_2."""
    e = np.asarray(energy_transfer, dtype=float)
    widths = calculator_time_widths(inst, ei, e, frequency, mode, package)
    total = sum(widths.values())
    ef = ei - e
    v_f = np.asarray(energy_to_velocity(ef))
    return 2.0 * ef * v_f * np.sqrt(total) / inst.sample_detector


#: CHOP's constant K (m^2) of the Fermi-chopper flux transfer
#: Phi = phi(lambda) a_F / (p + p_slat) K / (x_0 (x_0 + x_1)) / c (module docstring of
#: :func:`calculator_flux`); PyChop's Instruments.py carries it without a derivation.
FERMI_FLUX_CONSTANT = 84403.06

#: Elastic FWHM / Ei below which the facility calculator takes a disk instrument's flux to
#: fall as 1/f^2 instead of 1/f (both choppers narrow together).
HIGH_RESOLUTION_FRACTION = 0.02


@dataclass(frozen=True)
class CalculatorFlux:
    """The facility calculator's flux model of one instrument (``flux.calculator`` in its file).

    ``wavelength`` (angstrom) and ``white_beam``: the measured white-beam flux per unit
    wavelength in the calculator's units (already multiplied by the file's ``scale``),
    interpolated by a not-a-knot cubic spline and held at the ends; for Fermi instruments the
    empirical correction of each package (``package_correction``); for disk instruments the
    reference slot (mm) and frequency (Hz) of the scaling law.  ``relative``: the reason, when
    the file says the calculator's numbers are not an absolute flux in n/cm^2/s (then only
    ratios between settings of that instrument mean something).
    """

    wavelength: np.ndarray
    white_beam: np.ndarray
    package_correction: dict
    reference_slot_mm: float | None = None
    reference_frequency: float | None = None
    relative: str | None = None

    @classmethod
    def from_node(cls, node) -> CalculatorFlux:
        table = node.child("white_beam")
        wl = table.array("wavelength")
        flux = table.array("flux", length=wl.size) * table.number("scale", 1.0)
        order = np.argsort(wl)
        corr = node.child("package_correction", None)
        packages = {} if corr is None else {k: corr.number(k) for k in corr.data}
        return cls(wl[order], flux[order], packages, node.number("reference_slot_mm", None),
                   node.number("reference_frequency", None), node.text("relative", None))

    def white_beam_flux(self, ei: float) -> float:
        """White-beam flux per unit wavelength at the wavelength of ``ei`` (meV)."""
        from scipy.interpolate import CubicSpline

        lam = float(energy_to_wavelength(ei))
        lam = min(max(lam, self.wavelength[0]), self.wavelength[-1])
        return float(CubicSpline(self.wavelength, self.white_beam)(lam))


def calculator_flux(inst, ei: float, frequency=None, mode=None, package=None) -> float:
    r"""Flux at the sample (n/cm^2/s) in the facility calculator's model (PyChop).

    Fermi chopper (CHOP): the white-beam flux phi(lambda) times the chopper's time-integrated
    transmission per slit period and the calculator's transfer factor,

    .. math::  \Phi = \phi(\lambda)\,\frac{p\,\Delta\,T(\gamma)}{p + p_s}
               \,\frac{K}{x_0 (x_0 + x_1)}\,\frac{1}{c}

    (p, p_s slit and slat widths, Delta T(gamma) Windsor's window area, K =
    :data:`FERMI_FLUX_CONSTANT`, x_0 moderator-chopper, x_1 chopper-sample, c the package's
    empirical correction).  Disk instruments (MulpyRep): phi(lambda) (w / w_ref)
    (f_ref / f)^n with w the last chopper's slot, f its frequency, n = 2 when the elastic FWHM
    is below 2 % of Ei and 1 otherwise.
    """
    model = inst.calculator_flux
    chops = sorted(inst.choppers(mode, package), key=lambda c: c.distance_m)
    last = chops[-1]
    f_last = inst._frequency(last, frequency)
    phi = model.white_beam_flux(ei)
    if isinstance(last, FermiChopper):
        if last.slat_width_mm is None or last.package not in model.package_correction:
            raise InstrumentError("the calculator flux of a Fermi chopper needs the package's "
                                  "slat_width_mm and flux.calculator.package_correction",
                                  file=inst.file, field="flux.calculator.package_correction",
                                  value=last.package)
        x0 = last.distance_m
        x1 = inst.moderator_sample - x0
        area = float(last.window_area_s(ei, f_last))
        open_fraction = last.slit_width_mm / (last.slit_width_mm + last.slat_width_mm)
        return phi * open_fraction * area * FERMI_FLUX_CONSTANT / (x0 * (x0 + x1)) \
            / model.package_correction[last.package]
    if model.reference_slot_mm is None or model.reference_frequency is None or \
            last.slot_width_mm is None:
        raise InstrumentError("the calculator flux of a disk instrument needs the last chopper's "
                              "slot width and flux.calculator.reference_slot_mm and "
                              "reference_frequency", file=inst.file, field="flux.calculator")
    fine = calculator_fwhm(inst, ei, 0.0, frequency, mode, package) / ei < HIGH_RESOLUTION_FRACTION
    power = 2.0 if fine else 1.0
    return phi * (last.slot_width_mm / model.reference_slot_mm) \
        * (model.reference_frequency / f_last) ** power
