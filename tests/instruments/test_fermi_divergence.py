"""Fermi-chopper divergence ("aperture") term, epithermal moderator widths, fixed-speed disks.

Reference numbers: ISIS PyChop (github.com/mducle/pychop at e63b203, the standalone port of
Mantid's PyChop, GPL, run side by side and not shipped), produced with tools/compare_pychop.py.
"""

import numpy as np
import pytest

from latdyn.errors import InstrumentError
from latdyn.instruments import FWHM_PER_SIGMA, instrument_from_dict, load_instrument
from latdyn.instruments._yaml import read_yaml
from latdyn.instruments.library import LIBRARY
from latdyn.units import energy_to_velocity


def _fermi_entry(data: dict) -> dict:
    """The Fermi chopper's entry of a parsed instrument file (the disks come first along the beam)."""
    return next(c for c in data["choppers"] if c["type"] == "fermi")

#: the second-moment convention, whose propagation these tests check term by term
SM = "second_moment"

# (instrument, package, frequency Hz, Ei meV, energy transfer meV) -> PyChop FWHM (meV)
PYCHOP = {
    ("MARI", "A", 100, 100.0, 0.0): 3.5954,       # divergence term about a third of the width
    ("MARI", "A", 100, 100.0, 75.0): 1.5136,
    ("MARI", "S", 400, 100.0, 0.0): 3.5665,
    ("MARI", "R", 250, 500.0, 0.0): 28.2220,      # epithermal: slowing-down moderator model
    ("MARI", "G", 600, 25.0, 0.0): 0.4949,
    ("MERLIN", "S", 600, 100.0, 0.0): 4.5470,
    ("MERLIN", "S", 200, 300.0, 150.0): 24.4188,
    ("MERLIN", "G", 400, 30.0, 0.0): 1.0054,
    ("MAPS", "A", 400, 100.0, 0.0): 2.8329,
    ("MAPS", "A", 400, 100.0, 50.0): 2.3113,
    ("MAPS", "S", 200, 500.0, 0.0): 69.5725,       # epithermal: pulse widths below the measured table
    ("MAPS", "B", 600, 50.0, 25.0): 0.9292,
    ("MAPS", "A", 100, 1000.0, 0.0): 106.7645,
    ("ARCS", "ARCS-700-1.5-AST", 300, 100.0, 0.0): 8.6428,
    ("ARCS", "ARCS-100-1.5-AST", 600, 50.0, 25.0): 2.1356,
    ("ARCS", "SEQ-700-3.5-AST", 120, 250.0, 0.0): 81.1670,
    ("ARCS", "SEQ-700-3.5-AST", 120, 250.0, 125.0): 38.4647,
    ("SEQUOIA", "Fine", 300, 100.0, 0.0): 4.0775,
    ("SEQUOIA", "Fine", 600, 500.0, 250.0): 5.2544,
    ("SEQUOIA", "SEQ-100-2.0-AST", 120, 30.0, 0.0): 0.9231,
    ("SEQUOIA", "Sloppy", 420, 250.0, 0.0): 6.9664,
    ("SEQUOIA", "Sloppy", 420, 250.0, 187.5): 2.8769,
}


@pytest.mark.parametrize("key", list(PYCHOP))
def test_fermi_instruments_match_pychop(key):
    name, package, f, ei, e = key
    got = float(load_instrument(name).resolution(e, ei=ei, frequency=f, package=package))
    assert got == pytest.approx(PYCHOP[key], rel=0.05)


def _without_aperture(name):
    data = read_yaml(LIBRARY / f"{name.lower()}.yaml")
    for key in ("aperture_distance", "aperture_width_mm"):
        del _fermi_entry(data)[key]
    return instrument_from_dict(data, f"{name}-no-aperture.yaml")


def test_divergence_term_is_what_separates_mari_a_at_low_speed():
    """Without the aperture MARI A at 100 Hz is 30 % narrower than PyChop; at 400 Hz the term
    is small (the slits sweep the divergence 4x faster)."""
    mari = load_instrument("MARI")
    bare = _without_aperture("MARI")
    slow = [m.elastic_resolution(100.0, frequency=100, package="A") for m in (mari, bare)]
    fast = [m.elastic_resolution(100.0, frequency=400, package="A") for m in (mari, bare)]
    assert slow[1] / slow[0] < 0.75
    assert fast[1] / fast[0] > 0.97


