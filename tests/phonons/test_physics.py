"""Sum rules, limits and invariances of the phonon model on the real NaCl force constants
(phonondb, A. Togo) and against phonopy's own dynamical matrix."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.phonons import load_phonopy, phonon_dos
from latdyn.phonons.maps import fibonacci_sphere, powder_map, sqe_lines
from latdyn.phonons.modes import calculate_modes, degenerate_sets, group_velocities
from latdyn.phonons.one_phonon import coherent_structure_factors
from latdyn.units import KB_MEV_PER_K


def test_acoustic_modes_vanish_at_gamma(nacl_model):
    e = calculate_modes(nacl_model, np.zeros((1, 3))).energies[0]
    assert np.all(np.abs(e[:3]) < 1e-3)
    assert e[3] > 5.0


@pytest.mark.parametrize("asr", ["reciprocal", "realspace"])
@pytest.mark.parametrize("nac", [True, False])
def test_both_asr_schemes_give_zero_acoustic(nacl_dir, asr, nac):
    m = load_phonopy(nacl_dir / "phonopy_nacl.yaml", asr=asr, nac=nac)
    e = calculate_modes(m, np.zeros((1, 3)), eigenvectors=False).energies[0]
    assert np.all(np.abs(e[:3]) < 1e-3)


def test_matches_phonopy_without_nac(nacl_dir):
    import yaml

    from latdyn.units import thz_to_mev

    from .conftest import phonopy_of

    ph = phonopy_of(yaml.safe_load((nacl_dir / "phonopy_nacl.yaml").read_text()), force_constants=True)
    q = np.random.default_rng(3).random((20, 3))
    ph.run_qpoints(q)
    ref = thz_to_mev(ph.qpoints.frequencies)
    m = load_phonopy(nacl_dir / "phonopy_nacl.yaml", asr=None, nac=False)
    mine = calculate_modes(m, q, eigenvectors=False).energies
    # phonopy converts with its own (older) constant for eV/A^2/amu -> THz: ~1e-7
    assert np.max(np.abs(mine - ref) / np.maximum(np.abs(ref), 1.0)) < 1e-6


def test_ewald_result_independent_of_splitting_parameter(nacl_dir):
    q = np.random.default_rng(4).random((10, 3))
    a = load_phonopy(nacl_dir / "phonopy_nacl.yaml", lambda_scale=0.7)
    b = load_phonopy(nacl_dir / "phonopy_nacl.yaml", lambda_scale=1.5)
    ea = calculate_modes(a, q, eigenvectors=False).energies
    eb = calculate_modes(b, q, eigenvectors=False).energies
    assert a.n_gvectors < b.n_gvectors
    assert np.max(np.abs(ea - eb)) < 1e-7


def test_commensurate_points_reproduce_the_supercell_force_constants(nacl_dir):
    """Subtracting and re-adding the dipole part is exact on the supercell's q-points."""
    q = np.array([[0.5, 0, 0], [0.5, 0.5, 0], [0.5, 0.5, 0.5], [0, 0.5, 0]])
    polar = load_phonopy(nacl_dir / "phonopy_nacl.yaml", asr=None)
    plain = load_phonopy(nacl_dir / "phonopy_nacl.yaml", asr=None, nac=False)
    a = calculate_modes(polar, q, eigenvectors=False).energies
    b = calculate_modes(plain, q, eigenvectors=False).energies
    assert np.max(np.abs(a - b)) < 1e-8


def test_lo_to_splitting_is_the_limit_along_the_direction(nacl_model):
    direction = np.array([1.0, 0.0, 0.0])
    at_gamma = calculate_modes(nacl_model, np.zeros((1, 3)),
                               directions=direction[None] * 1.0).energies[0]
    plain = calculate_modes(nacl_model, np.zeros((1, 3))).energies[0]
    near = calculate_modes(nacl_model, np.array([[1e-5, 0, 0]])).energies[0]
    assert at_gamma[-1] > plain[-1] + 3.0          # LO above TO
    assert np.max(np.abs(at_gamma[3:] - near[3:])) < 1e-2


