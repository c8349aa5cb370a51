r"""Physics of the separated parts, each with its own model.

* **Self motion** (spin-incoherent part): the standard QENS analysis of :mod:`latdyn.qens`
  (per-Q Lorentzians, diffusion models of HWHM(Q) such as jump diffusion, EISF geometry
  models, global fit), :func:`fit_incoherent`.
* **Collective motion** (coherent part): one Lorentzian per Q whose HWHM follows de Gennes
  narrowing, Gamma(Q) = hbar D_c Q^2 / S(Q) (de Gennes, Physica 25, 825 (1959)), fitted per Q
  and then globally with the width tied to the model, :func:`fit_coherent`.  S(Q) is given,
  or taken from the separation itself (:func:`structure_factor`).
* **Magnetic part**: the dipole form factor of the magnetic ion, M(Q) = A f^2(Q), with the
  effective moment when the data are in absolute units (:func:`fit_paramagnet`).

:func:`structure_factor` uses the spin-incoherent scattering as the internal standard
(flat in Q, the same sample, detectors and Debye-Waller factor to first order):

.. math::  S(Q) = \frac{I_{coh}(Q)}{I_{si}(Q)}\,\frac{\sigma_{si}}{\sigma_{coh}}

with I the energy-integrated parts (the quasi-static approximation over the measured
window) and its error from their full covariance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..errors import FitError, InputError
from ..fitresult import Quantities, Quantity, solve

__all__ = ["structure_factor", "fit_coherent", "CoherentFit", "fit_incoherent", "fit_paramagnet",
           "ion_conductor_parts"]


def _part(source, name: str) -> sc.DataArray:
    from .separation import Separation

    if isinstance(source, Separation):
        return source[name]
    if isinstance(source, sc.DataArray):
        return source
    raise InputError(f"expected a Separation or a DataArray of the {name} part", field=name,
                     value=type(source).__name__)


def structure_factor(separation, sigma_coh: float, sigma_si: float, dim: str = "E") -> sc.DataArray:
    """S(Q) from the coherent / spin-incoherent ratio (module docstring); ``sigma_coh`` and
    ``sigma_si`` in barn for the same formula unit (:func:`latdyn.polarisation
    .sample_cross_sections`); ``dim`` the energy dim integrated first (when present)."""
    for n, v in (("sigma_coh", sigma_coh), ("sigma_si", sigma_si)):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"{n} must be positive (barn)", field=n, value=v)
    s = separation.integrate(dim) if dim in separation.dims else separation
    names = list(s.parts.keys())
    if "coherent" not in names or "spin_incoherent" not in names:
        raise InputError("S(Q) needs the coherent and spin-incoherent parts", field="parts", value=names)
    ic, isi = names.index("coherent"), names.index("spin_incoherent")
    c = np.asarray(s.parts["coherent"].values, float)
    si = np.asarray(s.parts["spin_incoherent"].values, float)
    cov = s.covariance()
    vc, vs, cs = cov[..., ic, ic], cov[..., isi, isi], cov[..., ic, isi]
    bad = ~(si > 0)
    for n in ("coherent", "spin_incoherent"):
        if "not_separable" in s.parts[n].masks:
            bad |= np.asarray(s.parts[n].masks["not_separable"].values)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(bad, 0.0, c / np.where(bad, 1.0, si))
        var = np.where(bad, 0.0, (vc - 2 * r * cs + r * r * vs) / np.where(bad, 1.0, si) ** 2)
    k = sigma_si / sigma_coh
    first = s.parts["coherent"]
    out = sc.DataArray(sc.array(dims=list(first.dims), values=r * k, variances=np.clip(var, 0, None) * k * k),
                       coords={d: first.coords[d] for d in first.dims if d in first.coords}, name="S(Q)")
    if np.any(bad):
        out.masks["not_separable"] = sc.array(dims=list(first.dims), values=bad)
    return out


@dataclass
class CoherentFit:
    """Collective diffusion from the coherent part: ``perq`` (one Lorentzian per Q,
    :class:`latdyn.qens.SpectralFitResult`), ``hwhm_fit`` (de Gennes model fitted to the per-Q
    widths, :class:`latdyn.qens.CurveFit`), ``global_fit`` (width tied to the model in one fit
    of all Q) and the S(Q) used.  ``derived``: D_c from the global fit (Quantities)."""

    perq: object
    hwhm_fit: object
    global_fit: object
    s_of_q: sc.DataArray
    notes: list[str] = field(default_factory=list)

    @property
    def derived(self) -> Quantities:
        g = self.global_fit
        if g is not None and "L1_D" in g.derived:
            return Quantities({"D_collective": g.derived["L1_D"]})
        q = self.hwhm_fit.derived["D"]
        return Quantities({"D_collective": q})

    @property
    def converged(self) -> bool:
        g = self.global_fit if self.global_fit is not None else self.hwhm_fit
        return bool(g.converged)

    @property
    def reasons(self) -> list[str]:
        g = self.global_fit if self.global_fit is not None else self.hwhm_fit
        return list(g.reasons)

    def rows(self) -> list[dict]:
        """Per Q: the per-Q HWHM with its error, S(Q) and the de Gennes curve of the global fit."""
        from ..qens.analysis import ordered_widths

        w = ordered_widths(self.perq)
        q = np.array([r["Q"] for r in w])
        dc = self.derived["D_collective"].value
        from ..units import HBAR_MEV_PS

        s = np.interp(q, _coord(self.s_of_q), np.asarray(self.s_of_q.values, float))
        return [{"Q": r["Q"], "hwhm": r.get("hwhm_1"), "hwhm_err": r.get("hwhm_1_err"), "S": float(si),
                 "hwhm_de_gennes": float(HBAR_MEV_PS * dc * r["Q"] ** 2 / si)}
                for r, si in zip(w, s, strict=True)]

    def to_json(self) -> dict:
        return {"model": "de Gennes: Gamma = hbar D_c Q^2 / S(Q)", "quantities": self.derived.as_json(),
                "converged": self.converged, "reasons": self.reasons,
                "hwhm_fit": {"parameters": {p.name: p.as_dict() for p in self.hwhm_fit.parameters},
                             **self.hwhm_fit.statistics()},
                "global_fit": None if self.global_fit is None else self.global_fit.statistics(),
                "notes": list(self.notes)}


def _coord(da: sc.DataArray) -> np.ndarray:
    dim = da.dims[0]
    c = np.asarray(da.coords[dim].values, float)
    return 0.5 * (c[1:] + c[:-1]) if da.coords.is_edges(dim) else c


def _s_table(s_of_q) -> tuple[np.ndarray, np.ndarray, sc.DataArray]:
    if isinstance(s_of_q, sc.DataArray):
        if s_of_q.ndim != 1:
            raise InputError("S(Q) must be 1-D over Q", field="s_of_q", value=s_of_q.dims)
        q, s = _coord(s_of_q), np.asarray(s_of_q.values, float)
        keep = np.ones(q.size, bool)
        for m in s_of_q.masks.values():
            keep &= ~np.asarray(m.values)
        return q[keep], s[keep], s_of_q
    q, s = (np.asarray(x, dtype=float) for x in s_of_q)
    da = sc.DataArray(sc.array(dims=["Q"], values=s), coords={"Q": sc.array(dims=["Q"], values=q,
                                                                             unit="1/angstrom")})
    return q, s, da


def fit_coherent(coherent, resolution, s_of_q, *, temperature: float | None = None,
                 elastic: bool = False, background: str = "flat", global_fit: bool = True,
                 source: str | None = None) -> CoherentFit:
    """Collective diffusion of the coherent part (module docstring).

    coherent: the coherent part ('Q', 'E') (a :class:`~latdyn.polarisation.Separation` or a
        DataArray with variances).
    resolution: as for :func:`latdyn.qens.fit` (DataArray, measured or analytic).
    s_of_q: S(Q) as a DataArray over Q (:func:`structure_factor`) or (Q, S) arrays.
    elastic: add a resolution-shaped elastic line (static coherent scattering).
    """
    from ..qens import FitSetup, fit, qens_model
    from ..qens.analysis import fit_hwhm, ordered_widths
    from ..qens.diffusion import de_gennes_model

    da = _part(coherent, "coherent")
    q_s, s, s_da = _s_table(s_of_q)
    if q_s.size < 2 or np.any(~(s > 0)):
        raise InputError("S(Q) needs at least two points with S > 0", field="s_of_q", value=q_s.size)
    model = de_gennes_model(q_s, s)
    setup = FitSetup(qens_model(1, background, temperature=temperature, elastic=elastic))
    setup.set("L1_hwhm", np.nan, 1e-6, np.inf)
    setup.fix("shift", 0.0)
    perq = fit(da, resolution, setup, mode="per-q", zero_errors="mask", source=source, progress=False)
    w = ordered_widths(perq)
    q = np.array([r["Q"] for r in w])
    y = np.array([r.get("hwhm_1", np.nan) for r in w])
    e = np.array([r.get("hwhm_1_err", np.nan) for r in w])
    notes = []
    inside = (q >= q_s.min()) & (q <= q_s.max())
    if not np.all(inside):
        notes.append(f"{int((~inside).sum())} Q groups outside the S(Q) table left out of the de Gennes fit")
    hw = fit_hwhm(q[inside], y[inside], e[inside], model)
    g = None
    if global_fit:
        gs = FitSetup(qens_model(1, background, temperature=temperature, elastic=elastic))
        gs.fix("shift", 0.0)
        gs.tie_diffusion("L1", model, init={"D": float(hw.values[0])})
        start = {}
        for j, r in enumerate(w):
            start[f"L1_amplitude_q{j}"] = r.get("amplitude_1", 1.0)
        sub = da
        if not np.all(inside):
            dim = [d for d in da.dims if d != "E"][0]
            sub = da[dim, np.flatnonzero(inside)[0]:np.flatnonzero(inside)[-1] + 1]
        try:
            g = fit(sub, resolution, gs, mode="global", zero_errors="mask", source=source)
        except FitError as exc:
            notes.append(f"the global de Gennes fit failed: {exc}")
    return CoherentFit(perq, hw, g, s_da, notes)


def fit_incoherent(incoherent, resolution, *, diffusion=("singwi-sjolander",), eisf=(),
                   lorentzians=(1,), temperature: float | None = None, elastic: bool = True,
                   background: str = "flat", source: str | None = None):
    """Self motion of the spin-incoherent part: :func:`latdyn.qens.analyse` with a
    :class:`latdyn.qens.QensPlan` (diffusion models of HWHM(Q), EISF geometry models, global
    fit tied to the first diffusion model).  Returns the :class:`latdyn.qens.QensAnalysis`."""
    from ..qens import QensPlan
    from ..qens.analysis import analyse

    da = _part(incoherent, "spin_incoherent")
    plan = QensPlan(lorentzians=tuple(lorentzians), elastic=elastic, background=background,
                    temperature=temperature, diffusion=tuple(diffusion), eisf=tuple(eisf),
                    zero_errors="mask")
    return analyse(da, resolution, plan, source=source, progress=False)


def fit_paramagnet(magnetic, ion: str, *, absolute: bool = False, background: bool = False,
                   **form_factor):
    """Fit M(Q) = A f^2(Q) (+ b) to the magnetic part, f the dipole form factor of ``ion``
    (:func:`latdyn.scattering.magnetic_form_factor`, keywords passed on).

    ``magnetic``: DataArray over Q (integrated over E when it has an energy axis: pass
    ``Separation.integrate('E')``).  With ``absolute`` (data in barn/sr per magnetic ion) the
    derived ``mu_eff`` = sqrt(A / (2/3 p^2)) is the effective moment in Bohr magnetons
    (dimensionless), p = 2.6954 fm (:func:`latdyn.polarisation.paramagnetic_cross_section`).
    Returns a :class:`latdyn.qens.CurveFit` (the FitResult protocol)."""
    from ..qens.analysis import CurveFit
    from ..scattering import P_MAGNETIC_FM, magnetic_form_factor

    da = _part(magnetic, "magnetic")
    if da.ndim != 1:
        raise InputError("the magnetic part must be 1-D over Q (integrate over E first)",
                         field="magnetic", value=da.dims)
    q = _coord(da)
    y = np.asarray(da.values, float)
    if da.variances is None:
        raise InputError("the magnetic part needs variances", field="magnetic")
    e = np.sqrt(np.asarray(da.variances, float))
    keep = np.isfinite(y) & (e > 0)
    for m in da.masks.values():
        keep &= ~np.asarray(m.values)
    npar = 2 if background else 1
    if keep.sum() <= npar:
        raise FitError("too few points with positive errors for the form-factor fit", field="magnetic",
                       value=int(keep.sum()))
    f2 = magnetic_form_factor(ion, q[keep], **form_factor) ** 2
    qk, yk, ek = q[keep], y[keep], e[keep]

    def model(Q, A, b=0.0):
        return A * magnetic_form_factor(ion, Q, **form_factor) ** 2 + b

    def resid(p):
        return (p[0] * f2 + (p[1] if background else 0.0) - yk) / ek

    a0 = float(np.sum(yk * f2 / ek**2) / np.sum(f2 * f2 / ek**2))
    x0 = [a0, 0.0][:npar]
    lo, hi = [-np.inf, -np.inf][:npar], [np.inf, np.inf][:npar]
    sol = solve(resid, x0, lo, hi, max_nfev=2000, tol=1e-12)
    cov = sol.covariance
    err = np.sqrt(np.diag(cov)) if cov is not None else np.full(npar, np.nan)
    unit = str(da.unit)
    r = CurveFit(f"form factor {ion}", ["A", "b"][:npar], sol.x, err, [unit] * npar, cov, sol.chi2,
                 int(qk.size), model, np.asarray(lo), np.asarray(hi), sol.stopped_on_limit, sol.message)
    if absolute:
        k = (2.0 / 3.0) * P_MAGNETIC_FM**2 / 100.0
        A, sA = float(sol.x[0]), float(err[0])
        mu = float(np.sqrt(A / k)) if A > 0 else float("nan")
        smu = 0.5 * sA / np.sqrt(A * k) if A > 0 else float("nan")
        r.derived = Quantities({"mu_eff": Quantity(mu, smu, "dimensionless")})
    return r


def ion_conductor_parts(q, e, *, sigma_coh: float, sigma_si: float, D_self: float, tau: float,
                        D_collective: float, s_of_q, mobile_fraction: float = 1.0,
                        resolution_hwhm: float = 0.02) -> dict[str, sc.DataArray]:
    r"""Coherent and spin-incoherent S(Q, E) (barn/sr/meV per formula unit) of a model ion
    conductor, convolved with a Gaussian resolution of HWHM ``resolution_hwhm`` (meV):

    .. math::

        \frac{d^2\sigma_{si}}{d\Omega dE} = \frac{\sigma_{si}}{4\pi}\,
            [(1 - x)\,\delta(E) + x\,L(E; \hbar D_s Q^2 / (1 + D_s Q^2 \tau))] \otimes R,\qquad
        \frac{d^2\sigma_{coh}}{d\Omega dE} = \frac{\sigma_{coh}}{4\pi}\, S(Q)\,
            L(E; \hbar D_c Q^2 / S(Q)) \otimes R

    (jump diffusion of the mobile fraction x, Singwi & Sjolander 1960; de Gennes-narrowed
    collective diffusion).  ``s_of_q``: callable S(Q) or (Q, S) arrays.  Returns
    {'coherent', 'spin_incoherent'} DataArrays with dims ('Q', 'E')."""
    from ..convolution.resolution import AnalyticResolution
    from ..lineshapes import sigma_from_hwhm
    from ..qens import qens_model
    from ..qens.diffusion import de_gennes_model, singwi_sjolander

    q = np.asarray(q, dtype=float)
    e = np.asarray(e, dtype=float)
    sq = s_of_q(q) if callable(s_of_q) else np.interp(q, *np.asarray(s_of_q, dtype=float))
    res = AnalyticResolution(np.full(q.size, float(sigma_from_hwhm(resolution_hwhm))), np.zeros(q.size),
                             np.full(q.size, resolution_hwhm), np.zeros(q.size), Q=q).prepare(e, q)
    mdl = qens_model(1, "none", elastic=True)
    z = np.zeros(q.size)
    inc = mdl.evaluate(res, {"shift": z, "elastic_amplitude": np.full(q.size, 1.0 - mobile_fraction),
                             "L1_amplitude": np.full(q.size, float(mobile_fraction)),
                             "L1_hwhm": singwi_sjolander(q, D_self, tau)})
    dg = de_gennes_model(q, sq) if not callable(s_of_q) else de_gennes_model(None, s_of_q)
    coh = mdl.evaluate(res, {"shift": z, "elastic_amplitude": z, "L1_amplitude": sq,
                             "L1_hwhm": dg.hwhm(q, D=D_collective)})
    coords = {"Q": sc.array(dims=["Q"], values=q, unit="1/angstrom"),
              "E": sc.array(dims=["E"], values=e, unit="meV")}
    unit = "barn/meV"

    def da(v, name):
        return sc.DataArray(sc.array(dims=["Q", "E"], values=v, unit=unit), coords=coords, name=name)

    return {"coherent": da(sigma_coh / (4 * np.pi) * coh, "coherent"),
            "spin_incoherent": da(sigma_si / (4 * np.pi) * inc, "spin_incoherent")}
