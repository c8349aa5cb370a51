"""Demo steps for inelastic scattering: a virtual temperature series on AMATERAS with damped
oscillator fits (the overdamping of a superionic conductor), and the generalised DOS and heat
capacity of NaCl from a virtual powder measurement with multiphonon scattering."""

from __future__ import annotations

import numpy as np

from ..inelastic.phonon_peaks import component_label
from ..report import new_figure
from .context import DemoContext

#: Virtual low-energy optical phonon of a superionic argyrodite (Ag8SnSe6-like), meV and K.
T_TRANSITION = 350.0
EI = 7.738


def phonon_truth(T: float) -> dict[str, float]:
    """Input phonon energy E0, damping Gamma (HWHM) and quasi-elastic line at temperature T.

    Below the superionic transition the mode softens slowly and broadens linearly
    (anharmonicity); above it, the mobile Ag ions overdamp it (Gamma > E0) and a quasi-elastic
    line appears.
    """
    e0 = 3.3 - 1.5e-3 * T
    if T < T_TRANSITION:
        return {"E0": e0, "gamma": 0.12 + 1.5e-3 * T, "qe_area": 0.0, "qe_hwhm": 0.3}
    return {"E0": e0, "gamma": 1.25 * e0, "qe_area": 1.0, "qe_hwhm": 0.3}


