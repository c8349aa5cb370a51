r"""One protocol for every fit in latdyn: parameters, statistics, convergence, datasets.

Every fit result (QENS spectra and Q models, phonon peaks, ADPs, Arrhenius, resolution
shapes, ...) is a :class:`FitResult`: a list of :class:`Parameter` (value, standard error,
unit, bounds), the covariance of the varied parameters, and one set of statistics for a
least-squares fit with chi^2 over n data points and k varied parameters:

.. math::

    \chi^2_\nu = \chi^2 / (n - k),\qquad
    \mathrm{AIC} = \chi^2 + 2k,\qquad
    \mathrm{BIC} = \chi^2 + k \ln n

(Akaike 1974; Schwarz 1978; with Gaussian errors -2 ln L = chi^2 + const, the constant
cancelling between models fitted to the same data; n - k and n are floored at 1).

``converged`` is False, with the reasons in ``reasons``, when the optimiser stopped on its
evaluation limit or reported a failure, when the covariance is singular or not finite, or
when a varied parameter sits at one of its bounds (:func:`diagnose`).  A result is never
reported as a plain number when one of these holds.

A converged fit can still give values not to be trusted: :meth:`FitResult.implausible`
(:func:`implausible_values`) lists a varied parameter without a finite standard error, a
physical value (``significant``: an energy, a width, an area, D, E_a) whose error is larger
than the value itself, and a width or peak position outside the energy window of the data
(``widths``, ``positions``, ``data_window``).  The command line prints each reason and each
implausible value as a warning; the JSON and files carry them (``statistics()['implausible']``).
"""

from __future__ import annotations

import fnmatch
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["Parameter", "FitResult", "FitStatistics", "Quantity", "Quantities", "Solution",
           "solve", "diagnose", "implausible_values", "select_model", "reduced_chi2", "aic", "bic",
           "at_bound", "lmfit_outcome", "covariance_of", "scaled_covariance"]


def reduced_chi2(chi2: float, n_points: int, n_varied: int) -> float:
    """chi^2 / (n - k); n - k is floored at 1."""
    return float(chi2) / max(int(n_points) - int(n_varied), 1)


def aic(chi2: float, n_varied: int) -> float:
    """Akaike information criterion chi^2 + 2k."""
    return float(chi2) + 2.0 * int(n_varied)


def bic(chi2: float, n_points: int, n_varied: int) -> float:
    """Bayesian information criterion chi^2 + k ln n (n floored at 1)."""
    return float(chi2) + int(n_varied) * float(np.log(max(int(n_points), 1)))


def at_bound(value: float, lower: float, upper: float, rtol: float = 1e-6) -> str | None:
    """'lower' or 'upper' when ``value`` sits on that (finite) bound, else None.

    A value counts as on the bound within rtol of the larger of |bound| and the bound span
    (or rtol absolute when both are zero)."""
    span = (upper - lower) if math.isfinite(lower) and math.isfinite(upper) else 0.0
    for side, b in (("lower", lower), ("upper", upper)):
        if math.isfinite(b):
            tol = rtol * max(abs(b), abs(span), abs(value) if b == 0 else 0.0, 1e-300)
            if b == 0 and value == 0:
                return side
            if abs(value - b) <= tol:
                return side
    return None


