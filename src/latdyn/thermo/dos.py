r"""A phonon density of states g(E) prepared for thermodynamic integrals.

A DOS is given on energies E (meV, >= 0) as point samples (interpreted as piecewise linear
between the points, except that a first interval starting at E = 0 with g(0) = 0 follows
the Debye law g ~ E^2 of acoustic phonons) or as a histogram (bin edges, constant per bin).
It is normalised to 3 states per atom, int g(E) dE = 3, so that integrals of per-mode functions f(E, T),

.. math::  X(T) = N_A \int_0^\infty g(E)\, f(E, T)\, dE,

give molar quantities per mole of atoms (multiply by the atoms per formula unit for a mole of
formula units).  Integrals are evaluated exactly for the interpolated g(E) up to the
Gauss-Legendre rule of order 6 on every interval, so a smooth thermal weight f is integrated to
machine precision and the only approximation is the interpolation of g itself.

Reference: A. A. Maradudin et al., *Theory of Lattice Dynamics in the Harmonic Approximation*
(1971); G. Grimvall, *Thermophysical Properties of Materials* (1999), ch. 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["DOS", "as_dos"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)
_MAX_CHUNK = 2_000_000


@dataclass(frozen=True)
class DOS:
    """A density of states normalised to 3 per atom.

    Attributes
    ----------
    energy: sample energies (meV), or bin edges when ``histogram``.
    g: states per meV per atom (sum rule int g dE = 3), one per point or per bin.
    histogram: True when ``energy`` holds bin edges.
    nodes, weights: quadrature nodes (meV) and weights (states per atom) such that
        int g(E) f(E) dE = sum_k weights_k f(nodes_k) for any smooth f.
    """

    energy: np.ndarray
    g: np.ndarray
    histogram: bool
    nodes: np.ndarray
    weights: np.ndarray

    def integrate(self, f) -> np.ndarray:
        """int g(E) f(E) dE for a vectorised f(E_nodes) -> array (..., n_nodes)."""
        return np.asarray(f(self.nodes)) @ self.weights

    def moment(self, n: float) -> float:
        """<E^n> = int E^n g dE / int g dE (meV^n); n > -3 for a DOS that starts as E^2."""
        return float(self.integrate(lambda e: e**n) / 3.0)

    @property
    def mean_energy(self) -> float:
        """Phonon band centre <E> = int E g(E) dE / int g(E) dE (meV)."""
        return self.moment(1.0)


def _quadrature(energy: np.ndarray, g: np.ndarray, histogram: bool) -> tuple[np.ndarray, np.ndarray]:
    a, b = energy[:-1], energy[1:]
    half = 0.5 * (b - a)
    mid = 0.5 * (b + a)
    nodes = mid[:, None] + half[:, None] * _GL_X[None, :]
    w = half[:, None] * _GL_W[None, :]
    if histogram:
        gn = np.broadcast_to(g[:, None], nodes.shape)
    else:
        t = (_GL_X[None, :] + 1.0) / 2.0
        gn = g[:-1, None] * (1.0 - t) + g[1:, None] * t
        if energy[0] == 0.0 and g[0] == 0.0:
            gn[0] = g[1] * t[0] ** 2  # acoustic (Debye) law g ~ E^2 in the first interval
    return nodes.ravel(), (w * gn).ravel()


def as_dos(energy: Any, g: Any = None, *, source: str | None = None) -> DOS:
    """Validate a DOS and normalise it to 3 states per atom.

    Parameters
    ----------
    energy: energies in meV (points, or bin edges one longer than ``g``), or a scipp DataArray
        with dim 'E' (its unit converted to meV); then ``g`` must be None.  A :class:`DOS` is
        returned as it is.
    g: the DOS values (any normalisation), >= 0 and finite.
    source: name used in error messages (a file name, say).

    Raises InputError for negative energies (imaginary modes must be removed first), negative
    or non-finite g, too few points, or a DOS whose integral is zero (not normalisable).
    """
    if isinstance(energy, DOS):
        return energy
    if g is None:
        try:
            import scipp as sc
        except ImportError:  # pragma: no cover
            sc = None
        if sc is None or not isinstance(energy, sc.DataArray):
            raise InputError("give energies and DOS values, or a DataArray with dim 'E'",
                             file=source, field="g", value=None, has_value=True)
        da = energy
        if da.dims != ("E",):
            raise InputError("a DOS DataArray must have the single dim 'E'", file=source,
                             field="dims", value=da.dims)
        e = np.asarray(sc.to_unit(da.coords["E"], "meV").values, dtype=float)
        gv = np.asarray(da.values, dtype=float)
    else:
        e = np.asarray(energy, dtype=float)
        gv = np.asarray(g, dtype=float)
    if e.ndim != 1 or gv.ndim != 1:
        raise InputError("DOS energies and values must be 1-D", file=source, field="energy",
                         value=(e.shape, gv.shape))
    if e.size == gv.size + 1:
        histogram = True
    elif e.size == gv.size:
        histogram = False
    else:
        raise InputError("DOS energies must match the values (points) or be one longer (edges)",
                         file=source, field="energy", value=(e.size, gv.size))
    if e.size < 2:
        raise InputError("a DOS needs at least two energies", file=source, field="energy",
                         value=e.size)
    if not np.all(np.isfinite(e)):
        raise InputError("DOS energies must be finite", file=source, field="energy",
                         value=e[~np.isfinite(e)][0])
    if np.any(e < 0):
        raise InputError("DOS energies must be >= 0 meV (remove imaginary/negative modes first)",
                         file=source, field="energy", value=float(e[e < 0][0]))
    if np.any(np.diff(e) <= 0):
        i = int(np.argmin(np.diff(e) > 0))
        raise InputError("DOS energies must be strictly increasing", file=source, field="energy",
                         value=f"index {i}: {e[i]} -> {e[i + 1]}")
    if not np.all(np.isfinite(gv)) or np.any(gv < 0):
        bad = gv[~(np.isfinite(gv) & (gv >= 0))][0]
        raise InputError("DOS values must be finite and >= 0", file=source, field="g",
                         value=float(bad))
    nodes, w = _quadrature(e, gv, histogram)
    area = float(w.sum())
    if not area > 0:
        raise InputError("DOS is not normalisable: its integral is zero", file=source,
                         field="g", value=area)
    scale = 3.0 / area
    return DOS(energy=e, g=gv * scale, histogram=histogram, nodes=nodes, weights=w * scale)


def chunks(n_rows: int, n_cols: int):
    """Slices over rows that keep row-block x columns below a bounded number of elements."""
    step = max(1, _MAX_CHUNK // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))
