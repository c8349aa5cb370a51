import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import latdyn.kinematics as kin
from latdyn.errors import InputError
from latdyn.units import energy_to_k, wavelength_to_energy


def test_elastic_direct_equals_bragg():
    lam = 5.0
    ei = wavelength_to_energy(lam)
    for tt in (10.0, 45.0, 90.0, 150.0):
        assert kin.q_direct(ei, 0.0, tt) == pytest.approx(kin.q_elastic(lam, tt), rel=1e-12)


@given(st.floats(1.0, 100.0), st.floats(0.0, 0.99), st.floats(0.0, 180.0))
def test_direct_indirect_agree(ei, frac, tt):
    e = frac * ei
    ef = ei - e
    assert kin.q_direct(ei, e, tt) == pytest.approx(kin.q_indirect(ef, e, tt), rel=1e-9, abs=1e-12)


@given(st.floats(1.0, 100.0), st.floats(-50.0, 0.99), st.floats(0.0, 180.0))
@example(1.0, -1e-8, 0.0)  # the law of cosines cancels to 0 here; the sin^2 form does not
def test_q_within_triangle_bounds(ei, frac, tt):
    e = frac * ei
    q = kin.q_direct(ei, e, tt)
    ki, kf = energy_to_k(ei), energy_to_k(ei - e)
    assert abs(ki - kf) - 1e-9 <= q <= ki + kf + 1e-9


def test_forbidden_and_bad_angles():
    with pytest.raises(InputError, match="energy_transfer"):
        kin.q_direct(10.0, 11.0, 30.0)
    with pytest.raises(InputError, match="energy_transfer"):
        kin.q_indirect(2.0, -3.0, 30.0)
    for tt in (-1.0, 181.0, np.nan):
        with pytest.raises(InputError, match="two_theta"):
            kin.q_direct(10.0, 1.0, tt)
    with pytest.raises(InputError, match="ei"):
        kin.q_direct(-1.0, 0.0, 30.0)


def test_coverage_boundaries_and_mask():
    cov = kin.coverage_direct(10.0, 5.0, 130.0, n=201)
    i = np.argmin(abs(cov.energy - 2.0))
    e = cov.energy[i]
    assert cov.q_min[i] == pytest.approx(kin.q_direct(10.0, e, 5.0))
    assert cov.q_max[i] == pytest.approx(kin.q_direct(10.0, e, 130.0))
    mid = 0.5 * (cov.q_min[i] + cov.q_max[i])
    assert cov.contains(mid, e)
    assert not cov.contains(cov.q_max[i] * 1.01, e)
    assert not cov.contains(1.0, 10.5)
    q, en = cov.polygon()
    assert q[0] == q[-1] and en[0] == en[-1]
    ind = kin.coverage_indirect(1.84, 25.0, 160.0)
    assert np.all(np.isnan(ind.q_min[ind.energy < -1.84]))


def test_bragg_cw_and_tof():
    d = 2.0
    tt = kin.d_to_two_theta(d, 1.5)
    assert kin.two_theta_to_d(tt, 1.5) == pytest.approx(d, rel=1e-13)
    # DIFC = 505.5568 L sin(theta) us/A (FIELD-NOTES: tof = 252.7784 us per m per A)
    assert kin.difc(50.0, 90.0) == pytest.approx(2 * 252.7784 * 50 * np.sin(np.pi / 4), rel=1e-6)
    t = kin.d_to_tof(d, 50.0, 90.0)
    assert kin.tof_to_d(t, 50.0, 90.0) == pytest.approx(d, rel=1e-13)
    with pytest.raises(InputError, match="d"):
        kin.d_to_two_theta(0.5, 1.5)


@given(st.floats(0.3, 20.0), st.floats(0.5, 10.0))
def test_bragg_round_trip_property(d, lam):
    if lam >= 2 * d:
        return
    assert kin.two_theta_to_d(kin.d_to_two_theta(d, lam), lam) == pytest.approx(d, rel=1e-10)
