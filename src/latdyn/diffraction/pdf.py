r"""Total scattering and the pair distribution function (PDF).

Conventions (Keen, J. Appl. Cryst. 34, 172 (2001); Egami & Billinge, *Underneath the Bragg
Peaks* (2012), ch. 3; the PDFgui/PDFfit convention for G):

* S(Q): Faber-Ziman total structure factor normalised per atom, S -> 1 at large Q.
* F(Q) = Q [S(Q) - 1]  (reduced structure function, 1/angstrom).
* G(r) = (2/pi) \int_0^{Q_max} F(Q) M(Q) sin(Qr) dQ = 4 pi r rho_0 [g(r) - 1]  (1/angstrom^2),
  with the modification function M = 1 (none) or the Lorch function
  M(Q) = sin(pi Q / Q_max) / (pi Q / Q_max) (Lorch, J. Phys. C 2, 229 (1969)).
* Back: F(Q) = \int_0^{r_max} G(r) sin(Qr) dr,  S(Q) = 1 + F(Q) / Q.
* g(r) = 1 + G(r) / (4 pi r rho_0) (pair distribution function, -> 1 at large r);
  R(r) = 4 pi r^2 rho_0 g(r) = r G(r) + 4 pi r^2 rho_0 (radial distribution function), and the
  coordination number of a shell is N = \int_{r_1}^{r_2} R(r) dr.

rho_0 is the atomic number density (atoms / angstrom^3).  Integrals are trapezoidal on the
given grids; uncertainties of S(Q) (scipp variances) propagate to G(r) to first order, ignoring
the correlations that the transform creates between r points.

Model PDF of a crystal (Proffen & Billinge, J. Appl. Cryst. 32, 572 (1999), PDFfit):

.. math::

    R(r) = \frac{1}{N}\sum_i\sum_{j\ne i}\frac{o_i o_j b_i b_j}{\langle b\rangle^2}
           \frac{1}{\sqrt{2\pi}\sigma_{ij}}e^{-(r - r_{ij})^2/2\sigma_{ij}^2},\qquad
    G(r) = R(r)/r - 4\pi r\rho_0

over atom pairs within r_max, N = sum_i o_i atoms per cell, <b> = sum_i o_i b_i / N (X-rays:
b -> f0(Q=0) = Z, the usual PDF approximation), peak width from the ADP tensors projected on
the pair direction, sigma_ij^2 = r^T (U_i + U_j) r / r^2, sharpened for correlated motion by
sqrt(1 - delta1/r_ij - delta2/r_ij^2), damped by exp(-(Q_damp r)^2 / 2) and, with Q_max,
convolved with the termination ripples of a finite Q range.
"""

from __future__ import annotations

import numpy as np
import scipp as sc

from ..data import from_numpy
from ..errors import InputError
from ..scattering import nuclide, xray_form_factor
from ..structure import Crystal

__all__ = ["MODIFICATIONS", "modification_function", "fq_to_gr", "gr_to_fq", "sq_to_gr", "gr_to_sq",
           "g_from_G", "R_from_G", "G_from_g", "coordination_number", "pair_list", "model_pdf",
           "pdf_from_sq", "sq_from_pdf"]

#: Modification functions accepted by the transforms.
MODIFICATIONS = ("none", "lorch")


def _grid(x, name: str, allow_zero: bool = True) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2 or np.any(~np.isfinite(x)) or np.any(np.diff(x) <= 0):
        raise InputError(f"{name} must be a strictly increasing 1-D grid of finite values", field=name,
                         value=x.shape)
    if x[0] < 0 or (not allow_zero and x[0] <= 0):
        raise InputError(f"{name} must be non-negative", field=name, value=float(x[0]))
    return x


def modification_function(q, qmax: float, kind: str = "none") -> np.ndarray:
    """M(Q): 1 for 'none', sin(pi Q/Qmax)/(pi Q/Qmax) for 'lorch' (module docstring)."""
    if kind not in MODIFICATIONS:
        raise InputError(f"unknown modification function; use one of {MODIFICATIONS}",
                         field="modification", value=kind)
    q = np.asarray(q, dtype=float)
    return np.ones_like(q) if kind == "none" else np.sinc(q / qmax)


def _trapz_weights(x: np.ndarray) -> np.ndarray:
    w = np.zeros_like(x)
    dx = np.diff(x)
    w[:-1] += dx / 2
    w[1:] += dx / 2
    return w