def test_divergence_propagation_equals_forward_model():
    """One Fermi chopper: the Bayesian (tau, w) covariance with the aperture and sample
    coordinates integrated out equals the forward propagation of the four independent
    variables (emission time, chopper opening, aperture and sample position)."""
    m = load_instrument("MERLIN")
    ei, e, f = 60.0, 20.0, 250.0
    (ch,) = m.choppers(package="S")
    var_c = float(ch.variance_s2(ei, f))
    var_m = (float(m.moderator.pulse_fwhm_us(ei)) * 1e-6 / FWHM_PER_SIGMA) ** 2
    var_a = (ch.aperture_width_mm * 1e-3) ** 2 / 12
    var_s = (m.sample_width_mm * 1e-3) ** 2 / 12
    d, xa = ch.distance_m, ch.aperture_distance_m
    span = xa + m.moderator_sample - d
    omega = 2 * np.pi * f
    v0 = float(energy_to_velocity(ei))
    tilt = np.tan(np.radians(m.moderator.angle_deg)) / v0
    # alpha and the moderator-face position as linear functions of (y_a, y_s)
    d_alpha = np.array([-1.0, 1.0]) / span
    d_face = np.array([1.0, 0.0]) - (d - xa) * d_alpha
    # tau = t_e - tilt y_m;  tau + d w = t_c + alpha / omega
    coef_tau = {"t_e": 1.0, "t_c": 0.0, "y": -tilt * d_face}
    coef_w = {"t_e": -1.0 / d, "t_c": 1.0 / d, "y": (d_alpha / omega + tilt * d_face) / d}
    ef = ei - e
    vf = float(energy_to_velocity(ef))
    x2 = m.sample_detector
    a_tau = 2 * ef * vf / x2
    a_w = 2 * ef * vf * m.moderator_sample / x2 + 2 * ei * v0
    c = {k: a_tau * coef_tau[k] + a_w * coef_w[k] for k in coef_tau}
    var = c["t_e"] ** 2 * var_m + c["t_c"] ** 2 * var_c + c["y"][0] ** 2 * var_a + c["y"][1] ** 2 * var_s
    var += (2 * ef / x2) ** 2 * float(m.detector.path_variance(ef))
    assert float(m.resolution_sigma(e, ei, frequency=f, package="S", convention=SM)) == pytest.approx(
        np.sqrt(var), rel=1e-10)


def test_flux_trend_keeps_its_meaning_with_divergence():
    """The aperture coordinates are integrated over normalised priors: the passed band is
    unchanged when the aperture is shrunk towards zero."""
    data = read_yaml(LIBRARY / "mari.yaml")
    _fermi_entry(data)["aperture_width_mm"]["value"] = 1e-3
    data["sample_width_mm"]["value"] = 1e-3
    tiny = instrument_from_dict(data, "mari-tiny-aperture.yaml")
    bare = _without_aperture("MARI")
    assert tiny.relative_flux(100.0, frequency=250, package="S") == pytest.approx(
        bare.relative_flux(100.0, frequency=250, package="S"), rel=1e-6)


def test_slowing_down_width_below_the_measured_table():
    mari = load_instrument("MARI")
    ei = 500.0                                      # 0.40 angstrom, below the table (1.12 A)
    delta0, delta_g = mari.moderator.slowing_down_mm
    sigma_us = (delta0 + delta_g * np.sqrt(ei)) * 1e3 / (1.96 * energy_to_velocity(ei))
    assert mari.moderator.pulse_fwhm_us(ei) == pytest.approx(FWHM_PER_SIGMA * sigma_us, rel=1e-12)
    assert mari.moderator.pulse_fwhm_us(25.0) == pytest.approx(
        np.interp(np.sqrt(81.80421 / 25.0), mari.moderator.wavelength, mari.moderator.fwhm_us))


