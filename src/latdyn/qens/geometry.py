r"""Geometry (localised motion) models: EISF and the Lorentzian expansion of S_inc(Q, E).

For a particle confined to a region, the powder-averaged incoherent scattering law is

    S(Q, E) = A_0(Q) delta(E) + sum_k A_k(Q) L(E; Gamma_k),    sum_k A_k = 1,

A_0 the elastic incoherent structure factor (EISF) and L unit-area Lorentzians of HWHM Gamma_k
(meV).  With an immobile fraction p: A_0 -> p + (1 - p) A_0, A_k -> (1 - p) A_k.
References: M. Bee, Quasielastic Neutron Scattering (Adam Hilger, 1988), ch. 6-7.

Models (Q in 1/A, lengths in A, times in ps, rotational diffusion D_r in 1/ps, D in A^2/ps):

- ``sphere-rotation[:l_max]``  isotropic rotational diffusion on a sphere of radius a (Sears,
  Can. J. Phys. 44, 1299 (1966)): A_l = (2l+1) j_l(Qa)^2, Gamma_l = hbar l(l+1) D_r,
  EISF = j_0(Qa)^2; the series is cut at l_max (default 8).
- ``circle:N``  jumps among N equidistant sites on a circle of radius r, mean residence time
  tau (Bee eq. 6.37): A_n = (1/N) sum_{p=1}^{N} j_0(2 Q r sin(pi p / N)) cos(2 pi n p / N),
  Gamma_n = (2 hbar / tau) sin^2(pi n / N), n = 0 .. N-1.
- ``two-site``  jumps between two sites a distance d apart, residence time tau:
  EISF = (1 + j_0(Qd)) / 2, A_1 = (1 - j_0(Qd)) / 2, Gamma_1 = 2 hbar / tau.
- ``tetrahedral:C3|C2|iso``  reorientations of an XH4 tetrahedron (H-H distance d) by C3, C2 or
  all twelve proper rotations, tau the mean time between reorientations of the molecule:
  EISF = (1 + 3 j_0(Qd)) / 4, A_1 = 3 (1 - j_0(Qd)) / 4, with Gamma_1 = 4 hbar / (3 tau) (C2),
  hbar / tau (C3: a proton on the axis stays, 1 in 4), 12 hbar / (11 tau) (isotropic: 2 of 11
  rotations leave it in place); the proton residence time is tau_H = 4 hbar / (3 Gamma_1).
- ``cube``  jumps along the edges (length a) among the 8 vertices of a cube, residence time
  tau: A_0 = [1 + 3 j0(Qa) + 3 j0(Qa sqrt2) + j0(Qa sqrt3)] / 8, and terms k = 1, 2, 3 with
  Gamma_k = 2 k hbar / (3 tau) and Krawtchouk weights (see :func:`cube`).
- ``sphere-diffusion[:n]``  diffusion inside an impermeable sphere of radius a (Volino &
  Dianoux, Mol. Phys. 41, 271 (1980)): EISF = [3 j_1(Qa) / (Qa)]^2,
  A_ln = (2l+1) 6 x_ln^2 / (x_ln^2 - l(l+1)) [(Qa j_{l+1}(Qa) - l j_l(Qa)) / ((Qa)^2 - x_ln^2)]^2,
  Gamma_ln = hbar x_ln^2 D / a^2, x_ln the roots of j_l'(x) = 0 (l, n < n, default 6).
- ``gaussian``  EISF = exp(-Q^2 <u^2> / 3) of an isotropic harmonic (Gaussian) confinement,
  <u^2> = <u_x^2 + u_y^2 + u_z^2> (A^2); elastic part only.

:func:`jump_terms` evaluates any jump model among sites with a symmetric rate matrix by
diagonalisation; it is the independent check of the closed forms above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import optimize, special

from ..errors import InputError
from ..units import HBAR_MEV_PS
from .diffusion import positive_scalar

__all__ = ["GeometryModel", "get_geometry_model", "GEOMETRY_NAMES", "sphere_rotation", "circle",
           "two_site", "tetrahedral", "cube", "sphere_diffusion", "gaussian_eisf", "jump_terms",
           "spherical_bessel_derivative_roots", "with_immobile"]

Terms = tuple[np.ndarray, np.ndarray]


def _q(Q) -> np.ndarray:
    q = np.atleast_1d(np.asarray(Q, dtype=float))
    if q.ndim != 1 or np.any(~np.isfinite(q) | (q < 0)):
        raise InputError("Q must be a 1-D array of finite non-negative values", field="Q", value=Q)
    return q


def _j0(x):
    return np.sinc(np.asarray(x) / np.pi)


def with_immobile(terms: Terms, p: float) -> Terms:
    """Add an immobile fraction p: A_0 -> p + (1-p) A_0, A_k -> (1-p) A_k (k >= 1)."""
    if not (0.0 <= p <= 1.0):
        raise InputError("immobile fraction must lie in [0, 1]", field="immobile", value=p)
    a, g = terms
    a = (1.0 - p) * a
    a[:, 0] += p
    return a, g


def sphere_rotation(Q, a, D_r, l_max: int = 8) -> Terms:
    """Sears expansion: A_l = (2l+1) j_l(Qa)^2, Gamma_l = hbar l(l+1) D_r (meV), l = 0..l_max."""
    q, a, dr = _q(Q), positive_scalar(a, "radius"), positive_scalar(D_r, "D_r")
    ls = np.arange(l_max + 1)
    A = (2 * ls + 1) * special.spherical_jn(ls[None, :], (q * a)[:, None]) ** 2
    G = np.broadcast_to(HBAR_MEV_PS * ls * (ls + 1) * dr, A.shape).copy()
    return A, G


def circle(Q, r, tau, N: int = 3) -> Terms:
    """N-site jumps on a circle of radius r (A), residence time tau (ps) (Bee 1988 eq. 6.37)."""
    q, r, tau = _q(Q), positive_scalar(r, "radius"), positive_scalar(tau, "tau")
    if int(N) < 2:
        raise InputError("a circle jump model needs N >= 2 sites", field="N", value=N)
    p = np.arange(1, N + 1)
    n = np.arange(N)
    j = _j0(2.0 * q[:, None] * r * np.sin(np.pi * p[None, :] / N))  # (nQ, N)
    A = j @ np.cos(2.0 * np.pi * np.outer(p, n) / N) / N
    G = np.broadcast_to(2.0 * HBAR_MEV_PS / tau * np.sin(np.pi * n / N) ** 2, A.shape).copy()
    return A, G


def two_site(Q, d, tau) -> Terms:
    """Two-site jumps: EISF (1 + j0(Qd))/2, A_1 = (1 - j0(Qd))/2, Gamma_1 = 2 hbar / tau."""
    q, d, tau = _q(Q), positive_scalar(d, "d"), positive_scalar(tau, "tau")
    j = _j0(q * d)
    A = np.stack([(1 + j) / 2, (1 - j) / 2], axis=1)
    G = np.zeros_like(A)
    G[:, 1] = 2.0 * HBAR_MEV_PS / tau
    return A, G


_TETRA_RATE = {"C2": 4.0 / 3.0, "C3": 1.0, "iso": 12.0 / 11.0}


def tetrahedral(Q, d, tau, kind: str = "C3") -> Terms:
    """XH4 tetrahedral reorientations: EISF (1 + 3 j0(Qd))/4; Gamma_1 per ``kind`` (module doc)."""
    if kind not in _TETRA_RATE:
        raise InputError("tetrahedral kind must be C2, C3 or iso", field="kind", value=kind)
    q, d, tau = _q(Q), positive_scalar(d, "d"), positive_scalar(tau, "tau")
    j = _j0(q * d)
    A = np.stack([(1 + 3 * j) / 4, 3 * (1 - j) / 4], axis=1)
    G = np.zeros_like(A)
    G[:, 1] = _TETRA_RATE[kind] * HBAR_MEV_PS / tau
    return A, G


def cube(Q, a, tau) -> Terms:
    """Jumps along cube edges (a, A), residence time tau (ps): 4 terms, Gamma_k = 2k hbar/(3 tau).

    A_k = m_k / 8 sum_h K_h(k) j0(Q a sqrt(h)), h = 0..3 Hamming distances, Krawtchouk
    K_h(k) = [[1,3,3,1],[1,1,-1,-1],[1,-1,-1,1],[1,-3,3,-1]] and multiplicities m = (1,3,3,1).
    """
    q, a, tau = _q(Q), positive_scalar(a, "a"), positive_scalar(tau, "tau")
    jh = _j0(q[:, None] * a * np.sqrt(np.arange(4))[None, :])  # (nQ, 4)
    K = np.array([[1, 3, 3, 1], [1, 1, -1, -1], [1, -1, -1, 1], [1, -3, 3, -1]], dtype=float)
    m = np.array([1, 3, 3, 1], dtype=float)
    A = jh @ K.T * m / 8.0
    G = np.broadcast_to(2.0 * np.arange(4) * HBAR_MEV_PS / (3.0 * tau), A.shape).copy()
    return A, G


@lru_cache(maxsize=8)
def spherical_bessel_derivative_roots(l_max: int, n_roots: int) -> np.ndarray:
    """Roots x_ln > 0 of j_l'(x) = 0, array (l_max+1, n_roots); row 0 starts at x_00 = 0."""
    out = np.zeros((l_max + 1, n_roots))
    for l in range(l_max + 1):
        f = lambda x, l=l: special.spherical_jn(l, x, derivative=True)  # noqa: E731
        roots = [0.0] if l == 0 else []
        x = 1e-3 if l else 0.5
        step = 0.05
        while len(roots) < n_roots:
            if f(x) * f(x + step) < 0:
                roots.append(optimize.brentq(f, x, x + step, xtol=1e-15, rtol=1e-15))
            x += step
        out[l] = roots[:n_roots]
    return out