def _transform_matrix(x_in, x_out, chunk_rows: int = 2048):
    """Yield (slice, sin(x_out x_in) * trapezoid weights) in chunks of output rows."""
    w = _trapz_weights(x_in)
    for start in range(0, len(x_out), chunk_rows):
        sl = slice(start, start + chunk_rows)
        yield sl, np.sin(np.outer(x_out[sl], x_in)) * w


def fq_to_gr(q, fq, r, qmax: float | None = None, qmin: float | None = None,
             modification: str = "none", fq_var=None):
    """G(r) = (2/pi) int_qmin^qmax F(Q) M(Q) sin(Qr) dQ (1/angstrom^2) on the grid r (angstrom).

    q (1/angstrom) and fq = Q [S - 1] (1/angstrom) on one grid; qmin and qmax default to the
    first and last Q (F(Q) -> 0 as Q -> 0, so an unmeasured low-Q range is taken as zero).
    With ``fq_var`` (variances of F) returns (G, variance of G).
    """
    q = _grid(q, "Q")
    r = _grid(r, "r")
    fq = np.asarray(fq, dtype=float)
    if fq.shape != q.shape or np.any(~np.isfinite(fq)):
        raise InputError("F(Q) must be finite and match the Q grid", field="F(Q)", value=fq.shape)
    qmax = float(q[-1]) if qmax is None else float(qmax)
    qmin = float(q[0]) if qmin is None else float(qmin)
    if not q[0] <= qmin < qmax <= q[-1] * (1 + 1e-12):
        raise InputError("need Q_min < Q_max within the measured Q range", field="qmax",
                         value=(qmin, qmax, float(q[0]), float(q[-1])))
    keep = (q >= qmin) & (q <= qmax * (1 + 1e-12))
    qk = q[keep]
    m = modification_function(qk, qmax, modification)
    g = np.empty(len(r))
    var = None if fq_var is None else np.empty(len(r))
    for sl, mat in _transform_matrix(qk, r):
        g[sl] = (2 / np.pi) * mat @ (fq[keep] * m)
        if var is not None:
            var[sl] = (2 / np.pi) ** 2 * (mat**2) @ (np.asarray(fq_var, float)[keep] * m**2)
    return g if var is None else (g, var)


def gr_to_fq(r, gr, q):
    """F(Q) = int_0^rmax G(r) sin(Qr) dr (1/angstrom) on the grid q (1/angstrom)."""
    r = _grid(r, "r")
    q = _grid(q, "Q")
    gr = np.asarray(gr, dtype=float)
    if gr.shape != r.shape or np.any(~np.isfinite(gr)):
        raise InputError("G(r) must be finite and match the r grid", field="G(r)", value=gr.shape)
    out = np.empty(len(q))
    for sl, mat in _transform_matrix(r, q):
        out[sl] = mat @ gr
    return out


def sq_to_gr(q, sq, r, qmax=None, qmin=None, modification: str = "none"):
    """G(r) from S(Q): F = Q (S - 1), then :func:`fq_to_gr`."""
    q = _grid(q, "Q")
    return fq_to_gr(q, q * (np.asarray(sq, dtype=float) - 1.0), r, qmax, qmin, modification)


def gr_to_sq(r, gr, q):
    """S(Q) = 1 + F(Q)/Q with F from :func:`gr_to_fq`; Q must be positive."""
    q = _grid(q, "Q", allow_zero=False)
    return 1.0 + gr_to_fq(r, gr, q) / q


def _rho(rho0):
    if not np.isfinite(rho0) or rho0 <= 0:
        raise InputError("number density must be positive (atoms/angstrom^3)", field="rho0", value=rho0)
    return float(rho0)


def g_from_G(r, G, rho0: float):
    """g(r) = 1 + G / (4 pi r rho0); r > 0 (angstrom), rho0 atoms/angstrom^3."""
    r = np.asarray(r, dtype=float)
    if np.any(r <= 0):
        raise InputError("g(r) needs r > 0", field="r", value=float(r.min()))
    return 1.0 + np.asarray(G) / (4 * np.pi * r * _rho(rho0))


