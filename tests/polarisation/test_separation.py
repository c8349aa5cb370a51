"""Separation: exact on noiseless data, masks, corrections, and calibrated errors over seeds."""

import numpy as np
import pytest
import scipp as sc

from latdyn.errors import InputError
from latdyn.polarisation import (
    METHODS,
    channel_coefficients,
    correct_flipping,
    expected_channels,
    flipping_ratios,
    incoherent_normalisation,
    poisson_channels,
    quartz_channels,
    separate,
    simulate_channels,
)

DIRS = {"uniaxial": ("z",), "xyz": ("x", "y", "z"), "xyz-crystal": ("x", "y", "z"),
        "ten-point": ("x", "y", "z", "x+y", "x-y")}


def _grid(dims, shape, alpha):
    coords = {}
    for d, n in zip(dims, shape, strict=True):
        unit = {"Q": "1/angstrom", "E": "meV"}.get(d, "")
        coords[d] = sc.array(dims=[d], values=np.linspace(0.5, 2.0, n) if d != "E" else np.linspace(-1, 1, n),
                             unit=unit)
    a = np.broadcast_to(alpha, shape).astype(float)
    coords["alpha"] = sc.array(dims=list(dims), values=a, unit="deg")
    return coords


def _model(method, dims=("Q",), shape=(12,), seed=0, alpha=None):
    rng = np.random.default_rng(seed)
    if alpha is None:
        alpha = rng.uniform(-80.0, 40.0, shape)        # away from 45 deg (xyz-crystal)
    coords = _grid(dims, shape, alpha)

    def da(v):
        return sc.DataArray(sc.array(dims=list(dims), values=np.broadcast_to(v, shape).astype(float),
                                     unit="barn"), coords=coords)

    parts = {"coherent": da(rng.uniform(0.5, 1.5, shape)),
             "spin_incoherent": da(rng.uniform(0.3, 0.8, shape))}
    if method == "xyz":
        parts["magnetic"] = da(rng.uniform(0.2, 1.0, shape))
    elif method in ("xyz-crystal", "ten-point"):
        parts["magnetic_y"] = da(rng.uniform(0.2, 1.0, shape))
        parts["magnetic_z"] = da(rng.uniform(0.1, 0.6, shape))
    return parts


@pytest.mark.parametrize("method", list(METHODS))
def test_combination_inverts_the_channel_model(method):
    m = METHODS[method]
    alpha = np.array([-170.0, -60.0, 0.0, 10.0, 30.0, 80.0, 100.0, 160.0])
    C, singular = m.combination(alpha)
    A = m.design(alpha)
    eye = np.einsum("pbc,pcj->pbj", C, A)
    assert not singular.any()
    assert np.allclose(eye, np.eye(len(m.base))[None], atol=1e-12)


@pytest.mark.parametrize("flipping", [None, 20.0])
@pytest.mark.parametrize("estimator", ["combination", "weighted"])
@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_is_exact_on_noiseless_channels(method, estimator, flipping):
    parts = _model(method)
    ch = expected_channels(parts, DIRS[method], flipping=flipping)
    sep = separate(ch, method, estimator=estimator, flipping=flipping)
    truth = {k: parts[k].values for k in parts}
    if "magnetic_y" in parts:
        truth["magnetic"] = truth["magnetic_y"] + truth["magnetic_z"]
    for k, v in truth.items():
        assert np.allclose(sep[k].values, v, rtol=1e-10), k


def test_xyz_crystal_masks_where_cos_two_alpha_vanishes():
    parts = _model("xyz-crystal", shape=(3,), alpha=np.array([10.0, 45.0, -20.0]))
    sep = separate(expected_channels(parts, DIRS["xyz-crystal"]), "xyz-crystal")
    assert list(sep["magnetic_y"].masks["not_separable"].values) == [False, True, False]


def test_missing_channel_is_one_clear_error():
    ch = dict(expected_channels(_model("xyz"), ("x", "y", "z")).items())
    del ch["y_sf"]
    with pytest.raises(InputError, match="missing channel y_sf for the xyz method"):
        separate(ch, "xyz")
    with pytest.raises(InputError, match="needs the angle alpha"):
        parts = _model("ten-point")
        chans = expected_channels(parts, DIRS["ten-point"])
        separate({k: v.drop_coords("alpha") for k, v in chans.items()}, "ten-point")


