r"""Powder diffraction patterns: constant wavelength (2theta) and time of flight (d or tof).

Constant wavelength (Rietveld, J. Appl. Cryst. 2, 65 (1969); Caglioti, Paoletti & Ricci,
Nucl. Instrum. 3, 223 (1958)):

.. math::

    I(2\theta) = s \sum_{hkl} m |F|^2 L(\theta) P(\theta)\, \Phi(2\theta - 2\theta_{hkl})

with 2theta_hkl from lambda = 2 d sin(theta), the Debye-Scherrer Lorentz factor
L = 1 / (sin^2 theta cos theta), polarisation P = 1 for neutrons and (1 + cos^2 2theta)/2 for
unpolarised X-rays, and Phi a unit-area pseudo-Voigt (Lorentzian fraction eta) whose FWHM
follows FWHM^2 = U tan^2 theta + V tan theta + W (deg^2).

Preferred orientation (``preferred_orientation=(axis, r)``) scales each reflection by the
March-Dollase factor averaged over its Laue orbit (:mod:`latdyn.diffraction.texture`).

Time of flight at a fixed detector (Buras & Gerward, Acta Cryst. A31, 372 (1975); a flat
incident spectrum is assumed):

.. math::  I(d) = s \sum_{hkl} m |F|^2 d_{hkl}^4\, \Phi(d - d_{hkl})

with FWHM_d^2 = (Delta d/d * d)^2 + (Delta t / DIFC)^2, and t = DIFC d (microseconds;
:func:`latdyn.kinematics.difc` from the flight path and angle).  Phi is the pseudo-Voigt, or
with ``profile="back-to-back"`` the Gaussian of that FWHM convolved with back-to-back
exponentials of rise and decay rates alpha, beta (1/us; :mod:`latdyn.diffraction.profiles`,
Von Dreele, Jorgensen & Windsor 1982), the asymmetric peak of a pulsed source.  On a tof axis the density is
I(t) = I(d) / DIFC.  Intensities are returned as dimensionless numbers: |F|^2 in barn
(neutrons) or electrons^2 (X-rays) times the factors above, per degree, angstrom or
microsecond of the axis; s is a scale factor.
"""

from __future__ import annotations

import numpy as np
import scipp as sc

from .. import kinematics
from ..data import from_numpy
from ..errors import InputError, InstrumentError
from ..lineshapes import pseudo_voigt
from ..structure import Crystal
from ..units import FWHM_PER_SIGMA
from .profiles import back_to_back_gaussian, tof_exponents
from .reflections import Reflections, reflections
from .texture import march_dollase_factor

__all__ = ["caglioti_fwhm", "cw_pattern", "tof_pattern"]

_CHUNK = 256


def caglioti_fwhm(two_theta, U: float, V: float, W: float) -> np.ndarray:
    """FWHM (deg) = sqrt(U tan^2 theta + V tan theta + W); U, V, W in deg^2, 2theta in deg."""
    t = np.tan(np.deg2rad(np.asarray(two_theta, dtype=float)) / 2)
    f2 = U * t**2 + V * t + W
    if np.any(~np.isfinite(f2) | (f2 <= 0)):
        bad = np.asarray(two_theta)[~np.isfinite(f2) | (f2 <= 0)]
        raise InputError("Caglioti U, V, W give a non-positive FWHM^2", field="U,V,W",
                         value=(U, V, W, float(np.ravel(bad)[0])))
    return np.sqrt(f2)


def _sum_peaks(x: np.ndarray, centers, fwhm, area, eta: float) -> np.ndarray:
    out = np.zeros(len(x))
    for s in range(0, len(centers), _CHUNK):
        sl = slice(s, s + _CHUNK)
        prof = pseudo_voigt(x[:, None], fwhm[None, sl] / 2, eta, centers[None, sl])
        out += prof @ area[sl]
    return out


def _texture(crystal: Crystal, hkl: np.ndarray, preferred_orientation) -> np.ndarray | float:
    """March-Dollase factors of the reflections (1 for a random powder)."""
    if preferred_orientation is None:
        return 1.0
    try:
        axis, r = preferred_orientation
    except (TypeError, ValueError) as exc:
        raise InputError("preferred_orientation must be (axis hkl, r)", field="preferred_orientation",
                         value=preferred_orientation) from exc
    return march_dollase_factor(crystal, hkl, axis, r)


