"""QENS workflow: data preparation, model selection across N, HWHM(Q) and global fits."""

import numpy as np
import pytest
import scipp as sc

from latdyn import lineshapes as ls
from latdyn.convolution import MeasuredResolution
from latdyn.data import make_spectrum, make_sqe
from latdyn.errors import InputError
from latdyn.qens import FitSetup, qens_model
from latdyn.qens.analysis import QensPlan, analyse, resolution_hwhm
from latdyn.qens.prepare import as_q_groups, crop, subtract
from latdyn.qens.spectral_fit import _Problem

E = np.linspace(-1.5, 1.5, 151)
Q = np.linspace(0.4, 1.9, 6)


def _res(E=E):
    r = 0.85 * ls.gaussian(E, 0.03) + 0.15 * ls.lorentzian(E, 0.03)
    return make_spectrum(E, r, 1e-3 * r.max() + 0 * r)


def _two_lorentzians(seed=0, scale=6000.0):
    s = FitSetup(qens_model(2, "flat", temperature=300.0))
    truth = {}
    for i, q in enumerate(Q):
        truth |= {f"shift_q{i}": 0.0, f"elastic_amplitude_q{i}": 0.3, f"L1_amplitude_q{i}": 0.5,
                  f"L1_hwhm_q{i}": 0.6582 * 0.2 * q**2 / (1 + 0.2 * q**2 * 1.0),
                  f"L2_amplitude_q{i}": 0.3, f"L2_hwhm_q{i}": 0.8, f"bg0_q{i}": 0.01}
    res = MeasuredResolution.from_data(_res()).prepare(E, Q)
    one = np.ones((Q.size, E.size))
    m = _Problem(s, Q, res, one, one, one > 0).model(truth) * scale
    c = np.random.default_rng(seed).poisson(m).astype(float)
    return make_sqe(Q, E, c / scale, np.sqrt(np.maximum(c, 1)) / scale)


def test_selection_hwhm_and_global_fit():
    data = _two_lorentzians()
    plan = QensPlan(lorentzians=(1, 2), temperature=300.0, diffusion=("ss",))
    a = analyse(data, _res(), plan, progress=False)
    assert a.chosen == 2
    row = {r["lorentzians"]: r for r in a.selection}
    assert row[2]["chosen"] and row[2]["weight"] > 0.99 and row[1]["delta_bic"] > 100
    # L1 is the narrowest in every group
    assert all(r["hwhm_1"] < r["hwhm_2"] for r in a.widths)
    hw = a.hwhm_fits["singwi-sjolander"]
    D, dD = hw.params["D"]
    assert abs(D - 0.2) < 4 * dD
    g = a.global_result
    assert g is not None and g.success
    Dg, dDg = g.derived["L1_D"].value, g.derived["L1_D"].error
    assert abs(Dg - 0.2) < 3 * dDg and dDg < 1.5 * dD
    assert "Lorentzian HWHM bounded below" in a.notes[0]
    assert resolution_hwhm(_res(), data) == pytest.approx(0.03, rel=0.15)


def test_plan_validation():
    with pytest.raises(InputError, match="diffusion"):
        QensPlan(rotation="sphere-rotation")
    with pytest.raises(InputError, match="0..5"):
        QensPlan(lorentzians=(7,))
    with pytest.raises(InputError, match="unknown diffusion"):
        QensPlan(diffusion=("brownian",))
    assert QensPlan(diffusion=("ce", "hr")).diffusion == ("chudley-elliott", "hall-ross")


def test_prepare_groups_crop_subtract():
    raw = sc.DataArray(sc.array(dims=["spectrum", "E"], values=np.ones((3, E.size)),
                                variances=np.full((3, E.size), 0.04)),
                       coords={"spectrum": sc.array(dims=["spectrum"], values=[1.0, 2.0, 3.0]),
                               "E": sc.array(dims=["E"], values=E, unit="meV")})
    with pytest.raises(InputError, match="give their Q"):
        as_q_groups(raw)
    with pytest.raises(InputError, match="2 Q values given for 3"):
        as_q_groups(raw, [0.5, 1.0])
    d = as_q_groups(raw, [0.5, 1.0, 1.5])
    assert d.dims == ("Q", "E") and list(d.coords["Q"].values) == [0.5, 1.0, 1.5]
    c = crop(d, q_range=(0.7, 2.0), e_range=(-0.5, 0.5))
    assert c.sizes["Q"] == 2 and np.all(np.abs(c.coords["E"].values) <= 0.5 + 1e-12)
    with pytest.raises(InputError, match="no Q group"):
        crop(d, q_range=(3, 4))
    # (S - a E) - f (S_solv - a E) with variances added, on another energy grid (interpolated)
    e2 = np.linspace(-2, 2, 401)
    empty = as_q_groups(sc.DataArray(sc.array(dims=["spectrum", "E"], values=np.full((3, e2.size), 0.2),
                                              variances=np.full((3, e2.size), 0.01)),
                                     coords={"E": sc.array(dims=["E"], values=e2, unit="meV")}),
                        [0.5, 1.0, 1.5])
    solv = d.copy()
    solv.values = np.full(d.shape, 0.5)
    out = subtract(d, empty, 1.0, solv, 0.9)
    np.testing.assert_allclose(out.values, 1.0 - 0.2 * 0.1 - 0.9 * 0.5, rtol=1e-12)
    np.testing.assert_allclose(out.variances, 0.04 + 0.1**2 * 0.01 + 0.81 * 0.04, rtol=1e-12)
    with pytest.raises(InputError, match="does not cover"):
        subtract(d, crop(empty, e_range=(-0.5, 0.5)))
