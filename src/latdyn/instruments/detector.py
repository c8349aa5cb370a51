r"""Where along its flight path a neutron is absorbed in a 3He detector tube.

A time-of-flight spectrometer converts the arrival time at a detector into an energy using the
nominal sample-detector distance x_2 (to the tube axis).  The neutron is absorbed somewhere
inside the tube, so the true path differs by delta x_2; its spread adds
(2 E_f / x_2)^2 var(delta x_2) to the energy variance (Windsor 1981, ch. 7).

For a cylindrical tube of radius R filled with 3He at pressure p and temperature T the
absorption coefficient is mu = n sigma_a(lambda) with n = p / (k_B T) and the 1/v absorption
cross-section sigma_a(lambda) = sigma_a(1.798 A) lambda / 1.798 A (3He: 5333 b at 2200 m/s,
Sears 1992, from :mod:`periodictable`).  A neutron crossing the tube at impact parameter y has
a chord c(y) = 2 sqrt(R^2 - y^2) and is absorbed at depth s with density
mu exp(-mu s) / (1 - exp(-mu c)) on [0, c]; the beam illuminates the tube uniformly in y, each
chord weighted by its absorption probability 1 - exp(-mu c).  The path offset from the axis is
s - c/2, and its variance (about its mean: a constant offset is absorbed by the calibration of
x_2) is

.. math::  \mathrm{var}(\delta x_2) = \frac{\int_0^R w(y)\,\langle (s - c/2)^2\rangle_y\,dy}
           {\int_0^R w(y)\,dy} - \Big(\frac{\int_0^R w(y)\,\langle s - c/2\rangle_y\,dy}
           {\int_0^R w(y)\,dy}\Big)^2 .

With weak absorption (mu R << 1) this tends to R^2/4 = d^2/16, the uniform-disc value; with
strong absorption (cold neutrons in 10 atm tubes) it tends to 1/mu^2 plus the spread of the
entry point over the curved front of the tube, (2/3 - pi^2/16) R^2 = 0.050 R^2: the neutron is
stopped in the first millimetres and the depth spread shrinks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import constants as C

from ..errors import InstrumentError
from ..units import FWHM_PER_SIGMA, energy_to_wavelength

__all__ = ["HE3_ABSORPTION_BARN", "HE3_REFERENCE_WAVELENGTH", "TubeDetector", "PathSpread",
           "depth_variance", "tube_efficiency"]

#: Absorption cross-section of 3He at 2200 m/s (barn), Sears 1992 (periodictable).
HE3_ABSORPTION_BARN = 5333.0
#: Wavelength (angstrom) of a 2200 m/s neutron, the reference of tabulated absorption.
HE3_REFERENCE_WAVELENGTH = C.h / (C.m_n * 2200.0) * 1e10

# impact parameter y = R sin(theta): the chord 2 R cos(theta) is smooth in theta, so
# Gauss-Legendre in theta on [0, pi/2] converges fast (dy = R cos(theta) dtheta)
_T, _W = np.polynomial.legendre.leggauss(32)
_T = 0.25 * np.pi * (_T + 1.0)
_COS = np.cos(_T)
_W = 0.25 * np.pi * _W * _COS


def _chord_moments(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and second moments of s/c for density ~ exp(-a s/c) on [0, 1], a = mu c >= 0."""
    a = np.asarray(a, dtype=float)
    small = a < 1e-6
    aa = np.where(small, 1.0, a)
    inv_em1 = np.exp(-aa) / -np.expm1(-aa)  # 1 / (e^a - 1), no overflow for large a
    m1 = 1.0 / aa - inv_em1
    m2 = 2.0 / aa**2 - (1.0 + 2.0 / aa) * inv_em1
    # uniform limit with first-order correction for a -> 0
    m1 = np.where(small, 0.5 - a / 12.0, m1)
    m2 = np.where(small, 1.0 / 3.0 - a / 12.0, m2)
    return m1, m2


def depth_variance(radius_m: float, mu_per_m) -> np.ndarray:
    """Variance (m^2) of the absorption position along the path in a tube of radius R (m).

    ``mu_per_m``: absorption coefficient (1/m), scalar or array; mu = 0 gives R^2/4.
    """
    mu = np.atleast_1d(np.asarray(mu_per_m, dtype=float))
    if radius_m <= 0 or np.any(mu < 0) or np.any(~np.isfinite(mu)):
        raise InstrumentError("tube radius and absorption coefficient must be positive",
                              field="detector", value=(radius_m, float(np.min(mu))))
    c = 2.0 * radius_m * _COS                           # chords (nodes,)
    a = mu[:, None] * c[None, :]                         # (n_mu, nodes)
    m1, m2 = _chord_moments(a)
    # weight: absorption probability; for mu -> 0 it is ~ mu c, and mu cancels in the ratio
    w = np.where(a < 1e-6, c[None, :], -np.expm1(-a) / np.where(mu[:, None] > 0, mu[:, None], 1.0))
    w = w * _W[None, :]
    mean = (w * (m1 - 0.5) * c).sum(axis=1) / w.sum(axis=1)
    second = (w * (m2 - m1 + 0.25) * c**2).sum(axis=1) / w.sum(axis=1)
    var = second - mean**2
    return var if np.ndim(mu_per_m) else var[:1].reshape(())