def _sum_back_to_back(d_grid, centers, fwhm_d, area, difc: float, alpha, beta) -> np.ndarray:
    """Sum of back-to-back-exponential peaks on a d grid: each computed in tof (us) and turned
    into a density in d (x DIFC)."""
    out = np.zeros(len(d_grid))
    sigma_t = difc * fwhm_d / FWHM_PER_SIGMA
    for s in range(0, len(centers), _CHUNK):
        sl = slice(s, s + _CHUNK)
        prof = back_to_back_gaussian(difc * d_grid[:, None], alpha[None, sl], beta[None, sl],
                                     sigma_t[None, sl], difc * centers[None, sl])
        out += difc * (prof @ area[sl])
    return out


def _axis(x, name: str, lo: float, hi: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2 or np.any(~np.isfinite(x)) or np.any(np.diff(x) <= 0):
        raise InputError(f"{name} must be a strictly increasing 1-D grid", field=name, value=x.shape)
    if x[0] < lo or x[-1] > hi:
        raise InputError(f"{name} grid leaves the physical range [{lo}, {hi}]", field=name,
                         value=(float(x[0]), float(x[-1])))
    return x


def _check_instrument(x, rng, name: str, unit: str) -> None:
    if rng is None:
        return
    lo, hi = map(float, rng)
    if x[0] < lo or x[-1] > hi:
        raise InstrumentError(f"requested {name} range lies outside the instrument range "
                              f"[{lo:g}, {hi:g}] {unit}", field=name,
                              value=(float(x[0]), float(x[-1])))


def cw_pattern(crystal: Crystal, wavelength: float, two_theta, U: float, V: float, W: float, *,
               radiation: str = "neutron", eta: float = 0.0, scale: float = 1.0,
               instrument_range=None, refl: Reflections | None = None, preferred_orientation=None,
               **sf_kwargs) -> sc.DataArray:
    """Constant-wavelength powder pattern I(2theta) on the grid ``two_theta`` (deg), module docstring.

    wavelength in angstrom; U, V, W in deg^2; ``instrument_range`` (2theta_min, 2theta_max) in deg
    raises InstrumentError when the grid leaves it.  Extra keywords go to
    :func:`latdyn.diffraction.reflections` (``scattering_lengths``, ``debye_waller``, ``table``).
    ``preferred_orientation``: (axis hkl, r) for the March-Dollase correction
    (:mod:`latdyn.diffraction.texture`); None for a random powder.
    Returns a DataArray with dim 'two_theta'.
    """
    if not np.isfinite(wavelength) or wavelength <= 0:
        raise InputError("wavelength must be positive (angstrom)", field="wavelength", value=wavelength)
    tt = _axis(two_theta, "two_theta", 0.0, 180.0)
    _check_instrument(tt, instrument_range, "two_theta", "deg")
    if tt[0] <= 0:
        raise InputError("2theta must be positive", field="two_theta", value=float(tt[0]))
    hw = 3 * float(caglioti_fwhm(min(tt[-1], 179.0), U, V, W))
    tt_hi = min(tt[-1] + hw, 179.99)
    d_min = kinematics.two_theta_to_d(tt_hi, wavelength)
    d_max = kinematics.two_theta_to_d(max(tt[0] - hw, 1e-3), wavelength)
    if refl is None:
        if crystal.lattice.abc.max() < d_min:
            raise InputError("no reflection reachable in this 2theta range at this wavelength",
                             field="wavelength", value=wavelength)
        refl = reflections(crystal, d_min, d_max, radiation, **sf_kwargs)
    ok = refl.d >= wavelength / 2
    if not np.any(ok):
        raise InputError("no reflection reachable: wavelength exceeds 2 d_max", field="wavelength",
                         value=wavelength)
    d = refl.d[ok]
    centers = kinematics.d_to_two_theta(d, wavelength)
    theta = np.deg2rad(centers) / 2
    lorentz = 1.0 / (np.sin(theta) ** 2 * np.cos(theta))
    pol = np.ones_like(theta) if refl.radiation == "neutron" else (1 + np.cos(2 * theta) ** 2) / 2
    area = scale * refl.multiplicity[ok] * refl.f2[ok] * lorentz * pol
    area = area * _texture(crystal, refl.hkl[ok], preferred_orientation)
    fwhm = caglioti_fwhm(centers, U, V, W)
    y = _sum_peaks(tt, centers, fwhm, area, eta)
    return from_numpy(y, {"two_theta": tt}, name=f"I(2theta) {refl.radiation}")


def tof_pattern(crystal: Crystal, x, *, axis: str = "d", difc: float | None = None,
                path_m: float | None = None, two_theta: float | None = None,
                dd_over_d: float = 0.003, dt: float = 0.0, radiation: str = "neutron",
                eta: float = 0.0, scale: float = 1.0, instrument_range=None,
                refl: Reflections | None = None, profile: str = "pseudo-voigt", alpha=None,
                beta=None, preferred_orientation=None, **sf_kwargs) -> sc.DataArray:
    """Time-of-flight powder pattern on a d (angstrom) or tof (microseconds) grid ``x``.

    DIFC (us/angstrom) is given directly or from ``path_m`` (total flight path, m) and
    ``two_theta`` (deg).  Resolution: ``dd_over_d`` (relative FWHM) and ``dt`` (FWHM, us).
    ``instrument_range`` is the instrument's window on the same axis (d in angstrom or tof in
    us); a grid leaving it raises InstrumentError.  ``profile``: 'pseudo-voigt' (``eta``) or
    'back-to-back' (the same Gaussian convolved with back-to-back exponentials; ``alpha`` and
    ``beta`` in 1/us, each a number or GSAS's (constant, d term): alpha_0 + alpha_1/d,
    beta_0 + beta_1/d^4).  ``preferred_orientation``: (axis hkl, r), March-Dollase.  Returns a
    DataArray with dim 'd' or 'tof'.
    """
    if profile not in ("pseudo-voigt", "back-to-back"):
        raise InputError("profile must be 'pseudo-voigt' or 'back-to-back'", field="profile",
                         value=profile)
    if profile == "back-to-back" and (alpha is None or beta is None):
        raise InputError("the back-to-back profile needs alpha and beta (1/us)",
                         field="alpha" if alpha is None else "beta", value=None)
    if axis not in ("d", "tof"):
        raise InputError("axis must be 'd' or 'tof'", field="axis", value=axis)
    if difc is None:
        if path_m is None or two_theta is None:
            raise InputError("give DIFC or the flight path and 2theta", field="difc", value=None)
        difc = kinematics.difc(path_m, two_theta)
    if not np.isfinite(difc) or difc <= 0:
        raise InputError("DIFC must be positive (us/angstrom)", field="difc", value=difc)
    if not np.isfinite(dd_over_d) or dd_over_d < 0 or dt < 0 or (dd_over_d == 0 and dt == 0):
        raise InputError("resolution needs dd_over_d >= 0 and dt >= 0, not both zero",
                         field="dd_over_d", value=(dd_over_d, dt))
    x = _axis(x, axis, 0.0, np.inf)
    if x[0] <= 0:
        raise InputError(f"{axis} must be positive", field=axis, value=float(x[0]))
    _check_instrument(x, instrument_range, axis, "angstrom" if axis == "d" else "us")
    d_grid = x if axis == "d" else x / difc
    pad = 4 * np.hypot(dd_over_d * d_grid[-1], dt / difc)
    if refl is None:
        refl = reflections(crystal, max(d_grid[0] - pad, 0.05), d_grid[-1] + pad, radiation, **sf_kwargs)
    if len(refl) == 0:
        raise InputError("no reflection in this d range", field=axis, value=(float(x[0]), float(x[-1])))
    d = refl.d
    fwhm = np.hypot(dd_over_d * d, dt / difc)
    area = scale * refl.multiplicity * refl.f2 * d**4 * _texture(crystal, refl.hkl, preferred_orientation)
    if profile == "back-to-back":
        y = _sum_back_to_back(d_grid, d, fwhm, area, difc, *tof_exponents(d, alpha, beta))
    else:
        y = _sum_peaks(d_grid, d, fwhm, area, eta)
    if axis == "d":
        return from_numpy(y, {"d": x}, name=f"I(d) {refl.radiation}")
    return from_numpy(y / difc, {"tof": x}, name=f"I(tof) {refl.radiation}")
