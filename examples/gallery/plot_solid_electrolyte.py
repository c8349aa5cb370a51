"""
Solid electrolyte: Li diffusion from QENS and from a trajectory, side by side
=============================================================================

An argyrodite-like Li conductor.  Two routes to the Li diffusion coefficient D(T) and its
activation energy:

* **QENS**: the quasi-elastic width of the Li jumps, fitted globally over ``|Q|`` with the
  Chudley-Elliott jump model (HWHM = (hbar/tau)(1 - sin(Ql)/(Ql)), D = l^2 / (6 tau)) at each
  temperature; the elastic incoherent structure factor (EISF) is the immobile framework's share.
* **Trajectory**: the mean-square displacement (D from its slope, blocking errors), the self
  intermediate scattering function F_s(Q,t) and the self van Hove function G_s(r,t), whose
  shells at the jump length show that Li moves by hops.

Arrhenius fits of both D(T) give the activation energy.  The Li partial DOS and its band centre
are compared with the framework's (a softer Li sublattice: lower band centre of the mobile
ion's partial DOS correlates with low migration barriers; Muy et al., Energy Environ. Sci. 11,
850 (2018)).

Data: latdyn's **virtual experiment** and a **model trajectory**, both from one jump model
(Li hopping between sites 2.5 A apart with residence time tau(T) = tau_300 exp(E_a/k_B (1/T -
1/300 K)), E_a = 0.20 eV, tau_300 = 20 ps; framework vibrating with <u_x^2> = 0.01 A^2).  The
QENS spectra are measured on the library's IRIS (PG002) with Poisson noise and a vanadium run;
the trajectory is a kinetic Monte Carlo of uncorrelated hops with Ornstein-Uhlenbeck vibrations,
written as H5MD and read back exactly as an MD file would be (it is not a force-field MD run).
The partial DOS comes from a central-spring model of antifluorite Li2S (Li-S 1.0, S-S 0.3,
Li-Li 0.2 eV/A^2, a = 5.71 A), a stand-in for the argyrodite's Li-S framework.

Run alone: ``python examples/gallery/plot_solid_electrolyte.py``; ``LATDYN_GALLERY_QUICK=1``
for the quick setting, ``LATDYN_GALLERY_OUT=folder`` for the figure.
"""

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latdyn.data import DensityOfStates  # noqa: E402
from latdyn.instruments import load_instrument  # noqa: E402
from latdyn.lineshapes import lorentzian  # noqa: E402
from latdyn.md import (  # noqa: E402
    compute_correlations,
    compute_msd,
    compute_van_hove,
    correlation_arrays,
    fit_diffusion,
    open_trajectory,
    qpoints_in_shells,
    write_h5md,
)
from latdyn.phonons import phonon_crystal, phonon_dos, spring_model  # noqa: E402
from latdyn.qens import FitSetup, chudley_elliott, fit, qens_model  # noqa: E402
from latdyn.simulate import virtual_qens  # noqa: E402
from latdyn.thermo import arrhenius_fit, band_centre  # noqa: E402
from latdyn.units import HBAR_MEV_PS, KB_MEV_PER_K  # noqa: E402

QUICK = os.environ.get("LATDYN_GALLERY_QUICK") == "1"
OUT = Path(os.environ.get("LATDYN_GALLERY_OUT", Path(__file__).resolve().parent))
E_A, TAU_300, JUMP = 0.20, 20.0, 2.5        # eV, ps, A
IMMOBILE = 0.4                              # elastic (framework) share of the QENS signal
U2 = 0.01                                   # A^2, <u_x^2> of the vibrations
temps = [300.0, 335.0, 370.0] if QUICK else [300.0, 320.0, 340.0, 360.0, 380.0]


def tau(T):
    """Residence time of the jump model (ps)."""
    return TAU_300 * np.exp(E_A * 1e3 / KB_MEV_PER_K * (1.0 / T - 1.0 / 300.0))


def d_true(T):
    return JUMP**2 / (6.0 * tau(T))