def G_from_g(r, g, rho0: float):
    """G(r) = 4 pi r rho0 [g(r) - 1] (1/angstrom^2)."""
    return 4 * np.pi * np.asarray(r) * _rho(rho0) * (np.asarray(g) - 1.0)


def R_from_G(r, G, rho0: float):
    """R(r) = r G(r) + 4 pi r^2 rho0 = 4 pi r^2 rho0 g(r) (1/angstrom)."""
    r = np.asarray(r, dtype=float)
    return r * np.asarray(G) + 4 * np.pi * r**2 * _rho(rho0)


def coordination_number(r, G, rho0: float, r1: float, r2: float) -> float:
    """N = int_{r1}^{r2} R(r) dr from G(r) on the grid r (trapezoid rule with end interpolation)."""
    r = _grid(r, "r")
    if not (r[0] <= r1 < r2 <= r[-1]):
        raise InputError("integration limits must lie inside the r grid", field="r1,r2", value=(r1, r2))
    R = R_from_G(r, G, rho0)
    inside = (r > r1) & (r < r2)
    x = np.concatenate([[r1], r[inside], [r2]])
    y = np.concatenate([[np.interp(r1, r, R)], R[inside], [np.interp(r2, r, R)]])
    return float(np.trapezoid(y, x))


# --- model PDF of a crystal ----------------------------------------------------------------

def _weights(crystal: Crystal, radiation: str, scattering_lengths=None) -> np.ndarray:
    species = crystal.atoms.species
    if radiation == "neutron":
        lengths = scattering_lengths or {}
        return np.array([complex(lengths[s]).real if s in lengths else nuclide(s).b_coh.real
                         for s in species])
    if radiation == "xray":
        return np.array([float(xray_form_factor(s, 0.0)) for s in species])
    raise InputError("unknown radiation; use 'neutron' or 'xray'", field="radiation", value=radiation)


def pair_list(crystal: Crystal, rmax: float, rmin: float = 0.0):
    """Atom pairs (i in the cell, j anywhere) with rmin < r_ij <= rmax.

    Returns (i, j, d) with d the Cartesian separation vectors (angstrom), shape (n, 3).
    """
    at = crystal.atoms
    lat = crystal.lattice
    nmax = np.ceil(rmax * lat.reciprocal_lengths).astype(int) + 1
    cells = np.stack(np.meshgrid(*[np.arange(-n, n + 1) for n in nmax], indexing="ij"), -1).reshape(-1, 3)
    shifts = cells @ lat.matrix
    ii, jj, dd = [], [], []
    for i in range(len(at)):
        d = at.cart[None, :, :] + shifts[:, None, :] - at.cart[i]
        dist = np.linalg.norm(d, axis=2)
        ok = (dist > max(rmin, 1e-8)) & (dist <= rmax)
        s_idx, j_idx = np.nonzero(ok)
        ii.append(np.full(len(j_idx), i))
        jj.append(j_idx)
        dd.append(d[s_idx, j_idx])
    return np.concatenate(ii), np.concatenate(jj), np.concatenate(dd)


