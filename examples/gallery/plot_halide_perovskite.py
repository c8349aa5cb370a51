"""
Halide perovskite: diffuse rods from soft octahedral tilts, damped modes along M-R, LO-TO
=========================================================================================

A CsPbBr3-like cubic perovskite.  Its PbBr6 octahedra share corners, so their rigid rotations
(the rigid-unit modes, RUMs) cost almost nothing along the whole M-R line of the Brillouin zone
(Giddy, Dove, Pawley and Heine, Acta Cryst. A 49, 697 (1993)).  Because each mode scatters with
weight (2n + 1)/omega ~ 2 k_B T / omega^2, the thermal diffuse scattering (TDS, the
energy-integrated one-phonon intensity, ``latdyn.phonons.diffuse_map``) of such a crystal
shows rods along M-R: in the (H, K, 1/2) plane they are the lines H = n + 1/2 and K = n + 1/2.
The same modes sit lowest in S(Q,E) along M-R.

Model (an honest, small one; no first-principles CsPbBr3 force constants are shipped): central
springs (``latdyn.phonons.spring_model``) Pb-Br 2.0, Br-Br 0.6 (keeps the octahedra nearly
rigid) and Cs-Br 0.05 eV/A^2 (the weakly bound A-site cation) in the cubic cell a = 5.87 A.
The spring values are chosen, not fitted: the numbers below show what such a model does, not
CsPbBr3's measured energies.  The damping of the low-energy modes (observed in CsPbBr3 along
M-R) is not computed by a harmonic model: it is put in by hand as an energy width
FWHM(E) = 0.3 + 2.5 exp(-(E/2.5 meV)^2) meV.

LO-TO splitting: the spring model has no Born charges, so the splitting is shown on the NaCl
force constants shipped with latdyn (phonondb, A. Togo, CC BY 4.0), which carry Born charges
and the dielectric tensor: the non-analytic term at Gamma lifts the LO mode above the TO mode.

Run alone: ``python examples/gallery/plot_halide_perovskite.py``; ``LATDYN_GALLERY_QUICK=1``
for the quick setting, ``LATDYN_GALLERY_OUT=folder`` for the figure.
"""

import os
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latdyn.phonons import (  # noqa: E402
    calculate_modes,
    debye_waller,
    diffuse_map,
    load_phonopy,
    path_map,
    phonon_crystal,
    spring_model,
)

QUICK = os.environ.get("LATDYN_GALLERY_QUICK") == "1"
OUT = Path(os.environ.get("LATDYN_GALLERY_OUT", Path(__file__).resolve().parent))
T = 300.0          # K
A = 5.87           # A, cubic CsPbBr3-like cell

crystal = phonon_crystal(A * np.eye(3), [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5],
                                         [0.5, 0.5, 0.5]], ["Pb", "Br", "Br", "Br", "Cs"])
model = spring_model(crystal, cutoff=4.3, k={("Pb", "Br"): 2.0, ("Br", "Br"): 0.6,
                                             ("Cs", "Br"): 0.05})
points = {"Gamma": (0, 0, 0), "X": (0.5, 0, 0), "M": (0.5, 0.5, 0), "R": (0.5, 0.5, 0.5)}
lowest = {name: float(calculate_modes(model, [q], eigenvectors=False, progress=False)
                      .energies[0, 3 if name == "Gamma" else 0]) for name, q in points.items()}

# %%
# Thermal diffuse scattering in the (H, K, 1/2) plane, Debye-Waller factors on a 6^3 mesh
n = 41 if QUICK else 121
dw = debye_waller(model, T, 4 if QUICK else 8)
tds, info = diffuse_map(model, (0, 0, 0.5), (1, 0, 0), (0, 1, 0), (-2.5, 2.5), (-2.5, 2.5), T,
                        nu=n, nv=n, dw=dw)
h, k = np.meshgrid(tds.coords["x"].values, tds.coords["y"].values, indexing="ij")


def _near(x, centre, tol=0.06):
    return np.abs((x - centre) - np.rint(x - centre)) < tol


