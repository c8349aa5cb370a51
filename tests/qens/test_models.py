"""Diffusion and geometry models against independent evaluations (jump matrices, integrals, limits)."""

import numpy as np
import pytest
from scipy import integrate, special

from latdyn.errors import InputError
from latdyn.fitresult import Quantity
from latdyn.qens import diffusion as dm
from latdyn.qens import geometry as gm
from latdyn.units import HBAR_MEV_PS

Q = np.array([0.05, 0.37, 0.8, 1.3, 1.95, 2.6])
RTOL = 1e-10


def _by_width(A, G):
    """Merge terms of equal width (compare models term by term whatever the order)."""
    out = {}
    for k in range(A.shape[1]):
        key = round(float(G[0, k]), 9)
        out[key] = out.get(key, 0.0) + A[:, k]
    return out


def _assert_same_terms(t1, t2):
    a, b = _by_width(*t1), _by_width(*t2)
    a = {k: v for k, v in a.items() if np.any(np.abs(v) > 1e-14)}
    b = {k: v for k, v in b.items() if np.any(np.abs(v) > 1e-14)}
    assert sorted(a) == pytest.approx(sorted(b), rel=1e-10)
    for ka, kb in zip(sorted(a), sorted(b), strict=True):
        np.testing.assert_allclose(a[ka], b[kb], rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("N", [2, 3, 4, 6])
def test_circle_vs_jump_matrix(N):
    r, tau = 1.02, 1.7
    phi = 2 * np.pi * np.arange(N) / N
    pos = np.stack([r * np.cos(phi), r * np.sin(phi), 0 * phi], axis=1)
    W = np.zeros((N, N))
    for i in range(N):
        W[i, (i + 1) % N] += 1 / (2 * tau)
        W[i, (i - 1) % N] += 1 / (2 * tau)
    _assert_same_terms(gm.circle(Q, r, tau, N), gm.jump_terms(Q, pos, W))


def test_two_site_is_circle_of_two():
    _assert_same_terms(gm.two_site(Q, 2.4, 0.9), gm.circle(Q, 1.2, 0.9, 2))


@pytest.mark.parametrize("kind,rate", [("C2", 1 / 3), ("C3", 1 / 4), ("iso", 3 / 11)])
def test_tetrahedral_vs_jump_matrix(kind, rate):
    d, tau = 1.68, 2.2
    pos = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) * d / (2 * np.sqrt(2))
    W = np.full((4, 4), rate / tau)
    _assert_same_terms(gm.tetrahedral(Q, d, tau, kind), gm.jump_terms(Q, pos, W))


def test_cube_vs_jump_matrix():
    a, tau = 1.3, 0.7
    pos = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float) * a
    W = (np.abs(np.linalg.norm(pos[:, None] - pos[None], axis=-1) - a) < 1e-9) / (3 * tau)
    _assert_same_terms(gm.cube(Q, a, tau), gm.jump_terms(Q, pos, W))


def test_sphere_rotation_sum_rule_and_eisf_integral():
    a = 1.4
    A, G = gm.sphere_rotation(Q, a, 0.3, l_max=60)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=RTOL)
    for q, a0 in zip(Q, A[:, 0], strict=True):
        amp = integrate.quad(lambda mu, q=q: np.cos(q * a * mu), -1, 1, epsabs=0, epsrel=1e-13)[0] / 2
        assert a0 == pytest.approx(amp**2, rel=RTOL)
    assert G[0, 2] == pytest.approx(HBAR_MEV_PS * 6 * 0.3, rel=1e-14)


def test_sphere_diffusion_eisf_integral_sum_rule_and_roots():
    a = 2.3
    A, G = gm.sphere_diffusion(Q, a, 0.2, n=12)
    for q, a0 in zip(Q, A[:, 0], strict=True):
        amp = integrate.quad(lambda r, q=q: 3 * r**2 / a**3 * np.sinc(q * r / np.pi), 0, a,
                             epsabs=0, epsrel=1e-13, limit=200)[0]
        assert a0 == pytest.approx(amp**2, rel=RTOL)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, atol=2e-4)
    x = gm.spherical_bessel_derivative_roots(5, 5)
    for l in range(6):
        np.testing.assert_allclose(special.spherical_jn(l, x[l], derivative=True), 0, atol=1e-13)
    # removable singularity at Qa = x_ln: continuous across it
    x10 = x[1, 0]
    q_near = np.array([x10 / a * (1 - 1e-7), x10 / a, x10 / a * (1 + 1e-7)])
    An = gm.sphere_diffusion(q_near, a, 0.2, n=4)[0]
    np.testing.assert_allclose(An[0], An[1], rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(An[2], An[1], rtol=1e-5, atol=1e-12)


def test_immobile_fraction():
    A, _ = gm.with_immobile(gm.two_site(Q, 2.0, 1.0), 0.3)
    np.testing.assert_allclose(A[:, 0], 0.3 + 0.7 * (1 + np.sinc(Q * 2.0 / np.pi)) / 2, rtol=1e-14)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=1e-14)


def test_chudley_elliott_and_hall_ross_vs_direction_integrals():
    D, l = 0.23, 1.5
    tau = l * l / (6 * D)
    s = l / np.sqrt(3)  # each Cartesian component of the jump has variance <l^2>/3
    for q in Q:
        iso = integrate.quad(lambda mu, q=q: np.cos(q * l * mu), -1, 1, epsabs=0, epsrel=1e-13)[0] / 2
        assert dm.chudley_elliott(q, D, l) == pytest.approx(HBAR_MEV_PS / tau * (1 - iso), rel=RTOL)
        g = integrate.quad(lambda x, q=q: np.exp(-x * x / (2 * s * s)) * np.cos(q * x), -np.inf,
                           np.inf, epsabs=0, epsrel=1e-13)[0] / (np.sqrt(2 * np.pi) * s)
        assert dm.hall_ross(q, D, l) == pytest.approx(HBAR_MEV_PS / tau * (1 - g), rel=RTOL)


def test_diffusion_limits():
    D = 0.23
    q = 1e-4
    for f, p in ((dm.chudley_elliott, 1.3), (dm.hall_ross, 1.3), (dm.singwi_sjolander, 1.2)):
        assert f(q, D, p) == pytest.approx(dm.fick(q, D), rel=1e-7)
    assert dm.singwi_sjolander(1e4, D, 1.2) == pytest.approx(HBAR_MEV_PS / 1.2, rel=1e-6)
    assert dm.chudley_elliott(1e6, D, 1.5) == pytest.approx(HBAR_MEV_PS * 6 * D / 1.5**2, rel=1e-5)
    m = dm.get_diffusion_model("singwi-sjolander")
    out = m.derived(D=0.23, tau=1.25)
    D = Quantity(*out["D"][:1], 0.0, out["D"][1])
    assert D.to("cm**2/s").value == pytest.approx(2.3e-5, rel=1e-12)
    assert D.to("m**2/s").value == pytest.approx(2.3e-9, rel=1e-12)


def test_bad_model_input():
    with pytest.raises(InputError, match="unknown geometry"):
        gm.get_geometry_model("hexagon")
    with pytest.raises(InputError, match="unknown diffusion"):
        dm.get_diffusion_model("brownian-bridge")
    with pytest.raises(InputError, match="tau"):
        gm.circle(Q, 1.0, -1.0, 3)
    with pytest.raises(InputError):
        dm.fick([-1.0], 0.1)