def test_dos_integrates_to_3n(nacl_model):
    edges = np.linspace(-2.0, 35.0, 371)
    res = phonon_dos(nacl_model, 6, edges, broadening=0.3)
    de = np.diff(edges)
    assert np.sum(res.per_formula_unit().values * de) == pytest.approx(24.0, rel=1e-6)
    for v in (res.partial(lab) for lab in res.labels):
        assert np.sum(v.values * de) == pytest.approx(3.0, rel=1e-6)
    assert np.sum(res.neutron_weighted(normalise=False).values * de) > 0


def test_adaptive_dos_conserves_states(nacl_model):
    edges = np.linspace(-5.0, 40.0, 451)
    res = phonon_dos(nacl_model, 5, edges, broadening="adaptive")
    assert np.sum(res.per_formula_unit().values * np.diff(edges)) == pytest.approx(24.0, rel=1e-4)


def test_detailed_balance_of_lines(nacl_model):
    q = np.random.default_rng(5).random((6, 3)) * 2
    for t in (20.0, 300.0):
        pos, w = sqe_lines(nacl_model, q, t)
        n3 = 24
        up, down = w[:, :n3], w[:, n3:]
        e = pos[:, :n3]
        ok = up > 0
        assert np.allclose(down[ok] / up[ok], np.exp(-e[ok] / (KB_MEV_PER_K * t)), rtol=1e-12)
        assert np.allclose(pos[:, n3:], -e)


def test_zero_temperature_has_no_annihilation(nacl_model):
    pos, w = sqe_lines(nacl_model, np.array([[0.3, 0.1, 0.2]]), 0.0)
    assert np.all(w[:, 24:] == 0) and np.any(w[:, :24] > 0)


def test_acoustic_intensity_near_bragg_point_scales_as_one_over_q(nacl_model):
    """Near an allowed Bragg point G the acoustic F ~ |G.e|^2 / E ~ 1/|q|: halving |q| doubles F."""
    g = np.array([2.0, 0.0, 0.0])
    f = []
    for d in (0.004, 0.002):
        modes = calculate_modes(nacl_model, (g + [d, 0, 0])[None])
        f.append(coherent_structure_factors(modes)[0, :3].sum() / np.sum(modes.q_cart**2))
    assert f[1] / f[0] == pytest.approx(2.0, rel=0.01)
    # longitudinal acoustic mode near (2,0,0): Q parallel to e, much stronger than transverse
    modes = calculate_modes(nacl_model, (g + [0.01, 0, 0])[None])
    sf = coherent_structure_factors(modes)[0, :3]
    assert sf.max() > 100 * np.sort(sf)[0]


def test_degenerate_sets_make_intensities_basis_independent(nacl_model):
    q = np.array([[0.0, 0.5, 0.0]])     # X-type point, degenerate modes
    modes = calculate_modes(nacl_model, q)
    sets = degenerate_sets(modes.energies)
    assert sets.max() + 1 < modes.n_modes
    rng = np.random.default_rng(0)
    rotated = modes.eigenvectors.copy()
    for sid in np.unique(sets[0]):
        idx = np.flatnonzero(sets[0] == sid)
        if len(idx) > 1:
            a = rng.normal(size=(len(idx),) * 2) + 1j * rng.normal(size=(len(idx),) * 2)
            u, _ = np.linalg.qr(a)
            block = rotated[0, idx].reshape(len(idx), -1)
            rotated[0, idx] = (u.T @ block).reshape(rotated[0, idx].shape)
    other = type(modes)(modes.crystal, modes.q_frac, modes.energies, rotated, modes.weights)
    q_big = modes.q_frac + np.array([[1.0, 2.0, 0.0]])
    m1 = type(modes)(modes.crystal, q_big, modes.energies, modes.eigenvectors, modes.weights)
    m2 = type(modes)(modes.crystal, q_big, modes.energies, rotated, modes.weights)
    a = coherent_structure_factors(m1, sum_degenerate=True)
    b = coherent_structure_factors(m2, sum_degenerate=True)
    assert np.allclose(a, b, rtol=1e-9, atol=1e-14)
    assert other.eigenvectors is rotated


