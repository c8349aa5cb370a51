r"""Detailed-balance check of a spectrum: the sample temperature from S(-E) / S(E).

For a system in equilibrium at temperature T (Squires, *Thermal Neutron Scattering*, eq. 4.109)

.. math::  r(E) = \frac{S(Q,-E)}{S(Q,E)} = e^{-E / k_B T}, \qquad E > 0

The ratio is formed at the positive energies of the spectrum in [E_min, E_max] with S(-E)
linearly interpolated from the energy-gain side, sigma_r^2 = r^2 (sigma_-^2/S_-^2 +
sigma_+^2/S_+^2), and the one-parameter model r = exp(-E / k_B T) is fitted by weighted least
squares (scipy.optimize.curve_fit, absolute sigma).  A fitted T that disagrees with the
thermometer flags a wrong temperature log, an energy offset or a background that is not
subtracted.  Units: E meV, T K.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipp as sc
from scipy.optimize import curve_fit

from ..data.model import validate
from ..errors import FitError, InputError
from ..units import KB_MEV_PER_K
from .corrections import energy_centres

__all__ = ["DetailedBalanceResult", "detailed_balance_check"]


@dataclass(frozen=True)
class DetailedBalanceResult:
    """Fitted temperature (K) and the ratio table (E, r, sigma_r, exp(-E/kT_fit))."""

    temperature: float
    temperature_error: float
    chi2: float
    reduced_chi2: float
    energy: np.ndarray
    ratio: np.ndarray
    ratio_error: np.ndarray
    expected_temperature: float | None = None
    rows: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | None]:
        return {"T_fit_K": self.temperature, "T_fit_err_K": self.temperature_error,
                "T_expected_K": self.expected_temperature, "chi2": self.chi2,
                "reduced_chi2": self.reduced_chi2, "n_points": int(self.energy.size)}


def _model(e, t):
    return np.exp(-e / (KB_MEV_PER_K * t))


def detailed_balance_check(spectrum: sc.DataArray, e_min: float, e_max: float, *,
                           expected_temperature: float | None = None,
                           source: str | None = None) -> DetailedBalanceResult:
    """Fit the sample temperature from S(-E)/S(E) = exp(-E / k_B T) for e_min <= E <= e_max.

    ``spectrum``: a 1-D DataArray with dim 'E' (a cut S(E)) with variances, covering
    -e_max..e_max.  e_min > 0 should exclude the elastic line.  Raises InputError for a range
    outside the data or without positive intensities, FitError when the fit fails.
    """
    validate(spectrum, source=source)
    if spectrum.dims != ("E",):
        raise InputError("detailed balance needs a 1-D spectrum S(E); cut over Q first",
                         file=source, field="dims", value=spectrum.dims)
    if spectrum.variances is None:
        raise InputError("the spectrum has no uncertainties (variances)", file=source,
                         field="variances")
    if not (0 < e_min < e_max):
        raise InputError("need 0 < e_min < e_max (meV)", file=source, field="E range",
                         value=(e_min, e_max))
    e = energy_centres(spectrum).values
    s = np.asarray(spectrum.values, dtype=float)
    var = np.asarray(spectrum.variances, dtype=float)
    if -e_max < e[0] or e_max > e[-1]:
        raise InputError(f"E range +-[{e_min:g}, {e_max:g}] meV lies outside the data "
                         f"[{e[0]:g}, {e[-1]:g}] meV", file=source, field="E range",
                         value=(e_min, e_max))
    pos = (e >= e_min) & (e <= e_max)
    ep = e[pos]
    s_plus, v_plus = s[pos], var[pos]
    # linear interpolation of S(-E) and its variance from the energy-gain side
    j = np.clip(np.searchsorted(e, -ep) - 1, 0, e.size - 2)
    f = (-ep - e[j]) / (e[j + 1] - e[j])
    s_minus = (1 - f) * s[j] + f * s[j + 1]
    v_minus = (1 - f) ** 2 * var[j] + f**2 * var[j + 1]
    ok = (s_plus > 0) & (s_minus > 0) & (v_plus > 0) & (v_minus > 0)
    if ok.sum() < 2:
        raise InputError("fewer than two energies with positive intensity on both sides",
                         file=source, field="E range", value=(e_min, e_max))
    ep, s_plus, v_plus, s_minus, v_minus = (a[ok] for a in (ep, s_plus, v_plus, s_minus, v_minus))
    r = s_minus / s_plus
    sr = r * np.sqrt(v_minus / s_minus**2 + v_plus / s_plus**2)
    w = (r / sr) ** 2
    beta0 = np.sum(w * ep * -np.log(r)) / np.sum(w * ep * ep)
    t0 = 1.0 / (KB_MEV_PER_K * beta0) if beta0 > 0 else (expected_temperature or 300.0)
    try:
        popt, pcov = curve_fit(_model, ep, r, p0=[t0], sigma=sr, absolute_sigma=True,
                               bounds=(1e-3, np.inf))
    except (RuntimeError, ValueError) as exc:
        raise FitError(f"detailed-balance fit failed: {exc}", file=source, field="T") from exc
    t_fit, t_err = float(popt[0]), float(np.sqrt(pcov[0, 0]))
    resid = (r - _model(ep, t_fit)) / sr
    chi2 = float(np.sum(resid**2))
    expected = _model(ep, t_fit)
    rows = [{"E_meV": float(a), "ratio": float(b), "ratio_err": float(c), "exp(-E/kT_fit)": float(d)}
            for a, b, c, d in zip(ep, r, sr, expected, strict=True)]
    return DetailedBalanceResult(t_fit, t_err, chi2, chi2 / max(ep.size - 1, 1), ep, r, sr,
                                 expected_temperature, rows)
