r"""Scattering kinematics: |Q| from energies and angles, accessible (|Q|, E), Bragg's law.

Conventions: energy transfer E = E_i - E_f (meV, positive when the neutron loses energy),
scattering angle 2theta in degrees, |Q| in 1/angstrom.  The law of cosines gives

.. math::  Q^2 = k_i^2 + k_f^2 - 2 k_i k_f \cos 2\theta = (k_i - k_f)^2 + 4 k_i k_f \sin^2\theta,
           \qquad k = \sqrt{E / 2.0721}

(the second form is evaluated: it has no cancellation near 2theta = 0).

Direct geometry fixes E_i (E_f = E_i - E); indirect geometry fixes E_f (E_i = E_f + E).
Bragg's law: lambda = 2 d sin(theta); for time of flight, t = DIFC d with
DIFC = (2 m_n / h) L_total sin(theta) (microseconds per angstrom).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import constants as C

from .errors import InputError
from .units import E_PER_K2, _as_numpy

__all__ = [
    "cos_two_theta",
    "q_direct",
    "q_indirect",
    "q_elastic",
    "Coverage",
    "coverage_direct",
    "coverage_indirect",
    "d_to_two_theta",
    "two_theta_to_d",
    "difc",
    "tof_to_d",
    "d_to_tof",
]


def _angle(two_theta, name: str = "two_theta") -> np.ndarray:
    tt, _ = _as_numpy(two_theta, "deg", name)
    bad = ~np.isfinite(tt) | (tt < 0) | (tt > 180)
    if np.any(bad):
        raise InputError("scattering angle must lie in [0, 180] degrees", field=name,
                         value=float(np.asarray(tt)[bad].ravel()[0]) if tt.ndim else float(tt))
    return tt


def _positive(x, unit: str, name: str) -> np.ndarray:
    v, _ = _as_numpy(x, unit, name)
    bad = ~np.isfinite(v) | (v <= 0)
    if np.any(bad):
        raise InputError(f"{name} must be positive and finite", field=name,
                         value=float(np.asarray(v)[bad].ravel()[0]) if v.ndim else float(v))
    return v


def _finite(x, unit: str, name: str) -> np.ndarray:
    v, _ = _as_numpy(x, unit, name)
    if np.any(~np.isfinite(v)):
        raise InputError(f"{name} must be finite", field=name,
                         value=float(np.asarray(v)[~np.isfinite(v)].ravel()[0]))
    return v


def _q_from(ei: np.ndarray, ef: np.ndarray, two_theta: np.ndarray) -> np.ndarray:
    ki = np.sqrt(ei / E_PER_K2)
    kf = np.sqrt(ef / E_PER_K2)
    # (k_i - k_f)^2 + 4 k_i k_f sin^2(theta) equals the law of cosines without its cancellation
    q2 = (ki - kf) ** 2 + 4.0 * ki * kf * np.sin(np.deg2rad(two_theta) / 2.0) ** 2
    q = np.sqrt(q2)
    return q.item() if q.ndim == 0 else q


def cos_two_theta(q, ei, ef) -> np.ndarray:
    """cos 2theta = (k_i^2 + k_f^2 - Q^2) / (2 k_i k_f) for |Q| (1/angstrom) between the
    incident and final energies ei, ef (meV); arrays broadcast.  |value| > 1 where |Q| cannot
    be reached (outside k_i - k_f ... k_i + k_f); inf or nan where an energy is 0."""
    ki2 = np.asarray(ei, dtype=float) / E_PER_K2
    kf2 = np.asarray(ef, dtype=float) / E_PER_K2
    with np.errstate(divide="ignore", invalid="ignore"):
        return (ki2 + kf2 - np.asarray(q, dtype=float) ** 2) / (2.0 * np.sqrt(ki2 * kf2))


def q_direct(ei, energy_transfer, two_theta):
    """|Q| (1/angstrom) in direct geometry from E_i (meV), E = E_i - E_f (meV), 2theta (deg).

    Raises InputError for E > E_i (the neutron cannot give more than its energy).
    """
    ei = _positive(ei, "meV", "ei")
    e = _finite(energy_transfer, "meV", "energy_transfer")
    tt = _angle(two_theta)
    ef = ei - e
    if np.any(ef < 0):
        raise InputError("energy transfer above Ei is kinematically forbidden",
                         field="energy_transfer", value=float(np.max(np.broadcast_to(e, ef.shape)[ef < 0])))
    return _q_from(ei, ef, tt)


def q_indirect(ef, energy_transfer, two_theta):
    """|Q| (1/angstrom) in indirect geometry from E_f (meV), E = E_i - E_f (meV), 2theta (deg).

    Raises InputError for E < -E_f (E_i would be negative).
    """
    ef = _positive(ef, "meV", "ef")
    e = _finite(energy_transfer, "meV", "energy_transfer")
    tt = _angle(two_theta)
    ei = ef + e
    if np.any(ei < 0):
        raise InputError("energy transfer below -Ef is kinematically forbidden",
                         field="energy_transfer", value=float(np.min(np.broadcast_to(e, ei.shape)[ei < 0])))
    return _q_from(ei, ef, tt)


def q_elastic(wavelength, two_theta):
    """|Q| = 4 pi sin(theta) / lambda (1/angstrom) for elastic scattering; lambda in angstrom."""
    lam = _positive(wavelength, "angstrom", "wavelength")
    tt = _angle(two_theta)
    q = 4.0 * np.pi * np.sin(np.deg2rad(tt) / 2.0) / lam
    return q.item() if q.ndim == 0 else q


@dataclass(frozen=True)
class Coverage:
    """Accessible (|Q|, E) region of a spectrometer for a detector-angle range.

    Attributes
    ----------
    energy: energy transfer grid, meV.
    q_min, q_max: the boundary curves |Q|(E) at the smallest and largest angle, 1/angstrom
        (NaN where E is kinematically forbidden).
    geometry: 'direct' or 'indirect'; fixed_energy: E_i or E_f, meV;
    two_theta_min, two_theta_max: detector angles, degrees.
    """

    energy: np.ndarray
    q_min: np.ndarray
    q_max: np.ndarray
    geometry: str
    fixed_energy: float
    two_theta_min: float
    two_theta_max: float

    def contains(self, q, energy) -> np.ndarray:
        """Boolean mask: True where (|Q|, E) can be measured (arrays broadcast)."""
        q = np.asarray(q, dtype=float)
        e = np.asarray(energy, dtype=float)
        if self.geometry == "direct":
            allowed = e <= self.fixed_energy
            ei, ef = self.fixed_energy, np.clip(self.fixed_energy - e, 0.0, None)
        else:
            allowed = e >= -self.fixed_energy
            ei, ef = np.clip(self.fixed_energy + e, 0.0, None), self.fixed_energy
        ei = np.broadcast_to(ei, e.shape)
        ef = np.broadcast_to(ef, e.shape)
        lo = _q_from(ei, ef, np.full(e.shape, self.two_theta_min))
        hi = _q_from(ei, ef, np.full(e.shape, self.two_theta_max))
        return allowed & (q >= lo) & (q <= hi)

    def polygon(self) -> tuple[np.ndarray, np.ndarray]:
        """Closed boundary (Q, E) for plotting: q_min up in E, q_max back down."""
        ok = np.isfinite(self.q_min) & np.isfinite(self.q_max)
        q = np.concatenate([self.q_min[ok], self.q_max[ok][::-1], self.q_min[ok][:1]])
        e = np.concatenate([self.energy[ok], self.energy[ok][::-1], self.energy[ok][:1]])
        return q, e


def _coverage(geometry: str, fixed: float, tt_min: float, tt_max: float,
              energy) -> Coverage:
    tt_lo = float(_angle(tt_min, "two_theta_min"))
    tt_hi = float(_angle(tt_max, "two_theta_max"))
    if tt_lo >= tt_hi:
        raise InputError("two_theta_min must be below two_theta_max", field="two_theta_min",
                         value=tt_lo)
    e = np.asarray(energy, dtype=float)
    if geometry == "direct":
        ok = e <= fixed
        ei = np.full(e.shape, fixed)
        ef = np.where(ok, fixed - e, np.nan)
    else:
        ok = e >= -fixed
        ei = np.where(ok, fixed + e, np.nan)
        ef = np.full(e.shape, fixed)
    with np.errstate(invalid="ignore"):
        ki = np.sqrt(ei / E_PER_K2)
        kf = np.sqrt(ef / E_PER_K2)
        qmin = np.sqrt((ki - kf) ** 2 + 4 * ki * kf * np.sin(np.deg2rad(tt_lo) / 2) ** 2)
        qmax = np.sqrt((ki - kf) ** 2 + 4 * ki * kf * np.sin(np.deg2rad(tt_hi) / 2) ** 2)
    return Coverage(e, np.where(ok, qmin, np.nan), np.where(ok, qmax, np.nan), geometry,
                    float(fixed), tt_lo, tt_hi)


def coverage_direct(ei, two_theta_min, two_theta_max, energy=None, n: int = 401) -> Coverage:
    """Accessible (|Q|, E) of a direct-geometry spectrometer with incident energy ``ei`` (meV).

    ``energy`` (meV) defaults to ``n`` points from -Ei to +Ei (energies above Ei are
    forbidden and come back as NaN boundaries).
    """
    ei = float(_positive(ei, "meV", "ei"))
    energy = np.linspace(-ei, ei, n) if energy is None else energy
    return _coverage("direct", ei, two_theta_min, two_theta_max, energy)


def coverage_indirect(ef, two_theta_min, two_theta_max, energy=None, n: int = 401) -> Coverage:
    """Accessible (|Q|, E) of an indirect-geometry spectrometer with final energy ``ef`` (meV).

    ``energy`` (meV) defaults to ``n`` points from -Ef to +Ef.
    """
    ef = float(_positive(ef, "meV", "ef"))
    energy = np.linspace(-ef, ef, n) if energy is None else energy
    return _coverage("indirect", ef, two_theta_min, two_theta_max, energy)


# --- Bragg's law ---------------------------------------------------------------------------

def d_to_two_theta(d, wavelength):
    """Bragg angle 2theta (deg) of a d-spacing (angstrom) at a wavelength (angstrom).

    Raises InputError when lambda > 2d (the reflection is not reachable).
    """
    d = _positive(d, "angstrom", "d")
    lam = _positive(wavelength, "angstrom", "wavelength")
    s = lam / (2.0 * d)
    if np.any(s > 1):
        raise InputError("reflection not reachable: wavelength exceeds 2d", field="d",
                         value=float(np.min(np.broadcast_to(d, s.shape)[s > 1])))
    tt = 2.0 * np.rad2deg(np.arcsin(s))
    return tt.item() if tt.ndim == 0 else tt


def two_theta_to_d(two_theta, wavelength):
    """d-spacing (angstrom) from 2theta (deg) and wavelength (angstrom): d = lambda / 2 sin(theta)."""
    tt = _angle(two_theta)
    lam = _positive(wavelength, "angstrom", "wavelength")
    if np.any(tt == 0):
        raise InputError("2theta = 0 has no d-spacing", field="two_theta", value=0.0)
    d = lam / (2.0 * np.sin(np.deg2rad(tt) / 2.0))
    return d.item() if d.ndim == 0 else d


def difc(total_path_m, two_theta):
    """DIFC (microseconds per angstrom) of a TOF detector: DIFC = (2 m_n / h) L sin(theta).

    L = moderator-to-sample plus sample-to-detector distance in metres, 2theta in degrees.
    """
    path = _positive(total_path_m, "m", "total_path_m")
    tt = _angle(two_theta)
    value = 2.0 * C.m_n / C.h * path * np.sin(np.deg2rad(tt) / 2.0) * 1e-10 * 1e6
    return value.item() if value.ndim == 0 else value


def d_to_tof(d, total_path_m, two_theta):
    """Time of flight (microseconds) of a Bragg peak at d (angstrom): t = DIFC d."""
    dd = _positive(d, "angstrom", "d")
    t = difc(total_path_m, two_theta) * dd
    return t.item() if np.ndim(t) == 0 else t


def tof_to_d(tof, total_path_m, two_theta):
    """d-spacing (angstrom) from time of flight (microseconds): d = t / DIFC."""
    t = _positive(tof, "us", "tof")
    c = difc(total_path_m, two_theta)
    if np.any(np.asarray(c) == 0):
        raise InputError("2theta = 0 has no d-spacing", field="two_theta", value=0.0)
    d = t / c
    return d.item() if np.ndim(d) == 0 else d
