"""|Q| resolution of direct-geometry spectrometers: Monte Carlo of the exact kinematics, limits,
a hand calculation, the energy-error identity, bad input and the phonon-map adapter."""

import copy

import numpy as np
import pytest
from scipy import constants as C

from latdyn.convolution.broadening import broaden_axis
from latdyn.errors import InputError
from latdyn.instruments import instrument_from_dict, load_instrument
from latdyn.instruments._yaml import read_yaml
from latdyn.instruments.direct import _k_errors
from latdyn.instruments.library import LIBRARY
from latdyn.units import E_PER_K2, energy_to_velocity

EI = 100.0
SETTING = {"frequency": 400.0, "package": "S"}
K_PER_U = 1e-10 * C.m_n / C.hbar          # k (1/angstrom) = K_PER_U / u, u = 1/v (s/m)


@pytest.fixture(scope="module")
def mari():
    return load_instrument("MARI")


@pytest.fixture(scope="module")
def wide_mari():
    """MARI with detectors from 0.01 to 179.99 deg, for the forward and backward limits."""
    data = copy.deepcopy(read_yaml(LIBRARY / "mari.yaml"))
    data["detector"]["two_theta_min"]["value"] = 0.01
    data["detector"]["two_theta_max"]["value"] = 179.99
    data["detector"].pop("banks")
    return instrument_from_dict(data, "mari-wide.yaml")


def _k(energy):
    return np.sqrt(energy / E_PER_K2)


def _two_theta(q, e):
    ki, kf = _k(EI), _k(EI - e)
    return np.arccos((ki**2 + kf**2 - q**2) / (2.0 * ki * kf))


@pytest.mark.parametrize(("q", "e"), [(3.0, 0.0), (6.0, 0.0), (3.0, 40.0), (6.0, 40.0), (8.0, 20.0)])
def test_monte_carlo_of_the_exact_kinematics(mari, q, e):
    """Sample (tau, w) from their covariance, the path and angle errors from their Gaussians,
    and recompute the true |Q| exactly from the time of flight of the counted neutron."""
    rng = np.random.default_rng(7)
    n = 200_000
    ef = EI - e
    cov = mari._covariance(EI, SETTING["frequency"], None, SETTING["package"])
    tau, w = rng.multivariate_normal([0.0, 0.0], cov, n).T
    dx2 = rng.normal(0.0, np.sqrt(mari.detector.path_variance(ef)), n)
    dphi = rng.normal(0.0, np.sqrt(mari._angle_variance(None, 0.0)), n)
    l1, x2 = mari.moderator_sample, mari.sample_detector
    u_i0, u_f0 = 1.0 / energy_to_velocity(EI), 1.0 / energy_to_velocity(ef)
    t_det = l1 * u_i0 + x2 * u_f0                 # the time bin the reduction assigns to Ef
    u_i = u_i0 + w
    u_f = (t_det - tau - l1 * u_i) / (x2 + dx2)
    ki, kf, phi = K_PER_U / u_i, K_PER_U / u_f, _two_theta(q, e) + dphi
    q_true = np.sqrt(ki**2 + kf**2 - 2.0 * ki * kf * np.cos(phi))
    sigma = mari.q_resolution_sigma(q, e, EI, **SETTING)
    assert q_true.std() == pytest.approx(sigma, rel=0.01)
    # the test can fail: without the tau-w correlation the width is off by > 5 %
    uncorrelated = np.diag(np.diag(cov))
    wrong = mari._q_sigma(np.degrees(_two_theta(q, e)), EI, ef, uncorrelated, mari._angle_variance(None, 0.0))
    assert abs(wrong / q_true.std() - 1.0) > 0.05


def test_hand_calculation_elastic_at_90_degrees(mari):
    """Elastic, 2theta = 90 deg: Q = sqrt(2) k, c_i = c_f = 1/sqrt(2), c_phi = k/sqrt(2), and
    dk_i + dk_f = k v [w (1 - L1/x2) - tau/x2] - k dx2/x2."""
    k = _k(EI)
    v = float(energy_to_velocity(EI))
    l1, x2 = 11.739, 4.020
    cov = mari._covariance(EI, SETTING["frequency"], None, SETTING["package"])
    g = np.array([-1.0 / x2, 1.0 - l1 / x2])                       # on (tau, w)
    time_var = (k * v) ** 2 * g @ cov @ g
    path_var = k**2 * float(mari.detector.path_variance(EI)) / x2**2
    angle_var = k**2 * (0.0254**2 / 12.0 + 0.019**2 / 8.0) / x2**2   # tube 25.4 mm, annulus 19 mm
    expected = np.sqrt(0.5 * (time_var + path_var + angle_var))
    assert mari.q_resolution_sigma(np.sqrt(2.0) * k, 0.0, EI, **SETTING) == pytest.approx(expected, rel=1e-9)
    # a 1 deg incident divergence adds (k/sqrt 2)^2 (1 deg / 2.3548)^2
    div = 0.5 * k**2 * (np.radians(1.0) / 2.3548200450309493) ** 2
    assert mari.q_resolution_sigma(np.sqrt(2.0) * k, 0.0, EI, divergence_deg=1.0, **SETTING) == \
        pytest.approx(np.sqrt(expected**2 + div), rel=1e-9)


