import numpy as np
import pytest
from scipy import integrate

from latdyn.diffraction.adp import debye_integral, debye_u_iso, einstein_u_iso, fit_u_iso, msd_from_u_iso
from latdyn.errors import InputError


def test_debye_integral_against_quadrature():
    for x in (1e-4, 0.3, 1.99, 2.0, 2.01, 5.0, 30.0, 200.0):
        ref = integrate.quad(lambda t: t / np.expm1(t) if t > 0 else 1.0, 0, x, epsabs=0, epsrel=1e-13)[0]
        assert debye_integral(x) == pytest.approx(ref, rel=1e-12)


def test_debye_u_iso_matches_ncrystal():
    NC = pytest.importorskip("NCrystal")
    for theta, mass in ((410.0, 26.9815), (160.0, 107.87), (645.0, 28.085), (90.0, 6.94)):
        T = np.array([1.0, 10.0, 77.0, 150.0, 293.15, 600.0, 1200.0])
        ref = [NC.vdos.debyeIsotropicMSD(debye_temperature=theta, temperature=t, mass=mass) for t in T]
        np.testing.assert_allclose(debye_u_iso(T, theta, mass), ref, rtol=1e-6)


def test_limits():
    from scipy import constants as C

    h2mk = C.hbar**2 / (C.atomic_mass * C.k) * 1e20
    assert debye_u_iso(0.0, 300.0, 50.0) == pytest.approx(3 * h2mk / (4 * 50 * 300))
    hot = debye_u_iso(1e5, 300.0, 50.0)
    assert hot == pytest.approx(3 * h2mk * 1e5 / (50 * 300**2), rel=1e-4)
    # Einstein: zero point hbar^2/(2 m kB theta), classical kB T / (m omega^2) = h2mk T / (m theta^2)
    assert einstein_u_iso(0.0, 100.0, 30.0) == pytest.approx(h2mk / (2 * 30 * 100))
    assert einstein_u_iso(1e5, 100.0, 30.0) == pytest.approx(h2mk * 1e5 / (30 * 100**2), rel=1e-6)
    assert msd_from_u_iso(0.01) == pytest.approx(0.03)


def test_fit_recovers_debye_temperature():
    rng = np.random.default_rng(3)
    T = np.linspace(10, 600, 25)
    mass, theta, static = 107.87, 215.0, 0.0031
    u = debye_u_iso(T, theta, mass) + static
    err = 0.002 * u
    res = fit_u_iso(T, u + rng.normal(0, err), err, mass=mass)
    assert res.theta == pytest.approx(theta, rel=0.01)
    assert res.u_static == pytest.approx(static, abs=3 * res.params["u_static"][1])
    assert res.params["theta_D"][1] > 0 and abs(res.correlation[0, 1]) < 1
    exact = fit_u_iso(T, u, mass=mass)
    assert exact.theta == pytest.approx(theta, rel=1e-6)


def test_fit_einstein_rattler():
    T = np.linspace(5, 400, 30)
    u = einstein_u_iso(T, 60.0, 137.3) + 0.001
    res = fit_u_iso(T, u, mass=137.3, model="einstein")
    assert res.theta == pytest.approx(60.0, rel=1e-6)
    np.testing.assert_allclose(res.predict(T), u, rtol=1e-8)


def test_bad_input():
    with pytest.raises(InputError, match="theta_D"):
        debye_u_iso(300, -1, 20)
    with pytest.raises(InputError, match="mass"):
        debye_u_iso(300, 300, 0)
    with pytest.raises(InputError):
        fit_u_iso([1, 2], [0.01, 0.02], mass=10)
