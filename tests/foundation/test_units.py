import numpy as np
import pytest
import scipp as sc
from hypothesis import given
from hypothesis import strategies as st

import latdyn.units as u
from latdyn.errors import InputError

positive = st.floats(min_value=1e-4, max_value=1e5, allow_nan=False, allow_infinity=False)


def test_e_lambda_squared_constant():
    lam = u.energy_to_wavelength(1.0)
    assert float(f"{1.0 * lam**2:.5g}") == 81.804
    assert u.E_LAMBDA2 == pytest.approx(81.80421, rel=1e-6)


def test_published_constants():
    assert u.energy_to_velocity(1.0) == pytest.approx(437.3934, rel=1e-6)
    assert u.wavelength_to_tof(1.0, 1.0) == pytest.approx(252.7784, rel=1e-6)
    assert u.E_PER_K2 == pytest.approx(2.072125, rel=1e-6)
    assert u.mev_to_thz(1.0) == pytest.approx(0.2417989, rel=1e-6)
    assert u.mev_to_inverse_cm(1.0) == pytest.approx(8.065544, rel=1e-6)
    assert u.mev_to_kelvin(1.0) == pytest.approx(11.604518, rel=1e-6)


@given(positive)
def test_kinetic_round_trips(x):
    for a in ("energy", "wavelength", "k", "velocity"):
        for b in ("energy", "wavelength", "k", "velocity", "tof"):
            y = u.convert(x, a, b, path_m=12.5)
            assert u.convert(y, b, a, path_m=12.5) == pytest.approx(x, rel=1e-12)


@given(positive)
def test_spectroscopic_round_trips(x):
    assert u.thz_to_mev(u.mev_to_thz(x)) == pytest.approx(x, rel=1e-13)
    assert u.inverse_cm_to_mev(u.mev_to_inverse_cm(x)) == pytest.approx(x, rel=1e-13)
    assert u.kelvin_to_mev(u.mev_to_kelvin(x)) == pytest.approx(x, rel=1e-13)


def test_named_helpers_agree_with_formula():
    e = np.array([0.5, 3.134, 81.80421])
    lam = u.energy_to_wavelength(e)
    np.testing.assert_allclose(lam, np.sqrt(u.E_LAMBDA2 / e), rtol=1e-14)
    np.testing.assert_allclose(u.energy_to_k(e), 2 * np.pi / lam, rtol=1e-14)
    np.testing.assert_allclose(u.tof_to_energy(u.energy_to_tof(e, 20.0), 20.0), e, rtol=1e-13)


def test_scipp_units_and_variances():
    e = sc.array(dims=["x"], values=[1.0, 4.0], variances=[0.01, 0.04], unit="meV")
    lam = u.energy_to_wavelength(e)
    assert lam.unit == sc.Unit("angstrom")
    # lambda ~ E^-1/2: sigma_lambda / lambda = 1/2 sigma_E / E
    np.testing.assert_allclose(np.sqrt(lam.variances) / lam.values,
                               0.5 * np.sqrt(e.variances) / e.values, rtol=1e-12)
    e_uev = sc.array(dims=["x"], values=[1000.0], unit="ueV")
    assert u.energy_to_wavelength(e_uev).values[0] == pytest.approx(u.energy_to_wavelength(1.0))
    assert u.mev_to_thz(sc.scalar(1.0, unit="meV")).unit == sc.Unit("THz")


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_non_positive_energy_rejected(bad):
    with pytest.raises(InputError, match="energy"):
        u.energy_to_wavelength(bad)


def test_tof_needs_path():
    with pytest.raises(InputError, match="path_m"):
        u.convert(1.0, "energy", "tof")


def test_bose_detailed_balance_and_limits():
    e = np.linspace(-20, 20, 41)
    e = e[e != 0]
    t = 150.0
    n = u.bose_occupation(e, t)
    np.testing.assert_allclose(u.bose_occupation(-e, t), -(n + 1), rtol=1e-12)
    f = u.detailed_balance_factor(e, t)
    # S = (n + 1) chi''/pi with chi'' odd: S(-E)/S(E) = -f(-E)/f(E) = exp(-E/kT)
    np.testing.assert_allclose(-u.detailed_balance_factor(-e, t) / f,
                               np.exp(-e / (u.KB_MEV_PER_K * t)), rtol=1e-12)
    # classical limit n ~ kT/E for E << kT
    assert u.bose_occupation(1e-9, 300.0) == pytest.approx(u.KB_MEV_PER_K * 300 / 1e-9, rel=1e-6)
    assert np.isinf(u.bose_occupation(0.0, 300.0))
    # no overflow far from kT, and T = 0 is the ground state
    assert u.bose_occupation(500.0, 1.0) == 0.0
    assert u.bose_occupation(1.0, 0.0) == 0.0
    assert u.bose_occupation(-1.0, 0.0) == -1.0
    assert u.detailed_balance_factor(1.0, 0.0) == 1.0


def test_bose_correction_is_finite_at_zero():
    x = np.array([-1e-12, 0.0, 1e-12, 1e-3, 5.0])
    c = u.bose_correction(x, 10.0)
    assert np.all(np.isfinite(c))
    assert c[1] == 1.0
    kt = u.KB_MEV_PER_K * 10.0
    np.testing.assert_allclose(c[3:], (x[3:] / kt) / (1 - np.exp(-x[3:] / kt)), rtol=1e-12)
    with pytest.raises(InputError, match="temperature"):
        u.bose_correction(1.0, 0.0)
    with pytest.raises(InputError, match="temperature"):
        u.bose_occupation(1.0, -5.0)
