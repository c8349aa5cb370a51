"""
Superionic thermoelectric: phonon lifetimes to a kinetic lattice thermal conductivity
=====================================================================================

An Ag8SnSe6-like argyrodite: a low-energy Ag-dominated phonon is measured on AMATERAS at
several temperatures, each spectrum is fitted with an elastic line, a damped harmonic
oscillator (DHO, with the Bose factor) and a quasi-elastic line, convolved with the
instrument resolution.  The dampings Gamma(T) give lifetimes tau = hbar / (2 Gamma), mean free
paths l = v tau and the kinetic lattice thermal conductivity kappa_L = 1/3 C v l; above the
superionic transition the mobile Ag ions overdamp the mode (Gamma >= E0) and it no longer
carries heat as a phonon.  The harmonic heat capacity is compared with Dulong-Petit.

Data: no public Ag8SnSe6 spectra are shipped, so this is latdyn's **virtual experiment**: a
model S(Q,E) (inputs below: the mode softens slowly, broadens with T, and is overdamped above
350 K, where a quasi-elastic line appears) measured on the library's AMATERAS at Ei = 7.7 meV
with Poisson noise.  Assumptions of this example (not measured here): the fitted mode stands
for the 3 heat-carrying acoustic-like branches per primitive cell (one formula unit, cubic
F-43m cell a = 11.1 A), their group velocity v = 1500 m/s, and a Debye temperature of 190 K
for the heat-capacity curve.  ``KAPPA_REFERENCE`` is the value to compare with: replace it by
your laser-flash kappa_L; the default 0.25 W/(m K) stands for the "ultralow" kappa_L reported
for Ag8SnSe6 (order of magnitude, not a quoted measurement).

Run alone: ``python examples/gallery/plot_superionic_thermoelectric.py``;
``LATDYN_GALLERY_QUICK=1`` for the quick setting, ``LATDYN_GALLERY_OUT=folder`` for the figure.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latdyn.data import DensityOfStates  # noqa: E402
from latdyn.inelastic import PhononPeakModel, fit_temperature_series  # noqa: E402
from latdyn.instruments import load_instrument  # noqa: E402
from latdyn.lineshapes import dho, lorentzian  # noqa: E402
from latdyn.reduce import cut  # noqa: E402
from latdyn.simulate import simulate_sqe  # noqa: E402
from latdyn.thermo import (  # noqa: E402
    debye_dos,
    dulong_petit_ratio,
    kappa_average,
    mode_heat_capacity,
)

QUICK = os.environ.get("LATDYN_GALLERY_QUICK") == "1"
OUT = Path(os.environ.get("LATDYN_GALLERY_OUT", Path(__file__).resolve().parent))
T_TRANSITION = 350.0             # K, superionic transition of the model
EI = 7.738                       # meV
V_GROUP = 1500.0                 # m/s, assumed group velocity of the heat carriers
A_CELL = 11.1                    # A, cubic F-43m cell; primitive cell = one formula unit
THETA_D = 190.0                  # K, assumed Debye temperature
KAPPA_REFERENCE = 0.25           # W/(m K), replace by a measured value


def truth(T):
    """Input mode energy E0, damping Gamma (HWHM, meV) and quasi-elastic area at T (K)."""
    e0 = 3.3 - 1.5e-3 * T
    if T < T_TRANSITION:
        return {"E0": e0, "gamma": 0.12 + 1.5e-3 * T, "qe_area": 0.0}
    return {"E0": e0, "gamma": 1.25 * e0, "qe_area": 1.0}


# %%
# The virtual measurement: S(Q,E) on AMATERAS, cut over 2.0-2.4 1/A
amateras = load_instrument("AMATERAS")
temps = [150.0, 300.0, 450.0] if QUICK else [100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 450.0]
q = np.linspace(1.6, 2.8, 13 if QUICK else 25)
energy = np.arange(-3.0, 6.5, 0.05)
spectra = []
for k, T in enumerate(temps):
    p = truth(T)

    def model(qq, ee, p=p, T=T):
        dw = np.exp(-qq**2 * 0.02)
        s = 0.3 * qq**2 * dw * dho(ee, p["E0"], p["gamma"], T=T)
        if p["qe_area"] > 0:
            s = s + p["qe_area"] * dw * lorentzian(ee, 0.3, T=T)
        return s

    sqe = simulate_sqe(model, amateras, q, energy, ei=EI, counts_scale=150.0, seed=100 + k,
                       elastic=lambda qq: np.exp(-0.04 * qq**2), progress=False)
    spectra.append(cut(sqe, "Q", 2.0, 2.4, average=True))

# %%
# DHO fits, sequential in temperature, with the instrument's resolution
series = fit_temperature_series(spectra, temps, amateras, ei=EI, model=PhononPeakModel(1),
                                n_dho=1, e0=[3.0], gamma=[0.4], group_velocity=[V_GROUP],
                                progress=False)
rows = []
for T, f in zip(temps, series.fits, strict=True):
    d = f.derived[0]
    e0, gamma = f.values["dho1_E0"], f.values["dho1_gamma"]
    tau, tau_err = d["lifetime_ps"], d["lifetime_err_ps"]
    # heat capacity per volume of the 3 acoustic-like branches of one primitive cell (J/(m^3 K))
    c_vol = 3 * float(mode_heat_capacity(e0, T)) / (A_CELL**3 / 4 * 1e-30)
    kappa = kappa_average(c_vol, V_GROUP, tau)
    rows.append({"T": T, "E0": e0, "gamma": gamma, "gamma_err": f.errors["dho1_gamma"],
                 "overdamped": bool(d["overdamped"]), "tau": tau, "tau_err": tau_err,
                 "l": d["mean_free_path_A"], "kappa": kappa, "kappa_err": kappa * tau_err / tau})

# %%
# Heat capacity of the Debye model against Dulong-Petit
e = np.linspace(0.0, 40.0, 2001)
dos = DensityOfStates.from_arrays(e, debye_dos(e, THETA_D))
t_cv = np.linspace(5.0, 500.0, 100)
cv_ratio = dulong_petit_ratio(dos, t_cv)

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
tt = np.array([r["T"] for r in rows])
over = np.array([r["overdamped"] for r in rows])
axes[0].errorbar(tt, [r["gamma"] for r in rows], [r["gamma_err"] for r in rows], fmt="o",
                 label="fitted Gamma")
axes[0].plot(tt, [r["E0"] for r in rows], "s", mfc="none", label="fitted E0")
axes[0].axvline(T_TRANSITION, color="0.6", ls=":")
axes[0].set(xlabel="T (K)", ylabel="meV", title="DHO fits (overdamped: Gamma >= E0)")
axes[0].legend(frameon=False)
ok = ~over
axes[1].errorbar(tt[ok], [r["kappa"] for r in np.array(rows)[ok]],
                 [r["kappa_err"] for r in np.array(rows)[ok]], fmt="o", label="kinetic 1/3 C v l")
axes[1].axhline(KAPPA_REFERENCE, color="C3", ls="--", label="reference kappa_L")
axes[1].set(xlabel="T (K)", ylabel="kappa_L (W/(m K))", title="propagating phonons only")
axes[1].legend(frameon=False)
axes[2].plot(t_cv, cv_ratio, color="k")
axes[2].axhline(1.0, color="0.5", ls=":")
axes[2].set(xlabel="T (K)", ylabel="C_V / 3R", title=f"Debye {THETA_D:g} K vs Dulong-Petit")
fig.savefig(OUT / "superionic_thermoelectric.png", dpi=90)

# %%
# The physical conclusion
for r in rows:
    flag = "OVERDAMPED (no phonon heat transport)" if r["overdamped"] else (
        f"tau = {r['tau']:.2f} +- {r['tau_err']:.2f} ps, l = {r['l']:.1f} A, "
        f"kappa_L = {r['kappa']:.4f} +- {r['kappa_err']:.4f} W/(m K)")
    print(f"T = {r['T']:5.0f} K: Gamma = {r['gamma']:.3f} +- {r['gamma_err']:.3f} meV, {flag}")
best = [r for r in rows if not r["overdamped"] and r["T"] >= 250] or [r for r in rows if not r["overdamped"]]
r = best[-1]
i300 = int(np.argmin(abs(t_cv - 300.0)))
print(f"Conclusion: below the superionic transition the kinetic kappa_L = {r['kappa']:.4f} +- "
      f"{r['kappa_err']:.4f} W/(m K) at {r['T']:g} K against the reference {KAPPA_REFERENCE} W/(m K) "
      f"(ratio {r['kappa'] / KAPPA_REFERENCE:.2f}); overdamped at "
      f"{[x['T'] for x in rows if x['overdamped']]} K; C_V/3R = {cv_ratio[i300]:.3f} at 300 K "
      "(Dulong-Petit reached: heat capacity is not what keeps kappa_L low, lifetimes are).")