@pytest.mark.parametrize("estimator", ["combination", "weighted"])
def test_a_missing_channel_point_masks_only_what_it_must(estimator):
    parts = _model("xyz", shape=(6,))
    ch = dict(expected_channels(parts, ("x", "y", "z")).items())
    bad = np.zeros(6, bool)
    bad[2] = True
    ch["x_sf"] = ch["x_sf"].copy()
    ch["x_sf"].masks["dead"] = sc.array(dims=["Q"], values=bad)
    sep = separate(ch, "xyz", estimator=estimator)
    for k in ("coherent", "spin_incoherent", "magnetic"):
        masked = "not_separable" in sep[k].masks and bool(sep[k].masks["not_separable"].values[2])
        if estimator == "combination":
            assert masked, k                      # every published combination uses x_sf
        else:
            assert not masked, k                  # five channels still determine three parts
            assert sep[k].values[2] == pytest.approx(np.ravel(parts[k].values)[2], rel=1e-10)
        keep = ~bad
        assert np.allclose(sep[k].values[keep], parts[k].values[keep], rtol=1e-10)


def test_flipping_ratio_below_one_is_an_error():
    ch = expected_channels(_model("uniaxial"), ("z",))
    quartz = quartz_channels(ch["z_sf"], ("z",), flipping=20.0, counts=1e4, seed=1)
    swapped = {"z_nsf": quartz["z_sf"], "z_sf": quartz["z_nsf"]}
    with pytest.raises(InputError, match="flipping ratio < 1"):
        flipping_ratios(swapped)
    low = sc.DataArray(sc.array(dims=["Q"], values=np.full(12, 0.8)), coords={"Q": ch["z_sf"].coords["Q"]})
    with pytest.raises(InputError, match="flipping ratio < 1"):
        separate(ch, "uniaxial", flipping={"z": low})


def test_flipping_correction_and_background():
    parts = _model("xyz")
    ideal = expected_channels(parts, ("x", "y", "z"))
    mixed = expected_channels(parts, ("x", "y", "z"), flipping=12.0)
    corr = correct_flipping(mixed, 12.0)
    for k in ideal:
        assert np.allclose(corr[k].values, ideal[k].values, rtol=1e-12)
    b = sc.scalar(0.25, unit="barn")
    bg = {k: v * 0.0 + b for k, v in ideal.items()}
    with_bg = {k: v + 2.0 * b for k, v in ideal.items()}
    sep = separate(with_bg, "xyz", background=bg, background_scale=2.0)
    assert np.allclose(sep["magnetic"].values, parts["magnetic"].values, rtol=1e-12)


def _pulls(sep, parts, scale, names):
    out = {}
    for k in names:
        v = parts[k].values if k in parts else parts["magnetic_y"].values + parts["magnetic_z"].values
        truth = scale * v
        out[k] = ((sep[k].values - truth) / np.sqrt(sep[k].variances)).ravel()
    return out


@pytest.mark.parametrize("method,estimator", [("xyz", "combination"), ("xyz", "weighted"),
                                              ("ten-point", "combination"), ("uniaxial", "combination")])
def test_round_trip_over_seeds_has_calibrated_pulls(method, estimator):
    """400 seeds at once (a 'seed' dim): Poisson counts with flipping ratio 20, corrected with the
    ratio measured on a simulated quartz run of each seed; every separated part within 2 sigma
    in about 95 % of the seeds, pulls with |mean| < 0.2 and sd 0.8-1.2."""
    n_seed, n_q = 400, 6
    rng = np.random.default_rng(11)
    alpha = rng.uniform(-80.0, 40.0, n_q)
    parts = _model(method, dims=("seed", "Q"), shape=(n_seed, n_q), seed=5,
                   alpha=np.broadcast_to(alpha, (n_seed, n_q)))
    first = next(iter(parts.values()))
    parts = {k: v.copy() for k, v in parts.items()}
    for k in parts:   # the same truth for every seed
        parts[k].values = np.broadcast_to(parts[k].values[0], (n_seed, n_q)).copy()
    scale = 3000.0
    ch = simulate_channels(parts, DIRS[method], exposure=scale, flipping=20.0, seed=7)
    quartz = quartz_channels(first, DIRS[method], flipping=20.0, counts=4e4, seed=8)
    sep = separate(ch, method, flipping=flipping_ratios(quartz), estimator=estimator)
    for k, p in _pulls(sep, parts, scale, sep.names).items():
        assert abs(p.mean()) < 0.2, (k, p.mean())
        assert 0.8 < p.std() < 1.2, (k, p.std())
        assert 0.92 < np.mean(np.abs(p) < 2.0) < 0.98, k


