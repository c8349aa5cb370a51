import numpy as np
import pytest

from latdyn.diffraction import structure_factor
from latdyn.diffraction.mem import (
    calc_structure_factors,
    density_from_structure,
    fourier_synthesis,
    maximum_entropy,
)
from latdyn.diffraction.reflections import enumerate_hkl
from latdyn.errors import FitError, InputError
from latdyn.scattering import nuclide
from latdyn.structure import read_cif

SHAPE = (32, 32, 32)


@pytest.fixture(scope="module")
def agi(cif_dir):
    return read_cif(cif_dir / "AgI_alpha.cif")


def _f000(crystal):
    return float(sum(o * nuclide(s).b_coh.real for s, o in zip(crystal.atoms.species, crystal.atoms.occupancy,
                                                                  strict=True)))


def _real_b(crystal):
    return {s: nuclide(s).b_coh.real for s in set(crystal.atoms.species)}


def _observed(crystal, d_min, rel=0.01, floor=0.05, seed=0):
    hkl = enumerate_hkl(crystal, d_min)
    hkl = hkl[~crystal.space_group.is_absent(hkl)]
    f = structure_factor(crystal, hkl, scattering_lengths=_real_b(crystal))
    sigma = rel * np.abs(f) + floor
    rng = np.random.default_rng(seed)
    return hkl, f + rng.normal(0, sigma), sigma


def test_density_and_structure_factor_round_trip(agi):
    rho = density_from_structure(agi, SHAPE)
    hkl = enumerate_hkl(agi, agi.lattice.abc[0] / 15)
    hkl = hkl[np.all(np.abs(hkl) < 16, axis=1)]
    ref = structure_factor(agi, hkl, scattering_lengths=_real_b(agi))
    np.testing.assert_allclose(calc_structure_factors(rho, hkl, agi.volume), ref, atol=1e-9)
    # integral of the density over the cell is F(000) = sum o_j b_j
    assert rho.mean() * agi.volume == pytest.approx(_f000(agi), rel=1e-12)
    # Fourier synthesis of the full set gives the density back
    full = np.stack(np.meshgrid(*[np.arange(-15, 16)] * 3, indexing="ij"), -1).reshape(-1, 3)
    full = full[np.any(full != 0, axis=1)]
    f_full = structure_factor(agi, full, scattering_lengths=_real_b(agi))
    back = fourier_synthesis(full, f_full, agi.volume, SHAPE, _f000(agi))
    np.testing.assert_allclose(back, rho, atol=1e-9 * rho.max())


def test_mem_reconstructs_disordered_ag_density(agi):
    hkl, fo, sigma = _observed(agi, 0.9)
    f000 = _f000(agi)
    res = maximum_entropy(hkl, fo, sigma, agi.volume, f000, SHAPE)
    true = density_from_structure(agi, SHAPE)
    assert res.converged and res.chi2 <= 1.0
    assert np.all(res.density > 0)
    assert res.density.mean() * agi.volume == pytest.approx(f000, rel=1e-10)
    fourier = fourier_synthesis(hkl, fo, agi.volume, SHAPE, f000)

    def r_factor(a):
        return np.abs(a - true).sum() / np.abs(true).sum()

    assert r_factor(res.density) < 0.25
    assert r_factor(res.density) < 0.5 * r_factor(fourier)
    assert fourier.min() < 0  # truncation ripples that MEM avoids
    # the Ag density sits on the tetrahedral 12d sites, not on the empty octahedral 6b sites
    n = SHAPE[0]
    at_12d = res.density[n // 4, 0, n // 2]
    at_6b = res.density[0, n // 2, n // 2]
    assert at_12d > 5 * at_6b
    assert at_12d == pytest.approx(true[n // 4, 0, n // 2], rel=0.3)


def test_mem_errors(agi):
    hkl, fo, sigma = _observed(agi, 1.2)
    with pytest.raises(InputError, match="F\\(000\\)"):
        maximum_entropy(hkl, fo, sigma, agi.volume, -3.0, SHAPE)
    with pytest.raises(InputError, match="Nyquist"):
        maximum_entropy(hkl, fo, sigma, agi.volume, _f000(agi), (8, 8, 8))
    with pytest.raises(InputError, match="sigma"):
        maximum_entropy(hkl, fo, -sigma, agi.volume, _f000(agi), SHAPE)
    with pytest.raises(FitError, match="did not reach"):
        maximum_entropy(hkl, fo, sigma * 1e-4, agi.volume, _f000(agi), SHAPE, max_iter=20)
