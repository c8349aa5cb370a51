r"""Dynamic structure factors and spectra from time correlation functions.

S(Q, E) is the time Fourier transform of F(Q, t) (Van Hove 1954; eq. 3 of the review), with E in
meV, t in ps and hbar in meV ps:

.. math:: S(Q,E) = \frac{1}{2\pi\hbar}\int_{-t_m}^{t_m} w(t)\,F(Q,t)\,e^{-iEt/\hbar}\,dt
          = \frac{\Delta t}{2\pi\hbar}\Big[w_0F_0 + 2\sum_{n=1}^{M} w_n F_n \cos(E t_n/\hbar)\Big]

using F(Q, -t) = F(Q, t) (the classical, time-symmetrised estimate), on the grid
E_k = 2 pi hbar k / ((2M + 1) Delta t), k = -M .. M (that of the FFT of the mirrored sequence).
It obeys the sum rule sum_k S(E_k) Delta E = w_0 F(Q, 0) = F(Q, 0) exactly.

Windows w(t), all with w(0) = 1:

- ``gaussian`` (default): w = exp(-t^2 / (2 sigma_t^2)), sigma_t = t_max / 3.  The spectrum is
  the true one convolved with a unit-area Gaussian of standard deviation
  sigma_E = hbar / sigma_t (meV): the energy resolution of the analysis, which is returned.
- ``hann``: w = [1 + cos(pi t / t_max)] / 2.
- ``none``: w = 1 (rectangular; dynasor's choice; ringing from the truncation).

Classical MD gives S(Q, E) = S(Q, -E).  Detailed balance is not assumed: with a temperature
the spectrum is multiplied by the harmonic quantum correction (E/kT)/(1 - exp(-E/kT))
(latdyn.units.bose_correction), after which S(Q, -E) = exp(-E/kT) S(Q, E).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..units import HBAR_MEV_PS, bose_correction

__all__ = ["time_window", "fourier_spectrum", "energy_resolution"]

WINDOWS = ("gaussian", "hann", "none")


def time_window(time, kind: str = "gaussian") -> np.ndarray:
    """w(t) on lags t (ps), t_max = time[-1]."""
    t = np.asarray(time, dtype=float)
    t_max = t[-1]
    if kind == "gaussian":
        return np.exp(-0.5 * (t / (t_max / 3.0)) ** 2)
    if kind == "hann":
        return 0.5 * (1.0 + np.cos(np.pi * t / t_max))
    if kind == "none":
        return np.ones_like(t)
    raise InputError(f"unknown window; use one of {WINDOWS}", field="window", value=kind)


def energy_resolution(time, kind: str = "gaussian") -> float | None:
    """Gaussian standard deviation (meV) that the window convolves into the spectrum, or None
    for windows that are not Gaussian."""
    return HBAR_MEV_PS / (time[-1] / 3.0) if kind == "gaussian" else None


def fourier_spectrum(f_t, time, window: str = "gaussian", temperature: float | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(E, S(..., E)) from F(..., t) on equally spaced lags t = 0, dt, ... (ps); E in meV.

    Formula and windows in the module docstring.  S has the unit of F per meV.
    """
    f = np.asarray(f_t, dtype=float)
    t = np.asarray(time, dtype=float)
    if t.ndim != 1 or t.size < 3 or f.shape[-1] != t.size:
        raise InputError("need at least 3 equally spaced lags matching the last axis of F",
                         field="time", value=t.size)
    dt = t[1] - t[0]
    if not (dt > 0 and np.allclose(np.diff(t), dt, rtol=1e-9, atol=0)):
        raise InputError("lags must be equally spaced and increasing", field="time")
    m = t.size - 1
    w = time_window(t, window)
    k = np.arange(-m, m + 1)
    energy = 2 * np.pi * HBAR_MEV_PS * k / ((2 * m + 1) * dt)
    weights = 2.0 * w
    weights[0] = w[0]
    cos = np.cos(np.outer(t, energy) / HBAR_MEV_PS) * weights[:, None]     # (t, E)
    s = dt / (2 * np.pi * HBAR_MEV_PS) * (f @ cos)
    if temperature is not None:
        if not (np.isfinite(temperature) and temperature > 0):
            raise InputError("temperature must be positive (K)", field="temperature",
                             value=temperature)
        s = s * bose_correction(energy, temperature)
    return energy, s
