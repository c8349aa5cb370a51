r"""Magnetic and phonon scattering of a powder told apart by their |Q| dependence.

At each energy transfer the powder-averaged intensity is modelled as (Squires, *Introduction to
the Theory of Thermal Neutron Scattering* (1978), ch. 3 and 7)

.. math::  S(Q, E) = M(E)\,|f(Q)|^2 + P(E)\,Q^2 e^{-Q^2 U_{iso}} \;[+\; B(E)]

the magnetic part following the squared dipole form factor of the ion
(:func:`latdyn.scattering.magnetic_form_factor`), which falls with Q, and the one-phonon part of an
incoherent-approximation powder, which grows as Q^2 exp(-2W) with 2W = Q^2 U_iso; an optional
flat term B takes up multiple scattering and incoherent background.  M, P and B follow by weighted
linear least squares over |Q| at each energy (errors from the covariance, scaled by
max(chi2_red, 1)); M is the magnetic intensity at Q = 0 (form factor divided out), P the phonon
intensity per Q^2.  The phonon part is thereby scaled from high |Q|, where |f|^2 is small, and the
magnetic part dominates at low |Q|.

Paramagnetic (quasi-elastic) scattering of uncorrelated moments (Lovesey (1984) vol. 2, ch. 8):

.. math::  S_{para}(Q, E) = A\,|f(Q)|^2\,\frac{E/k_BT}{1 - e^{-E/k_BT}}\,
           \frac{1}{\pi}\frac{\Gamma}{E^2 + \Gamma^2}

(detailed balance kept; the thermal factor -> 1 at E -> 0), whose Q-integrated or form-factor
corrected intensity is fitted for A and the relaxation rate Gamma (HWHM, meV).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fitresult import FitResult, Parameter, diagnose, reduced_chi2, scaled_covariance, solve
from ..scattering import magnetic_form_factor
from ..units import KB_MEV_PER_K

__all__ = ["MagneticSeparation", "separate_magnetic", "paramagnetic_sqe", "ParamagneticFit",
           "fit_paramagnetic"]


def _thermal(e: np.ndarray, T: float) -> np.ndarray:
    x = np.asarray(e, dtype=float) / (KB_MEV_PER_K * T)
    small = np.abs(x) < 1e-8
    xs = np.where(small, 1.0, x)
    return np.where(small, 1.0 + 0.5 * x, xs / -np.expm1(-xs))


def paramagnetic_sqe(q, e, *, ion: str, amplitude: float, gamma: float, T: float, **ff) -> np.ndarray:
    """S_para(Q, E) of the module docstring on the grid (len(q), len(e)); q in 1/angstrom, e and
    gamma (HWHM) in meV, T in K; ``ff`` goes to the form factor (g, g_J, orbital)."""
    if not np.isfinite(gamma) or gamma <= 0 or not np.isfinite(T) or T <= 0:
        raise InputError("gamma (meV) and T (K) must be positive", field="gamma,T", value=(gamma, T))
    f2 = magnetic_form_factor(ion, np.asarray(q, dtype=float), **ff) ** 2
    e = np.asarray(e, dtype=float)
    line = _thermal(e, T) * gamma / (np.pi * (e**2 + gamma**2))
    return amplitude * np.outer(f2, line)


def _sqe_arrays(sqe):
    import scipp as sc

    if not isinstance(sqe, sc.DataArray) or set(sqe.dims) != {"Q", "E"}:
        raise InputError("S(Q,E) must be a DataArray with dims Q and E", field="sqe",
                         value=getattr(sqe, "dims", type(sqe).__name__))
    da = sqe.transpose(["Q", "E"])
    q = sc.to_unit(da.coords["Q"], "1/angstrom").values
    e = sc.to_unit(da.coords["E"], "meV").values
    if q.size == da.shape[0] + 1:
        q = 0.5 * (q[1:] + q[:-1])
    if e.size == da.shape[1] + 1:
        e = 0.5 * (e[1:] + e[:-1])
    y = np.array(da.values, dtype=float)
    err = np.sqrt(da.variances) if da.variances is not None else None
    mask = np.zeros(y.shape, bool)
    for m in da.masks.values():
        mask |= sc.broadcast(m, sizes=da.sizes).transpose(["Q", "E"]).values
    return q, e, y, err, mask, str(da.unit)


@dataclass
class MagneticSeparation:
    """Result of :func:`separate_magnetic`: per energy the magnetic M(E), phonon P(E) and flat
    B(E) amplitudes with errors, chi2_red and flags; the separated maps for figures."""

    ion: str
    u_iso: float
    energy: np.ndarray
    q: np.ndarray
    magnetic: np.ndarray
    magnetic_err: np.ndarray
    phonon: np.ndarray
    phonon_err: np.ndarray
    flat: np.ndarray | None
    flat_err: np.ndarray | None
    chi2_red: np.ndarray
    npoints: np.ndarray
    flags: list
    unit: str
    data: np.ndarray = field(repr=False)
    errors: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    paramagnetic: object = None
    inputs: list = field(default_factory=list)

    @property
    def converged(self) -> bool:
        """True when every energy was separated without a flag (and the QE fit converged)."""
        ok = not any(self.flags)
        return ok and (self.paramagnetic is None or self.paramagnetic.converged)

    @property
    def reasons(self) -> list[str]:
        out = [f"E = {e:g} meV: {f}" for e, f in zip(self.energy, self.flags, strict=True) if f]
        if self.paramagnetic is not None:
            out += [f"paramagnetic fit: {r}" for r in self.paramagnetic.reasons]
        return out

    def warnings(self) -> list[str]:
        """What to check before using the result: how many energies were flagged (the reasons
        are in the table and ``reasons``), the paramagnetic fit's reasons and implausible values."""
        n = sum(1 for f in self.flags if f)
        out = [f"{n} of {len(self.flags)} energies were flagged (see 'reasons')"] if n else []
        if self.paramagnetic is not None:
            out += [f"paramagnetic fit: {r}" for r in
                    [*self.paramagnetic.reasons, *self.paramagnetic.implausible()]]
        return out

    def magnetic_map(self) -> np.ndarray:
        f2 = magnetic_form_factor(self.ion, self.q) ** 2
        return np.outer(f2, self.magnetic)

    def phonon_map(self) -> np.ndarray:
        return np.outer(self.q**2 * np.exp(-self.q**2 * self.u_iso), self.phonon)

    def magnetic_fraction(self, q: float) -> np.ndarray:
        """Magnetic share of the fitted intensity at |Q| = q (1/angstrom), per energy."""
        f2 = magnetic_form_factor(self.ion, q) ** 2
        m = self.magnetic * f2
        p = self.phonon * q**2 * np.exp(-q**2 * self.u_iso)
        with np.errstate(invalid="ignore", divide="ignore"):
            return m / (m + p)

    def rows(self) -> list[dict]:
        out = []
        for i, e in enumerate(self.energy):
            r = {"E": float(e), "S_mag (Q=0)": float(self.magnetic[i]),
                 "S_mag_err": float(self.magnetic_err[i]), "S_ph / Q^2": float(self.phonon[i]),
                 "S_ph_err": float(self.phonon_err[i])}
            if self.flat is not None:
                r["flat"] = float(self.flat[i])
                r["flat_err"] = float(self.flat_err[i])
            r.update({"chi2_red": float(self.chi2_red[i]), "points": int(self.npoints[i]),
                      "flag": self.flags[i]})
            out.append(r)
        return out

    @property
    def heading(self) -> str:
        return f"magnetic and phonon parts ({self.ion})"

    def to_json(self) -> dict:
        """:meth:`summary` with U_iso and the |Q| range as value, error and unit, and the units
        of the table columns."""
        out = self.summary()
        out["u_iso"] = {"value": self.u_iso, "error": None, "unit": "angstrom**2"}
        out["q_range"] = {"value": out["q_range"], "error": None, "unit": "1/angstrom"}
        units = {"E": "meV", "S_mag (Q=0)": self.unit, "S_ph / Q^2": f"{self.unit}*angstrom**2"}
        return out | {"units": units}

    def summary(self) -> dict:
        out = {"ion": self.ion, "u_iso": self.u_iso, "energies": int(self.energy.size),
               "q_range": [float(self.q.min()), float(self.q.max())], "converged": self.converged,
               "reasons": self.reasons}
        if self.paramagnetic is not None:
            out["paramagnetic"] = self.paramagnetic.summary()
        return out

    def figures(self) -> list:
        from ..report import axis_label, new_figure

        figs = []
        fig, ax = new_figure(7, 4.2)
        ok = self.npoints > 0
        ax.errorbar(self.energy[ok], self.magnetic[ok], self.magnetic_err[ok], fmt="o", ms=3,
                    color="C3", label="magnetic M(E) (Q = 0)")
        ax2 = ax.twinx()
        ax2.errorbar(self.energy[ok], self.phonon[ok], self.phonon_err[ok], fmt="s", ms=3,
                     color="C0", label="phonon P(E) (per Q²)")
        ax.set_xlabel(axis_label("E", "meV"))
        ax.set_ylabel("M(E)", color="C3")
        ax2.set_ylabel("P(E)", color="C0")
        if self.paramagnetic is not None:
            ee = np.linspace(self.energy.min(), self.energy.max(), 300)
            ax.plot(ee, self.paramagnetic.curve(ee), color="C3", lw=1, label="paramagnetic fit")
        ax.legend(frameon=False, fontsize=8, loc="upper left")
        ax2.legend(frameon=False, fontsize=8, loc="upper right")
        figs.append(("separation", fig, "Magnetic (form factor) and phonon (Q² e^(-2W)) amplitudes "
                     "versus energy transfer"))
        fg, axq = new_figure(7, 4.2)
        picks = np.unique(np.linspace(0, self.energy.size - 1, min(4, self.energy.size)).astype(int))
        mm, pm = self.magnetic_map(), self.phonon_map()
        for j, i in enumerate(picks):
            good = ~self.mask[:, i]
            off = j * np.nanmax(np.abs(self.data[good, i])) if good.any() else 0
            axq.errorbar(self.q[good], self.data[good, i] + off, self.errors[good, i], fmt=".", ms=3,
                         color=f"C{j}", label=f"E = {self.energy[i]:.3g} meV")
            axq.plot(self.q, mm[:, i] + pm[:, i] + off + (self.flat[i] if self.flat is not None else 0),
                     color=f"C{j}", lw=1)
            axq.plot(self.q, mm[:, i] + off, color=f"C{j}", lw=0.8, ls="--")
        axq.set_xlabel(axis_label("|Q|", "1/angstrom"))
        axq.set_ylabel(f"S(|Q|) ({self.unit}, offset)")
        axq.legend(frameon=False, fontsize=8)
        figs.append(("q_cuts", fg, "|Q| cuts with the fit (solid) and its magnetic part (dashed)"))
        return figs

    def report(self, command: str | None = None):
        """The HTML report: flags, the amplitude and |Q|-cut figures, the paramagnetic fit, the table."""
        from ..report import Report

        rep = Report("Magnetic and phonon scattering separated by their |Q| dependence", command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_text(None, f"Ion {self.ion}, U_iso = {self.u_iso:g} Å². "
                     + ("Every energy separated." if self.converged else
                        "Flags: " + "; ".join(self.reasons[:10])))
        for name, fig, cap in self.figures():
            rep.add_figure(name, fig, cap)
        if self.paramagnetic is not None:
            rep.add_parameters("Paramagnetic quasi-elastic fit", self.paramagnetic.params)
        rep.add_table("Separation", self.rows())
        return rep

    def _write_csv(self, path: Path) -> Path:
        from ..fileio import write_text_atomic

        rows = self.rows()
        cols = list(rows[0])
        lines = [",".join(c.replace(",", ";") for c in cols)]
        lines += [",".join(f"{r[c]:.10g}" if isinstance(r[c], float) else f'"{r[c]}"' if isinstance(
            r[c], str) else str(r[c]) for c in cols) for r in rows]
        return write_text_atomic(path, "\n".join(lines) + "\n")

    def _write_maps(self, path: Path) -> None:
        import h5py

        from ..fileio import atomic_path

        with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
            h5.create_dataset("Q", data=self.q).attrs["unit"] = "1/angstrom"
            h5.create_dataset("E", data=self.energy).attrs["unit"] = "meV"
            for name, arr in (("data", self.data), ("magnetic", self.magnetic_map()),
                              ("phonon", self.phonon_map())):
                h5.create_dataset(name, data=arr).attrs["unit"] = self.unit
            h5.attrs["ion"] = self.ion
            h5.attrs["u_iso"] = self.u_iso

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``separation.csv`` (one row per energy), ``maps.h5`` (data, magnetic and phonon maps),
        ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"separation.csv": self._write_csv, "maps.h5": self._write_maps},
                                   self.report(command))