def test_elastic_limits(wide_mari):
    k = _k(EI)
    cov = wide_mari._covariance(EI, SETTING["frequency"], None, SETTING["package"])
    angle_var = wide_mari._angle_variance(None, 0.0)
    # forward: the time and path errors enter as sin(theta) (dk_i + dk_f) -> 0, the angle as k
    q_small = 2.0 * k * np.sin(np.radians(0.02 / 2.0))
    assert wide_mari.q_resolution_sigma(q_small, 0.0, EI, **SETTING) == \
        pytest.approx(k * np.sqrt(angle_var), rel=1e-4)
    # backward: the angle drops out, sigma_Q = sigma(dk_i + dk_f)
    v = float(energy_to_velocity(EI))
    x2, l1 = wide_mari.sample_detector, wide_mari.moderator_sample
    g = k * v * np.array([-1.0 / x2, 1.0 - l1 / x2])
    back = np.sqrt(g @ cov @ g + k**2 * float(wide_mari.detector.path_variance(EI)) / x2**2)
    q_back = 2.0 * k * np.sin(np.radians(179.9 / 2.0))
    assert wide_mari.q_resolution_sigma(q_back, 0.0, EI, **SETTING) == pytest.approx(back, rel=1e-4)


def test_inelastic_forward_scattering_is_the_speed_error_only(wide_mari):
    """2theta -> 0 with E > 0: Q = k_i - k_f, so sigma_Q = sigma(dk_i - dk_f), no angle term."""
    e = 40.0
    ef = EI - e
    ki, kf = _k(EI), _k(ef)
    v_i, v_f = float(energy_to_velocity(EI)), float(energy_to_velocity(ef))
    x2, l1 = wide_mari.sample_detector, wide_mari.moderator_sample
    cov = wide_mari._covariance(EI, SETTING["frequency"], None, SETTING["package"])
    g = np.array([kf * v_f / x2, ki * v_i + kf * v_f * l1 / x2])    # dk_i - dk_f on (tau, w)
    expected = np.sqrt(g @ cov @ g + (kf / x2) ** 2 * float(wide_mari.detector.path_variance(ef)))
    q = np.sqrt((ki - kf) ** 2 + 4 * ki * kf * np.sin(np.radians(0.005)) ** 2)
    got = wide_mari.q_resolution_sigma(q, e, EI, **SETTING)
    assert got == pytest.approx(expected, rel=1e-4)
    with_divergence = wide_mari.q_resolution_sigma(q, e, EI, divergence_deg=2.0, **SETTING)
    assert with_divergence == pytest.approx(got, rel=1e-4)


@pytest.mark.parametrize(("name", "ei"), [("MARI", 100.0), ("LET", 10.0), ("CNCS", 3.3)])
def test_k_errors_reproduce_the_energy_resolution(name, ei):
    """dE = (2E_i/k_i) dk_i - (2E_f/k_f) dk_f gives a_tau, a_w, 2E_f/x2 of resolution_sigma."""
    inst = load_instrument(name)
    e = np.array([-0.5, 0.0, 0.3, 0.7]) * ei
    ef = ei - e
    l1, x2 = inst.moderator_sample, inst.sample_detector
    ki_w, kf_tau, kf_w, kf_x = _k_errors(ei, ef, l1, x2)
    v_i = float(energy_to_velocity(ei))
    v_f = np.sqrt(ef / ei) * v_i
    a_tau = -(2.0 * ef / _k(ef)) * kf_tau
    a_w = (2.0 * ei / _k(ei)) * ki_w - (2.0 * ef / _k(ef)) * kf_w
    a_x = -(2.0 * ef / _k(ef)) * kf_x
    np.testing.assert_allclose(a_tau, 2.0 * ef * v_f / x2, rtol=1e-9)
    np.testing.assert_allclose(a_w, 2.0 * ef * v_f * l1 / x2 + 2.0 * ei * v_i, rtol=1e-9)
    np.testing.assert_allclose(a_x, 2.0 * ef / x2, rtol=1e-9)
    cov = inst._covariance(ei, inst.frequency_for(ei), None, None)
    var = a_tau**2 * cov[0, 0] + 2 * a_tau * a_w * cov[0, 1] + a_w**2 * cov[1, 1] \
        + a_x**2 * inst.detector.path_variance(ef)
    np.testing.assert_allclose(np.sqrt(var), inst.resolution_sigma(e, ei, convention="second_moment"),
                               rtol=1e-9)


