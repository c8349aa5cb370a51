r"""Thermodynamics from a DOS file or a measured powder S(Q,E): ``latdyn ins thermo`` and
``latdyn ins dos``.

* :func:`thermodynamics_from_dos`: C_V, S, F, U over temperature (per mole of formula units,
  ``atoms`` per formula unit), the zero-point energy, band centre and the Debye temperatures
  of the moments n = 2, 0, -2 (:mod:`latdyn.thermo.harmonic`), optionally the vibrational
  entropy change against a second DOS.  Writes ``thermo.csv``, ``report.html``, ``figures/cv``.
* :func:`generalized_dos_thermodynamics`: the generalised DOS of a powder S(Q,E)
  (:func:`latdyn.reduce.generalized_dos`: incoherent approximation, Bose, Debye-Waller and
  iterative multiphonon corrections; 3 states per atom) and its thermodynamics per mole of
  atoms.  Writes ``dos.csv``, ``thermo.csv``, ``report.html``, ``figures/dos``, ``figures/cv``.

Layouts: docs/ins.md.  Units: T K, Cv and S J/(mol K), F, U and ZPE J/mol, energies meV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .harmonic import band_centre, debye_temperature_from_moments, entropy_difference, thermodynamics

__all__ = ["temperature_grid", "read_dos", "DOSThermodynamics", "thermodynamics_from_dos",
           "GDOSThermodynamics", "generalized_dos_thermodynamics"]

#: units of the columns of the thermodynamics table
THERMO_UNITS = {"T": "K", "Cv": "J/(mol*K)", "Cv_over_3R": "dimensionless", "S": "J/(mol*K)",
                "F": "J/mol", "U": "J/mol", "dS_vib": "J/(mol*K)"}


def temperature_grid(spec) -> np.ndarray:
    """Temperatures (K) from 'a:b:step' (a to b inclusive), 'a,b,c', or a sequence of numbers."""
    if not isinstance(spec, str):
        return np.asarray(spec, dtype=float)
    if ":" in spec:
        try:
            a, b, step = (float(x) for x in spec.split(":"))
        except ValueError as exc:
            raise InputError("temperature range must be a:b:step", field="T-range", value=spec) from exc
        if not (step > 0 and b >= a):
            raise InputError("temperature range needs b >= a and step > 0", field="T-range", value=spec)
        return np.arange(a, b + 0.5 * step, step)
    try:
        return np.asarray([float(x) for x in spec.split(",") if x.strip()])
    except ValueError as exc:
        raise InputError("expected comma-separated numbers", field="T-range", value=spec) from exc


def read_dos(obj):
    """A :class:`latdyn.data.DensityOfStates` from a file (any format latdyn.data.io reads:
    energy in meV and g(E), any normalisation) or anything
    :func:`latdyn.data.as_density_of_states` takes."""
    from ..data import as_density_of_states

    if isinstance(obj, (str, Path)):
        from ..data.io import load

        return as_density_of_states(load(obj).data, source=str(obj))
    return as_density_of_states(obj)


def _rows(tab) -> list[dict]:
    keys = ("T", "Cv", "Cv_over_3R", "S", "F", "U")
    return [{k: float(tab[k][i]) for k in keys} for i in range(tab["T"].size)]


def _write_thermo_csv(path: Path, tab) -> Path:
    """``thermo.csv``: T [K], Cv [J/(mol K)], Cv_over_3R, S [J/(mol K)], F [J/mol], U [J/mol]."""
    import csv
    import io

    from ..fileio import write_text_atomic

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["T [K]", "Cv [J/(mol K)]", "Cv_over_3R", "S [J/(mol K)]", "F [J/mol]", "U [J/mol]"])
    for r in _rows(tab):
        w.writerow([f"{v:.10g}" for v in r.values()])
    return write_text_atomic(path, buf.getvalue())


def _quantity(value, unit: str) -> dict:
    return {"value": float(value), "error": None, "unit": unit}


@dataclass
class DOSThermodynamics:
    """Harmonic thermodynamics of a DOS: ``table`` (:func:`latdyn.thermo.thermodynamics`: T,
    Cv, Cv_over_3R, S, F, U arrays and the scalar ZPE), band centre (meV), Debye temperatures
    of the moments {2, 0, -2} (K), and the entropy change S(dos) - S(compare) (J/(mol K))."""

    table: dict
    band_centre: float
    theta_d: dict
    atoms_per_formula_unit: float = 1.0
    delta_s: np.ndarray | None = None
    inputs: list = field(default_factory=list)

    heading = "harmonic thermodynamics (per mole of formula units)"

    def rows(self) -> list[dict]:
        """T, Cv, Cv_over_3R, S, F, U (and dS_vib) per temperature (units in ``to_json``)."""
        rows = _rows(self.table)
        if self.delta_s is not None:
            for r, v in zip(rows, self.delta_s, strict=True):
                r["dS_vib"] = float(v)
        return rows

    def to_json(self) -> dict:
        out = {"ZPE": _quantity(self.table["ZPE"], "J/mol"),
               "band_centre": _quantity(self.band_centre, "meV")}
        out |= {f"theta_D_n{n:g}": _quantity(t, "K") for n, t in self.theta_d.items()}
        return out | {"atoms_per_formula_unit": self.atoms_per_formula_unit, "units": THERMO_UNITS}

    def report(self, command: str | None = None):
        from ..report import Report
        from .figures import thermo_figure

        rep = Report(f"Thermodynamics of {self.inputs[0]}" if self.inputs else "Thermodynamics of a DOS",
                     command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_figure("cv", thermo_figure(self.table), "Heat capacity over the Dulong-Petit value 3R")
        rep.add_table("Thermodynamics", self.rows())
        rep.add_table("Scalars", [{"quantity": k, **v} for k, v in self.to_json().items()
                                  if isinstance(v, dict) and "value" in v])
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``thermo.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"thermo.csv": lambda p: _write_thermo_csv(p, self.table)},
                                   self.report(command))


def thermodynamics_from_dos(dos, temperatures="10:600:10", *, atoms: float = 1.0,
                            compare=None) -> DOSThermodynamics:
    """``latdyn ins thermo``: the harmonic thermodynamics of ``dos`` (a file or a DOS,
    :func:`read_dos`) at ``temperatures`` (K; :func:`temperature_grid`) per mole of formula
    units of ``atoms`` atoms; with ``compare`` (a second DOS) the entropy change
    S(dos) - S(compare)."""
    d = read_dos(dos)
    T = temperature_grid(temperatures)
    tab = thermodynamics(d, T, atoms)
    theta = {n: debye_temperature_from_moments(d, n) for n in (2.0, 0.0, -2.0)}
    ds = None if compare is None else entropy_difference(d, read_dos(compare), T, atoms)
    inputs = [p for p in (dos, compare) if isinstance(p, (str, Path))]
    return DOSThermodynamics(tab, band_centre(d), theta, atoms, ds, inputs)


@dataclass
class GDOSThermodynamics:
    """The generalised DOS of a powder (:class:`latdyn.reduce.GDOSResult`) and its
    thermodynamics per mole of atoms (:class:`DOSThermodynamics`)."""

    gdos: object
    thermo: DOSThermodynamics
    inputs: list = field(default_factory=list)

    heading = "generalised DOS: thermodynamics per mole of atoms"

    def rows(self) -> list[dict]:
        return self.thermo.rows()

    def to_json(self) -> dict:
        g = self.gdos
        return {"iterations": g.iterations, "converged": g.converged,
                "multiphonon_fraction": g.multiphonon_fraction, "two_w_at_mean_Q": g.two_w,
                "msd_x": _quantity(g.msd, "angstrom**2"), "mass": _quantity(g.mass, "amu"),
                "temperature": _quantity(g.temperature, "K"),
                "q_range": {"value": list(g.q_range), "error": None, "unit": "1/angstrom"},
                "e_range": {"value": list(g.e_range), "error": None, "unit": "meV"},
                "band_centre": _quantity(self.thermo.band_centre, "meV"), "units": THERMO_UNITS}

    def report(self, command: str | None = None):
        from ..inelastic.figures import dos_figure
        from ..report import Report
        from .figures import thermo_figure

        rep = Report(f"Generalised DOS of {self.inputs[0]}" if self.inputs else "Generalised DOS",
                     command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_text("Method", "incoherent approximation; Bose, Debye-Waller and iterative multiphonon "
                     "corrections (Kresch et al. 2007); normalised to 3 per atom.")
        rep.add_figure("dos", dos_figure(self.gdos.dos.total), "Generalised DOS (3 states per atom)")
        rep.add_figure("cv", thermo_figure(self.thermo.table), "Heat capacity over the Dulong-Petit value 3R")
        rep.add_table("Extraction", [self.gdos.summary()])
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``dos.csv`` (g(E) with errors), ``thermo.csv``, ``report.html`` and ``figures/`` into
        ``folder`` (replaced whole)."""
        from ..data.io import write_csv
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"dos.csv": lambda p: write_csv(p, self.gdos.dos.total),
                                            "thermo.csv": lambda p: _write_thermo_csv(p, self.thermo.table)},
                                   self.report(command))