def test_group_velocity_matches_finite_difference(nacl_model):
    q = np.array([[0.13, 0.07, 0.21]])
    modes = calculate_modes(nacl_model, q)
    v = group_velocities(nacl_model, modes)                       # A/ps
    from latdyn.units import HBAR_MEV_PS

    h = 1e-4
    to_frac = nacl_model.crystal.cell.T / (2 * np.pi)
    num = []
    for a in range(3):
        dq = to_frac[:, a] * h
        ep = calculate_modes(nacl_model, q + dq, eigenvectors=False).energies
        em = calculate_modes(nacl_model, q - dq, eigenvectors=False).energies
        num.append((ep - em)[0] / (2 * h) / HBAR_MEV_PS)
    num = np.array(num).T
    assert np.max(np.abs(v[0] - num)) < 1e-3 * np.max(np.abs(num))


def test_fibonacci_sphere_is_uniform():
    d = fibonacci_sphere(2000)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0)
    assert np.abs(d.mean(axis=0)).max() < 1e-3
    assert np.allclose(d.T @ d / len(d), np.eye(3) / 3, atol=2e-3)


def test_powder_convergence_control(nacl_model):
    res = powder_map(nacl_model, np.linspace(1.0, 3.0, 5), np.linspace(-20, 30, 26), 100.0,
                     npts=50, tolerance=1e-4, max_npts=400, broadening=2.0, progress=False)
    assert res.change is not None and 200 <= res.npts <= 400 and res.converged is False
    assert res.relative_error >= 1e-4 and res.error.shape == res.data.shape
    easy = powder_map(nacl_model, np.linspace(1.0, 3.0, 5), np.linspace(-20, 30, 26), 100.0,
                      npts=50, tolerance=0.5, max_npts=400, broadening=2.0, progress=False)
    assert easy.converged and easy.relative_error < 0.5 and easy.change is None
    assert res.data.dims == ("Q", "E") and np.all(res.data.values >= 0)


def test_incoherent_approximation_exceeds_incoherent(nacl_model):
    from latdyn.phonons.one_phonon import incoherent_structure_factors

    modes = calculate_modes(nacl_model, np.array([[0.2, 0.3, 0.1], [1.2, 0.3, 2.1]]))
    inc = incoherent_structure_factors(modes)
    ia = incoherent_structure_factors(modes, approximation=True)
    assert np.all(ia >= inc) and np.all(inc >= 0) and ia.sum() > 2 * inc.sum()


def test_reciprocal_ewald_sum_equals_the_plain_sum_over_g(nacl_distorted):
    """The G-table product of DipoleSum.add_reciprocal (powers of G, classes of pair vectors,
    dr and -dr sharing columns) equals the plain sum over G of
    w(K) (Z_k^T K)(Z_k'^T K)^T exp(iK.(r_k - r_k')) on a polar cell without inversion."""
    d = load_phonopy(nacl_distorted).dipole
    q = np.random.default_rng(8).random((4, 3)) - 0.5
    q[0] = 0.0
    got = d.reciprocal(q, np.ones(d.n_atoms))
    n = d.n_atoms
    for iq, qc in enumerate(q @ d.recip):
        k = qc + d.gvecs
        kek = np.einsum("ga,ab,gb->g", k, d.dielectric, k)
        w = np.zeros_like(kek)
        ok = kek > 1e-12
        w[ok] = np.exp(-kek[ok] / (4 * d.lam**2)) / kek[ok] * 4 * np.pi * d.factor / d.volume
        zk = np.einsum("kca,gc->gka", d.born, k)
        phase = np.exp(1j * np.einsum("ga,kla->gkl", k, d.r_cart[:, None] - d.r_cart[None]))
        ref = np.einsum("g,gka,glb,gkl->kalb", w, zk, zk, phase).reshape(3 * n, 3 * n)
        assert np.abs(got[iq] - ref).max() < 1e-12 * np.abs(ref).max()


def test_ewald_split_independent_without_inversion(nacl_distorted):
    q = np.random.default_rng(5).random((6, 3))
    a = load_phonopy(nacl_distorted, lambda_scale=0.6)
    b = load_phonopy(nacl_distorted, lambda_scale=1.3)
    assert a.n_gvectors < b.n_gvectors
    np.testing.assert_allclose(a.dynamical_matrices(q), b.dynamical_matrices(q), rtol=0,
                               atol=1e-10 * np.abs(a.dynamical_matrices(q)).max())
