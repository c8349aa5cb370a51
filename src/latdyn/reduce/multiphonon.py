r"""Incoherent S(Q,E) of a harmonic powder from its DOS: the phonon (Sjolander) expansion.

For an atom of mass M in a cubic (isotropic) harmonic crystal, with the one-atom DOS g_1(E)
normalised to 1 (int_0^inf g_1 dE = 1; the 3-per-atom DOS divided by 3), the incoherent
scattering function is (Sjolander, Ark. Fys. 14, 315 (1958); Squires ch. 3.8)

.. math::

    S(Q,E) = e^{-2W} \sum_{n=0}^{\infty} \frac{(2W)^n}{n!} T_n(E), \qquad
    T_0 = \delta(E),\ T_n = T_{n-1} \otimes T_1,

    T_1(E) = \frac{P(E)}{\gamma_0},\quad P(E) = \frac{g_1(|E|)}{E} [n(E) + 1],\quad
    \gamma_0 = \int_{-\infty}^{\infty} P(E)\, dE = \int_0^\infty \frac{g_1(E)}{E}
               \coth\frac{E}{2 k_B T} dE,

    2W = E_R \gamma_0 = Q^2 \langle u_x^2 \rangle, \qquad E_R = \frac{\hbar^2 Q^2}{2 M}

so that the one-phonon term is e^{-2W} E_R g_1(E) [n(E) + 1] / E.  Each T_n has unit area and
obeys detailed balance, T_n(-E) = e^{-E/k_B T} T_n(E).  The T_n are built on a uniform energy
grid by FFT convolution; P(0) = k_B T lim g_1(E) / E^2 (the acoustic E^2 law).  A compound is
the neutron-weighted sum over its elements j with weights c_j sigma_j (incoherent
approximation; Price & Skold, *Methods Exp. Phys.* 23A (1986)).

Units: Q 1/angstrom, E meV, T K, M amu, S(Q,E) 1/meV per atom (sigma / 4 pi not included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipp as sc
from scipy import constants as C
from scipy.signal import fftconvolve

from ..data.density_of_states import as_density_of_states
from ..data.model import make_sqe
from ..errors import InputError
from ..units import FWHM_PER_SIGMA, KB_MEV_PER_K, MEV, check_temperature

__all__ = ["recoil_energy", "PhononExpansion", "incoherent_sqe", "neutron_weighted_sqe"]

#: hbar^2 / (2 u) in meV angstrom^2: E_R = this * Q^2 / M[amu].
_RECOIL = C.hbar**2 / (2.0 * C.atomic_mass) / MEV * 1e20


def recoil_energy(Q, mass: float) -> np.ndarray:
    """Free-atom recoil energy E_R = hbar^2 Q^2 / 2M (meV) for Q (1/angstrom), M (amu)."""
    m = float(mass)
    if not np.isfinite(m) or m <= 0:
        raise InputError("mass must be > 0 amu", field="mass", value=mass)
    return _RECOIL * np.asarray(Q, dtype=float) ** 2 / m


def _next_order(prev: np.ndarray, t1: np.ndarray, h: float) -> np.ndarray:
    return np.clip(fftconvolve(prev, t1) * h, 0.0, None)


@dataclass
class PhononExpansion:
    """The multiphonon terms T_n(E) of one atom type (module formula).

    Build with :meth:`from_dos`; then ``two_w(Q)`` is the Debye-Waller exponent 2W and
    ``sqe(Q, E, orders)`` the sum of the chosen orders at Q (1/angstrom) and E (meV) points.
    """

    mass: float
    temperature: float
    step: float
    gamma0: float
    terms: list[np.ndarray]

    @classmethod
    def from_dos(cls, dos, T: float, mass: float, *, step: float | None = None,
                 n_max: int = 10) -> PhononExpansion:
        """T_1..T_{n_max} from a DOS (any normalisation; energies meV >= 0), T (K), M (amu).

        ``dos``: a :class:`latdyn.data.DensityOfStates` (its total is used), a DataArray or an
        (energies, values) pair.  ``step``: grid spacing (meV), default E_max / 1000.
        """
        d = as_density_of_states(dos)
        t = float(check_temperature(T))
        if not (isinstance(n_max, (int, np.integer)) and 1 <= n_max <= 60):
            raise InputError("n_max must be an integer in 1..60", field="n_max", value=n_max)
        recoil_energy(1.0, mass)
        e_max = float(d.energy[-1])
        h = e_max / 1000.0 if step is None else float(step)
        if not (0 < h < e_max):
            raise InputError("grid step must be > 0 and below the DOS range", field="step", value=h)
        k = int(np.ceil(e_max / h))
        grid = h * np.arange(1, k + 1)
        g1 = _dos_on_grid(d, grid) / 3.0
        kt = KB_MEV_PER_K * t
        x = grid / kt
        p_pos = g1 / grid / -np.expm1(-x)            # g/E (n+1), E > 0
        p_neg = p_pos * np.exp(-x)                   # g/E n,     E < 0
        p_zero = kt * g1[0] / grid[0] ** 2           # acoustic E^2 law
        p = np.concatenate([p_neg[::-1], [p_zero], p_pos])
        gamma0 = float(np.sum(p) * h)
        t1 = p / gamma0
        terms = [t1]
        for _ in range(n_max - 1):
            terms.append(_next_order(terms[-1], t1, h))
        return cls(float(mass), t, h, gamma0, terms)

    @property
    def n_max(self) -> int:
        return len(self.terms)

    def msd(self) -> float:
        """<u_x^2> (angstrom^2), so that 2W = Q^2 <u_x^2>."""
        return float(recoil_energy(1.0, self.mass) * self.gamma0)

    def two_w(self, Q) -> np.ndarray:
        """Debye-Waller exponent 2W(Q) = E_R(Q) gamma_0 (dimensionless)."""
        return recoil_energy(Q, self.mass) * self.gamma0

    def term(self, n: int, E) -> np.ndarray:
        """T_n at energies E (meV), unit area, linear interpolation on the grid, 0 outside."""
        tn = self.terms[n - 1]
        half = (tn.size - 1) // 2
        grid = self.step * np.arange(-half, half + 1)
        return np.interp(np.asarray(E, dtype=float), grid, tn, left=0.0, right=0.0)

    def sqe(self, Q, E, orders=None) -> np.ndarray:
        """Sum over ``orders`` (default 1..n_max) of e^{-2W} (2W)^n / n! T_n(E); shape (nQ, nE)."""
        q = np.atleast_1d(np.asarray(Q, dtype=float))
        e = np.atleast_1d(np.asarray(E, dtype=float))
        orders = range(1, self.n_max + 1) if orders is None else orders
        tw = self.two_w(q)[:, None]
        out = np.zeros((q.size, e.size))
        log_fact = 0.0
        for n in range(1, self.n_max + 1):
            log_fact += np.log(n)
            if n in orders:
                with np.errstate(divide="ignore"):
                    amp = np.exp(-tw + n * np.log(tw) - log_fact)
                out += amp * self.term(n, e)[None, :]
        return out

    def truncation(self, Q) -> float:
        """Weight of the orders above n_max, 1 - e^{-2W} sum_{n <= n_max} (2W)^n / n!, at Q."""
        from scipy.stats import poisson

        return float(np.max(poisson.sf(self.n_max, self.two_w(np.atleast_1d(Q)))))


def _dos_on_grid(dos, grid: np.ndarray) -> np.ndarray:
    """DOS (3 per atom) at grid energies; E^2 law below the first non-zero sample."""
    e, g = dos.energy, dos.g
    if dos.histogram:
        e = 0.5 * (e[1:] + e[:-1])
    out = np.interp(grid, e, g, left=0.0, right=0.0)
    first = int(np.argmax(g > 0))
    e0 = e[first]
    low = grid < e0
    if e0 > 0:
        out[low] = g[first] * (grid[low] / e0) ** 2
    return out


def _check_grid(values, name: str, unit: str) -> np.ndarray:
    a = np.atleast_1d(np.asarray(values, dtype=float))
    if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)) or np.any(np.diff(a) <= 0):
        raise InputError(f"{name} must be a strictly increasing 1-D grid ({unit})", field=name,
                         value=a.shape)
    return a


def _elastic(q: np.ndarray, e: np.ndarray, two_w: np.ndarray, fwhm: float) -> np.ndarray:
    sigma = fwhm / FWHM_PER_SIGMA
    gauss = np.exp(-0.5 * (e / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    return np.exp(-two_w)[:, None] * gauss[None, :]


def incoherent_sqe(Q, E, dos, T: float, mass: float, *, n_max: int = 10,
                   step: float | None = None, elastic_fwhm: float | None = None,
                   name: str = "S_inc(Q,E)") -> sc.DataArray:
    """Powder S(Q,E) (1/meV per atom) in the incoherent approximation, orders 1..n_max.

    Q (1/angstrom) and E (meV) are point grids; ``dos`` a DensityOfStates, (energies, values)
    or a DataArray;
    T (K); mass (amu).  With ``elastic_fwhm`` (meV) the elastic line e^{-2W} delta(E) is added,
    broadened by a Gaussian of that FWHM.  No resolution is applied to the inelastic part.
    """
    q = _check_grid(Q, "Q", "1/angstrom")
    e = _check_grid(E, "E", "meV")
    exp = PhononExpansion.from_dos(dos, T, mass, step=step, n_max=n_max)
    s = exp.sqe(q, e)
    if elastic_fwhm is not None:
        if not (np.isfinite(elastic_fwhm) and elastic_fwhm > 0):
            raise InputError("elastic_fwhm must be > 0 meV", field="elastic_fwhm", value=elastic_fwhm)
        s = s + _elastic(q, e, exp.two_w(q), elastic_fwhm)
    return make_sqe(q, e, s, unit="1/meV", name=name)


def neutron_weighted_sqe(Q, E, partial_dos: dict, formula: str, T: float, *, n_max: int = 10,
                         step: float | None = None, table: str = "sears") -> sc.DataArray:
    """Neutron-weighted incoherent-approximation S(Q,E) of a compound (1/meV per atom).

    S = sum_j c_j sigma_j S_j(Q,E; g_j, M_j) / sum_j c_j sigma_j with c_j the atomic fractions
    and sigma_j the total bound scattering cross sections of ``formula``
    (:class:`latdyn.scattering.Composition`); ``partial_dos`` maps each nuclide symbol of the
    formula to its partial DOS (a DensityOfStates, (energies, values) or a DataArray).
    """
    from ..scattering import Composition

    comp = Composition(formula, table=table)
    q = _check_grid(Q, "Q", "1/angstrom")
    e = _check_grid(E, "E", "meV")
    frac = comp.fractions()
    missing = [s for s in frac if s not in partial_dos]
    if missing:
        raise InputError("a partial DOS is needed for every nuclide of the formula",
                         field="partial_dos", value=missing)
    total = np.zeros((q.size, e.size))
    norm = 0.0
    for nuc, _count in comp.atoms:
        w = frac[nuc.symbol] * nuc.sigma_scatt
        exp = PhononExpansion.from_dos(partial_dos[nuc.symbol], T, nuc.mass, step=step,
                                       n_max=n_max)
        total += w * exp.sqe(q, e)
        norm += w
    return make_sqe(q, e, total / norm, unit="1/meV", name=f"S_inc(Q,E) {formula}")
