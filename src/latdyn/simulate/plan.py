"""Plan an experiment on one instrument: what ``latdyn plan INSTRUMENT`` computes and writes.

:func:`plan_experiment` gives the energy resolution FWHM across energy transfer
(:func:`latdyn.instruments.overview.resolution_energies`), on direct-geometry machines the
|Q| resolution at a chosen |Q|, the elastic FWHM and the incident energies that share the
frame (repetition-rate multiplication), and on TOF spectrometers the elastic count rate of a
vanadium standard (:func:`latdyn.simulate.elastic_count_rate`, or why it cannot be given).
:class:`ExperimentPlan` writes ``plan.html`` with ``figures/coverage`` (TOF) and
``figures/resolution`` (docs/instruments.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, InstrumentError

__all__ = ["ExperimentPlan", "plan_experiment"]


def _quantity(value, unit: str) -> dict:
    return {"value": value, "error": None, "unit": unit}


@dataclass
class ExperimentPlan:
    """The resolution table of an instrument at its settings and the plan's numbers."""

    instrument: object
    energy: np.ndarray
    fwhm: np.ndarray
    table: list[dict]
    info: dict = field(default_factory=dict)
    coverage: object = None

    @property
    def heading(self) -> str:
        return f"{self.instrument.name} plan"

    def rows(self) -> list[dict]:
        """E, FWHM (meV), FWHM over Ei (%) and, where asked for, the |Q| FWHM (1/angstrom;
        None where the detectors do not reach |Q| at that energy)."""
        return self.table

    def to_json(self) -> dict:
        return {"instrument": self.instrument.name, **self.info,
                "units": {"E": "meV", "FWHM": "meV", "FWHM_over_Ei": "%", "Q_FWHM": "1/angstrom"}}

    def report(self, command: str | None = None):
        """Coverage (TOF spectrometers), the resolution figure and table."""
        from ..report import Report, new_figure, plot_coverage

        rep = Report(f"Experiment plan: {self.instrument.name}", command=command)
        if self.coverage is not None:
            fig, _ = plot_coverage([self.coverage], [self.instrument.name])
            rep.add_figure("coverage", fig, "Accessible (|Q|, E)")
        fig2, ax2 = new_figure()
        ax2.plot(self.energy, self.fwhm * 1e3, "o-")
        ax2.set_xlabel("Energy transfer (meV)")
        ax2.set_ylabel("Resolution FWHM (µeV)")
        rep.add_figure("resolution", fig2, "Energy resolution (FWHM)")
        rep.add_table("Resolution", self.rows())
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``plan.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {}, self.report(command), report_name="plan.html")


def _q_fwhm(inst, q: float, energy: float, ei: float, settings: dict) -> float | None:
    """|Q| FWHM (1/angstrom) at (q, E), or None where the detectors cannot reach it."""
    try:
        return float(inst.q_resolution(q, energy, ei, **settings))
    except InputError:
        return None


def _vanadium(inst, ei, flux, mass, area, analyser_reflectivity, chopper) -> dict:
    """Elastic count rate of a vanadium standard (counts/s over all detectors), or why not."""
    from .counts import elastic_count_rate
    from .sample import Sample

    kw = chopper if inst.kind == "direct" else {"analyser_reflectivity": analyser_reflectivity}
    out = {"vanadium_mass": _quantity(mass, "g")}
    try:
        van = Sample("V", mass, area_cm2=area)
        rate = elastic_count_rate(inst, van, ei=ei if inst.kind == "direct" else None, flux=flux,
                                  cross_section="incoherent", **kw)
    except InstrumentError as exc:
        return out | {"vanadium_rate": None, "vanadium_rate_unavailable": str(exc)}
    out["vanadium_rate"] = _quantity(rate, "counts/s")
    if flux is None and inst.kind == "direct":
        out["flux_at_sample"] = _quantity(inst.flux_at_sample(ei, **kw), "1/(cm**2*s)")
    return out


def plan_experiment(instrument, *, ei: float | None = None, frequency: float | None = None,
                    mode: str | None = None, package: str | None = None, q: float | None = None,
                    points: int = 11, flux: float | None = None, vanadium_mass: float = 1.0,
                    vanadium_area: float | None = None,
                    analyser_reflectivity: float | None = None) -> ExperimentPlan:
    """The plan of ``latdyn plan``: resolution FWHM (meV) at ``points`` energy transfers of
    ``instrument`` (a library name or YAML file; direct geometry at ``ei`` meV with chopper
    ``frequency`` (Hz), disk ``mode`` or Fermi ``package``; triple axis at |Q| = ``q``); on
    direct machines the |Q| FWHM at ``q`` (1/angstrom), the elastic FWHM and the RRM incident
    energies; on TOF spectrometers the elastic rate of ``vanadium_mass`` g of vanadium (plate of
    ``vanadium_area`` cm^2 for self-shielding; ``flux`` in n/cm^2/s, indirect n/cm^2/s/meV,
    where the library has none; ``analyser_reflectivity`` for indirect machines)."""
    from ..instruments.overview import resolution_energies

    chopper = {"frequency": frequency, "mode": mode, "package": package}
    inst, e, fw = resolution_energies(instrument, ei=ei, q=q, points=points, **chopper)
    rows = [{"E": float(x), "FWHM": float(w), "FWHM_over_Ei": 100 * float(w) / ei if ei else float("nan")}
            for x, w in zip(e, fw, strict=True)]
    info: dict = {}
    if inst.kind == "direct":
        if q is not None:
            for row in rows:
                row["Q_FWHM"] = _q_fwhm(inst, q, row["E"], ei, chopper)
        info["elastic_fwhm"] = _quantity(inst.elastic_resolution(ei, **chopper), "meV")
        info["rrm_ei"] = _quantity([round(float(x), 4) for x in inst.multi_ei(ei, **chopper)], "meV")
    coverage = None
    if inst.kind in ("direct", "indirect"):
        info |= _vanadium(inst, ei, flux, vanadium_mass, vanadium_area, analyser_reflectivity, chopper)
        coverage = inst.coverage(ei=ei, n=max(points, 2)) if inst.kind == "direct" else \
            inst.coverage(n=max(points, 2))
    return ExperimentPlan(inst, e, np.asarray(fw), rows, info, coverage)
