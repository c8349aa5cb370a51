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
FWHM = 2 sqrt(2 ln 2) sigma.  An instrument may carry several analyser reflections
(``analysers:``, e.g. Si(111) and Si(311), PG(002) and PG(004)), each with its final energy,
published elastic width, energy window and, where they differ, its distances; methods take
``analyser=`` (or pick the reflection from ``ef=``).  A reflection may give instead of a
published width ``scale_from: NAME``: then its analyser spread is that of NAME scaled by the
ratio of final energies (delta E_f / E_f = 2 cot(theta) delta theta is the same at the same
Bragg angle), a prediction the file must label.  On a continuous source (a backscattering
spectrometer with a Doppler monochromator) there is no time term: the resolution is the
published elastic one at every energy transfer of the window.

Counting (used by :mod:`latdyn.simulate.counts`): the white incident beam has a flux per unit
incident energy phi_E(E_i) (n/cm^2/s/meV) at the sample; a time channel of width Delta E holds
the incident energies E_f + E ... E_f + E + Delta E, and the analysers accept final energies
with the reflectivity R(E_f), whose integral is R_peak sqrt(2 pi) sigma_f (meV, Gaussian of
the analyser spread above).  The flux per unit energy away from the elastic energy follows the
moderator spectrum: phi_E = phi_lambda |d lambda / dE| = phi_lambda lambda / (2E).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, InstrumentError
from ..kinematics import Coverage, coverage_indirect
from ..units import energy_to_velocity, energy_to_wavelength
from ._yaml import Node
from .base import FWHM_PER_SIGMA, InstrumentBase, Moderator
from .solid_angle import DetectorCoverage

__all__ = ["IndirectGeometry", "Analyser"]


@dataclass(frozen=True)
class Analyser:
    """One analyser reflection: name, reflection label, d-spacing (angstrom), final energy
    (meV), analyser spread sigma_f (meV), published elastic FWHM (meV; None when scaled),
    energy window (meV), secondary distances (m) and optional peak reflectivity."""

    name: str
    reflection: str
    d_spacing: float
    final_energy: float
    sigma_final_energy: float
    published_elastic_fwhm: float | None
    e_min: float
    e_max: float
    sample_analyser: float | None
    analyser_detector: float | None
    peak_reflectivity: float | None = None

    @property
    def flight_path_secondary(self) -> float | None:
        """L_2 = sample-analyser + analyser-detector (m); None on a continuous source."""
        if self.sample_analyser is None or self.analyser_detector is None:
            return None
        return self.sample_analyser + self.analyser_detector


