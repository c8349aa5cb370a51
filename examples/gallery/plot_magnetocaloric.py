"""
Magnetocaloric: phase fractions versus field and the lattice + magnetic entropy balance
=======================================================================================

A MnCoGe-like magnetocaloric with a first-order transition from a paramagnetic hexagonal
(Ni2In-type) to a ferromagnetic orthorhombic (TiNiSi-type) phase, driven by the magnetic field.
Powder patterns along field sweeps (up and down, at two temperatures) are fitted with both
phases (scales, lattice parameters, widths, background and the ordered moment refined); the
orthorhombic weight fraction versus field gives the transition fields, the hysteresis and
dT_t/d(mu0 H).  Clausius-Clapeyron with the refined Delta M gives the transition entropy, which
is compared with a lattice term (phonon DOS of the two phases) plus a magnetic term (mean-field
moments).

Data: the structures shipped with latdyn (``latdyn/examples/mncoge``: representative MnCoGe-family
cells and a ferromagnetic order of the orthorhombic phase, 2.8 mu_B on Mn, 0.4 on Co; not a
refinement).  The field sweeps are latdyn's **virtual experiment** on a generic cold-neutron
constant-wavelength diffractometer (2.41 A) with Poisson noise; the logistic transition
they follow obeys the Clausius-Clapeyron slope of the entropy model below.  Model assumptions:
Debye phonon DOS of the two phases (Debye temperatures 300 K and 297 K) and mean-field J = 1.5
Mn moments (orthorhombic T_C = 345 K).

Run alone: ``python examples/gallery/plot_magnetocaloric.py``; ``LATDYN_GALLERY_QUICK=1`` for
the quick setting, ``LATDYN_GALLERY_OUT=folder`` for the figure.
"""

import os
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latdyn.data import DensityOfStates  # noqa: E402
from latdyn.diffraction import Phase, fit_series, magnetic_powder_pattern  # noqa: E402
from latdyn.instruments import instrument_from_dict  # noqa: E402
from latdyn.simulate import virtual_phase_sweep  # noqa: E402
from latdyn.structure import read_cif, read_magnetic_structure  # noqa: E402
from latdyn.thermo import debye_dos, entropy_balance  # noqa: E402

QUICK = os.environ.get("LATDYN_GALLERY_QUICK") == "1"
OUT = Path(os.environ.get("LATDYN_GALLERY_OUT", Path(__file__).resolve().parent))
DIFFRACTOMETER = {"name": "generic CW diffractometer", "kind": "diffractometer_cw",
                  "description": "gallery instrument: 2.41 angstrom, medium resolution",
                  "wavelength": 2.41, "caglioti": {"U": 0.08, "V": -0.06, "W": 0.06},
                  "detector": {"two_theta_min": 10.0, "two_theta_max": 120.0}}
T1, T2 = 290.0, 294.0            # K
H_UP, H_DOWN = 2.0, 1.4          # simulated transition fields at T1 (T), field up and down
WIDTH = 0.3                      # T, logistic width of the simulated transition
THETA_HEX, THETA_ORTH = 300.0, 297.0
TC_ORTH, J_MN, MOMENT = 345.0, 1.5, 2.8
PER_MN = (MOMENT + 0.4) / MOMENT     # the Co moment scales with Mn's in the refined model

with resources.as_file(resources.files("latdyn.examples") / "mncoge") as d:
    hexa = read_cif(d / "MnCoGe_hexagonal.cif")
    orth = read_magnetic_structure(d / "MnCoGe_orthorhombic_FM.yaml")
inst = instrument_from_dict(DIFFRACTOMETER)
pattern = magnetic_powder_pattern(orth, np.arange(10.0, 120.0, 0.05), wavelength=inst.wavelength,
                                  U=inst.u, V=inst.v, W=inst.w)

# %%
# The entropy model fixes the Clausius-Clapeyron slope the virtual sweeps obey
e = np.linspace(0.0, 45.0, 2001)
dos_hex = DensityOfStates.from_arrays(e, debye_dos(e, THETA_HEX))
dos_orth = DensityOfStates.from_arrays(e, debye_dos(e, THETA_ORTH))
model = entropy_balance(T1, J=J_MN, T_c2=TC_ORTH, field_T=H_UP, dos_1=dos_hex, dos_2=dos_orth,
                        atoms_per_formula_unit=3, delta_m=MOMENT * PER_MN)

