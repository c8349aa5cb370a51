"""NXSPE powder rebinning to S(|Q|, E): kinematics, error propagation, chunk independence.

Test files are synthetic, written with h5py following the published NXSPE layout.
"""

import numpy as np
import pytest
import scipp as sc

from latdyn.data.io import nxspe_to_powder, read_nxspe, write_nxspe
from latdyn.kinematics import q_direct

EI = 25.0


def _write(tmp_path, values, errors, two_theta, energy, name="s.nxspe", masked=()):
    da = sc.DataArray(
        sc.array(dims=["spectrum", "E"], values=values, variances=errors**2),
        coords={"spectrum": sc.arange("spectrum", float(values.shape[0])),
                "E": sc.array(dims=["E"], values=energy, unit="meV"),
                "two_theta": sc.array(dims=["spectrum"], values=two_theta, unit="deg")})
    if masked:
        m = np.zeros(values.shape[0], dtype=bool)
        m[list(masked)] = True
        da.masks["masked_detectors"] = sc.array(dims=["spectrum"], values=m)
    return write_nxspe(tmp_path / name, da, EI)


@pytest.fixture
def grid():
    two_theta = np.linspace(3.0, 135.0, 400)
    energy = np.linspace(-10.0, 22.0, 65)
    return two_theta, energy


def test_constant_signal_mean_and_error(tmp_path, grid):
    two_theta, energy = grid
    shape = (two_theta.size, energy.size - 1)
    path = _write(tmp_path, np.full(shape, 3.0), np.full(shape, 0.2), two_theta, energy)
    da = nxspe_to_powder(path, q_bins=0.1).data
    covered = ~da.masks["no_coverage"].values
    n = da.coords["n_pixels"].values
    assert covered.sum() > 100
    np.testing.assert_allclose(da.values[covered], 3.0, rtol=1e-12)
    # mean of N independent pixels: sigma = 0.2 / sqrt(N)
    np.testing.assert_allclose(np.sqrt(da.variances[covered]), 0.2 / np.sqrt(n[covered]), rtol=1e-12)
    assert np.all(da.values[~covered] == 0) and np.all(n[~covered] == 0)


def test_sum_conserves_total_and_pixels_land_in_their_q_bin(tmp_path, grid):
    two_theta, energy = grid
    centre = 0.5 * (energy[1:] + energy[:-1])
    allowed = centre < EI
    # signal = |Q| of each pixel, computed independently with latdyn.kinematics
    q_pix = np.zeros((two_theta.size, centre.size))
    q_pix[:, allowed] = q_direct(EI, centre[allowed][None, :], two_theta[:, None])
    err = np.full(q_pix.shape, 0.5)
    path = _write(tmp_path, q_pix, err, two_theta, energy)
    summed = nxspe_to_powder(path, q_bins=0.25, statistic="sum").data
    assert summed.values.sum() == pytest.approx(q_pix[:, allowed].sum(), rel=1e-12)
    assert summed.coords["n_pixels"].values.sum() == two_theta.size * allowed.sum()
    assert summed.variances.sum() == pytest.approx(0.25 * two_theta.size * allowed.sum())
    mean = nxspe_to_powder(path, q_bins=0.25).data
    edges = mean.coords["Q"].values
    covered = ~mean.masks["no_coverage"].values
    iq = np.nonzero(covered)[0]
    assert np.all(mean.values[covered] >= edges[iq] - 1e-12)
    assert np.all(mean.values[covered] < edges[iq + 1])


def test_chunk_size_does_not_change_result(tmp_path, grid):
    two_theta, energy = grid
    rng = np.random.default_rng(3)
    shape = (two_theta.size, energy.size - 1)
    path = _write(tmp_path, rng.random(shape), 0.1 + rng.random(shape), two_theta, energy)
    a = nxspe_to_powder(path, q_bins=0.2, chunk_size=7).data
    b = nxspe_to_powder(path, q_bins=0.2, chunk_size=100000).data
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12)
    np.testing.assert_allclose(a.variances, b.variances, rtol=1e-12)


def test_masked_detectors_are_excluded(tmp_path, grid):
    two_theta, energy = grid
    shape = (two_theta.size, energy.size - 1)
    values = np.ones(shape)
    path = _write(tmp_path, values, np.ones(shape), two_theta, energy, masked=range(0, 400, 2))
    assert read_nxspe(path).data.masks["masked_detectors"].values.sum() == 200
    da = nxspe_to_powder(path, q_bins=0.2, statistic="sum").data
    centre = 0.5 * (energy[1:] + energy[:-1])
    assert da.coords["n_pixels"].values.sum() == 200 * np.sum(centre < EI)


def test_energy_rebinning(tmp_path, grid):
    two_theta, energy = grid
    shape = (two_theta.size, energy.size - 1)
    path = _write(tmp_path, np.ones(shape), np.ones(shape), two_theta, energy)
    da = nxspe_to_powder(path, q_bins=0.5, e_bins=np.linspace(-10, 20, 7), statistic="sum").data
    assert da.sizes["E"] == 6
    centre = 0.5 * (energy[1:] + energy[:-1])
    inside = (centre >= -10) & (centre < 20)
    assert da.values.sum() == pytest.approx(two_theta.size * inside.sum())


def test_sum_matches_scipp_histogramming(tmp_path, grid):
    """Independent check: scipp's own histogramming of the same (Q, E, value) pixel list,
    with Q computed here from scipy constants, gives the same sums."""
    from scipy import constants as C

    two_theta, energy = grid
    rng = np.random.default_rng(5)
    shape = (two_theta.size, energy.size - 1)
    values = rng.random(shape)
    path = _write(tmp_path, values, np.full(shape, 0.3), two_theta, energy)
    ours = nxspe_to_powder(path, q_bins=0.1, statistic="sum").data
    centre = 0.5 * (energy[1:] + energy[:-1])
    e_grid, tt = np.meshgrid(centre, two_theta)
    ok = e_grid < EI
    k = lambda e_mev: np.sqrt(2 * C.m_n * e_mev * 1e-3 * C.e) / C.hbar * 1e-10  # noqa: E731
    ki, kf = k(EI), k(np.clip(EI - e_grid, 0, None))
    q = np.sqrt(ki**2 + kf**2 - 2 * ki * kf * np.cos(np.deg2rad(tt)))
    table = sc.DataArray(sc.array(dims=["pixel"], values=values[ok]),
                         coords={"Q": sc.array(dims=["pixel"], values=q[ok], unit="1/angstrom"),
                                 "E": sc.array(dims=["pixel"], values=e_grid[ok], unit="meV")})
    ref = table.hist(Q=ours.coords["Q"], E=ours.coords["E"])
    np.testing.assert_allclose(ours.values, ref.values, rtol=1e-10, atol=1e-12)
