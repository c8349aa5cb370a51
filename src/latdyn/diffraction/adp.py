r"""Atomic displacement parameters: the Debye and Einstein models and fits of U_iso(T).

Debye model of a monatomic harmonic solid (Willis & Pryor, *Thermal Vibrations in
Crystallography* (1975), eq. 6.64; Glauber, Phys. Rev. 98, 1692 (1955), eqs. 11-12):

.. math::

    U_{iso}(T) = \frac{3\hbar^2 T}{m k_B \Theta_D^2}\left[\frac{T}{\Theta_D}
                 \int_0^{\Theta_D/T}\frac{x\,dx}{e^x - 1} + \frac{\Theta_D}{4T}\right]

(U_iso(0) = 3 hbar^2 / (4 m k_B Theta_D), U_iso -> 3 hbar^2 T / (m k_B Theta_D^2) at high T).
Einstein oscillator (a "rattler" of frequency omega_E = k_B Theta_E / hbar):

.. math::  U_{iso}(T) = \frac{\hbar^2}{2 m k_B \Theta_E}\coth\frac{\Theta_E}{2T}

A measured U_iso(T) is fitted as U_model(T; Theta) + U_static, the offset holding static
disorder (Sales et al., PRB 63, 245113 (2001)).  The mean-square displacement is
<u^2> = 3 U_iso.  Units: U in angstrom^2, T and Theta in K, m in amu.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import constants as C
from scipy import special

from ..errors import FitError, InputError
from ..fitresult import FitResult, Parameter, diagnose, lmfit_outcome

__all__ = ["debye_integral", "debye_u_iso", "einstein_u_iso", "msd_from_u_iso", "u_iso_from_msd",
           "ADPFit", "fit_u_iso"]

#: hbar^2 / (amu k_B) in angstrom^2 K.
_H2_MK = C.hbar**2 / (C.atomic_mass * C.k) * 1e20

_N_SERIES = 40
_BERN = special.bernoulli(_N_SERIES)
_SERIES_COEF = np.array([_BERN[n] / ((n + 1) * special.factorial(n)) for n in range(_N_SERIES)])
_SERIES_COEF[1] = -0.25  # B_1 = -1/2 in the generating function t/(e^t - 1)


def debye_integral(x) -> np.ndarray:
    r"""I(x) = \int_0^x t / (e^t - 1) dt for x >= 0 (machine precision).

    x <= 2: the Bernoulli series sum_n B_n x^{n+1} / ((n+1) n!) (converges for x < 2 pi);
    x > 2: pi^2/6 - sum_k e^{-kx} (x/k + 1/k^2).
    """
    x = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(x) | (x < 0)):
        raise InputError("Debye integral needs finite x >= 0", field="x", value=x)
    small = x <= 2.0
    xs = np.where(small, x, 0.0)
    powers = xs[..., None] ** (np.arange(_N_SERIES) + 1)
    series = np.sum(_SERIES_COEF * powers, axis=-1)
    xl = np.where(small, 3.0, x)[..., None]
    k = np.arange(1, 31)
    tail = np.sum(np.exp(-k * xl) * (xl / k + 1.0 / k**2), axis=-1)
    return np.where(small, series, np.pi**2 / 6.0 - tail)


def _check(T, theta, mass, name):
    T = np.asarray(T, dtype=float)
    if np.any(~np.isfinite(T) | (T < 0)):
        raise InputError("temperature must be finite and non-negative (K)", field="T", value=T)
    if not np.isfinite(theta) or theta <= 0:
        raise InputError(f"{name} must be positive (K)", field=name, value=theta)
    if not np.isfinite(mass) or mass <= 0:
        raise InputError("mass must be positive (amu)", field="mass", value=mass)
    return T


def debye_u_iso(T, theta_D: float, mass: float):
    """Debye-model U_iso(T) (angstrom^2) for temperature T (K), Debye temperature (K), mass (amu)."""
    T = _check(T, theta_D, mass, "theta_D")
    x = theta_D / np.where(T > 0, T, 1.0)
    hot = 3 * _H2_MK * T / (mass * theta_D**2) * (debye_integral(x) / x + x / 4.0)
    u = np.where(T > 0, hot, 3 * _H2_MK / (4 * mass * theta_D))
    return u.item() if u.ndim == 0 else u


def einstein_u_iso(T, theta_E: float, mass: float):
    """Einstein-oscillator U_iso(T) (angstrom^2): hbar^2 / (2 m k_B Theta_E) coth(Theta_E / 2T)."""
    T = _check(T, theta_E, mass, "theta_E")
    with np.errstate(divide="ignore"):
        coth = np.where(T > 0, 1.0 / np.tanh(theta_E / (2 * np.where(T > 0, T, 1.0))), 1.0)
    u = _H2_MK / (2 * mass * theta_E) * coth
    return u.item() if u.ndim == 0 else u


def msd_from_u_iso(u_iso):
    """Mean-square displacement <u^2> = 3 U_iso (angstrom^2)."""
    return 3.0 * np.asarray(u_iso, dtype=float)


def u_iso_from_msd(msd):
    """U_iso = <u^2> / 3 (angstrom^2)."""
    return np.asarray(msd, dtype=float) / 3.0


_MODELS = {"debye": (debye_u_iso, "theta_D"), "einstein": (einstein_u_iso, "theta_E")}


@dataclass
class ADPFit(FitResult):
    """Result of :func:`fit_u_iso` (the :class:`latdyn.fitresult.FitResult` protocol).

    params: name -> (value, standard error or None, unit); covariance over the varied
    parameters (order ``varied``); the data and the model definition.
    """

    model: str
    mass: float
    params: dict[str, tuple[float, float | None, str]]
    varied: list[str]
    covariance: np.ndarray | None
    chi2: float
    n_points: int
    T: np.ndarray = field(repr=False)
    u_iso: np.ndarray = field(repr=False)
    u_err: np.ndarray | None = field(repr=False)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    stopped_on_limit: bool = False
    message: str = ""
    inputs: list = field(default_factory=list, repr=False)

    significant = ("theta_D", "theta_E")

    def warnings(self) -> list[str]:
        """Why the fit should not be used as it stands: its reasons and implausible values."""
        return list(self.reasons) + self.implausible()

    @property
    def n_varied(self) -> int:
        return len(self.varied)

    @property
    def covariance_names(self) -> list[str]:
        return list(self.varied)

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter(k, v, float("nan") if e is None else e, "angstrom**2" if u == "angstrom^2" else u,
                          k in self.varied, *self.bounds.get(k, (-np.inf, np.inf)))
                for k, (v, e, u) in self.params.items()]

    @property
    def reasons(self) -> list[str]:
        return diagnose(parameters=self.parameters, covariance=self.covariance,
                        stopped_on_limit=self.stopped_on_limit, message=self.message)

    @property
    def theta(self) -> float:
        return self.params[_MODELS[self.model][1]][0]

    @property
    def u_static(self) -> float:
        return self.params["u_static"][0]

    def predict(self, T):
        """Fitted U_iso at temperatures T (K), angstrom^2."""
        fn = _MODELS[self.model][0]
        return fn(T, self.theta, self.mass) + self.u_static

    def rows(self) -> list[dict]:
        """parameter, value, stderr, unit of each fitted parameter."""
        return [{"parameter": k, "value": v, "stderr": e, "unit": u} for k, (v, e, u) in self.params.items()]

    @property
    def heading(self) -> str:
        return f"{self.model} fit of U_iso(T), mass {self.mass:.4f} amu"

    def to_json(self) -> dict:
        """The model, the mass and the fit (parameters with value, error, unit; statistics)."""
        return {"model": self.model, "mass": {"value": self.mass, "error": None, "unit": "amu"},
                **super().to_json()}

    def report(self, command: str | None = None):
        """The HTML report: parameters, U_iso(T) with the model, statistics."""
        from .adp_results import adp_report

        return adp_report(self, command)

    def write(self, folder, command: str | None = None) -> list:
        """``debye_fit.csv``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole;
        layout in docs/diffraction.md)."""
        from .adp_results import write_adp_fit

        return write_adp_fit(self, folder, command)


def fit_u_iso(T, u_iso, u_err=None, *, mass: float, model: str = "debye", static: bool = True,
              theta_start: float | None = None) -> ADPFit:
    """Fit U_iso(T) = U_model(T; Theta) + U_static (module docstring) with lmfit.

    T (K), u_iso and u_err (angstrom^2; weights 1/u_err, unweighted when None), mass (amu),
    model 'debye' or 'einstein', ``static=False`` fixes U_static = 0.
    Returns Theta (K) and U_static (angstrom^2) with standard errors (scaled by sqrt(chi2_red)
    when no errors are given).
    """
    import lmfit

    if model not in _MODELS:
        raise InputError("unknown ADP model; use 'debye' or 'einstein'", field="model", value=model)
    T = np.asarray(T, dtype=float)
    u = np.asarray(u_iso, dtype=float)
    if T.shape != u.shape or T.ndim != 1 or len(T) < (3 if static else 2):
        raise InputError("need matching 1-D arrays of at least 3 temperatures and U_iso values",
                         field="T", value=(T.shape, u.shape))
    if np.any(~np.isfinite(u)):
        raise InputError("U_iso values must be finite", field="u_iso", value=u)
    _check(T, 1.0, mass, "theta")
    err = None
    if u_err is not None:
        err = np.asarray(u_err, dtype=float)
        if err.shape != u.shape or np.any(~np.isfinite(err) | (err <= 0)):
            raise InputError("U_iso errors must be positive and match U_iso", field="u_err", value=u_err)
    fn, tname = _MODELS[model]
    if theta_start is None:
        hot = T > 0
        slope = np.polyfit(T[hot], u[hot], 1)[0] if hot.sum() >= 2 else 0.0
        theta_start = np.sqrt(3 * _H2_MK / (mass * slope)) if slope > 0 else 300.0
        if model == "einstein":
            theta_start = theta_start * np.sqrt(2.0 / 3.0)
    params = lmfit.Parameters()
    params.add(tname, value=float(theta_start), min=1e-3)
    params.add("u_static", value=0.0, vary=static)

    def residual(p):
        r = fn(T, p[tname].value, mass) + p["u_static"].value - u
        return r if err is None else r / err

    res = lmfit.minimize(residual, params, scale_covar=err is None)
    stopped, ok, message = lmfit_outcome(res)
    if not (ok or stopped) or res.errorbars is False and len(T) > len(res.var_names):
        raise FitError(f"{model} fit of U_iso(T) did not converge: {res.message}", field=tname,
                       value=res.params[tname].value)
    names = list(res.var_names)
    out = {tname: (res.params[tname].value, res.params[tname].stderr, "K"),
           "u_static": (res.params["u_static"].value, res.params["u_static"].stderr, "angstrom^2")}
    return ADPFit(model=model, mass=float(mass), params=out, varied=names,
                  covariance=None if res.covar is None else np.asarray(res.covar), chi2=float(res.chisqr),
                  n_points=int(len(T)), T=T, u_iso=u, u_err=err,
                  bounds={k: (float(res.params[k].min), float(res.params[k].max)) for k in out},
                  stopped_on_limit=stopped, message=message)
