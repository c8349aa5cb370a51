r"""Solid angle of detector banks as a function of the scattering angle 2theta.

A bank is a cylindrical surface of radius R about the sample (tubes, or analysers, standing
perpendicular to the scattering plane), covering the in-plane angles phi_1 <= phi <= phi_2
(degrees, measured from the incident beam; banks on the two sides of the beam are separate
entries) and the transverse coordinates z_1 <= z <= z_2 (m, along the cylinder axis,
perpendicular to the scattering plane), a fraction ``fill`` of which is active (gaps between
tubes or packs).  An element of the surface subtends

.. math::  d\Omega = \frac{R^2\,d\phi\,dz}{(R^2 + z^2)^{3/2}}

and sees the true scattering angle :math:`\cos 2\theta = \cos\phi\,R/\sqrt{R^2 + z^2}`, so
pixels above and below the plane scatter at a larger 2theta than phi near the beam and a
smaller one in back-scattering.  The total solid angle of a bank is
fill (phi_2 - phi_1) [z/sqrt(R^2 + z^2)] from z_1 to z_2; a symmetric bank of half-height h
gives fill (phi_2 - phi_1) 2 sin(beta_max), beta_max = atan(h/R).

:meth:`DetectorCoverage.cumulative` returns Omega(< 2theta), the solid angle of all pixels
whose scattering angle is below 2theta: at a fixed z the condition is
phi < phi*(2theta, z) = arccos(cos 2theta sqrt(R^2 + z^2)/R), exactly, and the z integral is
done by Gauss-Legendre quadrature.  :class:`DetectorCoverage` tabulates it once on a 0.01 deg
grid and interpolates linearly (memory independent of the number of bins; the table error is
a few 1e-6 of the total).  The solid angle seen by a bin of |Q| at energy transfer E
is then Omega(2theta(Q_hi, E)) - Omega(2theta(Q_lo, E)) (:func:`latdyn.simulate.counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import InstrumentError
from ._yaml import Node

__all__ = ["DetectorBank", "DetectorCoverage"]

_NODES = 96
_X, _W = np.polynomial.legendre.leggauss(_NODES)


@dataclass(frozen=True)
class DetectorBank:
    """One cylindrical bank: in-plane angles (deg), transverse extent (m), radius (m), fill."""

    phi_min: float
    phi_max: float
    z_min: float
    z_max: float
    radius_m: float
    fill: float = 1.0

    def __post_init__(self):
        if not (0.0 <= self.phi_min < self.phi_max <= 180.0):
            raise InstrumentError("bank angles must satisfy 0 <= min < max <= 180 deg",
                                  field="detector.banks.two_theta", value=(self.phi_min, self.phi_max))
        if not self.z_min < self.z_max:
            raise InstrumentError("bank transverse extent must be [z_min, z_max] with z_min < z_max",
                                  field="detector.banks.transverse", value=(self.z_min, self.z_max))
        if not (self.radius_m > 0 and 0 < self.fill <= 1):
            raise InstrumentError("bank radius must be positive and fill in (0, 1]",
                                  field="detector.banks", value=(self.radius_m, self.fill))

    def total(self) -> float:
        """Solid angle (sr) of the bank: fill (phi_2 - phi_1) [z / sqrt(R^2 + z^2)]_{z_1}^{z_2}."""
        r = self.radius_m
        span = np.radians(self.phi_max - self.phi_min)
        return float(self.fill * span * (self.z_max / np.hypot(r, self.z_max)
                                         - self.z_min / np.hypot(r, self.z_min)))

    def _nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """z nodes (m) and weights R^2 dz / (R^2 + z^2)^{3/2} (sr per radian of phi)."""
        half = 0.5 * (self.z_max - self.z_min)
        z = self.z_min + half * (_X + 1.0)
        r = self.radius_m
        return z, half * _W * r**2 / (r**2 + z**2) ** 1.5

    def cumulative(self, two_theta_deg) -> np.ndarray:
        """Omega(< 2theta) (sr) of this bank for scattering angles ``two_theta_deg``."""
        tt = np.radians(np.asarray(two_theta_deg, dtype=float))
        z, w = self._nodes()
        c = self.radius_m / np.hypot(self.radius_m, z)               # cos of the elevation
        arg = np.cos(tt)[..., None] / c                               # cos(phi*) at each node
        phi_star = np.arccos(np.clip(arg, -1.0, 1.0))                 # 0 below, pi above range
        lo, hi = np.radians(self.phi_min), np.radians(self.phi_max)
        length = np.clip(np.minimum(phi_star, hi) - lo, 0.0, None)
        return self.fill * (length * w).sum(axis=-1)


@dataclass(frozen=True)
class DetectorCoverage:
    """All banks of an instrument; solid angles in sr, angles in degrees."""

    banks: tuple[DetectorBank, ...]

    @classmethod
    def from_node(cls, node: Node, key: str, default_radius: float) -> DetectorCoverage | None:
        """Read ``node[key]`` (a list of banks) or return None when the file has none.

        Each bank: ``two_theta: [min, max]`` (deg, in-plane), ``transverse: [z_min, z_max]``
        (m, along the tube axis), optional ``radius`` (m, default ``default_radius``) and
        ``fill`` (active fraction, default 1).
        """
        if not node.has(key):
            return None
        banks = []
        for b in node.children(key):
            tt = b.array("two_theta", length=2)
            zz = b.array("transverse", length=2)
            banks.append(DetectorBank(float(tt[0]), float(tt[1]), float(zz[0]), float(zz[1]),
                                      b.number("radius", default_radius), b.number("fill", 1.0)))
        return cls(tuple(banks))

    def total(self) -> float:
        """Total solid angle (sr)."""
        return float(sum(b.total() for b in self.banks))

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        grid = np.linspace(0.0, 180.0, 18001)
        return grid, self.cumulative_exact(grid)

    def cumulative_exact(self, two_theta_deg) -> np.ndarray:
        """Omega(< 2theta) (sr) summed over the banks, by quadrature at each angle."""
        return sum(b.cumulative(two_theta_deg) for b in self.banks)

    def cumulative(self, two_theta_deg) -> np.ndarray:
        """Omega(< 2theta) (sr) summed over the banks (tabulated, linear interpolation)."""
        grid, table = self._table
        return np.interp(np.asarray(two_theta_deg, dtype=float), grid, table)

    def between(self, two_theta_lo, two_theta_hi) -> np.ndarray:
        """Solid angle (sr) of the pixels with lo <= 2theta < hi (arrays broadcast)."""
        return np.clip(self.cumulative(two_theta_hi) - self.cumulative(two_theta_lo), 0.0, None)