def sphere_diffusion(Q, a, D, n: int = 6) -> Terms:
    """Volino-Dianoux diffusion in a sphere of radius a (A) with D (A^2/ps); l, n < ``n``."""
    q, a, D = _q(Q), positive_scalar(a, "radius"), positive_scalar(D, "D")
    x = spherical_bessel_derivative_roots(n - 1, n)  # (l, n)
    y = (q * a)[:, None, None]
    ls = np.arange(n)[None, :, None]
    X = x[None]
    num = y * special.spherical_jn(ls + 1, y) - ls * special.spherical_jn(ls, y)
    den = y * y - X * X
    near = np.abs(den) < 1e-8 * np.maximum(X * X, 1.0)
    limit = (X * X - ls * (ls + 1)) * special.spherical_jn(ls, X) / (2.0 * np.where(X > 0, X, 1.0) ** 2)
    ratio = np.where(near, limit, num / np.where(near, 1.0, den))
    with np.errstate(divide="ignore", invalid="ignore"):
        pref = np.where(X > 0, (2 * ls + 1) * 6.0 * X * X / (X * X - ls * (ls + 1)), 0.0)
    A = pref * ratio**2
    y0 = q * a
    eisf = np.where(y0 > 1e-6, (3.0 * special.spherical_jn(1, y0) / np.where(y0 > 0, y0, 1.0)) ** 2,
                    1.0 - y0**2 / 5.0)
    A[:, 0, 0] = eisf
    G = np.broadcast_to(HBAR_MEV_PS * X * X * D / a**2, A.shape)
    return A.reshape(len(q), -1), np.array(G).reshape(len(q), -1)