def test_aperture_width_without_its_distance_is_named():
    data = read_yaml(LIBRARY / "merlin.yaml")
    del _fermi_entry(data)["aperture_distance"]
    with pytest.raises(InstrumentError, match=r"choppers\[1\]\.aperture_distance"):
        instrument_from_dict(data, "merlin-no-aperture-distance.yaml")


def test_fixed_speed_disk_keeps_its_frequency():
    cncs = load_instrument("CNCS")
    first = cncs.choppers()[0]
    assert cncs._frequency(first, 180.0) == cncs._frequency(first, 300.0) == 60.0
    assert cncs._frequency(first, {first.name: 120.0}) == 120.0
    assert cncs.elastic_resolution(3.32, frequency=180) > cncs.elastic_resolution(3.32, frequency=300)


def test_multi_disk_propagation_equals_sampling():
    """LET (moderator + two resolution disks): sampling emission times from the pulse and
    weighting by the Gaussian chopper windows gives the propagated elastic variance."""
    let = load_instrument("LET")
    ei, f, mode = 3.7, 240.0, "high_flux"
    rng = np.random.default_rng(7)
    n = 400_000
    sig_m = float(let.moderator.pulse_fwhm_us(ei)) * 1e-6 / FWHM_PER_SIGMA
    tau = rng.normal(0.0, sig_m, n)
    w = rng.uniform(-2e-5, 2e-5, n)                         # s/m, much wider than the band passed
    weight = np.ones(n)
    for c in let.choppers(mode):
        var = float(c.variance_s2(ei, let._frequency(c, f)))
        weight *= np.exp(-0.5 * (tau + c.distance_m * w) ** 2 / var)
    v0 = float(energy_to_velocity(ei))
    x2 = let.sample_detector
    de = (2 * ei * v0 / x2) * tau + (2 * ei * v0 * let.moderator_sample / x2 + 2 * ei * v0) * w
    sampled = np.sqrt(np.cov(de, aweights=weight))
    detector = (2 * ei / x2) ** 2 * float(let.detector.path_variance(ei))
    propagated = np.sqrt(float(let.resolution_sigma(0.0, ei, frequency=f, mode=mode, convention=SM)) ** 2
                         - detector)
    assert sampled == pytest.approx(propagated, rel=0.02)


# Repetition-rate multiplication: the Ei set of one source frame, PyChop getAllowedEi (meV)
PYCHOP_RRM = {
    ("LET", "mode", "high_flux", 120, 1.5): [0.609, 0.788, 1.06, 1.5, 2.287, 3.903, 8.114, 26.045],
    ("LET", "mode", "high_resolution", 300, 2.2): [0.597, 1.032, 2.2, 7.55],
    ("LET", "mode", "intermediate", 180, 6.0): [0.558, 0.714, 0.945, 1.311, 1.938, 3.153, 6.004, 15.623],
    ("MERLIN", "package", "G", 400, 60.0): [8.262, 11.632, 17.58, 29.601, 60.0, 180.667],
}


@pytest.mark.parametrize("key", list(PYCHOP_RRM))
def test_rrm_energies_match_pychop(key):
    name, keyword, setting, f, ei = key
    got = load_instrument(name).multi_ei(ei, frequency=f, **{keyword: setting})
    assert got == pytest.approx(PYCHOP_RRM[key], rel=3e-3)


def test_curved_fermi_slits_pass_no_other_rep():
    """MARI's S package (curved slits) at 400 Hz passes 100 meV and the 23 meV of the next
    opening, not the 9.9 meV one (Windsor gamma > 4 there)."""
    got = load_instrument("MARI").multi_ei(100.0, frequency=400, package="S")
    assert got == pytest.approx([22.93, 99.99], rel=1e-3)


def test_moderator_angle_outside_the_half_plane_is_named():
    data = read_yaml(LIBRARY / "arcs.yaml")
    data["moderator"]["angle_deg"]["value"] = -95.0
    with pytest.raises(InstrumentError, match=r"moderator\.angle_deg"):
        instrument_from_dict(data, "arcs-bad-angle.yaml")
