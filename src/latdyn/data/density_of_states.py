r"""The density of states: one type for phonon, MD, measured and thermodynamic use.

Normalisation (the only one latdyn uses).  A compound has labels k (sites, species or
elements), with n_k atoms of label k per formula unit (or per cell: the primitive cell of a
phonon calculation, the box of an MD run).  Each partial g_k(E) is in states per meV per atom
of label k, with int g_k dE = 3 (three modes per atom).  The total, in states per meV per atom,

.. math::  g(E) = \frac{\sum_k n_k\, g_k(E)}{\sum_k n_k}, \qquad \int g\, dE = 3,

and per formula unit N g(E) with N = sum_k n_k (``atoms_per_formula_unit``), integral 3N.  The
neutron-weighted (generalised) DOS of the incoherent approximation weighs each label by
sigma_k / M_k (total bound scattering cross section over mass, barn/amu;
:func:`latdyn.scattering.sigma_over_mass`):

.. math::

    g_n(E) = \frac{\sum_k n_k (\sigma_k/M_k)\, g_k(E)}{\sum_k n_k\, \sigma_k/M_k}
    \ \text{(normalised, area 3)},\qquad
    G_n(E) = \sum_k n_k (\sigma_k/M_k)\, g_k(E)\ \text{(per formula unit)}

(M. M. Koza et al., Phys. Rev. B 89, 014302 (2014); Taraskin and Elliott, Phys. Rev. B 55,
117 (1997)).  G_n is given in mbarn/meV with M_k the relative atomic mass (the number of amu),
i.e. numerically mbarn/amu per meV.

Energies are bin edges (histogram, g constant per bin) or points (meV; piecewise linear between
the points, except that a first interval starting at E = 0 with g(0) = 0 follows the acoustic
Debye law g ~ E^2).  Integrals int g(E) f(E) dE are exact for that interpolation of g up to a
Gauss-Legendre rule of order 6 on every interval (:meth:`DensityOfStates.quadrature`), so a
smooth thermal weight f is integrated to machine precision.  The quadrature weights are scaled
so that they sum to 3 per atom: a DOS whose integral is not 3 (bins that miss modes) is
rescaled for the integrals, with a warning when it is off by more than 1 %.

Reference: A. A. Maradudin et al., *Theory of Lattice Dynamics in the Harmonic Approximation*
(1971); G. Grimvall, *Thermophysical Properties of Materials* (1999), ch. 6.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ..errors import FormatError, InputError
from ..scattering import sigma_over_mass

__all__ = ["DensityOfStates", "as_density_of_states"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)
#: Relative deviation of a DOS integral from 3 per atom above which the integrals warn.
_AREA_TOLERANCE = 0.01
_WEIGHTINGS = ("none", "neutron")


def _quadrature(energy: np.ndarray, g: np.ndarray, histogram: bool) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (meV) and weights of int g(E) f(E) dE = sum weights f(nodes) (module docstring)."""
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


def _check_energy(e: np.ndarray, n_values: int, source: str | None) -> bool:
    """Validate DOS energies against ``n_values`` values; True when they are bin edges."""
    if e.ndim != 1:
        raise InputError("DOS energies and values must be 1-D", file=source, field="energy",
                         value=e.shape)
    if e.size == n_values + 1:
        histogram = True
    elif e.size == n_values:
        histogram = False
    else:
        raise InputError("DOS energies must match the values (points) or be one longer (edges)",
                         file=source, field="energy", value=(e.size, n_values))
    if e.size < 2:
        raise InputError("a DOS needs at least two energies", file=source, field="energy",
                         value=e.size)
    if not np.all(np.isfinite(e)):
        raise InputError("DOS energies must be finite", file=source, field="energy",
                         value=e[~np.isfinite(e)][0])
    return histogram


def _check_increasing(e: np.ndarray, source: str | None) -> None:
    if np.any(np.diff(e) <= 0):
        i = int(np.argmin(np.diff(e) > 0))
        raise InputError("DOS energies must be strictly increasing", file=source, field="energy",
                         value=f"index {i}: {e[i]} -> {e[i + 1]}")


