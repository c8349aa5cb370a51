r"""Powder diffractometers: peak widths for constant-wavelength and time-of-flight machines.

Constant wavelength: the Caglioti law (Caglioti, Paoletti and Ricci, Nucl. Instrum. 3, 223
(1958)) FWHM^2(2theta) = U tan^2(theta) + V tan(theta) + W (deg^2), with U, V, W given in the
file or computed from the collimations alpha_1, alpha_2, alpha_3 and monochromator mosaic beta
(FWHM, same angular unit) at monochromator angle theta_M:

.. math::
   U = \frac{4(\alpha_1^2\alpha_2^2 + \alpha_1^2\beta^2 + \alpha_2^2\beta^2)}
            {\tan^2\theta_M(\alpha_1^2+\alpha_2^2+4\beta^2)},\quad
   V = \frac{-4\alpha_2^2(\alpha_1^2+2\beta^2)}{\tan\theta_M(\alpha_1^2+\alpha_2^2+4\beta^2)},\quad
   W = \frac{\alpha_1^2\alpha_2^2+\alpha_1^2\alpha_3^2+\alpha_2^2\alpha_3^2
            +4\beta^2(\alpha_2^2+\alpha_3^2)}{\alpha_1^2+\alpha_2^2+4\beta^2}.

Time of flight: Delta d / d = sqrt((Delta t / t)^2 + (Delta theta cot theta)^2 + (Delta L/L)^2)
for a bank; the file gives the published Delta d / d of each bank at its angle, which the
teammates' powder code uses directly (FWHM).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, InstrumentError
from ._yaml import Node
from .base import InstrumentBase

__all__ = ["CWDiffractometer", "TOFDiffractometer", "caglioti_uvw"]


def caglioti_uvw(alpha1: float, alpha2: float, alpha3: float, beta: float,
                 two_theta_mono: float) -> tuple[float, float, float]:
    """Caglioti U, V, W (deg^2) from collimations and mosaic (FWHM, degrees) and the
    monochromator take-off angle 2theta_M (degrees)."""
    t = np.tan(np.deg2rad(two_theta_mono) / 2)
    a1, a2, a3, b = (x**2 for x in (alpha1, alpha2, alpha3, beta))
    den = a1 + a2 + 4 * b
    u = 4 * (a1 * a2 + a1 * b + a2 * b) / (t**2 * den)
    v = -4 * a2 * (a1 + 2 * b) / (t * den)
    w = (a1 * a2 + a1 * a3 + a2 * a3 + 4 * b * (a2 + a3)) / den
    return float(u), float(v), float(w)


class CWDiffractometer(InstrumentBase):
    """Constant-wavelength powder diffractometer: FWHM(2theta) by the Caglioti law."""

    kind = "diffractometer_cw"

    def __init__(self, node: Node):
        super().__init__(node)
        self.wavelength = node.number("wavelength")
        cag = node.child("caglioti", None)
        if cag is not None:
            self.u = cag.number("U", positive=False)
            self.v = cag.number("V", positive=False)
            self.w = cag.number("W", positive=False)
        else:
            col = node.child("collimation")
            self.u, self.v, self.w = caglioti_uvw(
                col.number("alpha1_arcmin") / 60, col.number("alpha2_arcmin") / 60,
                col.number("alpha3_arcmin") / 60, col.number("mono_mosaic_arcmin") / 60,
                col.number("mono_two_theta"))
        det = node.child("detector")
        self.two_theta_min = det.number("two_theta_min", allow_zero=True)
        self.two_theta_max = det.number("two_theta_max")

    def fwhm(self, two_theta) -> np.ndarray:
        """Peak FWHM (degrees 2theta) at scattering angle ``two_theta`` (degrees)."""
        tt = np.asarray(two_theta, dtype=float)
        if np.any(~np.isfinite(tt)) or np.any((tt <= 0) | (tt >= 180)):
            raise InputError("2theta must lie in (0, 180) degrees", field="two_theta",
                             value=float(np.ravel(tt)[0]))
        t = np.tan(np.deg2rad(tt) / 2)
        f2 = self.u * t**2 + self.v * t + self.w
        if np.any(f2 <= 0):
            raise InstrumentError("Caglioti parameters give a non-positive width", file=self.file,
                                  field="caglioti", value=(self.u, self.v, self.w))
        return np.sqrt(f2)


class TOFDiffractometer(InstrumentBase):
    """Time-of-flight powder diffractometer: Delta d / d (FWHM) per detector bank."""

    kind = "diffractometer_tof"

    def __init__(self, node: Node):
        super().__init__(node)
        self.moderator_sample = node.child("distances").number("moderator_sample")
        self.banks = {}
        for b in node.children("banks"):
            self.banks[b.text("name")] = {"two_theta": b.number("two_theta"),
                                          "sample_detector": b.number("sample_detector"),
                                          "delta_d_over_d": b.number("delta_d_over_d")}

    def delta_d_over_d(self, bank: str) -> float:
        """Published resolution Delta d / d (FWHM, dimensionless) of a bank."""
        if bank not in self.banks:
            raise InstrumentError(f"unknown bank; choose one of {list(self.banks)}", file=self.file,
                                  field="bank", value=bank)
        return self.banks[bank]["delta_d_over_d"]

    def fwhm_d(self, d, bank: str) -> np.ndarray:
        """Peak FWHM in d (angstrom) at d-spacing ``d`` (angstrom) in ``bank``."""
        return self.delta_d_over_d(bank) * np.asarray(d, dtype=float)
