r"""Crystal monochromator before a Fermi chopper (IN6-type hybrid spectrometers), with time focusing.

A crystal (d-spacing d) reflects at the Bragg angle theta, lambda = 2 d sin(theta), a band of
relative width Delta lambda / lambda (FWHM; from the mosaic and the beam divergence,
cot(theta) times the angular spread).  In the inverse speed u = 1/v the band is a Gaussian prior
of standard deviation sigma_w = u (Delta lambda/lambda) / 2.3548 on w = delta u.

Time focusing (R. Scherm et al., ILL report 76S235 (1976); Y. Blanc, ILL report 83BL21G (1983)):
across the band the wavelength and the direction leaving the crystal are correlated,
delta theta = tan(theta) delta lambda / lambda, so the outgoing direction turns by
alpha = 2 tan(theta) v w.  A Fermi chopper is a rotating collimator and passes a neutron that
travels at alpha to the axis alpha / omega later.  The chopper's transmission constraint on the
arrival time t_c at the chopper becomes t_c - kappa w inside the window, with
kappa = -2 v tan(theta) / omega for the rotation sense that focuses.  The energy error of
:mod:`latdyn.instruments.direct`, delta E = A_t t_c + A_w w, then loses its w term when

.. math::  \omega = \frac{2 v \tan\theta}{L_{CS} + L_{SD}(v_i/v_f)^3},

(L_CS chopper-sample, L_SD sample-detector): the focusing condition, the same relation as the
facility's chopper-speed rule f = h / (2 pi m d cos(theta) (L_CS + L_SD (v_i/v_f)^3)) of the
IN6 control software (as quoted in McStas's ILL_IN6.instr).  At the focus the width comes from
the chopper opening alone; away from it the band adds (A_t kappa + A_w) sigma_w.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InstrumentError
from ..units import FWHM_PER_SIGMA, energy_to_velocity, energy_to_wavelength
from ._yaml import Node

__all__ = ["CrystalMonochromator"]


@dataclass(frozen=True)
class CrystalMonochromator:
    """A crystal monochromator: d-spacing (angstrom), band FWHM Delta lambda/lambda (%),
    whether the Fermi chopper after it runs in time focusing, and the wavelengths (angstrom)
    the instrument offers (empty: any)."""

    d_spacing: float
    band_fwhm_percent: float
    time_focusing: bool = True
    wavelengths: tuple[float, ...] = ()

    @classmethod
    def from_node(cls, node: Node) -> CrystalMonochromator:
        wl = node.array("wavelengths", None)
        return cls(node.number("d_spacing"), node.number("band_fwhm_percent"),
                   bool(node.raw("time_focusing", True)), () if wl is None else tuple(wl))

    def bragg_angle(self, ei: float, file=None) -> float:
        """Bragg angle theta (rad) that reflects neutrons of energy ``ei`` (meV)."""
        s = float(energy_to_wavelength(ei)) / (2.0 * self.d_spacing)
        if not 0 < s < 1:
            raise InstrumentError("the monochromator cannot reflect this wavelength (lambda > 2d)",
                                  file=file, field="ei", value=ei)
        return float(np.arcsin(s))

    def check_wavelength(self, ei: float, file=None) -> None:
        """InstrumentError naming ``ei`` unless its wavelength is one the instrument offers."""
        if not self.wavelengths:
            return
        lam = float(energy_to_wavelength(ei))
        if np.min(np.abs(np.array(self.wavelengths) / lam - 1.0)) > 0.01:
            offered = ", ".join(f"{float(w):g}" for w in self.wavelengths)
            raise InstrumentError(f"the monochromator offers only {offered} A "
                                  f"({lam:.3g} A asked)", file=file, field="ei", value=ei)

    def sigma_w(self, ei: float) -> float:
        """Standard deviation (s/m) of the inverse speed across the band at ``ei`` (meV)."""
        fwhm = self.band_fwhm_percent / 100.0 / float(energy_to_velocity(ei))
        return fwhm / FWHM_PER_SIGMA

    def coupling_s(self, ei: float, frequency: float, file=None) -> float:
        """kappa (s): the extra delay per unit w with which the Fermi chopper passes the band's
        neutrons, -2 v tan(theta) / omega (0 without time focusing)."""
        if not self.time_focusing:
            return 0.0
        v = float(energy_to_velocity(ei))
        return -2.0 * v * np.tan(self.bragg_angle(ei, file)) / (2.0 * np.pi * frequency)

    def focusing_frequency(self, ei: float, chopper_sample: float, sample_detector: float,
                           energy_transfer: float = 0.0, file=None) -> float:
        """Fermi frequency (Hz) that focuses at ``energy_transfer`` (meV):
        v tan(theta) / (pi (L_CS + L_SD (v_i/v_f)^3))."""
        if not energy_transfer < ei:
            raise InstrumentError("the focusing energy transfer must lie below Ei",
                                  field="energy_transfer", value=energy_transfer)
        v = float(energy_to_velocity(ei))
        ratio3 = (ei / (ei - energy_transfer)) ** 1.5
        return v * np.tan(self.bragg_angle(ei, file)) / (np.pi * (chopper_sample + sample_detector * ratio3))