def separate_magnetic(sqe, *, ion: str, u_iso: float, q_range=None, e_range=None,
                      flat: bool = False, min_points: int = 4, paramagnetic_T: float | None = None,
                      **ff) -> MagneticSeparation:
    """Separate the magnetic and phonon parts of a powder S(|Q|, E) (module docstring).

    ``sqe``: DataArray with dims Q (1/angstrom) and E (meV) and variances (without them all points
    weigh the same and the errors come from the scatter), or a file latdyn.data.io reads;
    ``ion`` and ``ff`` (g, g_J, orbital) give |f(Q)|^2; ``u_iso`` (angstrom^2) the Debye-Waller
    factor exp(-Q^2 U_iso); ``q_range`` and ``e_range`` restrict the data; ``flat`` adds the
    constant B(E).  With ``paramagnetic_T`` (K) the magnetic amplitudes M(E) are fitted by the
    paramagnetic line (:func:`fit_paramagnetic`).
    Energies with fewer than ``min_points`` usable |Q| points or a singular design are flagged.
    """
    if not np.isfinite(u_iso) or u_iso < 0:
        raise InputError("U_iso must be >= 0 (angstrom^2)", field="u_iso", value=u_iso)
    inputs = []
    if isinstance(sqe, (str, Path)):
        from ..data.io import load

        inputs, sqe = [sqe], load(sqe).data
    q, e, y, err, mask, unit = _sqe_arrays(sqe)
    keep_q = np.ones(q.size, bool) if q_range is None else (q >= q_range[0]) & (q <= q_range[1])
    keep_e = np.ones(e.size, bool) if e_range is None else (e >= e_range[0]) & (e <= e_range[1])
    if keep_q.sum() < min_points or keep_e.sum() < 1:
        raise InputError(f"need at least {min_points} |Q| points and one energy in range",
                         field="q_range,e_range", value=(q_range, e_range))
    q, e = q[keep_q], e[keep_e]
    y = y[np.ix_(keep_q, keep_e)]
    mask = mask[np.ix_(keep_q, keep_e)]
    err = np.ones_like(y) if err is None else err[np.ix_(keep_q, keep_e)]
    mask |= ~np.isfinite(y) | ~(err > 0)
    basis = [magnetic_form_factor(ion, q, **ff) ** 2, q**2 * np.exp(-q**2 * u_iso)]
    if flat:
        basis.append(np.ones_like(q))
    a = np.stack(basis, axis=1)
    nb = a.shape[1]
    coef = np.full((e.size, nb), np.nan)
    cerr = np.full((e.size, nb), np.nan)
    chi = np.full(e.size, np.nan)
    npts = np.zeros(e.size, int)
    flags = []
    for j in range(e.size):
        ok = ~mask[:, j]
        npts[j] = int(ok.sum())
        if npts[j] < max(min_points, nb + 1):
            flags.append(f"only {npts[j]} usable |Q| points")
            continue
        w = 1.0 / err[ok, j]
        aw = a[ok] * w[:, None]
        u, s, vt = np.linalg.svd(aw, full_matrices=False)
        if s[-1] <= 1e-10 * s[0]:
            flags.append("singular design: the |Q| range does not tell the shapes apart")
            continue
        c = vt.T @ ((u.T @ (y[ok, j] * w)) / s)
        resid = aw @ c - y[ok, j] * w
        chi2 = float(resid @ resid)
        red = reduced_chi2(chi2, npts[j], nb)
        cov = (vt.T / s**2) @ vt * max(red, 1.0)
        coef[j], cerr[j], chi[j] = c, np.sqrt(np.diag(cov)), red
        flags.append("")
    res = MagneticSeparation(ion, float(u_iso), e, q, coef[:, 0], cerr[:, 0], coef[:, 1], cerr[:, 1],
                             coef[:, 2] if flat else None, cerr[:, 2] if flat else None, chi, npts,
                             flags, unit, y, err, mask, inputs=inputs)
    if paramagnetic_T is not None:
        good = np.isfinite(res.magnetic) & np.isfinite(res.magnetic_err) & (res.magnetic_err > 0)
        res.paramagnetic = fit_paramagnetic(e[good], res.magnetic[good], res.magnetic_err[good],
                                            T=paramagnetic_T)
    return res


