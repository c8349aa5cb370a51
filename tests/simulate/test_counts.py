"""Counts for a sample: linear in mass and time, k_f/k_i, a vanadium standard by hand,
slab self-shielding, indirect geometry, bad input."""

import numpy as np
import pytest
from scipy import constants as C
from scipy import integrate

from latdyn.errors import InputError, InstrumentError
from latdyn.instruments import instrument_from_dict, load_instrument
from latdyn.instruments._yaml import read_yaml
from latdyn.instruments.library import LIBRARY
from latdyn.simulate import Sample, counts_factor, elastic_count_rate, simulate_sqe, slab_attenuation
from latdyn.units import energy_to_wavelength

MERLIN_FLUX = 2.0e4           # n/cm^2/s, given by hand (no published value in the library)


def _merlin_omega():
    """MERLIN solid angle by hand: two banks of 3 m tubes at 2.5 m (symmetric, z = +-1.5 m),
    in-plane 2.838-135.69 and 2.838-45 deg: Omega = Delta phi x 2 z / sqrt(R^2 + z^2)."""
    span = np.radians((135.69 - 2.838) + (45.0 - 2.838))
    return span * 2 * 1.5 / np.hypot(2.5, 1.5)


def test_vanadium_elastic_rate_by_hand():
    """5 g of vanadium on MERLIN at Ei = 50 meV: rate = Phi N (sigma_inc / 4 pi) Omega eta
    (no self-shielding; eta: 1-inch tubes of 10 atm 3He at 272.9 K, CHOP's filling, averaged over
    the chord of the gas, whose radius is 0.937 of the tube's: CHOP's wall of 0.063 R)."""
    merlin = load_instrument("MERLIN")
    v = Sample("V", 5.0)
    n = 5.0 / 50.9415 * C.N_A                               # V molar mass 50.9415 g/mol
    n_he = 10 * 101325 / (C.k * 272.9)                      # 3He atoms per m^3
    mu = n_he * 5333e-28 * energy_to_wavelength(50.0) / 1.798   # 1/m, 1/v absorption
    r = 0.0125 * (1 - 0.063)
    eta = integrate.quad(lambda b: 1 - np.exp(-2 * mu * np.sqrt(r * r - b * b)), -r, r)[0] / (2 * r)
    expected = MERLIN_FLUX * n * 5.08e-24 / (4 * np.pi) * _merlin_omega() * eta
    rate = elastic_count_rate(merlin, v, ei=50.0, flux=MERLIN_FLUX, cross_section="incoherent")
    assert rate == pytest.approx(expected, rel=1e-3)
    # the same number from a simulated elastic line summed over every (|Q|, E) bin, one hour
    q = np.linspace(0.05, 9.5, 190)
    e = np.linspace(-4.0, 4.0, 161)
    da = simulate_sqe(None, merlin, q, e, ei=50.0, elastic=lambda qi: 1.0, sample=v, hours=1.0,
                      flux=MERLIN_FLUX, cross_section="incoherent", noise=False, progress=False)
    factor = counts_factor(merlin, q, e, sample=v, hours=1.0, ei=50.0, flux=MERLIN_FLUX,
                           cross_section="incoherent")
    total = np.sum(np.where(da.masks["outside_coverage"].values, 0.0, da.values * factor))
    assert total == pytest.approx(3600 * expected, rel=0.01)


def test_counts_linear_in_mass_and_time():
    mari = load_instrument("MARI")
    q, e = np.linspace(0.5, 5.0, 10), np.linspace(-2.0, 15.0, 35)
    kw = {"ei": 25.0, "package": "S", "frequency": 150.0}
    base = counts_factor(mari, q, e, sample=Sample("V", 2.0), hours=1.5, **kw)
    assert np.any(base > 0)
    assert np.allclose(counts_factor(mari, q, e, sample=Sample("V", 6.0), hours=1.5, **kw), 3 * base)
    assert np.allclose(counts_factor(mari, q, e, sample=Sample("V", 2.0), hours=4.5, **kw), 3 * base)
    assert np.allclose(counts_factor(mari, q, e, sample=Sample("V", 2.0, illuminated_fraction=0.25),
                                     hours=1.5, **kw), 0.25 * base)