on_rod = _near(h, 0.5) | _near(k, 0.5)
off_rod = _near(h, 0.25, 0.1) & _near(k, 0.25, 0.1)
intensity = tds.values
contrast = intensity[on_rod].mean() / intensity[off_rod].mean()
# spread over the points of each set: the error of the contrast from its sampling
err = contrast * np.hypot(intensity[on_rod].std() / intensity[on_rod].mean() / np.sqrt(on_rod.sum()),
                          intensity[off_rod].std() / intensity[off_rod].mean()
                          / np.sqrt(off_rod.sum()))

# %%
# S(Q,E) along Gamma-M-R-Gamma around G = (2, 1, 0), with the hand-put damping


def damping(e):
    return 0.3 + 2.5 * np.exp(-(np.asarray(e) / 2.5) ** 2)


path = [(2, 1, 0), (2.5, 1.5, 0), (2.5, 1.5, 0.5), (2, 1, 0)]
sqe = path_map(model, path, np.linspace(-5.0, 25.0, 151), T, npts=90 if QUICK else 240,
               labels=["Gamma", "M", "R", "Gamma"], dw=dw, broadening=damping)
x = sqe.coords["q"].values
e_edges = sqe.coords["E"].values
lab = np.array([str(s) for s in sqe.coords["label"].values])
corner = [float(x[np.flatnonzero(lab == name)[0]]) for name in ("M", "R")]
low = (e_edges[:-1] > 0.5) & (e_edges[1:] < 4.0)
along_mr = (x > corner[0]) & (x < corner[1])
along_gm = x < corner[0]
share = [float(sqe.values[sel][:, low].sum() / sqe.values[sel][:, e_edges[:-1] > 0.5].sum())
         for sel in (along_mr, along_gm)]

# %%
# LO-TO splitting of NaCl from its Born charges (shipped phonopy data)
with resources.as_file(resources.files("latdyn.examples") / "nacl" / "phonopy_nacl.yaml") as p:
    polar = load_phonopy(p)
    no_nac = load_phonopy(p, nac=False)
e_lo = calculate_modes(polar, [[0, 0, 0]], directions=[[1, 0, 0]], progress=False).energies[0]
e_to = calculate_modes(no_nac, [[0, 0, 0]], progress=False).energies[0]
splitting = float(e_lo.max() - e_to.max())
z_na = float(np.trace(polar.dipole.born[0]) / 3)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
im = axes[0].pcolormesh(h, k, np.log10(intensity), shading="auto", cmap="viridis")
fig.colorbar(im, ax=axes[0], label="log10 I (barn/atom)")
axes[0].set(xlabel="H (r.l.u.)", ylabel="K (r.l.u.)", aspect="equal",
            title=f"TDS in (H, K, 1/2), {T:g} K: rods along M-R")
e_mid = 0.5 * (e_edges[1:] + e_edges[:-1])
im2 = axes[1].pcolormesh(x, e_mid, np.log10(np.maximum(sqe.values.T, 1e-6)), shading="auto",
                         cmap="magma", vmin=-3)
for c in corner:
    axes[1].axvline(c, color="w", lw=0.6)
axes[1].set_xticks([x[0], *corner, x[-1]], ["Γ", "M", "R", "Γ"])
axes[1].set(ylabel="E (meV)", title="S(Q,E) along Γ-M-R-Γ (damping put in by hand)")
fig.colorbar(im2, ax=axes[1], label="log10 S (mbarn/meV)")
fig.savefig(OUT / "halide_perovskite.png", dpi=90)

# %%
# The physical conclusion
print("lowest mode energies (meV): " + ", ".join(f"{k} {v:.2f}" for k, v in lowest.items()))
print(f"TDS (H,K,1/2) at {T:g} K: {n}x{n} points, imaginary modes left out: {info.n_imaginary}")
print(f"Conclusion: diffuse intensity on the M-R rods is {contrast:.2f} +- {err:.2f} times that "
      f"between them (1/omega^2 weighting of the rigid-unit modes, lowest at M {lowest['M']:.2f} "
      f"and R {lowest['R']:.2f} meV against X {lowest['X']:.2f} meV); {100 * share[0]:.0f} % of "
      f"the inelastic S(Q,E) along M-R lies below 4 meV against {100 * share[1]:.0f} % along "
      f"Gamma-M; NaCl LO-TO splitting at Gamma from Born charges (Z*_Na = {z_na:.2f} e): "
      f"{splitting:.2f} meV (TO {e_to.max():.2f} -> LO {e_lo.max():.2f} meV).")
