r"""Triple-axis spectrometers: angles, closure, scans and the Cooper-Nathans resolution.

Angles.  k = sqrt(E / (hbar^2/2m)); monochromator and analyser obey Bragg's law,
A1 = s_M asin(pi / (d_M k_i)), A2 = 2 A1 (likewise A5, A6 with d_A, k_f); the sample
scattering angle closes the triangle Q = k_i - k_f,

.. math::  \cos A_4 = \frac{k_i^2 + k_f^2 - Q^2}{2 k_i k_f},\qquad
           \varphi = \operatorname{atan2}(-k_f \sin A_4,\ k_i - k_f\cos A_4)

with phi the angle from k_i to Q.  Scattering senses s_M, s_S, s_A = +-1 (W configuration:
-1, +1, -1).

Cooper-Nathans resolution (Cooper and Nathans, Acta Cryst. 23, 357 (1967)) in the matrix form
of Popovici (Acta Cryst. A 31, 507 (1975)) as used by ResLib (Zheludev): eight beam divergence
angles with Gaussian collimation weights G, monochromator and analyser mosaic weights F, the
linear maps A (angles -> k_i, k_f), B (k_i, k_f -> Q, E) and C (angles -> crystal tilts):

.. math::  M = \left[B A (G + C^T F C)^{-1} A^T B^T\right]^{-1}

on axes (Q_parallel, Q_perpendicular, Q_vertical, E) in 1/angstrom and meV with the Gaussian
convention R(X) proportional to exp(-X^T M X / 2).  Widths are FWHM converted to sigma with
2 sqrt(2 ln 2) on input.

Popovici resolution (M. Popovici, Acta Cryst. A 31, 507 (1975); matrix form of A. Zheludev's
ResLib 3.4 manual and of its Python port neutronpy).  The source, monochromator, sample,
analyser and detector have finite Gaussian-equivalent sizes (variance width^2/12 of a
rectangular profile, diameter^2/16 of a circular one), collected in the 13 x 13 diagonal
matrix S^-1 of the spatial coordinates
p = (source y, z; monochromator x, y, z; sample x, y, z; analyser x, y, z; detector y, z).
The arms L0..L3 (source-monochromator, monochromator-sample, sample-analyser,
analyser-detector) turn positions into the eight divergence angles, d = D p, and into the four
crystal tilts (horizontal and vertical, monochromator and analyser) that a ray needs, t = T p,
where T includes the curvature radii of the crystals (focusing).  With the mosaic weights F
and the collimation weights G as above,

.. math::  K = S + T^T F T,\qquad H = (D K^{-1} D^T)^{-1},\qquad
           M = \left[B A (H + G)^{-1} A^T B^T\right]^{-1}.

For flat crystals T = C D, and when the sizes grow without bound compared with the arms
(S -> 0) H tends to C^T F C: Popovici goes over into Cooper-Nathans.  (Small sizes do the
opposite: point-like elements fix the ray directions and the ellipsoid shrinks.)  A sample
mosaic eta_s (Werner and Pynn, J. Appl. Phys. 42, 4736 (1971)) adds (Q eta_s)^2 to the
covariance along Q_perp (and Q eta_s,v squared along Q_vert).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, InstrumentError
from ..structure.lattice import Lattice
from ..units import E_PER_K2
from ._yaml import Node
from .base import FWHM_PER_SIGMA, InstrumentBase
from .tas_geometry import TasGeometry

__all__ = ["TripleAxis", "TasAngles", "TasResolution"]

_ARCMIN = np.pi / (180.0 * 60.0)
_METHODS = {"cooper-nathans": "cn", "cooper_nathans": "cn", "cn": "cn", "popovici": "popovici"}


@dataclass(frozen=True)
class TasAngles:
    """Spectrometer angles (degrees) of one (Q, E) point, with k_i, k_f (1/angstrom)."""

    a1: float
    a2: float
    a3: float
    a4: float
    a5: float
    a6: float
    ki: float
    kf: float
    q: float
    energy: float

    def as_dict(self) -> dict:
        return {"A1": self.a1, "A2": self.a2, "A3": self.a3, "A4": self.a4, "A5": self.a5,
                "A6": self.a6, "ki": self.ki, "kf": self.kf, "Q": self.q, "E": self.energy}


@dataclass(frozen=True)
class TasResolution:
    """The triple-axis resolution function R(X) = r0 exp(-X^T M X / 2) at one (Q, E) point.

    ``matrix``: M (4x4) on (Q_par, Q_perp, Q_vert, E) in 1/angstrom and meV; ``r0``: the
    prefactor (Chesser-Axe convention, :meth:`TripleAxis.resolution_function`); ``angles``:
    the spectrometer angles; ``method`` and ``normalisation`` as computed."""

    matrix: np.ndarray
    r0: float
    angles: TasAngles
    method: str
    normalisation: str

    @property
    def covariance(self) -> np.ndarray:
        """M^-1 (the covariance of X)."""
        return np.linalg.inv(self.matrix)

    @property
    def volume(self) -> float:
        """Integral of R over (Q, E): r0 (2 pi)^2 / sqrt(det M) (1/angstrom^3 meV units of r0)."""
        return float(self.r0 * (2 * np.pi) ** 2 / np.sqrt(np.linalg.det(self.matrix)))

    def vanadium_fwhm(self) -> float:
        """FWHM (meV) of the projection on E: the width of an incoherent elastic scan."""
        return float(FWHM_PER_SIGMA * np.sqrt(self.covariance[3, 3]))


class TripleAxis(InstrumentBase):
    """A triple-axis spectrometer with crystal monochromator and analyser.

    Main methods: :meth:`angles`, :meth:`closure`, :meth:`constant_q_scan`,
    :meth:`constant_e_scan`, :meth:`resolution_matrix` (Cooper-Nathans, or Popovici with the
    ``geometry`` block, see :class:`~latdyn.instruments.tas_geometry.TasGeometry`),
    :meth:`resolution_function` (M and the prefactor R0), :meth:`resolution` (energy FWHM,
    meV), :meth:`bragg_widths`.  Intensities of Bragg peaks and phonons:
    :mod:`latdyn.instruments.tas_intensity`.
    """

    kind = "triple_axis"

    def __init__(self, node: Node):
        super().__init__(node)
        mono = node.child("monochromator")
        ana = node.child("analyser")
        self.mono_d = mono.number("d_spacing")
        self.ana_d = ana.number("d_spacing")
        self.mono_mosaic = mono.number("mosaic_arcmin")
        self.ana_mosaic = ana.number("mosaic_arcmin")
        self.mono_vmosaic = mono.number("vertical_mosaic_arcmin", self.mono_mosaic)
        self.ana_vmosaic = ana.number("vertical_mosaic_arcmin", self.ana_mosaic)
        self.mono_reflection = mono.text("reflection", "")
        self.ana_reflection = ana.text("reflection", "")
        senses = node.array("senses", length=3)
        if not np.all(np.isin(senses, (-1.0, 1.0))):
            raise InstrumentError("senses must be +1 or -1 (monochromator, sample, analyser)",
                                  file=self.file, field="senses", value=senses.tolist())
        self.senses = tuple(int(s) for s in senses)
        self.hcol = node.array("collimation_horizontal_arcmin", length=4)
        self.vcol = node.array("collimation_vertical_arcmin", length=4)
        if np.any(self.hcol <= 0) or np.any(self.vcol <= 0):
            raise InstrumentError("collimations must be positive (arcmin FWHM)", file=self.file,
                                  field="collimation_horizontal_arcmin")
        self.fixed = node.text("fixed")
        if self.fixed not in ("ei", "ef"):
            raise InstrumentError("'fixed' must be 'ei' or 'ef'", file=self.file, field="fixed",
                                  value=self.fixed)
        self.fixed_energy = node.number("fixed_energy")
        self.energy_limits = node.array("incident_energy_range", length=2)
        geo = node.child("geometry", None)
        self.geometry = None if geo is None else TasGeometry.from_node(geo)

    # --- kinematics -------------------------------------------------------------------------
    def energies(self, energy: float, fixed_energy: float | None = None) -> tuple[float, float]:
        """(E_i, E_f) in meV for energy transfer ``energy`` (meV)."""
        fixed = self.fixed_energy if fixed_energy is None else float(fixed_energy)
        ei, ef = (fixed, fixed - energy) if self.fixed == "ei" else (fixed + energy, fixed)
        if ei <= 0 or ef <= 0:
            raise InputError("energy transfer gives a non-positive neutron energy",
                             field="energy_transfer", value=energy)
        return ei, ef

    def _bragg(self, d: float, k: float, which: str) -> float:
        s = np.pi / (d * k)
        if s >= 1:
            raise InstrumentError(f"{which} cannot reflect this wavelength (lambda > 2d)",
                                  file=self.file, field=f"{which}.d_spacing", value=d)
        return float(np.arcsin(s))

    def angles(self, q, energy: float, lattice: Lattice | None = None, orient=(1, 0, 0),
               fixed_energy: float | None = None) -> TasAngles:
        """Spectrometer angles for |Q| (or Miller indices with ``lattice``) and E (meV).

        ``q``: |Q| in 1/angstrom, or (h, k, l) when a :class:`latdyn.structure.Lattice` is
        given; ``orient`` is
        the in-plane orienting vector (hkl) from which A3 is counted.  A3 is the angle from
        k_i to the orienting vector, so that Q lies at angle phi from k_i.
        """
        sm, ss, sa = self.senses
        if lattice is not None:
            qv = lattice.q_vectors(q)
            uv = lattice.q_vectors(orient)
            qn = float(np.linalg.norm(qv))
            cosang = np.clip(np.dot(qv, uv) / (qn * np.linalg.norm(uv)), -1, 1) if qn > 0 else 1.0
            psi = float(np.arccos(cosang))  # angle from orienting vector to Q (in plane)
        else:
            qn, psi = float(q), 0.0
        if not np.isfinite(qn) or qn <= 0:
            raise InputError("|Q| must be positive", field="q", value=q)
        ei, ef = self.energies(float(energy), fixed_energy)
        ki, kf = np.sqrt(ei / E_PER_K2), np.sqrt(ef / E_PER_K2)
        cos4 = (ki**2 + kf**2 - qn**2) / (2 * ki * kf)
        if not -1.0 <= cos4 <= 1.0:
            raise InstrumentError("scattering triangle does not close for this (Q, E)",
                                  field="q", value=(qn, float(energy)))
        a4 = ss * float(np.arccos(cos4))
        phi = float(np.arctan2(-kf * np.sin(a4), ki - kf * np.cos(a4)))
        a3 = phi - ss * psi
        a1 = sm * self._bragg(self.mono_d, ki, "monochromator")
        a5 = sa * self._bragg(self.ana_d, kf, "analyser")
        deg = np.rad2deg
        return TasAngles(float(deg(a1)), float(deg(2 * a1)), float(deg(a3)), float(deg(a4)),
                         float(deg(a5)), float(deg(2 * a5)), float(ki), float(kf), qn, float(energy))

    def closure(self, ang: TasAngles, lattice: Lattice | None = None, hkl=None,
                orient=(1, 0, 0)) -> dict[str, float]:
        """Residuals of the scattering triangle rebuilt from the angles alone.

        Returns |Q| residual (1/angstrom), energy residual (meV; E_i - E_f - E), Bragg
        residuals of monochromator and analyser (1/angstrom), and with ``lattice``/``hkl`` the
        vector residual |Q_lab - R(A3) Q_hkl|.
        """
        ki = np.pi / (self.mono_d * np.sin(np.deg2rad(abs(ang.a2) / 2)))
        kf = np.pi / (self.ana_d * np.sin(np.deg2rad(abs(ang.a6) / 2)))
        a4 = np.deg2rad(ang.a4)
        k_i = np.array([ki, 0.0])
        k_f = kf * np.array([np.cos(a4), np.sin(a4)])
        q_lab = k_i - k_f
        out = {"q": abs(np.linalg.norm(q_lab) - ang.q),
               "energy": abs(E_PER_K2 * (ki**2 - kf**2) - ang.energy),
               "ki": abs(ki - ang.ki), "kf": abs(kf - ang.kf)}
        if lattice is not None and hkl is not None:
            # orienting vector at angle A3 from k_i; Q at (+-)psi from it, in the sample sense
            qv, uv = lattice.q_vectors(hkl), lattice.q_vectors(orient)
            psi = np.arccos(np.clip(np.dot(qv, uv) / (np.linalg.norm(qv) * np.linalg.norm(uv)), -1, 1))
            ang_q = np.deg2rad(ang.a3) + self.senses[1] * psi
            q_pred = np.linalg.norm(qv) * np.array([np.cos(ang_q), np.sin(ang_q)])
            out["vector"] = float(np.linalg.norm(q_pred - q_lab))
        return {k: float(v) for k, v in out.items()}

    def constant_q_scan(self, q, energies, lattice: Lattice | None = None,
                        orient=(1, 0, 0)) -> list[TasAngles]:
        """Angles along a constant-Q scan over ``energies`` (meV)."""
        return [self.angles(q, float(e), lattice, orient) for e in np.atleast_1d(energies)]

    def constant_e_scan(self, q_start, q_stop, n: int, energy: float,
                        lattice: Lattice | None = None, orient=(1, 0, 0)) -> list[TasAngles]:
        """Angles along a constant-E scan of ``n`` points from ``q_start`` to ``q_stop``.

        q_start/q_stop are |Q| (1/angstrom) or Miller indices when ``lattice`` is given.
        """
        if int(n) < 1:
            raise InputError("a scan needs at least one point", field="n", value=n)
        qs = np.linspace(np.asarray(q_start, float), np.asarray(q_stop, float), int(n))
        return [self.angles(q, float(energy), lattice, orient) for q in qs]

    # --- Cooper-Nathans and Popovici ----------------------------------------------------------
    def resolution_matrix(self, q: float, energy: float, fixed_energy: float | None = None,
                          method: str = "cooper-nathans",
                          sample_mosaic_arcmin=None) -> np.ndarray:
        """Resolution matrix M (4x4) at |Q| (1/angstrom), E (meV).

        Axes (Q_par, Q_perp, Q_vert, E): 1/angstrom and meV; R ~ exp(-X^T M X / 2).
        ``method``: 'cooper-nathans' (default; Cooper and Nathans, Acta Cryst. 23, 357 (1967))
        or 'popovici' (Popovici, Acta Cryst. A 31, 507 (1975)), which uses the file's
        ``geometry`` (sizes, arms and curvatures in m; typical values where it has none, see
        :class:`~latdyn.instruments.tas_geometry.TasGeometry`).  ``sample_mosaic_arcmin``:
        horizontal (and vertical) FWHM of the sample mosaic, both methods (Werner and Pynn,
        J. Appl. Phys. 42, 4736 (1971)); None takes the file's ``geometry.sample.mosaic_arcmin``
        (0 if absent).
        """
        return self.resolution_function(q, energy, fixed_energy, method, sample_mosaic_arcmin).matrix

    def resolution_prefactor(self, q: float, energy: float, fixed_energy: float | None = None,
                             method: str = "cooper-nathans", normalisation: str = "monitor",
                             sample_mosaic_arcmin=None) -> float:
        """R0 of the resolution function R(X) = R0 exp(-X^T M X / 2) in the Chesser-Axe
        convention (see :meth:`resolution_function`)."""
        return self.resolution_function(q, energy, fixed_energy, method, sample_mosaic_arcmin,
                                        normalisation).r0

    def resolution_function(self, q: float, energy: float, fixed_energy: float | None = None,
                            method: str = "cooper-nathans", sample_mosaic_arcmin=None,
                            normalisation: str = "monitor") -> TasResolution:
        r"""The resolution function R(X) = R0 exp(-X^T M X / 2) at |Q| (1/angstrom), E (meV).

        M: :meth:`resolution_matrix`.  R0 (Popovici 1975, eqs. 5 and 9; Chesser and Axe, Acta
        Cryst. A 29, 160 (1973); ResLib's convention): the Cooper-Nathans or Popovici
        resolution volume

        .. math::  V = \frac{k_i^3 \cot\theta_M\,k_f^3 \cot\theta_A (2\pi)^4}
                   {64 \pi^2 \sin\theta_M \sin\theta_A}\sqrt{\frac{\det F}{\det H}}

        (H = G + C^T F C for Cooper-Nathans, H + G of the Popovici geometry otherwise), with
        ``normalisation="monitor"`` divided by the monitor's acceptance
        :math:`k_i^3\cot\theta_M (2\pi)^2/(8\pi\sin\theta_M)\sqrt{\det f/\det(g + c^T f c)}`
        (first two collimators and the monochromator mosaic; Popovici: with the monitor's size
        and distance) times k_i (a 1/k_i monitor efficiency), or ``"source"`` left as it is;
        then turned into the peak value of the Gaussian, R0 = V sqrt(det M) / (2 pi)^2
        (Chesser-Axe), and multiplied by the k_f/k_i of the cross-section.  The integral of R
        over (Q, E) is therefore V k_f/k_i.  A sample mosaic spreads R along Q_perp and Q_vert
        and keeps its integral, so R0 falls by sqrt(det M_mosaic / det M) (this equals ResLib's
        factor for equal horizontal and vertical mosaics; ResLib pairs the horizontal mosaic
        with M_vert,vert and the vertical one with M_perp,perp when they differ).
        """
        kind = _METHODS.get(str(method).lower())
        if kind is None:
            raise InputError("unknown resolution method (use 'cooper-nathans' or 'popovici')",
                             field="method", value=method)
        if normalisation not in ("monitor", "source"):
            raise InputError("normalisation must be 'monitor' or 'source'", field="normalisation",
                             value=normalisation)
        geo = self.popovici_geometry
        eta_s = self._sample_mosaic(sample_mosaic_arcmin)
        ang = self.angles(float(q), float(energy), fixed_energy=fixed_energy)
        ki, kf = ang.ki, ang.kf
        thm = np.deg2rad(ang.a1)
        tha = np.deg2rad(ang.a5)
        s2t = np.deg2rad(ang.a4)
        phi = np.arctan2(-kf * np.sin(s2t), ki - kf * np.cos(s2t))
        to_sigma = _ARCMIN / FWHM_PER_SIGMA
        alpha = self.hcol * to_sigma
        beta = self.vcol * to_sigma
        g = np.diag(1.0 / np.array([alpha[0], alpha[1], beta[0], beta[1],
                                    alpha[2], alpha[3], beta[2], beta[3]]) ** 2)
        eta = np.array([self.mono_mosaic, self.mono_vmosaic, self.ana_mosaic, self.ana_vmosaic])
        f = np.diag(1.0 / (eta * to_sigma) ** 2)
        a = np.zeros((6, 8))
        a[0, 0] = ki / 2 / np.tan(thm)
        a[0, 1] = -a[0, 0]
        a[1, 1] = ki
        a[2, 3] = ki
        a[3, 4] = kf / 2 / np.tan(tha)
        a[3, 5] = -a[3, 4]
        a[4, 4] = kf
        a[5, 6] = kf
        b = np.zeros((4, 6))
        b[0, 0] = np.cos(phi)
        b[0, 1] = np.sin(phi)
        b[0, 3] = -np.cos(phi - s2t)
        b[0, 4] = -np.sin(phi - s2t)
        b[1, 0] = -np.sin(phi)
        b[1, 1] = np.cos(phi)
        b[1, 3] = np.sin(phi - s2t)
        b[1, 4] = -np.cos(phi - s2t)
        b[2, 2] = 1.0
        b[2, 5] = -1.0
        b[3, 0] = 2 * E_PER_K2 * ki
        b[3, 3] = -2 * E_PER_K2 * kf
        c = np.zeros((4, 8))
        c[0, 0] = c[0, 1] = 0.5
        c[2, 4] = c[2, 5] = 0.5
        c[1, 2] = 1 / (2 * np.sin(thm))
        c[1, 3] = -c[1, 2]
        c[3, 6] = 1 / (2 * np.sin(tha))
        c[3, 7] = -c[3, 6]
        if kind == "cn":
            h_tot = g + c.T @ f @ c
        else:
            h_tot = self._popovici_h(geo, thm, tha, s2t / 2, phi, f) + g
        cov = b @ a @ np.linalg.inv(h_tot) @ a.T @ b.T
        m0 = np.linalg.inv(cov)
        rm = ki**3 / np.tan(thm)
        ra = kf**3 / np.tan(tha)
        volume = rm * ra * (2 * np.pi) ** 4 / (64 * np.pi**2 * np.sin(thm) * np.sin(tha)) \
            * np.sqrt(np.linalg.det(f) / np.linalg.det(h_tot))
        if normalisation == "monitor":
            g_m, f_m, c_m = g[:4, :4], f[:2, :2], c[:2, :4]
            if kind == "cn":
                h_m = g_m + c_m.T @ f_m @ c_m
            else:
                h_m = self._popovici_monitor_h(geo, thm, f_m) + g_m
            r_mon = rm * (2 * np.pi) ** 2 / (8 * np.pi * np.sin(thm)) \
                * np.sqrt(np.linalg.det(f_m) / np.linalg.det(h_m))
            volume = volume / r_mon * ki
        r0 = volume * np.sqrt(np.linalg.det(m0)) / (2 * np.pi) ** 2 * kf / ki
        cov[1, 1] += (ang.q * eta_s[0] * to_sigma) ** 2
        cov[2, 2] += (ang.q * eta_s[1] * to_sigma) ** 2
        m = np.linalg.inv(cov)
        r0 = r0 * np.sqrt(np.linalg.det(m) / np.linalg.det(m0))
        return TasResolution(m, float(abs(r0)), ang, "cooper-nathans" if kind == "cn" else "popovici",
                             normalisation)

    @property
    def popovici_geometry(self) -> TasGeometry:
        """The geometry used by the Popovici method: the file's ``geometry`` block, typical
        values where it gives none (:attr:`TasGeometry.defaulted` names them)."""
        return self.geometry if self.geometry is not None else TasGeometry.typical()

    def _sample_mosaic(self, sample_mosaic_arcmin) -> np.ndarray:
        """(horizontal, vertical) sample mosaic FWHM (arcmin): the argument (a number or two) or
        the file's geometry.sample mosaic."""
        if sample_mosaic_arcmin is None:
            return np.asarray(self.popovici_geometry.sample_mosaic_arcmin if self.geometry
                              is not None else (0.0, 0.0), dtype=float)
        eta = np.atleast_1d(np.asarray(sample_mosaic_arcmin, dtype=float))
        if eta.size == 1:
            eta = np.repeat(eta, 2)
        if eta.size != 2 or not np.all(np.isfinite(eta)) or np.any(eta < 0):
            raise InputError("sample mosaic must be one or two non-negative FWHM (arcmin)",
                             field="sample_mosaic_arcmin", value=sample_mosaic_arcmin)
        return eta

    def _popovici_h(self, geo: TasGeometry, thm: float, tha: float, ths: float, phi: float,
                    f: np.ndarray) -> np.ndarray:
        """H = (D K^-1 D^T)^-1, K = S + T^T F T: the weight (1/rad^2) that the finite sizes put on
        the eight divergences (alpha0, alpha1, beta0, beta1, alpha2, alpha3, beta2, beta3).

        Angles in rad, signed with the scattering senses (monochromator thm, analyser tha, half
        sample angle ths); phi is the angle from k_i to Q.  Popovici (1975) in the matrix form (and
        with the index corrections) of the ResLib 3.4 manual.
        """
        l0, l1, l2, l3 = geo.arms
        sm, _, sa = self.senses
        # curvature signs follow the scattering senses, like the signed Bragg angles
        inv_r = geo.inverse_radii_at(abs(thm), abs(tha))
        rmh, rmv, rah, rav = (inv_r[0] * sm, inv_r[1] * sm, inv_r[2] * sa, inv_r[3] * sa)
        cm_, sm_ = np.cos(thm), np.sin(thm)
        cs_, ss_ = np.cos(ths), np.sin(ths)
        ca_, sa_ = np.cos(tha), np.sin(tha)
        # spatial coordinates: 0-1 source (y, z); 2-4 monochromator (x, y, z); 5-7 sample (x, y,
        # z); 8-10 analyser (x, y, z); 11-12 detector (y, z)
        d = np.zeros((8, 13))
        d[0, [0, 2, 3]] = (-1 / l0, -cm_ / l0, sm_ / l0)                     # alpha0
        d[1, [2, 3, 5, 6]] = (cm_ / l1, sm_ / l1, ss_ / l1, cs_ / l1)          # alpha1
        d[2, [1, 4]] = (-1 / l0, 1 / l0)                                       # beta0
        d[3, [4, 7]] = (-1 / l1, 1 / l1)                                       # beta1
        d[4, [5, 6, 8, 9]] = (ss_ / l2, -cs_ / l2, -ca_ / l2, sa_ / l2)        # alpha2
        d[5, [8, 9, 11]] = (ca_ / l3, sa_ / l3, 1 / l3)                        # alpha3
        d[6, [7, 10]] = (-1 / l2, 1 / l2)                                      # beta2
        d[7, [10, 12]] = (-1 / l3, 1 / l3)                                     # beta3
        t = np.zeros((4, 13))
        # monochromator horizontal and vertical tilt needed by the ray
        t[0, [0, 2, 3, 5, 6]] = (-1 / (2 * l0), cm_ * (1 / l1 - 1 / l0) / 2,
                                 sm_ * (1 / l0 + 1 / l1 - 2 * rmh / sm_) / 2,
                                 ss_ / (2 * l1), cs_ / (2 * l1))
        t[1, [1, 4, 7]] = (-1 / (2 * l0 * sm_), (1 / l0 + 1 / l1 - 2 * sm_ * rmv) / (2 * sm_),
                           -1 / (2 * l1 * sm_))
        # analyser horizontal and vertical tilt
        t[2, [5, 6, 8, 9, 11]] = (ss_ / (2 * l2), -cs_ / (2 * l2), ca_ * (1 / l3 - 1 / l2) / 2,
                                  sa_ * (1 / l2 + 1 / l3 - 2 * rah / sa_) / 2, 1 / (2 * l3))
        t[3, [7, 10, 12]] = (-1 / (2 * l2 * sa_), (1 / l2 + 1 / l3 - 2 * sa_ * rav) / (2 * sa_),
                             -1 / (2 * l3 * sa_))
        # sample sizes are given along Q / perpendicular to Q; Popovici's sample x axis bisects
        # k_i and k_f (angle ths from k_i), Q lies at phi from k_i: rotate by psi = ths - phi
        var = np.array(geo.variances)
        psi = ths - phi
        rot = np.array([[np.cos(psi), np.sin(psi)], [-np.sin(psi), np.cos(psi)]])
        s_inv = np.diag(var)
        s_inv[5:7, 5:7] = rot @ np.diag(var[5:7]) @ rot.T
        k = np.linalg.inv(s_inv) + t.T @ f @ t
        return np.linalg.inv(d @ np.linalg.solve(k, d.T))

    def _popovici_monitor_h(self, geo: TasGeometry, thm: float, f_m: np.ndarray) -> np.ndarray:
        """The Popovici weight on the first four divergences (alpha0, alpha1, beta0, beta1) of
        the beam that reaches the monitor (width, height, distance L1m from the monochromator):
        the :meth:`_popovici_h` construction on source, monochromator and monitor only
        (Popovici 1975; ResLib's monitor normalisation with the monitor's horizontal coordinate
        in the horizontal divergence and its vertical one in the vertical divergence)."""
        l0 = geo.arms[0]
        var_w, var_h, l1 = geo.monitor
        sm = self.senses[0]
        inv_r = geo.inverse_radii_at(abs(thm), np.pi / 4)
        rmh, rmv = inv_r[0] * sm, inv_r[1] * sm
        cm_, sm_ = np.cos(thm), np.sin(thm)
        # coordinates: 0-1 source (y, z); 2-4 monochromator (x, y, z); 5-6 monitor (y, z)
        d = np.zeros((4, 7))
        d[0, [0, 2, 3]] = (-1 / l0, -cm_ / l0, sm_ / l0)
        d[1, [2, 3, 5]] = (cm_ / l1, sm_ / l1, 1 / l1)
        d[2, [1, 4]] = (-1 / l0, 1 / l0)
        d[3, [4, 6]] = (-1 / l1, 1 / l1)
        t = np.zeros((2, 7))
        t[0, [0, 2, 3, 5]] = (-1 / (2 * l0), cm_ * (1 / l1 - 1 / l0) / 2,
                              sm_ * (1 / l0 + 1 / l1 - 2 * rmh / sm_) / 2, 1 / (2 * l1))
        t[1, [1, 4, 6]] = (-1 / (2 * l0 * sm_), (1 / l0 + 1 / l1 - 2 * sm_ * rmv) / (2 * sm_),
                           -1 / (2 * l1 * sm_))
        v = geo.variances
        s_inv = np.diag([v[0], v[1], v[2], v[3], v[4], var_w, var_h])
        k = np.linalg.inv(s_inv) + t.T @ f_m @ t
        return np.linalg.inv(d @ np.linalg.solve(k, d.T))

    def bragg_widths(self, q: float, energy: float, method: str = "cooper-nathans",
                     sample_mosaic_arcmin=None) -> dict[str, float]:
        """FWHM of the resolution ellipsoid: Bragg widths along Q_par, Q_perp, Q_vert
        (1/angstrom, section through the others) and the energy width of the projection
        (vanadium width, meV) and of the section at fixed Q (meV).  ``method`` and
        ``sample_mosaic_arcmin`` as in :meth:`resolution_matrix`."""
        m = self.resolution_matrix(q, energy, method=method, sample_mosaic_arcmin=sample_mosaic_arcmin)
        cov = np.linalg.inv(m)
        k = FWHM_PER_SIGMA
        return {"Q_par": k / np.sqrt(m[0, 0]), "Q_perp": k / np.sqrt(m[1, 1]),
                "Q_vert": k / np.sqrt(m[2, 2]), "E_projection": k * np.sqrt(cov[3, 3]),
                "E_section": k / np.sqrt(m[3, 3])}

    def resolution(self, energy_transfer, q: float, fixed_energy: float | None = None,
                   method: str = "cooper-nathans", sample_mosaic_arcmin=None) -> np.ndarray:
        """Energy FWHM (meV) of the resolution projected on E (incoherent/vanadium width)
        at |Q| ``q`` (1/angstrom) for each energy transfer (meV); ``method`` and
        ``sample_mosaic_arcmin`` as in :meth:`resolution_matrix`."""
        e = np.atleast_1d(np.asarray(energy_transfer, dtype=float))
        out = np.array([self.resolution_function(q, x, fixed_energy, method,
                                                 sample_mosaic_arcmin).vanadium_fwhm() for x in e])
        return out if np.ndim(energy_transfer) else float(out[0])

    def summary(self) -> dict:
        geo = self.popovici_geometry
        typical = ", ".join(geo.defaulted) if geo.defaulted else "none"
        return {**super().summary(), "monochromator": self.mono_reflection,
                "analyser": self.ana_reflection, "fixed": f"{self.fixed} = {self.fixed_energy:g} meV",
                "collimation (')": "-".join(f"{x:g}" for x in self.hcol),
                "Popovici geometry: typical values for": typical}
