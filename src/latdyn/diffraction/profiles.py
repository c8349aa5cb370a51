r"""Time-of-flight peak shapes: a Gaussian convolved with back-to-back exponentials.

A spallation-source moderator emits a pulse that rises fast and decays slowly; a TOF Bragg peak
is the Gaussian of the geometry convolved with exp(alpha t) for t < 0 and exp(-beta t) for
t > 0 (R. B. Von Dreele, J. D. Jorgensen and C. G. Windsor, J. Appl. Cryst. 15, 581 (1982);
GSAS TOF profile 3, Mantid's BackToBackExponential):

.. math::

    \Omega(\Delta) = \frac{\alpha\beta}{2(\alpha+\beta)}\left[e^{u}\,\mathrm{erfc}(y)
                     + e^{v}\,\mathrm{erfc}(z)\right],\qquad
    u = \tfrac{\alpha}{2}(\alpha\sigma^2 + 2\Delta),\ v = \tfrac{\beta}{2}(\beta\sigma^2 - 2\Delta),

    y = \frac{\alpha\sigma^2 + \Delta}{\sqrt2\sigma},\quad
    z = \frac{\beta\sigma^2 - \Delta}{\sqrt2\sigma},

unit area for any alpha, beta, sigma > 0.  Since u - y^2 = v - z^2 = -Delta^2 / (2 sigma^2),
each term is evaluated as exp(-Delta^2 / 2 sigma^2) erfcx(y) where y >= 0 (no overflow) and
directly where y < 0 (then u < 0).  GSAS's d dependence: alpha = alpha_0 + alpha_1 / d,
beta = beta_0 + beta_1 / d^4 (:func:`tof_exponents`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc, erfcx

from ..errors import InputError

__all__ = ["back_to_back_gaussian", "tof_exponents"]


def _term(delta: np.ndarray, rate: np.ndarray, sigma: np.ndarray, sign: float) -> np.ndarray:
    """exp(w) erfc(x) with x = (rate sigma^2 + sign delta) / (sqrt2 sigma), w = x^2 - delta^2/2sigma^2."""
    s2 = sigma * sigma
    x = (rate * s2 + sign * delta) / (np.sqrt(2.0) * sigma)
    out = np.empty(np.broadcast(delta, rate, sigma).shape)
    x = np.broadcast_to(x, out.shape)
    pos = x >= 0
    gauss = np.exp(-0.5 * np.broadcast_to(delta * delta / s2, out.shape))
    out[pos] = gauss[pos] * erfcx(x[pos])
    w = np.broadcast_to(0.5 * rate * (rate * s2 + 2.0 * sign * delta), out.shape)
    out[~pos] = np.exp(w[~pos]) * erfc(x[~pos])
    return out


def back_to_back_gaussian(x, alpha, beta, sigma, center=0.0) -> np.ndarray:
    """Unit-area Gaussian (standard deviation ``sigma``) convolved with back-to-back
    exponentials: rise rate ``alpha`` below the centre, decay rate ``beta`` above it.

    Units: x, center and sigma in one time (or d) unit, alpha and beta in its inverse (e.g. us
    and 1/us).  Arrays broadcast.  Formula: module docstring (Von Dreele et al. 1982).
    """
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    s = np.asarray(sigma, dtype=float)
    for name, v in (("alpha", a), ("beta", b), ("sigma", s)):
        if np.any(~np.isfinite(v) | (v <= 0)):
            raise InputError(f"{name} must be positive and finite", field=name,
                             value=float(np.ravel(v)[0]) if v.size == 1 else "array")
    delta = np.asarray(x, dtype=float) - np.asarray(center, dtype=float)
    norm = a * b / (2.0 * (a + b))
    return norm * (_term(delta, a, s, 1.0) + _term(delta, b, s, -1.0))


def tof_exponents(d, alpha, beta) -> tuple[np.ndarray, np.ndarray]:
    """Rise and decay rates (1/us) at d-spacings ``d`` (angstrom): a number each, or GSAS's
    (alpha_0, alpha_1) with alpha = alpha_0 + alpha_1 / d and (beta_0, beta_1) with
    beta = beta_0 + beta_1 / d^4."""
    d = np.asarray(d, dtype=float)

    def rate(p, power: int, name: str) -> np.ndarray:
        p = np.atleast_1d(np.asarray(p, dtype=float))
        if p.size == 1:
            return np.full(d.shape, float(p[0]))
        if p.size != 2:
            raise InputError(f"{name} must be one number or two (constant, d term)", field=name,
                             value=p.tolist())
        return p[0] + p[1] / d**power

    return rate(alpha, 1, "alpha"), rate(beta, 4, "beta")