@dataclass(frozen=True)
class Parameter:
    """A fitted (or fixed) parameter: value and standard error in ``unit`` (a scipp unit
    string, '' for dimensionless), its bounds and whether it was varied."""

    name: str
    value: float
    error: float = float("nan")
    unit: str = ""
    vary: bool = True
    min: float = -math.inf
    max: float = math.inf

    @property
    def bound(self) -> str | None:
        """'lower'/'upper' when a varied parameter sits on that bound, else None."""
        return at_bound(self.value, self.min, self.max) if self.vary else None

    def as_dict(self) -> dict[str, Any]:
        """value, error, unit (and vary, min, max) as plain JSON-able values."""
        return {"value": _finite(self.value), "error": _finite(self.error), "unit": self.unit,
                "vary": self.vary, "min": _finite(self.min), "max": _finite(self.max)}


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def diagnose(*, parameters: Iterable[Parameter], covariance: np.ndarray | None,
             stopped_on_limit: bool = False, optimiser_ok: bool = True, message: str = "",
             expect_covariance: bool = True) -> list[str]:
    """Reasons not to trust a fit (an empty list when it converged cleanly).

    stopped_on_limit: the optimiser ran out of function evaluations.
    optimiser_ok: the optimiser reported success.
    covariance: of the varied parameters; None, non-finite or with a negative diagonal means
        the errors are unknown (a parameter with no effect on the data, or a degenerate model).
    """
    reasons: list[str] = []
    if stopped_on_limit:
        reasons.append("the optimiser stopped on its evaluation limit" + (f" ({message})" if message else ""))
    elif not optimiser_ok:
        reasons.append("the optimiser reported a failure" + (f": {message}" if message else ""))
    if expect_covariance:
        if covariance is None:
            reasons.append("the covariance is singular: no uncertainties (a parameter has no effect "
                           "on the data, or two are fully correlated)")
        else:
            c = np.asarray(covariance, dtype=float)
            if c.size and (not np.all(np.isfinite(c)) or np.any(np.diag(c) < 0)):
                reasons.append("the covariance is not finite: no reliable uncertainties")
    for p in parameters:
        side = p.bound
        if side is not None:
            b = p.min if side == "lower" else p.max
            reasons.append(f"{p.name} = {p.value:.6g} sits at its {side} bound {b:.6g}")
    return reasons


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def implausible_values(parameters: Iterable[Parameter], *, significant: Iterable[str] = (),
                       widths: Iterable[str] = (), positions: Iterable[str] = (),
                       window: tuple[float, float] | None = None) -> list[str]:
    """Reasons not to trust the values of a fit even when it converged (empty when none).

    - a varied parameter whose standard error is NaN or infinite;
    - a varied parameter matching ``significant`` (fnmatch patterns: energies, widths, areas,
      D, E_a: values that must differ from zero) whose error is larger than its magnitude;
    - with the data's energy ``window`` (lo, hi): a varied width (``widths``) larger than the
      window's span, or a position (``positions``) outside the window.
    """
    significant, widths, positions = tuple(significant), tuple(widths), tuple(positions)
    out: list[str] = []
    for p in parameters:
        if not p.vary:
            continue
        unit = f" {p.unit}" if p.unit and p.unit != "dimensionless" else ""
        if not math.isfinite(p.error):
            out.append(f"{p.name} = {p.value:.4g}{unit} has no finite uncertainty")
        elif _matches(p.name, significant) and p.error > abs(p.value):
            out.append(f"{p.name} = {p.value:.4g}{unit} with an error of {p.error:.2g}{unit}: the "
                       "error is larger than the value (not determined by the data)")
        if window is None:
            continue
        lo, hi = float(window[0]), float(window[1])
        if _matches(p.name, widths) and abs(p.value) > hi - lo:
            out.append(f"{p.name} = {p.value:.4g}{unit} is wider than the data window "
                       f"{lo:.4g} to {hi:.4g}{unit}")
        if _matches(p.name, positions) and not lo <= p.value <= hi:
            out.append(f"{p.name} = {p.value:.4g}{unit} lies outside the data window "
                       f"{lo:.4g} to {hi:.4g}{unit}")
    return out


def lmfit_outcome(result) -> tuple[bool, bool, str]:
    """(stopped on the evaluation limit, optimiser reported success, message) of an lmfit
    MinimizerResult (MINPACK's ier = 5 or a 'max...' message means the limit stopped it)."""
    msg = str(getattr(result, "message", ""))
    low = (msg + " " + str(getattr(result, "lmdif_message", ""))).lower()
    limit = bool(getattr(result, "aborted", False)) or getattr(result, "ier", None) == 5 \
        or "maxfev" in low or "max_nfev" in low or "number of calls to function" in low
    if limit:
        msg = f"stopped after {getattr(result, 'nfev', '?')} function evaluations"
    return limit, bool(getattr(result, "success", False)) and not limit, msg


