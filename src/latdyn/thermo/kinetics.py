r"""Arrhenius analysis of thermally activated quantities.

A rate, diffusion coefficient or line width y(T) that is thermally activated follows

.. math::  y(T) = A \exp(-E_a / k_B T), \qquad \ln y = \ln A - \frac{E_a}{k_B} \frac{1}{T}

The fit is a weighted linear least-squares fit of ln y against 1/T with weights
1 / sigma_{ln y}^2 = (y / sigma_y)^2 (first-order error propagation).  Without errors, or with
``scale_covariance``, the covariance is scaled by the reduced chi^2 (the scatter of the data
sets the uncertainty).  E_a in eV (k_B from scipy.constants), A in the unit of y.
Reference: e.g. Bevington & Robinson, *Data Reduction and Error Analysis*, ch. 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import constants as C

from ..errors import FitError, InputError
from ..fitresult import FitResult, Parameter, diagnose
from ..units import check_temperature

__all__ = ["ArrheniusResult", "arrhenius_fit", "arrhenius"]

_KB_EV_PER_K = C.k / C.e


@dataclass(frozen=True)
class ArrheniusResult(FitResult):
    """Activation energy E_a (eV) and prefactor A (unit of y) with standard errors and their
    correlation (the :class:`latdyn.fitresult.FitResult` protocol; a linear fit, so it
    converges unless the covariance is singular)."""

    activation_energy: float
    activation_energy_error: float
    prefactor: float
    prefactor_error: float
    ea_prefactor_correlation: float
    chi2: float
    n_points: int
    y_unit: str = "dimensionless"

    n_varied = 2
    significant = ("activation_energy", "prefactor")

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter("activation_energy", self.activation_energy, self.activation_energy_error, "eV"),
                Parameter("prefactor", self.prefactor, self.prefactor_error, self.y_unit)]

    @property
    def covariance_names(self) -> list[str]:
        return ["activation_energy", "prefactor"]

    @property
    def covariance(self) -> np.ndarray:
        s = np.array([self.activation_energy_error, self.prefactor_error])
        c = np.array([[1.0, self.ea_prefactor_correlation], [self.ea_prefactor_correlation, 1.0]])
        return c * np.outer(s, s)

    @property
    def reasons(self) -> list[str]:
        return diagnose(parameters=self.parameters, covariance=self.covariance)

    def predict(self, T) -> np.ndarray:
        """y(T) = A exp(-E_a / k_B T)."""
        return arrhenius(T, self.activation_energy, self.prefactor)

    def as_dict(self) -> dict[str, float]:
        return {"Ea_eV": self.activation_energy, "Ea_err_eV": self.activation_energy_error,
                "prefactor": self.prefactor, "prefactor_err": self.prefactor_error,
                "correlation": self.ea_prefactor_correlation, "chi2": self.chi2,
                "reduced_chi2": self.reduced_chi2, "n_points": self.n_points}


def arrhenius(T, activation_energy: float, prefactor: float) -> np.ndarray:
    """y = A exp(-E_a / k_B T) with E_a in eV and T in K."""
    t = check_temperature(T)
    return prefactor * np.exp(-activation_energy / (_KB_EV_PER_K * t))


def arrhenius_fit(T, y, y_error=None, *, scale_covariance: bool | None = None) -> ArrheniusResult:
    """Fit y(T) = A exp(-E_a / k_B T) (module docstring) and return E_a (eV) with its error.

    T in K (> 0), y > 0 (any unit), y_error standard errors of y (> 0) or None.
    ``scale_covariance`` defaults to True without errors and False with errors.
    """
    t = check_temperature(T)
    yv = np.asarray(y, dtype=float)
    if t.ndim != 1 or yv.shape != t.shape:
        raise InputError("T and y must be 1-D arrays of one length", field="y",
                         value=(t.shape, yv.shape))
    if t.size < 2 or np.unique(t).size < 2:
        raise FitError("an Arrhenius fit needs at least two distinct temperatures", field="T",
                       value=t.tolist())
    bad = ~np.isfinite(yv) | (yv <= 0)
    if np.any(bad):
        raise InputError("Arrhenius data must be finite and > 0", field="y",
                         value=float(yv[bad][0]))
    if y_error is None:
        w = np.ones_like(yv)
        scale = True if scale_covariance is None else scale_covariance
    else:
        s = np.asarray(y_error, dtype=float)
        if s.shape != yv.shape or np.any(~np.isfinite(s) | (s <= 0)):
            raise InputError("y_error must be finite, > 0 and match y", field="y_error",
                             value=s.tolist() if s.size < 8 else s.shape)
        w = (yv / s) ** 2
        scale = False if scale_covariance is None else scale_covariance
    x = 1.0 / t
    design = np.column_stack([np.ones_like(x), -x / _KB_EV_PER_K])  # params ln A, E_a
    ly = np.log(yv)
    a = design.T @ (w[:, None] * design)
    cov = np.linalg.inv(a)
    p = cov @ (design.T @ (w * ly))
    resid = ly - design @ p
    chi2 = float(np.sum(w * resid**2))
    dof = t.size - 2
    red = chi2 / dof if dof > 0 else float("nan")
    if scale:
        if dof <= 0:
            raise FitError("two points leave no degrees of freedom to estimate the scatter; "
                           "give y_error", field="y_error", value=None, has_value=True)
        cov = cov * red
    ln_a, ea = p
    s_ln_a, s_ea = np.sqrt(np.diag(cov))
    pref = float(np.exp(ln_a))
    return ArrheniusResult(float(ea), float(s_ea), pref, pref * float(s_ln_a),
                           float(cov[0, 1] / (s_ln_a * s_ea)), chi2, int(t.size))
