r"""Triple-axis intensities: Bragg-peak and phonon scans through the resolution function, and
the resolution ellipses drawn on a dispersion plot.

The spectrometer set at X_0 = (Q_0, E_0) records (Chesser and Axe, Acta Cryst. A 29, 160
(1973); Shirane, Shapiro and Tranquada, *Neutron Scattering with a Triple-Axis Spectrometer*,
CUP 2002, ch. 4)

.. math::  I(X_0) = \int R(X - X_0)\,S(X)\,d^4X,\qquad R(\Delta X) = R_0\,e^{-\Delta X^T M \Delta X/2}

with M and R0 of :meth:`latdyn.instruments.tas.TripleAxis.resolution_function` on the axes
(Q_par, Q_perp, Q_vert, E) of the point.

* A Bragg peak S = A delta^4(X - X_B) gives I = A R0 exp(-D^T M D / 2), D = X_B - X_0; a scan
  along the unit direction u of (Q, E) space has the FWHM 2.3548 / sqrt(u^T M u) and the
  integral A R0 sqrt(2 pi / u^T M u) (per unit of the scan variable).
* A dispersive mode S = A delta(E - omega_0 - g . dQ) near Q_0 (g the group velocity, meV
  angstrom, on the Q axes) gives, with n = (-g, 1) and s^2 = n^T M^-1 n,

  .. math::  I(E_0) = A\,R_0\,\frac{(2\pi)^2}{\sqrt{\det M}}\,
             \frac{e^{-(E_0 - \omega_0)^2 / 2 s^2}}{\sqrt{2\pi}\,s}

  (the Gaussian integral over the dispersion hyperplane); an intrinsic Gaussian line of FWHM
  Gamma adds (Gamma / 2.3548)^2 to s^2.  Its integral over E_0 is A times the resolution
  volume R0 (2 pi)^2 / sqrt(det M) when R changes little across the peak; latdyn evaluates R at
  every scan point, as ResLib does, so the profile carries the slow change of R with E_0.

Ellipses: the half-maximum contour in the plane of a Q direction u (in the scattering plane)
and E, either of the projection (X^T C_2^-1 X = 2 ln 2 with C_2 the 2x2 block of M^-1: what an
incoherent scan integrates) or of the section (X^T M_2 X = 2 ln 2: the resolution at fixed
other coordinates, the shape that slides along a sharp dispersion).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..units import FWHM_PER_SIGMA

__all__ = ["ScanPrediction", "bragg_scan", "phonon_scan", "resolution_ellipse",
           "dispersion_figure"]


@dataclass(frozen=True)
class ScanPrediction:
    """A predicted scan: ``x`` (scan variable, unit in ``x_unit``), ``intensity`` (R0 units
    times the amplitude), its ``fwhm`` and ``integral`` (per unit of x) and the resolution
    prefactor and method used."""

    x: np.ndarray
    intensity: np.ndarray
    fwhm: float
    integral: float
    x_unit: str
    r0: np.ndarray = field(repr=False)
    method: str = "cooper-nathans"

    def rows(self) -> list[dict]:
        """One row per scan point."""
        return [{f"x ({self.x_unit})": float(a), "intensity": float(b)}
                for a, b in zip(self.x, self.intensity, strict=True)]


def _unit(direction) -> np.ndarray:
    u = np.asarray(direction, dtype=float)
    if u.shape != (4,) or not np.all(np.isfinite(u)) or np.linalg.norm(u) == 0:
        raise InputError("scan direction must be 4 finite numbers on (Q_par, Q_perp, Q_vert, E), "
                         "not all zero", field="direction", value=direction)
    return u / np.linalg.norm(u)


_NAMED = {"longitudinal": (1.0, 0.0, 0.0, 0.0), "transverse": (0.0, 1.0, 0.0, 0.0),
          "vertical": (0.0, 0.0, 1.0, 0.0), "energy": (0.0, 0.0, 0.0, 1.0)}


def bragg_scan(tas, q: float, offsets, direction="transverse", energy: float = 0.0,
               amplitude: float = 1.0, method: str = "cooper-nathans", sample_mosaic_arcmin=None,
               normalisation: str = "monitor") -> ScanPrediction:
    """Scan across a Bragg peak (or any delta-like feature) at |Q| = ``q`` (1/angstrom) and
    energy ``energy`` (meV): intensities at ``offsets`` along ``direction``.

    ``direction``: 'longitudinal', 'transverse', 'vertical', 'energy', 'rocking' (a sample
    rotation: offsets in degrees, a transverse step of q * angle) or a 4-vector on (Q_par, Q_perp,
    Q_vert, E); offsets in 1/angstrom or meV along the unit vector (degrees for 'rocking').
    ``amplitude``: the peak's integrated structure factor in the user's units.  Module
    docstring for the formulas; the resolution is that of the nominal point.
    """
    res = tas.resolution_function(q, energy, method=method, sample_mosaic_arcmin=sample_mosaic_arcmin,
                                  normalisation=normalisation)
    x = np.asarray(offsets, dtype=float)
    if direction == "rocking":
        u, scale, unit = np.array(_NAMED["transverse"]), np.radians(1.0) * float(q), "deg"
    else:
        if isinstance(direction, str) and direction not in _NAMED:
            raise InputError(f"direction must be one of {sorted(_NAMED) + ['rocking']} or a 4-vector",
                             field="direction", value=direction)
        u = _unit(_NAMED[direction] if isinstance(direction, str) else direction)
        scale, unit = 1.0, "meV" if direction == "energy" else "1/angstrom"
    curv = float(u @ res.matrix @ u) * scale**2
    intensity = amplitude * res.r0 * np.exp(-0.5 * curv * x**2)
    return ScanPrediction(x, intensity, FWHM_PER_SIGMA / np.sqrt(curv),
                          float(amplitude * res.r0 * np.sqrt(2 * np.pi / curv)), unit,
                          np.full(x.shape, res.r0), res.method)


def phonon_scan(tas, q: float, energies, omega0: float, gradient=(0.0, 0.0, 0.0),
                amplitude: float = 1.0, intrinsic_fwhm: float = 0.0,
                method: str = "cooper-nathans", sample_mosaic_arcmin=None,
                normalisation: str = "monitor") -> ScanPrediction:
    """Constant-Q energy scan across a mode of energy ``omega0`` (meV) at |Q| = ``q``.

    ``gradient``: d omega / dQ (meV angstrom) along (Q_par, Q_perp, Q_vert) of the point (the
    group velocity; 0 for a flat mode); ``intrinsic_fwhm`` (meV): a Gaussian intrinsic width;
    ``amplitude``: the mode's integrated S(Q) (user units).  Returns the intensity at each
    ``energies`` (meV) with the resolution evaluated there, the FWHM of the profile at omega0 and
    its integral over E.  Formula: module docstring.
    """
    e = np.atleast_1d(np.asarray(energies, dtype=float))
    g = np.asarray(gradient, dtype=float)
    if g.shape != (3,) or not np.all(np.isfinite(g)):
        raise InputError("gradient must be three finite numbers (meV angstrom)", field="gradient",
                         value=gradient)
    if not np.isfinite(intrinsic_fwhm) or intrinsic_fwhm < 0:
        raise InputError("intrinsic_fwhm must be finite and >= 0 (meV)", field="intrinsic_fwhm",
                         value=intrinsic_fwhm)
    n = np.concatenate([-g, [1.0]])
    sig_int = intrinsic_fwhm / FWHM_PER_SIGMA

    def profile(e0):
        res = tas.resolution_function(q, float(e0), method=method,
                                      sample_mosaic_arcmin=sample_mosaic_arcmin,
                                      normalisation=normalisation)
        s = np.sqrt(float(n @ res.covariance @ n) + sig_int**2)
        volume = res.r0 * (2 * np.pi) ** 2 / np.sqrt(np.linalg.det(res.matrix))
        return res.r0, volume, s, res.method

    rows = [profile(x) for x in e]
    r0 = np.array([r[0] for r in rows])
    vol = np.array([r[1] for r in rows])
    s = np.array([r[2] for r in rows])
    intensity = amplitude * vol * np.exp(-0.5 * ((e - omega0) / s) ** 2) / (np.sqrt(2 * np.pi) * s)
    _, vol0, s0, name = profile(omega0)
    return ScanPrediction(e, intensity, float(FWHM_PER_SIGMA * s0), float(amplitude * vol0), "meV",
                          r0, name)


def resolution_ellipse(res, direction=(1.0, 0.0, 0.0), kind: str = "projection",
                       n: int = 181) -> np.ndarray:
    """Half-maximum contour (n x 2: dq in 1/angstrom along ``direction``, dE in meV) of the
    resolution function ``res`` (:class:`~latdyn.instruments.tas.TasResolution`) in the plane
    of the Q direction ``direction`` (on Q_par, Q_perp, Q_vert; normalised) and E.

    ``kind``: 'projection' (integrated over the other two coordinates) or 'section' (at zero
    of the others).  Module docstring for the contours."""
    u = np.asarray(direction, dtype=float)
    if u.shape != (3,) or not np.all(np.isfinite(u)) or np.linalg.norm(u) == 0:
        raise InputError("direction must be three finite numbers on (Q_par, Q_perp, Q_vert)",
                         field="direction", value=direction)
    u = u / np.linalg.norm(u)
    basis = np.zeros((4, 2))
    basis[:3, 0] = u
    basis[3, 1] = 1.0
    if kind == "projection":
        quad = np.linalg.inv(basis.T @ res.covariance @ basis)
    elif kind == "section":
        quad = basis.T @ res.matrix @ basis
    else:
        raise InputError("kind must be 'projection' or 'section'", field="kind", value=kind)
    w, v = np.linalg.eigh(quad)
    t = np.linspace(0.0, 2.0 * np.pi, int(n))
    circle = np.stack([np.cos(t), np.sin(t)])
    return (v @ ((FWHM_PER_SIGMA / 2.0 / np.sqrt(w))[:, None] * circle)).T


def dispersion_figure(tas, q_vectors, energies, direction, up=(0.0, 0.0, 1.0),
                      method: str = "cooper-nathans", kind: str = "projection", curve=None,
                      ax=None, sample_mosaic_arcmin=None):
    """Resolution ellipses on a dispersion plot.

    ``q_vectors`` (N x 3, Cartesian 1/angstrom, all in the scattering plane, e.g.
    ``Lattice.q_vectors(hkl)``) and ``energies`` (N, meV): where to draw; ``direction`` (3,
    same frame): the direction of the plot's Q axis, whose coordinate xi = Q . u (1/angstrom)
    is plotted; at each point the ellipse of :func:`resolution_ellipse` is drawn in the plane
    of u and E, with u expressed on the point's axes Q_par = Q/|Q|, Q_perp = up x Q_par,
    Q_vert = up.  ``up``: the direction of the same frame that points up in the laboratory
    (the scattering plane's normal); its sign decides on which side of Q the axis Q_perp lies,
    and so the sense in which the ellipses tilt.  ``curve``: optional (xi, E) arrays of the
    dispersion to draw.  Returns (figure, axes).
    """
    from ..report.figures import new_figure

    qv = np.atleast_2d(np.asarray(q_vectors, dtype=float))
    en = np.atleast_1d(np.asarray(energies, dtype=float))
    u = np.asarray(direction, dtype=float)
    if qv.shape[-1] != 3 or qv.shape[0] != en.size or u.shape != (3,) or np.linalg.norm(u) == 0:
        raise InputError("q_vectors must be N x 3 with N energies and direction three numbers",
                         field="q_vectors", value=(qv.shape, en.shape, u.shape))
    u = u / np.linalg.norm(u)
    up_hat = np.asarray(up, dtype=float)
    if up_hat.shape != (3,) or np.linalg.norm(up_hat) == 0:
        raise InputError("up must be three numbers, not all zero", field="up", value=up)
    up_hat = up_hat / np.linalg.norm(up_hat)
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    if curve is not None:
        ax.plot(np.asarray(curve[0]), np.asarray(curve[1]), "-", color="0.3", lw=1.2,
                label="dispersion")
    for i, (qvec, e0) in enumerate(zip(qv, en, strict=True)):
        qn = float(np.linalg.norm(qvec))
        q_hat = qvec / qn
        perp_hat = np.cross(up_hat, q_hat)
        local = np.array([u @ q_hat, u @ perp_hat, u @ up_hat])
        res = tas.resolution_function(qn, float(e0), method=method,
                                      sample_mosaic_arcmin=sample_mosaic_arcmin)
        pts = resolution_ellipse(res, local, kind)
        xi = float(qvec @ u)
        ax.plot(xi + pts[:, 0], e0 + pts[:, 1], "-", color="C1", lw=1.0,
                label=f"resolution ({kind}, FWHM)" if i == 0 else None)
        ax.plot([xi], [e0], ".", color="C1")
    ax.set_xlabel("Q along the scan direction (Å$^{-1}$)")
    ax.set_ylabel("Energy transfer (meV)")
    ax.set_title(f"{tas.name}: resolution ellipses ({method})")
    ax.legend(frameon=False, fontsize=8)
    return fig, ax