class FitStatistics:
    """Statistics shared by every fit result with ``chi2``, ``n_points`` and ``n_varied``."""

    chi2: float
    n_points: int
    n_varied: int

    @property
    def reduced_chi2(self) -> float:
        return reduced_chi2(self.chi2, self.n_points, self.n_varied)

    @property
    def aic(self) -> float:
        return aic(self.chi2, self.n_varied)

    @property
    def bic(self) -> float:
        return bic(self.chi2, self.n_points, self.n_varied)

    # deprecated lmfit-style names (one release)
    @property
    def redchi(self) -> float:
        _deprecated("redchi", "reduced_chi2")
        return self.reduced_chi2

    @property
    def ndata(self) -> int:
        _deprecated("ndata", "n_points")
        return self.n_points

    @property
    def nvarys(self) -> int:
        _deprecated("nvarys", "n_varied")
        return self.n_varied


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"'{old}' is deprecated; use '{new}'", DeprecationWarning, stacklevel=3)


class FitResult(FitStatistics):
    """The protocol of every fit result.

    Subclasses provide ``parameters`` (a sequence of :class:`Parameter`), ``chi2``,
    ``n_points``, ``n_varied``, ``covariance`` (varied parameters, in the order of
    ``covariance_names``; None when unknown) and ``reasons`` (see :func:`diagnose`).
    """

    parameters: Sequence[Parameter]
    covariance: np.ndarray | None
    covariance_names: Sequence[str]
    reasons: Sequence[str]

    #: fnmatch patterns of the parameters whose value must be significant, the widths and
    #: the peak positions that must fit in :meth:`data_window` (:func:`implausible_values`)
    significant: tuple[str, ...] = ()
    widths: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        """True when no reason not to trust the fit was found (``reasons`` is empty)."""
        return not self.reasons

    def data_window(self) -> tuple[float, float] | None:
        """The (lo, hi) range of the fitted data's x axis, in the unit of the widths and
        positions; None when the fit has no such axis."""
        return None

    def implausible(self) -> list[str]:
        """Values of a (converged or not) fit not to be trusted (:func:`implausible_values`)."""
        return implausible_values(self.parameters, significant=self.significant, widths=self.widths,
                                  positions=self.positions, window=self.data_window())
    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (KeyError naming the known ones otherwise)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"no parameter '{name}'; the fit has {[p.name for p in self.parameters]}")

    @property
    def correlation(self) -> np.ndarray | None:
        """Correlation matrix of the varied parameters (order ``covariance_names``)."""
        if self.covariance is None:
            return None
        c = np.asarray(self.covariance, dtype=float)
        sd = np.sqrt(np.clip(np.diag(c), 0, None))
        with np.errstate(invalid="ignore", divide="ignore"):
            return c / np.outer(sd, sd)

    def statistics(self) -> dict[str, Any]:
        """chi2, reduced_chi2, aic, bic, n_points, n_varied, converged, reasons, implausible."""
        return {"chi2": float(self.chi2), "reduced_chi2": self.reduced_chi2, "aic": self.aic,
                "bic": self.bic, "n_points": int(self.n_points), "n_varied": int(self.n_varied),
                "converged": self.converged, "reasons": list(self.reasons),
                "implausible": self.implausible()}

    def to_dataset(self):
        """A scipp DataGroup: ``parameters`` (scalars with variance = error^2 and unit),
        ``statistics`` and ``covariance`` (when known)."""
        import scipp as sc

        params = sc.DataGroup({p.name: _scalar(p) for p in self.parameters})
        out = {"parameters": params, "statistics": sc.DataGroup(self.statistics())}
        if self.covariance is not None:
            names = list(self.covariance_names)
            out["covariance"] = sc.DataArray(
                sc.array(dims=["row", "col"], values=np.asarray(self.covariance, dtype=float)),
                coords={"row": sc.array(dims=["row"], values=names),
                        "col": sc.array(dims=["col"], values=names)})
        return sc.DataGroup(out)

    def to_json(self) -> dict[str, Any]:
        """Parameters as {name: {value, error, unit, ...}} and the statistics."""
        return {"parameters": {p.name: p.as_dict() for p in self.parameters}, **self.statistics()}


def _scalar(p: Parameter):
    import scipp as sc

    var = p.error**2 if math.isfinite(p.error) else None
    return sc.scalar(float(p.value), variance=var, unit=p.unit or sc.units.dimensionless)


