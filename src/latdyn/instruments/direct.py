r"""Direct-geometry time-of-flight spectrometers: energy resolution, flux trend, coverage.

Resolution by the standard linear time-of-flight propagation (Windsor, *Pulsed Neutron
Scattering*, 1981; the treatment of Mantid's PyChop and of Tobyfit).  A neutron is labelled by
its emission-time offset tau and inverse-speed offset w = delta(1/v_i).  The moderator pulse
gives tau a Gaussian prior of variance sigma_m^2; each resolution chopper at distance d_j from
the moderator transmits it only if tau + d_j w lies inside its opening, a Gaussian window of
variance sigma_j^2.  The covariance of (tau, w) is the inverse of

.. math::  P = \mathrm{diag}(\sigma_m^{-2}, 0) + \sum_j \sigma_j^{-2}\,(1, d_j)^T (1, d_j).

The reduction assumes tau = w = 0, so the measured energy transfer E = E_i - E_f is off by

.. math::  \delta E = \frac{2E_f v_f}{x_2}\,\tau + \Big(\frac{2E_f v_f L_1}{x_2} + 2E_i v_i\Big) w
           + \frac{2E_f}{x_2}\,\delta x_2 ,

(L_1 moderator-sample, x_2 sample-detector, delta x_2 the spread of the absorption point in the
detector: d^2/16 for a tube of diameter d in the weak-absorption limit, the 3He absorption
profile of :mod:`latdyn.instruments.detector` when the file gives the filling pressure, or a
published flight-path FWHM ``detector.path_fwhm`` that lumps sample size and detector depth).

Divergence through a Fermi chopper (the "aperture" term of Windsor and of Perring's CHOP): a
neutron crossing the aperture (width W_a, a distance x_a before the chopper) at y_a and the
sample (width W_s) at y_s flies at alpha = (y_s - y_a)/(x_a + x_1) to the axis; the rotating
slits pass it alpha/omega later, and on a moderator whose face normal makes theta with the beam
it starts y_m tan(theta)/v earlier (y_m its position on the face).  Two more coordinates
(y_a, y_s), uniform across the widths (Gaussians of variance W^2/12), join (tau, w): the
moderator row becomes (1, 0, tan(theta)/v dy_m/dy), the chopper row (1, d, -(1/omega)
dalpha/dy), and the covariance of (tau, w) is the corresponding block of the inverse.  The
term grows as 1/omega and matters for wide packages at low frequency (MARI A at 100 Hz: about
a third of the elastic width).
For one chopper at x_0 this reduces to Windsor's
:math:`\sigma_E^2 = (m/x_0)^2[(v_i^3 + v_f^3 x_1/x_2)^2\sigma_m^2
+ (v_i^3 + v_f^3(x_0+x_1)/x_2)^2\sigma_c^2]`.
The FWHM is 2 sqrt(2 ln 2) sigma_E.

|Q| resolution of a powder measurement (:meth:`DirectGeometry.q_resolution`), by the same
linear propagation (Windsor 1981, ch. 7).  The reduction computes
|Q|^2 = k_i^2 + k_f^2 - 2 k_i k_f cos 2theta from the nominal k_i, the k_f inferred from the
time of flight t_det = t_sample + x_2 / v_f (with t_sample = L_1 / v_i, emission at 0) and the
pixel angle.  With errors taken as nominal minus true and k = m_n v / hbar,

.. math::  \delta k_i = k_i v_i\,w ,\qquad
           \delta k_f = -\frac{k_f v_f}{x_2}(\tau + L_1 w) - \frac{k_f}{x_2}\,\delta x_2 ,

which reproduce the energy error above through
delta E = (hbar^2/m_n)(k_i delta k_i - k_f delta k_f).  To first order

.. math::  \delta|Q| = c_i\,\delta k_i + c_f\,\delta k_f + c_\phi\,\delta(2\theta),\quad
           c_i = \frac{k_i - k_f\cos2\theta}{Q},\ c_f = \frac{k_f - k_i\cos2\theta}{Q},\
           c_\phi = \frac{k_i k_f \sin2\theta}{Q},

so, with b = (-c_f k_f v_f / x_2, c_i k_i v_i - c_f k_f v_f L_1 / x_2) acting on (tau, w)
(covariance Sigma: the k_i and k_f errors stay correlated),

.. math::  \sigma_Q^2 = b^T \Sigma\, b + \Big(\frac{c_f k_f}{x_2}\Big)^2 \mathrm{var}(\delta x_2)
           + c_\phi^2 \sigma_{2\theta}^2,\qquad
           \sigma_{2\theta}^2 = \frac{d^2 + W_s^2}{12 L_2^2} + \Big(\frac{\Delta\alpha}{2.3548}\Big)^2 ,

d the tube diameter (or ``detector.depth``) across the scattering plane, W_s the sample width
(both uniform across their widths), Delta alpha the FWHM of the incident divergence (rad).
The angle and path errors are taken independent of each other and of (tau, w).

Flux (:meth:`DirectGeometry.relative_flux`, :meth:`DirectGeometry.flux_at_sample`): neutrons of
a smooth spectrum phi_lambda (time-averaged, per angstrom) reach the sample through the chopper
windows T_j (unit peak; Gaussians of the variances above, scaled to the true window areas
a_j: Delta T(gamma) for a Fermi chopper, max(w, b)/u for a disk) at the rate

.. math::  \Phi = \phi_\lambda\,\frac{h}{m_n}\int\!\!\int p(\tau)\prod_j T_j(\tau + d_j w)
           \,d\tau\,dw = \phi_\lambda\,\frac{h}{m_n}\,\frac{\sqrt{2\pi}}{\sigma_m\sqrt{\det P}}
           \prod_j \frac{a_j}{\sqrt{2\pi}\sigma_j}

for a pulsed source (p the normalised pulse, so the band does not depend on the pulse length:
one chopper passes Delta lambda = a / (alpha d), alpha = m_n/h); a continuous source gives
2 pi / sqrt(det P) per opening times the openings per second of the first chopper.  Absolute
values come from published fluxes (:mod:`latdyn.instruments.flux`).

Repetition-rate multiplication (:meth:`DirectGeometry.multi_ei`): with the chopper phases set
for one Ei, a neutron of inverse speed u = 1/v emitted at time e passes chopper j (distance d_j,
period T_j, half opening h_j) if |e + d_j u - d_j u_ref - n_j T_j| <= h_j for some integer n_j;
the emission time e lies within the moderator pulse (any e for a continuous source).  Every u
for which one e satisfies all choppers is transmitted in the same source frame.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import constants as C

from ..errors import InputError, InstrumentError
from ..kinematics import Coverage, cos_two_theta, coverage_direct
from ..units import E_PER_K2, energy_to_velocity, wavelength_to_energy
from ._yaml import Node
from .base import FWHM_PER_SIGMA, InstrumentBase, Moderator
from .calculator import CALCULATOR_TERMS, SAMPLE_SHAPES, CalculatorFlux, calculator_flux, calculator_fwhm
from .choppers import DiskChopper, FermiChopper
from .detector import PathSpread, TubeDetector
from .flux import FluxPoint, interpolate_log, read_flux_points
from .monochromator import CrystalMonochromator
from .solid_angle import DetectorCoverage

__all__ = ["DirectGeometry", "Frequency", "CONVENTIONS", "DEFAULT_CONVENTION"]

#: Width conventions of :meth:`DirectGeometry.resolution`: the facility calculator's
#: (CHOP/MulpyRep as in PyChop) and the second moment of the propagated distribution.
CONVENTIONS = ("pychop", "second_moment")
#: The default: the facility calculator's number, which is what users plan with and what the
#: facilities publish (docs/instruments.md, "Which width").
DEFAULT_CONVENTION = "pychop"

#: A chopper frequency setting: None (the file's default), one number (Hz, the resolution
#: frequency that every chopper follows with its ``frequency_ratio``) or a mapping
#: chopper name -> Hz.
Frequency = float | Mapping[str, float] | None


class DirectGeometry(InstrumentBase):
    """A direct-geometry chopper spectrometer read from an instrument file.

    Main methods: :meth:`resolution` (FWHM in meV at each energy transfer),
    :meth:`resolution_sigma`, :meth:`elastic_resolution`, :meth:`q_resolution` (FWHM in |Q|
    of a powder measurement), :meth:`q_broadening`, :meth:`coverage`,
    :meth:`relative_flux`, :meth:`flux_at_sample`, :meth:`solid_angle`,
    :meth:`detector_efficiency`, :meth:`time_widths`.
    """

    kind = "direct"

    def __init__(self, node: Node):
        super().__init__(node)
        dist = node.child("distances")
        self.moderator_sample = dist.number("moderator_sample")
        self.sample_detector = dist.number("sample_detector")
        det = node.child("detector")
        self.two_theta_min = det.number("two_theta_min", allow_zero=True)
        self.two_theta_max = det.number("two_theta_max")
        diameter = det.number("diameter", None, allow_zero=True)
        self.detector_depth = diameter if diameter is not None else \
            det.number("depth", 0.0, allow_zero=True)
        path_fwhm = det.number("path_fwhm", None, allow_zero=True)
        if path_fwhm is not None:
            self.detector = PathSpread(path_fwhm)
        else:
            wall = det.number("wall_fraction", 0.0, allow_zero=True)
            if wall >= 1.0:
                raise InstrumentError("wall_fraction must lie in [0, 1)", file=node.file,
                                      field="detector.wall_fraction", value=wall)
            self.detector = TubeDetector(self.detector_depth, det.number("pressure_atm", None),
                                         det.number("temperature", 293.15), wall)
        self.reference_angle_deg = det.number("reference_angle_deg", 0.0, allow_zero=True)
        calc = node.child("calculator", None)
        self.calculator_leaves_out = set() if calc is None else set(calc.strings("leaves_out", []))
        unknown = self.calculator_leaves_out - set(CALCULATOR_TERMS)
        if unknown:
            raise InstrumentError(f"calculator.leaves_out names terms of {CALCULATOR_TERMS}",
                                  file=node.file, field="calculator.leaves_out", value=sorted(unknown))
        self.banks = DetectorCoverage.from_node(det, "banks", self.sample_detector)
        self.flux_points, self.flux_missing = read_flux_points(node)
        flux_node = node.child("flux", None)
        calc_flux = None if flux_node is None else flux_node.child("calculator", None)
        self.calculator_flux = None if calc_flux is None else CalculatorFlux.from_node(calc_flux)
        factors = None if flux_node is None else flux_node.child("mode_factor", None)
        self.flux_mode_factor = {} if factors is None else {k: factors.number(k) for k in factors.data}
        self.ei_min, self.ei_max = node.array("ei_range", length=2)
        self.moderator = Moderator.from_node(node.child("moderator"))
        mono = node.child("monochromator", None)
        self.monochromator = None if mono is None else CrystalMonochromator.from_node(mono)
        if self.monochromator is not None and not self.moderator.continuous:
            raise InstrumentError("a crystal monochromator is modelled on a continuous source only",
                                  file=node.file, field="monochromator")
        self.sample_width_mm = node.number("sample_width_mm", None)
        self.sample_shape = node.text("sample_shape", "plate")
        if self.sample_shape not in SAMPLE_SHAPES:
            raise InstrumentError(f"sample_shape must be one of {sorted(SAMPLE_SHAPES)}",
                                  file=node.file, field="sample_shape", value=self.sample_shape)
        self.source_frequency = node.child("moderator").number("repetition_rate", None)
        self.default_frequency = node.number("default_frequency")
        self.modes = [str(m) for m in node.raw("modes", [])]
        self.default_mode = node.text("default_mode", self.modes[0] if self.modes else None)
        self._chopper_nodes = node.children("choppers")
        self.packages: list[str] = []
        self.default_package: str | None = None
        for c in self._chopper_nodes:
            kind = c.text("type")
            if kind not in ("fermi", "disk"):
                raise InstrumentError("chopper type must be 'fermi' or 'disk'", file=node.file,
                                      field=c.path + ".type", value=kind)
            d = c.number("distance", allow_zero=True)
            if d >= self.moderator_sample:
                raise InstrumentError("chopper must sit between moderator and sample",
                                      file=node.file, field=c.path + ".distance", value=d)
            if kind == "fermi":
                pk = c.child("packages")
                self.packages = list(pk.data)
                self.default_package = c.text("default_package", self.packages[0])
        # validate every chopper in every mode/package once, so a bad file fails on load
        for mode in self.modes or [None]:
            for package in self.packages or [None]:
                self.choppers(mode=mode, package=package)
        for i, p in enumerate(self.flux_points):
            if p.package is not None and p.package not in self.packages:
                raise InstrumentError(f"unknown Fermi package; choose one of {self.packages}",
                                      file=self.file, field=f"flux.points[{i}].package", value=p.package)
            if p.mode is not None and p.mode not in self.modes:
                raise InstrumentError(f"unknown mode; choose one of {self.modes}", file=self.file,
                                      field=f"flux.points[{i}].mode", value=p.mode)

    # --- settings ---------------------------------------------------------------------------
    def choppers(self, mode: str | None = None, package: str | None = None,
                 every: bool = False) -> list:
        """The resolution-defining choppers (all of the file's choppers with ``every``) for a
        mode (disk slot set) and Fermi package."""
        mode = self.default_mode if mode is None else mode
        if self.modes and mode not in self.modes:
            raise InstrumentError(f"unknown mode; choose one of {self.modes}", file=self.file,
                                  field="mode", value=mode)
        package = self.default_package if package is None else package
        out = []
        for c in self._chopper_nodes:
            if not (every or bool(c.raw("shapes_resolution", True))):
                continue
            name = c.text("name")
            if c.text("type") == "fermi":
                pk = c.child("packages")
                if package not in pk.data:
                    raise InstrumentError(f"unknown Fermi package; choose one of {self.packages}",
                                          file=self.file, field="package", value=package)
                p = pk.child(package)
                ap_d, ap_w = c.number("aperture_distance", None), c.number("aperture_width_mm", None)
                if ap_w is not None and ap_d is None:
                    raise InstrumentError("a Fermi chopper's aperture width needs its "
                                          "aperture_distance", file=self.file,
                                          field=c.path + ".aperture_distance")
                out.append(FermiChopper(name, c.number("distance", allow_zero=True),
                                        p.number("slit_width_mm"), p.number("radius_mm"),
                                        p.number("curvature_mm"), c.number("max_frequency"),
                                        package, ap_d, ap_w, p.number("slat_width_mm", None)))
            else:
                by_angle = c.has("slot_angle_deg")
                positions = c.array("slot_angles_deg", None)
                slots = c.number("slots", 1.0 if positions is None else float(positions.size))
                if slots != int(slots) or (positions is not None and positions.size != slots):
                    raise InstrumentError("slots must be a whole number (the length of "
                                          "slot_angles_deg when given)", file=self.file,
                                          field=c.path + ".slots", value=slots)
                phase_slot = int(c.number("phase_slot", 0.0, allow_zero=True))
                if phase_slot >= slots:
                    raise InstrumentError("phase_slot must index a slot", file=self.file,
                                          field=c.path + ".phase_slot", value=phase_slot)
                out.append(DiskChopper(
                    name, c.number("distance", allow_zero=True),
                    None if by_angle else _per_mode(c, "slot_width_mm", mode),
                    c.number("radius_mm", None if by_angle else ...), bool(c.raw("double", False)),
                    c.number("max_frequency"), c.number("guide_width_mm", None),
                    _per_mode(c, "frequency_ratio", mode, 1.0),
                    _per_mode(c, "slot_angle_deg", mode) if by_angle else None, int(slots),
                    _per_mode(c, "fixed_frequency", mode, None, optional=True),
                    None if positions is None else tuple(positions), phase_slot,
                    c.number("phase_us", None, allow_zero=True)))
        return out

    def _frequency(self, chopper, frequency) -> float:
        """Frequency (Hz) of one chopper: a mapping chopper name -> Hz sets choppers one by
        one (the others run at the default frequency times their ratio); a number sets the
        resolution frequency that every chopper follows with its ``frequency_ratio`` (choppers
        with a ``fixed_frequency`` keep it)."""
        if isinstance(frequency, Mapping):
            unknown = set(frequency) - {c.text("name") for c in self._chopper_nodes}
            if unknown:
                raise InstrumentError("frequency given for an unknown chopper", file=self.file,
                                      field="frequency", value=sorted(unknown)[0])
            if chopper.name in frequency:
                return _positive_frequency(frequency[chopper.name], self.file)
            frequency = None
        fixed = getattr(chopper, "fixed_frequency", None)
        if fixed is not None:
            return fixed
        f = self.default_frequency if frequency is None else _positive_frequency(frequency, self.file)
        return f * getattr(chopper, "frequency_ratio", 1.0)

    def frequency_for(self, ei: float, mode: str | None = None, package: str | None = None) -> float:
        """The resolution frequency (Hz) used when none is given at incident energy ``ei`` (meV).

        With a time-focusing crystal monochromator: the Fermi frequency that focuses on the
        elastic line (:mod:`latdyn.instruments.monochromator`).  Otherwise the file's
        ``default_frequency`` when every Fermi chopper passes at least half of its
        best transmission at this Ei there (disk choppers pass every speed); otherwise, of the
        frequencies at which they do, the one closest to the default in ratio.  Candidates are
        the multiples of the source repetition rate up to the chopper maximum (on a pulsed source
        the choppers are phased to the pulses; 10 Hz steps for a continuous source or a file
        without ``moderator.repetition_rate``).  InstrumentError naming ``ei`` when no frequency
        transmits: the package cannot deliver this Ei.
        """
        ei = self.check_ei(ei)
        fermi = [c for c in self.choppers(mode, package) if isinstance(c, FermiChopper)
                 and getattr(c, "fixed_frequency", None) is None]
        if self.monochromator is not None and self.monochromator.time_focusing and fermi:
            chopper_sample = self.moderator_sample - fermi[-1].distance_m
            f = self.monochromator.focusing_frequency(ei, chopper_sample, self.sample_detector,
                                                      file=self.file)
            return float(min(f, fermi[-1].max_frequency))
        if not fermi:
            return self.default_frequency
        cache = self.__dict__.setdefault("_frequency_for", {})
        key = (ei, mode, package)
        if key in cache:
            return cache[key]
        step = self.source_frequency or 10.0
        f_max = min(c.max_frequency / getattr(c, "frequency_ratio", 1.0) for c in fermi)
        grid = np.arange(1, int(f_max // step) + 1) * step
        grid = np.union1d(grid, [self.default_frequency])

        def transmission(f):
            return float(np.prod([c.transmission(ei, self._frequency(c, float(f))) for c in fermi]))

        trans = np.array([transmission(f) for f in grid])
        if trans.max() <= 0:
            raise InstrumentError(f"{self.name}: the Fermi package transmits no neutrons at this Ei at "
                                  "any frequency; choose another package", file=self.file,
                                  field="ei", value=ei)
        good = grid[trans >= 0.5 * trans.max()]
        best = good[np.argmin(np.abs(np.log(good / self.default_frequency)))]
        cache[key] = float(best)
        return float(best)

    def _setting_frequency(self, ei: float, frequency, mode, package):
        """``frequency`` as given, or :meth:`frequency_for` when None."""
        return self.frequency_for(ei, mode, package) if frequency is None else frequency

    @property
    def default_ei(self) -> float:
        """A representative incident energy (meV) at which the library's default settings
        (default frequency, package or mode) transmit: the middle wavelength a monochromator
        offers, else the geometric mean of the Ei range, sqrt(Ei_min Ei_max), rounded to 3
        significant digits (MAPS 14.1, MARI 83.7, LET 3.87 meV)."""
        if self.monochromator is not None and self.monochromator.wavelengths:
            lams = sorted(float(w) for w in self.monochromator.wavelengths)
            return float(wavelength_to_energy(lams[len(lams) // 2]))
        ei = float(np.sqrt(max(self.ei_min, 1e-3) * self.ei_max))
        return float(f"{ei:.3g}")

    def check_ei(self, ei: float) -> float:
        """Validate an incident energy (meV) against the instrument's range."""
        try:
            ei = float(ei)
        except (TypeError, ValueError) as exc:
            raise InputError("Ei must be a number", field="ei", value=ei) from exc
        if not np.isfinite(ei) or not (self.ei_min <= ei <= self.ei_max):
            raise InstrumentError(
                f"{self.name} cannot deliver this Ei; its range is {self.ei_min:g}-{self.ei_max:g} meV",
                file=self.file, field="ei", value=ei)
        if self.monochromator is not None:
            self.monochromator.check_wavelength(ei, self.file)
        return ei

    # --- resolution -------------------------------------------------------------------------
    def _precision(self, ei: float, frequency, mode, package) -> tuple[np.ndarray, float, float]:
        """Precision matrix P of (tau, w), the moderator sigma (s; inf for a continuous
        source) and the product of the window peak factors a_j / (sqrt(2 pi) sigma_j) divided
        by the widths (m, sigma) of the divergence coordinates integrated out."""
        sig_m = self.moderator.pulse_fwhm_us(ei) * 1e-6 / FWHM_PER_SIGMA
        chops = self.choppers(mode, package)
        rows = self._divergence_rows(ei, chops, frequency)
        n = 2 + len(rows["prior"])
        p = np.zeros((n, n))
        for i, var in enumerate(rows["prior"]):
            p[2 + i, 2 + i] = 1.0 / var
        if not np.isinf(sig_m):
            a = np.concatenate([[1.0, 0.0], rows["moderator"]])
            p += np.outer(a, a) / sig_m**2
        peak = 1.0 / np.sqrt(np.prod(rows["prior"]))
        if self.monochromator is not None:
            # the reflected band: a unit-peak Gaussian window on w (peak factor 1)
            p[1, 1] += 1.0 / self.monochromator.sigma_w(ei) ** 2
        for ch in chops:
            f = self._frequency(ch, frequency)
            var = float(ch.variance_s2(ei, f))
            kappa = self.monochromator.coupling_s(ei, f, self.file) \
                if self.monochromator is not None and isinstance(ch, FermiChopper) else 0.0
            a = np.concatenate([[1.0, ch.distance_m - kappa], rows.get(ch.label, np.zeros(n - 2))])
            p += np.outer(a, a) / var
            peak *= float(ch.window_area_s(ei, f)) / np.sqrt(2.0 * np.pi * var)
        if n > 2:
            # integrate the divergence coordinates out: Schur complement; det P_full = det P_yy det P
            p_yy = p[2:, 2:]
            peak /= np.sqrt(np.linalg.det(p_yy))
            p = p[:2, :2] - p[:2, 2:] @ np.linalg.solve(p_yy, p[2:, :2])
        if abs(np.linalg.det(p)) <= 1e-12 * np.abs(p).max() ** 2:
            raise InstrumentError("the speed is not defined: a continuous source needs two "
                                  "resolution choppers", file=self.file, field="choppers")
        return p, float(sig_m), peak

    def _divergence_rows(self, ei: float, chops, frequency) -> dict:
        """Coefficients of the divergence coordinates (aperture y_a and, with a sample width,
        sample y_s; m) in the moderator and Fermi-chopper constraints, and their variances."""
        fermi = [c for c in chops if isinstance(c, FermiChopper) and c.aperture_width_mm]
        if not fermi:
            return {"prior": [], "moderator": np.zeros(0)}
        if len(fermi) > 1:
            raise InstrumentError("only one Fermi chopper may carry the beam aperture",
                                  file=self.file, field="choppers")
        c = fermi[0]
        x_a = c.aperture_distance_m
        length = x_a + self.moderator_sample - c.distance_m      # aperture to sample
        before = c.distance_m - x_a                              # moderator to aperture
        d_alpha = np.array([-1.0, 1.0]) / length                 # d alpha / d(y_a, y_s)
        d_face = np.array([1.0, 0.0]) - before * d_alpha         # d y_m / d(y_a, y_s)
        prior = [(c.aperture_width_mm * 1e-3) ** 2 / 12.0]
        if self.sample_width_mm is not None:
            prior.append((self.sample_width_mm * 1e-3) ** 2 * SAMPLE_SHAPES[self.sample_shape])
        k = len(prior)
        omega = 2.0 * np.pi * self._frequency(c, frequency)
        tilt = np.tan(np.radians(self.moderator.angle_deg)) / float(energy_to_velocity(ei))
        return {"prior": prior, "moderator": tilt * d_face[:k], c.label: -d_alpha[:k] / omega}

    def _covariance(self, ei: float, frequency, mode, package) -> np.ndarray:
        return np.linalg.inv(self._precision(ei, frequency, mode, package)[0])

    def resolution_sigma(self, energy_transfer, ei: float, frequency: Frequency = None,
                         mode: str | None = None, package: str | None = None,
                         convention: str = DEFAULT_CONVENTION) -> np.ndarray:
        """Standard deviation (meV) of the energy resolution at each energy transfer (meV):
        :meth:`resolution` / 2.3548 (see there for the settings and the convention)."""
        return self.resolution(energy_transfer, ei, frequency, mode, package,
                               convention=convention) / FWHM_PER_SIGMA

    def resolution(self, energy_transfer, ei: float, frequency: Frequency = None,
                   mode: str | None = None, package: str | None = None,
                   convention: str = DEFAULT_CONVENTION) -> np.ndarray:
        """Energy resolution FWHM (meV) at each energy transfer (meV).

        ``frequency`` (Hz) is the resolution chopper frequency (the instrument default if
        None) or a mapping chopper name -> Hz; ``mode`` picks a disk slot set, ``package`` a
        Fermi chopper package.  ``convention``: ``"pychop"`` (default) the facility
        calculator's sum of squared FWHMs (:mod:`latdyn.instruments.calculator`, what ISIS and
        SNS publish); ``"second_moment"`` the FWHM 2.3548 sigma of the Gaussian with the
        variance of the transmitted distribution (module docstring; the width that preserves
        the second moment under convolution).  Raises InstrumentError for an Ei the
        instrument or its chopper setting cannot deliver and InputError for an energy
        transfer at or above Ei or an unknown convention.
        """
        ei = self.check_ei(ei)
        e = np.asarray(energy_transfer, dtype=float)
        if np.any(~np.isfinite(e)) or np.any(e >= ei):
            bad = e[~np.isfinite(e) | (e >= ei)]
            raise InputError("energy transfer must be finite and below Ei", field="energy_transfer",
                             value=float(np.ravel(bad)[0]))
        frequency = self._setting_frequency(ei, frequency, mode, package)
        if convention not in CONVENTIONS:
            raise InputError(f"convention must be one of {CONVENTIONS}", field="convention",
                             value=convention)
        if convention == "pychop" and self.monochromator is None:
            return calculator_fwhm(self, ei, e, frequency, mode, package)
        cov = self._covariance(ei, frequency, mode, package)
        ef = ei - e
        v_i = float(energy_to_velocity(ei))
        v_f = np.sqrt(ef / ei) * v_i
        x2 = self.sample_detector
        a_tau = 2.0 * ef * v_f / x2
        a_w = 2.0 * ef * v_f * self.moderator_sample / x2 + 2.0 * ei * v_i
        var = a_tau**2 * cov[0, 0] + 2 * a_tau * a_w * cov[0, 1] + a_w**2 * cov[1, 1]
        var = var + (2.0 * ef / x2) ** 2 * self.detector.path_variance(ef)
        return FWHM_PER_SIGMA * np.sqrt(var)

    def elastic_resolution(self, ei: float, **settings) -> float:
        """FWHM (meV) of the elastic line at incident energy ``ei`` (meV); ``settings`` as
        :meth:`resolution` (frequency, mode, package, convention)."""
        return float(self.resolution(0.0, ei, **settings))

    # --- |Q| resolution (powder) -------------------------------------------------------------
    def q_resolution_sigma(self, q, energy_transfer, ei: float, frequency: Frequency = None,
                           mode: str | None = None, package: str | None = None, *,
                           sample_width_mm: float | None = None,
                           divergence_deg: float = 0.0) -> np.ndarray:
        """Standard deviation (1/angstrom) of the |Q| error of a powder measurement at |Q| =
        ``q`` (1/angstrom) and energy transfer ``energy_transfer`` (meV); arrays broadcast.

        Formula: module docstring (linear propagation, Windsor 1981).  ``sample_width_mm``:
        sample width (mm) seen from the detectors, default the file's ``sample_width_mm``, else
        0; ``divergence_deg``: FWHM (degrees) of the incident beam divergence, default 0.
        ``frequency``, ``mode``, ``package``: as :meth:`resolution_sigma`.  Raises InputError
        naming ``q`` where (|Q|, E) cannot be reached at this Ei or needs a scattering angle
        outside the detectors, ``energy_transfer`` at or above Ei, and the width keywords
        when negative.
        """
        ei = self.check_ei(ei)
        frequency = self._setting_frequency(ei, frequency, mode, package)
        angle_var = self._angle_variance(sample_width_mm, divergence_deg)
        q, e = _q_and_energy(q, energy_transfer, ei)
        ef = ei - e
        cos_2t = cos_two_theta(q, ei, ef)
        bad = np.abs(cos_2t) > 1.0
        if np.any(bad):
            raise InputError(f"|Q| cannot be reached at this energy transfer with Ei = {ei:g} meV "
                             "(|k_i - k_f| <= |Q| <= k_i + k_f)", field="q", value=float(q[bad][0]))
        two_theta = np.degrees(np.arccos(cos_2t))
        out = (two_theta < self.two_theta_min) | (two_theta > self.two_theta_max)
        if np.any(out):
            raise InputError(f"|Q| needs a scattering angle of {two_theta[out][0]:.4g} deg, outside "
                             f"the detectors ({self.two_theta_min:g}-{self.two_theta_max:g} deg)",
                             field="q", value=float(q[out][0]))
        cov = self._covariance(ei, frequency, mode, package)
        return self._q_sigma(two_theta, ei, ef, cov, angle_var)

    def q_resolution(self, q, energy_transfer, ei: float, frequency: Frequency = None,
                     mode: str | None = None, package: str | None = None, *,
                     sample_width_mm: float | None = None, divergence_deg: float = 0.0) -> np.ndarray:
        """Gaussian FWHM (1/angstrom) of the |Q| resolution of a powder measurement at |Q| =
        ``q`` (1/angstrom) and energy transfer (meV): 2.3548 :meth:`q_resolution_sigma`."""
        return FWHM_PER_SIGMA * self.q_resolution_sigma(
            q, energy_transfer, ei, frequency, mode, package, sample_width_mm=sample_width_mm,
            divergence_deg=divergence_deg)

    def q_broadening(self, ei: float, energy: float, frequency: Frequency = None,
                     mode: str | None = None, package: str | None = None, *,
                     sample_width_mm: float | None = None, divergence_deg: float = 0.0):
        """The ``q_broadening`` callable of :func:`latdyn.phonons.maps.powder_map` and
        :func:`~latdyn.phonons.maps.path_map`: |Q| (1/angstrom) -> FWHM (1/angstrom) of
        :meth:`q_resolution` at the one representative energy transfer ``energy`` (meV).

        The maps broaden every energy bin with the same FWHM(|Q|), so the energy dependence
        is frozen at ``energy`` (pick the energy of the features of interest).  Outside the
        |Q| range the detectors reach at that energy the width of the nearest reachable |Q|
        (the first or last detector angle) is used, so the map's whole |Q| axis is accepted.
        Settings and errors as :meth:`q_resolution_sigma`.
        """
        ei = self.check_ei(ei)
        frequency = self._setting_frequency(ei, frequency, mode, package)
        angle_var = self._angle_variance(sample_width_mm, divergence_deg)
        _, e = _q_and_energy(1.0, energy, ei)
        if e.ndim:
            raise InputError("energy must be one number (meV)", field="energy", value=e.shape)
        ef = ei - float(e)
        cov = self._covariance(ei, frequency, mode, package)
        lo, hi = self.two_theta_min, self.two_theta_max

        def fwhm(q_abs):
            cos_2t = np.clip(cos_two_theta(np.asarray(q_abs, dtype=float), ei, ef), -1.0, 1.0)
            two_theta = np.clip(np.degrees(np.arccos(cos_2t)), lo, hi)
            return FWHM_PER_SIGMA * self._q_sigma(two_theta, ei, ef, cov, angle_var)

        return fwhm

    def _angle_variance(self, sample_width_mm, divergence_deg) -> float:
        """Variance (rad^2) of the scattering angle seen by one detector element: tube
        diameter (uniform, d^2/12) and sample width (W^2/12 for a plate, W^2/8 for an annulus)
        over L2, and the incident divergence."""
        width = self.sample_width_mm if sample_width_mm is None else sample_width_mm
        width = _non_negative(0.0 if width is None else width, "sample_width_mm")
        div = np.radians(_non_negative(divergence_deg, "divergence_deg")) / FWHM_PER_SIGMA
        x2 = self.sample_detector
        return (self.detector_depth**2 / 12.0 + (width * 1e-3) ** 2 * SAMPLE_SHAPES[self.sample_shape]) \
            / x2**2 + div**2

    def _q_sigma(self, two_theta, ei: float, ef, cov: np.ndarray, angle_var: float) -> np.ndarray:
        """sigma (1/angstrom) of |Q| at scattering angles ``two_theta`` (deg) and final energies
        ``ef`` (meV), from the (tau, w) covariance and the angle variance (rad^2)."""
        ki = np.sqrt(ei / E_PER_K2)
        kf = np.sqrt(ef / E_PER_K2)
        phi = np.radians(two_theta)
        q = np.sqrt((ki - kf) ** 2 + 4.0 * ki * kf * np.sin(0.5 * phi) ** 2)
        c_i = (ki - kf * np.cos(phi)) / q
        c_f = (kf - ki * np.cos(phi)) / q
        c_phi = ki * kf * np.sin(phi) / q
        ki_w, kf_tau, kf_w, kf_x = _k_errors(ei, ef, self.moderator_sample, self.sample_detector)
        b_tau = c_f * kf_tau
        b_w = c_i * ki_w + c_f * kf_w
        var = b_tau**2 * cov[0, 0] + 2.0 * b_tau * b_w * cov[0, 1] + b_w**2 * cov[1, 1]
        var = var + (c_f * kf_x) ** 2 * self.detector.path_variance(ef) + c_phi**2 * angle_var
        return np.sqrt(var)

    def time_widths(self, ei: float, frequency: Frequency = None, mode: str | None = None,
                    package: str | None = None) -> dict[str, float]:
        """FWHM (microseconds, Gaussian-equivalent) of the moderator pulse and each chopper."""
        ei = self.check_ei(ei)
        frequency = self._setting_frequency(ei, frequency, mode, package)
        out = {"moderator": float(self.moderator.pulse_fwhm_us(ei))}
        for ch in self.choppers(mode, package):
            var = float(ch.variance_s2(ei, self._frequency(ch, frequency)))
            out[ch.label] = FWHM_PER_SIGMA * np.sqrt(var) * 1e6
        return out

    def relative_flux(self, ei, frequency: Frequency = None, mode: str | None = None,
                      package: str | None = None) -> np.ndarray:
        """Flux trend at the sample: phi(lambda) x the wavelength band (angstrom) the
        choppers pass (see the module docstring).

        phi is the moderator flux per unit wavelength (table in the file, 1 if none).  For a
        pulsed source the band is per source pulse and phi the time-averaged flux, so the
        product is the monochromatic flux when phi is absolute; for a continuous source it is
        multiplied by the openings per second of the first chopper.  Compare settings of one
        instrument with it; absolute values: :meth:`flux_at_sample`.
        """
        ei_arr = np.atleast_1d(np.asarray(ei, dtype=float))
        out = np.empty_like(ei_arr)
        h_over_m = C.h / C.m_n * 1e10                       # angstrom m / s
        for i, e in enumerate(ei_arr):
            e = self.check_ei(e)
            f_e = self._setting_frequency(e, frequency, mode, package)
            p, sig_m, peak = self._precision(e, f_e, mode, package)
            root_det = np.sqrt(np.linalg.det(p))
            if np.isinf(sig_m):
                first = min(self.choppers(mode, package), key=lambda c: c.distance_m)
                rate = 1.0 / first.period_s(self._frequency(first, f_e))
                band = 2.0 * np.pi / root_det * rate
            else:
                band = np.sqrt(2.0 * np.pi) / (sig_m * root_det)
            out[i] = float(self.moderator.relative_flux(e)) * h_over_m * band * peak
        out *= self._mode_factor(mode)
        return out if np.ndim(ei) else float(out[0])

    def _mode_factor(self, mode: str | None) -> float:
        """The file's ``flux.mode_factor`` of a mode (e.g. a polarised mode), 1 if none."""
        mode = self.default_mode if mode is None else mode
        return float(self.flux_mode_factor.get(mode, 1.0))

    def _reference_frequency(self, point: FluxPoint) -> float | None:
        """Chopper frequency (Hz) of a published flux point: the stated one; else, among the
        frequencies (a grid up to the maximum) at which the Fermi choppers transmit at least
        half their best transmission at that Ei (the settings facilities operate and quote),
        the one whose elastic FWHM / Ei is closest to the quoted one; else the default."""
        if point.frequency is not None:
            return point.frequency
        if point.fwhm_percent is None:
            return None
        cache = self.__dict__.setdefault("_reference_frequencies", {})
        if point not in cache:
            cache[point] = self._match_frequency(point)
        return cache[point]

    def _match_frequency(self, point: FluxPoint) -> float | None:
        chops = self.choppers(point.mode, point.package)
        f_max = min(c.max_frequency / getattr(c, "frequency_ratio", 1.0) for c in chops
                    if getattr(c, "fixed_frequency", None) is None)
        rows = []
        for f in np.linspace(f_max / 24.0, f_max, 47):
            trans = 1.0
            for c in chops:
                if isinstance(c, FermiChopper):
                    trans *= float(c.transmission(point.ei, self._frequency(c, float(f))))
            if trans <= 0:
                continue
            try:
                pct = 100.0 * self.elastic_resolution(point.ei, frequency=float(f), mode=point.mode,
                                                       package=point.package) / point.ei
            except InstrumentError:
                continue
            rows.append((float(f), trans, pct))
        if not rows:
            return None
        best_t = max(t for _, t, _ in rows)
        usable = [(f, pct) for f, t, pct in rows if t >= 0.5 * best_t]
        return min(usable, key=lambda r: abs(np.log(r[1] / point.fwhm_percent)))[0]

    def flux_at_sample(self, ei: float, frequency: Frequency = None, mode: str | None = None,
                       package: str | None = None, source: str | None = None) -> float:
        """Incident flux at the sample (n/cm^2/s, time-averaged) at ``ei`` (meV) and a setting.

        ``source``: ``"published"`` calibrates on the file's published fluxes
        (:mod:`latdyn.instruments.flux`) and transfers them with :meth:`relative_flux`;
        ``"calculator"`` is the facility calculator's flux model (``flux.calculator``,
        :func:`latdyn.instruments.calculator.calculator_flux`); None (default) takes the
        published fluxes where the file has them, else the calculator's.  InstrumentError
        naming ``flux.points`` when the chosen source is missing: give the flux yourself
        (``flux=`` of the simulation functions).
        """
        ei = self.check_ei(ei)
        frequency = self._setting_frequency(ei, frequency, mode, package)
        if source not in (None, "published", "calculator"):
            raise InputError("source must be 'published' or 'calculator'", field="source",
                             value=source)
        if source is None:
            source = "published" if self.flux_points or self.calculator_flux is None else "calculator"
            if source == "calculator" and self.calculator_flux.relative:
                raise InstrumentError(
                    f"{self.name}: no absolute flux at the sample ({self.calculator_flux.relative}); "
                    "give flux= in n/cm^2/s, or ask source='calculator' for the calculator's "
                    "relative numbers", file=self.file, field="flux.calculator.relative")
        if source == "calculator":
            if self.calculator_flux is None:
                raise InstrumentError(f"{self.name}: the instrument file has no facility-calculator "
                                      "flux model", file=self.file, field="flux.calculator")
            return calculator_flux(self, ei, frequency, mode, package) * self._mode_factor(mode)
        if not self.flux_points:
            why = self.flux_missing or "the instrument file has no 'flux' section"
            raise InstrumentError(f"no published flux at the sample for {self.name} ({why}); give "
                                  "flux= in n/cm^2/s or add flux.points to the instrument file",
                                  file=self.file, field="flux.points")
        package = self.default_package if package is None else package
        mode = self.default_mode if mode is None else mode
        same = [p for p in self.flux_points if (p.package in (None, package)) and (p.mode in (None, mode))]
        points = same or self.flux_points
        ratios = []
        for p in points:
            f_ref = self._reference_frequency(p)
            ratios.append(p.flux / self.relative_flux(p.ei, frequency=f_ref, mode=p.mode or mode,
                                                      package=p.package or package))
        r = interpolate_log(ei, np.array([p.ei for p in points]), np.array(ratios))
        return r * self.relative_flux(ei, frequency=frequency, mode=mode, package=package)

    def detector_efficiency(self, energy) -> np.ndarray:
        """Detection probability at final energy ``energy`` (meV) (1 where not modelled)."""
        return self.detector.efficiency(energy)


    def multi_ei(self, ei: float, frequency: Frequency = None, mode: str | None = None,
                 package: str | None = None, band: tuple[float, float] | None = None,
                 ) -> np.ndarray:
        """Incident energies (meV) transmitted in the same source frame (repetition-rate
        multiplication) when the chopper phases are set for ``ei``.

        Every modelled chopper (resolution and others in the file) must be open, and a Fermi
        chopper must transmit the speed at all (Windsor gamma < 4); band or frame-overlap
        choppers that the file does not list would remove further energies.
        ``band``: (Ei_min, Ei_max) to keep (default: the instrument's Ei range).  Returns the
        centres of the transmitted bands, sorted; ``ei`` itself is among them unless a disk
        phased on its own (``phase_us``) blocks it, as the facility calculator also reports.
        With a crystal monochromator only ``ei`` itself.
        """
        ei = self.check_ei(ei)
        frequency = self._setting_frequency(ei, frequency, mode, package)
        if self.monochromator is not None:
            return np.array([ei])      # the crystal reflects one band (harmonics filtered)
        lo_e, hi_e = (self.ei_min, self.ei_max) if band is None else map(float, band)
        if not (0 < lo_e < hi_e):
            raise InputError("band must be (Ei_min, Ei_max) with 0 < Ei_min < Ei_max", field="band",
                             value=band)
        chops = self.choppers(mode, package, every=True)
        freqs = [self._frequency(c, frequency) for c in chops]
        for c, f in zip(chops, freqs, strict=True):
            c.check_frequency(f)
        per = np.array([c.period_s(f) for c, f in zip(chops, freqs, strict=True)])
        half = 0.5 * np.array([c.full_opening_s(f) if getattr(c, "phase_us", None) is not None
                               else c.opening_fwhm_s(f) for c, f in zip(chops, freqs, strict=True)])
        d = np.array([c.distance_m for c in chops])
        u_ref = 1.0 / float(energy_to_velocity(ei))
        u_lo = 1.0 / float(energy_to_velocity(hi_e))
        u_hi = 1.0 / float(energy_to_velocity(lo_e))
        step = float(np.min(half) / d.max()) / 4.0
        n = int(np.ceil((u_hi - u_lo) / step)) + 1
        if n > 4_000_000:
            raise InputError("band too wide for the chopper openings; give a narrower band",
                             field="band", value=(lo_e, hi_e))
        u = np.linspace(u_lo, u_hi, n)
        if self.moderator.continuous:
            # the first chopper defines the emission: its opening n=0 fixes the window of e
            j0 = int(np.argmin(d))
            lo = d[j0] * (u_ref - u) - half[j0]
            hi = d[j0] * (u_ref - u) + half[j0]
            others = [j for j in range(len(chops)) if j != j0]
        else:
            pulse = self.moderator.pulse_fwhm_us(_energy_of_u(u)) * 1e-6
            lo, hi = -0.5 * pulse, 0.5 * pulse
            others = list(range(len(chops)))
        for j in others:
            ch = chops[j]
            if getattr(ch, "phase_us", None) is not None:
                # phased on its own: a slot opens at phase_us after the pulse and stays open
                # for its full opening time (w + b)/u
                centre = (ch.phase_us * 1e-6 + half[j]) - d[j] * u
            else:
                centre = d[j] * (u_ref - u)           # e that meets the phased slot at its centre
            mid = 0.5 * (lo + hi)
            offsets = ch.slot_offsets_s(freqs[j]) if isinstance(ch, DiskChopper) else np.zeros(1)
            cands = [centre + off + np.round((mid - centre - off) / per[j]) * per[j] for off in offsets]
            c = cands[0]
            for other in cands[1:]:
                c = np.where(np.abs(other - mid) < np.abs(c - mid), other, c)
            lo, hi = np.maximum(lo, c - half[j]), np.minimum(hi, c + half[j])
        ok = hi >= lo
        if not ok.any():
            return np.array([ei])
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
        centres = [0.5 * (u[a] + u[b - 1]) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        out = np.array(sorted(_energy_of_u(np.array(centres))))
        # a curved-slit Fermi chopper passes only speeds near its design one (Windsor gamma < 4)
        for c, f in zip(chops, freqs, strict=True):
            if isinstance(c, FermiChopper):
                out = out[(np.asarray(c.transmission(out, f)) > 0) | np.isclose(out, ei, rtol=1e-3)]
        return out

    def coverage(self, ei: float, energy=None, n: int = 401) -> Coverage:
        """Accessible (|Q|, E) at incident energy ``ei`` (meV) over the detector angles."""
        ei = self.check_ei(ei)
        return coverage_direct(ei, self.two_theta_min, self.two_theta_max, energy=energy, n=n)

    def summary(self) -> dict:
        return {**super().summary(), "L1 (m)": self.moderator_sample,
                "L2 (m)": self.sample_detector,
                "Ei range (meV)": f"{self.ei_min:g}-{self.ei_max:g}",
                "2theta (deg)": f"{self.two_theta_min:g}-{self.two_theta_max:g}"}


def _energy_of_u(u: np.ndarray) -> np.ndarray:
    """Energy (meV) of a neutron of inverse speed u (s/m)."""
    from ..units import velocity_to_energy

    return np.asarray(velocity_to_energy(1.0 / np.asarray(u, dtype=float)))


def _k_errors(ei: float, ef, l1: float, x2: float) -> tuple:
    """Linear errors (nominal minus true) of k_i and of the k_f inferred from the time of
    flight: returns dk_i/dw, dk_f/dtau, dk_f/dw, dk_f/d(delta x2) (1/angstrom per s/m, per s,
    per s/m, per m) for Ei, Ef (meV) and the flight paths L1, x2 (m).

    dk_i = k_i v_i w; dk_f = -(k_f v_f / x2)(tau + L1 w) - (k_f / x2) delta x2."""
    v_i = float(energy_to_velocity(ei))
    v_f = np.sqrt(ef / ei) * v_i
    ki = np.sqrt(ei / E_PER_K2)
    kf = np.sqrt(ef / E_PER_K2)
    return ki * v_i, -kf * v_f / x2, -kf * v_f * l1 / x2, -kf / x2


def _q_and_energy(q, energy_transfer, ei: float) -> tuple[np.ndarray, np.ndarray]:
    """|Q| (positive, finite) and energy transfer (finite, below Ei), broadcast together."""
    q = np.asarray(q, dtype=float)
    e = np.asarray(energy_transfer, dtype=float)
    bad_q = ~np.isfinite(q) | (q <= 0)
    if np.any(bad_q):
        raise InputError("|Q| must be positive and finite (1/angstrom)", field="q",
                         value=float(q[bad_q].ravel()[0]))
    bad_e = ~np.isfinite(e) | (e >= ei)
    if np.any(bad_e):
        raise InputError("energy transfer must be finite and below Ei", field="energy_transfer",
                         value=float(e[bad_e].ravel()[0]))
    try:
        return tuple(np.broadcast_arrays(q, e))
    except ValueError as exc:
        raise InputError("q and energy_transfer must broadcast together", field="q",
                         value=(q.shape, e.shape)) from exc


def _non_negative(value, field: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{field} must be a number", field=field, value=value) from exc
    if not np.isfinite(v) or v < 0:
        raise InputError(f"{field} must be finite and >= 0", field=field, value=value)
    return v


def _positive_frequency(value, file) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError) as exc:
        raise InstrumentError("chopper frequency must be a number", file=file, field="frequency",
                              value=value) from exc
    if not np.isfinite(f) or f <= 0:
        raise InstrumentError("chopper frequency must be positive", file=file, field="frequency",
                              value=value)
    return f


def _per_mode(node: Node, key: str, mode: str | None, default=..., optional: bool = False):
    """A number that is either plain/sourced or a mapping mode -> plain/sourced number.
    With ``optional`` a mode may be left out of the mapping (or null): ``default`` then."""
    raw = node.raw(key, None if default is not ... else ...)
    if raw is None:
        return default
    if isinstance(raw, Mapping) and "value" not in raw:
        if raw.get(mode) is None:
            if optional:
                return default
            raise InstrumentError("value missing for mode", file=node.file,
                                  field=f"{node.path}.{key}.{mode}")
        return node.child(key).number(mode)
    return node.number(key)