def tube_efficiency(radius_m: float, mu_per_m) -> np.ndarray:
    r"""Detection probability of a tube of radius R (m) illuminated uniformly across its width.

    .. math::  \eta = \frac{1}{2R}\int_{-R}^{R} \big(1 - e^{-2\mu\sqrt{R^2 - y^2}}\big)\,dy

    (neutrons crossing at impact parameter y travel the chord 2 sqrt(R^2 - y^2) in the gas; the
    wall is taken as transparent).  ``mu_per_m``: absorption coefficient (1/m), scalar or array.
    Limits: eta -> pi mu R / 2 for mu R << 1 (mean chord pi R / 2) and eta -> 1 for mu R >> 1.
    """
    mu = np.atleast_1d(np.asarray(mu_per_m, dtype=float))
    if radius_m <= 0 or np.any(mu < 0) or np.any(~np.isfinite(mu)):
        raise InstrumentError("tube radius and absorption coefficient must be positive",
                              field="detector", value=(radius_m, float(np.min(mu))))
    # y = R sin(theta), dy = R cos(theta) dtheta; nodes on [0, pi/2] by symmetry
    chords = 2.0 * radius_m * _COS
    eta = (-np.expm1(-mu[:, None] * chords[None, :]) * _W[None, :]).sum(axis=1) / _W.sum()
    return eta if np.ndim(mu_per_m) else eta[:1].reshape(())


@dataclass(frozen=True)
class TubeDetector:
    """A 3He tube of diameter ``diameter_m`` at ``pressure_atm`` and ``temperature_k``.

    ``pressure_atm = None`` means the absorption is not modelled and the depth spread is the
    uniform-disc value d^2/16 (the weak-absorption limit, as for a tube of unknown filling).
    ``wall_fraction``: wall thickness over the radius; the gas fills the inner radius
    R (1 - wall_fraction) (CHOP takes 0.063 for the ISIS tubes), the wall is transparent.
    """

    diameter_m: float
    pressure_atm: float | None = None
    temperature_k: float = 293.15
    wall_fraction: float = 0.0

    @property
    def gas_radius_m(self) -> float:
        """Radius (m) of the gas volume, R (1 - wall_fraction)."""
        return 0.5 * self.diameter_m * (1.0 - self.wall_fraction)

    def absorption_coefficient(self, energy) -> np.ndarray:
        """mu (1/m) at neutron energy ``energy`` (meV); 0 without a filling pressure."""
        e = np.asarray(energy, dtype=float)
        if self.pressure_atm is None:
            return np.zeros_like(e)
        n = self.pressure_atm * C.atm / (C.k * self.temperature_k)
        lam = np.asarray(energy_to_wavelength(e))
        return n * HE3_ABSORPTION_BARN * 1e-28 * lam / HE3_REFERENCE_WAVELENGTH

    def efficiency(self, energy) -> np.ndarray:
        """Detection probability at neutron energy ``energy`` (meV), :func:`tube_efficiency`;
        1 where the filling pressure is not given (efficiency not modelled)."""
        e = np.asarray(energy, dtype=float)
        if self.pressure_atm is None or self.diameter_m == 0:
            return np.ones_like(e)
        flat = np.ravel(e)
        uniq, inv = np.unique(flat, return_inverse=True)
        eta = tube_efficiency(self.gas_radius_m, self.absorption_coefficient(uniq))
        return np.asarray(eta)[inv].reshape(e.shape)

    def path_variance(self, energy) -> np.ndarray:
        """Variance (m^2) of the flight path inside the tube at final energy ``energy`` (meV)."""
        e = np.asarray(energy, dtype=float)
        if self.diameter_m == 0:
            return np.zeros_like(e)
        if self.pressure_atm is None:
            return np.full(e.shape, self.gas_radius_m**2 / 4.0)
        flat = np.ravel(e)
        uniq, inv = np.unique(flat, return_inverse=True)
        var = depth_variance(self.gas_radius_m, self.absorption_coefficient(uniq))
        return np.asarray(var)[inv].reshape(e.shape)


@dataclass(frozen=True)
class PathSpread:
    """A flight-path uncertainty given as one number: the FWHM (m) of the sample-detector path
    (sample size and detector depth together, as some facilities publish it); Gaussian
    variance (FWHM / 2.3548)^2 whatever the energy."""

    fwhm_m: float

    def efficiency(self, energy) -> np.ndarray:
        """Detection probability: not modelled for a lumped path spread (1 at every energy)."""
        return np.ones(np.shape(energy))

    def path_variance(self, energy) -> np.ndarray:
        """Variance (m^2) of the sample-detector path, independent of ``energy`` (meV)."""
        return np.full(np.shape(energy), (self.fwhm_m / FWHM_PER_SIGMA) ** 2)