@dataclass(frozen=True)
class Quantity:
    """A physical result: value and standard error in ``unit`` (scipp spelling)."""

    value: float
    error: float
    unit: str

    def to(self, unit: str) -> Quantity:
        """The same quantity in another unit (scipp conversion; InputError if incompatible)."""
        import scipp as sc

        try:
            v = sc.to_unit(self.to_variable(), unit)
        except Exception as exc:
            raise InputError(f"cannot convert {self.unit} to {unit}", field="unit", value=unit) from exc
        err = float(np.sqrt(v.variance)) if v.variance is not None else float("nan")
        return Quantity(float(v.value), err, str(unit))

    def to_variable(self):
        """A scipp scalar with variance error^2 (none when the error is unknown)."""
        import scipp as sc

        var = self.error**2 if math.isfinite(self.error) else None
        return sc.scalar(float(self.value), variance=var, unit=self.unit or sc.units.dimensionless)

    def as_dict(self) -> dict[str, Any]:
        return {"value": _finite(self.value), "error": _finite(self.error), "unit": self.unit}


#: unit suffixes of the result names used before units travelled with the values
_OLD_SUFFIXES = (("_A2_per_ps", "angstrom**2/ps"), ("_cm2_per_s", "cm**2/s"), ("_m2_per_s", "m**2/s"),
                 ("_1_per_ps", "1/ps"), ("_A2", "angstrom**2"), ("_ps", "ps"), ("_A", "angstrom"),
                 ("_eV", "eV"), ("_K", "K"), ("_meV", "meV"))


class Quantities(Mapping):
    """Named physical results, each a :class:`Quantity`; the names carry no units.

    Deprecated (one release): a name with the old unit suffix (``'L1_D_A2_per_ps'``,
    ``'tau_ps'``, ``'D_cm2_per_s'``) returns the (value, error) tuple in that unit."""

    def __init__(self, items: Mapping[str, Quantity] | None = None) -> None:
        self._items: dict[str, Quantity] = dict(items or {})

    def __getitem__(self, key: str):
        if key in self._items:
            return self._items[key]
        for suffix, unit in _OLD_SUFFIXES:
            base = key[: -len(suffix)] if key.endswith(suffix) else None
            if base and base in self._items:
                warnings.warn(f"result name '{key}' is deprecated: use '{base}' (a Quantity with "
                              "value, error and unit)", DeprecationWarning, stacklevel=2)
                q = self._items[base].to(unit)
                return q.value, q.error
        raise KeyError(f"no result '{key}'; there are {list(self._items)}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return "Quantities(" + ", ".join(f"{k}={q.value:.6g}±{q.error:.2g} {q.unit}"
                                          for k, q in self._items.items()) + ")"

    def to_dataset(self):
        """A scipp DataGroup of scalars (variances = error^2, units)."""
        import scipp as sc

        return sc.DataGroup({k: q.to_variable() for k, q in self._items.items()})

    def as_json(self) -> dict[str, dict[str, Any]]:
        return {k: q.as_dict() for k, q in self._items.items()}

    def rows(self) -> list[dict[str, Any]]:
        """One table row per quantity: quantity, value, error (None when unknown), unit."""
        return [{"quantity": k, **q.as_dict()} for k, q in self._items.items()]


@dataclass
class Solution:
    """Outcome of :func:`solve`: the best parameters, residuals, Jacobian and covariance
    (J^T J)^-1 of the weighted residuals (None when singular), evaluation count and status."""

    x: np.ndarray
    residual: np.ndarray
    jacobian: np.ndarray
    covariance: np.ndarray | None
    nfev: int
    success: bool
    stopped_on_limit: bool
    message: str

    @property
    def chi2(self) -> float:
        return float(self.residual @ self.residual)


def solve(residual: Callable[[np.ndarray], np.ndarray], x0, lower, upper, *,
          jac_sparsity=None, max_nfev: int | None = None, tol: float = 1e-8) -> Solution:
    """Weighted least squares min sum r(x)^2 with bounds: scipy's trust-region reflective
    method (Branch, Coleman & Li 1999) with Jacobian scaling; the covariance of the varied
    parameters is (J^T J)^-1 at the solution (errors not scaled by chi^2_red).

    ``tol`` is scipy's ftol = xtol = gtol: 1e-8 stops when chi^2 changes by less than a part
    in 10^8, far below its statistical spread (tighter tolerances cost tens of times the
    evaluations near an active bound for changes below 1e-3 of the errors).
    ``jac_sparsity`` passes a sparsity pattern (global fits: a per-group parameter moves only
    its group), so finite differences cost a few residual evaluations per iteration.  BLAS runs
    on one thread inside (the matrices are small: threads only add synchronisation)."""
    from scipy import sparse
    from scipy.optimize import least_squares
    from threadpoolctl import threadpool_limits

    x0 = np.asarray(x0, dtype=float)
    kws = {} if jac_sparsity is None else {"jac_sparsity": jac_sparsity}
    with threadpool_limits(limits=1, user_api="blas"):
        sol = least_squares(residual, x0, bounds=(np.asarray(lower, float), np.asarray(upper, float)),
                            method="trf", x_scale="jac", max_nfev=max_nfev, ftol=tol, xtol=tol, gtol=tol,
                            **kws)
    r = np.asarray(residual(sol.x), dtype=float)
    J = sol.jac.toarray() if sparse.issparse(sol.jac) else np.asarray(sol.jac)
    return Solution(sol.x.copy(), r, J, covariance_of(J), int(sol.nfev), bool(sol.status > 0),
                    bool(sol.status == 0), str(sol.message))


def covariance_of(jacobian: np.ndarray) -> np.ndarray | None:
    """(J^T J)^-1, or None when it is singular, not finite or has a negative diagonal."""
    try:
        c = np.linalg.inv(jacobian.T @ jacobian)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(c)) or np.any(np.diag(c) < 0):
        return None
    return c


