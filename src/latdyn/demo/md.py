"""Demo step: correlation functions from a molecular-dynamics-like trajectory.

The trajectory is generated here with known dynamics so that every result can be checked: a
bcc iodine host vibrating as Ornstein-Uhlenbeck oscillators (<u_x^2> = s2, relaxation time
tau) and a mobile silver sublattice diffusing with coefficient D (the alpha-AgI picture).
Exact self functions: F_s,Ag(Q,t) = exp(-D Q^2 t) and
F_s,I(Q,t) = exp(-Q^2 s2 (1 - exp(-t/tau))) (Gaussian approximation, exact for these processes).
"""

from __future__ import annotations

import numpy as np

from ..report import format_number, format_value_error, new_figure
from .context import DemoContext

D_AG = 0.1        # A^2/ps
S2_I = 0.02       # A^2, <u_x^2> of the host
TAU_I = 0.2       # ps
A_LATTICE = 5.07  # A, alpha-AgI


def _trajectory(n_cells: int, frames: int, dt: float, rng) -> tuple[np.ndarray, np.ndarray, list[str]]:
    grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 3)
    iodine = ((grid[:, None, :] + np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])[None]) * A_LATTICE)
    iodine = iodine.reshape(-1, 3)
    n = len(iodine)
    box = A_LATTICE * n_cells
    u = rng.normal(0.0, np.sqrt(S2_I), (n, 3))
    silver = rng.random((n, 3)) * box
    f = np.exp(-dt / TAU_I)
    pos = np.empty((frames, 2 * n, 3))
    for t in range(frames):
        pos[t, :n] = iodine + u
        pos[t, n:] = silver
        u = u * f + rng.normal(0.0, np.sqrt(S2_I * (1 - f * f)), u.shape)
        silver = silver + rng.normal(0.0, np.sqrt(2 * D_AG * dt), silver.shape)
    return np.mod(pos, box), np.eye(3) * box, ["I"] * n + ["Ag"] * n


def step_md(ctx: DemoContext) -> str:
    """Write the trajectory as H5MD, read it back, and compute MSD, D, F_s(Q,t) and S(Q,E)."""
    from ..md import (
        compute_correlations,
        compute_msd,
        correlation_arrays,
        fit_diffusion,
        open_trajectory,
        qpoints_in_shells,
        write_h5md,
    )

    rng = np.random.default_rng(ctx.seed + 21)
    frames, dt = (1000, 0.02) if ctx.quick else (2000, 0.02)
    pos, cell, symbols = _trajectory(4, frames, dt, rng)
    path = write_h5md(ctx.out / "md" / "agi_virtual_md.h5", pos, cell, symbols, dt,
                      single_precision=True)
    traj = open_trajectory(path)
    msd = compute_msd(traj, window=200, origin_step=5, progress=False)
    d_ag = fit_diffusion(msd).coefficient("Ag")
    d_fit, d_err = d_ag.value, d_ag.error
    qset = qpoints_in_shells(traj.cell, q_max=2.5, n_shells=8, max_per_shell=30)
    corr = compute_correlations(traj, qset.q, window=100, origin_step=5, incoherent=True,
                                progress=False)
    dg = correlation_arrays(corr, qset, weighting="neutron")
    # the species partials F_s_<a> are normalised by the total atom count: divide by c_a
    c = {s: symbols.count(s) / len(symbols) for s in ("Ag", "I")}
    fs = dg["F_s_Ag"]
    q = fs.coords["Q"].values
    t = fs.coords["t"].values
    fs_ag = fs.values / c["Ag"]
    fi = dg["F_s_I"].values / c["I"]
    exact_ag = np.exp(-D_AG * q[:, None] ** 2 * t[None, :])
    exact_i = np.exp(-q[:, None] ** 2 * S2_I * (1 - np.exp(-t[None, :] / TAU_I)))
    dev_ag = float(np.max(np.abs(fs_ag - exact_ag)))
    dev_i = float(np.max(np.abs(fi - exact_i)))
    ctx.report.add_heading("9. Molecular dynamics: correlation functions from a trajectory")
    ctx.report.add_text(None, f"A trajectory of {len(symbols)} atoms × {frames} frames (dt = {dt} ps) "
                        "with known dynamics: bcc I vibrating (Ornstein-Uhlenbeck, <u_x²> = "
                        f"{S2_I} Å², τ = {TAU_I} ps) and Ag diffusing (D = {D_AG} Å²/ps), written as "
                        "H5MD and read back in frame chunks. Self intermediate scattering functions "
                        "F_s(Q,t) on box reciprocal-lattice points in |Q| shells, mean-square "
                        "displacements and the diffusion coefficient.")
    fig, ax = new_figure()
    for i in range(0, len(q), max(1, len(q) // 4)):
        line, = ax.plot(t, fs_ag[i], lw=1.2, label=f"Ag, Q = {q[i]:.2f} Å$^{{-1}}$")
        ax.plot(t, exact_ag[i], ls="--", lw=0.8, color=line.get_color())
        ax.plot(t, fi[i], lw=0.8, color=line.get_color(), alpha=0.6)
    ax.set_xlabel("Time (ps)")
    ax.set_ylabel("F$_s$(Q, t)")
    ax.legend(frameon=False, fontsize=8, title="solid: MD, dashed: exp(−DQ²t); faint: I host",
              title_fontsize=7)
    ctx.report.add_figure("md_fs", fig, "Self intermediate scattering functions of the mobile Ag "
                          "(decay to zero, diffusion) and the vibrating I host (plateau at the "
                          "Debye-Waller factor) against the exact results.")
    fig2, ax2 = new_figure()
    for name in msd.species:
        ax2.plot(msd.time, msd.msd[msd.species.index(name)], label=f"{name} MSD")
    ax2.plot(msd.time, 6 * d_fit * msd.time, "--", color="0.4",
             label=f"6Dt, D = {format_value_error(d_fit, d_err)} Å²/ps")
    ax2.set_xlabel("Time (ps)")
    ax2.set_ylabel("MSD (Å²)")
    ax2.legend(frameon=False, fontsize=8)
    ctx.report.add_figure("md_msd", fig2, "Mean-square displacements: Ag diffuses (linear), the I "
                          "host vibrates (bounded at 6 <u_x²>).")
    rows = [{"quantity": "D_Ag input (Å²/ps)", "value": D_AG},
            {"quantity": "D_Ag from the MSD slope ± blocking standard error (Å²/ps)",
             "value": format_value_error(d_fit, d_err)},
            {"quantity": "max |F_s,Ag − exp(−DQ²t)|", "value": dev_ag},
            {"quantity": "max |F_s,I − exact|", "value": dev_i},
            {"quantity": "q-points used", "value": len(qset.q)}]
    ctx.report.add_table("Trajectory analysis against the exact dynamics", rows)
    ctx.results["md"] = rows
    return (f"D_Ag = {format_value_error(d_fit, d_err)} Å²/ps (input {D_AG}); max F_s deviation "
            f"{format_number(dev_ag, 2)}")
