r"""Neutron unit conversions and thermal factors.

Kinetic quantities of a free neutron are power laws of its wave vector k (1/angstrom):

.. math::

    E = \frac{\hbar^2 k^2}{2 m_n},\quad \lambda = \frac{2\pi}{k},\quad
    v = \frac{\hbar k}{m_n},\quad t = \frac{L}{v}

with E in meV, lambda in angstrom, v in m/s and the time of flight t in microseconds over a
path L in metres.  Every conversion goes through k, so round trips are exact to rounding and
uncertainties (scipp variances) propagate to first order as
sigma_y / y = |p| sigma_x / x for y proportional to x**p.

Spectroscopic units: E = h f = h c / lambda_photon = k_B T; meV <-> THz <-> cm^-1 <-> K.

Linewidths and times: a damped mode of HWHM Gamma (meV) has the lifetime tau = hbar / (2 Gamma)
(ps) and, with group velocity v_g (m/s), the mean free path l = v_g tau (angstrom).

All constants come from :mod:`scipy.constants` (CODATA); none is typed by hand.
Every function accepts a Python scalar, a numpy array or a :class:`scipp.Variable` (any unit
convertible to the expected one); scipp input gives scipp output with units and variances.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import constants as C

from .errors import InputError

__all__ = [
    "MEV",
    "KB_MEV_PER_K",
    "HBAR_MEV_PS",
    "E_LAMBDA2",
    "E_PER_K2",
    "convert",
    "energy_to_wavelength",
    "wavelength_to_energy",
    "energy_to_k",
    "k_to_energy",
    "energy_to_velocity",
    "velocity_to_energy",
    "wavelength_to_tof",
    "tof_to_wavelength",
    "energy_to_tof",
    "tof_to_energy",
    "mev_to_thz",
    "thz_to_mev",
    "mev_to_inverse_cm",
    "inverse_cm_to_mev",
    "mev_to_kelvin",
    "kelvin_to_mev",
    "bose_occupation",
    "detailed_balance_factor",
    "bose_correction",
    "FWHM_PER_SIGMA",
    "scipp_unit",
    "values_in",
    "check_temperature",
    "lifetime",
    "lifetime_error",
    "mean_free_path",
]

#: One meV in joule.
MEV = C.e * 1e-3
#: Boltzmann constant in meV/K.
KB_MEV_PER_K = C.k / MEV
#: hbar in meV ps.
HBAR_MEV_PS = C.hbar / MEV * 1e12
#: E * k**-2 for a neutron, meV angstrom^2 (hbar^2 / 2 m_n).
E_PER_K2 = C.hbar**2 / (2 * C.m_n) / MEV * 1e20
#: E * lambda**2 for a neutron, meV angstrom^2 (h^2 / 2 m_n); 81.804 meV A^2.
E_LAMBDA2 = E_PER_K2 * (2 * np.pi) ** 2
#: v / k for a neutron, (m/s) per (1/angstrom).
_V_PER_K = C.hbar / C.m_n * 1e10

# Each kinetic quantity q = coefficient * k**power, with its canonical unit.
_KINETIC: dict[str, tuple[float, float, str]] = {
    "k": (1.0, 1.0, "1/angstrom"),
    "energy": (E_PER_K2, 2.0, "meV"),
    "wavelength": (2 * np.pi, -1.0, "angstrom"),
    "velocity": (_V_PER_K, 1.0, "m/s"),
    # time of flight per metre of path, microseconds: t/L = 1/v
    "tof_per_m": (1e6 / _V_PER_K, -1.0, "us"),
}


def _as_numpy(x: Any, unit: str, name: str) -> tuple[np.ndarray, Any]:
    """Return (values, scipp_template) for x; scipp_template is None for plain input."""
    try:
        import scipp as sc
    except ImportError:  # pragma: no cover - scipp is a dependency
        sc = None
    if sc is not None and isinstance(x, sc.Variable):
        try:
            x = sc.to_unit(x, unit, copy=False)
        except Exception as exc:
            raise InputError(
                f"cannot convert {name} from unit '{x.unit}' to '{unit}'", field=name
            ) from exc
        return np.asarray(x.values, dtype=float), x
    try:
        return np.asarray(x, dtype=float), None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number or an array of numbers", field=name,
                         value=x) from exc


def _require_positive(values: np.ndarray, name: str) -> None:
    bad = ~(values > 0)
    if np.any(bad):
        raise InputError(f"{name} must be positive and finite", field=name,
                         value=values[bad].ravel()[0] if values.ndim else float(values))
    if np.any(~np.isfinite(values)):
        raise InputError(f"{name} must be finite", field=name,
                         value=values[~np.isfinite(values)].ravel()[0])


def _wrap(values: np.ndarray, template: Any, unit: str, rel_power: float | None,
          x_values: np.ndarray | None = None) -> Any:
    """Give values back in the caller's kind: scipp (with propagated variances) or numpy."""
    if template is None:
        return values.item() if values.ndim == 0 else values
    import scipp as sc

    out = sc.Variable(dims=template.dims, values=values, unit=unit)
    if template.variances is not None and rel_power is not None:
        rel_var = template.variances / np.asarray(x_values) ** 2
        out.variances = (rel_power**2) * rel_var * values**2
    return out