def generalized_dos_thermodynamics(sqe, T: float, *, q_range, e_range, mass: float | None = None,
                                   formula: str | None = None, n_max: int = 10,
                                   temperatures="10:600:10") -> GDOSThermodynamics:
    """``latdyn ins dos``: the generalised DOS of the powder S(Q,E) ``sqe`` (a file or a
    DataArray) measured at ``T`` (K) over ``q_range`` (1/angstrom) and the inelastic
    ``e_range`` (meV), with the effective ``mass`` (amu) or that of ``formula`` (sigma/M
    weights), phonon orders up to ``n_max``; its thermodynamics per mole of atoms at
    ``temperatures`` (K)."""
    from ..reduce import effective_mass, generalized_dos

    if (mass is None) == (formula is None):
        raise InputError("give one of mass (amu) and formula", field="mass", value=(mass, formula))
    source = str(sqe) if isinstance(sqe, (str, Path)) else None
    if source is not None:
        from ..data.io import load

        sqe = load(source).data
    m = effective_mass(formula) if formula else mass
    res = generalized_dos(sqe, T, m, q_range=tuple(q_range), e_range=tuple(e_range), n_max=n_max,
                          source=source)
    tab = thermodynamics(res.dos, temperature_grid(temperatures))
    thermo = DOSThermodynamics(tab, band_centre(res.dos), {}, 1.0)
    return GDOSThermodynamics(res, thermo, [source] if source else [])
