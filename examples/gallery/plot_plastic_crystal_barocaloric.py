"""
Plastic-crystal barocaloric: orientational disorder from the EISF, R ln Omega and dT/dp
=======================================================================================

An NH4X-like ammonium halide whose barocaloric transition disorders the NH4+ tetrahedra.  In
the ordered phase the ions reorient by C3 jumps that map the tetrahedron onto itself: the
protons visit the 4 corners of one tetrahedron (EISF (1 + 3 j0(Q d))/4).  In the disordered
phase the tetrahedron also flips between the two orientations allowed in a cubic site: the
protons visit the 8 corners of a cube (EISF of the cube model).  A C4 rotation about one axis
(4 sites on a circle) is a third candidate.  The EISF measured over a wide Q range decides
between them; the number of orientations gives the configurational entropy
Delta S_conf = R ln(Omega_2 / Omega_1), compared with the transition entropy; the
Clausius-Clapeyron slope dT/dp = Delta V / Delta S follows from the volume change.

Data: latdyn's **virtual experiment**: the cube-jump model (N-H 1.03 A, cube edge
2 x 1.03 / sqrt(3) A, residence time 1.5 ps) measured on the library's CNCS at Ei = 12 meV with
Poisson noise and a vanadium resolution run; each ``|Q|`` fitted alone (elastic line + one
Lorentzian) for a model-free EISF.  The calorimetric transition entropy and the two lattice
parameters below are illustrative inputs of this example (replace them by your DSC and
diffraction values), not measurements of a named compound.

Run alone: ``python examples/gallery/plot_plastic_crystal_barocaloric.py``;
``LATDYN_GALLERY_QUICK=1`` for the quick setting, ``LATDYN_GALLERY_OUT=folder`` for the figure.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import constants as C  # noqa: E402

from latdyn.instruments import load_instrument  # noqa: E402
from latdyn.lineshapes import lorentzian  # noqa: E402
from latdyn.qens import FitSetup, fit, fit_eisf, get_geometry_model, qens_model  # noqa: E402
from latdyn.simulate import virtual_qens  # noqa: E402
from latdyn.thermo import clausius_clapeyron, configurational_entropy  # noqa: E402

QUICK = os.environ.get("LATDYN_GALLERY_QUICK") == "1"
OUT = Path(os.environ.get("LATDYN_GALLERY_OUT", Path(__file__).resolve().parent))
T = 300.0                                   # K, disordered phase
R_NH = 1.03                                 # A, N-H bond
TRUTH = {"a": 2 * R_NH / np.sqrt(3), "tau": 1.5}
EI = 12.0                                   # meV
DELTA_S_TR = (8.0, 0.4)                     # J/(mol K), illustrative calorimetry (value, error)
A_ORDERED, A_DISORDERED = (3.870, 0.001), (3.893, 0.001)   # A, CsCl-type cells, 1 f.u. each
OMEGA = {"tetrahedral:C3": 1, "circle:4": 1, "cube": 2}     # orientations of the tetrahedron

# %%
# The virtual measurement and a model-free EISF (each ``|Q|`` fitted alone)
cncs = load_instrument("CNCS")
cube = get_geometry_model("cube")
q = np.linspace(0.6, 3.8, 9 if QUICK else 16)
amps, widths = cube.terms(q, **TRUTH)
energy = np.linspace(-2.0, 2.0, 161)


def model(qq, e):
    i = int(np.argmin(abs(q - qq)))
    return sum(amps[i, k] * lorentzian(e, widths[i, k], T=T) for k in range(1, 4))


data = virtual_qens(model, cncs, q, energy, ei=EI, counts_scale=400.0 if QUICK else 1500.0,
                    elastic=lambda qq: float(cube.eisf(np.array([qq]), **TRUTH)[0]), seed=7)
vanadium = virtual_qens(lambda qq, e: np.zeros_like(e), cncs, q, energy, ei=EI,
                        counts_scale=3e4, elastic=lambda qq: 1.0, seed=8)
free = fit(data, vanadium, FitSetup(qens_model(1, "flat", temperature=T)), progress=False)
rows = free.group_rows()
qf = np.array([r["Q"] for r in rows])
eisf = np.array([r["elastic_fraction"] for r in rows])
eisf_err = np.array([r["elastic_fraction_err"] for r in rows])

# %%
# Geometry models of the EISF: C3 jumps (4 sites), C4 rotation (4 on a circle), cube (8 sites)
init = {"tetrahedral:C3": {"d": 1.6}, "circle:4": {"radius": 1.0}, "cube": {"a": 1.1}}
fits = {spec: fit_eisf(qf, eisf, eisf_err, spec, init=init[spec]) for spec in OMEGA}
best = min(fits, key=lambda s: fits[s].aic)
delta_aic = sorted(f.aic for f in fits.values())[1] - fits[best].aic
size_name = fits[best].names[0]
size, size_err = fits[best].values[0], fits[best].errors[0]

# %%
# Entropy and Clausius-Clapeyron
s_conf = configurational_entropy(OMEGA[best], 1)
v_mol = {k: a[0] ** 3 * C.Avogadro * 1e-24 for k, a in
         (("ordered", A_ORDERED), ("disordered", A_DISORDERED))}            # cm^3/mol
dv = v_mol["disordered"] - v_mol["ordered"]
dv_err = np.hypot(*(3 * a[1] / a[0] * v_mol[k] for k, a in
                    (("ordered", A_ORDERED), ("disordered", A_DISORDERED))))
slope = clausius_clapeyron(dv, DELTA_S_TR[0])                                # K/MPa
slope_err = abs(slope) * np.hypot(dv_err / dv, DELTA_S_TR[1] / DELTA_S_TR[0])

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
axes[0].errorbar(qf, eisf, eisf_err, fmt="o", color="k", label="virtual CNCS, model-free")
qq = np.linspace(0.05, 4.0, 200)
for spec, f in fits.items():
    axes[0].plot(qq, f.curve(qq) if hasattr(f, "curve") else f.function(qq, *f.values),
                 label=f"{spec}: AIC {f.aic:.1f}")
axes[0].set(xlabel="|Q| (1/A)", ylabel="EISF", ylim=(0, 1.05), title=f"NH4+ reorientation, {T:g} K")
axes[0].legend(frameon=False, fontsize=8)
axes[1].bar(["R ln Omega", "Delta S_tr", "Delta S_tr - conf"],
            [s_conf, DELTA_S_TR[0], DELTA_S_TR[0] - s_conf], yerr=[0, DELTA_S_TR[1], DELTA_S_TR[1]],
            color=["C0", "C3", "0.6"])
axes[1].set(ylabel="J/(mol K)", title=f"dT/dp = {1e3 * slope:.0f} +- {1e3 * slope_err:.0f} K/GPa")
fig.savefig(OUT / "plastic_crystal_barocaloric.png", dpi=90)

# %%
# The physical conclusion
for spec, f in fits.items():
    print(f"EISF model {spec:15s}: {f.names[0]} = {f.values[0]:.3f} +- {f.errors[0]:.3f} A, "
          f"chi2_red {f.reduced_chi2:.2f}, AIC {f.aic:.1f}")
print(f"Conclusion: the EISF selects '{best}' (Delta AIC {delta_aic:.1f} to the next model; "
      f"{size_name} = {size:.3f} +- {size_err:.3f} A against {TRUTH['a']:.3f} A simulated), i.e. "
      f"Omega = {OMEGA[best]} orientations: S_conf = R ln {OMEGA[best]} = {s_conf:.2f} J/(mol K) "
      f"against Delta S_tr = {DELTA_S_TR[0]:.1f} +- {DELTA_S_TR[1]:.1f} J/(mol K) "
      f"({100 * s_conf / DELTA_S_TR[0]:.0f} % configurational, the rest vibrational); "
      f"Delta V = {dv:.3f} +- {dv_err:.3f} cm^3/mol gives dT/dp = {slope:.4f} +- {slope_err:.4f} "
      "K/MPa (Clausius-Clapeyron).")
