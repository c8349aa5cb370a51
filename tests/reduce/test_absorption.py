"""Cylinder and annulus self-shielding against independent integrals and ray marching."""

import numpy as np
import pytest
from scipy import integrate

from latdyn.errors import InputError
from latdyn.reduce import cylinder_attenuation

R_CM = 0.5


@pytest.mark.parametrize("mu", [0.5, 2.0, 4.0])
def test_solid_cylinder_forward_and_back_against_quad(mu):
    """2theta = 0: every point of a chord is attenuated by exp(-mu chord); 2theta = 180 deg:
    l_in = l_out = x + sqrt(R^2 - y^2).  Measured agreement 1e-7 or better."""
    area = np.pi * R_CM**2

    def half(y):
        return np.sqrt(R_CM**2 - y * y)

    fwd = integrate.quad(lambda y: 2 * half(y) * np.exp(-2 * mu * half(y)), -R_CM, R_CM)[0] / area
    back = integrate.dblquad(lambda x, y: np.exp(-2 * mu * (x + half(y))), -R_CM, R_CM,
                             lambda y: -half(y), half)[0] / area
    got = cylinder_attenuation([0.0, 180.0], mu, mu, 10 * R_CM)
    assert got == pytest.approx([fwd, back], rel=2e-6)


@pytest.mark.parametrize("two_theta", [20.0, 75.0, 140.0])
def test_annulus_against_ray_marching(two_theta):
    r_out, r_in, mu_i, mu_f = 0.6, 0.5, 3.0, 4.5          # cm, 1/cm: a 1 mm wall, 1/v absorption
    got = cylinder_attenuation(two_theta, mu_i, mu_f, 10 * r_out, 10 * r_in)
    assert got == pytest.approx(_marched_layers(two_theta, [(r_in, r_out, mu_i, mu_f)], 0), rel=2e-3)


def test_limits_and_symmetry():
    assert cylinder_attenuation([0, 60, 120, 180], 0.0, 0.0, 5.0, 4.0) == pytest.approx(1.0, abs=1e-12)
    a = cylinder_attenuation([-50.0, 50.0], 1.0, 2.0, 5.0, 3.0)
    assert a[0] == pytest.approx(a[1], rel=1e-12)
    thin = cylinder_attenuation(90.0, 1.0, 1.0, 5.0, 4.9)
    solid = cylinder_attenuation(90.0, 1.0, 1.0, 5.0)
    assert solid < thin < 1.0
    with pytest.raises(InputError, match="inner radius"):
        cylinder_attenuation(90.0, 1.0, 1.0, 5.0, 5.0)
    with pytest.raises(InputError, match=">= 0"):
        cylinder_attenuation(90.0, -1.0, 1.0, 5.0)


def test_self_shielding_correction_divides_by_a_at_each_angle():
    import scipp as sc

    from latdyn.data import make_sqe
    from latdyn.kinematics import q_direct
    from latdyn.reduce import self_shielding_correction
    from latdyn.simulate import Sample
    from latdyn.units import energy_to_wavelength

    can = Sample("V", 5.0, outer_radius_mm=5.0, inner_radius_mm=4.0, height_mm=40.0)
    ei = 25.0
    q = np.array([0.5, 2.0, 4.0, 9.0])
    e = np.array([-3.0, 0.0, 10.0])
    da = make_sqe(q, e, np.ones((4, 3)), np.full((4, 3), 0.1), unit="1/meV")
    out = self_shielding_correction(da, can, ei=ei)
    for i, j in ((1, 1), (2, 2), (0, 0)):
        angles = np.linspace(0.01, 180.0, 200001)
        qs = q_direct(ei=ei, energy_transfer=e[j], two_theta=angles)   # increasing in 2theta
        tt = float(np.interp(q[i], qs, angles))
        a = can.attenuation(energy_to_wavelength(ei), energy_to_wavelength(ei - e[j]), tt)
        assert out.values[i, j] == pytest.approx(1.0 / float(a), rel=1e-6)
        assert np.sqrt(out.variances[i, j]) == pytest.approx(0.1 / float(a), rel=1e-6)
    assert out.masks["unreachable"].values[3, 1]             # 9 1/A at 25 meV: beyond 2 k_i
    flipped = self_shielding_correction(sc.transpose(da, ["E", "Q"]).copy(), can, ei=ei)
    assert sc.transpose(flipped, ["Q", "E"]).values == pytest.approx(out.values)
    with pytest.raises(InputError, match="exactly one"):
        self_shielding_correction(da, can)