def model_pdf(crystal: Crystal, r, radiation: str = "neutron", *, qmax: float | None = None,
              modification: str = "none", qdamp: float = 0.0, delta1: float = 0.0, delta2: float = 0.0,
              scattering_lengths=None) -> np.ndarray:
    """Model G(r) (1/angstrom^2) of ``crystal`` on the grid r (angstrom), module docstring.

    Thermal broadening from each atom's U tensor (angstrom^2; atoms without ADPs are static
    and need a non-zero width from elsewhere, so U = 0 everywhere raises InputError).
    ``qmax`` (1/angstrom) applies the finite-Q termination (with ``modification``), ``qdamp``
    (1/angstrom) the instrumental Gaussian damping, ``delta1`` (angstrom) and ``delta2``
    (angstrom^2) the correlated-motion sharpening.
    """
    r = _grid(r, "r")
    at = crystal.atoms
    w = _weights(crystal, radiation, scattering_lengths) * at.occupancy
    n = at.occupancy.sum()
    bbar = w.sum() / n
    if abs(bbar) < 1e-12:
        raise InputError("the average scattering length is zero: G(r) is undefined (null matrix)",
                         field="radiation", value=radiation)
    rho0 = crystal.number_density
    u_max = float(np.max(at.u_cart.diagonal(axis1=1, axis2=2))) if len(at) else 0.0
    if u_max <= 0:
        raise InputError("the crystal has no displacement parameters: peaks would be delta functions",
                         field="u_iso", value=0.0)
    reach = r[-1] + 8 * np.sqrt(2 * u_max) + (20 * np.pi / qmax if qmax else 0.0)
    i, j, d = pair_list(crystal, reach)
    dist = np.linalg.norm(d, axis=1)
    uhat = d / dist[:, None]
    s2 = np.einsum("ka,kab,kb->k", uhat, at.u_cart[i] + at.u_cart[j], uhat)
    sharpen = 1.0 - delta1 / dist - delta2 / dist**2
    if np.any(sharpen <= 0):
        raise InputError("delta1/delta2 sharpen some peak to zero width", field="delta2", value=delta2)
    sigma = np.sqrt(s2 * sharpen)
    weight = w[i] * w[j] / (bbar**2 * n)
    # merge identical shells (same distance and width) to keep the peak sum small
    key = np.round(np.stack([dist, sigma], 1), 9)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    wsum = np.bincount(inv.ravel(), weights=weight, minlength=len(uniq))
    r0, sg = uniq[:, 0], uniq[:, 1]
    if np.any(sg <= 0):
        raise InputError("a pair has zero width: give every atom a displacement parameter",
                         field="u_iso", value=0.0)
    if qmax is None:
        peaks = _gauss_sum(r, r0, sg, wsum) / r.clip(1e-12)
    else:
        rf = np.arange(0.0, reach + 1e-9, min(0.005, np.pi / qmax / 20))
        pf = _gauss_sum(rf, r0, sg, wsum) / rf.clip(1e-12)
        pf[0] = 0.0
        q = np.linspace(0.0, qmax, int(np.ceil(qmax * reach / np.pi * 4)) + 2)
        peaks = fq_to_gr(q, gr_to_fq(rf, pf, q), r, qmax, 0.0, modification)
    g = peaks * np.exp(-0.5 * (qdamp * r) ** 2) - 4 * np.pi * rho0 * r
    return g


def _gauss_sum(r, r0, sigma, weight, chunk: int = 512) -> np.ndarray:
    out = np.zeros(len(r))
    for s in range(0, len(r0), chunk):
        sl = slice(s, s + chunk)
        z = (r[:, None] - r0[None, sl]) / sigma[None, sl]
        out += np.exp(-0.5 * z**2) @ (weight[sl] / (np.sqrt(2 * np.pi) * sigma[sl]))
    return out


# --- scipp wrappers -------------------------------------------------------------------------

def pdf_from_sq(sq: sc.DataArray, r, qmax: float | None = None, qmin: float | None = None,
                modification: str = "none") -> sc.DataArray:
    """G(r) DataArray (dim 'r', 1/angstrom^2, with variances when S has them) from S(Q) (dim 'Q')."""
    if not isinstance(sq, sc.DataArray) or sq.dims != ("Q",):
        raise InputError("S(Q) must be a DataArray with the single dim 'Q'", field="sq",
                         value=getattr(sq, "dims", type(sq).__name__))
    q = np.asarray(sc.to_unit(sq.coords["Q"], "1/angstrom").values, dtype=float)
    if len(q) == sq.sizes["Q"] + 1:
        q = 0.5 * (q[1:] + q[:-1])
    s = np.asarray(sq.values, dtype=float)
    fvar = None if sq.variances is None else q**2 * sq.variances
    out = fq_to_gr(q, q * (s - 1.0), r, qmax, qmin, modification, fq_var=fvar)
    g, var = (out, None) if fvar is None else out
    return from_numpy(g, {"r": r}, None if var is None else np.sqrt(var), unit="1/angstrom^2",
                      name="G(r)")


def sq_from_pdf(gr: sc.DataArray, q) -> sc.DataArray:
    """S(Q) DataArray (dim 'Q') from G(r) (dim 'r', 1/angstrom^2) by the back transform."""
    if not isinstance(gr, sc.DataArray) or gr.dims != ("r",):
        raise InputError("G(r) must be a DataArray with the single dim 'r'", field="gr",
                         value=getattr(gr, "dims", type(gr).__name__))
    r = np.asarray(sc.to_unit(gr.coords["r"], "angstrom").values, dtype=float)
    return from_numpy(gr_to_sq(r, gr.values, q), {"Q": q}, name="S(Q)")