def test_integrated_errors_keep_the_shared_flipping_ratio():
    """A quartz run with few counts, summed over E: one ratio per Q shared by all energies.
    The E-integrated parts must still have calibrated pulls (the shared ratio adds
    coherently), while summing the per-point variances would underestimate them."""
    n_seed, n_q, n_e = 300, 4, 30
    parts = _model("uniaxial", dims=("seed", "Q", "E"), shape=(n_seed, n_q, n_e), seed=2, alpha=0.0)
    parts = {k: v.copy() for k, v in parts.items()}
    for k in parts:
        parts[k].values = np.broadcast_to(parts[k].values[0], parts[k].shape).copy()
    scale = 5e4
    ch = simulate_channels(parts, ("z",), exposure=scale, flipping=20.0, seed=3)
    quartz = quartz_channels(ch["z_sf"], ("z",), flipping=20.0, counts=60.0, seed=4)
    F = flipping_ratios(quartz, integrate="E")
    sep = separate(ch, "uniaxial", flipping=F).integrate("E", widths=False)
    naive = []
    for k in ("coherent", "spin_incoherent"):
        truth = scale * parts[k].values.sum(axis=-1)
        p = (sep[k].values - truth) / np.sqrt(sep[k].variances)
        assert abs(p.mean()) < 0.2 and 0.8 < p.std() < 1.2, (k, p.mean(), p.std())
        point = separate(ch, "uniaxial", flipping=F)
        var_naive = point[k].variances.sum(axis=-1)
        naive.append(((sep[k].values - truth) / np.sqrt(var_naive)).std())
    assert max(naive) > 1.3   # ignoring the correlation would miscalibrate the errors


def test_normalise_propagates_the_factor():
    parts = _model("uniaxial", shape=(5,))
    ch = poisson_channels(expected_channels(parts, ("z",)), exposure=1e4, seed=1)
    sep = separate(ch, "uniaxial")
    f = sc.DataArray(sc.array(dims=["Q"], values=np.full(5, 2.0), variances=np.full(5, 0.04)),
                     coords={"Q": ch["z_sf"].coords["Q"]})
    n = sep.normalise(f)
    assert np.allclose(n["coherent"].values, sep["coherent"].values / 2.0)
    rel2 = n["coherent"].variances / n["coherent"].values ** 2
    assert np.allclose(rel2, sep["coherent"].variances / sep["coherent"].values ** 2 + 0.01)


def test_coefficients_are_the_blume_projections():
    # SF along an in-plane direction at angle beta: Mz + cos^2(beta - alpha) My
    c = channel_coefficients("x+y_sf", 15.0)
    assert c[2] == pytest.approx(np.cos(np.radians(45.0 - 15.0)) ** 2)
    assert c[3] == pytest.approx(1.0)


def test_vanadium_normalisation_removes_detector_efficiencies():
    parts = _model("xyz", shape=(8,))
    eff = np.linspace(0.6, 1.3, 8)
    e = sc.array(dims=["Q"], values=eff)
    ch = {k: v * e for k, v in expected_channels(parts, ("x", "y", "z")).items()}
    q = parts["coherent"].coords["Q"]

    def flat(v):
        return sc.DataArray(sc.array(dims=["Q"], values=np.full(8, v), unit="barn"), coords={"Q": q})

    vana = {"coherent": flat(0.01), "spin_incoherent": flat(0.4)}
    vch = {k: v * e for k, v in expected_channels(vana, ("z",)).items()}
    f = incoherent_normalisation(separate(vch, "uniaxial"), sigma_si=0.4 * 4 * np.pi)
    assert np.allclose(f.values, eff)
    sep = separate(ch, "xyz").normalise(f)
    assert np.allclose(sep["magnetic"].values, parts["magnetic"].values)
    rel = incoherent_normalisation(separate(vch, "uniaxial"))
    assert np.mean(rel.values) == pytest.approx(1.0)