@dataclass
class ParamagneticFit(FitResult):
    """Fit of M(E) = A (E/kT)/(1 - exp(-E/kT)) Gamma / (pi (E^2 + Gamma^2)) (module docstring):
    params {'amplitude', 'gamma'} as (value, error, unit); the :class:`latdyn.fitresult.FitResult`
    protocol (chi2, n_points, n_varied, converged and reasons)."""

    T: float
    params: dict
    chi2: float
    n_points: int
    n_varied: int
    reasons: list
    covariance: np.ndarray | None = None

    covariance_names = ("amplitude", "gamma")
    significant = ("amplitude", "gamma")

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter(k, v, e, "meV" if k == "gamma" else "") for k, (v, e, _u) in self.params.items()]

    def curve(self, e) -> np.ndarray:
        a, g = self.params["amplitude"][0], self.params["gamma"][0]
        e = np.asarray(e, dtype=float)
        return a * _thermal(e, self.T) * g / (np.pi * (e**2 + g**2))

    def summary(self) -> dict:
        return {"T": self.T, **{k: v[0] for k, v in self.params.items()},
                **{f"{k}_err": v[1] for k, v in self.params.items()}, "chi2_red": self.reduced_chi2,
                "converged": self.converged, "reasons": self.reasons}


def fit_paramagnetic(e, m, m_err, *, T: float, gamma0: float | None = None) -> ParamagneticFit:
    """Fit a quasi-elastic paramagnetic line to M(E) (form-factor corrected magnetic intensity)
    with errors ``m_err``; Gamma (HWHM, meV) and the amplitude A (data units x meV)."""
    e, m, s = (np.asarray(v, dtype=float) for v in (e, m, m_err))
    if e.size < 4 or not (e.shape == m.shape == s.shape) or np.any(s <= 0):
        raise InputError("the paramagnetic fit needs at least 4 energies with positive errors",
                         field="M(E)", value=e.size)
    if not np.isfinite(T) or T <= 0:
        raise InputError("T must be positive (K)", field="T", value=T)
    g0 = gamma0 if gamma0 is not None else max(float(np.ptp(e)) / 4, 1e-3)
    a0 = max(float(np.max(m)) * np.pi * g0, 1e-12)

    def res(p):
        return (p[0] * _thermal(e, T) * p[1] / (np.pi * (e**2 + p[1] ** 2)) - m) / s

    lo, hi = np.array([-np.inf, 1e-6]), np.array([np.inf, 1e4])
    sol = solve(res, [a0, g0], lo, hi, max_nfev=5000)
    chi2 = sol.chi2
    cov = scaled_covariance(sol.jacobian, reduced_chi2(chi2, e.size, 2))
    err = np.sqrt(np.diag(cov)) if cov is not None else np.full(2, np.nan)
    fitted = [Parameter(n, float(v), float(s_), min=float(a), max=float(b))
              for n, v, s_, a, b in zip(("amplitude", "gamma"), sol.x, err, lo, hi, strict=True)]
    reasons = diagnose(parameters=fitted, covariance=cov, stopped_on_limit=sol.stopped_on_limit,
                       optimiser_ok=sol.success, message=sol.message)
    params = {"amplitude": (fitted[0].value, fitted[0].error, "data unit x meV"),
              "gamma": (fitted[1].value, fitted[1].error, "meV")}
    return ParamagneticFit(float(T), params, chi2, int(e.size), 2, reasons)
