"""Demo step: lattice-spin coupling in a MnCoGe-like magnetocaloric.

A ferromagnetic orthorhombic (TiNiSi-type) phase and a paramagnetic hexagonal (Ni2In-type) phase:
the magnetic powder pattern; virtual field sweeps across the first-order transition at two
temperatures on a constant-wavelength diffractometer (up and down, with hysteresis), fitted back
for Hill-Howard fractions and the ordered moment; the transition fields give dT_t/d(mu0 H), and
Clausius-Clapeyron with the fitted Delta M gives the entropy change that the lattice (model phonon
DOS) and magnetic (mean-field) terms are compared with.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..report import format_value_error, new_figure
from .context import DemoContext

#: A generic cold-neutron constant-wavelength powder diffractometer (user definition).
DIFFRACTOMETER = {"name": "generic CW diffractometer", "kind": "diffractometer_cw",
                  "description": "demo instrument: 2.41 angstrom, medium resolution",
                  "wavelength": 2.41, "caglioti": {"U": 0.08, "V": -0.06, "W": 0.06},
                  "detector": {"two_theta_min": 10.0, "two_theta_max": 120.0}}
T1, T2 = 290.0, 294.0            # K
H_UP, H_DOWN = 2.0, 1.4          # transition fields at T1 (T), up and down
WIDTH = 0.3                      # T, logistic width of the simulated transition
THETA_HEX, THETA_ORTH = 300.0, 297.0   # Debye temperatures of the model phonon DOS (K)
TC_ORTH, J_MN = 345.0, 1.5             # mean-field Curie temperature (K) and J of the Mn moments
MOMENT = 2.8                     # mu_B on Mn (0.4 on Co) in the simulated orthorhombic phase


def _fractions(h, h_t):
    w = 1.0 / (1.0 + np.exp(-(h - h_t) / WIDTH))
    return np.stack([1 - w, w], axis=1), w


def step_lattice_spin(ctx: DemoContext) -> str:
    """Magnetic pattern, phase fractions versus field, Clausius-Clapeyron and the entropy balance."""
    from ..diffraction import Phase, fit_series, magnetic_powder_pattern
    from ..instruments import instrument_from_dict
    from ..simulate import virtual_phase_sweep
    from ..structure import read_cif, read_magnetic_structure
    from ..thermo import as_dos, debye_dos, entropy_balance

    with resources.as_file(resources.files("latdyn.examples").joinpath("mncoge")) as d:
        hexa = read_cif(d / "MnCoGe_hexagonal.cif")
        orth = read_magnetic_structure(d / "MnCoGe_orthorhombic_FM.yaml")
        for f in ("MnCoGe_hexagonal.cif", "MnCoGe_orthorhombic.cif", "MnCoGe_orthorhombic_FM.yaml"):
            ctx.report.add_input(d / f)
    rep = ctx.report
    rep.add_heading("10. Lattice-spin coupling: a MnCoGe-like magnetocaloric")
    rep.add_text(None, "Hexagonal (Ni2In type, paramagnetic) and orthorhombic (TiNiSi type, "
                 "ferromagnetic, 2.8 μB on Mn and 0.4 μB on Co along a) phases of a MnCoGe-like "
                 "compound (representative structures, not a refinement). The field drives the "
                 "first-order transition hexagonal → orthorhombic; the experiment is virtual.")
    inst = instrument_from_dict(DIFFRACTOMETER)
    tt = np.arange(10.0, 120.0, 0.05)
    pat = magnetic_powder_pattern(orth, tt, wavelength=inst.wavelength, U=inst.u, V=inst.v, W=inst.w)
    fig, ax = new_figure(7.0, 4.0)
    ax.plot(tt, pat.nuclear, lw=0.8, label="nuclear")
    ax.plot(tt, pat.magnetic, lw=0.8, color="C3", label="magnetic")
    ax.set_xlabel("2θ (°)")
    ax.set_ylabel("Intensity")
    ax.legend(frameon=False)
    first = pat.rows(limit=200)
    strongest = max((r for r in first if r["F2_magnetic"] > 0),
                    key=lambda r: r["multiplicity"] * r["F2_magnetic"])
    rep.add_figure("mncoge_magnetic_pattern", fig, "Orthorhombic ferromagnet at λ = 2.41 Å: the "
                   "magnetic scattering (moments along a, dipole form factors of Mn3+ and Co2+, "
                   "p = 2.695 fm/μB) sits on the nuclear peaks at low angle and fades with the form "
                   f"factor; strongest magnetic line ({strongest['h']} {strongest['k']} {strongest['l']})"
                   f" at d = {strongest['d']:.3f} Å.")

    # the model entropy balance fixes the Clausius-Clapeyron slope the virtual sweeps obey
    e = np.linspace(0.0, 45.0, 2001)
    dos_hex, dos_orth = as_dos(e, debye_dos(e, THETA_HEX)), as_dos(e, debye_dos(e, THETA_ORTH))
    per_mn = (MOMENT + 0.4) / MOMENT          # the Co moment scales with Mn's in the refined model
    model = entropy_balance(T1, J=J_MN, T_c2=TC_ORTH, field_T=H_UP, dos_1=dos_hex, dos_2=dos_orth,
                            atoms_per_formula_unit=3, delta_m=MOMENT * per_mn)
    slope_true = model.slope
    phases = [Phase("hex", hexa), Phase("orth", orth, refine_moment=True)]
    n = 7 if ctx.quick else 9
    h = np.linspace(0.0, 5.0, n)
    runs = [(T1, "up", H_UP), (T1, "down", H_DOWN), (T2, "up", H_UP + (T2 - T1) / slope_true)]
    rng_seed = ctx.seed + 31
    series = {}
    truth = {}
    for k, (T, sweep, h_t) in enumerate(runs):
        field = h if sweep == "up" else h[::-1]
        fr, w = _fractions(field, h_t)
        moments = [{"moment_orth": MOMENT}] * n
        data = virtual_phase_sweep(phases, fr, field, inst, sweeps=[sweep] * n, values=moments,
                                   counts=4e3, seed=rng_seed + k,
                                   labels=[f"T{T:g}_{sweep}_{x:.2f}T" for x in field])
        s = fit_series(data, phases, quantity="field", transition_phase="orth",
                       widths={"U": inst.u, "V": inst.v, "W": inst.w})
        series.setdefault(T, []).append(s)
        truth[(T, sweep)] = (h_t, {d.label: wi for d, wi in zip(data, w, strict=True)})

    fig2, ax2 = new_figure(7.0, 4.2)
    rows = []
    pulls = []
    for (T, sweep, _), color in zip(runs, ("C0", "C0", "C3"), strict=True):
        s = next(x for x in series[T] if x.fits[0].sweep == sweep)
        x, w, e = s.fraction_curve("orth", sweep)
        ax2.errorbar(x, w, e, fmt="o" if sweep == "up" else "s", ms=4, color=color,
                     mfc=None if sweep == "up" else "none", label=f"{T:g} K, field {sweep}")
        t = s.transitions[0] if s.transitions else None
        if t is not None:
            xx = np.linspace(0, 5, 200)
            ax2.plot(xx, t.curve(xx), color=color, lw=1, ls="-" if sweep == "up" else "--")
        h_t, wtrue = truth[(T, sweep)]
        pulls += [(f.fractions["orth"][0] - wtrue[f.label]) / f.fractions["orth"][1] for f in s.fits]
        rows.append({"T (K)": T, "sweep": sweep, "true μ0H_t (T)": h_t,
                     "fitted μ0H_t (T)": t.midpoint[0] if t else float("nan"),
                     "error (T)": t.midpoint[1] if t else float("nan"),
                     "10-90 % width (T)": t.width_10_90[0] if t else float("nan"),
                     "all fits converged": bool(s.converged)})
    ax2.set_xlabel("μ0H (T)")
    ax2.set_ylabel("Orthorhombic weight fraction")
    ax2.legend(frameon=False, fontsize=8)
    rep.add_figure("mncoge_fractions", fig2, "Orthorhombic weight fraction (Hill-Howard, from "
                   "two-phase fits of each virtual pattern with scales, lattice parameters, zero, "
                   "widths, background and the ordered moment refined) versus field; lines: "
                   "logistic fits of the transition.")
    rep.add_table("Transition fields from the fraction curves", rows,
                  errors={"fitted μ0H_t (T)": "error (T)"})
    pulls = np.array(pulls)
    up1 = rows[0]
    hyst = up1["fitted μ0H_t (T)"] - rows[1]["fitted μ0H_t (T)"]
    hyst_err = float(np.hypot(up1["error (T)"], rows[1]["error (T)"]))
    dH = rows[2]["fitted μ0H_t (T)"] - up1["fitted μ0H_t (T)"]
    dH_err = float(np.hypot(rows[2]["error (T)"], up1["error (T)"]))
    slope = (T2 - T1) / dH
    slope_err = abs(slope) * dH_err / abs(dH)

    # Delta M per formula unit from the fitted moment of the orthorhombic phase at high field
    s_up = next(x for x in series[T1] if x.fits[0].sweep == "up")
    m_fit, m_err, _ = s_up.fits[-1].params["moment_orth"]
    delta_m = m_fit * per_mn
    bal = entropy_balance(T1, J=J_MN, T_c2=TC_ORTH, field_T=H_UP, dos_1=dos_hex, dos_2=dos_orth,
                          atoms_per_formula_unit=3, delta_m=delta_m, measured_slope=slope,
                          molar_mass=_molar_mass(hexa))
    ds_err = abs(bal.measured) * float(np.hypot(slope_err / slope, m_err / m_fit))
    rep.add_text("Clausius-Clapeyron and the entropy balance",
                 f"Model (phase 2 = orthorhombic minus phase 1 = hexagonal, at {T1:g} K): lattice "
                 f"term from Debye phonon DOS (θ_D {THETA_HEX:g} K and {THETA_ORTH:g} K: an assumption "
                 f"of this demo), magnetic term of mean-field J = {J_MN:g} Mn moments (orthorhombic "
                 f"T_C = {TC_ORTH:g} K, hexagonal paramagnetic); with ΔM = {MOMENT * per_mn:.2f} μB/f.u. "
                 f"its Clausius-Clapeyron slope is {slope_true:.2f} K/T, which the virtual sweeps at "
                 f"{T1:g} K and {T2:g} K obey. The fitted transition fields give dT_t/d(μ0H) = "
                 f"{format_value_error(slope, slope_err)} K/T and a hysteresis of "
                 f"{format_value_error(hyst, hyst_err)} T (simulated {H_UP - H_DOWN:g} T); the refined "
                 f"moment {format_value_error(m_fit, m_err)} μB on Mn gives ΔM = {delta_m:.2f} μB/f.u. "
                 f"and ΔS = -ΔM/(dT/dμ0H) = {format_value_error(bal.measured, ds_err)} J/(mol K) against "
                 f"the model's {bal.delta_s_model:.2f}: the chain fit → transition → "
                 f"Clausius-Clapeyron closes. {bal.sign_statement()}.")
    rep.add_figure("mncoge_entropy_balance", bal.figure(), "Entropy changes hexagonal → "
                   "orthorhombic at the transition; 'measured' is the Clausius-Clapeyron value "
                   "of the virtual experiment")
    rep.add_table("Entropy balance (per mole of formula units)", bal.rows())
    ctx.results["lattice_spin"] = {"transitions": rows, "slope": (slope, slope_err),
                                   "slope_true": slope_true, "delta_s": (bal.measured, ds_err),
                                   "hysteresis": (hyst, hyst_err), "balance": bal.summary(),
                                   "fraction_pulls_within_2sigma": float(np.mean(np.abs(pulls) < 2))}
    return (f"μ0H_t {up1['fitted μ0H_t (T)']:.2f} T (up), hysteresis {hyst:.2f} T, "
            f"dT/dμ0H {slope:.2f} K/T, ΔS {bal.measured:.1f} vs model {bal.delta_s_model:.1f} J/(mol K)")


def _molar_mass(crystal) -> float:
    """g/mol of one formula unit MnCoGe (the hexagonal cell holds two)."""
    return crystal.masses.sum() / 2.0
