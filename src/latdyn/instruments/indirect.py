r"""Indirect-geometry (inverted) time-of-flight spectrometers: analyser and time terms.

The final energy E_f is fixed by Bragg reflection from the analysers; the incident speed is
inferred from the time of flight, t = tau + L_1/v_i + L_2/v_f.  With the emission time tau
(moderator pulse, variance sigma_tau^2) and the analyser spread of E_f (variance
sigma_f^2), the measured energy transfer E = E_i - E_f is off by (linear propagation, e.g.
Carlile and Adams, Physica B 182, 431 (1992))

.. math::  \sigma_E^2 = \Big(\frac{2E_i v_i}{L_1}\Big)^2\sigma_\tau^2
           + \Big[1 + \frac{L_2}{L_1}\Big(\frac{v_i}{v_f}\Big)^3\Big]^2 \sigma_f^2 .

The analyser term sigma_f is fixed from the published elastic resolution of the instrument:
sigma_f^2 = (sigma_el^2 - (2E_f v_f sigma_tau/L_1)^2) / (1 + L_2/L_1)^2, so the elastic width
is the measured one by construction and the formula gives its growth with energy transfer.
FWHM = 2 sqrt(2 ln 2) sigma.

Counting (used by :mod:`latdyn.simulate.counts`): the white incident beam has a flux per unit
incident energy phi_E(E_i) (n/cm^2/s/meV) at the sample; a time channel of width Delta E holds
the incident energies E_f + E ... E_f + E + Delta E, and the analysers accept final energies
with the reflectivity R(E_f), whose integral is R_peak sqrt(2 pi) sigma_f (meV, Gaussian of
the analyser spread above).  The flux per unit energy away from the elastic energy follows the
moderator spectrum: phi_E = phi_lambda |d lambda / dE| = phi_lambda lambda / (2E).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, InstrumentError
from ..kinematics import Coverage, coverage_indirect
from ..units import energy_to_velocity, energy_to_wavelength
from ._yaml import Node
from .base import FWHM_PER_SIGMA, InstrumentBase, Moderator
from .solid_angle import DetectorCoverage

__all__ = ["IndirectGeometry"]


class IndirectGeometry(InstrumentBase):
    """An indirect-geometry (backscattering or crystal-analyser TOF) spectrometer.

    Main methods: :meth:`resolution` (FWHM, meV), :meth:`resolution_sigma`,
    :meth:`elastic_resolution`, :meth:`coverage`.
    """

    kind = "indirect"

    def __init__(self, node: Node):
        super().__init__(node)
        dist = node.child("distances")
        self.moderator_sample = dist.number("moderator_sample")
        self.sample_analyser = dist.number("sample_analyser")
        self.analyser_detector = dist.number("analyser_detector")
        ana = node.child("analyser")
        self.reflection = ana.text("reflection")
        self.d_spacing = ana.number("d_spacing")
        self.final_energy = ana.number("final_energy")
        self.published_elastic_fwhm = ana.number("elastic_resolution_fwhm") * 1e-3  # ueV -> meV
        self.peak_reflectivity = ana.number("peak_reflectivity", None)
        if self.peak_reflectivity is not None and self.peak_reflectivity > 1:
            raise InstrumentError("peak reflectivity must lie in (0, 1]", file=self.file,
                                  field="analyser.peak_reflectivity", value=self.peak_reflectivity)
        det = node.child("detector")
        self.two_theta_min = det.number("two_theta_min", allow_zero=True)
        self.two_theta_max = det.number("two_theta_max")
        self.banks = DetectorCoverage.from_node(det, "banks", self.sample_analyser)
        fl = node.child("flux", None)
        self.flux_elastic = None if fl is None else fl.number("at_sample_per_mev", None)
        self.flux_missing = None if fl is None else fl.text("missing", None)
        self.e_min, self.e_max = node.array("energy_range", length=2)
        self.moderator = Moderator.from_node(node.child("moderator"))
        sig_el = self.published_elastic_fwhm / FWHM_PER_SIGMA
        t_el = self._time_term(np.array(0.0))
        rest = sig_el**2 - t_el**2
        if rest <= 0:
            raise InstrumentError(
                "published elastic resolution is narrower than the moderator time term alone",
                file=self.file, field="analyser.elastic_resolution_fwhm",
                value=self.published_elastic_fwhm * 1e3)
        l2 = self.sample_analyser + self.analyser_detector
        self.sigma_final_energy = float(np.sqrt(rest) / (1.0 + l2 / self.moderator_sample))

    @property
    def flight_path_secondary(self) -> float:
        """L_2 = sample-analyser + analyser-detector (m)."""
        return self.sample_analyser + self.analyser_detector

    def _time_term(self, e: np.ndarray) -> np.ndarray:
        ei = self.final_energy + e
        v_i = np.asarray(energy_to_velocity(ei))
        sig_tau = self.moderator.pulse_fwhm_us(ei) * 1e-6 / FWHM_PER_SIGMA
        return 2.0 * ei * v_i * sig_tau / self.moderator_sample

    def check_energy(self, energy_transfer) -> np.ndarray:
        e = np.asarray(energy_transfer, dtype=float)
        bad = ~np.isfinite(e) | (e <= -self.final_energy)
        if np.any(bad):
            raise InputError("energy transfer must be finite and above -Ef", field="energy_transfer",
                             value=float(np.ravel(e[bad])[0]))
        return e

    def resolution_sigma(self, energy_transfer, ef: float | None = None) -> np.ndarray:
        """Standard deviation (meV) of the resolution at each energy transfer (meV).

        ``ef`` (meV) must equal the analyser's final energy if given (an indirect machine
        cannot change it); otherwise InstrumentError.
        """
        if ef is not None and not np.isclose(float(ef), self.final_energy, rtol=1e-3):
            raise InstrumentError(
                f"{self.name} analyses Ef = {self.final_energy:g} meV only ({self.reflection})",
                file=self.file, field="ef", value=ef)
        e = self.check_energy(energy_transfer)
        ei = self.final_energy + e
        ratio = np.sqrt(ei / self.final_energy)
        analyser = (1.0 + self.flight_path_secondary / self.moderator_sample * ratio**3) \
            * self.sigma_final_energy
        return np.sqrt(self._time_term(e) ** 2 + analyser**2)

    def resolution(self, energy_transfer, ef: float | None = None) -> np.ndarray:
        """Energy resolution FWHM (meV) at each energy transfer (meV); FWHM = 2.3548 sigma."""
        return FWHM_PER_SIGMA * self.resolution_sigma(energy_transfer, ef)

    def elastic_resolution(self, ef: float | None = None) -> float:
        """FWHM (meV) of the elastic line."""
        return float(self.resolution(0.0, ef))

    def coverage(self, ef: float | None = None, energy=None, n: int = 401) -> Coverage:
        """Accessible (|Q|, E) over the analyser angles and the energy window of the file."""
        if ef is not None and not np.isclose(float(ef), self.final_energy, rtol=1e-3):
            raise InstrumentError(f"{self.name} analyses Ef = {self.final_energy:g} meV only",
                                  file=self.file, field="ef", value=ef)
        energy = np.linspace(self.e_min, self.e_max, n) if energy is None else energy
        return coverage_indirect(self.final_energy, self.two_theta_min, self.two_theta_max,
                                 energy=energy)

    def flux_per_mev(self, energy_transfer, flux: float | None = None) -> np.ndarray:
        """Incident flux per unit incident energy (n/cm^2/s/meV) at the sample for the
        incident energies E_f + E of ``energy_transfer`` (meV).

        ``flux``: the value at the elastic energy E_i = E_f (overrides the file's
        ``flux.at_sample_per_mev``); the energy dependence follows the moderator spectrum
        phi_lambda lambda / (2E) (flat over the window when the file has no spectrum).
        InstrumentError naming ``flux.at_sample_per_mev`` when neither is given.
        """
        phi0 = self.flux_elastic if flux is None else float(flux)
        if phi0 is None:
            why = self.flux_missing or "the instrument file has no 'flux' section"
            raise InstrumentError(f"no published flux at the sample for {self.name} ({why}); give "
                                  "flux= in n/cm^2/s/meV at the elastic energy", file=self.file,
                                  field="flux.at_sample_per_mev")
        if not np.isfinite(phi0) or phi0 <= 0:
            raise InstrumentError("flux must be positive", field="flux", value=phi0)
        e = self.check_energy(energy_transfer)
        ei = self.final_energy + e
        if self.moderator.flux is None:
            return np.full(e.shape, phi0)

        def per_energy(x):
            return self.moderator.relative_flux(x) * np.asarray(energy_to_wavelength(x)) / (2.0 * x)

        return phi0 * per_energy(ei) / per_energy(np.asarray(self.final_energy))

    def analyser_bandwidth(self, peak_reflectivity: float | None = None) -> float:
        """Integrated analyser reflectivity R_peak sqrt(2 pi) sigma_f (meV).

        ``peak_reflectivity`` overrides the file's ``analyser.peak_reflectivity``;
        InstrumentError naming that field when neither is given."""
        r = self.peak_reflectivity if peak_reflectivity is None else float(peak_reflectivity)
        if r is None:
            raise InstrumentError("the instrument file gives no analyser peak reflectivity; pass "
                                  "analyser_reflectivity=", file=self.file,
                                  field="analyser.peak_reflectivity")
        if not (0 < r <= 1):
            raise InstrumentError("peak reflectivity must lie in (0, 1]",
                                  field="analyser_reflectivity", value=r)
        return r * np.sqrt(2.0 * np.pi) * self.sigma_final_energy

    def detector_efficiency(self, energy) -> np.ndarray:
        """Detection probability behind the analysers: not modelled (1)."""
        return np.ones(np.shape(energy))

    def solid_angle(self) -> DetectorCoverage:
        """The analyser banks (solid angle per scattering angle); InstrumentError naming
        ``detector.banks`` when the file does not describe them."""
        if self.banks is None:
            raise InstrumentError("the instrument file does not give the analyser geometry needed "
                                  "for solid angles", file=self.file, field="detector.banks")
        return self.banks

    def summary(self) -> dict:
        return {**super().summary(), "analyser": self.reflection, "Ef (meV)": self.final_energy,
                "elastic FWHM (ueV)": 1e3 * self.published_elastic_fwhm,
                "E window (meV)": f"{self.e_min:g}-{self.e_max:g}"}