def _check_physical(e: np.ndarray, g: np.ndarray, source: str | None, field_name: str) -> None:
    """What the thermodynamic integrals need: E >= 0, g finite and >= 0."""
    if np.any(e < 0):
        raise InputError("DOS energies must be >= 0 meV (remove imaginary/negative modes first)",
                         file=source, field="energy", value=float(e[e < 0][0]))
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        bad = g[~(np.isfinite(g) & (g >= 0))][0]
        raise InputError("DOS values must be finite and >= 0", file=source, field=field_name,
                         value=float(bad))


def _area(w: np.ndarray, source: str | None, field_name: str) -> float:
    area = float(w.sum())
    if not area > 0:
        raise InputError("DOS is not normalisable: its integral is zero", file=source,
                         field=field_name, value=area)
    return area


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class DensityOfStates:
    """Partial densities of states g_k(E) with the atoms n_k of each label (module docstring).

    Attributes
    ----------
    energy: (n_E,) point energies or (n_E + 1,) bin edges, meV.
    partials: (n_labels, n_E) g_k in states per meV per atom of label k (area 3 each).
    labels: one name per partial ('Na1', 'Li', 'total', ...).
    counts: n_k, atoms of each label per formula unit (or per cell, see ``per``).
    species: nuclide symbol of each label, for neutron weights ('Na', 'D', '7Li').
    masses: amu per label for the sigma/M weights, or None for the tables' masses.
    variances: (n_labels, n_E) variances of the partials (states/meV/atom)^2, or None.
    weighting: 'none', or 'neutron' when the values are already a neutron-weighted
        (generalised) DOS, as measured in the incoherent approximation.
    per: what the counts are per ('formula unit', 'primitive cell', 'MD cell').
    name: name of the total's DataArray; source: a file or producer, for messages.

    Build with :meth:`from_arrays` (any normalisation, scaled to 3 per atom by default),
    :meth:`from_dataarray`, :meth:`read` or from a producer (:func:`latdyn.phonons.phonon_dos`,
    :func:`latdyn.md.vibrational_density_of_states`, :func:`latdyn.reduce.generalized_dos`).
    """

    energy: np.ndarray
    partials: np.ndarray
    labels: tuple[str, ...]
    counts: np.ndarray
    species: tuple[str, ...]
    masses: np.ndarray | None = None
    variances: np.ndarray | None = None
    weighting: str = "none"
    per: str = "formula unit"
    name: str = "g(E)"
    source: str | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        src = self.source
        g = np.array(self.partials, dtype=float)
        if g.ndim == 1:
            g = g[None, :]
        if g.ndim != 2:
            raise InputError("partials must be (n_labels, n_E)", file=src, field="partials",
                             value=g.shape)
        e = np.array(self.energy, dtype=float)
        _check_energy(e, g.shape[1], src)
        _check_increasing(e, src)
        if not np.all(np.isfinite(g)):
            raise InputError("DOS values must be finite", file=src, field="partials",
                             value=int(np.sum(~np.isfinite(g))))
        labels = tuple(str(s) for s in self.labels)
        if len(labels) != g.shape[0] or len(set(labels)) != len(labels):
            raise InputError("one distinct label per partial is needed", file=src,
                             field="labels", value=labels)
        counts = np.array(self.counts, dtype=float).reshape(-1)
        if counts.shape != (len(labels),) or not np.all(np.isfinite(counts) & (counts > 0)):
            raise InputError("one positive atom count per label is needed", file=src,
                             field="counts", value=counts.tolist())
        species = tuple(str(s) for s in self.species)
        if len(species) != len(labels):
            raise InputError("one species per label is needed", file=src, field="species",
                             value=species)
        masses = None
        if self.masses is not None:
            masses = np.array(self.masses, dtype=float).reshape(-1)
            if masses.shape != counts.shape or not np.all(np.isfinite(masses) & (masses > 0)):
                raise InputError("one positive mass (amu) per label is needed", file=src,
                                 field="masses", value=masses.tolist())
        var = None
        if self.variances is not None:
            var = np.array(self.variances, dtype=float).reshape(g.shape) \
                if np.size(self.variances) == g.size else None
            if var is None or not np.all(np.isfinite(var) & (var >= 0)):
                raise InputError("variances must be finite, >= 0 and shaped like the partials",
                                 file=src, field="variances", value=np.shape(self.variances))
        if self.weighting not in _WEIGHTINGS:
            raise InputError(f"weighting must be one of {_WEIGHTINGS}", file=src,
                             field="weighting", value=self.weighting)
        for name, value in (("energy", _readonly(e)), ("partials", _readonly(g)),
                            ("labels", labels), ("counts", _readonly(counts)),
                            ("species", species),
                            ("masses", None if masses is None else _readonly(masses)),
                            ("variances", None if var is None else _readonly(var))):
            object.__setattr__(self, name, value)

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, energy: Any, g: Any, *, labels: Sequence[str] | None = None,
                    counts: Sequence[float] | None = None, species: Sequence[str] | None = None,
                    masses: Sequence[float] | None = None, errors: Any = None,
                    variances: Any = None, normalise: bool = True, weighting: str = "none",
                    per: str = "formula unit", name: str = "g(E)",
                    source: str | None = None) -> DensityOfStates:
        """A DOS from numpy arrays.

        Parameters
        ----------
        energy: points or bin edges (meV).
        g: one DOS (n_E,) or partials (n_labels, n_E), in any normalisation when
            ``normalise``, else in states per meV per atom of each label.
        labels: names of the partials (default 'total' for one DOS); counts: atoms per
            formula unit of each label (default 1); species: nuclide symbols (default the
            labels); masses: amu per label (default the tables' masses); errors: standard
            deviations shaped like ``g``, or their squares as ``variances``.
        normalise: scale each partial to int g_k dE = 3 with the quadrature of the module
            docstring; that needs E >= 0 and g >= 0 (InputError otherwise, and for a zero
            integral), as the thermodynamic integrals do.
        """
        e = np.asarray(energy, dtype=float)
        gv = np.asarray(g, dtype=float)
        single = gv.ndim == 1
        if gv.ndim not in (1, 2):
            raise InputError("DOS energies and values must be 1-D", file=source, field="g",
                             value=gv.shape)
        g2 = gv[None, :] if single else gv
        histogram = _check_energy(e, g2.shape[1], source)
        if errors is not None and variances is not None:
            raise InputError("give errors or variances, not both", file=source, field="errors")
        var = None if variances is None else np.asarray(variances, dtype=float)
        if errors is not None:
            var = np.asarray(errors, dtype=float) ** 2
        if var is not None and var.size != g2.size:
            raise InputError("errors must be shaped like the values", file=source,
                             field="errors", value=(var.shape, g2.shape))
        var = None if var is None else var.reshape(g2.shape)
        cache = {}
        if normalise:
            if np.any(e < 0):
                _check_physical(e, g2, source, "g")
            _check_increasing(e, source)
            scales = []
            for row in g2:
                _check_physical(e, row, source, "g")
                nodes, w = _quadrature(e, row, histogram)
                scales.append(3.0 / _area(w, source, "g"))
                if single:
                    cache[None] = (nodes, w * scales[-1])
            g2 = np.array([row * f for row, f in zip(g2, scales, strict=True)])
            if var is not None:
                var = var * np.array(scales)[:, None] ** 2
        n = g2.shape[0]
        labels = ("total",) if labels is None and n == 1 else labels
        if labels is None:
            raise InputError("labels are needed for several partials", file=source,
                             field="labels", value=n)
        counts = np.ones(n) if counts is None else counts
        species = tuple(labels) if species is None else species
        out = cls(e, g2, tuple(labels), counts, tuple(species), masses, var, weighting, per,
                  name, source)
        out._cache.update(cache)
        return out

    @classmethod
    def from_dataarray(cls, da: sc.DataArray, *, normalise: bool = True,
                       source: str | None = None) -> DensityOfStates:
        """A DOS from a DataArray with dim 'E' (one DOS) or dims ('label', 'E') as written by
        :meth:`to_dataarray` (coords 'count', 'species', optional 'mass', scalar 'weighting'
        and 'per').  Energies are converted to meV; with ``normalise`` (see
        :meth:`from_arrays`) the values may have any unit, without it they are converted to
        1/meV.  Variances are kept."""
        if not isinstance(da, sc.DataArray):
            raise InputError("give energies and DOS values, or a DataArray with dim 'E'",
                             file=source, field="g", value=type(da).__name__)
        src = source or da.name or None
        if da.dims not in (("E",), ("label", "E")):
            raise InputError("a DOS DataArray must have the single dim 'E' or dims ('label', "
                             "'E')", file=src, field="dims", value=da.dims)
        if "E" not in da.coords:
            raise InputError("a DOS DataArray needs an 'E' coordinate", file=src, field="E")
        try:
            e = np.asarray(sc.to_unit(da.coords["E"], "meV").values, dtype=float)
        except Exception as exc:
            raise InputError(f"energy unit '{da.coords['E'].unit}' is not an energy", file=src,
                             field="E", value=str(da.coords["E"].unit)) from exc
        data = da.data
        if not normalise:
            try:
                data = sc.to_unit(data, "1/meV")
            except Exception as exc:
                raise InputError(f"DOS unit '{data.unit}' is not 1/energy", file=src,
                                 field="unit", value=str(data.unit)) from exc
        values = np.asarray(data.values, dtype=float)
        scalar = {k: str(da.coords[k].value) for k in ("weighting", "per")
                  if k in da.coords and da.coords[k].ndim == 0}
        kw: dict[str, Any] = {}
        if da.dims == ("label", "E"):
            for c in ("label", "count", "species"):
                if c not in da.coords:
                    raise InputError(f"a partial-DOS DataArray needs a '{c}' coordinate",
                                     file=src, field=c)
            kw = {"labels": [str(s) for s in da.coords["label"].values],
                  "counts": np.asarray(da.coords["count"].values, dtype=float),
                  "species": [str(s) for s in da.coords["species"].values],
                  "masses": (np.asarray(sc.to_unit(da.coords["mass"], "amu").values,
                                        dtype=float) if "mass" in da.coords else None)}
        return cls.from_arrays(e, values, variances=data.variances, normalise=normalise,
                               name=da.name or "g(E)", source=src, **scalar, **kw)

    # --- basic properties --------------------------------------------------------------------
    @property
    def histogram(self) -> bool:
        """True when ``energy`` holds bin edges."""
        return self.energy.size == self.partials.shape[1] + 1

    @property
    def atoms_per_formula_unit(self) -> float:
        """N = sum_k n_k."""
        return float(np.sum(self.counts))

    @property
    def fractions(self) -> np.ndarray:
        """Atomic fractions c_k = n_k / N of the labels."""
        return self.counts / self.atoms_per_formula_unit

    @property
    def g(self) -> np.ndarray:
        """The total g(E) (states/meV/atom) as a numpy array, one per point or bin."""
        if "g" not in self._cache:
            if len(self.labels) == 1:
                g = self.partials[0]
            else:
                g = self.counts @ self.partials / self.atoms_per_formula_unit
            self._cache["g"] = _readonly(g)
        return self._cache["g"]

    def __repr__(self) -> str:
        kind = "edges" if self.histogram else "points"
        return (f"DensityOfStates({self.name!r}, {len(self.labels)} labels {list(self.labels)}, "
                f"{self.atoms_per_formula_unit:g} atoms per {self.per}, "
                f"E {self.energy[0]:g}..{self.energy[-1]:g} meV ({self.energy.size} {kind}), "
                f"weighting {self.weighting!r})")

    def _index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise InputError(f"no partial DOS '{label}'; labels are {list(self.labels)}",
                             file=self.source, field="label", value=label) from None

    # --- views (DataArrays with units) -------------------------------------------------------
    def _dataarray(self, coefficients: np.ndarray, unit: str | sc.Unit,
                   name: str) -> sc.DataArray:
        """sum_k c_k g_k as a DataArray over E, variances sum_k c_k^2 var_k."""
        values = coefficients @ self.partials
        var = None if self.variances is None else (coefficients**2) @ self.variances
        return self._wrap(values, var, unit, name)

    def _wrap(self, values: np.ndarray, var: np.ndarray | None, unit: str | sc.Unit,
              name: str) -> sc.DataArray:
        data = sc.array(dims=["E"], values=np.array(values, dtype=float),
                        variances=None if var is None else np.array(var, dtype=float), unit=unit)
        return sc.DataArray(data, coords={"E": sc.array(dims=["E"], values=np.array(self.energy),
                                                        unit="meV")}, name=name)

    @property
    def total(self) -> sc.DataArray:
        """g(E) = sum_k n_k g_k / N in 1/meV (states per meV per atom, area 3)."""
        var = None
        if self.variances is not None:
            var = (self.fractions**2) @ self.variances
        return self._wrap(self.g, var, "1/meV", self.name)

    def partial(self, label: str, *, per_formula_unit: bool = False) -> sc.DataArray:
        """g_k(E) of one label in 1/meV per atom of that label (area 3), or n_k g_k(E) per
        formula unit (area 3 n_k)."""
        k = self._index(label)
        n = self.counts[k] if per_formula_unit else 1.0
        var = None if self.variances is None else n**2 * self.variances[k]
        return self._wrap(n * self.partials[k], var, "1/meV", f"g {label}(E)")

    def per_formula_unit(self) -> sc.DataArray:
        """N g(E) = sum_k n_k g_k in 1/meV per formula unit (area 3 N)."""
        return self._dataarray(self.counts, "1/meV", f"{self.name} per {self.per}")

    def weighted(self, weights: Mapping[str, float] | Sequence[float], *, normalise: bool = True,
                 unit: str = "dimensionless", name: str = "weighted g(E)") -> sc.DataArray:
        """sum_k n_k w_k g_k / sum_k n_k w_k (1/meV, area 3) or, without ``normalise``,
        sum_k n_k w_k g_k per formula unit (``unit`` of the weights per meV)."""
        if isinstance(weights, Mapping):
            missing = [s for s in self.labels if s not in weights]
            if missing:
                raise InputError("a weight is needed for every label", file=self.source,
                                 field="weights", value=missing)
            w = np.array([float(weights[s]) for s in self.labels])
        else:
            w = np.asarray(weights, dtype=float).reshape(-1)
            if w.shape != self.counts.shape:
                raise InputError(f"one weight per label is needed ({len(self.labels)})",
                                 file=self.source, field="weights", value=w.shape)
        if not np.all(np.isfinite(w) & (w >= 0)):
            raise InputError("weights must be finite and >= 0", file=self.source,
                             field="weights", value=w.tolist())
        c = self.counts * w
        if normalise:
            norm = float(np.sum(c))
            if not norm > 0:
                raise InputError("the weights are all zero", file=self.source, field="weights",
                                 value=w.tolist())
            return self._dataarray(c / norm, "1/meV", name)
        return self._dataarray(c, sc.Unit(unit) / sc.Unit("meV"), name)

    def neutron_weights(self, table: str = "sears", kind: str = "total") -> np.ndarray:
        """sigma_k / M_k per label (barn/amu): :func:`latdyn.scattering.sigma_over_mass` of the
        species, with this DOS's masses when it has them."""
        if self.weighting == "neutron":
            raise InputError("this DOS is already neutron-weighted", file=self.source,
                             field="weighting", value=self.weighting)
        return sigma_over_mass(self.species, masses=self.masses, kind=kind, table=table)

    def neutron_weighted(self, table: str = "sears", *, normalise: bool = True,
                         kind: str = "total") -> sc.DataArray:
        """The neutron-weighted DOS (module formula): normalised g_n in 1/meV (area 3), or
        G_n = sum_k n_k (sigma_k/M_k) g_k per formula unit in mbarn/meV (M in amu as a pure
        number; scipp prints the unit as barn/eV).  ``kind``: 'total' (sigma_coh + sigma_inc),
        'coherent' or 'incoherent'."""
        w = self.neutron_weights(table, kind)
        if normalise:
            return self.weighted(w, name="g_n(E)")
        return self.weighted(w * 1e3, normalise=False, unit="mbarn", name="g_n(E)")

    def by_species(self) -> DensityOfStates:
        """The partials summed per species: g_s = sum_{k in s} n_k g_k / n_s, n_s = sum n_k."""
        order = list(dict.fromkeys(self.species))
        rows, var_rows, counts, masses = [], [], [], []
        for s in order:
            idx = [k for k, sp in enumerate(self.species) if sp == s]
            n = self.counts[idx]
            counts.append(float(np.sum(n)))
            rows.append(n @ self.partials[idx] / counts[-1])
            if self.variances is not None:
                var_rows.append((n**2) @ self.variances[idx] / counts[-1] ** 2)
            if self.masses is not None:
                m = self.masses[idx]
                if np.any(np.abs(m - m[0]) > 1e-9 * m[0]):
                    raise InputError(f"labels of species '{s}' have different masses",
                                     file=self.source, field="masses", value=m.tolist())
                masses.append(float(m[0]))
        return DensityOfStates(self.energy, np.array(rows), tuple(order), counts, tuple(order),
                               masses if self.masses is not None else None,
                               np.array(var_rows) if var_rows else None, self.weighting,
                               self.per, self.name, self.source)

    # --- deprecated per-cell dictionaries (the former PhononDOS) -----------------------------
    @property
    def sites(self) -> dict[str, sc.DataArray]:
        """Deprecated: n_k g_k per label (1/meV per formula unit); use :meth:`partial`."""
        warnings.warn("DensityOfStates.sites is deprecated: use partial(label) (per atom) or "
                      "partial(label, per_formula_unit=True)", DeprecationWarning, stacklevel=2)
        return {lab: self._wrap(self.counts[k] * self.partials[k], None, "1/meV",
                                f"g {lab}(E)")
                for k, lab in enumerate(self.labels)}

    @property
    def elements(self) -> dict[str, sc.DataArray]:
        """Deprecated: sum over the labels of each species of n_k g_k (1/meV per formula unit);
        use :meth:`by_species`."""
        warnings.warn("DensityOfStates.elements is deprecated: use by_species().partial(s)",
                      DeprecationWarning, stacklevel=2)
        out = {}
        for s in dict.fromkeys(self.species):
            v = sum(self.counts[k] * self.partials[k] for k in range(len(self.labels))
                    if self.species[k] == s)
            out[s] = self._wrap(v, None, "1/meV", f"g {s}(E)")
        return out

    # --- integrals ---------------------------------------------------------------------------
    def integral(self, label: str | None = None) -> float:
        """int g dE of the total (or of one partial) as stored, states per atom (3 ideally)."""
        g = self.g if label is None else self.partials[self._index(label)]
        if self.histogram:
            return float(np.sum(g * np.diff(self.energy)))
        return float(_quadrature(self.energy, g, False)[1].sum())

    def quadrature(self, label: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nodes (meV) and weights (states per atom, summing to 3) such that
        int g(E) f(E) dE = sum_i weights_i f(nodes_i), for the total or one partial.

        Needs energies >= 0 and a positive integral (InputError otherwise); warns when the
        stored integral differs from 3 by more than 1 % (it is rescaled to 3).
        """
        if label not in self._cache:
            g = self.g if label is None else self.partials[self._index(label)]
            field_name = "g" if label is None else f"g {label}"
            if np.any(self.energy < 0):
                _check_physical(self.energy, g, self.source, field_name)
            nodes, w = _quadrature(self.energy, g, self.histogram)
            area = _area(w, self.source, field_name)
            if abs(area / 3.0 - 1.0) > _AREA_TOLERANCE:
                warnings.warn(f"DOS {self.name!r}{'' if label is None else ' ' + label}: "
                              f"integral {area:.5g} states per atom instead of 3 (energy range "
                              "missing modes?); rescaled to 3 for the integrals", stacklevel=3)
            self._cache[label] = (nodes, w * (3.0 / area))
        return self._cache[label]

    @property
    def nodes(self) -> np.ndarray:
        """Quadrature nodes of the total (meV)."""
        return self.quadrature()[0]

    @property
    def weights(self) -> np.ndarray:
        """Quadrature weights of the total (states per atom, sum 3)."""
        return self.quadrature()[1]

    def integrate(self, f: Callable[[np.ndarray], Any], label: str | None = None) -> np.ndarray:
        """int g(E) f(E) dE for a vectorised f(E_nodes) -> array (..., n_nodes)."""
        nodes, w = self.quadrature(label)
        return np.asarray(f(nodes)) @ w

    def moment(self, n: float, label: str | None = None) -> float:
        """<E^n> = int E^n g dE / int g dE (meV^n) of the total or a partial; n > -3 for a
        DOS that starts as E^2."""
        return float(self.integrate(lambda e: e**n, label) / 3.0)

    @property
    def mean_energy(self) -> float:
        """Phonon band centre <E> = int E g(E) dE / int g(E) dE (meV)."""
        return self.moment(1.0)

    # --- scipp and files ---------------------------------------------------------------------
    def to_dataarray(self) -> sc.DataArray:
        """All partials as one DataArray, dims ('label', 'E'), values g_k in 1/meV per atom of
        each label, variances when known; coords 'E' (meV; edges or points), 'label',
        'count' (atoms per formula unit), 'species', 'mass' (amu, when set) and the scalars
        'weighting' and 'per'.  :meth:`from_dataarray` reads it back unchanged."""
        data = sc.array(dims=["label", "E"], values=np.array(self.partials),
                        variances=None if self.variances is None else np.array(self.variances),
                        unit="1/meV")
        coords = {"E": sc.array(dims=["E"], values=np.array(self.energy), unit="meV"),
                  "label": sc.array(dims=["label"], values=list(self.labels)),
                  "count": sc.array(dims=["label"], values=np.array(self.counts),
                                    unit="dimensionless"),
                  "species": sc.array(dims=["label"], values=list(self.species)),
                  "weighting": sc.scalar(self.weighting), "per": sc.scalar(self.per)}
        if self.masses is not None:
            coords["mass"] = sc.array(dims=["label"], values=np.array(self.masses),
                                      unit="amu")
        return sc.DataArray(data, coords=coords, name=self.name)

    def write(self, path: str | Path, *, inputs: Sequence[str | Path] = (),
              command: str | None = None) -> Path:
        """Write to a latdyn results HDF5 file (docs/data-io.md): the DataArray of
        :meth:`to_dataarray` as entry 'density_of_states', provenance included.  Atomic."""
        from .io.results_h5 import Results, write_results_h5

        res = Results(data={"density_of_states": self.to_dataarray()},
                      metadata={"density_of_states": {
                          "name": self.name,
                          "normalisation": "g_k: states per meV per atom of label k, area 3",
                          "atoms_per_formula_unit": self.atoms_per_formula_unit,
                          "source": self.source}})
        return write_results_h5(path, res, inputs=inputs, command=command)

    @classmethod
    def read(cls, path: str | Path) -> DensityOfStates:
        """Read a DOS written by :meth:`write` (or any results file with one
        'density_of_states' entry)."""
        from .io.results_h5 import read_results_h5

        res = read_results_h5(path)
        if "density_of_states" not in res.data:
            raise FormatError("no 'density_of_states' entry in the results file", file=path,
                              field="/data", value=sorted(res.data))
        da = res.data["density_of_states"]
        da.name = str(res.metadata.get("density_of_states", {}).get("name", "g(E)"))
        return cls.from_dataarray(da, normalise=False, source=str(path))


def as_density_of_states(dos: Any, g: Any = None, *, source: str | None = None
                         ) -> DensityOfStates:
    """What a consumer of a DOS (thermodynamics, multiphonon) accepts, as a DensityOfStates.

    ``dos``: a :class:`DensityOfStates` (returned as it is, after checking E >= 0 and g >= 0),
    a DataArray (see :meth:`DensityOfStates.from_dataarray`), an (energies, values) pair, or
    energies with the values in ``g``; arrays and DataArrays in any normalisation are scaled to
    3 states per atom.  Raises InputError for negative energies or values, too few points,
    or a zero integral.
    """
    if isinstance(dos, DensityOfStates):
        if g is not None:
            raise InputError("give a DensityOfStates alone", file=source, field="g")
        _check_physical(dos.energy, dos.g, source or dos.source, "g")
        return dos
    if g is None and isinstance(dos, tuple) and len(dos) == 2:
        dos, g = dos
    if g is None:
        return DensityOfStates.from_dataarray(dos, source=source)
    return DensityOfStates.from_arrays(dos, g, source=source)