def step_ins_overdamping(ctx: DemoContext) -> str:
    """Simulate S(Q,E,T) on AMATERAS, cut over 2.0 <= Q <= 2.4, fit DHOs sequentially in T."""
    from ..inelastic import fit_temperature_series
    from ..instruments import load_instrument
    from ..lineshapes import dho, lorentzian
    from ..reduce import cut
    from ..simulate import simulate_sqe

    amateras = load_instrument("AMATERAS")
    temps = [150.0, 300.0, 450.0] if ctx.quick else [100.0, 200.0, 300.0, 400.0, 450.0]
    q = np.linspace(1.6, 2.8, 25)
    e = np.arange(-3.0, 6.5, 0.05)
    u2 = 0.02  # <u_x^2>, A^2, Debye-Waller of the host
    spectra = []
    for k, T in enumerate(temps):
        p = phonon_truth(T)

        def model(qq, ee, p=p, T=T):
            dw = np.exp(-qq**2 * u2)
            s = 0.3 * qq**2 * dw * dho(ee, p["E0"], p["gamma"], T=T)
            if p["qe_area"] > 0:
                s = s + p["qe_area"] * dw * lorentzian(ee, p["qe_hwhm"], T=T)
            return s

        sqe = simulate_sqe(model, amateras, q, e, ei=EI, counts_scale=100.0 if ctx.quick else 200.0,
                           elastic=lambda qq: np.exp(-2 * qq**2 * u2), seed=ctx.seed + 10 + k,
                           progress=False)
        spectra.append(cut(sqe, "Q", 2.0, 2.4, average=True))
    # two models per temperature, with and without the quasi-elastic line; BIC chooses
    from ..inelastic import PhononPeakModel

    kw = dict(ei=EI, n_dho=1, e0=[3.0], gamma=[0.4], group_velocity=[1500.0], progress=False)
    with_qe = fit_temperature_series(spectra, temps, amateras, model=PhononPeakModel(1), **kw)
    no_qe = fit_temperature_series(spectra, temps, amateras,
                                   model=PhononPeakModel(1, quasielastic=False), **kw)

    chosen = [a if a.bic < b.bic else b for a, b in zip(with_qe.fits, no_qe.fits, strict=True)]
    rows = []
    for T, f, a, b in zip(temps, chosen, with_qe.fits, no_qe.fits, strict=True):
        truth = phonon_truth(T)
        v, s = f.values, f.errors
        d = f.derived[0] if f.derived else {}
        rows.append({"T (K)": T, "E0 input": truth["E0"], "E0 fit": v["dho1_E0"],
                     "E0 err": s["dho1_E0"], "Γ input": truth["gamma"], "Γ fit": v["dho1_gamma"],
                     "Γ err": s["dho1_gamma"], "overdamped": d.get("overdamped", ""),
                     "lifetime (ps)": d.get("lifetime_ps", np.nan),
                     "QE line (BIC)": "yes" if f is a else "no", "ΔBIC (no QE − QE)": b.bic - a.bic,
                     "QE HWHM fit": v.get("qe_hwhm", np.nan), "χ²_red": f.reduced_chi2})
    ctx.report.add_heading("6. INS: phonon damping and overdamping versus temperature")
    ctx.report.add_text(None, f"Virtual powder S(Q,E) of an argyrodite-like superionic conductor on "
                        f"AMATERAS at Ei = {EI} meV (latdyn.instruments resolution, Poisson noise), "
                        "cut over 2.0 ≤ Q ≤ 2.4 Å⁻¹ as in Fig. 9(e,f) of the seed review, fitted with "
                        "elastic line + damped harmonic oscillator with the Bose factor (+ background), "
                        "with and without a quasi-elastic Lorentzian, each convolved with the "
                        "energy-dependent resolution; the Bayesian information criterion decides "
                        "whether the quasi-elastic line is needed. Overdamped means "
                        "Γ ≥ E0 (the DHO poles reach the imaginary axis); lifetime τ = ħ/(2Γ).")
    ctx.report.add_table("DHO fits versus temperature (energies in meV)", rows,
                         errors={"E0 fit": "E0 err", "Γ fit": "Γ err"})
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(temps), figsize=(3.3 * len(temps), 3.2), dpi=110,
                             constrained_layout=True)
    for ax, T, f in zip(np.atleast_1d(axes), temps, chosen, strict=True):
        ax.errorbar(f.E, f.y, f.sigma_y, fmt=".", ms=2, lw=0.5, color="0.3")
        ax.plot(f.E, f.model, color="C3", lw=1.2, label="fit")
        for name, part in f.parts.items():
            if name.startswith(("dho", "qe")):
                ax.plot(f.E, part, lw=0.8, ls="--", label=component_label(name))
        ax.set_yscale("log")
        ax.set_ylim(max(1e-3, np.nanmin(f.model[f.model > 0]) * 0.5), 2.0 * np.nanmax(f.y))
        ax.set_title(f"{T:g} K", fontsize=9)
        ax.set_xlabel("Energy transfer (meV)")
    np.atleast_1d(axes)[0].set_ylabel("S(E) (counts/meV)")
    np.atleast_1d(axes)[-1].legend(frameon=False, fontsize=7)
    ctx.report.add_figure("ins_dho_fits", fig, "Cuts over 2.0–2.4 Å⁻¹ with the fitted model and "
                          "its damped-oscillator and quasi-elastic components.")
    fig2, ax2 = new_figure()
    ax2.errorbar(temps, [r["E0 fit"] for r in rows], [r["E0 err"] for r in rows], fmt="o", label="E0 fit")
    ax2.errorbar(temps, [r["Γ fit"] for r in rows], [r["Γ err"] for r in rows], fmt="s", label="Γ fit")
    tt = np.linspace(min(temps), max(temps), 200)
    ax2.plot(tt, [phonon_truth(t)["E0"] for t in tt], color="C0", lw=0.8, label="E0 input")
    ax2.plot(tt, [phonon_truth(t)["gamma"] for t in tt], color="C1", lw=0.8, label="Γ input")
    ax2.axvline(T_TRANSITION, color="0.6", ls=":", lw=1)
    ax2.set_xlabel("Temperature (K)")
    ax2.set_ylabel("Energy (meV)")
    ax2.legend(frameon=False, fontsize=8)
    ctx.report.add_figure("ins_dho_vs_T", fig2, "Fitted phonon energy and damping versus temperature "
                          "against the input; above the transition (dotted) Γ exceeds E0: overdamped.")
    ctx.results["ins_series"] = rows
    flags = [bool(r["overdamped"]) for r in rows]
    return f"{len(temps)} temperatures; overdamped at {[t for t, f in zip(temps, flags, strict=True) if f]} K"


