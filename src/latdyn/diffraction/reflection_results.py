"""Reflection lists as results: what ``latdyn diffraction reflections`` computes, prints and writes.

:func:`compute_reflections` reads a CIF (and, with ``magnetic=``, a magnetic structure: an mCIF
or a YAML file of moments on the CIF's sites) and returns a :class:`ReflectionTable` (nuclear
|F|^2, neutron or X-ray) or a :class:`MagneticReflectionTable` (nuclear and magnetic |F|^2 of
unpolarised neutrons).  Both give ``rows()`` (the printed table), ``to_json()``,
``write(folder)`` (``reflections.csv``, ``report.html``, ``figures/reflections.png``
(``.svg`` too with ``LATDYN_FIGURE_FORMATS=png,svg``);
layouts in docs/diffraction.md) and ``report()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..structure import Crystal, MagneticStructure
from .magnetic import MagneticReflections, magnetic_reflections
from .reflections import Reflections, reflections
from .tables import write_columns_csv

__all__ = ["ReflectionTable", "MagneticReflectionTable", "compute_reflections",
           "load_magnetic_structure"]

#: units of the reflection-table columns (nuclear and magnetic |F|^2 of neutrons)
REFLECTION_UNITS = {"d": "angstrom", "Q": "1/angstrom", "F2_nuclear": "barn", "F2_magnetic": "barn"}


def load_magnetic_structure(magnetic, crystal=None, *, ions: dict | None = None,
                            magnetic_cell: bool = False) -> MagneticStructure:
    """A magnetic structure from an mCIF or a YAML moment file (``crystal``: the CIF of the
    YAML's sites, a path or a :class:`Crystal`); ``ions`` {site label or species: ion};
    ``magnetic_cell``: in the magnetic supercell (InputError when k is incommensurate)."""
    from ..structure import read_magnetic_structure

    s = read_magnetic_structure(magnetic, crystal=crystal, ions=ions)
    return s.magnetic_cell() if magnetic_cell else s


class _MagneticSource:
    """A result computed from a magnetic structure: writes that structure as an mCIF."""

    structure: MagneticStructure
    magnetic_cell: bool

    def write_mcif(self, path) -> Path:
        """The magnetic structure as an mCIF (in the magnetic cell when it was asked for)."""
        from ..structure import write_mcif

        return write_mcif(self.structure, path, cell="magnetic" if self.magnetic_cell else "auto")


@dataclass
class ReflectionTable:
    """Reflections of a crystal (:func:`latdyn.diffraction.reflections`) with the crystal's
    title and space group and the input files (provenance)."""

    reflections: Reflections
    title: str
    space_group: str
    inputs: list = field(default_factory=list)

    @property
    def heading(self) -> str:
        return f"{self.title} {self.space_group}: {self.reflections.radiation} reflections"

    def rows(self) -> list[dict]:
        """h, k, l, d (angstrom), Q (1/angstrom), multiplicity, F2 (barn or electrons^2)."""
        return self.reflections.rows()

    def to_json(self) -> dict:
        r = self.reflections
        return {"structure": self.title, "space_group": self.space_group, "radiation": r.radiation,
                "n_reflections": len(r), "units": {"d": "angstrom", "Q": "1/angstrom", "F2": r.f2_unit}}

    def figure(self):
        from ..report import axis_label, new_figure

        r = self.reflections
        fig, ax = new_figure()
        ax.vlines(r.d, 0, r.multiplicity * r.f2)
        ax.set_xlabel(axis_label("d", "angstrom"))
        ax.set_ylabel(f"m |F|² ({r.f2_unit})")
        return fig

    def report(self, command: str | None = None):
        from ..report import Report

        rep = Report(f"Reflections of {self.title}", command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_figure("reflections", self.figure(), "m |F|^2 against d")
        rep.add_table("Reflections", self.rows())
        return rep

    def _write_csv(self, path: Path) -> Path:
        r = self.reflections
        return write_columns_csv(
            path, ["h", "k", "l", "d_angstrom", "Q_inv_angstrom", "multiplicity", f"F2_{r.f2_unit}"],
            [r.hkl[:, 0], r.hkl[:, 1], r.hkl[:, 2], r.d, r.q, r.multiplicity, r.f2],
            f"{self.title}: {r.radiation} reflections, {self.space_group}")

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``reflections.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"reflections.csv": self._write_csv}, self.report(command))


def _hkl_text(v: float) -> str:
    r = round(float(v))
    return str(int(r)) if abs(v - r) < 1e-6 else f"{float(v):.6g}"


def write_magnetic_reflections_csv(refl: MagneticReflections, path, title: str) -> Path:
    """``reflections.csv`` of nuclear and magnetic reflections (h, k, l, [parent h k l], d, Q,
    multiplicity, F2_nuclear_barn, F2_magnetic_barn; a comment line with k)."""
    header = ["h", "k", "l"]
    cols = [[_hkl_text(v) for v in refl.hkl[:, i]] for i in range(3)]
    if refl.parent_hkl is not None:
        header += ["h_parent", "k_parent", "l_parent"]
        cols += [[_hkl_text(v) for v in refl.parent_hkl[:, i]] for i in range(3)]
    header += ["d_angstrom", "Q_inv_angstrom", "multiplicity", "F2_nuclear_barn", "F2_magnetic_barn"]
    cols += [refl.d, refl.q, refl.multiplicity, refl.f2_nuclear, refl.f2_magnetic]
    k = ", ".join(f"{v:.6g}" for v in refl.k)
    return write_columns_csv(path, header, cols,
                             f"{title}: nuclear and magnetic reflections, k = ({k}); F2 domain-averaged "
                             "per orbit member (barn), powder line strength = multiplicity x F2")


def magnetic_reflections_figure(refl: MagneticReflections):
    """Powder line strengths m |F|^2 against d, nuclear up and magnetic down."""
    from ..report import axis_label, new_figure

    fig, ax = new_figure(7, 4.2)
    ax.vlines(refl.d, 0, refl.multiplicity * refl.f2_nuclear, color="C0", label="nuclear")
    ax.vlines(refl.d, 0, -refl.multiplicity * refl.f2_magnetic, color="C3", label="magnetic")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel(axis_label("d", "angstrom"))
    ax.set_ylabel("m |F|² (barn), magnetic down")
    ax.legend(frameon=False)
    return fig


@dataclass
class MagneticReflectionTable(_MagneticSource):
    """Nuclear and magnetic reflections of a magnetic structure
    (:func:`latdyn.diffraction.magnetic_reflections`) with the structure and its inputs."""

    reflections: MagneticReflections
    structure: MagneticStructure
    inputs: list = field(default_factory=list)
    magnetic_cell: bool = False

    @property
    def title(self) -> str:
        return self.structure.title

    @property
    def heading(self) -> str:
        return f"{self.title}: nuclear and magnetic reflections"

    def rows(self) -> list[dict]:
        """h, k, l (, parent hkl), d, Q, multiplicity, F2_nuclear, F2_magnetic (barn)."""
        return self.reflections.rows()

    def to_json(self) -> dict:
        return {"structure": self.title, **self.reflections.summary(),
                "units": {**REFLECTION_UNITS, "strongest_magnetic_d": "angstrom"}}

    def report(self, command: str | None = None):
        from ..report import Report

        refl = self.reflections
        k = ", ".join(f"{v:.6g}" for v in refl.k)
        rep = Report(f"Nuclear and magnetic reflections of {self.title}", command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_text(None, f"Propagation vector k = ({k}); magnetic |F_M⊥|² (p = 2.695 fm/μB, dipole "
                     "form factors, Debye-Waller factors) averaged over equal-weight domains of the "
                     "parent group; unpolarised neutrons, no nuclear-magnetic interference.")
        rep.add_figure("reflections", magnetic_reflections_figure(refl),
                       "Powder line strengths m|F|², nuclear up, magnetic down")
        rep.add_table("Reflections", self.rows())
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``reflections.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        def csv(path):
            return write_magnetic_reflections_csv(self.reflections, path, self.title)

        return write_result_folder(folder, {"reflections.csv": csv}, self.report(command))


def _crystal(cif) -> Crystal:
    from ..structure import read_cif

    if cif is None:
        raise InputError("give a CIF (or an mCIF with --magnetic)", field="cif")
    return cif if isinstance(cif, Crystal) else read_cif(cif)


def _inputs(*paths) -> list:
    return [p for p in paths if isinstance(p, (str, Path))]


def compute_reflections(cif=None, d_min: float = 1.0, d_max: float = np.inf,
                        radiation: str = "neutron", *, magnetic=None, ions: dict | None = None,
                        magnetic_cell: bool = False) -> ReflectionTable | MagneticReflectionTable:
    """Reflections with d_min <= d <= d_max (angstrom) of the crystal in ``cif`` (a path or a
    :class:`Crystal`), as ``latdyn diffraction reflections`` gives them.

    With ``magnetic`` (an mCIF, or a YAML file of moments on the CIF's sites; neutrons only):
    nuclear and magnetic reflections (:func:`load_magnetic_structure` with ``ions`` and
    ``magnetic_cell``), a :class:`MagneticReflectionTable`; else a :class:`ReflectionTable`
    (|F|^2 in barn for neutrons, electrons^2 for X-rays)."""
    if magnetic is not None:
        if radiation != "neutron":
            raise InputError("magnetic scattering is computed for neutrons", field="--radiation",
                             value=radiation)
        s = load_magnetic_structure(magnetic, cif, ions=ions, magnetic_cell=magnetic_cell)
        return MagneticReflectionTable(magnetic_reflections(s, d_min, d_max), s, _inputs(cif, magnetic),
                                       magnetic_cell)
    c = _crystal(cif)
    return ReflectionTable(reflections(c, d_min, d_max, radiation), c.title, c.space_group.symbol,
                           _inputs(cif))