def convert(x: Any, source: str, target: str, path_m: float | None = None) -> Any:
    """Convert a neutron kinetic quantity between 'k', 'energy', 'wavelength', 'velocity', 'tof'.

    Units: k 1/angstrom, energy meV, wavelength angstrom, velocity m/s, tof microseconds over
    a path of ``path_m`` metres (required when source or target is 'tof').
    Formula: every quantity is coefficient * k**power (module docstring).
    """
    for kind in (source, target):
        if kind not in _KINETIC and kind != "tof":
            raise InputError(
                "unknown quantity; use one of k, energy, wavelength, velocity, tof",
                field="quantity", value=kind)
    if "tof" in (source, target):
        if path_m is None or not np.isfinite(path_m) or path_m <= 0:
            raise InputError("a positive flight path in metres is needed for time of flight",
                             field="path_m", value=path_m)

    def spec(kind: str) -> tuple[float, float, str]:
        if kind == "tof":
            coeff, power, unit = _KINETIC["tof_per_m"]
            return coeff * path_m, power, unit
        return _KINETIC[kind]

    c_s, p_s, u_s = spec(source)
    c_t, p_t, u_t = spec(target)
    values, template = _as_numpy(x, u_s, source)
    _require_positive(values, source)
    k = (values / c_s) ** (1.0 / p_s)
    out = c_t * k ** p_t
    return _wrap(out, template, u_t, p_t / p_s, values)


def energy_to_wavelength(energy):
    """Neutron wavelength (angstrom) from kinetic energy (meV): lambda = sqrt(81.804 / E)."""
    return convert(energy, "energy", "wavelength")


def wavelength_to_energy(wavelength):
    """Neutron kinetic energy (meV) from wavelength (angstrom): E = 81.804 / lambda^2."""
    return convert(wavelength, "wavelength", "energy")


def energy_to_k(energy):
    """Neutron wave vector (1/angstrom) from energy (meV): k = sqrt(E / 2.0721)."""
    return convert(energy, "energy", "k")


def k_to_energy(k):
    """Neutron energy (meV) from wave vector (1/angstrom): E = hbar^2 k^2 / 2 m_n."""
    return convert(k, "k", "energy")


def energy_to_velocity(energy):
    """Neutron speed (m/s) from energy (meV): v = sqrt(2E/m_n) = 437.39 sqrt(E)."""
    return convert(energy, "energy", "velocity")


def velocity_to_energy(velocity):
    """Neutron energy (meV) from speed (m/s): E = m_n v^2 / 2."""
    return convert(velocity, "velocity", "energy")


def wavelength_to_tof(wavelength, path_m: float):
    """Time of flight (microseconds) over ``path_m`` metres: t = 252.78 L lambda."""
    return convert(wavelength, "wavelength", "tof", path_m)


def tof_to_wavelength(tof, path_m: float):
    """Wavelength (angstrom) from time of flight (microseconds) over ``path_m`` metres."""
    return convert(tof, "tof", "wavelength", path_m)


def energy_to_tof(energy, path_m: float):
    """Time of flight (microseconds) of a neutron of energy (meV) over ``path_m`` metres."""
    return convert(energy, "energy", "tof", path_m)


def tof_to_energy(tof, path_m: float):
    """Neutron energy (meV) from time of flight (microseconds) over ``path_m`` metres."""
    return convert(tof, "tof", "energy", path_m)


# --- spectroscopic units -------------------------------------------------------------------

_THZ_PER_MEV = MEV / C.h / 1e12
_INV_CM_PER_MEV = MEV / (C.h * C.c) / 100.0
_K_PER_MEV = 1.0 / KB_MEV_PER_K


def _linear(x, factor: float, unit_in: str, unit_out: str, name: str):
    values, template = _as_numpy(x, unit_in, name)
    if np.any(np.isnan(values)):
        raise InputError(f"{name} contains NaN", field=name)
    return _wrap(values * factor, template, unit_out, 1.0, values) if template is not None \
        else (values * factor).item() if values.ndim == 0 else values * factor