# %%
# Virtual field sweeps, each pattern fitted with both phases
phases = [Phase("hex", hexa), Phase("orth", orth, refine_moment=True)]
n = 6 if QUICK else 11
field = np.linspace(0.0, 5.0, n)
runs = [(T1, "up", H_UP), (T1, "down", H_DOWN), (T2, "up", H_UP + (T2 - T1) / model.slope)]
series = {}
for k, (T, sweep, h_t) in enumerate(runs):
    hf = field if sweep == "up" else field[::-1]
    w = 1.0 / (1.0 + np.exp(-(hf - h_t) / WIDTH))
    data = virtual_phase_sweep(phases, np.stack([1 - w, w], axis=1), hf, inst, sweeps=[sweep] * n,
                               values=[{"moment_orth": MOMENT}] * n, counts=4e3, seed=50 + k,
                               labels=[f"T{T:g}_{sweep}_{x:.2f}T" for x in hf])
    series[(T, sweep)] = fit_series(data, phases, quantity="field", transition_phase="orth",
                                    widths={"U": inst.u, "V": inst.v, "W": inst.w})

fields = {}
for key, s in series.items():
    t = s.transitions[0]
    fields[key] = t.midpoint
h_up, h_dn, h_up2 = fields[(T1, "up")], fields[(T1, "down")], fields[(T2, "up")]
hysteresis = (h_up[0] - h_dn[0], float(np.hypot(h_up[1], h_dn[1])))
d_h = h_up2[0] - h_up[0]
slope = (T2 - T1) / d_h
slope_err = abs(slope) * float(np.hypot(h_up2[1], h_up[1])) / abs(d_h)
m_fit, m_err, _ = series[(T1, "up")].fits[-1].params["moment_orth"]
balance = entropy_balance(T1, J=J_MN, T_c2=TC_ORTH, field_T=H_UP, dos_1=dos_hex, dos_2=dos_orth,
                          atoms_per_formula_unit=3, delta_m=m_fit * PER_MN, measured_slope=slope)
ds_err = abs(balance.measured) * float(np.hypot(slope_err / slope, m_err / m_fit))

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
tt = pattern.x
axes[0].plot(tt, pattern.nuclear, lw=0.8, label="nuclear")
axes[0].plot(tt, pattern.magnetic, lw=0.8, color="C3", label="magnetic")
axes[0].set(xlabel="2theta (deg)", ylabel="intensity", title="orthorhombic ferromagnet, 2.41 A")
axes[0].legend(frameon=False)
for (T, sweep), s in series.items():
    x, w, err = s.fraction_curve("orth", sweep)
    axes[1].errorbar(x, w, err, fmt="o" if sweep == "up" else "s", ms=4,
                     mfc=None if sweep == "up" else "none", label=f"{T:g} K, field {sweep}")
axes[1].set(xlabel="mu0 H (T)", ylabel="orthorhombic weight fraction",
            title="phase fractions from two-phase fits")
axes[1].legend(frameon=False, fontsize=8)
fig.savefig(OUT / "magnetocaloric.png", dpi=90)

# %%
# The physical conclusion
print(f"transition fields at {T1:g} K: up {h_up[0]:.3f} +- {h_up[1]:.3f} T, down {h_dn[0]:.3f} +- "
      f"{h_dn[1]:.3f} T; at {T2:g} K up {h_up2[0]:.3f} +- {h_up2[1]:.3f} T")
print(f"Conclusion: dT_t/d(mu0 H) = {slope:.2f} +- {slope_err:.2f} K/T (model {model.slope:.2f}), "
      f"hysteresis {hysteresis[0]:.3f} +- {hysteresis[1]:.3f} T; refined moment {m_fit:.2f} +- "
      f"{m_err:.2f} mu_B on Mn gives Delta S = {balance.measured:.2f} +- {ds_err:.2f} J/(mol K) "
      f"(Clausius-Clapeyron) against lattice {balance.delta_s_lattice:+.2f} + magnetic "
      f"{balance.delta_s_magnetic:+.2f} = {balance.delta_s_model:.2f} J/(mol K); "
      f"{balance.sign_statement()}.")
