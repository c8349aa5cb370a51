"""latdyn against Euphonic (independent implementation) on the same force constants: NaCl, polar
(Born charges, Ewald dipole sum) and the same force constants without Born charges."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.convolution.broadening import bin_lines
from latdyn.phonons import load_phonopy
from latdyn.phonons.debye_waller import debye_waller, monkhorst_pack
from latdyn.phonons.maps import sqe_lines
from latdyn.phonons.modes import calculate_modes, degenerate_sets
from latdyn.phonons.one_phonon import coherent_structure_factors

euphonic = pytest.importorskip("euphonic")
from euphonic import ForceConstants as EuFC  # noqa: E402
from euphonic import ureg  # noqa: E402

Q_RANDOM = np.random.default_rng(7).random((40, 3)) * 3 - 1.0
TEMPERATURES = (5.0, 150.0, 300.0)


def _pair(yaml_path):
    eu = EuFC.from_phonopy(path=str(yaml_path.parent), summary_name=yaml_path.name)
    return eu, load_phonopy(yaml_path, asr="reciprocal")


@pytest.fixture(scope="module")
def polar(nacl_sym):
    return _pair(nacl_sym)


@pytest.fixture(scope="module")
def nonpolar(nacl_sym_nonpolar):
    return _pair(nacl_sym_nonpolar)


@pytest.fixture(scope="module")
def mesh_modes(polar):
    eu, ld = polar
    mesh = monkhorst_pack(6, shift=True)
    return (eu.calculate_qpoint_phonon_modes(mesh, asr="reciprocal", n_threads=1),
            calculate_modes(ld, mesh))


def _group_sums(f, sets):
    out = np.zeros((len(f), sets.max() + 1))
    np.add.at(out, (np.repeat(np.arange(len(f)), f.shape[1]), sets.ravel()), f.ravel())
    return out


@pytest.mark.parametrize("which", ["polar", "nonpolar"])
@pytest.mark.parametrize("asr", ["reciprocal", None])
def test_frequencies_match_euphonic(which, asr, request):
    eu, _ = request.getfixturevalue(which)
    yaml_path = request.getfixturevalue("nacl_sym" if which == "polar" else "nacl_sym_nonpolar")
    ld = load_phonopy(yaml_path, asr=asr)
    ref = eu.calculate_qpoint_frequencies(Q_RANDOM, asr=asr, n_threads=1).frequencies
    ref = ref.to("meV").magnitude
    mine = calculate_modes(ld, Q_RANDOM, eigenvectors=False).energies
    scale = np.maximum(np.abs(ref), 1.0)
    assert np.max(np.abs(mine - ref) / scale) < 1e-6


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_debye_waller_matches_euphonic(polar, mesh_modes, temperature):
    eu_modes, ld_modes = mesh_modes
    ref = eu_modes.calculate_debye_waller(temperature * ureg("K")).debye_waller
    ref = ref.to("angstrom**2").magnitude
    mine = debye_waller(None, temperature, modes=ld_modes)
    assert np.max(np.abs(mine - ref)) / np.max(np.abs(ref)) < 1e-4


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_structure_factors_match_euphonic(polar, mesh_modes, temperature):
    eu, ld = polar
    eu_modes, ld_mesh = mesh_modes
    eu_dw = eu_modes.calculate_debye_waller(temperature * ureg("K"))
    ld_dw = debye_waller(None, temperature, modes=ld_mesh)
    em = eu.calculate_qpoint_phonon_modes(Q_RANDOM, asr="reciprocal", n_threads=1)
    ref = em.calculate_structure_factor(dw=eu_dw).structure_factors.to("mbarn").magnitude
    lm = calculate_modes(ld, Q_RANDOM)
    mine = coherent_structure_factors(lm, ld_dw, per="atom") * 1e3
    sets = degenerate_sets(lm.energies)
    a, b = _group_sums(ref, sets), _group_sums(mine, sets)
    big = a > 1e-6 * a.max()
    assert np.max(np.abs(a - b)[big] / a[big]) < 1e-5
    assert np.max(np.abs(a - b)) < 1e-5 * a.max()


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_powder_map_matches_euphonic(polar, mesh_modes, temperature):
    from euphonic.powder import _get_qpts_sphere, sample_sphere_structure_factor

    eu, ld = polar
    eu_modes, ld_mesh = mesh_modes
    eu_dw = eu_modes.calculate_debye_waller(temperature * ureg("K"))
    ld_dw = debye_waller(None, temperature, modes=ld_mesh)
    bins = np.linspace(-30.0, 30.0, 61)
    for q_abs in (1.3, 3.1):
        ref = sample_sphere_structure_factor(
            eu, q_abs * ureg("1/angstrom"), dw=eu_dw, temperature=temperature * ureg("K"),
            sampling="golden", jitter=False, npts=60, energy_bins=bins * ureg("meV"),
            asr="reciprocal", n_threads=1).y_data.to("mbarn/meV").magnitude
        dirs = _get_qpts_sphere(60, sampling="golden", jitter=False)
        q_frac = dirs * q_abs @ ld.crystal.cell.T / (2 * np.pi)
        pos, w = sqe_lines(ld, q_frac, temperature, dw=ld_dw)
        mine = bin_lines(pos, w, bins).mean(axis=0) * 1e3
        assert np.max(np.abs(mine - ref)) < 1e-4 * np.max(ref)


def test_non_centrosymmetric_structure_factors_match_euphonic(nacl_distorted):
    """Phase conventions (exp(iQ.r_k), e* and the sign of q in D(q)) checked where they matter."""
    eu, ld = _pair(nacl_distorted)
    em = eu.calculate_qpoint_phonon_modes(Q_RANDOM, asr="reciprocal", n_threads=1)
    lm = calculate_modes(ld, Q_RANDOM)
    ref_e = em.frequencies.to("meV").magnitude
    assert np.max(np.abs(lm.energies - ref_e) / np.maximum(np.abs(ref_e), 1.0)) < 1e-6
    ref = em.calculate_structure_factor().structure_factors.to("mbarn").magnitude
    mine = coherent_structure_factors(lm, per="atom") * 1e3
    sets = degenerate_sets(lm.energies)
    a, b = _group_sums(ref, sets), _group_sums(mine, sets)
    assert np.max(np.abs(a - b)) < 1e-5 * a.max()
    # sensitivity: the opposite phase convention exp(-iQ.r_k) gives other numbers here
    c = ld.crystal
    amp = c.b_coh.real / np.sqrt(c.masses) * np.exp(-1j * (lm.q_cart @ c.r_cart.T))
    qe = np.einsum("qmka,qa->qmk", lm.eigenvectors.conj(), lm.q_cart)
    wrong = np.abs(np.einsum("qmk,qk->qm", qe, amp)) ** 2
    wrong = _group_sums(np.where(lm.energies > 0.01, wrong / np.abs(lm.energies), 0.0), sets)
    right = _group_sums(np.where(lm.energies > 0.01, np.abs(np.einsum(
        "qmk,qk->qm", qe, amp.conj())) ** 2 / np.abs(lm.energies), 0.0), sets)
    assert np.max(np.abs(wrong - right)) > 1e-2 * right.max()