def mev_to_thz(energy):
    """Frequency (THz) of an energy (meV): f = E / h (1 meV = 0.2418 THz)."""
    return _linear(energy, _THZ_PER_MEV, "meV", "THz", "energy")


def thz_to_mev(frequency):
    """Energy (meV) of a frequency (THz): E = h f."""
    return _linear(frequency, 1.0 / _THZ_PER_MEV, "THz", "meV", "frequency")


def mev_to_inverse_cm(energy):
    """Wavenumber (1/cm) of an energy (meV): nu = E / (h c) (1 meV = 8.0655 cm^-1)."""
    return _linear(energy, _INV_CM_PER_MEV, "meV", "1/cm", "energy")


def inverse_cm_to_mev(wavenumber):
    """Energy (meV) of a wavenumber (1/cm): E = h c nu."""
    return _linear(wavenumber, 1.0 / _INV_CM_PER_MEV, "1/cm", "meV", "wavenumber")


def mev_to_kelvin(energy):
    """Temperature equivalent (K) of an energy (meV): T = E / k_B (1 meV = 11.6045 K)."""
    return _linear(energy, _K_PER_MEV, "meV", "K", "energy")


def kelvin_to_mev(temperature):
    """Energy (meV) of a temperature (K): E = k_B T."""
    return _linear(temperature, 1.0 / _K_PER_MEV, "K", "meV", "temperature")


# --- thermal factors -----------------------------------------------------------------------

def _thermal_inputs(energy, temperature, allow_zero_t: bool):
    e, e_template = _as_numpy(energy, "meV", "energy")
    t, _ = _as_numpy(temperature, "K", "temperature")
    if np.any(~np.isfinite(e)):
        raise InputError("energy must be finite", field="energy",
                         value=e[~np.isfinite(e)].ravel()[0])
    bad = ~np.isfinite(t) | (t < 0) | ((t == 0) & (not allow_zero_t))
    if np.any(bad):
        raise InputError(
            "temperature must be finite and " + ("non-negative" if allow_zero_t else "positive"),
            field="temperature", value=np.asarray(t)[bad].ravel()[0] if t.ndim else float(t))
    e, t = np.broadcast_arrays(e, t)
    return e, t, e_template


def _x(e: np.ndarray, t: np.ndarray) -> np.ndarray:
    """E / k_B T with +-inf at T = 0 (sign of E) and 0 at E = 0."""
    kt = KB_MEV_PER_K * t
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(kt > 0, e / np.where(kt > 0, kt, 1.0), np.sign(e) * np.inf)
    return np.where(e == 0, 0.0, x)


def _out(values: np.ndarray, template, unit: str = "dimensionless"):
    if template is not None:
        import scipp as sc

        return sc.Variable(dims=template.dims, values=values, unit=unit)
    return values.item() if values.ndim == 0 else values


def bose_occupation(energy, temperature):
    r"""Bose-Einstein occupation n(E, T) = 1 / (exp(E / k_B T) - 1).

    E in meV (either sign), T in K (T = 0 allowed). Uses expm1 so that small E/kT keeps full
    precision and large E/kT does not overflow; n(-E) = -(n(E) + 1).  The occupation diverges
    as k_B T / E at E = 0: there it returns +inf (never NaN).  At T = 0: 0 for E > 0, -1 for
    E < 0.
    """
    e, t, tmpl = _thermal_inputs(energy, temperature, allow_zero_t=True)
    x = _x(e, t)
    with np.errstate(divide="ignore", over="ignore"):
        n = np.where(x == 0, np.inf, 1.0 / np.expm1(np.where(x == 0, 1.0, x)))
    return _out(n, tmpl)


def detailed_balance_factor(energy, temperature):
    r"""The factor n(E, T) + 1 = 1 / (1 - exp(-E / k_B T)) that links S and chi''.

    S(Q, E) = [n(E, T) + 1] chi''(Q, E) / pi  (fluctuation-dissipation theorem), and the ratio
    of this factor at -E and E is exp(-E / k_B T): S(Q, -E) = exp(-E / k_B T) S(Q, E).
    E in meV, T in K (T = 0 allowed: 1 for E > 0, 0 for E < 0).  +inf at E = 0, never NaN.
    """
    e, t, tmpl = _thermal_inputs(energy, temperature, allow_zero_t=True)
    x = _x(e, t)
    with np.errstate(divide="ignore", over="ignore"):
        f = np.where(x == 0, np.inf, -1.0 / np.expm1(-np.where(x == 0, 1.0, x)))
    return _out(f, tmpl)