def _marched_layers(two_theta, layers, scatterer, n=24, steps=3000):
    """Brute-force two-layer factor: material paths by marching along the rays."""
    r_in, r_out = layers[scatterer][:2]
    x, w = np.polynomial.legendre.leggauss(n)
    r = 0.5 * (r_out - r_in) * x + 0.5 * (r_out + r_in)
    wr = 0.5 * (r_out - r_in) * w * r
    phi = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    px, py = (r[:, None] * np.cos(phi)).ravel(), (r[:, None] * np.sin(phi)).ravel()
    wt = np.repeat(wr, phi.size) * 2 * np.pi / phi.size
    big = max(lay[1] for lay in layers)
    dl = 2 * big / steps
    t = (np.arange(steps) + 0.5) * dl

    def paths(ux, uy):
        rr = np.hypot(px[:, None] + t * ux, py[:, None] + t * uy)
        return [np.sum((rr >= a) & (rr <= b), axis=1) * dl for a, b, _, _ in layers]

    a = np.radians(two_theta)
    expo = sum(mu_i * li + mu_f * lo for (_, _, mu_i, mu_f), li, lo
               in zip(layers, paths(-1.0, 0.0), paths(np.cos(a), np.sin(a)), strict=True))
    return np.sum(wt * np.exp(-expo)) / (np.pi * (r_out**2 - r_in**2))


def test_paalman_pings_limits_and_ray_marching():
    from latdyn.reduce import paalman_pings

    sample_mm, can_mm = (4.0, 5.0), (5.0, 5.5)
    tt = np.array([25.0, 110.0])
    f = paalman_pings(tt, (*sample_mm, 1.5, 2.0), (*can_mm, 0.1, 0.1))
    assert f["A_s_s"] == pytest.approx(cylinder_attenuation(tt, 1.5, 2.0, 5.0, 4.0), rel=1e-12)
    assert np.all(f["A_s_sc"] < f["A_s_s"]) and np.all(f["A_c_sc"] < f["A_c_c"])
    layers = [(0.4, 0.5, 1.5, 2.0), (0.5, 0.55, 0.1, 0.1)]                  # cm, 1/cm
    for k, t2 in enumerate(tt):
        assert f["A_s_sc"][k] == pytest.approx(_marched_layers(t2, layers, 0), rel=2e-3)
        assert f["A_c_sc"][k] == pytest.approx(_marched_layers(t2, layers, 1), rel=2e-3)
    empty = paalman_pings(tt, (*sample_mm, 0.0, 0.0), (*can_mm, 0.1, 0.1))
    assert empty["A_c_sc"] == pytest.approx(empty["A_c_c"], rel=1e-12)
    with pytest.raises(InputError, match="overlap"):
        paalman_pings(tt, (4.0, 5.0, 1.0, 1.0), (4.5, 5.5, 0.1, 0.1))


def test_container_correction_recovers_the_sample():
    from latdyn.data import make_sqe
    from latdyn.kinematics import q_direct
    from latdyn.reduce import container_correction, paalman_pings
    from latdyn.simulate import Sample
    from latdyn.units import energy_to_wavelength

    water = Sample("H2O", 0.3, outer_radius_mm=5.0, inner_radius_mm=4.8, height_mm=40.0)
    can = Sample("Al", 2.0, outer_radius_mm=5.5, inner_radius_mm=5.0, height_mm=40.0)
    ei, q, e = 3.27, np.array([0.6, 1.4]), np.array([-0.2, 0.0, 0.3])
    s_true = np.array([[1.0, 2.0, 0.5], [0.7, 1.5, 0.4]])
    c_true = np.full((2, 3), 0.3)
    i_sc, i_c = np.empty((2, 3)), np.empty((2, 3))
    angles = np.linspace(0.01, 180.0, 200001)
    for i in range(2):
        for j in range(3):
            tt = float(np.interp(q[i], q_direct(ei=ei, energy_transfer=e[j], two_theta=angles), angles))
            li, lf = energy_to_wavelength(ei), energy_to_wavelength(ei - e[j])
            f = paalman_pings(tt, (4.8, 5.0, water.mu_per_cm(li), water.mu_per_cm(lf)),
                              (5.0, 5.5, can.mu_per_cm(li), can.mu_per_cm(lf)))
            i_sc[i, j] = f["A_s_sc"] * s_true[i, j] + f["A_c_sc"] * c_true[i, j]
            i_c[i, j] = f["A_c_c"] * c_true[i, j]
    out = container_correction(make_sqe(q, e, i_sc, 0.01 * i_sc), make_sqe(q, e, i_c, 0.01 * i_c),
                               water, can, ei=ei)
    assert out.values == pytest.approx(s_true, rel=1e-5)
    with pytest.raises(InputError, match="cylindrical"):
        container_correction(make_sqe(q, e, i_sc), make_sqe(q, e, i_c), Sample("H2O", 0.3), can, ei=ei)