def step_dos_thermo(ctx: DemoContext) -> str:
    """NaCl: virtual powder S(Q,E) with multiphonon terms -> generalised DOS -> Cv versus 3R."""
    from ..data import DensityOfStates
    from ..instruments import load_instrument
    from ..reduce import effective_mass, generalized_dos, neutron_weighted_dos, neutron_weighted_sqe
    from ..thermo import DULONG_PETIT, entropy, heat_capacity

    dos = ctx.results["nacl_dos"]
    energy = ctx.results["nacl_dos_energy"]
    per_species = dos.by_species()
    partial = {name: (energy, np.clip(per_species.partial(name).values, 0.0, None))
               for name in per_species.labels}
    T = 300.0
    mari = load_instrument("MARI")
    ei = 45.0
    q = np.linspace(0.5, 9.0, 60)
    e = np.linspace(1.0, 40.0, 157)
    sqe = neutron_weighted_sqe(q, e, partial, "NaCl", T)
    rng = np.random.default_rng(ctx.seed + 99)
    scale = 2e4 if ctx.quick else 1e5
    counts = rng.poisson(np.clip(sqe.values, 0.0, None) * scale)
    sqe.values = counts / scale
    sqe.variances = np.maximum(counts, 1.0) / scale**2
    cov = mari.coverage(ei=ei, energy=e)
    qq, ee = np.meshgrid(q, e, indexing="ij")
    import scipp as sc

    sqe.masks["outside_coverage"] = sc.array(dims=["Q", "E"], values=~cov.contains(qq, ee))
    gd = generalized_dos(sqe, T, effective_mass("NaCl"), q_range=(2.0, 8.5), e_range=(1.0, 35.0))
    truth = neutron_weighted_dos(gd.dos.energy, partial, "NaCl")
    g_fit = gd.dos.g
    g_true = truth.values
    big = g_true > 0.1 * g_true.max()
    l1 = float(np.sum(np.abs(g_fit - g_true)) / np.sum(g_true))
    ctx.report.add_heading("7. DOS and thermodynamics")
    ctx.report.add_text(None, f"Virtual powder measurement of NaCl at {T:g} K: the incoherent-"
                        "approximation S(Q,E) including 2- and higher-phonon terms and the Debye-Waller "
                        f"factor, neutron-weighted (σ/M), Poisson noise, masked to MARI's coverage at "
                        f"Ei = {ei:g} meV. The generalised DOS is extracted over 2.0–8.5 Å⁻¹ with the "
                        "iterative multiphonon correction and compared with the neutron-weighted DOS "
                        "of the force-constant model.")
    fig, ax = new_figure()
    ax.plot(truth.coords["E"].values, g_true, color="k", lw=1.2, label="neutron-weighted DOS (model)")
    ax.errorbar(gd.dos.energy, g_fit, np.sqrt(gd.dos.total.variances), fmt=".", ms=3, lw=0.6,
                color="C3", label="extracted generalised DOS")
    ax.set_xlabel("Energy (meV)")
    ax.set_ylabel("g(E) (1/meV per atom)")
    ax.legend(frameon=False, fontsize=8)
    ctx.report.add_figure("nacl_gdos", fig, f"Generalised DOS from the virtual powder data after "
                          f"{gd.iterations} multiphonon iterations (multiphonon share "
                          f"{100 * gd.multiphonon_fraction:.0f} % of the inelastic intensity).")
    temps = np.linspace(5.0, 600.0, 120)
    total = DensityOfStates.from_arrays(energy, np.clip(dos.g, 0.0, None))
    cv = heat_capacity(total, temps)
    cv_meas = heat_capacity(DensityOfStates.from_arrays(gd.dos.energy, np.clip(g_fit, 0.0, None)),
                            temps)
    s300 = float(entropy(total, np.array([300.0]))[0])
    fig2, ax2 = new_figure()
    ax2.plot(temps, cv / DULONG_PETIT, color="k", label="force-constant DOS")
    ax2.plot(temps, cv_meas / DULONG_PETIT, color="C3", ls="--", label="extracted generalised DOS")
    ax2.axhline(1.0, color="0.5", lw=0.8, ls=":", label="Dulong-Petit 3R")
    ax2.set_xlabel("Temperature (K)")
    ax2.set_ylabel("C$_V$ / 3R per mole of atoms")
    ax2.legend(frameon=False, fontsize=8)
    ctx.report.add_figure("nacl_cv", fig2, "Harmonic heat capacity of NaCl relative to the "
                          "Dulong-Petit limit, from the model DOS and from the extracted DOS.")
    i300 = int(np.argmin(abs(temps - 300.0)))
    rows = [
        {"quantity": "L1 difference, extracted vs model DOS", "value": l1},
        {"quantity": "largest difference where g > 10 % of max (relative to max)",
         "value": float(np.max(np.abs(g_fit - g_true)[big]) / g_true.max())},
        {"quantity": "multiphonon share of the inelastic intensity", "value": gd.multiphonon_fraction},
        {"quantity": "<u_x²> at 300 K from the extraction (Å²)", "value": gd.msd},
        {"quantity": "C_V/3R at 300 K (model DOS)", "value": float(cv[i300] / DULONG_PETIT)},
        {"quantity": "C_V/3R at 300 K (extracted DOS)", "value": float(cv_meas[i300] / DULONG_PETIT)},
        {"quantity": "vibrational entropy at 300 K (J/mol-atoms/K)", "value": s300},
    ]
    ctx.report.add_table("DOS extraction and thermodynamics", rows)
    ctx.results["dos_thermo"] = rows
    return f"GDOS L1 error {100 * l1:.1f} %; Cv/3R(300 K) = {cv[i300] / DULONG_PETIT:.3f}"
