"""Analytic limits: ideal gas, Einstein (harmonic) crystal and Brownian diffusion reproduce their
known F_s(Q,t); F(Q,0) is the static structure factor; sum rules of S(Q,E)."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.md.fourier import fourier_spectrum
from latdyn.md.intermediate import compute_correlations
from latdyn.md.msd import compute_msd, fit_diffusion
from latdyn.md.qpoints import qpoints_in_shells
from latdyn.md.trajectory import Trajectory
from latdyn.units import HBAR_MEV_PS


def _shell_mean(values, qset):
    groups = np.unique(qset.group)
    q = np.linalg.norm(qset.q, axis=1)
    return (np.array([q[qset.group == g].mean() for g in groups]),
            np.stack([values[qset.group == g].mean(axis=0) for g in groups]))


def test_ideal_gas_self_function():
    """Free flight r = r0 + v t with Maxwell velocities: F_s(Q,t) = exp(-Q^2 sigma_v^2 t^2 / 2)."""
    rng = np.random.default_rng(5)
    box, n_atoms, n_frames, dt = 20.0, 1500, 12, 0.02
    sigma_v = 3.0                                          # angstrom/ps per component
    r0 = rng.uniform(0, box, (n_atoms, 3))
    v = rng.normal(0, sigma_v, (n_atoms, 3))
    t = np.arange(n_frames) * dt
    pos = r0 + t[:, None, None] * v
    traj = Trajectory.from_arrays(pos, np.eye(3) * box, ["Ar"] * n_atoms, dt=dt)
    qset = qpoints_in_shells(traj.cell, 4.0, n_shells=4, q_min=1.0, max_per_shell=20)
    res = compute_correlations(traj, qset.q, window=n_frames - 1, origin_step=1)
    q, fs = _shell_mean(res.total_incoherent(), qset)
    expected = np.exp(-0.5 * (q[:, None] * sigma_v * res.time[None, :]) ** 2)
    # finite sample of 1500 velocities: statistical error ~ 1/sqrt(N n_q)
    assert np.max(np.abs(fs - expected)) < 0.02
    assert np.allclose(res.total_incoherent()[:, 0], 1.0, atol=1e-12)


def test_einstein_crystal_self_function():
    """Independent harmonic oscillators u(t) = A cos wt + B sin wt, <A^2> = sigma^2 per axis:
    F_s(Q,t) = exp(-Q^2 sigma^2 (1 - cos wt))."""
    rng = np.random.default_rng(7)
    n_cells, a = 8, 3.0
    sites = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    n_atoms, sigma, omega, dt, n_frames = sites.shape[0], 0.12, 20.0, 0.01, 40
    amp_a = rng.normal(0, sigma, (n_atoms, 3))
    amp_b = rng.normal(0, sigma, (n_atoms, 3))
    t = np.arange(n_frames) * dt
    u = np.cos(omega * t)[:, None, None] * amp_a + np.sin(omega * t)[:, None, None] * amp_b
    traj = Trajectory.from_arrays(sites + u, np.eye(3) * n_cells * a, ["Cu"] * n_atoms, dt=dt)
    qset = qpoints_in_shells(traj.cell, 5.0, n_shells=3, q_min=2.0, max_per_shell=15)
    res = compute_correlations(traj, qset.q, window=n_frames - 1)
    q, fs = _shell_mean(res.total_incoherent(), qset)
    expected = np.exp(-(q[:, None] * sigma) ** 2 * (1 - np.cos(omega * res.time[None, :])))
    assert np.max(np.abs(fs - expected)) < 0.03
    # the oscillation comes back: F_s at the period is close to 1 and not to the plateau
    period = int(round(2 * np.pi / omega / dt))
    assert np.all(fs[:, period] > fs[:, period // 2] + 0.05)


def test_static_structure_factor_is_f_at_t0(two_species_walk):
    positions, cell, symbols, _ = two_species_walk
    traj = Trajectory.from_arrays(positions, cell, symbols, dt=0.01)
    qset = qpoints_in_shells(cell, 4.0, n_shells=8, max_per_shell=4)
    res = compute_correlations(traj, qset.q, window=5, incoherent=False)
    # S(q) = <|sum_j exp(i q.r_j)|^2> / N, directly over every frame
    rho = np.exp(1j * np.einsum("fjc,qc->fqj", positions, qset.q)).sum(axis=2)
    s_direct = np.mean(np.abs(rho) ** 2, axis=0) / len(symbols)
    assert np.allclose(res.total_coherent()[:, 0], s_direct, rtol=1e-12)


def test_brownian_self_function_and_diffusion(random_walk):
    """Brownian motion: F_s(Q,t) = exp(-Q^2 D t) and MSD = 6 D t; D recovered within its error."""
    d_in, dt, box = 0.5, 0.01, 15.0
    pos = random_walk(400, 300, box, np.sqrt(2 * d_in * dt), seed=11)
    traj = Trajectory.from_arrays(pos, np.eye(3) * box, ["H"] * 300, dt=dt)
    qset = qpoints_in_shells(traj.cell, 2.0, n_shells=2, q_min=0.8, max_per_shell=10)
    res = compute_correlations(traj, qset.q, window=30, origin_step=5)
    q, fs = _shell_mean(res.total_incoherent(), qset)
    assert np.max(np.abs(fs - np.exp(-q[:, None] ** 2 * d_in * res.time))) < 0.03
    msd = compute_msd(traj, window=100, origin_step=5)
    q = fit_diffusion(msd, n_blocks=5).coefficient("H")
    d, err = q.value, q.error
    assert 0 < err < 0.1 * d_in
    assert abs(d - d_in) < 3 * err


def test_msd_two_species_and_wrapping(random_walk):
    """Wrapped input is unwrapped; the immobile species has D close to 0."""
    box, dt = 10.0, 0.02
    mobile = random_walk(300, 60, box, 0.1, seed=2)
    fixed = np.broadcast_to(random_walk(1, 60, box, 0.0, seed=3), mobile.shape)
    pos = np.concatenate([mobile, fixed], axis=1)
    wrapped = np.mod(pos, box)
    symbols = ["Li"] * 60 + ["La"] * 60
    a = compute_msd(Trajectory.from_arrays(wrapped, np.eye(3) * box, symbols, dt), 50, 2)
    b = compute_msd(Trajectory.from_arrays(pos, np.eye(3) * box, symbols, dt, unwrap=False), 50, 2)
    assert np.allclose(a.msd, b.msd, atol=1e-9)
    assert a.species == ("La", "Li")
    assert np.allclose(a.msd[0], 0.0, atol=1e-20)
    assert np.allclose(a.msd[1, 1:] / a.time[1:], 6 * 0.1**2 / 2 / dt, rtol=0.1)


@pytest.mark.parametrize("window", ["gaussian", "hann", "none"])
def test_spectrum_sum_rule_and_symmetry(window):
    t = np.arange(64) * 0.05
    f = np.exp(-t / 0.4) * np.cos(9.0 * t) * 0.7
    energy, s = fourier_spectrum(f, t, window)
    d_e = energy[1] - energy[0]
    assert np.isclose(np.sum(s) * d_e, 0.7, rtol=1e-10)       # sum rule: F(Q, 0)
    assert np.allclose(s, s[::-1])                              # classical: S(-E) = S(E)


def test_spectrum_of_damped_oscillator_peaks_at_its_energy():
    t = np.arange(400) * 0.01
    omega0 = 15.0                                               # rad/ps
    f = np.exp(-t / 1.0) * np.cos(omega0 * t)
    energy, s = fourier_spectrum(f, t, "gaussian")
    assert abs(abs(energy[np.argmax(s)]) - HBAR_MEV_PS * omega0) < 2 * (energy[1] - energy[0])


def test_quantum_correction_gives_detailed_balance():
    t = np.arange(50) * 0.02
    f = np.exp(-(t / 0.3) ** 2)
    energy, s = fourier_spectrum(f, t, "hann", temperature=100.0)
    kt = 100.0 * 8.617333262e-2
    pos = energy > 0
    assert np.allclose(s[::-1][pos], np.exp(-energy[pos] / kt) * s[pos], rtol=1e-10)
