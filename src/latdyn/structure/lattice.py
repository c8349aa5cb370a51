r"""Crystal lattices: parameters, the Cartesian matrix, the metric and the reciprocal lattice.

This is the one place where reciprocal vectors are computed: structures, diffraction, phonons,
MD boxes and instruments all call :attr:`Lattice.reciprocal_matrix`, :meth:`Lattice.q_vectors`
and :meth:`Lattice.reduced_q`.

Conventions (International Tables for Crystallography Vol. B, ch. 1.1):

* ``matrix`` holds the direct lattice vectors as **rows** (angstrom), r = x @ matrix for a
  fractional position x (row); the phonopy/ASE/spglib convention.  A lattice made from its six
  parameters has a1 along x and a2 in the xy plane; a lattice made from a matrix
  (:meth:`Lattice.from_matrix`) keeps that matrix, i.e. the Cartesian frame of its source
  (force constants, Born charges and MD positions are Cartesian tensors of that frame).
* metric tensor G_ij = a_i . a_j; reciprocal metric G* = G^-1; d_hkl = 1 / sqrt(h G* h^T).
* crystallographic reciprocal vectors a*_i (no 2 pi; rows of ``inv(matrix).T``) and the physics
  reciprocal lattice b_i = 2 pi a*_i (1/angstrom), **with the 2 pi**: a_i . b_j = 2 pi delta_ij,
  so Q(hkl) = h @ reciprocal_matrix, |Q| = 2 pi / d, and h = Q @ matrix.T / (2 pi).
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np

from ..errors import InputError

__all__ = ["Lattice"]


class Lattice:
    """A crystal lattice from its six parameters (angstrom, degrees) or a 3x3 row matrix.

    Parameters
    ----------
    a, b, c: edge lengths, angstrom.
    alpha, beta, gamma: inter-axial angles, degrees.
    """

    def __init__(self, a: float, b: float, c: float, alpha: float = 90.0, beta: float = 90.0,
                 gamma: float = 90.0, *, source: str | None = None) -> None:
        params = np.array([a, b, c, alpha, beta, gamma], dtype=float)
        names = ("a", "b", "c", "alpha", "beta", "gamma")
        for name, v in zip(names, params, strict=True):
            if not np.isfinite(v) or v <= 0:
                raise InputError("lattice parameter must be positive and finite", file=source,
                                 field=name, value=float(v))
        for name, v in zip(names[3:], params[3:], strict=True):
            if v >= 180.0:
                raise InputError("lattice angle must lie between 0 and 180 degrees", file=source,
                                 field=name, value=float(v))
        self._params = params
        ca, cb, cg = np.cos(np.deg2rad(params[3:]))
        sg = np.sin(np.deg2rad(params[5]))
        v2 = 1.0 - ca**2 - cb**2 - cg**2 + 2.0 * ca * cb * cg
        if v2 <= 1e-12:
            raise InputError("lattice angles do not form a cell of positive volume", file=source,
                             field="alpha,beta,gamma", value=tuple(params[3:]))
        a_, b_, c_ = params[:3]
        cx = c_ * cb
        cy = c_ * (ca - cb * cg) / sg
        cz = np.sqrt(max(c_**2 - cx**2 - cy**2, 0.0))
        self._standard = np.array([[a_, 0.0, 0.0], [b_ * cg, b_ * sg, 0.0], [cx, cy, cz]])
        self._standard.setflags(write=False)
        self._matrix = self._standard

    @classmethod
    def from_matrix(cls, matrix, *, source: str | None = None) -> Lattice:
        """Lattice from a 3x3 matrix whose rows are the lattice vectors (angstrom).

        The matrix is kept as given (its Cartesian frame and handedness; a left-handed set of
        vectors, as some simulation boxes are, is accepted): :attr:`matrix` is that matrix,
        and :attr:`standard_matrix` the same lattice turned to the standard orientation.
        """
        m = np.asarray(matrix, dtype=float)
        if m.shape != (3, 3) or not np.all(np.isfinite(m)):
            raise InputError("lattice matrix must be a finite 3x3 array", file=source,
                             field="matrix", value=m.shape)
        if abs(np.linalg.det(m)) <= 1e-9:
            raise InputError("lattice vectors must span a cell of non-zero volume",
                             file=source, field="matrix", value=float(np.linalg.det(m)))
        lengths = np.linalg.norm(m, axis=1)
        ang = [np.rad2deg(np.arccos(np.clip(m[j] @ m[k] / (lengths[j] * lengths[k]), -1, 1)))
               for j, k in ((1, 2), (0, 2), (0, 1))]
        lat = cls(*lengths, *ang, source=source)
        lat._matrix = m.copy()
        lat._matrix.setflags(write=False)
        return lat

    # --- direct lattice ---------------------------------------------------------------------
    @property
    def parameters(self) -> tuple[float, float, float, float, float, float]:
        """(a, b, c, alpha, beta, gamma) in angstrom and degrees."""
        return tuple(float(v) for v in self._params)

    @property
    def abc(self) -> np.ndarray:
        return self._params[:3].copy()

    @property
    def angles(self) -> np.ndarray:
        return self._params[3:].copy()

    @property
    def matrix(self) -> np.ndarray:
        """Lattice vectors as rows, angstrom (the matrix given to :meth:`from_matrix`, else the
        standard orientation)."""
        return self._matrix

    @property
    def standard_matrix(self) -> np.ndarray:
        """The lattice vectors in the standard orientation (a1 along x, a2 in the xy plane)."""
        return self._standard

    @property
    def input_matrix(self) -> np.ndarray:
        """Deprecated: :attr:`matrix` (a lattice from a matrix now keeps that matrix)."""
        warnings.warn("Lattice.input_matrix is deprecated: Lattice.matrix is the given matrix",
                      DeprecationWarning, stacklevel=2)
        return self._matrix

    @property
    def is_right_handed(self) -> bool:
        """Whether det(matrix) > 0."""
        return bool(np.linalg.det(self._matrix) > 0)

    @cached_property
    def volume(self) -> float:
        """Cell volume V = |det(matrix)|, angstrom^3."""
        return float(abs(np.linalg.det(self._matrix)))

    @cached_property
    def metric(self) -> np.ndarray:
        """G = matrix @ matrix.T, angstrom^2."""
        return self._matrix @ self._matrix.T

    # --- reciprocal lattice -----------------------------------------------------------------
    @cached_property
    def reciprocal_metric(self) -> np.ndarray:
        """G* = G^-1, 1/angstrom^2 (crystallographic, no 2 pi)."""
        return np.linalg.inv(self.metric)

    @cached_property
    def reciprocal_matrix(self) -> np.ndarray:
        """Rows b_i = 2 pi a*_i (1/angstrom), with the 2 pi: a_i . b_j = 2 pi delta_ij;
        Q = h @ reciprocal_matrix.  Read-only."""
        b = 2.0 * np.pi * np.linalg.inv(self._matrix).T
        b.setflags(write=False)
        return b

    @cached_property
    def reciprocal_lengths(self) -> np.ndarray:
        """|a*|, |b*|, |c*| (1/angstrom, crystallographic, no 2 pi)."""
        return np.sqrt(np.diag(self.reciprocal_metric))

    @property
    def reciprocal_parameters(self) -> tuple[float, ...]:
        """(a*, b*, c*, alpha*, beta*, gamma*) crystallographic (no 2 pi), 1/angstrom and degrees."""
        g = self.reciprocal_metric
        ln = self.reciprocal_lengths
        ang = [np.rad2deg(np.arccos(g[j, k] / (ln[j] * ln[k]))) for j, k in ((1, 2), (0, 2), (0, 1))]
        return tuple(float(v) for v in (*ln, *ang))

    def d_spacing(self, hkl) -> np.ndarray:
        """d = 1 / sqrt(h G* h^T) (angstrom) for Miller indices hkl (..., 3); inf for (000)."""
        h = np.asarray(hkl, dtype=float)
        s2 = np.einsum("...i,ij,...j->...", h, self.reciprocal_metric, h)
        with np.errstate(divide="ignore"):
            return 1.0 / np.sqrt(s2)

    def q_vectors(self, hkl) -> np.ndarray:
        """Cartesian Q = h @ reciprocal_matrix (1/angstrom) of reduced (h, k, l), shape (..., 3)."""
        return np.asarray(hkl, dtype=float) @ self.reciprocal_matrix

    def reduced_q(self, q_cart) -> np.ndarray:
        """Reduced (h, k, l) = Q @ matrix.T / (2 pi) of Cartesian Q (1/angstrom), shape (..., 3)."""
        return np.asarray(q_cart, dtype=float) @ self._matrix.T / (2 * np.pi)

    def plane_spacings(self) -> np.ndarray:
        """Distances between neighbouring lattice planes normal to b_1, b_2, b_3:
        2 pi / |b_i| = 1 / |a*_i| (angstrom)."""
        return 2 * np.pi / np.linalg.norm(self.reciprocal_matrix, axis=1)

    def cartesian(self, frac) -> np.ndarray:
        """Cartesian positions r = x @ matrix (angstrom) of fractional positions x."""
        return np.asarray(frac, dtype=float) @ self._matrix

    def fractional(self, cart) -> np.ndarray:
        """Fractional positions of Cartesian ones (angstrom)."""
        return np.asarray(cart, dtype=float) @ np.linalg.inv(self._matrix)

    # --- displacement tensors ---------------------------------------------------------------
    def u_cif_to_cart(self, u_cif) -> np.ndarray:
        r"""CIF U_ij (crystal axes) to Cartesian U (angstrom^2).

        U_cart = A N U_cif N A^T, A = matrix^T (columns a_i), N = diag(|a*_i|)
        (Grosse-Kunstleve and Adams, J. Appl. Cryst. 35, 477 (2002)).
        """
        a = self._matrix.T
        n = np.diag(self.reciprocal_lengths)
        return a @ n @ np.asarray(u_cif, dtype=float) @ n @ a.T

    def u_cart_to_cif(self, u_cart) -> np.ndarray:
        """Cartesian U (angstrom^2) to CIF U_ij: U_cif = N^-1 A^-1 U_cart A^-T N^-1."""
        ainv = np.linalg.inv(self._matrix.T)
        ninv = np.diag(1.0 / self.reciprocal_lengths)
        return ninv @ ainv @ np.asarray(u_cart, dtype=float) @ ainv.T @ ninv

    def __repr__(self) -> str:
        a, b, c, al, be, ga = self.parameters
        return f"Lattice(a={a:.6g}, b={b:.6g}, c={c:.6g}, alpha={al:.6g}, beta={be:.6g}, gamma={ga:.6g})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lattice) and np.allclose(self._params, other._params)

    __hash__ = None  # type: ignore[assignment]