class IndirectGeometry(InstrumentBase):
    """An indirect-geometry (backscattering or crystal-analyser TOF) spectrometer.

    Main methods: :meth:`resolution` (FWHM, meV), :meth:`resolution_sigma`,
    :meth:`elastic_resolution`, :meth:`coverage`; ``analyser=`` picks a reflection of the
    file's ``analysers`` (default: ``default_analyser``).  The attributes ``final_energy``,
    ``reflection``, ``e_min``, ``e_max`` ... are those of the default analyser.
    """

    kind = "indirect"
    banks_word = "analyser"

    def __init__(self, node: Node):
        super().__init__(node)
        self.moderator = Moderator.from_node(node.child("moderator"))
        # a continuous-source backscattering spectrometer needs no flight paths
        optional = None if self.moderator.continuous else ...
        dist = node.child("distances", {} if self.moderator.continuous else ...)
        self.moderator_sample = dist.number("moderator_sample", optional)
        l_sa = dist.number("sample_analyser", optional)
        l_ad = dist.number("analyser_detector", optional)
        det = node.child("detector")
        self.two_theta_min = det.number("two_theta_min", allow_zero=True)
        self.two_theta_max = det.number("two_theta_max")
        self.banks = None if l_sa is None else DetectorCoverage.from_node(det, "banks", l_sa)
        fl = node.child("flux", None)
        self.flux_elastic = None if fl is None else fl.number("at_sample_per_mev", None)
        self.flux_missing = None if fl is None else fl.text("missing", None)
        if node.has("analysers"):
            group = node.child("analysers")
            nodes = {str(k): group.child(k) for k in group.data}
            self.default_analyser = node.text("default_analyser", next(iter(nodes)))
            window = None
        else:
            single = node.child("analyser")
            nodes = {single.text("reflection"): single}
            self.default_analyser = next(iter(nodes))
            window = node.array("energy_range", length=2)
        if self.default_analyser not in nodes:
            raise InstrumentError(f"default_analyser must name one of {sorted(nodes)}", file=self.file,
                                  field="default_analyser", value=self.default_analyser)
        self.analysers: dict[str, Analyser] = {}
        pending = dict(nodes)
        while pending:
            progressed = False
            for name, ana in list(pending.items()):
                ref = ana.text("scale_from", None)
                if ref is not None and ref not in self.analysers:
                    if ref not in nodes or ref == name:
                        raise InstrumentError("scale_from must name another analyser", file=self.file,
                                              field=f"{ana.path}.scale_from", value=ref)
                    continue
                self.analysers[name] = self._analyser(name, ana, window, l_sa, l_ad)
                del pending[name]
                progressed = True
            if not progressed:
                raise InstrumentError("analysers scale from each other in a circle", file=self.file,
                                      field="analysers", value=sorted(pending))
        d = self.analysers[self.default_analyser]
        self.reflection, self.d_spacing, self.final_energy = d.reflection, d.d_spacing, d.final_energy
        self.published_elastic_fwhm = d.published_elastic_fwhm
        self.peak_reflectivity = d.peak_reflectivity
        self.sigma_final_energy = d.sigma_final_energy
        self.e_min, self.e_max = d.e_min, d.e_max
        self.sample_analyser, self.analyser_detector = d.sample_analyser, d.analyser_detector

    def _analyser(self, name: str, ana: Node, window, l_sa: float, l_ad: float) -> Analyser:
        ef = ana.number("final_energy")
        refl = ana.number("peak_reflectivity", None)
        if refl is not None and refl > 1:
            raise InstrumentError("peak reflectivity must lie in (0, 1]", file=self.file,
                                  field=f"{ana.path}.peak_reflectivity", value=refl)
        e_min, e_max = ana.array("energy_range", length=2) if window is None else window
        sa = ana.number("sample_analyser", l_sa)
        ad = ana.number("analyser_detector", l_ad)
        ref = ana.text("scale_from", None)
        if ref is not None:
            base = self.analysers[ref]
            sigma_f = base.sigma_final_energy * ef / base.final_energy
            published = None
        else:
            published = ana.number("elastic_resolution_fwhm") * 1e-3  # ueV -> meV
            sig_el = published / FWHM_PER_SIGMA
            t_el = self._time_term(np.array(0.0), ef, self.moderator_sample)
            rest = sig_el**2 - t_el**2
            if rest <= 0:
                raise InstrumentError(
                    "published elastic resolution is narrower than the moderator time term alone",
                    file=self.file, field=f"{ana.path}.elastic_resolution_fwhm", value=published * 1e3)
            factor = 1.0 if self.moderator.continuous else 1.0 + (sa + ad) / self.moderator_sample
            sigma_f = float(np.sqrt(rest) / factor)
        return Analyser(name, ana.text("reflection", name), ana.number("d_spacing"), ef, sigma_f,
                        published, float(e_min), float(e_max), sa, ad, refl)

    def analyser(self, analyser: str | None = None, ef: float | None = None) -> Analyser:
        """The analyser reflection by name, or the one whose final energy is ``ef`` (meV);
        the default without either.  InstrumentError naming ``analyser`` or ``ef``."""
        if analyser is not None:
            if analyser not in self.analysers:
                raise InstrumentError(f"unknown analyser; {self.name} has {sorted(self.analysers)}",
                                      file=self.file, field="analyser", value=analyser)
            chosen = self.analysers[analyser]
            if ef is not None and not np.isclose(float(ef), chosen.final_energy, rtol=1e-3):
                raise InstrumentError(f"{analyser} analyses Ef = {chosen.final_energy:g} meV only",
                                      file=self.file, field="ef", value=ef)
            return chosen
        if ef is None:
            return self.analysers[self.default_analyser]
        match = [a for a in self.analysers.values() if np.isclose(float(ef), a.final_energy, rtol=1e-3)]
        if not match:
            names = ", ".join(f"Ef = {a.final_energy:g} meV ({a.reflection})"
                              for a in self.analysers.values())
            raise InstrumentError(f"{self.name} analyses only {names}", file=self.file, field="ef",
                                  value=ef)
        return match[0]

    @property
    def flight_path_secondary(self) -> float | None:
        """L_2 = sample-analyser + analyser-detector (m) of the default analyser (None on a
        continuous source)."""
        return self.analysers[self.default_analyser].flight_path_secondary

    def _time_term(self, e: np.ndarray, ef: float, l1: float) -> np.ndarray:
        """sigma (meV) of the energy error from the moderator pulse: 2 E_i v_i sigma_tau / L_1
        (0 on a continuous source)."""
        if self.moderator.continuous:
            return np.zeros(np.shape(e))
        ei = ef + e
        v_i = np.asarray(energy_to_velocity(ei))
        sig_tau = self.moderator.pulse_fwhm_us(ei) * 1e-6 / FWHM_PER_SIGMA
        return 2.0 * ei * v_i * sig_tau / l1

    def check_energy(self, energy_transfer, analyser: Analyser | None = None) -> np.ndarray:
        ana = self.analyser() if analyser is None else analyser
        e = np.asarray(energy_transfer, dtype=float)
        bad = ~np.isfinite(e) | (e <= -ana.final_energy)
        if np.any(bad):
            raise InputError("energy transfer must be finite and above -Ef", field="energy_transfer",
                             value=float(np.ravel(e[bad])[0]))
        return e

    def resolution_sigma(self, energy_transfer, ef: float | None = None,
                         analyser: str | None = None) -> np.ndarray:
        """Standard deviation (meV) of the resolution at each energy transfer (meV).

        ``analyser`` names a reflection (default: the file's default); ``ef`` (meV) picks the
        reflection with that final energy, InstrumentError if none (an indirect machine cannot
        change it)."""
        ana = self.analyser(analyser, ef)
        e = self.check_energy(energy_transfer, ana)
        if self.moderator.continuous:
            return np.full(e.shape, ana.sigma_final_energy)
        ratio = np.sqrt((ana.final_energy + e) / ana.final_energy)
        term = (1.0 + ana.flight_path_secondary / self.moderator_sample * ratio**3) * ana.sigma_final_energy
        return np.sqrt(self._time_term(e, ana.final_energy, self.moderator_sample) ** 2 + term**2)

    def resolution(self, energy_transfer, ef: float | None = None,
                   analyser: str | None = None) -> np.ndarray:
        """Energy resolution FWHM (meV) at each energy transfer (meV); FWHM = 2.3548 sigma."""
        return FWHM_PER_SIGMA * self.resolution_sigma(energy_transfer, ef, analyser)

    def elastic_resolution(self, ef: float | None = None, analyser: str | None = None) -> float:
        """FWHM (meV) of the elastic line."""
        return float(self.resolution(0.0, ef, analyser))

    def coverage(self, ef: float | None = None, energy=None, n: int = 401,
                 analyser: str | None = None) -> Coverage:
        """Accessible (|Q|, E) over the analyser angles and the analyser's energy window."""
        ana = self.analyser(analyser, ef)
        energy = np.linspace(ana.e_min, ana.e_max, n) if energy is None else energy
        return coverage_indirect(ana.final_energy, self.two_theta_min, self.two_theta_max,
                                 energy=energy)

    def flux_per_mev(self, energy_transfer, flux: float | None = None) -> np.ndarray:
        """Incident flux per unit incident energy (n/cm^2/s/meV) at the sample for the
        incident energies E_f + E of ``energy_transfer`` (meV) (default analyser).

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
        """Integrated analyser reflectivity R_peak sqrt(2 pi) sigma_f (meV) (default analyser).

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


    def summary(self) -> dict:
        rows = {**super().summary(), "analyser": self.reflection, "Ef (meV)": self.final_energy,
                "elastic FWHM (ueV)": 1e3 * self.elastic_resolution(),
                "E window (meV)": f"{self.e_min:g}-{self.e_max:g}"}
        if len(self.analysers) > 1:
            rows["analysers"] = ", ".join(f"{a.name} ({a.final_energy:g} meV)"
                                          for a in self.analysers.values())
        return rows