def test_counts_carry_kf_over_ki():
    """Summed over |Q| bins that hold every detector, the counts per unit S at energy transfer
    E are Phi t N sigma/4pi Omega Delta E (k_f/k_i): the E = 25 meV column is sqrt(25/50) of the
    elastic one (MERLIN with the tube filling left out so the efficiency is 1; no
    self-shielding)."""
    data = read_yaml(LIBRARY / "merlin.yaml")
    del data["detector"]["pressure_atm"]
    merlin = instrument_from_dict(data, "merlin-unit-efficiency.yaml")
    q = np.linspace(0.02, 12.0, 600)
    e = np.array([-0.5, 0.0, 0.5, 24.5, 25.0, 25.5])
    f = counts_factor(merlin, q, e, sample=Sample("V", 1.0), hours=1.0, ei=50.0, flux=MERLIN_FLUX).sum(axis=0)
    assert f[4] / f[1] == pytest.approx(np.sqrt(25.0 / 50.0), rel=1e-3)
    n = 1.0 / 50.9415 * C.N_A
    sigma = (5.08 + 0.0184) * 1e-24                           # 'total' = sigma_coh + sigma_inc (Sears)
    assert f[1] == pytest.approx(MERLIN_FLUX * 3600 * n * sigma / (4 * np.pi) * _merlin_omega() * 0.5,
                                 rel=2e-3)


def test_slab_attenuation_formula_and_thin_slab_limit():
    """Depth average of exp(-mu_i x / cos a - mu_f path_out) against quadrature; forward elastic
    scattering is attenuated by exactly exp(-mu t)."""
    for mu_i, mu_f, tt, alpha in [(0.3, 0.5, 30.0, 0.0), (0.3, 0.5, 150.0, 20.0), (1.2, 0.4, 60.0, -15.0)]:
        a = mu_i / np.cos(np.radians(alpha))
        c = np.cos(np.radians(tt - alpha))

        def integrand(s, a=a, c=c, mu_f=mu_f):
            out = (1 - s) / c if c > 0 else s / abs(c)
            return np.exp(-a * s - mu_f * out)

        ref = integrate.quad(integrand, 0, 1)[0]
        assert float(slab_attenuation(mu_i, mu_f, tt, alpha)) == pytest.approx(ref, rel=1e-9)
    for mu_t in (1e-4, 0.05, 0.3):
        assert float(slab_attenuation(mu_t, mu_t, 0.0)) == pytest.approx(np.exp(-mu_t), rel=1e-9)
    assert float(slab_attenuation(0.1, 0.1, 90.0)) == 0.0     # leaving along an infinite slab


def test_absorption_reduces_counts_as_exp_minus_mu_t():
    """A vanadium plate (10 g, 25 cm^2): mu t = (N / A)(sigma_coh + sigma_inc + sigma_abs
    lambda / 1.798 A) by hand; at the lowest-angle elastic bin the counts drop by about
    exp(-mu t), and by the slab formula at its scattering angle exactly."""
    mari = load_instrument("MARI")
    lam = float(energy_to_wavelength(25.0))
    n_area = 10.0 / 50.9415 * C.N_A / 25.0
    mu_t = n_area * (0.0184 + 5.08 + 5.08 * lam / 1.798) * 1e-24
    plate = Sample("V", 10.0, area_cm2=25.0)
    assert plate.mu_t(lam) == pytest.approx(mu_t, rel=2e-3)
    q = np.array([0.25, 0.30, 0.35])
    e = np.array([-0.1, 0.0, 0.1])
    kw = {"hours": 1.0, "ei": 25.0, "package": "S", "frequency": 150.0}
    ratio = counts_factor(mari, q, e, sample=plate, **kw)[1, 1] / \
        counts_factor(mari, q, e, sample=Sample("V", 10.0), **kw)[1, 1]
    tt = np.degrees(2 * np.arcsin(0.30 * lam / (4 * np.pi)))
    assert ratio == pytest.approx(float(slab_attenuation(mu_t, mu_t, tt)), rel=2e-3)
    assert ratio == pytest.approx(np.exp(-mu_t), rel=0.01)
    rate_thin = elastic_count_rate(mari, Sample("V", 10.0), **{k: v for k, v in kw.items() if k != "hours"})
    rate_plate = elastic_count_rate(mari, plate, **{k: v for k, v in kw.items() if k != "hours"})
    assert rate_plate < np.exp(-mu_t) * rate_thin             # longer exit paths at wide angles


