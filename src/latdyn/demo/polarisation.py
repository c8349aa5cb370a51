"""Demo step: polarisation analysis separates coherent from incoherent QENS of an ion conductor.

A model lithium-ion conductor (natural Li: coherent and spin-incoherent cross sections of the
same order): the mobile ions jump (Singwi-Sjolander, seen by the spin-incoherent scattering) and
their density relaxes collectively with de Gennes narrowing (seen by the coherent scattering).
The virtual experiment measures the z non-spin-flip and spin-flip channels with a flipping ratio
of 20 (corrected from a simulated quartz run) and Poisson noise; the uniaxial separation gives
the two parts with exact errors, and each is fitted with its own physics.
"""

from __future__ import annotations

import numpy as np

from ..report import format_value_error
from .context import DemoContext

#: the model: self diffusion (A^2/ps, ps), collective diffusion (A^2/ps), mobile fraction
TRUTH = {"D_self": 0.05, "tau": 1.0, "D_collective": 0.2, "mobile": 0.7}
FLIPPING = 20.0
RESOLUTION_HWHM = 0.03   # meV


def s_of_q(q):
    """Model static structure factor of the mobile ions: a peak at 1.4 1/A over a liquid-like
    baseline."""
    q = np.asarray(q, dtype=float)
    return 1.0 + 0.8 * np.exp(-(q - 1.4) ** 2 / 0.08) - 0.5 * np.exp(-q**2 / 0.3)