def bose_correction(energy, temperature):
    r"""The finite factor (E / k_B T) [n(E, T) + 1] = x / (1 - exp(-x)), x = E / k_B T.

    It is 1 at E = 0 (the classical limit; Mantid's temperature correction is NaN there),
    x for x >> 1 and |x| exp(-|x|) for x << -1.  Multiply a classical (symmetric) spectrum by
    it to obtain one that obeys detailed balance.  E in meV, T in K (T > 0).
    """
    e, t, tmpl = _thermal_inputs(energy, temperature, allow_zero_t=False)
    x = e / (KB_MEV_PER_K * t)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    with np.errstate(over="ignore"):
        f = np.where(small, 1.0 + x / 2.0, safe / -np.expm1(-safe))
    return _out(f, tmpl)


#: Gaussian full width at half maximum per standard deviation, 2 sqrt(2 ln 2) = 2.3548.
FWHM_PER_SIGMA = float(2.0 * np.sqrt(2.0 * np.log(2.0)))

_UNIT_NAMES = {"A": "angstrom", "1/A": "1/angstrom", "A^2": "angstrom**2", "A^3": "angstrom**3",
               "A^2/ps": "angstrom**2/ps", "1": "dimensionless", "": "dimensionless",
               "deg": "deg", "rad": "rad", "mu_B": "dimensionless"}


def scipp_unit(text: str) -> str:
    """The scipp spelling of a unit written the short way ('A^2/ps' -> 'angstrom**2/ps').

    Units already in scipp's spelling are returned unchanged; the result is checked by scipp."""
    import scipp as sc

    t = str(text).strip()
    name = _UNIT_NAMES.get(t, t.replace("^", "**"))
    try:
        sc.Unit(name)
    except Exception as exc:
        raise InputError("unknown unit", field="unit", value=text) from exc
    return name
# --- checked quantities, temperatures and linewidths ------------------------------------------

def values_in(x: Any, unit: str, name: str, positive: bool = True,
              allow_zero: bool = False) -> np.ndarray:
    """Plain float array in ``unit`` from a number, array or scipp Variable (converted).

    InputError for a unit that does not convert, non-finite values, and (``positive``)
    values <= 0, or < 0 with ``allow_zero``.
    """
    try:
        import scipp as sc
    except ImportError:  # pragma: no cover
        sc = None
    if sc is not None and isinstance(x, sc.Variable):
        try:
            x = sc.to_unit(x, unit).values
        except Exception as exc:
            raise InputError(f"{name} has unit '{x.unit}', not convertible to '{unit}'",
                             field=name, value=str(x.unit)) from exc
    a = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be finite", field=name, value=a[~np.isfinite(a)].ravel()[0])
    if positive:
        bad = (a < 0) if allow_zero else (a <= 0)
        if np.any(bad):
            raise InputError(f"{name} must be {'>= 0' if allow_zero else '> 0'} ({unit})",
                             field=name, value=float(a[bad].ravel()[0]))
    return a


def check_temperature(T: Any, name: str = "T") -> np.ndarray:
    """Temperatures (K) as a float array; InputError unless all are finite and > 0."""
    t = np.asarray(T, dtype=float)
    bad = ~np.isfinite(t) | (t <= 0)
    if np.any(bad):
        raise InputError("temperature must be finite and > 0 K", field=name,
                         value=float(t[bad].ravel()[0]) if t.ndim else float(t))
    return t


def lifetime(gamma):
    """Phonon lifetime tau = hbar / (2 Gamma) in ps from the damping Gamma (HWHM, meV): the
    decay time of the mode energy, whose amplitude decays as exp(-Gamma t / hbar).  Gamma may
    be a scipp Variable in any energy unit."""
    return _wrap(HBAR_MEV_PS / (2.0 * values_in(gamma, "meV", "gamma")), None, "ps", None)


def lifetime_error(gamma, gamma_error):
    """Standard error of tau = hbar / (2 Gamma): sigma_tau = tau sigma_Gamma / Gamma (ps)."""
    g = values_in(gamma, "meV", "gamma")
    s = values_in(gamma_error, "meV", "gamma_error", allow_zero=True)
    return _wrap(HBAR_MEV_PS / (2.0 * g) * s / g, None, "ps", None)


def mean_free_path(group_velocity, tau):
    """Phonon mean free path l = v_g tau in angstrom (v_g in m/s, tau in ps)."""
    v = values_in(group_velocity, "m/s", "group_velocity", allow_zero=True)
    t = values_in(tau, "ps", "tau")
    return _wrap(v * t * C.pico / C.angstrom, None, "angstrom", None)