def gaussian_eisf(Q, msd) -> Terms:
    """Gaussian confinement EISF exp(-Q^2 <u^2> / 3), <u^2> in A^2 (elastic term only)."""
    q = _q(Q)
    u2 = float(msd)
    if not (np.isfinite(u2) and u2 >= 0):
        raise InputError("<u^2> must be finite and non-negative", field="msd", value=msd)
    A = np.exp(-q * q * u2 / 3.0)[:, None]
    return A, np.zeros_like(A)


def jump_terms(Q, positions, rates) -> Terms:
    """Powder-averaged jump model among sites with a symmetric rate matrix (uniform occupation).

    I(Q, t) = (1/N) sum_ij j0(Q |r_i - r_j|) P_ij(t), P(t) = exp(W t) = V exp(Lambda t) V^T, so
    A_lambda(Q) = (1/N) sum_ij j0(Q d_ij) V_i,lambda V_j,lambda and Gamma = -hbar lambda.
    ``rates`` W (1/ps): off-diagonal jump rates, diagonal minus the row sums (set here).
    Degenerate eigenvalues are merged.  Reference: Bee (1988) ch. 6.
    """
    q = _q(Q)
    r = np.asarray(positions, dtype=float)
    w = np.array(rates, dtype=float)
    if w.shape != (len(r), len(r)) or not np.allclose(w, w.T):
        raise InputError("rate matrix must be square, symmetric and match the sites",
                         field="rates", value=w.shape)
    np.fill_diagonal(w, 0.0)
    np.fill_diagonal(w, -w.sum(axis=1))
    lam, V = np.linalg.eigh(w)
    d = np.linalg.norm(r[:, None, :] - r[None, :, :], axis=-1)
    J = _j0(q[:, None, None] * d[None])  # (nQ, N, N)
    A_all = np.einsum("qij,il,jl->ql", J, V, V) / len(r)
    order = np.argsort(-lam)
    lam, A_all = lam[order], A_all[:, order]
    groups: list[list[int]] = []
    for i, x in enumerate(lam):
        if groups and abs(x - lam[groups[-1][0]]) <= 1e-9 * max(1.0, abs(x)):
            groups[-1].append(i)
        else:
            groups.append([i])
    A = np.stack([A_all[:, g].sum(axis=1) for g in groups], axis=1)
    G = np.broadcast_to(np.array([-HBAR_MEV_PS * lam[g[0]] for g in groups]), A.shape).copy()
    G[:, 0] = 0.0
    return A, G


