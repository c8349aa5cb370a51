r"""Phonon-peak fits of energy cuts: elastic + quasi-elastic Lorentzian + N damped oscillators.

Model of a spectrum at temperature T (all lines convolved with the energy-dependent Gaussian
resolution of :mod:`latdyn.ins.resolution`, evaluated at E - s with an energy offset s):

.. math::

    M(E) = A_{el}\, R(E) + A_{qe}\, R \otimes [B(E) L_{\Gamma_{qe}}(E)]
           + \sum_i A_i\, R \otimes [(n(E) + 1) D(E; E_{0,i}, \Gamma_i)] + b_0 + b_1 E

with L the unit-area Lorentzian of HWHM Gamma_qe, B(E) = (E/k_B T)/(1 - e^{-E/k_B T}) the
detailed-balance factor of a classical line, and D the damped harmonic oscillator
(Fak & Dorner, Physica B 234-236, 1107 (1997); :func:`latdyn.lineshapes.dho`)

.. math::  D(E) = \frac{1}{\pi} \frac{4 \Gamma E E_0}{(E^2 - E_0^2)^2 + 4 E^2 \Gamma^2}

whose strength A_i is the weight of chi''(E)/pi (for Gamma << E_0 each side of D has unit
area).  E_0 is the undamped (harmonic) energy and Gamma the damping (the HWHM of each peak
when Gamma << E_0); the peaks sit at sqrt(E_0^2 - Gamma^2).

**Overdamping criterion**: the poles of D are E = +-sqrt(E_0^2 - Gamma^2) - i Gamma; for
Gamma >= E_0 they lie on the imaginary axis, the mode no longer propagates (no finite-frequency
peak in chi''), and the oscillator is *overdamped*.  Each fit reports ``overdamped`` =
Gamma >= E_0 and the significance (Gamma - E_0) / sigma(Gamma - E_0).
Lifetime tau = hbar / (2 Gamma) (ps); mean free path l = v_g tau for a group velocity v_g.

Weighted least squares (lmfit, Levenberg-Marquardt); errors from the covariance, not scaled
by chi^2 unless asked.  Sequential fits over temperature start each fit from the previous one.
Units: E, Gamma, E_0 meV; T K; A in data unit x meV; tau ps; l angstrom.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ..convolution.energy_dependent import EnergyResolution, gaussian, thermal_conv
from ..convolution.kernels import poles
from ..errors import FitError, InputError
from ..fileio import write_text_atomic
from ..fitresult import FitResult, Parameter, diagnose, lmfit_outcome
from ..lineshapes import dho_peak_energy
from ..progress import track
from ..units import KB_MEV_PER_K, check_temperature, lifetime, lifetime_error, mean_free_path

__all__ = ["PhononPeakModel", "PhononFit", "PhononSeries", "fit_phonon_peaks", "fit_temperature_series",
           "component_label"]

_COMPONENT_WORDS = {"elastic": "elastic line", "qe": "quasi-elastic Lorentzian",
                    "background": "background"}


def component_label(name: str, n_dho: int = 1) -> str:
    """Words for a model component in a legend: ``qe`` -> 'quasi-elastic Lorentzian', ``dho1``
    -> 'damped oscillator' (numbered when the model has several), ``elastic`` -> 'elastic line'."""
    if name.startswith("dho") and name[3:].isdigit():
        return "damped oscillator" + (f" {name[3:]}" if n_dho > 1 else "")
    return _COMPONENT_WORDS.get(name, name.replace("_", " "))


@dataclass(frozen=True)
class PhononPeakModel:
    """Which terms the model holds: elastic line, quasi-elastic Lorentzian, n DHOs, background
    ('none', 'flat', 'linear'), and whether the energy offset s is fitted."""

    n_dho: int = 1
    elastic: bool = True
    quasielastic: bool = True
    background: str = "flat"
    fit_shift: bool = True

    def __post_init__(self):
        if not (isinstance(self.n_dho, (int, np.integer)) and 0 <= self.n_dho <= 10):
            raise InputError("number of DHOs must be an integer 0..10", field="n_dho", value=self.n_dho)
        if self.background not in ("none", "flat", "linear"):
            raise InputError("background must be 'none', 'flat' or 'linear'", field="background",
                             value=self.background)

    @property
    def param_names(self) -> list[str]:
        names = ["shift"]
        if self.elastic:
            names.append("elastic_area")
        if self.quasielastic:
            names += ["qe_area", "qe_hwhm"]
        for i in range(1, self.n_dho + 1):
            names += [f"dho{i}_area", f"dho{i}_E0", f"dho{i}_gamma"]
        names += {"none": [], "flat": ["bg0"], "linear": ["bg0", "bg1"]}[self.background]
        return names

    def components(self, E: np.ndarray, sigma: np.ndarray, p: dict[str, float],
                   T: float) -> dict[str, np.ndarray]:
        """Each term of the model at energies E (meV) with resolution widths sigma (meV)."""
        x = E - p["shift"]
        out: dict[str, np.ndarray] = {}
        if self.elastic:
            out["elastic"] = p["elastic_area"] * gaussian(x, sigma)
        if self.quasielastic:
            pl = poles("lorentzian", {"hwhm": p["qe_hwhm"]})
            out["qe"] = p["qe_area"] * thermal_conv(x, sigma, pl, T)
        kt = KB_MEV_PER_K * T
        for i in range(1, self.n_dho + 1):
            pl = poles("dho", {"E0": p[f"dho{i}_E0"], "hwhm": p[f"dho{i}_gamma"]})
            # (n + 1) D = B(E) * [k_B T D(E) / E]; D/E has the poles of D with c -> c / p
            even = [(kt * c / pk, pk) for c, pk in pl]
            out[f"dho{i}"] = p[f"dho{i}_area"] * thermal_conv(x, sigma, even, T)
        if self.background != "none":
            bg = np.full(E.shape, p["bg0"])
            if self.background == "linear":
                bg = bg + p["bg1"] * x
            out["background"] = bg
        return out

    def evaluate(self, E, sigma, p, T) -> np.ndarray:
        return sum(self.components(E, sigma, p, T).values())


@dataclass
class PhononFit(FitResult):
    """One fitted spectrum (the :class:`latdyn.fitresult.FitResult` protocol): parameters with
    errors, derived phonon quantities and curves.  ``correlation_all`` spans every model
    parameter (NaN for fixed ones); ``covariance`` only the varied ones."""

    temperature: float
    values: dict[str, float]
    errors: dict[str, float]
    correlation_all: np.ndarray
    names: list[str]
    chi2: float
    n_points: int
    n_varied: int
    success: bool
    message: str
    E: np.ndarray
    y: np.ndarray
    sigma_y: np.ndarray
    model: np.ndarray
    parts: dict[str, np.ndarray]
    model_definition: dict[str, Any]
    derived: list[dict[str, Any]] = field(default_factory=list)
    covariance: np.ndarray | None = None
    covariance_names: list[str] = field(default_factory=list)
    bounds: dict[str, tuple[float, float, bool]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    stopped_on_limit: bool = False

    significant = ("dho*_E0", "dho*_gamma", "dho*_area", "qe_hwhm")
    widths = ("dho*_gamma", "qe_hwhm")
    positions = ("dho*_E0",)

    def data_window(self) -> tuple[float, float]:
        """The energy range of the fitted spectrum (meV)."""
        return float(np.min(self.E)), float(np.max(self.E))

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter(n, self.values[n], self.errors[n], self.units.get(n, ""),
                          *(self.bounds[n][2], self.bounds[n][0], self.bounds[n][1]) if n in self.bounds
                          else (True,)) for n in self.names]

    @property
    def reasons(self) -> list[str]:
        return diagnose(parameters=self.parameters, covariance=self.covariance,
                        stopped_on_limit=self.stopped_on_limit, optimiser_ok=self.success,
                        message=self.message, expect_covariance=self.n_varied > 0)

    def row(self) -> dict[str, Any]:
        """A flat table row: T, every parameter and its error, chi^2_red, per-DHO derived values."""
        r: dict[str, Any] = {"T_K": self.temperature}
        for n in self.names:
            r[n] = self.values[n]
            r[f"{n}_err"] = self.errors[n]
        for d in self.derived:
            k = d["oscillator"]
            for key in ("peak_energy", "overdamped", "overdamping_significance", "lifetime_ps",
                        "lifetime_err_ps", "mean_free_path_A"):
                if key in d:
                    r[f"{k}_{key}"] = d[key]
        r["reduced_chi2"] = self.reduced_chi2
        r["success"] = self.success
        return r


def _spectrum_arrays(spectrum: sc.DataArray, source: str | None):
    if not isinstance(spectrum, sc.DataArray) or spectrum.dims != ("E",):
        raise InputError("a 1-D spectrum with dim 'E' is needed (cut S(Q,E) over Q first)",
                         file=source, field="dims", value=getattr(spectrum, "dims", None))
    if spectrum.variances is None:
        raise InputError("the spectrum has no uncertainties (variances)", file=source,
                         field="variances")
    e = np.asarray(sc.to_unit(spectrum.coords["E"], "meV").values, dtype=float)
    if spectrum.coords.is_edges("E"):
        e = 0.5 * (e[1:] + e[:-1])
    y = np.asarray(spectrum.values, dtype=float)
    s = np.sqrt(np.asarray(spectrum.variances, dtype=float))
    keep = np.ones(y.shape, bool)
    for m in spectrum.masks.values():
        keep &= ~np.broadcast_to(np.asarray(m.values, bool), y.shape)
    keep &= np.isfinite(y) & (s > 0)
    if keep.sum() < 5:
        raise InputError("fewer than 5 usable points (non-zero errors, unmasked)", file=source,
                         field="spectrum", value=int(keep.sum()))
    return e[keep], y[keep], s[keep]


def _initial(model: PhononPeakModel, e, y, sigma_res, e0, gamma, start) -> dict[str, tuple]:
    """(value, min, max) per parameter: from ``start`` where given, else from the data."""
    de = np.gradient(e)
    total = float(np.sum(np.clip(y, 0, None) * de))
    floor = float(np.percentile(y, 5))
    width0 = float(np.median(sigma_res))
    init: dict[str, tuple] = {"shift": (0.0, -5 * width0, 5 * width0)}
    if model.elastic:
        near = np.abs(e) < 3 * width0
        el = float(np.sum(np.clip(y[near] - floor, 0, None) * de[near])) if near.any() else 0.1 * total
        init["elastic_area"] = (max(el, 1e-9 * total), 0.0, np.inf)
    if model.quasielastic:
        init["qe_area"] = (0.1 * total, 0.0, np.inf)
        # a Lorentzian broader than the energy window cannot be told from the background
        init["qe_hwhm"] = (2 * width0, 1e-3 * width0, max(abs(e[0]), abs(e[-1])))
    for i in range(1, model.n_dho + 1):
        e0i = float(e0[i - 1])
        gi = float(gamma[i - 1]) if gamma is not None else 0.2 * e0i
        init[f"dho{i}_area"] = (0.2 * total / max(model.n_dho, 1), 0.0, np.inf)
        init[f"dho{i}_E0"] = (e0i, 1e-3, 10 * max(abs(e[0]), abs(e[-1])))
        init[f"dho{i}_gamma"] = (gi, 1e-4, 20 * max(abs(e[0]), abs(e[-1])))
    if model.background != "none":
        init["bg0"] = (max(floor, 0.0), -np.inf, np.inf)
    if model.background == "linear":
        init["bg1"] = (0.0, -np.inf, np.inf)
    for k, v in (start or {}).items():
        if k in init and np.isfinite(v):
            lo, hi = init[k][1], init[k][2]
            init[k] = (float(np.clip(v, lo, hi)), lo, hi)
    return init


def fit_phonon_peaks(spectrum: sc.DataArray, T: float, resolution, *, n_dho: int = 1,
                     e0: list[float] | None = None, gamma: list[float] | None = None,
                     model: PhononPeakModel | None = None, start: dict[str, float] | None = None,
                     fixed: dict[str, float] | None = None, group_velocity: list[float] | None = None,
                     scale_covariance: bool = False, source: str | None = None,
                     **resolution_settings) -> PhononFit:
    """Fit the module model to one energy spectrum at temperature T (K).

    Parameters
    ----------
    spectrum: DataArray with dim 'E' (meV) and variances (e.g. :func:`latdyn.reduce.cut` of
        S(Q,E) over a Q range); masked points are ignored.
    resolution: FWHM(E) spec for :meth:`EnergyResolution.from_spec` (callable, polynomial,
        number or instrument; ``resolution_settings`` such as ei= go to the instrument).
    n_dho, e0, gamma: number of oscillators and initial E_0 and Gamma (meV) of each (e0 needed).
    start: initial values by parameter name (a previous fit's ``values``).
    fixed: parameters held at a value (e.g. {'shift': 0.0}).
    group_velocity: v_g (m/s) per oscillator for the mean free path (None: not computed).
    """
    import lmfit

    t = float(check_temperature(T))
    model = model or PhononPeakModel(n_dho=n_dho)
    if model.n_dho and (e0 is None or len(e0) != model.n_dho):
        raise InputError(f"give {model.n_dho} initial oscillator energies e0", file=source,
                         field="e0", value=e0)
    if gamma is not None and len(gamma) != model.n_dho:
        raise InputError("give one initial damping per oscillator", file=source, field="gamma",
                         value=gamma)
    res = EnergyResolution.from_spec(resolution, **resolution_settings)
    e, y, sy = _spectrum_arrays(spectrum, source)
    sig = res.sigma(e)
    init = _initial(model, e, y, sig, e0, gamma, start)
    fixed = dict(fixed or {})
    if not model.fit_shift:
        fixed.setdefault("shift", 0.0)
    params = lmfit.Parameters()
    for n in model.param_names:
        v, lo, hi = init[n]
        if n in fixed:
            params.add(n, value=float(fixed[n]), vary=False)
        else:
            params.add(n, value=v, min=lo, max=hi)
    unknown = set(fixed) - set(model.param_names)
    if unknown:
        raise InputError(f"unknown parameter; the model has {model.param_names}", file=source,
                         field="fixed", value=sorted(unknown))

    def residual(p):
        return (model.evaluate(e, sig, p.valuesdict(), t) - y) / sy

    out = lmfit.minimize(residual, params, method="leastsq", scale_covar=scale_covariance)
    stopped, optimiser_ok, message = lmfit_outcome(out)
    if not np.all(np.isfinite(out.residual)):
        raise FitError("the model is not finite at the fitted parameters", file=source,
                       field="parameters", value=dict(out.params.valuesdict()))
    names = list(model.param_names)
    vals = {n: float(out.params[n].value) for n in names}
    errs = {n: (float(out.params[n].stderr) if out.params[n].stderr is not None else float("nan"))
            for n in names}
    corr = np.full((len(names), len(names)), np.nan)
    if out.covar is not None:
        var = out.var_names
        c = np.asarray(out.covar)
        d = np.sqrt(np.diag(c))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if a in var and b in var:
                    ia, ib = var.index(a), var.index(b)
                    corr[i, j] = c[ia, ib] / (d[ia] * d[ib])
    parts = model.components(e, sig, vals, t)
    data_unit = str(spectrum.unit) if spectrum.unit is not None else "dimensionless"
    fit = PhononFit(t, vals, errs, corr, names, float(out.chisqr), int(e.size), int(out.nvarys),
                    bool(optimiser_ok and out.covar is not None), message, e, y, sy,
                    sum(parts.values()), parts,
                    {"n_dho": model.n_dho, "elastic": model.elastic, "quasielastic": model.quasielastic,
                     "background": model.background, "fixed": fixed, "resolution": res.description,
                     "temperature_K": t},
                    covariance=None if out.covar is None else np.asarray(out.covar),
                    covariance_names=list(out.var_names),
                    bounds={n: (float(out.params[n].min), float(out.params[n].max), bool(out.params[n].vary))
                            for n in names},
                    units={n: _unit(n, data_unit) for n in names}, stopped_on_limit=stopped)
    fit.derived = _derived(fit, out, group_velocity)
    return fit


def _unit(name: str, data_unit: str) -> str:
    """Unit of a peak-model parameter: energies and widths meV, areas data x meV, bg0 the data's."""
    import scipp as sc

    d = sc.Unit(data_unit)
    if name == "shift" or name.endswith(("_E0", "_gamma", "_hwhm")):
        return "meV"
    if name.endswith("_area"):
        return str(d * sc.Unit("meV"))
    return str(d if name == "bg0" else d / sc.Unit("meV"))


def _derived(fit: PhononFit, out, group_velocity) -> list[dict[str, Any]]:
    """Per-oscillator peak energy, overdamping criterion, lifetime and mean free path."""
    rows = []
    var = out.var_names
    c = np.asarray(out.covar) if out.covar is not None else None
    n = fit.model_definition["n_dho"]
    if group_velocity is not None and len(group_velocity) != n:
        raise InputError("give one group velocity per oscillator", field="group_velocity",
                         value=group_velocity)
    for i in range(1, n + 1):
        e0, g = fit.values[f"dho{i}_E0"], fit.values[f"dho{i}_gamma"]
        se0, sg = fit.errors[f"dho{i}_E0"], fit.errors[f"dho{i}_gamma"]
        cov = 0.0
        if c is not None and f"dho{i}_E0" in var and f"dho{i}_gamma" in var:
            cov = c[var.index(f"dho{i}_E0"), var.index(f"dho{i}_gamma")]
        sdiff = np.sqrt(max(se0**2 + sg**2 - 2 * cov, 0.0)) if np.isfinite(se0 + sg) else np.nan
        row = {"oscillator": f"dho{i}", "E0": e0, "gamma": g, "peak_energy": float(dho_peak_energy(e0, g)),
               "overdamped": bool(g >= e0),
               "overdamping_significance": float((g - e0) / sdiff) if sdiff > 0 else float("nan"),
               "lifetime_ps": float(lifetime(g)),
               "lifetime_err_ps": float(lifetime_error(g, sg)) if np.isfinite(sg) else float("nan")}
        if group_velocity is not None:
            row["mean_free_path_A"] = float(mean_free_path(group_velocity[i - 1], row["lifetime_ps"]))
        rows.append(row)
    return rows


@dataclass
class PhononSeries:
    """Sequential fits over temperature; ``rows()`` gives the parameter-versus-T table."""

    fits: list[PhononFit]
    inputs: list = field(default_factory=list)

    heading = "phonon-peak fits"

    def rows(self) -> list[dict[str, Any]]:
        """One row per temperature: T_K, every parameter and its error, derived values."""
        return [f.row() for f in self.fits]

    @property
    def table_columns(self) -> list[str]:
        """The columns worth printing: T, the oscillators' E0, Gamma (with errors) and
        overdamping, the quasi-elastic width and the reduced chi^2."""
        first = self.rows()[0]
        keys = ["T_K"] + [k for k in first if k.startswith("dho") and ("E0" in k or "gamma" in k
                                                                     or "overdamped" in k)]
        return keys + [k for k in ("qe_hwhm", "qe_hwhm_err", "reduced_chi2") if k in first]

    @property
    def converged(self) -> bool:
        return all(f.converged for f in self.fits)

    def implausible(self) -> list[str]:
        """Values not to be trusted, by temperature (:meth:`latdyn.fitresult.FitResult.implausible`:
        errors larger than values, no finite errors, widths or E0 outside the energy window)."""
        return [f"T = {f.temperature:g} K: {r}" for f in self.fits for r in f.implausible()]

    def warnings(self) -> list[str]:
        """Why the results should not be used as they stand: the reasons and implausible values."""
        return [f"T = {f.temperature:g} K: {r}" for f in self.fits for r in f.reasons] + self.implausible()

    def to_json(self) -> dict:
        """Convergence of the fits (with the reasons, by temperature), implausible values and the
        units."""
        return {"converged": self.converged,
                "reasons": [f"T = {f.temperature:g} K: {r}" for f in self.fits for r in f.reasons],
                "implausible": self.implausible(),
                "model": {k: str(v) if not isinstance(v, (int, float, bool)) else v
                          for k, v in self.fits[0].model_definition.items()},
                "units": {"T_K": "K", **self.fits[0].units}}

    def report(self, command: str | None = None):
        """The HTML report (:func:`latdyn.inelastic.peak_series.series_report`)."""
        from .peak_series import series_report

        return series_report(self, command)

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``fits.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from .peak_series import write_series

        return write_series(self, folder, command)

    def write_csv(self, path: str | Path) -> Path:
        """One row per temperature: T_K, every parameter and its error, derived values."""
        rows = self.rows()
        cols = list(rows[0].keys())
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
        return write_text_atomic(path, buf.getvalue())


def fit_temperature_series(spectra: list[sc.DataArray] | sc.DataArray, temperatures, resolution, *,
                           progress: bool | None = None, multistart: bool = True,
                           **kwargs) -> PhononSeries:
    """Fit spectra at increasing temperatures in turn, each started from the previous result.

    ``spectra``: a list of 1-D spectra, or a DataArray with dims ('T', 'E') (then
    ``temperatures`` may be None to use its 'T' coordinate).  Other keywords go to
    :func:`fit_phonon_peaks` (n_dho, e0, gamma, fixed, group_velocity, ...).

    ``multistart``: besides the previous temperature's result, also start from the data-driven
    guess and from an overdamped guess (every Gamma = 1.5 E0), and keep the lowest chi^2.  An
    underdamped start cannot always reach the overdamped minimum across a transition where a
    quasi-elastic line appears (the two shapes trade intensity), so warm starts alone can lock
    a series into the wrong branch.
    """
    if isinstance(spectra, sc.DataArray):
        if set(spectra.dims) != {"T", "E"}:
            raise InputError("a DataArray of spectra needs dims ('T', 'E')", field="dims",
                             value=spectra.dims)
        if temperatures is None:
            temperatures = sc.to_unit(spectra.coords["T"], "K").values
        spectra = [spectra["T", i].drop_coords("T") for i in range(spectra.sizes["T"])]
    temps = check_temperature(temperatures)
    if temps.ndim != 1 or temps.size != len(spectra):
        raise InputError("one temperature per spectrum is needed", field="temperatures",
                         value=(temps.size, len(spectra)))
    fits: list[PhononFit] = []
    start = kwargs.pop("start", None)
    order = np.argsort(temps)
    for k in track(order, "fitting temperatures", progress, unit="T"):
        candidates = [start]
        if multistart:
            candidates.append(None)
            if start is not None:
                candidates.append(_overdamped_start(start))
        tried = []
        for s in candidates:
            try:
                tried.append(fit_phonon_peaks(spectra[k], temps[k], resolution, start=s, **kwargs))
            except FitError:
                if s is candidates[-1] and not tried:
                    raise
        ok = [f for f in tried if f.success] or tried
        f = min(ok, key=lambda fit: fit.chi2)
        fits.append(f)
        if f.success:
            start = f.values
    return PhononSeries(fits)


def _overdamped_start(values: dict[str, float]) -> dict[str, float]:
    """A copy of ``values`` with every DHO damping set to 1.5 times its energy."""
    out = dict(values)
    for name, v in values.items():
        if name.endswith("_E0"):
            out[name.replace("_E0", "_gamma")] = 1.5 * v
    return out
