"""HWHM(Q) and EISF(Q) fits: exact recovery, error propagation, pulls, bad input."""

import numpy as np
import pytest

from latdyn.errors import FitError, InputError
from latdyn.qens import fit_eisf, fit_hwhm, get_diffusion_model, get_geometry_model

Q = np.linspace(0.3, 2.0, 12)


def test_hwhm_exact_and_derived():
    dm = get_diffusion_model("singwi-sjolander")
    y = dm.hwhm(Q, D=0.23, tau=1.25)
    r = fit_hwhm(Q, y, 1e-3 * y, "singwi-sjolander")
    assert r.params["D"][0] == pytest.approx(0.23, rel=1e-7)
    assert r.params["tau"][0] == pytest.approx(1.25, rel=1e-6)
    assert r.chi2 < 1e-8
    assert r.derived["D"].to("cm**2/s").value == pytest.approx(0.23e-4, rel=1e-7)
    # the error of D in cm^2/s is the error in A^2/ps scaled by 1e-4
    assert r.derived["D"].to("cm**2/s").error == pytest.approx(1e-4 * r.params["D"][1], rel=1e-5)
    assert r.derived["l_rms"].value == pytest.approx(np.sqrt(6 * 0.23 * 1.25), rel=1e-6)
    assert r.derived["l_rms"].unit == "angstrom" and r.converged
    np.testing.assert_allclose(r.curve(Q), y, rtol=1e-7)


@pytest.mark.parametrize("model,truth", [("chudley-elliott", {"D": 0.05, "l": 2.5}),
                                         ("hall-ross", {"D": 0.1, "l": 1.5}), ("fick", {"D": 0.02})])
def test_hwhm_pulls(model, truth):
    """Gaussian noise of known sigma: pulls (fit - truth)/sigma over 200 draws have mean ~0, std ~1."""
    dm = get_diffusion_model(model)
    y0 = dm.hwhm(Q, **truth)
    err = 0.03 * y0
    rng = np.random.default_rng(1)
    pulls = []
    for _ in range(200):
        r = fit_hwhm(Q, y0 + rng.normal(size=Q.size) * err, err, model)
        pulls.append([(r.params[p][0] - truth[p]) / r.params[p][1] for p in dm.params])
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls.mean(axis=0)) < 0.25), pulls.mean(axis=0)
    assert np.all(np.abs(pulls.std(axis=0) - 1) < 0.2), pulls.std(axis=0)


def test_eisf_fit_with_immobile_fraction():
    gm = get_geometry_model("circle:4")
    y = gm.eisf(Q, immobile=0.6, radius=1.05, tau=1.0)
    r = fit_eisf(Q, y, np.full(Q.size, 0.01), "circle:4", immobile=True)
    assert r.names == ["radius", "immobile"]
    assert r.params["radius"][0] == pytest.approx(1.05, rel=1e-6)
    assert r.params["immobile"][0] == pytest.approx(0.6, rel=1e-6)
    sr = get_geometry_model("sphere-rotation")
    r2 = fit_eisf(Q, sr.eisf(Q, radius=0.98, D_r=0.1), np.full(Q.size, 0.01), "sphere-rotation")
    assert r2.params["radius"][0] == pytest.approx(0.98, rel=1e-6)
    # errors of the EISF parameters scale with the errors of the points
    r3 = fit_eisf(Q, y, np.full(Q.size, 0.02), "circle:4", immobile=True)
    assert r3.params["radius"][1] == pytest.approx(2 * r.params["radius"][1], rel=1e-3)


def test_bad_input():
    with pytest.raises(InputError, match="same length"):
        fit_hwhm(Q, Q[:-1], Q, "fick")
    with pytest.raises(FitError, match="fewer than 2"):
        fit_hwhm(Q, np.full(Q.size, np.nan), Q, "fick")
    with pytest.raises(FitError, match="positive error"):
        fit_eisf(Q, np.ones(Q.size), np.zeros(Q.size), "two-site")
    with pytest.raises(InputError, match="unknown diffusion"):
        fit_hwhm(Q, Q, Q, "brownian")
