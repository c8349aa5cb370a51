r"""The chain after the separation: each separated part fitted with its own physics.

:func:`analyse` takes a :class:`~latdyn.polarisation.Separation` of QENS channels (dims
('Q', 'E')) and a resolution and returns a :class:`PolarisedAnalysis`:

* the **coherent** part: collective diffusion with de Gennes narrowing
  (:func:`latdyn.polarisation.physics.fit_coherent`), S(Q) given or from the separation
  (coherent / spin-incoherent ratio, :func:`latdyn.polarisation.physics.structure_factor`);
* the **spin-incoherent** part: self motion, the QENS analysis of :mod:`latdyn.qens` with the
  diffusion (and EISF) models asked for;
* the **magnetic** part (xyz and ten-point): the dipole form factor of the magnetic ion fitted
  to its energy integral (:func:`latdyn.polarisation.physics.fit_paramagnet`).

Folder written by :meth:`PolarisedAnalysis.write` (layouts in docs/polarisation.md)::

    parts.csv, separation.h5       as for Separation.write
    collective.csv                 Q, coherent HWHM (per-Q fit) and error, S(Q), de Gennes HWHM
    self.csv                       Q, incoherent HWHM_1 and error, EISF and error (per-Q fit)
    results.json                   everything --json prints
    report.html, figures/          S(Q), HWHM(Q) of both parts with their models, the parts
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..errors import InputError, LatdynError

__all__ = ["PolarisedAnalysis", "analyse"]


@dataclass
class PolarisedAnalysis:
    """Results of :func:`analyse`: ``separation``, ``s_of_q`` (DataArray over Q and where it
    came from), ``coherent`` (:class:`~latdyn.polarisation.physics.CoherentFit` or None),
    ``incoherent`` (:class:`latdyn.qens.QensAnalysis` or None), ``magnetic`` (form-factor
    :class:`latdyn.qens.CurveFit` or None) and notes (fits that failed, with why)."""

    separation: object
    s_of_q: sc.DataArray | None
    s_of_q_source: str
    coherent: object = None
    incoherent: object = None
    magnetic: object = None
    notes: list[str] = field(default_factory=list)

    def headline(self) -> dict:
        """The physics of each part: quantities with value, error and unit, and convergence."""
        out = {}
        if self.coherent is not None:
            out["collective"] = {"quantities": self.coherent.derived.as_json(),
                                 "converged": self.coherent.converged, "reasons": self.coherent.reasons}
        if self.incoherent is not None:
            out["self"] = self.incoherent.headline()
        if self.magnetic is not None:
            m = self.magnetic
            q = {p.name: p.as_dict() for p in m.parameters} | m.derived.as_json()
            out["magnetic"] = {"quantities": q, "converged": m.converged, "reasons": list(m.reasons),
                               "reduced_chi2": m.reduced_chi2}
        return out

    def warnings(self) -> list[str]:
        out = []
        for name, h in self.headline().items():
            out += [f"{name}: {r}" for r in h.get("reasons", [])]
        if self.incoherent is not None:
            out += [f"self: {w}" for w in self.incoherent.warnings()]
        return out

    def rows(self) -> list[dict]:
        """Per Q group: S(Q), the coherent HWHM and its de Gennes value, the incoherent HWHM_1."""
        rows: dict[float, dict] = {}
        if self.coherent is not None:
            for r in self.coherent.rows():
                rows.setdefault(round(r["Q"], 9), {"Q": r["Q"]}).update(
                    {"S": r["S"], "hwhm_coherent": r["hwhm"], "hwhm_coherent_err": r["hwhm_err"],
                     "hwhm_de_gennes": r["hwhm_de_gennes"]})
        if self.incoherent is not None:
            for r in self.incoherent.widths:
                rows.setdefault(round(r["Q"], 9), {"Q": r["Q"]}).update(
                    {"hwhm_incoherent": r.get("hwhm_1"), "hwhm_incoherent_err": r.get("hwhm_1_err")})
        return [rows[k] for k in sorted(rows)]

    def to_json(self) -> dict:
        return {"separation": self.separation.to_json(), "s_of_q_source": self.s_of_q_source,
                "result": self.headline(),
                "collective": None if self.coherent is None else self.coherent.to_json(),
                "converged": all(h.get("converged", True) for h in self.headline().values()),
                "warnings": self.warnings(), "notes": list(self.notes)}

    def write(self, folder, command: str | None = None) -> list:
        """The files listed in the module docstring into ``folder`` (replaced whole)."""
        from ..data.io import Results, Table, write_csv, write_results_h5
        from ..fileio import check_output_folder, result_folder, write_text_atomic

        out = check_output_folder(folder)
        sep = self.separation
        with result_folder(out) as tmp:
            names = []
            rows = sep.rows()
            write_csv(tmp / "parts.csv", Table({k: np.array([np.nan if r.get(k) is None else r[k]
                                                             for r in rows], float) for k in rows[0]}))
            data = dict(sep.parts.items()) | {f"channel_{k}": v for k, v in sep.channels.items()}
            if self.s_of_q is not None:
                data["S_of_Q"] = self.s_of_q
            write_results_h5(tmp / "separation.h5", Results(data=data, metadata=sep.to_json()),
                             command=command)
            names += ["parts.csv", "separation.h5"]
            if self.coherent is not None:
                _table(tmp / "collective.csv", self.coherent.rows(), write_csv, Table)
                names.append("collective.csv")
            if self.incoherent is not None:
                keys = ("Q", "hwhm_1", "hwhm_1_err", "eisf", "eisf_err", "chi2_red")
                _table(tmp / "self.csv", [{k: r.get(k) for k in keys} for r in self.incoherent.widths],
                       write_csv, Table)
                names.append("self.csv")
            write_text_atomic(tmp / "results.json", json.dumps(_jsonable(self.to_json()), indent=2))
            names.append("results.json")
            rep = self.report(command)
            rep.write(tmp / "report.html")
            names.append("report.html")
        return [out / n for n in names]

    def report(self, command: str | None = None):
        """The HTML report: the separation, S(Q), HWHM(Q) of both parts with their models."""
        from ..report import new_figure
        from .output import separation_report

        rep = separation_report(self.separation, command)
        rep.title = "Polarisation analysis: coherent and incoherent QENS"
        rows = self.rows()
        if rows:
            q = np.array([r["Q"] for r in rows])
            fig, _ = new_figure(10.0, 4.0)
            fig.clf()
            a1, a2 = fig.subplots(1, 2)
            if self.coherent is not None:
                hc, ec = _column(rows, "hwhm_coherent"), _column(rows, "hwhm_coherent_err")
                a1.errorbar(q, hc, ec, fmt="o", ms=4, label="coherent (per Q)")
                a1.plot(q, _column(rows, "hwhm_de_gennes"), "-", label="de Gennes fit")
                a2.plot(q, _column(rows, "S"), "s-", ms=4, label=f"S(Q) ({self.s_of_q_source})")
            if self.incoherent is not None:
                hi, ei = _column(rows, "hwhm_incoherent"), _column(rows, "hwhm_incoherent_err")
                a1.errorbar(q, hi, ei, fmt="^", ms=4, label="spin incoherent (per Q)")
                for name, fit in self.incoherent.hwhm_fits.items():
                    qq = np.linspace(q.min(), q.max(), 100)
                    a1.plot(qq, fit.curve(qq), "--", lw=0.9, label=f"{name} fit")
            a1.set_xlabel("Q (1/Å)")
            a1.set_ylabel("HWHM (meV)")
            a1.legend(frameon=False, fontsize=8)
            a2.set_xlabel("Q (1/Å)")
            a2.set_ylabel("S(Q)")
            a2.legend(frameon=False, fontsize=8)
            rep.add_figure("widths", fig, "Quasi-elastic widths of the separated parts: collective "
                           "motion (coherent, de Gennes narrowing where S(Q) peaks) and self motion "
                           "(spin incoherent).")
            _close(fig)
            rep.add_table("Widths per Q", rows)
        for name, h in self.headline().items():
            rep.add_table(f"Result: {name}", [{"quantity": k, "value": v.get("value"),
                                               "error": v.get("error"), "unit": v.get("unit", "")}
                                              for k, v in h.get("quantities", {}).items()])
        if self.notes or self.warnings():
            rep.add_text("Notes and warnings", "\n\n".join(self.notes + self.warnings()))
        return rep


def _table(path, rows, write_csv, Table):
    if not rows:
        return
    keys = list(rows[0])
    write_csv(path, Table({k: np.array([np.nan if r.get(k) is None else r[k] for r in rows], float)
                           for k in keys}))


def _column(rows, key) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def _jsonable(obj):
    from .output import jsonable

    return jsonable(obj)


def analyse(separation, resolution, *, s_of_q=None, sigma_coh: float | None = None,
            sigma_si: float | None = None, diffusion=("singwi-sjolander",), eisf=(),
            temperature: float | None = None, coherent_elastic: bool = False,
            magnetic_ion: str | None = None, magnetic_absolute: bool = False,
            source: str | None = None) -> PolarisedAnalysis:
    """Fit each separated part with its own physics (module docstring).

    s_of_q: S(Q) as a DataArray over Q or (Q, S) arrays; None takes it from the separation
        with ``sigma_coh`` and ``sigma_si`` (barn per formula unit; the quasi-static
        approximation over the measured energy window).
    diffusion, eisf: models of the self motion (names of :mod:`latdyn.qens`).
    magnetic_ion: fit the magnetic part's energy integral with that ion's form factor.
    A part whose fit fails is reported in ``notes``; the others are still fitted.
    """
    from .physics import fit_coherent, fit_incoherent, fit_paramagnet, structure_factor

    sep = separation
    if "E" not in sep.dims:
        raise InputError("the QENS analysis needs channels with an energy axis 'E'", field="dims",
                         value=sep.dims)
    notes = []
    src = "given"
    sq = None
    if s_of_q is not None:
        sq = s_of_q
    elif sigma_coh is not None and sigma_si is not None:
        sq = structure_factor(sep, sigma_coh, sigma_si)
        src = "coherent / spin-incoherent ratio over the energy window"
    else:
        notes.append("no S(Q) and no cross sections: the coherent part is not fitted")
    out = PolarisedAnalysis(sep, None, src, notes=notes)
    if sq is not None:
        from .physics import _s_table

        out.s_of_q = _s_table(sq)[2]
        try:
            out.coherent = fit_coherent(sep, resolution, sq, temperature=temperature,
                                        elastic=coherent_elastic, source=source)
        except LatdynError as exc:
            notes.append(f"the coherent (collective) fit failed: {exc}")
    if "spin_incoherent" in sep.parts:
        try:
            out.incoherent = fit_incoherent(sep, resolution, diffusion=diffusion, eisf=eisf,
                                            temperature=temperature, source=source)
        except LatdynError as exc:
            notes.append(f"the spin-incoherent (self) fit failed: {exc}")
    if magnetic_ion is not None:
        if "magnetic" not in sep.parts:
            raise InputError(f"the {sep.method.name} method separates no magnetic part", field="magnetic_ion",
                             value=magnetic_ion)
        try:
            out.magnetic = fit_paramagnet(sep.integrate("E")["magnetic"], magnetic_ion,
                                          absolute=magnetic_absolute)
        except LatdynError as exc:
            notes.append(f"the magnetic form-factor fit failed: {exc}")
    return out
