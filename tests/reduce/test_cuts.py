"""Cuts and rebinning: exact bin fractions, error propagation, masks, ranges, S(Q,E,T)."""

import numpy as np
import pytest
import scipp as sc
from hypothesis import given, settings
from hypothesis import strategies as st

from latdyn.data import from_numpy, make_sqe
from latdyn.errors import InputError
from latdyn.reduce import bin_edges, cut, overlap_matrix, rebin


def _linear_sqe():
    q = np.linspace(0.5, 5.0, 46)     # points, step 0.1
    e = np.linspace(-5, 20, 101)       # points, step 0.25
    s = 2.0 + 0.5 * q[:, None] + 0.1 * e[None, :]
    return make_sqe(q, e, s, np.full(s.shape, 0.2))


def test_integral_of_linear_function_is_exact_with_fractional_bins():
    da = _linear_sqe()
    lo, hi = 2.03, 2.47   # not on bin boundaries
    out = cut(da, "Q", lo, hi)
    e = da.coords["E"].values
    expected = (2.0 + 0.1 * e) * (hi - lo) + 0.25 * (hi**2 - lo**2)
    np.testing.assert_allclose(out.values, expected, rtol=1e-12)
    assert out.unit == sc.Unit("1/angstrom")
    avg = cut(da, "Q", lo, hi, average=True)
    np.testing.assert_allclose(avg.values, expected / (hi - lo), rtol=1e-12)
    assert out.coords["Q_min"].value == lo and out.dims == ("E",)


def test_error_propagation_matches_sum_of_squared_weights():
    da = _linear_sqe()
    out = cut(da, "Q", 2.0, 2.4, average=True)
    ell = overlap_matrix(bin_edges(da, "Q"), np.array([2.0, 2.4]))[0]
    expected_sigma = 0.2 * np.sqrt(np.sum(ell**2)) / ell.sum()
    np.testing.assert_allclose(np.sqrt(out.variances), expected_sigma, rtol=1e-12)
    # averaging n independent bins shrinks the error like 1/sqrt(n)
    full = cut(da, "Q", 0.45, 5.05, average=True)
    np.testing.assert_allclose(np.sqrt(full.variances), 0.2 / np.sqrt(46), rtol=1e-12)


def test_masked_points_are_excluded_from_the_average():
    da = _linear_sqe()
    mask = np.zeros(da.shape, dtype=bool)
    mask[:, 50:] = True
    mask[20:, 50:] = False  # only high Q covered at high E
    da.values[~(~mask)] = 1e6   # garbage under the mask must not leak
    da.masks["coverage"] = sc.array(dims=["Q", "E"], values=mask)
    out = cut(da, "Q", 2.5, 3.0, average=True)
    assert np.all(out.values < 1e5)
    part = cut(da, "Q", 0.5, 1.0, average=True)
    assert part.masks["no_coverage"].values[60]
    assert not part.masks["no_coverage"].values[10]


def test_cut_of_sqe_versus_temperature_keeps_t():
    q = np.linspace(1, 3, 21)
    e = np.linspace(-2, 8, 41)
    t = np.array([100.0, 200.0, 300.0])
    s = np.ones((21, 41, 3)) * t[None, None, :]
    da = from_numpy(s, {"Q": q, "E": e, "T": t}, errors=np.ones_like(s))
    out = cut(da, "Q", 2.0, 2.4, average=True)
    assert out.dims == ("E", "T")
    np.testing.assert_allclose(out.values, np.broadcast_to(t, (41, 3)))
    ecut = cut(da, "E", 1.0, 3.0)
    assert ecut.dims == ("Q", "T")
    np.testing.assert_allclose(ecut.values, 2.0 * np.broadcast_to(t, (21, 3)))


@pytest.mark.parametrize("lo, hi", [(0.1, 2.0), (4.0, 6.0), (2.0, 2.0), (3.0, 2.0)])
def test_range_outside_the_data_raises(lo, hi):
    with pytest.raises(InputError, match="Q range"):
        cut(_linear_sqe(), "Q", lo, hi)


def test_range_with_units():
    da = _linear_sqe()
    a = cut(da, "E", sc.scalar(2.0, unit="meV"), sc.scalar(0.004, unit="eV"))
    b = cut(da, "E", 2.0, 4.0)
    np.testing.assert_allclose(a.values, b.values)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 40), st.floats(0.05, 0.5))
def test_rebin_conserves_integral_and_flatness(n_new, step):
    rng = np.random.default_rng(n_new)
    edges = np.cumsum(np.concatenate([[0.0], rng.uniform(0.05, 0.3, 60)]))
    vals = rng.uniform(0, 10, 60)
    da = from_numpy(vals, {"E": edges}, errors=np.ones(60))
    new = np.linspace(edges[0], edges[-1], n_new + 1)
    reb = rebin(da, "E", new)
    # density: integral conserved
    assert np.sum(reb.values * np.diff(new)) == pytest.approx(np.sum(vals * np.diff(edges)))
    flat = rebin(from_numpy(np.full(60, 3.0), {"E": edges}), "E", new)
    np.testing.assert_allclose(flat.values, 3.0)
    counts = rebin(da, "E", new, extensive=True)
    assert counts.values.sum() == pytest.approx(vals.sum())


def test_rebin_outside_raises():
    da = from_numpy(np.ones(10), {"E": np.arange(11.0)})
    with pytest.raises(InputError, match="outside the data"):
        rebin(da, "E", np.linspace(-1, 5, 7))
