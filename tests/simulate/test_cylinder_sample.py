"""A cylindrical / annular sample in the virtual experiment: density, attenuation, counts."""

import numpy as np
import pytest
from scipy import constants as C

from latdyn.errors import InputError
from latdyn.instruments import load_instrument
from latdyn.reduce import cylinder_attenuation
from latdyn.simulate import Sample, elastic_count_rate


def test_annulus_attenuation_from_its_composition():
    s = Sample("V", 5.0, outer_radius_mm=5.0, inner_radius_mm=4.0, height_mm=40.0)
    volume = np.pi * (0.5**2 - 0.4**2) * 4.0                                   # cm^3
    n = 5.0 / 50.9415 * C.N_A / volume
    mu = n * (0.0184 + 5.08 + 5.08 * 1.8 / 1.798) * 1e-24                      # Sears, 1/v at 1.8 A
    assert s.mu_per_cm(1.8) == pytest.approx(mu, rel=2e-3)
    tt = np.array([10.0, 90.0, 150.0])
    assert s.attenuation(1.8, 1.8, tt) == pytest.approx(cylinder_attenuation(tt, mu, mu, 5.0, 4.0),
                                                          rel=2e-3)
    dense = Sample("V", 5.0, outer_radius_mm=5.0, inner_radius_mm=4.0, density_g_cm3=6.11)
    assert dense.number_density() == pytest.approx(6.11 / 50.9415 * C.N_A)


def test_counts_carry_the_cylinder_self_shielding():
    mari = load_instrument("MARI")
    kw = {"ei": 25.0, "package": "S", "frequency": 150.0, "flux": 1e4, "cross_section": "incoherent"}
    thin = elastic_count_rate(mari, Sample("V", 5.0), **kw)
    can = elastic_count_rate(mari, Sample("V", 5.0, outer_radius_mm=5.0, inner_radius_mm=4.0,
                                          height_mm=40.0), **kw)
    assert 0.7 < can / thin < 0.95


@pytest.mark.parametrize("kw, field", [
    ({"outer_radius_mm": 5.0, "inner_radius_mm": 5.0, "height_mm": 40.0}, "inner_radius_mm"),
    ({"outer_radius_mm": 5.0}, "height_mm"),
    ({"outer_radius_mm": 5.0, "height_mm": 40.0, "area_cm2": 10.0}, "outer_radius_mm"),
    ({"height_mm": 40.0}, "outer_radius_mm"),
])
def test_bad_cylinder_is_named(kw, field):
    with pytest.raises(InputError, match=field):
        Sample("V", 5.0, **kw)