# %%
# QENS on IRIS: a global Chudley-Elliott fit at each temperature
iris = load_instrument("IRIS")
q = np.linspace(0.5, 1.8, 7 if QUICK else 10)
qens = []
for i, T in enumerate(temps):
    gamma = chudley_elliott(q, d_true(T), JUMP)

    def model(qq, e, gamma=gamma, T=T):
        return (1 - IMMOBILE) * lorentzian(e, float(np.interp(qq, q, gamma)), T=T)

    data = virtual_qens(model, iris, q, counts_scale=400.0 if QUICK else 1000.0,
                        elastic=lambda qq: IMMOBILE, seed=10 + i)
    vanadium = virtual_qens(lambda qq, e: np.zeros_like(e), iris, q, counts_scale=3e4,
                            elastic=lambda qq: 1.0, seed=40 + i)
    setup = FitSetup(qens_model(1, "flat", temperature=T))
    setup.tie_diffusion("L1", "chudley-elliott", init={"D": 0.05, "l": 2.0})
    res = fit(data, vanadium, setup, progress=False)
    eisf = [r["elastic_fraction"] for r in res.group_rows()]
    qens.append({"T": T, "D": res.derived["L1_D"].value, "D_err": res.derived["L1_D"].error,
                 "l": res.derived["L1_l"].value, "l_err": res.derived["L1_l"].error,
                 "eisf": float(np.mean(eisf)), "eisf_spread": float(np.std(eisf))})

# %%
# The trajectory: hops on a simple-cubic Li sublattice in a vibrating framework
rng = np.random.default_rng(2026)
n_cells, dt = 4, 0.1                                   # sites per edge, ps per frame
frames = 1000 if QUICK else 2500
grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 3)
box = n_cells * JUMP
hops = np.concatenate([np.eye(3), -np.eye(3)]) * JUMP
md = []
van_hove = None
for T in temps:
    li = grid * JUMP + 0.0
    frame_u = rng.normal(0.0, np.sqrt(U2), (2, len(grid), 3))
    keep = np.exp(-dt / 0.2)
    pos = np.empty((frames, 2 * len(grid), 3))
    p_hop = 1.0 - np.exp(-dt / tau(T))
    for t in range(frames):
        pos[t, : len(grid)] = li + frame_u[0]
        pos[t, len(grid):] = (grid + 0.5) * JUMP + frame_u[1]
        jump = rng.random(len(grid)) < p_hop
        li[jump] += hops[rng.integers(0, 6, jump.sum())]
        frame_u = frame_u * keep + rng.normal(0.0, np.sqrt(U2 * (1 - keep**2)), frame_u.shape)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_h5md(Path(tmp) / f"li_{T:g}K.h5", np.mod(pos, box), np.eye(3) * box,
                          ["Li"] * len(grid) + ["S"] * len(grid), dt)
        traj = open_trajectory(path)
        msd = compute_msd(traj, window=frames // 5, origin_step=5, progress=False)
        dfit = fit_diffusion(msd).coefficient("Li")
        if T == temps[-1]:
            lag = int(round(tau(T) / dt))
            van_hove = compute_van_hove(traj, lags=[lag], r_max=6.0, n_bins=120, origin_step=20,
                                        max_origins=20, distinct=False, progress=False)
            qset = qpoints_in_shells(traj.cell, q_max=1.8, n_shells=3, max_per_shell=6)
            corr = compute_correlations(traj, qset.q, window=100, origin_step=10, incoherent=True,
                                        progress=False)
            f_s = correlation_arrays(corr, qset, weighting="neutron")["F_s_Li"]
            fs_q, fs_t = f_s.coords["Q"].values, f_s.coords["t"].values
            fs_li = f_s.values / 0.5                 # partials are per atom of the whole system
            # Chudley-Elliott with the Debye-Waller plateau of the vibrations
            fs_model = np.exp(-fs_q[:, None] ** 2 * U2) * np.exp(
                -chudley_elliott(fs_q, d_true(T), JUMP)[:, None] * fs_t[None, :] / HBAR_MEV_PS)
            fs_dev = float(np.max(np.abs(fs_li - fs_model)))
    md.append({"T": T, "D": dfit.value, "D_err": dfit.error})

ea_qens = arrhenius_fit([r["T"] for r in qens], [r["D"] for r in qens], [r["D_err"] for r in qens])
ea_md = arrhenius_fit([r["T"] for r in md], [r["D"] for r in md], [r["D_err"] for r in md])

# %%
# Partial DOS of a Li2S-like spring model: Li and framework band centres
li2s = phonon_crystal(5.71 / 2 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]),
                      [[0, 0, 0], [0.25, 0.25, 0.25], [0.75, 0.75, 0.75]], ["S", "Li", "Li"])