def scaled_covariance(jacobian: np.ndarray, reduced_chi2_value: float) -> np.ndarray | None:
    """Covariance of the varied parameters from the weighted Jacobian J at the solution,
    (J^T J)^-1 x max(chi^2_red, 1) through the SVD of J (Press et al., Numerical Recipes,
    3rd ed. 2007, sec. 15.4.2 and 15.5.5: the errors grow when the model misses the data by
    more than their errors, never shrink).  None when J is not finite or singular (smallest
    singular value below 1e-12 of the largest)."""
    jac = np.asarray(jacobian, dtype=float)
    if not jac.size or not np.all(np.isfinite(jac)):
        return None
    _, sv, vt = np.linalg.svd(jac, full_matrices=False)
    if not sv.size or sv[-1] <= 1e-12 * sv[0]:
        return None
    return (vt.T / sv**2) @ vt * max(float(reduced_chi2_value), 1.0)


def select_model(results: Mapping[str, FitResult], criterion: str = "bic") -> tuple[str, list[dict]]:
    """Compare fits of the same data by AIC or BIC (lowest wins): (best name, one row per
    candidate with chi2, k, AIC, BIC, Delta and the Akaike weight w_i = exp(-Delta_i/2) /
    sum_j exp(-Delta_j/2), Burnham & Anderson, *Model Selection and Multimodel Inference*,
    2002); a candidate that did not converge is marked in the row."""
    if criterion not in ("aic", "bic"):
        raise InputError("criterion must be 'aic' or 'bic'", field="criterion", value=criterion)
    if not results:
        raise InputError("no fits to compare", field="results")
    nd = {r.n_points for r in results.values()}
    if len(nd) != 1:
        raise InputError("fits to compare must use the same data points", field="n_points",
                         value=sorted(nd))
    ic = {k: getattr(r, criterion) for k, r in results.items()}
    best = min(ic, key=ic.get)
    delta = {k: v - ic[best] for k, v in ic.items()}
    w = {k: np.exp(-d / 2) for k, d in delta.items()}
    tot = sum(w.values())
    rows = [{"model": k, "chi2": r.chi2, "k": r.n_varied, "aic": r.aic, "bic": r.bic,
             f"delta_{criterion}": delta[k], "weight": w[k] / tot, "chosen": k == best,
             "converged": r.converged} for k, r in results.items()]
    return best, rows
