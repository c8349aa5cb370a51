"""Tables of the instrument library: what ``latdyn instrument list|show|resolution|coverage|tas``
computes and prints.

Each function returns an :class:`InstrumentTable` (``rows()``: the printed table, units in
``to_json()['units']``; ``write(folder)``: ``table.csv`` and ``report.html``):

* :func:`library_table`: every instrument with its kind and facility;
* :func:`describe_instrument`: the key facts and references of one;
* :func:`resolution_table`: the energy resolution FWHM (meV) across energy transfer (direct:
  -0.5 Ei to 0.9 Ei at ``ei``; indirect: the analyser's range; triple axis: 0 to 0.6 E_fixed
  at |Q| = ``q``);
* :func:`coverage_table`: the |Q| range reached at each energy transfer (TOF spectrometers);
* :func:`tas_table`: triple-axis angles and Cooper-Nathans widths (FWHM) at (|Q|, E).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .library import list_instruments, load_instrument

__all__ = ["InstrumentTable", "library_table", "describe_instrument", "resolution_energies",
           "resolution_table", "coverage_table", "tas_table"]


@dataclass
class InstrumentTable:
    """A table about instruments: the ``heading``, the rows, notes and column units."""

    heading: str
    table: list[dict]
    info: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)

    def rows(self) -> list[dict]:
        return self.table

    def to_json(self) -> dict:
        return dict(self.info) | ({"units": self.units} if self.units else {})

    def report(self, command: str | None = None):
        from ..report import Report

        rep = Report(self.heading, command=command)
        if self.info:
            rep.add_text(None, "; ".join(f"{k}: {v}" for k, v in self.info.items()))
        rep.add_table(None, self.rows())
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``table.csv`` (the rows) and ``report.html`` into ``folder`` (replaced whole)."""
        import csv
        import io

        from ..fileio import write_text_atomic
        from ..report.folder import write_result_folder

        buf = io.StringIO()
        rows = self.rows()
        w = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        w.writeheader()
        w.writerows(rows)
        text = buf.getvalue()
        return write_result_folder(folder, {"table.csv": lambda p: write_text_atomic(p, text)},
                                   self.report(command))


def _instrument(instrument):
    return load_instrument(instrument) if isinstance(instrument, (str, Path)) else instrument


def library_table() -> InstrumentTable:
    """Every instrument of the library: name, kind, facility."""
    rows = [load_instrument(n).summary() for n in list_instruments()]
    return InstrumentTable("latdyn instrument library",
                           [{k: r.get(k, "") for k in ("name", "kind", "facility")} for r in rows])


def describe_instrument(instrument) -> InstrumentTable:
    """The key facts (``summary()``) and references of one instrument (a name or YAML file)."""
    inst = _instrument(instrument)
    rows = [{"field": k, "value": v} for k, v in inst.summary().items()]
    rows += [{"field": f"reference {k}", "value": v} for k, v in inst.references.items()]
    return InstrumentTable(f"{inst.name} ({inst.file})", rows)


def resolution_energies(instrument, *, ei: float | None = None, q: float | None = None,
                        points: int = 11, **settings) -> tuple[object, np.ndarray, np.ndarray]:
    """(instrument, energy transfers E (meV), FWHM(E) (meV)) across the instrument's range
    (module docstring); ``settings``: chopper frequency, mode, package of direct machines."""
    inst = _instrument(instrument)
    n = max(int(points), 2)
    if inst.kind == "direct":
        if ei is None:
            raise InputError("direct-geometry instruments need --ei", field="ei")
        e = np.linspace(-0.5 * ei, 0.9 * ei, n)
        return inst, e, inst.resolution(e, ei=ei, **settings)
    if inst.kind == "indirect":
        e = np.linspace(inst.e_min, inst.e_max, n)
        return inst, e, inst.resolution(e)
    if inst.kind == "triple_axis":
        if q is None:
            raise InputError("triple-axis instruments need --q", field="q")
        e = np.linspace(0.0, 0.6 * inst.fixed_energy, n)
        return inst, e, np.atleast_1d(inst.resolution(e, q=q))
    raise InputError("instrument has no energy resolution", field="instrument", value=inst.name)


def resolution_table(instrument, *, ei: float | None = None, frequency: float | None = None,
                     mode: str | None = None, package: str | None = None, q: float | None = None,
                     points: int = 11) -> InstrumentTable:
    """Energy resolution FWHM (meV) at ``points`` energy transfers (:func:`resolution_energies`;
    direct geometry: the facility calculator's width convention)."""
    inst, e, fw = resolution_energies(instrument, ei=ei, q=q, points=points, frequency=frequency,
                                      mode=mode, package=package)
    rows = [{"E": float(x), "FWHM": float(w)} for x, w in zip(e, fw, strict=True)]
    return InstrumentTable(f"{inst.name} energy resolution", rows,
                           {"instrument": inst.name,
                            "width": "FWHM (direct geometry: the facility calculator's convention)"},
                           {"E": "meV", "FWHM": "meV"})


def coverage_table(instrument, *, ei: float | None = None, points: int = 11) -> InstrumentTable:
    """|Q| range (1/angstrom) reached at ``points`` energy transfers (meV) of a TOF
    spectrometer (direct geometry at ``ei``)."""
    inst = _instrument(instrument)
    if inst.kind == "direct":
        if ei is None:
            raise InputError("direct-geometry instruments need --ei", field="ei")
        cov = inst.coverage(ei=ei, n=max(points, 2))
    elif inst.kind == "indirect":
        cov = inst.coverage(n=max(points, 2))
    else:
        raise InputError("coverage is defined for TOF spectrometers", field="instrument", value=inst.name)
    rows = [{"E": float(e), "Q_min": float(a), "Q_max": float(b)}
            for e, a, b in zip(cov.energy, cov.q_min, cov.q_max, strict=True)]
    return InstrumentTable(f"{inst.name} coverage", rows, {"instrument": inst.name},
                           {"E": "meV", "Q_min": "1/angstrom", "Q_max": "1/angstrom"})


def tas_table(instrument, q: float, energies) -> InstrumentTable:
    """Triple-axis angles A1..A6 (deg), k_i, k_f (1/angstrom) and the Cooper-Nathans FWHM of a
    vanadium scan in energy (meV) and of Bragg scans along and across Q (1/angstrom) at |Q| =
    ``q`` (1/angstrom) and each energy transfer (meV)."""
    inst = _instrument(instrument)
    rows = []
    for e in energies:
        w = inst.bragg_widths(q, e)
        rows.append({**inst.angles(q, e).as_dict(), "dE_vanadium": w["E_projection"],
                     "dQ_parallel": w["Q_par"], "dQ_perpendicular": w["Q_perp"]})
    units = {**{f"A{i}": "deg" for i in range(1, 7)}, "ki": "1/angstrom", "kf": "1/angstrom",
             "Q": "1/angstrom", "E": "meV", "dE_vanadium": "meV", "dQ_parallel": "1/angstrom",
             "dQ_perpendicular": "1/angstrom"}
    return InstrumentTable(f"{inst.name}: angles (deg) and Cooper-Nathans FWHM", rows,
                           {"instrument": inst.name}, units)
