"""Demo steps for quasi-elastic scattering: virtual experiments on real instruments, and real
IN5 water data, analysed with latdyn.fitting and the latdyn.qens models."""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..report import format_number, format_value_error, new_figure
from ..units import HBAR_MEV_PS
from .context import DemoContext

#: Virtual superionic conductor: Chudley-Elliott jump diffusion of the mobile ions.
CE_TRUTH = {"D": 0.05, "l": 3.0}            # A^2/ps, A
#: Immobile (host) share of the scattering, seen as a Q-independent elastic fraction.
CE_IMMOBILE = 0.3
#: Virtual plastic crystal: NH4+ tetrahedral C3 jumps (H-H distance d, residence time tau).
TET_TRUTH = {"d": 1.68, "tau": 20.0}        # A, ps
TEMPERATURE = 300.0


def _fit_plot(ctx: DemoContext, name: str, result, title: str, caption: str) -> None:
    """HWHM(Q) (or per-group widths) and a few fitted spectra in one figure."""
    import matplotlib.pyplot as plt

    groups = result.groups
    picks = [groups[0], groups[len(groups) // 2], groups[-1]]
    fig, axes = plt.subplots(1, len(picks), figsize=(10, 3.4), dpi=110, constrained_layout=True)
    for ax, g in zip(axes, picks, strict=True):
        ok = g.mask  # True where the point entered the fit
        ax.errorbar(g.E[ok] * 1e3, g.y[ok], g.sigma[ok], fmt=".", ms=2, lw=0.5, color="0.3",
                    label="data")
        span = (g.E >= g.E[ok].min()) & (g.E <= g.E[ok].max())   # the fit only where data are
        ax.plot(g.E[span] * 1e3, g.model[span], color="C3", lw=1.2, label="fit")
        ax.set_yscale("log")
        ax.set_xlabel("Energy transfer (µeV)")
        ax.set_title(f"Q = {g.Q:.2f} Å$^{{-1}}$", fontsize=9)
    axes[0].set_ylabel("Intensity (counts/meV)")
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle(title, fontsize=10)
    ctx.report.add_figure(name, fig, caption)


def _measured_pair(ctx: DemoContext, model, instrument, q, elastic, seed: int):
    """The virtual sample run (quasi-elastic ``model`` plus the ``elastic`` fraction) and its
    vanadium-like resolution run (elastic only, 100 times the counts) on ``instrument``."""
    from ..simulate import virtual_qens

    data = virtual_qens(model, instrument, q, counts_scale=300.0 if ctx.quick else 1000.0,
                        elastic=elastic, seed=seed)
    resolution = virtual_qens(lambda qq, e: np.zeros_like(e), instrument, q, counts_scale=3e4,
                              elastic=lambda qq: 1.0, seed=seed + 1)
    return data, resolution


def step_qens_virtual(ctx: DemoContext) -> str:
    """Simulate QENS on IRIS (jump diffusion) and BASIS (NH4+ reorientation); fit both globally."""
    from ..instruments import load_instrument
    from ..lineshapes import lorentzian
    from ..qens import FitSetup, fit, get_diffusion_model, get_geometry_model, qens_model

    ctx.report.add_heading("3. QENS: virtual experiments and their analysis")
    nq = 8 if ctx.quick else 12
    rows = []

    # --- translational jump diffusion on IRIS -------------------------------------------------
    iris = load_instrument("IRIS")
    ce = get_diffusion_model("chudley-elliott")
    q = np.linspace(0.5, 1.8, nq)
    gamma = ce.hwhm(q, **CE_TRUTH)

    def model_ce(qq, e):
        g = float(np.interp(qq, q, gamma))
        return (1 - CE_IMMOBILE) * lorentzian(e, g, T=TEMPERATURE)

    data, resolution = _measured_pair(ctx, model_ce, iris, q, lambda qq: CE_IMMOBILE, ctx.seed)
    setup = FitSetup(qens_model(1, "flat", temperature=TEMPERATURE))
    setup.tie_diffusion("L1", "chudley-elliott", init={"D": 0.1, "l": 2.0})
    setup.share("shift", 0.0, -0.01, 0.01)
    res = fit(data, resolution, setup, progress=False)
    d_fit, d_err = res.derived["L1_D"].value, res.derived["L1_D"].error
    l_fit, l_err = res.derived["L1_l"].value, res.derived["L1_l"].error
    t_fit, t_err = res.derived["L1_tau"].value, res.derived["L1_tau"].error
    tau_true = CE_TRUTH["l"] ** 2 / (6 * CE_TRUTH["D"])
    rows += [
        {"experiment": "IRIS, jump diffusion", "quantity": "D (Å²/ps)", "input": CE_TRUTH["D"],
         "fitted": d_fit, "error": d_err, "pull": (d_fit - CE_TRUTH["D"]) / d_err},
        {"experiment": "IRIS, jump diffusion", "quantity": "jump length l (Å)", "input": CE_TRUTH["l"],
         "fitted": l_fit, "error": l_err, "pull": (l_fit - CE_TRUTH["l"]) / l_err},
        {"experiment": "IRIS, jump diffusion", "quantity": "residence time τ (ps)", "input": tau_true,
         "fitted": t_fit, "error": t_err, "pull": (t_fit - tau_true) / t_err},
    ]
    _fit_plot(ctx, "qens_iris_fits", res, "IRIS (PG002): Chudley-Elliott jump diffusion, global fit",
              "Virtual IRIS spectra (resolution from a virtual vanadium run, Poisson noise) and "
              "the global fit: elastic line plus one Lorentzian whose HWHM(Q) follows the "
              "Chudley-Elliott model, convolved with the measured resolution.")
    rows_q = res.group_rows()
    fig, ax = new_figure()
    qq = np.linspace(float(np.min(q)), float(np.max(q)), 200)     # curves over the data's Q only
    ax.plot(qq**2, 1e3 * ce.hwhm(qq, D=d_fit, l=l_fit), color="C3",
            label=f"Chudley-Elliott fit: D = {format_value_error(d_fit, d_err)} Å²/ps, "
                  f"l = {format_value_error(l_fit, l_err)} Å")
    ax.plot(qq**2, 1e3 * HBAR_MEV_PS * d_fit * qq**2, "--", color="0.5", lw=0.8,
            label="Fick's law ħDQ² with the same D")
    ax.plot(q**2, 1e3 * gamma, "o", mfc="none", color="0.3", label="input HWHM(Q)")
    ax.set_xlabel("Q² (Å$^{-2}$)")
    ax.set_ylabel("HWHM (µeV)")
    ax.legend(frameon=False, fontsize=8)
    ctx.report.add_figure("qens_iris_hwhm", fig, "Quasi-elastic HWHM versus Q²: the fitted "
                          "Chudley-Elliott law and the widths used to simulate the data.")
    el = [r.get("elastic_fraction", np.nan) for r in rows_q]

    # --- NH4+ tetrahedral reorientation on BASIS ----------------------------------------------
    basis = load_instrument("BASIS")
    tet = get_geometry_model("tetrahedral:C3")
    q2 = np.linspace(0.3, 1.9, nq)
    A, G = tet.terms(q2, **TET_TRUTH)

    def model_tet(qq, e):
        i = int(np.argmin(abs(q2 - qq)))
        return A[i, 1] * lorentzian(e, G[i, 1], T=TEMPERATURE)

    data2, res2_data = _measured_pair(
        ctx, model_tet, basis, q2, lambda qq: float(tet.eisf(np.array([qq]), **TET_TRUTH)[0]),
        ctx.seed + 2)
    setup2 = FitSetup(qens_model(1, "flat", temperature=TEMPERATURE))
    setup2.expand_geometry("tetrahedral:C3", "L1", init={"d": 1.4, "tau": 10.0})
    setup2.share("shift", 0.0, -0.01, 0.01)
    res2 = fit(data2, res2_data, setup2, progress=False)
    d2 = (res2.derived["tetrahedral:C3_d"].value, res2.derived["tetrahedral:C3_d"].error)
    tau_fit, tau_err = res2.derived["tetrahedral:C3_tau"].value, res2.derived["tetrahedral:C3_tau"].error
    rows += [
        {"experiment": "BASIS, NH4+ C3 jumps", "quantity": "H-H distance d (Å)", "input": TET_TRUTH["d"],
         "fitted": d2[0], "error": d2[1], "pull": (d2[0] - TET_TRUTH["d"]) / d2[1]},
        {"experiment": "BASIS, NH4+ C3 jumps", "quantity": "residence time τ (ps)",
         "input": TET_TRUTH["tau"], "fitted": tau_fit, "error": tau_err,
         "pull": (tau_fit - TET_TRUTH["tau"]) / tau_err},
    ]
    _fit_plot(ctx, "qens_basis_fits", res2, "BASIS Si(111): NH4+ tetrahedral reorientation, global fit",
              "Virtual BASIS spectra of reorienting NH4+ ions with the global fit: elastic "
              "fraction and Lorentzian width both follow the tetrahedral C3-jump model "
              "(EISF (1 + 3 j0(Qd))/4).")
    fig, ax = new_figure()
    ef2 = [r.get("elastic_fraction", np.nan) for r in res2.group_rows()]
    ax.plot([r["Q"] for r in res2.group_rows()], ef2, "o", mfc="none", color="0.3",
            label="fitted elastic fraction")
    q_data = [r["Q"] for r in res2.group_rows()] + [r["Q"] for r in rows_q]
    qq = np.linspace(min(q_data), max(q_data), 200)               # the model over the data's Q
    ax.plot(qq, tet.eisf(qq, d=d2[0], tau=TET_TRUTH["tau"]), color="C3",
            label=f"tetrahedral EISF, d = {format_value_error(*d2)} Å")
    ax.plot([r["Q"] for r in rows_q], el, "s", mfc="none", color="C0",
            label="IRIS elastic fraction (immobile host)")
    ax.set_xlabel("|Q| (Å$^{-1}$)")
    ax.set_ylabel("EISF")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=8)
    ctx.report.add_figure("qens_eisf", fig, "Elastic incoherent structure factor: NH4+ "
                          "reorientation (BASIS) against the tetrahedral model, and the constant "
                          "immobile fraction of the jump-diffusion sample (IRIS).")
    ctx.report.add_table("Input versus fitted parameters (pull = (fit − input) / error)", rows,
                         errors={"fitted": "error"})
    ctx.results["qens_virtual"] = rows
    worst = max(abs(r["pull"]) for r in rows)
    return (f"D = {format_value_error(d_fit, d_err)} Å²/ps (input {CE_TRUTH['D']}); largest pull "
            f"{format_number(worst, 3)}")


def step_qens_real_water(ctx: DemoContext) -> str:
    """Translation x rotation analysis of liquid water measured on IN5 (shipped data, BSD-3)."""
    from ..data.io import load
    from ..qens.analysis import QensPlan, analyse
    from ..qens.prepare import crop

    folder = resources.files("latdyn.examples").joinpath("in5_water")
    with resources.as_file(folder.joinpath("H2O_293K_5A.hdf")) as sp, \
            resources.as_file(folder.joinpath("V_273K_5A.hdf")) as vp:
        sample = load(sp)
        vana = load(vp)
        ctx.report.add_input(sp)
        ctx.report.add_input(vp)
    temperature = float(sample.meta.get("sample_temperature", 293.0))
    e_range = (-1.5, 1.5)
    data = crop(sample.data, e_range=e_range)
    plan = QensPlan(elastic=False, diffusion=("ss",), rotation="sphere-rotation:3",
                    background="linear", temperature=temperature)
    analysis = analyse(data, vana.data, plan, progress=False)
    res = analysis.final
    derived = res.derived
    d, d_err = derived["L1_D"].value, derived["L1_D"].error
    tau, tau_err = derived["L1_tau"].value, derived["L1_tau"].error
    extra = {k: v for k, v in derived.items() if not k.startswith("L1_")}
    ctx.report.add_heading("4. QENS of real data: liquid water on IN5 (ILL)")
    ctx.report.add_text(None, f"H2O at {temperature:.1f} K, incident wavelength 5 Å, vanadium as the "
                        "resolution (data: Qvist, Schober and Halle, J. Chem. Phys. 134, 144508 (2011), "
                        "via the QENSmodels project, BSD-3). Model (Teixeira et al., Phys. Rev. A 31, "
                        "1913 (1985)): translational jump diffusion with a Singwi-Sjölander HWHM(Q) "
                        "convolved with isotropic rotational diffusion of the H atoms on a sphere "
                        "(Sears expansion, l ≤ 3), detailed balance, a linear background and an energy "
                        f"shift per Q group, convolved with the vanadium spectra over {e_range[0]} to "
                        f"{e_range[1]} meV. References: D ≈ 0.20-0.23 Å²/ps (NMR 0.203 Å²/ps at this "
                        "temperature), τ ≈ 1.1-1.3 ps.")
    params = {"D (translational)": (d, d_err, "Å²/ps"),
              "residence time τ": (tau, tau_err, "ps")}
    labels = {"_radius": "rotation radius a", "_D_r": "rotational diffusion D_r",
              "_tau1": "rotational time τ₁ = 1/(6 D_r)"}
    for k, q in extra.items():
        suffix = next((s for s in labels if k.endswith(s)), None)
        params[labels[suffix] if suffix else k] = (q.value, q.error, q.unit)
    params["reduced χ²"] = (res.reduced_chi2, None, "")
    ctx.report.add_parameters("Water: translation and rotation parameters", params)
    _fit_plot(ctx, "qens_in5_water", res, "IN5 liquid water: translation × rotation, global fit",
              "Measured IN5 spectra of water with the global fit (log scale).")
    ctx.results["water"] = {"D": (d, d_err), "tau": (tau, tau_err), "redchi": res.reduced_chi2}
    return f"water D = {format_value_error(d, d_err)} Å²/ps, τ = {format_value_error(tau, tau_err)} ps"
