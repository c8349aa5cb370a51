"""Results of the ``latdyn phonons`` commands, as returned by :mod:`latdyn.phonons.compute`.

Every result has ``rows()`` (its table), ``summary()`` (scalar results as quantity, value,
unit), ``to_json()`` (what ``--json`` prints besides the rows; physical values as
{value, error, unit}), ``lines()`` (readable text under a table), ``write(folder)`` (the
command's files, the folder replaced whole, :func:`latdyn.fileio.result_folder`) and
``report()`` (a :class:`latdyn.report.Report`).  File layouts: docs/phonons.md.

- :class:`ModeTable` (``modes``): energies at q-points; writes modes.csv and report.html.
- :class:`DispersionMap` (``dispersion``): sqe_path.h5, report.html, figures/sqe_path.*.
- :class:`SliceMap` (``slice``): slice.h5, report.html, figures/slice.*.
- :class:`PowderMap` (``powder``): sqe_powder.h5, report.html, figures/sqe_powder.*.
- :class:`DiffuseMap` (``diffuse``): diffuse.h5, report.html, figures/diffuse.*.
- :class:`PhononDensity` (``dos``): dos_total.h5, dos_neutron_weighted.h5,
  dos_element_<El>.h5, dos_site_<label>.h5, report.html, figures/dos.*, figures/dos_neutron.*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipp as sc

from ..data import DensityOfStates
from ..data.io import Table, write_csv
from ..fileio import result_folder
from ..fitresult import Quantity
from ..report import Report, format_cell
from .backend import resolve_backend
from .figures import add_figure, dos_figure, map_figure, neutron_dos_figure
from .maps import PowderResult
from .model import ForceConstants
from .powder_resolution import PowderResolution

__all__ = ["PhononRun", "ModeTable", "DispersionMap", "SliceMap", "PowderMap", "PhononDensity",
           "DiffuseMap", "ATTRIBUTION"]

ATTRIBUTION = "NaCl example data: phonondb, A. Togo (CC BY 4.0)"


@dataclass
class PhononRun:
    """The model a result was computed from, its input files (for the report's provenance)
    and how it was computed (``executor``, ``backend``: :mod:`latdyn.phonons.backend`)."""

    model: ForceConstants
    inputs: list[str] = field(default_factory=list)
    executor: str | None = None
    backend: str = "numpy"

    @property
    def options(self) -> dict:
        """The ``executor`` and ``backend`` keywords of the phonon functions."""
        return {"executor": self.executor, "backend": self.backend}

    def describe(self) -> str:
        """One paragraph on the model and how it was computed."""
        m, c = self.model, self.model.crystal
        credit = ATTRIBUTION if "nacl" in str(m.source).lower() else ""
        return (f"{c.n_atoms} atoms per cell ({', '.join(c.symbols)}), {m.n_cells} cells in the "
                f"Fourier table, dipole-dipole Ewald sum: {'yes' if m.dipole is not None else 'no'}, "
                f"acoustic sum rule: {m.asr}. Scattering lengths: Sears 1992. Computed with "
                f"{resolve_backend(self.backend)} "
                f"({'Dask tasks' if self.executor == 'dask' else 'threads'}). {credit}")

    def force_constants(self) -> dict | None:
        """The force-constant checks made on load (:mod:`latdyn.phonons.fc_checks`)."""
        fc = self.model.fc_checks
        return fc.as_dict() if fc is not None else None

    def new_report(self, title: str, command: str | None) -> Report:
        """A report with the inputs, the model paragraph and the force-constant checks."""
        rep = Report(title, command=command)
        for p in self.inputs:
            rep.add_input(p)
        rep.add_text("Model", self.describe())
        if self.model.fc_checks is not None:
            rep.add_table("Force constants as loaded", self.model.fc_checks.rows())
        return rep


def _quantity_row(name: str, value, unit: str = "") -> dict:
    return {"quantity": name, "value": value, "unit": unit}


def _text(v) -> str:
    return format_cell(v)


class _PhononResult:
    """Shared protocol: subclasses define ``run``, ``report_title``, ``rows()``, and may
    define ``summary()``, ``arrays()``, ``tables()``, ``figures()`` and ``_json()``."""

    run: PhononRun
    report_title: str = "Phonons"

    @property
    def source(self) -> str:
        return str(self.run.model.source)

    def summary(self) -> list[dict]:
        return []

    def arrays(self) -> dict[str, sc.DataArray]:
        """The DataArrays written as <name>.h5."""
        return {}

    def tables(self) -> dict[str, Table]:
        """The tables written as <name>.csv."""
        return {}

    def figures(self) -> list[tuple]:
        """(name, figure, caption) of each figure of the report."""
        return []

    def _json(self) -> dict:
        return {}

    def to_json(self) -> dict:
        """Everything ``--json`` prints besides the rows (plain JSON-able values)."""
        return {**self._json(), "force_constants": self.run.force_constants()}

    def lines(self) -> list[str]:
        """The scalar results and the force-constant checks as readable text lines."""
        out = [f"{r['quantity']}: {_text(r['value'])}" + (f" {r['unit']}" if r["unit"] else "")
               for r in self.summary()]
        fc = self.run.model.fc_checks
        if fc is not None:
            out += [f"force constants, {r['quantity']}: {_text(r['value'])}" for r in fc.rows()]
        return out

    def report(self, command: str | None = None) -> Report:
        """The HTML report: inputs, model, force-constant checks, results table, figures."""
        rep = self.run.new_report(self.report_title, command)
        rows = self.rows()
        if rows:
            rep.add_table("Results", rows)
        for name, fig, caption in self.figures():
            add_figure(rep, name, fig, caption)
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """Write the arrays (<name>.h5), tables (<name>.csv), report.html and figures/ into
        ``folder`` (replaced whole); returns the data files and the report, in that order."""
        folder = Path(folder)
        names = []
        with result_folder(folder) as tmp:
            for name, da in self.arrays().items():
                da.save_hdf5(tmp / f"{name}.h5")
                names.append(f"{name}.h5")
            for name, table in self.tables().items():
                write_csv(tmp / f"{name}.csv", table)
                names.append(f"{name}.csv")
            self.report(command).write(tmp / "report.html")
            names.append("report.html")
        return [folder / n for n in names]


@dataclass
class ModeTable(_PhononResult):
    """Mode energies (meV, negative for imaginary modes) at reduced q-points ``q`` (n, 3):
    ``energies`` (n, 3N)."""

    run: PhononRun
    q: np.ndarray
    energies: np.ndarray
    report_title = "Phonon mode energies"

    def rows(self) -> list[dict]:
        """One row per q-point and mode: h, k, l, mode, E (meV)."""
        return [{"h": float(qi[0]), "k": float(qi[1]), "l": float(qi[2]), "mode": nu, "E": float(e)}
                for qi, row in zip(self.q, self.energies, strict=True) for nu, e in enumerate(row)]

    def tables(self) -> dict[str, Table]:
        return {"modes": Table.from_rows(self.rows(), {"E": "meV"})}

    def _json(self) -> dict:
        return {"units": {"E": "meV"}}


@dataclass
class DispersionMap(_PhononResult):
    """S(Q,E) along a path: ``data`` ('q', 'E') in mbarn/meV per atom (module
    :func:`latdyn.phonons.path_map`), of ``kind`` at ``temperature`` (K)."""

    run: PhononRun
    data: sc.DataArray
    kind: str
    temperature: float
    report_title = "Phonon dispersion S(Q,E)"

    def summary(self) -> list[dict]:
        return [_quantity_row("points along the path", self.data.sizes["q"]),
                _quantity_row("energy bins", self.data.sizes["E"]),
                _quantity_row("max intensity", float(self.data.values.max()), str(self.data.unit))]

    rows = summary

    def arrays(self) -> dict[str, sc.DataArray]:
        return {"sqe_path": self.data}

    def figures(self) -> list[tuple]:
        fig = map_figure(self.data, log=True, title=f"{self.kind} S(Q,E), {self.temperature:g} K")
        return [("sqe_path", fig, "S(Q,E) along the path (log colour scale)")]

    def _json(self) -> dict:
        return {"n_q": self.data.sizes["q"], "n_E": self.data.sizes["E"],
                "max_intensity": Quantity(float(self.data.values.max()), float("nan"),
                                          str(self.data.unit)).as_dict()}


@dataclass
class SliceMap(_PhononResult):
    """Constant-energy slice: ``data`` ('x', 'y') in barn per atom, S integrated over
    ``energy`` (E_lo, E_hi) meV (:func:`latdyn.phonons.slice_map`)."""

    run: PhononRun
    data: sc.DataArray
    energy: tuple[float, float]
    report_title = "Single-crystal slice"

    def summary(self) -> list[dict]:
        return [_quantity_row("max intensity", float(self.data.values.max()), str(self.data.unit))]

    rows = summary

    def arrays(self) -> dict[str, sc.DataArray]:
        return {"slice": self.data}

    def figures(self) -> list[tuple]:
        fig = map_figure(self.data, title=f"{self.energy[0]:g}-{self.energy[1]:g} meV")
        return [("slice", fig, "Energy-integrated one-phonon intensity in the plane")]

    def _json(self) -> dict:
        return {"max_intensity": Quantity(float(self.data.values.max()), float("nan"),
                                          str(self.data.unit)).as_dict()}


@dataclass
class DiffuseMap(_PhononResult):
    """Thermal diffuse scattering: ``data`` ('x', 'y') or ('x', 'y', 'z') in barn per atom, the
    energy-integrated one-phonon intensity (:func:`latdyn.phonons.diffuse_map`) of ``kind`` at
    ``temperature`` (K); ``n_imaginary`` (q, mode) pairs with imaginary energies left out;
    ``debye_waller``: whether Debye-Waller factors were applied."""

    run: PhononRun
    data: sc.DataArray
    kind: str
    temperature: float
    n_imaginary: int = 0
    debye_waller: bool = True
    report_title = "Thermal diffuse scattering"

    def warnings(self) -> list[str]:
        """Conditions that make the map unreliable (imaginary modes left out)."""
        if self.n_imaginary:
            return [f"{self.n_imaginary} (q, mode) pairs have imaginary energies and are left "
                    "out: the model is unstable there and the map misses their intensity"]
        return []

    def summary(self) -> list[dict]:
        v = self.data.values
        return [_quantity_row("temperature", self.temperature, "K"),
                _quantity_row("points", int(v.size)),
                _quantity_row("Debye-Waller factors", self.debye_waller),
                _quantity_row("max intensity", float(v.max()), str(self.data.unit)),
                _quantity_row("mean intensity", float(v.mean()), str(self.data.unit)),
                _quantity_row("imaginary (q, mode) pairs left out", self.n_imaginary)]

    rows = summary

    def lines(self) -> list[str]:
        return super().lines() + [f"warning: {w}" for w in self.warnings()]

    def arrays(self) -> dict[str, sc.DataArray]:
        return {"diffuse": self.data}

    def figures(self) -> list[tuple]:
        da = self.data
        caption = "Energy-integrated one-phonon intensity (log colour scale)"
        if "z" in da.dims:
            da = da["z", da.sizes["z"] // 2]
            caption += f", middle layer z = {float(da.coords['z'].value):g}"
        fig = map_figure(da, log=True, title=f"TDS {self.kind}, {self.temperature:g} K")
        return [("diffuse", fig, caption)]

    def report(self, command: str | None = None) -> Report:
        rep = super().report(command)
        for w in self.warnings():
            rep.add_text("Warning", w)
        return rep

    def _json(self) -> dict:
        v = self.data.values
        unit = str(self.data.unit)
        return {"temperature": Quantity(self.temperature, float("nan"), "K").as_dict(),
                "dims": list(self.data.dims), "shape": list(v.shape),
                "debye_waller": self.debye_waller,
                "max_intensity": Quantity(float(v.max()), float("nan"), unit).as_dict(),
                "mean_intensity": Quantity(float(v.mean()), float("nan"), unit).as_dict(),
                "n_imaginary": self.n_imaginary, "warnings": self.warnings()}


@dataclass
class PowderMap(_PhononResult):
    """Powder-averaged S(|Q|,E) with its sampling error (``powder``, a
    :class:`latdyn.phonons.PowderResult`) and, when an instrument was given, its
    ``resolution`` (widths used; mask ``outside_coverage`` on the data)."""

    run: PhononRun
    powder: PowderResult
    kind: str
    temperature: float
    resolution: PowderResolution | None = None
    report_title = "Powder S(|Q|,E)"

    @property
    def data(self) -> sc.DataArray:
        return self.powder.data

    def summary(self) -> list[dict]:
        inst = self.resolution.rows() if self.resolution is not None else []
        names = {"npts": "directions per sphere", "n_sets": "direction sets",
                 "relative_sampling_error": "relative sampling error",
                 "change": "change at the last doubling", "converged": "converged"}
        return inst + [_quantity_row(names[k], v) for k, v in self.powder.summary().items()]

    rows = summary

    def arrays(self) -> dict[str, sc.DataArray]:
        return {"sqe_powder": self.data}

    def figures(self) -> list[tuple]:
        title = f"powder {self.kind}, {self.temperature:g} K"
        cov = None
        if self.resolution is not None:
            title += f", {self.resolution.name} Ei = {self.resolution.ei:g} meV"
            cov = self.resolution.coverage()
        fig = map_figure(self.data, log=True, title=title, coverage=cov)
        return [("sqe_powder", fig, "Powder-averaged S(|Q|,E) (log colour scale)")]

    def _json(self) -> dict:
        return {**self.powder.summary(),
                "instrument": self.resolution.to_json() if self.resolution is not None else None}


@dataclass
class PhononDensity(_PhononResult):
    """The phonon DOS on a mesh (a :class:`latdyn.data.DensityOfStates` from
    :func:`latdyn.phonons.phonon_dos`), with its files per cell: total, per element, per site
    (states/meV per cell) and neutron-weighted (mbarn/meV per cell)."""

    run: PhononRun
    dos: DensityOfStates
    report_title = "Phonon density of states"

    @property
    def expected_total(self) -> int:
        """3N, the modes per cell (the integral of the total per cell)."""
        return 3 * self.run.model.crystal.n_atoms

    def elements(self) -> dict[str, sc.DataArray]:
        """Per element, the partial DOS per cell (states/meV per cell)."""
        sp = self.dos.by_species()
        return {k: sp.partial(k, per_formula_unit=True) for k in sp.labels}

    def rows(self) -> list[dict]:
        """The integral of the total and of each element's partial, states per cell."""
        sp = self.dos.by_species()
        n = self.dos.atoms_per_formula_unit
        return [{"curve": "total", "integral": self.dos.integral() * n}] + [
            {"curve": k, "integral": float(sp.counts[i]) * sp.integral(k)}
            for i, k in enumerate(sp.labels)]

    def summary(self) -> list[dict]:
        return [_quantity_row("expected total (3N)", self.expected_total)]

    def arrays(self) -> dict[str, sc.DataArray]:
        out = {"dos_total": self.dos.per_formula_unit(),
               "dos_neutron_weighted": self.dos.neutron_weighted(normalise=False)}
        out.update({f"dos_element_{k}": v for k, v in self.elements().items()})
        out.update({f"dos_site_{k}": self.dos.partial(k, per_formula_unit=True)
                    for k in self.dos.labels})
        return out

    def figures(self) -> list[tuple]:
        return [("dos", dos_figure(self.dos.per_formula_unit(), self.elements()),
                 "Total and per-element DOS"),
                ("dos_neutron", neutron_dos_figure(self.dos.neutron_weighted(normalise=False)),
                 "Neutron-weighted DOS (sigma/M)")]

    def _json(self) -> dict:
        return {"expected_total": self.expected_total}