@dataclass(frozen=True)
class GeometryModel:
    """A named geometry model: parameter names, units, initial guesses and its terms function."""

    name: str
    function: Callable[..., Terms]
    params: tuple[str, ...]
    units: tuple[str, ...]
    guess: tuple[float, ...]
    options: dict = field(default_factory=dict)

    def terms(self, Q, immobile: float = 0.0, **p) -> Terms:
        """(A, Gamma): arrays (nQ, n_terms); column 0 is the EISF (Gamma = 0); Gamma in meV."""
        t = self.function(Q, *[p[k] for k in self.params], **self.options)
        return with_immobile(t, immobile) if immobile else t

    def eisf(self, Q, immobile: float = 0.0, **p) -> np.ndarray:
        """EISF A_0(Q)."""
        return self.terms(Q, immobile, **p)[0][:, 0]

    def derived(self, **p) -> dict[str, tuple[float, str]]:
        """Quantities that follow from the parameters, name -> (value, scipp unit).

        sphere-rotation: tau1_ps = 1 / (6 D_r), the correlation time of the l = 2 term
        (Teixeira et al. 1985 write the l = 1 and l = 2 decays as exp(-t / 3 tau_1) and
        exp(-t / tau_1)); jump models: the mean residence time is their parameter tau.
        """
        if self.function is sphere_rotation:
            return {"tau1": (1.0 / (6.0 * float(p["D_r"])), "ps")}
        return {}


GEOMETRY_NAMES = ("sphere-rotation[:l_max]", "circle:N", "two-site", "tetrahedral:C2|C3|iso", "cube",
                  "sphere-diffusion[:n]", "gaussian")


def get_geometry_model(spec: str) -> GeometryModel:
    """Parse a model spec such as 'circle:3', 'tetrahedral:C3', 'sphere-diffusion:8'."""
    name, _, opt = spec.strip().lower().partition(":")
    name = name.replace("_", "-")
    try:
        if name == "sphere-rotation":
            return GeometryModel(name, sphere_rotation, ("radius", "D_r"), ("A", "1/ps"), (1.0, 0.1),
                                 {"l_max": int(opt or 8)})
        if name == "circle":
            return GeometryModel(f"circle:{int(opt or 3)}", circle, ("radius", "tau"), ("A", "ps"),
                                 (1.0, 1.0), {"N": int(opt or 3)})
        if name == "two-site":
            return GeometryModel(name, two_site, ("d", "tau"), ("A", "ps"), (1.5, 1.0))
        if name == "tetrahedral":
            kind = {"c2": "C2", "c3": "C3", "iso": "iso", "": "C3"}[opt]
            return GeometryModel(f"tetrahedral:{kind}", tetrahedral, ("d", "tau"), ("A", "ps"),
                                 (1.7, 1.0), {"kind": kind})
        if name == "cube":
            return GeometryModel(name, cube, ("a", "tau"), ("A", "ps"), (1.2, 1.0))
        if name in ("sphere-diffusion", "volino-dianoux"):
            return GeometryModel("sphere-diffusion", sphere_diffusion, ("radius", "D"),
                                 ("A", "A^2/ps"), (2.0, 0.1), {"n": int(opt or 6)})
        if name == "gaussian":
            return GeometryModel(name, gaussian_eisf, ("msd",), ("A^2",), (0.5,))
    except (ValueError, KeyError) as exc:
        raise InputError(f"bad option in geometry model; use one of {GEOMETRY_NAMES}",
                         field="eisf", value=spec) from exc
    raise InputError(f"unknown geometry model; use one of {GEOMETRY_NAMES}", field="eisf", value=spec)
