"""Results of the ``latdyn md`` commands, as returned by :mod:`latdyn.md.compute`.

Every result has ``rows()`` (the table the command prints; keys without units, the units in
``units()``), ``to_json()`` (what ``--json`` prints besides the rows and the file names;
physical values as {value, error, unit}), ``lines()`` (readable text under the table),
``warnings()`` (why a number should not be used as it stands), ``arrays()`` (the scipp
DataGroup of the HDF5 file), ``write(folder)`` (the HDF5 file, report.html and figures/, the
folder replaced whole, :func:`latdyn.fileio.result_folder`) and ``report()`` (a
:class:`latdyn.report.Report`).  File layouts: docs/md.md.

- :class:`SqwAnalysis` (``sqw``): md_sqw.h5, figures S_coh, S_inc, S_Q.
- :class:`MSDAnalysis` (``msd``): md_msd.h5, figure msd.
- :class:`VanHoveAnalysis` (``vanhove``): md_vanhove.h5, figures G_self, G_distinct.
- :class:`DOSAnalysis` (``dos``): md_dos.h5, figure dos.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import scipp as sc

from ..data import DensityOfStates, from_numpy
from ..errors import InputError
from ..fileio import result_folder
from ..fitresult import Quantity
from .fourier import energy_resolution
from .intermediate import CorrelationResult
from .msd import DiffusionFit, MSDResult
from .qpoints import QSet
from .results import resolution_note, save_results
from .vacf import VACFResult
from .vanhove import VanHoveResult

__all__ = ["TrajectoryInfo", "SqwAnalysis", "MSDAnalysis", "VanHoveAnalysis", "DOSAnalysis"]


@dataclass(frozen=True)
class TrajectoryInfo:
    """What a result was computed from: ``source`` (file or label), atoms, species, box
    volume (angstrom^3) and ``dt`` (ps between the frames used)."""

    source: str
    n_atoms: int
    species: tuple[str, ...]
    volume: float
    dt: float

    @classmethod
    def of(cls, traj) -> TrajectoryInfo:
        """The summary of a :class:`latdyn.md.Trajectory`."""
        return cls(str(traj.source), traj.n_atoms, traj.species, traj.volume, traj.dt)

    @property
    def inputs(self) -> list[str]:
        """The trajectory file, when the source is one (for the report's provenance)."""
        return [self.source] if Path(self.source).is_file() else []

    def describe(self, n_frames: int | None) -> str:
        return (f"{self.n_atoms} atoms ({', '.join(self.species)}), box volume {self.volume:.6g} "
                f"A^3, {n_frames if n_frames is not None else 'all'} frames used, {self.dt:.6g} ps "
                "apart.")


def _quantity(value, unit: str, error: float = float("nan")) -> dict:
    return Quantity(float(value), float(error), unit).as_dict()


class _MDAnalysis:
    """Shared protocol; subclasses define ``run``, ``file_name``, ``title``, ``report_title``,
    ``arrays()``, ``rows()``, ``units()``, ``_json()``, ``_body(report)`` and may define
    ``frames``, ``warnings()`` and ``_lines()``."""

    run: TrajectoryInfo
    file_name: str = ""
    title: str = ""
    report_title: str = ""
    frames: int | None = None

    def warnings(self) -> list[str]:
        return []

    def _lines(self) -> list[str]:
        return []

    def lines(self) -> list[str]:
        """Text under the table: the command's summary and the units of the columns."""
        units = ", ".join(f"{k} in {u}" for k, u in self.units().items() if u != "dimensionless")
        return self._lines() + ([f"units: {units}"] if units else [])

    def to_json(self) -> dict:
        """Everything ``--json`` prints besides the rows and the paths written."""
        return {**self._json(), "units": self.units(), "warnings": self.warnings()}

    def report(self, command: str | None = None):
        """The HTML report: inputs, trajectory, warnings, then the command's figures and tables."""
        from ..report import Report

        rep = Report(self.report_title, command=command)
        for p in self.run.inputs:
            rep.add_input(p)
        rep.add_text("Trajectory", self.run.describe(self.frames))
        if self.warnings():
            rep.add_text("Warning: results to check before use", "\n\n".join(self.warnings()))
        self._body(rep)
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """Write ``file_name`` (the DataGroup of :meth:`arrays`, scipp HDF5), report.html and
        figures/ into ``folder`` (replaced whole); returns [HDF5 file, report]."""
        folder = Path(folder)
        with result_folder(folder) as tmp:
            save_results(tmp / self.file_name, self.arrays())
            self.report(command).write(tmp / "report.html")
        return [folder / self.file_name, folder / "report.html"]


@dataclass
class SqwAnalysis(_MDAnalysis):
    """F(Q,t) and S(Q,E) (``data``: :func:`latdyn.md.correlation_arrays` of ``correlations``
    on ``qset``) with the ``weighting``, ``time_window`` and ``temperature`` (K or None) used."""

    run: TrajectoryInfo
    correlations: CorrelationResult
    qset: QSet
    data: sc.DataGroup
    weighting: str
    time_window: str
    temperature: float | None = None
    file_name = "md_sqw.h5"
    report_title = "MD dynamic structure factor"

    @property
    def frames(self) -> int:
        return self.correlations.settings["frames"]

    @property
    def time(self) -> float:
        """The lag (ps) of the F(Q,t) columns of the table: the middle of the window."""
        t = self.correlations.time
        return float(t[len(t) // 2])

    @property
    def title(self) -> str:
        return f"MD S(Q) and F(Q,t) at t = {self.time:.3g} ps"

    def arrays(self) -> sc.DataGroup:
        return self.data

    def rows(self) -> list[dict]:
        """Per |Q| shell (key Q) or path point (key q): S(Q), F_coh and F_inc at :attr:`time`."""
        s_q = self.data["S_Q"]
        qdim = s_q.dims[0]
        mid = len(self.correlations.time) // 2
        rows = []
        for i, q in enumerate(s_q.coords[qdim].values):
            row = {qdim: float(q), "S(Q)": float(s_q.values[i]),
                   "F_coh": float(self.data["F_coh"].values[i, mid])}
            if "F_inc" in self.data:
                row["F_inc"] = float(self.data["F_inc"].values[i, mid])
            rows.append(row)
        return rows

    def units(self) -> dict[str, str]:
        """|Q| or the path distance in 1/angstrom (a point index for other q-sets); the weighted
        functions dimensionless when normalised (:func:`latdyn.md.correlation_arrays`), else barn."""
        qdim = self.data["S_Q"].dims[0]
        on_axis = qdim == "Q" or self.qset.distance is not None
        out = {qdim: "1/angstrom" if on_axis else "dimensionless"}
        for key, name in (("S(Q)", "S_Q"), ("F_coh", "F_coh"), ("F_inc", "F_inc")):
            if name in self.data:
                out[key] = "dimensionless" if self.data[name].unit == sc.units.one else "barn"
        return out

    def _json(self) -> dict:
        st = self.correlations.settings
        sigma = energy_resolution(self.correlations.time, self.time_window)
        return {"time": _quantity(self.time, "ps"), "q_points": len(self.qset.q), "frames": st["frames"],
                "self_method": st["self_method"], "executor": st["executor"],
                "weighting": self.weighting, "time_window": self.time_window,
                "energy_resolution": _quantity(sigma, "meV") if sigma is not None else None,
                "temperature": _quantity(self.temperature, "K") if self.temperature else None}

    def _lines(self) -> list[str]:
        st = self.correlations.settings
        return [f"{len(self.qset.q)} q-points ({self.qset.kind}), {st['frames']} frames, self part "
                f"'{st['self_method']}', executor '{st['executor']}'",
                resolution_note(self.correlations, self.time_window)]

    def _body(self, rep) -> None:
        from .figures import add_figure, sqe_figure, static_structure_figure

        st = self.correlations.settings
        rep.add_text("Method", f"{len(self.qset.q)} q-points ({self.qset.kind}), window "
                     f"{st['window']} frames, origins every {st['origin_step']} frames, weighting "
                     f"{self.weighting}. " + resolution_note(self.correlations, self.time_window)
                     + (f" Quantum (detailed balance) correction at {self.temperature:g} K."
                        if self.temperature else " Classical spectra (no detailed balance)."))
        for name in ("S_coh", "S_inc"):
            if name in self.data:
                add_figure(rep, name, sqe_figure(self.data[name], name.replace("_", " ")),
                           f"{name} ({self.weighting} weighting)")
        add_figure(rep, "S_Q", static_structure_figure(self.data["S_Q"]),
                   "Static structure factor F_coh(Q, 0)")
        rep.add_table(f"S(Q) and F(Q,t) at t = {self.time:.3g} ps", self.rows())


@dataclass
class MSDAnalysis(_MDAnalysis):
    """Mean-square displacements (``msd``) and the diffusion coefficients fitted to them
    (``fit``, a :class:`latdyn.md.DiffusionFit`)."""

    run: TrajectoryInfo
    msd: MSDResult
    fit: DiffusionFit
    file_name = "md_msd.h5"
    title = "Diffusion coefficients"
    report_title = "MD mean-square displacement"

    def arrays(self) -> sc.DataGroup:
        """MSD_<species> (t) in angstrom^2."""
        return sc.DataGroup({f"MSD_{s}": from_numpy(self.msd.msd[k], {"t": self.msd.time},
                                                    unit="angstrom**2", name=f"MSD_{s}",
                                                    source=self.run.source)
                             for k, s in enumerate(self.msd.species)})

    def rows(self) -> list[dict]:
        """Per species: D and its standard error (angstrom^2/ps), and how the error was found."""
        f = self.fit
        return [{"species": s, "D": f.diffusion[k], "error": f.diffusion_error[k],
                 "error_from": f.error_from[k]} for k, s in enumerate(f.species)]

    def units(self) -> dict[str, str]:
        return {"D": "angstrom**2/ps", "error": "angstrom**2/ps"}

    def warnings(self) -> list[str]:
        """The fit's reasons not to trust it and its implausible values."""
        return list(self.fit.reasons) + self.fit.flags() + self.fit.implausible()

    def _json(self) -> dict:
        return {"fit_range": {"value": list(self.fit.fit_range), "unit": "ps"},
                "diffusion": {s: self.fit.coefficient(s).as_dict() for s in self.fit.species},
                "fit": self.fit.to_json()}

    def _lines(self) -> list[str]:
        out = []
        for k, s in enumerate(self.fit.species):
            q = self.fit.coefficient(s)
            cgs = q.to("cm**2/s")
            out.append(f"D({s}) = {q.value:.5g} ± {q.error:.2g} A^2/ps = {cgs.value:.5g} ± "
                       f"{cgs.error:.2g} cm^2/s (error from {self.fit.error_from[k]})")
        lo, hi = self.fit.fit_range
        return out + [f"fit range {lo:.4g} to {hi:.4g} ps"]

    def _body(self, rep) -> None:
        from .figures import add_figure, msd_figure

        add_figure(rep, "msd", msd_figure(self.msd, self.fit),
                   "MSD per species with the fitted 6Dt + c (dashed)")
        rows = []
        for k, s in enumerate(self.fit.species):
            q = self.fit.coefficient(s)
            cgs = q.to("cm**2/s")
            rows.append({"species": s, "D (A^2/ps)": q.value, "error (A^2/ps)": q.error,
                         "D (cm^2/s)": cgs.value, "error (cm^2/s)": cgs.error,
                         "error from": self.fit.error_from[k]})
        lo, hi = self.fit.fit_range
        rep.add_table(f"Diffusion coefficients, MSD = 6Dt + c over {lo:.4g} to {hi:.4g} ps", rows)


@dataclass
class VanHoveAnalysis(_MDAnalysis):
    """Self and distinct van Hove functions (``result``, a :class:`latdyn.md.VanHoveResult`)."""

    run: TrajectoryInfo
    result: VanHoveResult
    file_name = "md_vanhove.h5"
    title = "Van Hove self part"
    report_title = "MD van Hove functions"

    def arrays(self) -> sc.DataGroup:
        """G_s_<a> and G_d_<a>_<b> (t, r) in 1/angstrom^3, r as bin edges."""
        res, src = self.result, self.run.source
        coords = {"t": res.time, "r": res.r_edges}
        out = {}
        for a, s in enumerate(res.species):
            out[f"G_s_{s}"] = from_numpy(res.g_self[a], coords, unit="1/angstrom**3",
                                         name=f"G_s_{s}", source=src)
            if res.g_distinct is not None:
                for b, s2 in enumerate(res.species):
                    out[f"G_d_{s}_{s2}"] = from_numpy(res.g_distinct[a, b], coords,
                                                      unit="1/angstrom**3", name=f"G_d_{s}_{s2}",
                                                      source=src)
        return sc.DataGroup(out)

    def rows(self) -> list[dict]:
        """Per species and lag t (ps): the fraction of atoms displaced by less than r_max and
        their mean-square displacement <r^2> (angstrom^2)
        (:meth:`latdyn.md.VanHoveResult.self_displacements`)."""
        fraction, r2 = self.result.self_displacements()
        return [{"species": s, "t": float(t), "fraction within r_max": float(fraction[a, k]),
                 "<r^2>": float(r2[a, k])}
                for a, s in enumerate(self.result.species) for k, t in enumerate(self.result.time)]

    def units(self) -> dict[str, str]:
        return {"t": "ps", "<r^2>": "angstrom**2"}

    def _json(self) -> dict:
        return {"origins": self.result.n_origins,
                "r_max": _quantity(self.result.r_edges[-1], "angstrom"), "bins": len(self.result.r)}

    def _lines(self) -> list[str]:
        return [f"{self.result.n_origins} time origins, r up to {self.result.r_edges[-1]:.4g} A in "
                f"{len(self.result.r)} bins"]

    def _body(self, rep) -> None:
        from .figures import add_figure, van_hove_distinct_figure, van_hove_self_figure

        add_figure(rep, "G_self", van_hove_self_figure(self.result),
                   "Self part: distribution of displacements")
        if self.result.g_distinct is not None:
            add_figure(rep, "G_distinct", van_hove_distinct_figure(self.result),
                       "Distinct part over the number density")
        rep.add_table("Self part", self.rows())


@dataclass
class DOSAnalysis(_MDAnalysis):
    """The velocity autocorrelation (``vacf``) and the vibrational DOS computed from it with
    ``time_window`` (``dos``, a :class:`latdyn.data.DensityOfStates`, 3 per atom).  The mean
    energy <E> per species is ``dos.moment(1, species)``; the neutron-weighted view is left
    out, with a note, when a species has no tabulated cross section."""

    run: TrajectoryInfo
    vacf: VACFResult
    dos: DensityOfStates
    time_window: str = "gaussian"
    file_name = "md_dos.h5"
    title = "Vibrational DOS"
    report_title = "MD vibrational density of states"
    notes: list[str] = field(default_factory=list, init=False)
    mean_energy: dict[str, float] = field(default_factory=dict, init=False)
    neutron: sc.DataArray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.mean_energy = {s: self.dos.moment(1.0, s) for s in self.vacf.species}
        self.notes += [str(w.message) for w in caught
                       if issubclass(w.category, UserWarning | RuntimeWarning)]
        try:
            self.neutron = self.dos.neutron_weighted()
        except InputError as exc:
            self.notes.append(f"no neutron-weighted DOS: {exc}")

    def warnings(self) -> list[str]:
        """A partial whose area is not 3 (rescaled for <E>) and a missing neutron weighting."""
        return list(self.notes)

    def arrays(self) -> sc.DataGroup:
        """g_total, g_neutron, g_<species> (E) in 1/meV per atom; VACF_<species> (t)."""
        out = {"g_total": self.dos.total}
        if self.neutron is not None:
            out["g_neutron"] = self.neutron
        for a, s in enumerate(self.vacf.species):
            out[f"g_{s}"] = self.dos.partial(s)
            out[f"VACF_{s}"] = from_numpy(self.vacf.vacf[a], {"t": self.vacf.time},
                                          unit="angstrom**2/ps**2", name=f"VACF_{s}")
        return sc.DataGroup(out)

    def rows(self) -> list[dict]:
        """Per species: <E> (meV) of its partial DOS and <v^2> = Z(0) (angstrom^2/ps^2)."""
        return [{"species": s, "<E>": self.mean_energy[s], "<v^2>": float(self.vacf.vacf[a, 0])}
                for a, s in enumerate(self.vacf.species)]

    def units(self) -> dict[str, str]:
        return {"<E>": "meV", "<v^2>": "angstrom**2/ps**2"}

    @property
    def velocities(self) -> str:
        return "finite differences" if self.vacf.from_positions else "from file"

    def _json(self) -> dict:
        return {"velocities": self.velocities, "time_window": self.time_window}

    def _lines(self) -> list[str]:
        return [f"velocities: {self.velocities}"]

    def _body(self, rep) -> None:
        from .figures import add_figure, dos_figure

        curves = {name[2:]: da for name, da in self.arrays().items() if name.startswith("g_")}
        add_figure(rep, "dos", dos_figure(self.dos.energy, curves),
                   "Vibrational DOS: partial, total and neutron-weighted")
        if self.vacf.from_positions:
            rep.add_text("Velocities", "From finite differences of positions (sinc^2 corrected).")
        rep.add_table("Per species", self.rows())
