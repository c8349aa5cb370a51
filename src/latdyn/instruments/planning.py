"""Compare instruments for one measurement: which settings reach it, their resolution and flux.

A measurement is a box in (|Q|, E) (``q_range`` in 1/angstrom, ``energy_range`` in meV) and,
optionally, the largest acceptable energy resolution FWHM (meV) anywhere in the box.  For every
time-of-flight instrument of the library (or those named) :func:`compare_instruments` scans its
settings (Fermi package or disk mode or analyser reflection, chopper frequency and incident
energy), keeps those whose detectors cover at least ``min_coverage`` of the box and whose FWHM
(the instrument's default width convention, :mod:`latdyn.instruments.direct`) stays within the
requirement over the box's energy range, and ranks them by flux at the sample.

Flux: the published or facility-calculator flux at the sample (n/cm^2/s) where the instrument
file has one (:meth:`DirectGeometry.flux_at_sample`); otherwise only the flux trend of the
instrument's own settings is known (:meth:`DirectGeometry.relative_flux`), and the row says so.
``relative flux`` is therefore the flux over the best absolute flux of all rows where absolute
fluxes exist (``flux basis`` 'absolute'), and over the instrument's own best setting otherwise
('within instrument': no absolute flux is published for it; 'unknown' for analyser
instruments without one).
Triple-axis spectrometers and diffractometers are left out (they do not map a (Q, E) box in
one setting).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, InstrumentError
from .choppers import FermiChopper
from .library import list_instruments, load_instrument

__all__ = ["PlanComparison", "compare_instruments"]

#: Incident energies tried, in units of the lowest useful one (dense near the threshold,
#: where the resolution is best for a given energy range).
_EI_STEPS = (1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0)
_N_FREQ = 4
_GRID = 11


@dataclass
class PlanComparison:
    """Result of :func:`compare_instruments`: one row per kept setting (best first within
    each instrument), the instruments that reach the measurement in none of their settings
    (with the reason) and the requirement."""

    energy_range: tuple[float, float]
    q_range: tuple[float, float]
    fwhm_max: float | None
    rows: list[dict] = field(default_factory=list)
    unreachable: dict = field(default_factory=dict)
    _curves: dict = field(default_factory=dict, repr=False)

    def best(self) -> list[dict]:
        """The best (highest-flux) row of every instrument that reaches the measurement."""
        seen, out = set(), []
        for row in self.rows:
            if row["instrument"] not in seen:
                seen.add(row["instrument"])
                out.append(row)
        return out

    def table(self) -> list[dict]:
        """Rows for printing (all with the same keys): every kept setting, then one row per
        instrument that reaches the measurement in none, with the reason under ``note``."""
        keys = list(self.rows[0]) if self.rows else ["instrument", "setting"]
        out = [{**r, "note": ""} for r in self.rows]
        out += [{**{k: None for k in keys}, "instrument": name, "setting": "-", "note": why}
                for name, why in self.unreachable.items()]
        return out

    def figure(self):
        """Two panels: the FWHM across the energy range of every instrument's best setting, and
        the requested (|Q|, E) box with the coverage of those settings.  Returns the figure."""
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.4), dpi=110, constrained_layout=True)
        e_lo, e_hi = self.energy_range
        q_lo, q_hi = self.q_range
        span_q, span_e = q_hi - q_lo, e_hi - e_lo
        e_wide = np.linspace(e_lo - 0.5 * span_e, e_hi + 0.5 * span_e, 201)
        for i, row in enumerate(self.best()):
            e, w, coverage_of = self._curves[_key(row)]
            colour = f"C{i % 10}"
            label = f"{row['instrument']} {row['setting']} ({row['incident/final E (meV)']:g} meV)"
            ax1.plot(e, w, "-", color=colour, label=label)
            q_poly, e_poly = coverage_of(e_wide).polygon()
            ax2.plot(q_poly, e_poly, "-", color=colour, lw=1.0, label=row["instrument"])
        if self.fwhm_max is not None:
            ax1.axhline(self.fwhm_max, color="k", ls="--", lw=1.0, label="required FWHM")
        ax1.set_xlabel("Energy transfer (meV)")
        ax1.set_ylabel("Resolution FWHM (meV)")
        ax1.set_xlim(e_lo, e_hi)
        ax1.legend(frameon=False, fontsize=7)
        ax2.add_patch(plt.Rectangle((q_lo, e_lo), q_hi - q_lo, e_hi - e_lo, fill=False, ec="k",
                                    ls="--", lw=1.2))
        ax2.set_xlim(max(0.0, q_lo - 0.5 * span_q), q_hi + 0.5 * span_q)
        ax2.set_ylim(e_lo - 0.5 * span_e, e_hi + 0.5 * span_e)
        ax2.set_xlabel("|Q| (Å$^{-1}$)")
        ax2.set_ylabel("Energy transfer (meV)")
        ax2.set_title("Requested box (dashed) and coverage of the best settings", fontsize=9)
        for ax in (ax1, ax2):
            ax.tick_params(direction="in", top=True, right=True)
        return fig

    heading = "Instruments for this measurement"

    def to_json(self) -> dict:
        """The requirement: energy range (meV), |Q| range (1/angstrom), largest FWHM (meV)."""
        return {"energy_range": {"value": list(self.energy_range), "error": None, "unit": "meV"},
                "q_range": {"value": list(self.q_range), "error": None, "unit": "1/angstrom"},
                "fwhm_max": None if self.fwhm_max is None else
                {"value": self.fwhm_max, "error": None, "unit": "meV"}}

    def report(self, command: str | None = None):
        """An HTML report: the requirement, the figure and the table."""
        from ..report import Report

        rep = Report("Instruments for a measurement", command=command)
        rep.add_text(None, f"Energy transfer {self.energy_range[0]:g} to {self.energy_range[1]:g} meV, "
                     f"|Q| {self.q_range[0]:g} to {self.q_range[1]:g} 1/angstrom"
                     + (f", FWHM at most {self.fwhm_max:g} meV." if self.fwhm_max is not None else "."))
        if self.rows:
            rep.add_figure("plan_compare", self.figure(), "Resolution and coverage of the best settings")
        rep.add_table("Settings", self.table())
        return rep

    def write(self, folder: str | Path, command: str | None = None) -> list[Path]:
        """Write ``plan_compare.csv`` (the table) and ``plan_compare.png`` (the figure; ``.svg``
        too with ``LATDYN_FIGURE_FORMATS=png,svg``) into ``folder`` (replaced whole); returns the
        paths."""
        from ..report.folder import write_result_folder

        rows = self.table()
        keys = list(dict.fromkeys(k for r in rows for k in r))

        def table(path):
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=keys)
                writer.writeheader()
                writer.writerows(rows)

        fig = self.figure()
        try:
            from ..report.html import figure_formats_setting

            return write_result_folder(folder, {"plan_compare.csv": table} | {
                f"plan_compare.{fmt}": (lambda p, fmt=fmt: fig.savefig(p, format=fmt))
                for fmt in figure_formats_setting()})
        finally:
            import matplotlib.pyplot as plt

            plt.close(fig)


def _key(row: dict) -> tuple:
    return (row["instrument"], row["setting"], row["frequency (Hz)"], row["incident/final E (meV)"])


def _check_range(value, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be two numbers (min, max)", field=name, value=value) from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InputError(f"{name} must be finite with min < max", field=name, value=value)
    return lo, hi


def compare_instruments(energy_range, q_range, fwhm_max: float | None = None,
                        instruments=None, min_coverage: float = 1.0,
                        per_instrument: int = 3) -> PlanComparison:
    """Settings of each instrument that reach the (|Q|, E) box, ranked by flux (module docstring).

    ``energy_range`` (meV) and ``q_range`` (1/angstrom): (min, max); ``fwhm_max`` (meV): the
    largest acceptable resolution FWHM over the energy range (None: any); ``instruments``:
    library names or files (default: every direct- and indirect-geometry instrument of the
    library); ``min_coverage``: fraction of an 11 x 11 grid over the box the detectors must
    reach (1 = all of it); ``per_instrument``: how many settings to keep per instrument.
    """
    e_range = _check_range(energy_range, "energy_range")
    q_range = _check_range(q_range, "q_range")
    if q_range[0] < 0:
        raise InputError("|Q| must be non-negative", field="q_range", value=q_range)
    if fwhm_max is not None and not (np.isfinite(fwhm_max) and fwhm_max > 0):
        raise InputError("fwhm_max must be positive (meV)", field="fwhm_max", value=fwhm_max)
    if not 0 < min_coverage <= 1:
        raise InputError("min_coverage must lie in (0, 1]", field="min_coverage", value=min_coverage)
    names = list_instruments() if instruments is None else list(instruments)
    result = PlanComparison(e_range, q_range, fwhm_max)
    blocks = []
    qg, eg = np.meshgrid(np.linspace(*q_range, _GRID), np.linspace(*e_range, _GRID))
    for name in names:
        inst = load_instrument(name)
        if inst.kind not in ("direct", "indirect"):
            if instruments is not None:
                result.unreachable[inst.name] = f"{inst.kind}: not compared (no (Q, E) map)"
            continue
        scan = _scan_direct if inst.kind == "direct" else _scan_indirect
        rows, why = scan(inst, e_range, qg, eg, fwhm_max, min_coverage, result._curves)
        if not rows:
            result.unreachable[inst.name] = why
            continue
        rows.sort(key=lambda r: -r["_flux"])
        blocks.append(rows[:per_instrument])
    # instruments with an absolute flux first (best first), then the others
    blocks.sort(key=lambda b: (b[0]["flux (n/cm^2/s)"] is None, -(b[0]["flux (n/cm^2/s)"] or 0.0)))
    for block in blocks:
        result.rows.extend(block)
    _relative_flux(result.rows)
    return result


def _relative_flux(rows: list[dict]) -> None:
    absolute = [r["flux (n/cm^2/s)"] for r in rows if r["flux (n/cm^2/s)"] is not None]
    best_abs = max(absolute) if absolute else None
    by_inst: dict[str, float] = {}
    for r in rows:
        by_inst[r["instrument"]] = max(by_inst.get(r["instrument"], 0.0), r["_flux"])
    for r in rows:
        if r["flux (n/cm^2/s)"] is not None:
            r["relative flux"] = r["flux (n/cm^2/s)"] / best_abs
            r["flux basis"] = "absolute"
        elif r["_flux"] > 0:
            r["relative flux"] = r["_flux"] / by_inst[r["instrument"]]
            r["flux basis"] = "within instrument"
        else:
            r["relative flux"] = None
            r["flux basis"] = "unknown"
        del r["_flux"]


def _fraction(cov, qg, eg) -> float:
    return float(np.mean(cov.contains(qg, eg)))


def _scan_direct(inst, e_range, qg, eg, fwhm_max, min_coverage, curves):
    e_lo, e_hi = e_range
    lo = max(inst.ei_min, 1.05 * e_hi if e_hi > 0 else inst.ei_min)
    if lo > inst.ei_max:
        return [], f"the energy range needs Ei > {e_hi:g} meV, above the instrument's {inst.ei_max:g}"
    if inst.monochromator is not None and inst.monochromator.wavelengths:
        from ..units import wavelength_to_energy

        eis = [float(x) for x in wavelength_to_energy(np.array(inst.monochromator.wavelengths))
               if inst.ei_min <= float(wavelength_to_energy(x)) <= inst.ei_max and
               float(wavelength_to_energy(x)) >= lo]
    else:
        eis = [lo * step for step in _EI_STEPS if lo * step <= inst.ei_max]
    covered = {}
    for ei in eis:
        covered[ei] = inst.coverage(ei, energy=np.linspace(e_lo, min(e_hi, 0.999 * ei), 101))
    eis = [ei for ei in eis if _fraction(covered[ei], qg, eg) >= min_coverage]
    if not eis:
        return [], "the detectors do not cover the (|Q|, E) box at any incident energy"
    rows, reasons = [], set()
    for mode in inst.modes or [None]:
        for package in inst.packages or [None]:
            for ei in eis:
                for f in _frequencies(inst, ei, mode, package):
                    e = np.linspace(e_lo, min(e_hi, 0.999 * ei), 41)
                    try:
                        w = np.asarray(inst.resolution(e, ei=ei, frequency=f, mode=mode, package=package))
                    except (InstrumentError, InputError):
                        reasons.add("no chopper setting transmits")
                        continue
                    if fwhm_max is not None and float(np.max(w)) > fwhm_max:
                        reasons.add(f"resolution coarser than {fwhm_max:g} meV")
                        continue
                    flux, flux_abs = _direct_flux(inst, ei, f, mode, package)
                    setting = "/".join(x for x in (mode, package) if x) or "default"
                    row = {"instrument": inst.name, "setting": setting, "frequency (Hz)": round(f, 3),
                           "incident/final E (meV)": round(float(ei), 4),
                           "coverage": round(_fraction(covered[ei], qg, eg), 3),
                           "elastic FWHM (meV)": float(inst.elastic_resolution(
                               ei, frequency=f, mode=mode, package=package)),
                           "max FWHM in range (meV)": float(np.max(w)),
                           "flux (n/cm^2/s)": flux_abs, "_flux": flux}
                    curves[_key(row)] = (e, w, _direct_coverage(inst, ei))
                    rows.append(row)
    return rows, "; ".join(sorted(reasons)) or "no setting reaches it"


def _direct_coverage(inst, ei):
    """energy (meV) -> Coverage of a direct instrument at ``ei`` (energies above Ei dropped)."""
    return lambda energy: inst.coverage(ei, energy=np.asarray(energy)[np.asarray(energy) < ei])


def _indirect_coverage(inst, analyser):
    """energy (meV) -> Coverage of one analyser reflection."""
    def coverage(energy):
        e = np.asarray(energy)
        return inst.coverage(analyser=analyser, energy=e[e > -inst.analysers[analyser].final_energy])
    return coverage


def _frequencies(inst, ei, mode, package) -> list[float]:
    """Resolution frequencies to try: the focusing one with a crystal monochromator; else a
    few multiples of the source rate (10 Hz steps on a continuous source) up to the chopper
    maximum, where every Fermi chopper transmits."""
    try:
        default = inst.frequency_for(ei, mode, package)
    except InstrumentError:
        return []
    if inst.monochromator is not None:
        return [default]
    chops = [c for c in inst.choppers(mode, package) if getattr(c, "fixed_frequency", None) is None]
    if not chops:
        return [default]
    f_max = min(c.max_frequency / getattr(c, "frequency_ratio", 1.0) for c in chops)
    step = inst.source_frequency or 10.0
    grid = np.unique(np.clip(np.round(np.linspace(f_max / _N_FREQ, f_max, _N_FREQ) / step) * step,
                             step, f_max))
    out = []
    for f in np.union1d(grid, [default]):
        fermi = [c for c in chops if isinstance(c, FermiChopper)]
        if all(float(c.transmission(ei, inst._frequency(c, float(f)))) > 0 for c in fermi):
            out.append(float(f))
    return out


def _direct_flux(inst, ei, f, mode, package) -> tuple[float, float | None]:
    """(ranking flux, absolute flux or None): the absolute flux at the sample where the file
    has a source for it, else the relative flux trend."""
    try:
        flux = float(inst.flux_at_sample(ei, frequency=f, mode=mode, package=package))
        return flux, flux
    except InstrumentError:
        return float(inst.relative_flux(ei, frequency=f, mode=mode, package=package)), None


def _scan_indirect(inst, e_range, qg, eg, fwhm_max, min_coverage, curves):
    e_lo, e_hi = e_range
    rows, reasons = [], set()
    for name, ana in inst.analysers.items():
        if e_lo < ana.e_min or e_hi > ana.e_max:
            reasons.add("the energy range lies outside the analysers' windows")
            continue
        cov = inst.coverage(analyser=name, energy=np.linspace(e_lo, e_hi, 101))
        frac = _fraction(cov, qg, eg)
        if frac < min_coverage:
            reasons.add("the analysers do not cover the (|Q|, E) box")
            continue
        e = np.linspace(e_lo, e_hi, 41)
        w = np.asarray(inst.resolution(e, analyser=name))
        if fwhm_max is not None and float(np.max(w)) > fwhm_max:
            reasons.add(f"resolution coarser than {fwhm_max:g} meV")
            continue
        # a white beam per meV is not comparable with a monochromatic flux: no ranking flux
        row = {"instrument": inst.name, "setting": ana.reflection, "frequency (Hz)": None,
               "incident/final E (meV)": ana.final_energy, "coverage": round(frac, 3),
               "elastic FWHM (meV)": float(inst.elastic_resolution(analyser=name)),
               "max FWHM in range (meV)": float(np.max(w)), "flux (n/cm^2/s)": None,
               "_flux": 0.0}
        curves[_key(row)] = (e, w, _indirect_coverage(inst, name))
        rows.append(row)
    return rows, "; ".join(sorted(reasons)) or "no analyser reaches it"
