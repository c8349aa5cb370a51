r"""Counts for a sample: flux x time x scatterers x cross section x solid angle x bin width.

The double-differential cross section of N formula units whose scattering function S(Q,E)
(1/meV) is normalised *per formula unit* with the cross section sigma (barn per formula unit)
of the process it describes is (Squires, *Introduction to the Theory of Thermal Neutron
Scattering*, eqs. 2.93 and 2.98, written per formula unit)

.. math::  \frac{d^2\sigma}{d\Omega\,dE} = N\,\frac{\sigma}{4\pi}\,\frac{k_f}{k_i}\,S(Q,E),

with sigma = sigma_coh + sigma_inc for a model of the total scattering, sigma_coh for a
coherent one (e.g. one-phonon S(Q,E) from latdyn.phonons normalised per formula unit),
sigma_inc for an incoherent one (vanadium: S = exp(-2W) delta(E) per atom, sigma_inc = 5.08 b),
4 pi for a model already in barn/sr/meV per formula unit ('absolute'), or a number in barn.
The expected counts in a bin (Q, E) of widths Delta Q, Delta E during a time t are then

.. math::  \mu(Q,E) = \Phi\,t\,N_{ill}\,\frac{\sigma}{4\pi}\,\frac{k_f}{k_i}\,\tilde S(Q,E)\,
           \Delta E\,\Delta\Omega(Q,E)\,\eta(E_f)\,A(2\theta, \lambda_i, \lambda_f)

with Phi the incident flux at the sample (n/cm^2/s; 1 b = 1e-24 cm^2), N_ill the formula
units in the beam, S~ the model broadened by the resolution, Delta Omega the solid angle of
the detectors whose scattering angle falls inside the |Q| bin at this E (from the detector
banks: :class:`latdyn.instruments.solid_angle.DetectorCoverage`, with
cos 2theta = (k_i^2 + k_f^2 - Q^2) / (2 k_i k_f) at the bin edges), eta the detector
efficiency at E_f (3He tubes: :func:`latdyn.instruments.detector.tube_efficiency`) and A the
self-shielding of the sample (:class:`latdyn.simulate.sample.Sample`).

Direct geometry: Phi from :meth:`DirectGeometry.flux_at_sample` (published fluxes transferred
with the chopper transmission) or ``flux=``.  Indirect geometry: the channel of width Delta E
holds incident energies E_f + E with flux phi_E per meV, and the analysers integrate
R(E_f) dE_f, so Phi Delta E is replaced by phi_E(E_f + E) Delta E R_peak sqrt(2 pi) sigma_f
(:meth:`IndirectGeometry.flux_per_mev`, :meth:`IndirectGeometry.analyser_bandwidth`).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, InstrumentError
from ..kinematics import cos_two_theta
from ..units import energy_to_wavelength
from .sample import Sample

__all__ = ["counts_factor", "bin_edges", "scattering_angle", "elastic_count_rate"]

BARN_CM2 = 1e-24


def bin_edges(centres, width=None, name: str = "q") -> np.ndarray:
    """Edges of bins around increasing ``centres``: midpoints, the outer ones mirrored; with
    ``width`` (scalar) centre -/+ width / 2 (required for a single centre)."""
    c = np.atleast_1d(np.asarray(centres, dtype=float))
    if width is not None:
        w = float(width)
        if not np.isfinite(w) or w <= 0:
            raise InputError("bin width must be positive", field=f"{name}_width", value=width)
        if c.size > 1 and w > np.min(np.diff(c)) * (1 + 1e-9):
            raise InputError("bin width exceeds the spacing of the bins", field=f"{name}_width", value=w)
        return np.stack([c - 0.5 * w, c + 0.5 * w], axis=-1)
    if c.size < 2:
        raise InputError(f"one {name} bin needs an explicit width ({name}_width=)", field=f"{name}_width")
    if np.any(np.diff(c) <= 0):
        raise InputError(f"{name} must increase strictly", field=name)
    mid = 0.5 * (c[1:] + c[:-1])
    edges = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    return np.stack([edges[:-1], edges[1:]], axis=-1)


def scattering_angle(q, ei, ef) -> np.ndarray:
    """2theta (deg) for |Q| (1/A) between incident and final energies (meV): the kinematic
    range is clipped (|Q| below k_i - k_f gives 0, above k_i + k_f gives 180)."""
    c = cos_two_theta(q, ei, ef)
    return np.degrees(np.arccos(np.clip(np.nan_to_num(c, nan=1.0), -1.0, 1.0)))


def _energies(instrument, energy, ei):
    """(E_i, E_f) arrays (meV) for the energy transfers; NaN where not allowed."""
    e = np.asarray(energy, dtype=float)
    if instrument.kind == "direct":
        ei = instrument.check_ei(ei)
        ef = ei - e
        return np.full(e.shape, ei), np.where(ef > 0, ef, np.nan)
    if instrument.kind == "indirect":
        ef = instrument.final_energy
        ei_arr = ef + e
        return np.where(ei_arr > 0, ei_arr, np.nan), np.full(e.shape, ef)
    raise InstrumentError("counts for a sample are modelled for time-of-flight spectrometers",
                          field="instrument", value=getattr(instrument, "name", instrument))


def _incident(instrument, e, ei, flux, analyser_reflectivity, settings):
    """Flux times the energy window that replaces it per bin: Phi (direct, n/cm^2/s) or
    phi_E(E_f + E) x integrated analyser reflectivity (indirect, n/cm^2/s)."""
    if instrument.kind == "direct":
        if flux is None:
            phi = instrument.flux_at_sample(ei, **settings)
        else:
            phi = float(flux)
            if not np.isfinite(phi) or phi <= 0:
                raise InputError("flux must be a positive number (n/cm^2/s)", field="flux", value=flux)
        return np.full(e.shape, phi)
    inside = e > -instrument.final_energy
    phi_e = np.zeros(e.shape)
    phi_e[inside] = instrument.flux_per_mev(e[inside], flux)
    return phi_e * instrument.analyser_bandwidth(analyser_reflectivity)


def _time_s(hours) -> float:
    try:
        t = float(hours) * 3600.0
    except (TypeError, ValueError) as exc:
        raise InputError("counting time must be a number of hours", field="hours", value=hours) from exc
    if not np.isfinite(t) or t <= 0:
        raise InputError("counting time must be positive (hours)", field="hours", value=hours)
    return t


def counts_factor(instrument, q, energy, *, sample: Sample, hours: float, ei: float | None = None,
                  flux: float | None = None, cross_section="total", q_width: float | None = None,
                  analyser_reflectivity: float | None = None, **settings) -> np.ndarray:
    """Expected counts per unit of S (1/meV) in each (|Q|, E) bin, shape (n_q, n_e).

    q (1/A) and energy (meV) are bin centres (edges at the midpoints; ``q_width`` sets a
    common |Q| width, required for one |Q|); hours: counting time; flux: incident flux at the
    sample (direct: n/cm^2/s at ``ei``; indirect: n/cm^2/s/meV at the elastic energy),
    default the instrument file's published value; cross_section: the normalisation of the
    model S ('total', 'coherent', 'incoherent', 'absolute' or barn per formula unit, see the
    module docstring); settings: chopper ``frequency``, ``mode``, ``package``.
    """
    if not isinstance(sample, Sample):
        raise InputError("sample must be a latdyn.simulate.Sample", field="sample",
                         value=type(sample).__name__)
    t = _time_s(hours)
    q = np.atleast_1d(np.asarray(q, dtype=float))
    e = np.asarray(energy, dtype=float)
    if e.ndim != 1 or e.size < 2:
        raise InputError("energy must be a 1-D grid of at least two points", field="energy")
    q_edges = bin_edges(q, q_width, "q")                              # (n_q, 2)
    e_edges = bin_edges(e, None, "energy")
    d_e = e_edges[:, 1] - e_edges[:, 0]
    e_i, e_f = _energies(instrument, e, ei)
    ok = np.isfinite(e_i) & np.isfinite(e_f)
    e_i_s, e_f_s = np.where(ok, e_i, 1.0), np.where(ok, e_f, 1.0)
    banks = instrument.solid_angle()
    tt_lo = scattering_angle(q_edges[:, 0, None], e_i_s[None, :], e_f_s[None, :])
    tt_hi = scattering_angle(q_edges[:, 1, None], e_i_s[None, :], e_f_s[None, :])
    d_omega = banks.between(tt_lo, tt_hi)                             # (n_q, n_e)
    tt_mid = scattering_angle(q[:, None], e_i_s[None, :], e_f_s[None, :])
    lam_i = np.asarray(energy_to_wavelength(e_i_s))
    lam_f = np.asarray(energy_to_wavelength(e_f_s))
    shielding = sample.attenuation(lam_i[None, :], lam_f[None, :], tt_mid)
    eta = instrument.detector_efficiency(e_f_s)
    kf_ki = np.sqrt(e_f_s / e_i_s)
    phi = _incident(instrument, e, e_i_s[0] if instrument.kind == "direct" else None, flux,
                    analyser_reflectivity, settings)
    sigma = sample.cross_section(cross_section) * BARN_CM2 / (4.0 * np.pi)
    per_e = np.where(ok, phi * t * sample.illuminated_formula_units * sigma * kf_ki * d_e * eta, 0.0)
    return per_e[None, :] * d_omega * shielding


def elastic_count_rate(instrument, sample: Sample, *, ei: float | None = None,
                       flux: float | None = None, cross_section="incoherent", u2: float = 0.0,
                       analyser_reflectivity: float | None = None, **settings) -> float:
    """Counts per second in an elastic line of unit weight, summed over all detectors.

    For vanadium (``cross_section='incoherent'``, S = exp(-2W) delta(E)):
    rate = Phi N_ill (sigma_inc / 4 pi) sum_k Delta Omega_k eta A(2theta_k) exp(-Q_k^2 u2),
    with Q_k = 2 k sin(theta_k), ``u2`` = <u_x^2> (angstrom^2; 0 ignores the Debye-Waller
    factor) and Phi the flux (indirect: phi_E x integrated analyser reflectivity, the delta
    line integrated over the time channels).  Use it to plan the counting time of a standard.
    """
    if not (np.isfinite(u2) and u2 >= 0):
        raise InputError("u2 must be a non-negative mean-square displacement (A^2)", field="u2", value=u2)
    e0 = np.zeros(1)
    e_i, e_f = _energies(instrument, e0, ei)
    banks = instrument.solid_angle()
    tt_edges = np.linspace(0.0, 180.0, 1801)
    d_omega = banks.between(tt_edges[:-1], tt_edges[1:])
    tt = 0.5 * (tt_edges[:-1] + tt_edges[1:])
    lam = float(np.asarray(energy_to_wavelength(e_i[0])))
    shielding = sample.attenuation(lam, lam, tt)
    q = 4.0 * np.pi * np.sin(np.radians(tt) / 2.0) / lam
    weight = float(np.sum(d_omega * shielding * np.exp(-q**2 * u2)))
    phi = float(_incident(instrument, e0, e_i[0] if instrument.kind == "direct" else None, flux,
                          analyser_reflectivity, settings)[0])
    eta = float(instrument.detector_efficiency(e_f[0]))
    sigma = sample.cross_section(cross_section) * BARN_CM2 / (4.0 * np.pi)
    return phi * sample.illuminated_formula_units * sigma * eta * weight
