r"""A virtual measurement of an analytic model on a library instrument, as run by
``latdyn simulate mode|qens``: :func:`simulate_measurement` returns a
:class:`SimulatedMeasurement` with ``rows()``, ``to_json()``, ``write(path)`` and ``report()``.

Models (S in 1/meV, E in meV, |Q| in 1/A):

- ``mode``: a dispersionless sharp excitation, S(Q,E) = A delta(E - E_0) + b (``e0``,
  ``area``, ``background``), the line broadened by the resolution, never sampled on a grid.
- ``qens``: S(Q,E) = EISF delta(E) + (1 - EISF) L(E; Gamma) + b with the Lorentzian L of HWHM
  Gamma = hbar D Q^2 (Fick's law, ``diffusion`` D in A^2/ps; :func:`latdyn.lineshapes.lorentzian`).

Energy grid: ``points`` from ``emin`` to ``emax``, by default the analyser window of an
indirect machine or -0.5 E_i to 0.9 E_i otherwise.  Noise: ``counts`` expected counts per
unit S, or the counts of a real sample (``sample``, ``mass``, ``hours``; flux from the
instrument file or ``flux``; the model then is S per formula unit with the cross section
``cross_section``), :func:`latdyn.simulate.simulate_sqe` and :mod:`latdyn.simulate.counts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipp as sc

from ..errors import InputError
from ..fileio import atomic_path
from ..fitresult import Quantity
from ..lineshapes import lorentzian
from ..units import HBAR_MEV_PS
from .counts import counts_factor
from .sample import Sample
from .virtual import simulate_sqe

__all__ = ["MODELS", "SimulatedMeasurement", "simulate_measurement"]

#: the analytic models of ``latdyn simulate`` and what they are
MODELS = {
    "mode": "A dispersionless sharp excitation S(Q,E) = A delta(E - E0) + b, broadened by the "
            "instrument's resolution.",
    "qens": "S(Q,E) = EISF delta(E) + (1 - EISF) L(E; Gamma) + b, a Lorentzian of HWHM "
            "Gamma = hbar D Q^2 (Fick's law), broadened by the instrument's resolution.",
}


@dataclass
class SimulatedMeasurement:
    """The simulated S(Q,E) (``data``: dims Q, E; 1/meV; variances; mask
    ``outside_coverage``) of ``model`` on ``instrument`` with its ``parameters`` (name ->
    {value, unit}); for a real sample also the ``counts`` per bin (0 where masked), the
    ``sample`` and ``hours``."""

    data: sc.DataArray
    model: str
    instrument: str
    parameters: dict = field(default_factory=dict)
    counts: np.ndarray | None = None
    sample: Sample | None = None
    hours: float | None = None

    @property
    def title(self) -> str:
        return f"simulated {self.model} on {self.instrument}"

    @property
    def masked(self) -> np.ndarray:
        """True where the instrument does not reach (Q, E) (mask ``outside_coverage``)."""
        return self.data.masks["outside_coverage"].values

    def rows(self) -> list[dict]:
        """Per |Q|: Q (1/A), the sum of S over the covered points (1/meV) and, for a real
        sample, the counts."""
        q = self.data.coords["Q"].values
        rows = [{"Q": float(qi), "sum S (in coverage)": float(np.sum(v[~m]))}
                for qi, v, m in zip(q, self.data.values, self.masked, strict=True)]
        if self.counts is not None:
            for row, c in zip(rows, self.counts, strict=True):
                row["counts"] = float(c.sum())
        return rows

    def to_json(self) -> dict:
        """The table's units, the masked points and, for a real sample, the sample, its mass,
        the counting time and the counts ({value, error, unit} for physical values)."""
        out = {"units": {"Q": "1/angstrom", "sum S (in coverage)": str(self.data.unit)},
               "masked points": int(self.masked.sum())}
        if self.sample is not None:
            nan = float("nan")
            out.update({"sample": self.sample.formula,
                        "mass": Quantity(self.sample.mass_g, nan, "g").as_dict(),
                        "time": Quantity(self.hours, nan, "h").as_dict(),
                        "total counts": float(self.counts.sum()),
                        "formula units": self.sample.formula_units})
        return out

    def lines(self) -> list[str]:
        """The results under the table as readable text lines."""
        from ..report.numbers import format_number

        out = [f"units: Q in 1/angstrom, S in {self.data.unit}",
               f"masked points: {int(self.masked.sum())}"]
        if self.sample is not None:
            out += [f"sample: {self.sample.formula}, {self.sample.mass_g:g} g, {self.hours:g} h",
                    f"total counts: {format_number(float(self.counts.sum()))}",
                    f"formula units: {format_number(self.sample.formula_units)}"]
        return out

    def write(self, path) -> list[Path]:
        """The DataArray in scipp's HDF5 layout at ``path`` (atomic; ``sc.io.load_hdf5`` reads
        it back); returns [path]."""
        path = Path(path)
        with atomic_path(path) as tmp:
            self.data.save_hdf5(tmp)
        return [path]

    def report(self, command: str | None = None):
        """An HTML report (:class:`latdyn.report.Report`): model, parameters, table, map."""
        from ..report import Report, plot_sqe

        rep = Report(f"Virtual experiment: {self.model} on {self.instrument}", command=command)
        rep.add_text("Model", MODELS[self.model])
        rep.add_table("Parameters", [{"parameter": k, **v} for k, v in self.parameters.items()])
        rep.add_table("Results", self.rows())
        fig, _ = plot_sqe(self.data, title=self.title)
        rep.add_figure("simulated", fig, "Simulated S(Q,E); points outside the coverage are 0.")
        import matplotlib.pyplot as plt

        plt.close(fig)
        return rep


#: units of the settings recorded as parameters
_UNITS = {"frequency": "Hz", "hours": "h", "flux": "1/(cm**2 s) (direct) or 1/(cm**2 s meV) (indirect)",
          "cross_section": "barn when a number"}


def _p(value, unit: str = "") -> dict:
    return {"value": value, "unit": unit}


def _energy_grid(inst, ei, emin, emax, points) -> np.ndarray:
    if inst.kind == "indirect":
        lo, hi = inst.e_min, inst.e_max
    elif ei is not None:
        lo, hi = -0.5 * ei, 0.9 * ei
    else:
        raise InputError("give --ei for this instrument", field="ei")
    return np.linspace(lo if emin is None else emin, hi if emax is None else emax, max(points, 2))


def _counting(q, sample, mass, hours, sample_area, flux, cross_section,
              analyser_reflectivity) -> dict:
    """Keyword arguments of a real-sample simulation ({} without one)."""
    if isinstance(sample, Sample):
        if mass is not None or sample_area is not None:
            raise InputError("mass and sample_area belong to the Sample given", field="mass")
        given = {"sample": sample, "hours": hours}
    else:
        given = {"sample": sample, "mass": mass, "hours": hours}
    if all(v is None for v in given.values()):
        return {}
    for k, v in given.items():
        if v is None:
            raise InputError("--sample, --mass and --hours go together", field=k)
    if not isinstance(sample, Sample):
        sample = Sample(sample, mass, area_cm2=sample_area)
    try:
        cross_section = float(cross_section)
    except (TypeError, ValueError):
        pass
    out = {"sample": sample, "hours": hours, "cross_section": cross_section, "flux": flux}
    if analyser_reflectivity is not None:
        out["analyser_reflectivity"] = analyser_reflectivity
    if len(q) == 1:
        raise InputError("give at least two --q values to define |Q| bins", field="q")
    return out


def simulate_measurement(model: str, instrument, *, q=(0.5, 1.0, 1.5, 2.0),
                         ei: float | None = None, emin: float | None = None,
                         emax: float | None = None, points: int = 201, e0: float = 1.0,
                         area: float = 1.0, background: float = 0.01, eisf: float = 0.3,
                         diffusion: float = 0.2, counts: float = 1e4, sample=None,
                         mass: float | None = None, hours: float | None = None,
                         sample_area: float | None = None, flux: float | None = None,
                         cross_section="total", analyser_reflectivity: float | None = None,
                         frequency: float | None = None, mode: str | None = None,
                         package: str | None = None, seed: int | None = None) -> SimulatedMeasurement:
    """Simulate ``model`` ('mode' or 'qens', module docstring) on ``instrument`` (library
    name, YAML path or instrument object) at |Q| ``q`` (1/A).

    ``ei`` incident energy (meV, direct geometry); ``emin``, ``emax``, ``points`` the energy
    grid (meV); ``e0`` (meV), ``area``: the mode; ``eisf``, ``diffusion`` (A^2/ps): the QENS
    model; ``background`` (1/meV); ``counts``: expected counts per unit S without a sample;
    ``sample`` (formula with ``mass`` in g and ``sample_area`` in cm^2, or a
    :class:`Sample`), ``hours``, ``flux``, ``cross_section`` ('total', 'coherent',
    'incoherent', 'absolute' or barn), ``analyser_reflectivity``: counts of a real sample;
    ``frequency``, ``mode``, ``package``: chopper settings (direct geometry); ``seed``: the
    Poisson draw."""
    from ..instruments import load_instrument

    if model not in MODELS:
        raise InputError(f"model must be one of {list(MODELS)}", field="model", value=model)
    inst = load_instrument(instrument) if isinstance(instrument, str | Path) else instrument
    q = [float(x) for x in np.atleast_1d(q)]
    e = _energy_grid(inst, ei, emin, emax, points)
    settings = {k: v for k, v in (("frequency", frequency), ("mode", mode), ("package", package))
                if v is not None and inst.kind == "direct"}
    counting = _counting(q, sample, mass, hours, sample_area, flux, cross_section,
                         analyser_reflectivity)
    settings.update(counting)
    if model == "mode":
        params = {"e0": _p(e0, "meV"), "area": _p(area), "background": _p(background, "1/meV")}
        da = simulate_sqe(lambda qi, x: np.full_like(x, background), inst, q, e, ei=ei,
                          lines=lambda qi: ([e0], [area]), counts_scale=counts, seed=seed,
                          **settings)
    else:
        if not 0 <= eisf <= 1:
            raise InputError("EISF must lie in [0, 1]", field="eisf", value=eisf)
        params = {"eisf": _p(eisf), "diffusion": _p(diffusion, "angstrom**2/ps"),
                  "background": _p(background, "1/meV")}

        def qens(qi, x):
            return (1 - eisf) * lorentzian(x, HBAR_MEV_PS * diffusion * qi**2) + background

        da = simulate_sqe(qens, inst, q, e, ei=ei, elastic=lambda qi: eisf,
                          counts_scale=counts, seed=seed, **settings)
    params |= {"ei": _p(ei, "meV"), "seed": _p(seed)} | {
        k: _p(v, _UNITS.get(k, "")) for k, v in settings.items() if k != "sample"}
    result = SimulatedMeasurement(da, model, inst.name, params)
    if counting:
        factor = counts_factor(inst, q, e, ei=ei, **settings)
        result.counts = np.where(result.masked, 0.0, da.values * factor)
        result.sample, result.hours = counting["sample"], counting["hours"]
    return result
