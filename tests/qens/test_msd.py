"""Elastic-scan MSD: round trip of the Gaussian approximation, conventions, validity flag."""

import numpy as np
import pytest
import scipp as sc

from latdyn.errors import InputError
from latdyn.qens import convert_msd, elastic_msd


def _scan(u2, Q, rel_err=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    I = 5.0 * np.exp(-np.outer(u2, Q**2) / 3.0)
    err = rel_err * I
    noisy = I + rng.normal(size=I.shape) * err
    return sc.DataArray(sc.array(dims=["T", "Q"], values=noisy, variances=err**2),
                        coords={"T": sc.array(dims=["T"], values=np.linspace(10, 300, u2.size), unit="K"),
                                "Q": sc.array(dims=["Q"], values=Q, unit="1/angstrom")})


def test_round_trip_and_conventions():
    u2 = np.linspace(0.0, 0.6, 8)
    Q = np.linspace(0.4, 1.8, 12)
    res = elastic_msd(_scan(u2, Q))
    err = np.sqrt(res.variances)
    assert np.all(np.abs(res.values - u2) < 4 * err + 1e-12)
    assert res.values[0] == pytest.approx(0.0, abs=4 * err[0])
    r2 = elastic_msd(_scan(u2, Q), convention="r2")
    np.testing.assert_allclose(r2.values, 2 * res.values, rtol=1e-12)
    assert convert_msd(0.3, "u2", "ux2") == pytest.approx(0.1)
    assert convert_msd(0.6, "r2", "u2") == pytest.approx(0.3)
    # validity: Q_max^2 <u^2> / 3 <= 1 -> u2 <= 3 / 1.8^2 = 0.926
    assert bool(res.coords["valid"].values.all())
    big = elastic_msd(_scan(np.array([0.0, 1.5]), Q))
    assert list(big.coords["valid"].values) == [True, False]


def test_bad_scan():
    Q = np.linspace(0.4, 1.8, 5)
    with pytest.raises(InputError, match="Q range"):
        elastic_msd(_scan(np.array([0, 0.1]), Q), q_range=(5, 6))
    with pytest.raises(InputError, match="convention"):
        elastic_msd(_scan(np.array([0, 0.1]), Q), convention="msd6")


def test_bin_temperature_and_reference_range():
    from latdyn.qens import bin_temperature

    u2 = np.linspace(0.0, 0.3, 40)
    Q = np.linspace(0.5, 1.5, 8)
    scan = _scan(u2, Q, rel_err=2e-3, seed=4)  # T from 10 to 300 K
    b = bin_temperature(scan, 30.0)
    T = scan.coords["T"].values
    idx = np.floor((T - T.min()) / 30.0 + 1e-9).astype(int)
    assert b.sizes["T"] == np.unique(idx).size
    rows = idx == 0
    np.testing.assert_allclose(b.values[0], scan.values[rows].mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(b.variances[0], scan.variances[rows].sum(axis=0) / rows.sum() ** 2, rtol=1e-14)
    assert b.coords["T"].values[0] == pytest.approx(T[rows].mean())
    # normalising to the mean of the lowest rows: MSD relative to their mean <u^2>
    res = elastic_msd(scan, reference_range=(0.0, 40.0))
    ref_rows = T <= 40.0
    shift = u2[ref_rows].mean()
    err = np.sqrt(res.variances)
    assert np.all(np.abs(res.values - (u2 - shift)) < 4 * err + 1e-4)
    with pytest.raises(InputError, match="reference range"):
        elastic_msd(scan, reference_range=(500.0, 600.0))
    with pytest.raises(InputError, match="bin width"):
        bin_temperature(scan, 0.0)