def test_indirect_counts_use_flux_per_mev_and_analyser_bandwidth():
    """IRIS with a user-supplied analyser bank, flux per meV and reflectivity: the elastic
    count rate is phi_E x R sqrt(2 pi) sigma_f x N sigma/4pi x Omega."""
    data = read_yaml(LIBRARY / "iris.yaml")
    data["detector"]["banks"] = [{"two_theta": [25.0, 160.0], "transverse": [-0.2, 0.2]}]
    iris = instrument_from_dict(data, "iris-user.yaml")
    omega = np.radians(135.0) * 0.4 / np.hypot(iris.sample_analyser, 0.2)
    v = Sample("V", 3.0)
    rate = elastic_count_rate(iris, v, flux=1e6, analyser_reflectivity=0.8)
    expected = 1e6 * 0.8 * np.sqrt(2 * np.pi) * iris.sigma_final_energy * 3.0 / 50.9415 * C.N_A \
        * 5.08e-24 / (4 * np.pi) * omega
    assert rate == pytest.approx(expected, rel=1e-3)
    q, e = np.linspace(0.3, 1.8, 6), np.linspace(-0.4, 0.4, 41)
    f1 = counts_factor(iris, q, e, sample=v, hours=1.0, flux=1e6, analyser_reflectivity=0.4)
    f2 = counts_factor(iris, q, e, sample=v, hours=1.0, flux=1e6, analyser_reflectivity=0.8)
    assert np.allclose(f2, 2 * f1) and np.any(f1 > 0)
    with pytest.raises(InstrumentError, match="peak_reflectivity"):
        counts_factor(iris, q, e, sample=v, hours=1.0, flux=1e6)


def test_sample_and_counting_errors():
    mari = load_instrument("MARI")
    with pytest.raises(InputError, match="hours"):
        simulate_sqe(None, mari, [1.0, 2.0], np.linspace(-1, 1, 5), ei=25.0, sample=Sample("V", 1.0))
    with pytest.raises(InputError, match="q_width"):
        counts_factor(mari, [1.0], np.linspace(-1, 1, 5), sample=Sample("V", 1.0), hours=1, ei=25.0)
    with pytest.raises(InputError, match="mass_g"):
        Sample("V", -1.0)
    with pytest.raises(InputError, match="mass_g"):
        Sample("V", 10.0, area_cm2=10.0, thickness_mm=1.0, density_g_cm3=6.1)   # 6.1 g, not 10
    with pytest.raises(InputError, match="cross_section"):
        Sample("V", 1.0).cross_section("magnetic")
    with pytest.raises(InstrumentError, match=r"flux\.points"):
        counts_factor(load_instrument("AMATERAS"), [1.0, 2.0], np.linspace(-1, 1, 5),
                      sample=Sample("V", 1.0), hours=1, ei=3.134)
    plate = Sample("V", 6.1, thickness_mm=1.0, density_g_cm3=6.1)
    assert plate.face_area_cm2 == pytest.approx(10.0)