def step_polarisation(ctx: DemoContext) -> str:
    """Virtual z-polarisation QENS, uniaxial separation, de Gennes and jump-diffusion fits."""
    import matplotlib.pyplot as plt

    from ..convolution.resolution import AnalyticResolution
    from ..lineshapes import sigma_from_hwhm
    from ..polarisation import (
        fit_coherent,
        fit_incoherent,
        flipping_ratios,
        ion_conductor_parts,
        quartz_channels,
        sample_cross_sections,
        separate,
        simulate_channels,
        structure_factor,
    )
    from ..qens import de_gennes_model, fit_hwhm

    rep = ctx.report
    rep.add_heading("11. Polarisation analysis: coherent versus incoherent QENS of an ion conductor")
    xs = sample_cross_sections("Li")
    sig_coh, sig_si = xs["sigma_coh"] + xs["sigma_ii"], xs["sigma_si"]
    nq = 6 if ctx.quick else 9
    q = np.linspace(0.4, 2.0, nq)
    e = np.linspace(-1.5, 1.5, 81)
    parts = ion_conductor_parts(q, e, sigma_coh=sig_coh, sigma_si=sig_si, D_self=TRUTH["D_self"],
                                tau=TRUTH["tau"], D_collective=TRUTH["D_collective"], s_of_q=s_of_q,
                                mobile_fraction=TRUTH["mobile"], resolution_hwhm=RESOLUTION_HWHM)
    channels = simulate_channels(parts, ("z",), exposure=3e6, flipping=FLIPPING, seed=ctx.seed + 71)
    quartz = quartz_channels(channels["z_sf"], ("z",), flipping=FLIPPING, counts=3e3, seed=ctx.seed + 72)
    F = flipping_ratios(quartz, integrate="E")
    sep = separate(channels, "uniaxial", flipping=F)
    f_mean = float(np.mean(F["z"].values))
    f_err = float(np.mean(np.sqrt(F["z"].variances)))
    rep.add_text(None, f"Natural Li per ion: σ_coh + σ_ii = {sig_coh:.3f} b, σ_si = {sig_si:.3f} b "
                 "(spin incoherence from the isotopes' own cross sections). Model: a fraction "
                 f"{TRUTH['mobile']:g} of the ions jump with D_s = {TRUTH['D_self']:g} Å²/ps and τ = "
                 f"{TRUTH['tau']:g} ps (Singwi-Sjölander); their density relaxes with "
                 f"D_c = {TRUTH['D_collective']:g} Å²/ps narrowed by S(Q) (de Gennes). Gaussian resolution "
                 f"HWHM {1e3 * RESOLUTION_HWHM:g} µeV. The z NSF and SF channels are counted with "
                 f"flipping ratio {FLIPPING:g}; a simulated quartz run gives F per detector (mean "
                 f"{format_value_error(f_mean, f_err)}),"
                 " and the uniaxial separation (I_si = 3/2 SF, N = NSF − SF/2 after the flipping "
                 "correction) propagates counts and F exactly.")
    res = AnalyticResolution(np.full(nq, float(sigma_from_hwhm(RESOLUTION_HWHM))), np.zeros(nq),
                             np.full(nq, RESOLUTION_HWHM), np.zeros(nq), Q=q)
    coh = fit_coherent(sep, res, (q, s_of_q(q)))
    sq_sep = structure_factor(sep, sig_coh, sig_si)
    rows = coh.rows()
    # the same per-Q widths against the de Gennes curve of the S(Q) the separation itself gives
    coh_sep = fit_hwhm(q, [r["hwhm"] for r in rows], [r["hwhm_err"] for r in rows],
                       de_gennes_model(q, sq_sep.values))
    inc = fit_incoherent(sep, res, diffusion=("singwi-sjolander",))

    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.6), dpi=110, constrained_layout=True)
    g = nq // 2
    for k, lab in (("z_nsf", "NSF"), ("z_sf", "SF")):
        axes[0].plot(e, channels[k].values[g], lw=0.8, label=f"{lab} (measured)")
    for k, lab in (("coherent", "coherent"), ("spin_incoherent", "spin incoherent")):
        axes[0].plot(e, sep[k].values[g], lw=1.0, ls="--", label=f"{lab} (separated)")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("E (meV)")
    axes[0].set_ylabel("counts")
    axes[0].set_title(f"Q = {q[g]:.2f} Å⁻¹", fontsize=9)
    axes[0].legend(frameon=False, fontsize=7)
    axes[1].errorbar(q, [r["hwhm"] for r in rows], [r["hwhm_err"] for r in rows], fmt="o", ms=4,
                     label="coherent")
    axes[1].plot(q, [r["hwhm_de_gennes"] for r in rows], "-", lw=1, label="de Gennes fit")
    axes[1].errorbar(q, [r["hwhm_1"] for r in inc.widths], [r["hwhm_1_err"] for r in inc.widths], fmt="^",
                     ms=4, label="spin incoherent")
    qq = np.linspace(q.min(), q.max(), 100)
    axes[1].plot(qq, inc.hwhm_fits["singwi-sjolander"].curve(qq), "--", lw=1, label="jump-diffusion fit")
    axes[1].set_xlabel("Q (Å⁻¹)")
    axes[1].set_ylabel("HWHM (meV)")
    axes[1].legend(frameon=False, fontsize=7)
    axes[2].errorbar(q, sq_sep.values, np.sqrt(sq_sep.variances), fmt="s", ms=4,
                     label="coherent / incoherent (window)")
    axes[2].plot(qq, s_of_q(qq), "-", lw=1, label="model S(Q)")
    axes[2].set_xlabel("Q (Å⁻¹)")
    axes[2].set_ylabel("S(Q)")
    axes[2].legend(frameon=False, fontsize=7)
    rep.add_figure("polarisation_qens", fig, "Left: the measured z channels and the separated parts at "
                   "one Q. Middle: quasi-elastic widths of the separated parts, the collective one narrowed "
                   "where S(Q) peaks (de Gennes), the self one saturating (jump diffusion). Right: S(Q) from "
                   "the coherent / spin-incoherent ratio over the ±1.5 meV window, which misses the wings of "
                   "the broad coherent line at large Q (quasi-static approximation).")
    plt.close(fig)
    d_c = coh.derived["D_collective"]
    d_c2 = coh_sep.derived["D"]
    hs = inc.headline()["quantities"]
    table = [
        {"quantity": "D_c (collective), S(Q) of the model", "true": TRUTH["D_collective"],
         "fitted": d_c.value, "error": d_c.error, "unit": "Å²/ps"},
        {"quantity": "D_c, S(Q) from the separation", "true": TRUTH["D_collective"], "fitted": d_c2.value,
         "error": d_c2.error, "unit": "Å²/ps"},
        {"quantity": "D_s (self)", "true": TRUTH["D_self"], "fitted": hs["L1_D"]["value"],
         "error": hs["L1_D"]["error"], "unit": "Å²/ps"},
        {"quantity": "τ (residence time)", "true": TRUTH["tau"], "fitted": hs["L1_tau"]["value"],
         "error": hs["L1_tau"]["error"], "unit": "ps"},
    ]
    rep.add_table("Recovered dynamics", table, errors={"fitted": "error"})
    ctx.results["polarisation"] = {"D_c": d_c, "D_s": hs["L1_D"], "tau": hs["L1_tau"]}
    return (f"D_c = {format_value_error(d_c.value, d_c.error)} Å²/ps (true {TRUTH['D_collective']:g}), "
            f"D_s = {format_value_error(hs['L1_D']['value'], hs['L1_D']['error'])} "
            f"(true {TRUTH['D_self']:g})")
