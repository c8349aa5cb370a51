"""Detector solid angles, 3He tube efficiency, published fluxes and the chopper flux trend."""

import numpy as np
import pytest
from scipy import integrate

from latdyn.errors import InstrumentError
from latdyn.instruments import instrument_from_dict, load_instrument
from latdyn.instruments._yaml import read_yaml
from latdyn.instruments.detector import tube_efficiency
from latdyn.instruments.library import LIBRARY
from latdyn.instruments.solid_angle import DetectorBank, DetectorCoverage


def test_bank_solid_angle_matches_direct_integration():
    """Omega(< 2theta) of a cylinder bank against a brute-force 2-D integral of
    R^2 dphi dz / (R^2 + z^2)^{3/2} over the pixels with 2theta below the limit."""
    bank = DetectorBank(10.0, 120.0, -1.2, 1.8, 3.0, 0.9)
    r = bank.radius_m
    assert bank.total() == pytest.approx(0.9 * np.radians(110.0) * (1.8 / np.hypot(r, 1.8)
                                                                   + 1.2 / np.hypot(r, 1.2)), rel=1e-12)
    phi = np.radians(np.linspace(10.0, 120.0, 2201))
    z = np.linspace(-1.2, 1.8, 1201)
    pp, zz = np.meshgrid(phi, z, indexing="ij")
    w = r**2 / (r**2 + zz**2) ** 1.5
    tt = np.degrees(np.arccos(np.cos(pp) * r / np.hypot(r, zz)))
    for limit in (5.0, 30.0, 60.0, 100.0, 118.0, 180.0):
        brute = 0.9 * integrate.trapezoid(integrate.trapezoid(np.where(tt < limit, w, 0.0), z, axis=1), phi)
        assert float(bank.cumulative(limit)) == pytest.approx(brute, abs=2e-3 * bank.total())
    assert float(bank.cumulative(9.99)) == 0.0          # nothing scatters below the in-plane minimum
    assert float(bank.cumulative(180.0)) == pytest.approx(bank.total(), rel=1e-6)


def test_merlin_covers_pi_steradians():
    """MERLIN: 3 m tubes at 2.5 m, -45 to 135 deg: 'pi steradians' (Bewley, McStas description)."""
    banks = load_instrument("MERLIN").solid_angle()
    assert banks.total() == pytest.approx(np.pi, rel=0.03)
    cov = DetectorCoverage(banks.banks)
    assert np.all(np.diff(cov.cumulative(np.linspace(0, 180, 91))) >= 0)


def test_tube_efficiency_limits():
    """eta -> pi mu R / 2 (mean chord pi R / 2) for weak absorption; for strong absorption only
    the grazing chords near the wall leak: 1 - eta -> 1 / (4 (mu R)^2)."""
    r = 0.0127
    assert float(tube_efficiency(r, 1e-3)) == pytest.approx(np.pi * 1e-3 * r / 2, rel=1e-3)
    assert 1 - float(tube_efficiency(r, 1e4)) == pytest.approx(1 / (4 * (1e4 * r) ** 2), rel=0.05)
    mu = 135.0                                          # 10 atm 3He at 25.3 meV
    exact = integrate.quad(lambda y: 1 - np.exp(-2 * mu * np.sqrt(r**2 - y**2)), -r, r)[0] / (2 * r)
    assert float(tube_efficiency(r, mu)) == pytest.approx(exact, rel=1e-4)
    mari = load_instrument("MARI")                      # slower neutrons are detected better
    eta = mari.detector_efficiency(np.array([5.0, 50.0, 500.0]))
    assert np.all(np.diff(eta) < 0) and eta[0] > 0.95


def test_single_chopper_band_is_window_area_over_alpha_d():
    """One Fermi chopper: the wavelength band per pulse is a / (alpha d), whatever the pulse
    length (alpha = m_n / h = 252.78 us/m/A)."""
    merlin = load_instrument("MERLIN")
    (chopper,) = merlin.choppers()
    area = float(chopper.window_area_s(50.0, 400.0))
    band = merlin.relative_flux(50.0, frequency=400.0)
    assert band == pytest.approx(area / (252.7784e-6 * chopper.distance_m), rel=1e-5)


def test_mari_flux_reproduces_published_table_and_interpolates():
    """ISIS MARI page: flux at sample x 1e4 n/cm^2/s; at each published point, with the
    frequency that gives the quoted dE/E, latdyn returns the published number; between points
    of one package it stays between its neighbours; a slower chopper passes more."""
    mari = load_instrument("MARI")
    for p in mari.flux_points:
        f = mari._reference_frequency(p)
        assert mari.flux_at_sample(p.ei, frequency=f, package=p.package) == pytest.approx(p.flux, rel=1e-9)
        (chopper,) = mari.choppers(package=p.package)
        best = max(float(chopper.transmission(p.ei, g)) for g in np.linspace(25.0, 600.0, 47))
        assert float(chopper.transmission(p.ei, f)) >= 0.5 * best   # an operating setting
    assert mari.flux_at_sample(25.0, frequency=100.0, package="S") > \
        mari.flux_at_sample(25.0, frequency=150.0, package="S")
    mid = mari.flux_at_sample(50.0, frequency=200.0, package="S")
    assert 0.9e4 < mid < 1.5e4
    a200 = mari.flux_at_sample(200.0, frequency=400.0, package="A")
    assert 0.3e4 * 0.5 < a200 < 0.4e4 * 2


def test_missing_flux_and_geometry_name_the_field(tmp_path):
    with pytest.raises(InstrumentError, match=r"flux\.points"):
        load_instrument("AMATERAS").flux_at_sample(3.134)
    with pytest.raises(InstrumentError, match=r"detector\.banks"):
        load_instrument("TOFTOF").solid_angle()
    with pytest.raises(InstrumentError, match=r"flux\.at_sample_per_mev"):
        load_instrument("IRIS").flux_per_mev(0.0)
    with pytest.raises(InstrumentError, match=r"analyser\.peak_reflectivity"):
        load_instrument("BASIS").analyser_bandwidth()
    data = read_yaml(LIBRARY / "mari.yaml")
    data["flux"]["points"][0]["package"] = "Z"
    with pytest.raises(InstrumentError, match=r"flux\.points\[0\]\.package"):
        instrument_from_dict(data, "mari-broken.yaml")
    data = read_yaml(LIBRARY / "merlin.yaml")
    del data["detector"]["banks"][0]["transverse"]
    with pytest.raises(InstrumentError, match=r"detector\.banks\[0\]\.transverse"):
        instrument_from_dict(data, "merlin-broken.yaml")