def test_k_errors_are_the_derivatives_of_the_time_of_flight():
    l1, x2, ei, ef = 11.739, 4.02, 100.0, 60.0
    u_i0, u_f0 = 1.0 / energy_to_velocity(ei), 1.0 / energy_to_velocity(ef)
    t_det = l1 * u_i0 + x2 * u_f0

    def kf_nominal_minus_true(tau, w, dx2):
        return K_PER_U / u_f0 - K_PER_U * (x2 + dx2) / (t_det - tau - l1 * (u_i0 + w))

    _, kf_tau, kf_w, kf_x = _k_errors(ei, ef, l1, x2)
    assert (kf_nominal_minus_true(1e-9, 0, 0) - kf_nominal_minus_true(-1e-9, 0, 0)) / 2e-9 == \
        pytest.approx(kf_tau, rel=1e-5)
    assert (kf_nominal_minus_true(0, 1e-10, 0) - kf_nominal_minus_true(0, -1e-10, 0)) / 2e-10 == \
        pytest.approx(kf_w, rel=1e-5)
    assert (kf_nominal_minus_true(0, 0, 1e-6) - kf_nominal_minus_true(0, 0, -1e-6)) / 2e-6 == \
        pytest.approx(kf_x, rel=1e-5)


def test_fwhm_broadcasts_and_sample_width_default(mari):
    q = np.array([[3.0], [6.0]])
    e = np.array([0.0, 40.0])
    fwhm = mari.q_resolution(q, e, EI, **SETTING)
    assert fwhm.shape == (2, 2)
    np.testing.assert_allclose(fwhm, 2.3548200450309493 * mari.q_resolution_sigma(q, e, EI, **SETTING))
    # the file's 19 mm sample is the default; 0 mm narrows, 40 mm widens
    narrow = mari.q_resolution(q, e, EI, sample_width_mm=0.0, **SETTING)
    wide = mari.q_resolution(q, e, EI, sample_width_mm=40.0, **SETTING)
    assert np.all(narrow < fwhm) and np.all(fwhm < wide)
    assert mari.q_resolution(q, e, EI, sample_width_mm=19.0, **SETTING) == pytest.approx(fwhm)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"q": -1.0, "energy_transfer": 0.0}, "q"),
    ({"q": np.nan, "energy_transfer": 0.0}, "q"),
    ({"q": 20.0, "energy_transfer": 0.0}, "q"),              # beyond 2 k_i
    ({"q": 0.2, "energy_transfer": 0.0}, "q"),               # below the first detector
    ({"q": 13.5, "energy_transfer": 0.0}, "q"),              # beyond the last detector
    ({"q": 3.0, "energy_transfer": 100.0}, "energy_transfer"),
    ({"q": [3.0, 4.0], "energy_transfer": [0.0, 1.0, 2.0]}, "q"),
    ({"q": 3.0, "energy_transfer": 0.0, "sample_width_mm": -1.0}, "sample_width_mm"),
    ({"q": 3.0, "energy_transfer": 0.0, "divergence_deg": "wide"}, "divergence_deg"),
])
def test_bad_input_names_the_field(mari, kwargs, field):
    with pytest.raises(InputError, match=f"field '{field}'"):
        mari.q_resolution(ei=EI, **kwargs)


def test_phonon_map_adapter(mari):
    fwhm_of_q = mari.q_broadening(EI, 40.0, **SETTING)
    q = np.array([3.0, 6.0])
    np.testing.assert_allclose(fwhm_of_q(q), mari.q_resolution(q, 40.0, EI, **SETTING))
    # outside the reach of the detectors at 40 meV: the width at the first / last angle
    ki, kf = _k(EI), _k(EI - 40.0)
    q_lo = np.sqrt(ki**2 + kf**2 - 2 * ki * kf * np.cos(np.radians(mari.two_theta_min)))
    q_hi = np.sqrt(ki**2 + kf**2 - 2 * ki * kf * np.cos(np.radians(mari.two_theta_max)))
    np.testing.assert_allclose(fwhm_of_q(np.array([0.01, 20.0])),
                               mari.q_resolution([q_lo * 1.000001, q_hi * 0.999999], 40.0, EI, **SETTING),
                               rtol=1e-5)
    # it is what broaden_axis takes: the area over |Q| is kept
    edges = np.linspace(0.0, 12.0, 121)
    values = np.zeros((120, 3))
    values[60, :] = 1.0
    out = broaden_axis(values, edges, fwhm_of_q)
    np.testing.assert_allclose((out * np.diff(edges)[:, None]).sum(axis=0), 0.1, rtol=1e-6)
    assert out[60, 0] < 1.0 and out[59, 0] > 0.0
    with pytest.raises(InputError, match="field 'energy'"):
        mari.q_broadening(EI, [10.0, 20.0])
    with pytest.raises(InputError, match="field 'energy_transfer'"):
        mari.q_broadening(EI, 150.0)