springs = spring_model(li2s, cutoff=4.1, k={("Li", "S"): 1.0, ("S", "S"): 0.3, ("Li", "Li"): 0.2})
dos = phonon_dos(springs, 8 if QUICK else 16, np.linspace(0.0, 80.0, 321), broadening=1.0)
species = dos.by_species()
energy = species.partial("Li").coords["E"].values
energy = 0.5 * (energy[1:] + energy[:-1]) if energy.size == species.partial("Li").sizes["E"] + 1 \
    else energy
centres = {name: band_centre(DensityOfStates.from_arrays(energy, species.partial(name).values))
           for name in species.labels}

fig, axes = plt.subplots(1, 4, figsize=(17, 3.8), constrained_layout=True)
inv = 1000.0 / np.array(temps)
for rows, name, fmt in ((qens, "QENS (IRIS)", "o"), (md, "trajectory MSD", "s")):
    axes[0].errorbar(inv, [r["D"] for r in rows], [r["D_err"] for r in rows], fmt=fmt, mfc="none",
                     label=name)
axes[0].plot(inv, [d_true(t) for t in temps], "k-", lw=0.8, label="model")
axes[0].set(yscale="log", xlabel="1000/T (1/K)", ylabel="D (A^2/ps)", title="Arrhenius")
axes[0].legend(frameon=False, fontsize=8)
r_vh = van_hove.r
g = van_hove.g_self[van_hove.species.index("Li"), 0]
axes[1].plot(r_vh, 4 * np.pi * r_vh**2 * g)
for shell in (1, np.sqrt(2), np.sqrt(3)):
    axes[1].axvline(shell * JUMP, color="0.6", ls=":")
axes[1].set(xlabel="r (A)", ylabel="4 pi r^2 G_s(r, t)",
            title=f"Li self van Hove at t = tau = {tau(temps[-1]):.1f} ps, {temps[-1]:g} K")
for name in species.labels:
    axes[2].plot(energy, species.partial(name).values, label=f"{name}: <E> = {centres[name]:.1f} meV")
axes[2].set(xlabel="E (meV)", ylabel="partial DOS (states/meV/atom)", title="Li2S-like spring model")
axes[2].legend(frameon=False, fontsize=8)
for i in range(len(fs_q)):
    line, = axes[3].plot(fs_t, fs_li[i], label=f"Q = {fs_q[i]:.2f} 1/A")
    axes[3].plot(fs_t, fs_model[i], ls="--", lw=0.8, color=line.get_color())
axes[3].set(xlabel="t (ps)", ylabel="F_s(Q, t) of Li", title="trajectory (solid), jump model (dashed)")
axes[3].legend(frameon=False, fontsize=8)
fig.savefig(OUT / "solid_electrolyte.png", dpi=90)

# %%
# The physical conclusion
for a, b in zip(qens, md, strict=True):
    print(f"T = {a['T']:g} K: D_QENS = {a['D']:.4f} +- {a['D_err']:.4f}, D_MSD = {b['D']:.4f} +- "
          f"{b['D_err']:.4f}, model {d_true(a['T']):.4f} A^2/ps; jump length {a['l']:.2f} +- "
          f"{a['l_err']:.2f} A; EISF {a['eisf']:.3f} (immobile share {IMMOBILE})")
print(f"Conclusion: E_a(QENS) = {ea_qens.activation_energy:.3f} +- "
      f"{ea_qens.activation_energy_error:.3f} eV and E_a(MSD) = {ea_md.activation_energy:.3f} +- "
      f"{ea_md.activation_energy_error:.3f} eV (model {E_A} eV): both routes see the same hopping "
      f"(F_s(Q,t) within {fs_dev:.3f} of the jump model at {temps[-1]:g} K); "
      f"Li band centre {centres['Li']:.1f} meV against the S framework's {centres['S']:.1f} meV.")
