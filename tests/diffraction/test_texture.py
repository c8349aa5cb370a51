"""March-Dollase preferred orientation: normalisation, random limit, orbit averages, patterns."""

import numpy as np
import pytest
from scipy import integrate

from latdyn.diffraction import cw_pattern, march_dollase, march_dollase_factor, reflections
from latdyn.errors import InputError
from latdyn.structure import read_cif


@pytest.fixture(scope="module")
def nacl(cif_dir):
    return read_cif(cif_dir / "NaCl.cif")


@pytest.mark.parametrize("r", [0.4, 0.8, 1.0, 1.6])
def test_normalised_over_orientations(r):
    assert integrate.quad(lambda c: march_dollase(c, r), 0.0, 1.0)[0] == pytest.approx(1.0, rel=1e-10)


def test_axis_and_perpendicular_values():
    r = 0.7
    assert march_dollase(1.0, r) == pytest.approx(r**-3)
    assert march_dollase(0.0, r) == pytest.approx(r**1.5)


def test_orbit_average_of_cubic_families(nacl):
    """Axis [001], cubic: the {100} orbit has 2 members along the axis and 4 across it; the
    {111} orbit has all 8 members at cos^2 = 1/3."""
    r = 0.7
    f100, f111 = march_dollase_factor(nacl, [[2, 0, 0], [1, 1, 1]], [0, 0, 1], r)
    assert f100 == pytest.approx((2 * r**-3 + 4 * r**1.5) / 6)
    assert f111 == pytest.approx((r * r / 3 + (2 / 3) / r) ** -1.5)
    assert march_dollase_factor(nacl, [[2, 2, 0]], [0, 0, 1], 1.0) == pytest.approx([1.0])


def test_pattern_scales_the_reflections(nacl):
    tt = np.arange(20.0, 80.0, 0.01)
    lam, uvw = 1.54, (0.01, -0.005, 0.01)
    plain = cw_pattern(nacl, lam, tt, *uvw)
    tex = cw_pattern(nacl, lam, tt, *uvw, preferred_orientation=([0, 0, 1], 0.6))
    refl = reflections(nacl, 0.7)
    for hkl in ([2, 0, 0], [1, 1, 1]):
        i = int(np.flatnonzero(np.all(refl.hkl == hkl, axis=1))[0])
        centre = np.rad2deg(2 * np.arcsin(lam / (2 * refl.d[i])))
        win = np.abs(tt - centre) < 0.5
        ratio = np.trapezoid(tex.values[win], tt[win]) / np.trapezoid(plain.values[win], tt[win])
        assert ratio == pytest.approx(march_dollase_factor(nacl, [hkl], [0, 0, 1], 0.6)[0], rel=1e-6)
    with pytest.raises(InputError, match="r must be positive"):
        cw_pattern(nacl, lam, tt, *uvw, preferred_orientation=([0, 0, 1], 0.0))
    with pytest.raises(InputError, match="axis"):
        cw_pattern(nacl, lam, tt, *uvw, preferred_orientation=([0, 0, 0], 0.5))
