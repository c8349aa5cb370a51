r"""Corrections of measured S(Q,E): kf/ki, Bose factor to the dynamic susceptibility chi''.

Double differential cross section (Squires, *Thermal Neutron Scattering*, eq. 2.42):
d^2 sigma / dOmega dE_f = (k_f / k_i) (sigma / 4 pi) S(Q,E), so the scattering function is the
measured intensity times k_i / k_f, with k = sqrt(E / E_PER_K2) and E_f = E_i - E (direct
geometry, fixed E_i) or E_i = E_f + E (indirect geometry, fixed E_f).

Fluctuation-dissipation theorem: S(Q,E) = [n(E,T) + 1] chi''(Q,E) / pi, hence

.. math::  \chi''(Q,E) = \pi\,(1 - e^{-E / k_B T})\, S(Q,E)

which removes the thermal population (chi'' is odd in E and T-independent for a harmonic
system).  Variances scale with the square of each factor.
"""

from __future__ import annotations

import numpy as np
import scipp as sc

from ..data.model import validate
from ..errors import InputError
from ..units import E_PER_K2, KB_MEV_PER_K

__all__ = ["energy_centres", "incident_final_energies", "kf_ki_correction", "bose_to_chi", "chi_to_sqe"]


def energy_centres(da: sc.DataArray) -> sc.Variable:
    """Energy-transfer coordinate (meV) at bin centres (points are returned as they are)."""
    if "E" not in da.dims:
        raise InputError("the data have no energy dimension 'E'", field="dims", value=da.dims)
    c = sc.to_unit(da.coords["E"], "meV")
    if da.coords.is_edges("E"):
        c = 0.5 * (c["E", 1:] + c["E", :-1])
    return c


def _scale(da: sc.DataArray, factor: sc.Variable, name: str) -> sc.DataArray:
    out = da.copy()
    out.data = da.data * factor
    out.name = name
    return out


def incident_final_energies(energy_transfer: np.ndarray, ei: float | None, ef: float | None,
                            source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Incident and final energies (meV) at each energy transfer E = E_i - E_f (meV) with E_i
    fixed (``ei``, direct geometry) or E_f fixed (``ef``, indirect); exactly one is given and
    must be > 0.  Values <= 0 are returned as they are (the caller decides)."""
    if (ei is None) == (ef is None):
        raise InputError("give exactly one of ei (direct geometry) or ef (indirect geometry)",
                         file=source, field="ei/ef", value=(ei, ef))
    fixed = float(ei if ei is not None else ef)
    if not np.isfinite(fixed) or fixed <= 0:
        raise InputError("fixed neutron energy must be > 0 meV", file=source,
                         field="ei" if ei is not None else "ef", value=fixed)
    e = np.asarray(energy_transfer, dtype=float)
    if ei is not None:
        return np.full(e.shape, fixed), fixed - e
    return fixed + e, np.full(e.shape, fixed)


def kf_ki_correction(da: sc.DataArray, *, ei: float | None = None, ef: float | None = None,
                     source: str | None = None) -> sc.DataArray:
    """Multiply the measured intensity by k_i / k_f (give ``ei`` for direct, ``ef`` for indirect
    geometry, meV).  Raises InputError where the final (or initial) energy would be <= 0."""
    validate(da, source=source)
    e = energy_centres(da)
    e_i, e_f = incident_final_energies(e.values, ei, ef, source)
    bad = (e_f <= 0) | (e_i <= 0)
    if np.any(bad):
        raise InputError("energy transfer not reachable with this fixed energy (E_f or E_i <= 0)",
                         file=source, field="E", value=float(e.values[bad][0]))
    ratio = np.sqrt(e_i / E_PER_K2) / np.sqrt(e_f / E_PER_K2)
    return _scale(da, sc.array(dims=e.dims, values=ratio), da.name)


def _temperature(da: sc.DataArray, T, source: str | None) -> sc.Variable:
    if T is None:
        if "T" not in da.coords:
            raise InputError("give the temperature, or data with a 'T' coordinate", file=source,
                             field="T", value=None, has_value=True)
        t = sc.to_unit(da.coords["T"], "K")
        if "T" in da.dims and da.coords.is_edges("T"):
            raise InputError("temperature must be points, not bin edges", file=source, field="T")
    else:
        t = sc.scalar(float(T), unit="K") if not isinstance(T, sc.Variable) else sc.to_unit(T, "K")
    tv = np.atleast_1d(t.values)
    if np.any(~np.isfinite(tv) | (tv <= 0)):
        raise InputError("temperature must be finite and > 0 K", file=source, field="T",
                         value=float(tv[~np.isfinite(tv) | (tv <= 0)][0]))
    return t


def _x(da: sc.DataArray, T, source: str | None) -> sc.Variable:
    """E / k_B T as a dimensionless Variable over the dims of E and T."""
    return energy_centres(da) / (sc.scalar(KB_MEV_PER_K, unit="meV/K") * _temperature(da, T, source))


def bose_to_chi(da: sc.DataArray, T=None, *, source: str | None = None) -> sc.DataArray:
    """chi''(Q,E) = pi (1 - exp(-E / k_B T)) S(Q,E) (module formula; E meV, T K).

    ``T`` is a number (K), a scipp scalar, or None to use the data's 'T' coordinate (a scalar
    or a 'T' dimension of S(Q,E,T)).  Finite at E = 0 (chi'' = 0 there).
    """
    validate(da, source=source)
    x = _x(da, T, source)
    factor = sc.array(dims=x.dims, values=-np.pi * np.expm1(-x.values))
    return _scale(da, factor, "chi''(Q,E)")


def chi_to_sqe(da: sc.DataArray, T=None, *, source: str | None = None) -> sc.DataArray:
    """S(Q,E) = [n(E,T) + 1] chi''(Q,E) / pi, the inverse of :func:`bose_to_chi`.

    The factor diverges at E = 0, where chi'' vanishes: S(Q, E = 0) is then set by continuity
    only for a model, not for data, so energy bins at exactly E = 0 raise InputError.
    """
    validate(da, source=source)
    x = _x(da, T, source)
    if np.any(x.values == 0):
        raise InputError("S = (n + 1) chi''/pi is undefined at E = 0; drop that energy bin",
                         file=source, field="E", value=0.0)
    factor = sc.array(dims=x.dims, values=-1.0 / (np.pi * np.expm1(-x.values)))
    return _scale(da, factor, "S(Q,E)")
