import numpy as np
import pytest

from latdyn.diffraction import reflections
from latdyn.diffraction.patterns import caglioti_fwhm, cw_pattern, tof_pattern
from latdyn.errors import InputError, InstrumentError
from latdyn.kinematics import d_to_two_theta, difc
from latdyn.structure import read_cif


@pytest.fixture(scope="module")
def nacl(cif_dir):
    return read_cif(cif_dir / "NaCl.cif")


def test_cw_peak_areas_positions_widths(nacl):
    lam, U, V, W = 1.594, 0.02, -0.01, 0.015
    tt = np.arange(15, 120, 0.005)
    pat = cw_pattern(nacl, lam, tt, U, V, W)
    refl = reflections(nacl, lam / (2 * np.sin(np.deg2rad(60))), radiation="neutron")
    for i in range(3):  # the first three reflections are well separated
        c = d_to_two_theta(refl.d[i], lam)
        th = np.deg2rad(c) / 2
        expected = refl.multiplicity[i] * refl.f2[i] / (np.sin(th) ** 2 * np.cos(th))
        fwhm = caglioti_fwhm(c, U, V, W)
        win = np.abs(tt - c) < 5 * fwhm
        assert np.trapezoid(pat.values[win], tt[win]) == pytest.approx(expected, rel=1e-4)
        y = pat.values[win]
        above = tt[win][y >= y.max() / 2]
        assert above[-1] - above[0] == pytest.approx(fwhm, abs=0.011)
        assert tt[win][np.argmax(y)] == pytest.approx(c, abs=0.005)


def test_neutron_xray_contrast(nacl):
    """NaCl (111)/(200): (f_Na - f_Cl)^2 / (f_Na + f_Cl)^2 for X-rays is far below the neutron ratio."""
    tt = np.arange(20, 40, 0.002)
    lam = 1.5406
    out = {}
    for radiation in ("neutron", "xray"):
        p = cw_pattern(nacl, lam, tt, 0.0, 0.0, 0.01, radiation=radiation)
        i111 = p.values[np.abs(tt - 27.4) < 0.5].max()
        i200 = p.values[np.abs(tt - 31.7) < 0.5].max()
        refl = reflections(nacl, 2.5, radiation=radiation)
        th = np.deg2rad(d_to_two_theta(refl.d[:2], lam)) / 2
        lp = 1 / (np.sin(th) ** 2 * np.cos(th))
        if radiation == "xray":
            lp *= (1 + np.cos(2 * th) ** 2) / 2
        area = refl.multiplicity[:2] * refl.f2[:2] * lp
        assert i111 / i200 == pytest.approx(area[0] / area[1], rel=1e-3)  # equal widths: heights ~ areas
        out[radiation] = i111 / i200
    assert out["xray"] < 0.3 * out["neutron"]


def test_tof_pattern_in_d_and_tof(nacl):
    c = difc(95.0, 90.0)
    d = np.linspace(0.8, 3.5, 20000)
    pd = tof_pattern(nacl, d, difc=c, dd_over_d=0.004)
    refl = reflections(nacl, 0.7, 4.0)
    i = int(np.argmax(refl.d < 3.5))
    win = np.abs(d - refl.d[i]) < 5 * 0.004 * refl.d[i]
    area = np.trapezoid(pd.values[win], d[win])
    assert area == pytest.approx(refl.multiplicity[i] * refl.f2[i] * refl.d[i] ** 4, rel=1e-3)
    # the same pattern on the tof axis: peaks at DIFC d, density divided by DIFC
    t = d * c
    pt = tof_pattern(nacl, t, axis="tof", path_m=95.0, two_theta=90.0, dd_over_d=0.004)
    np.testing.assert_allclose(pt.values * c, pd.values, rtol=1e-9, atol=1e-12 * pd.values.max())
    assert pt.dims == ("tof",) and pd.dims == ("d",)


def test_pattern_errors(nacl):
    tt = np.arange(10, 100, 0.1)
    with pytest.raises(InstrumentError, match="instrument range"):
        cw_pattern(nacl, 1.5, tt, 0.01, 0, 0.01, instrument_range=(20, 160))
    with pytest.raises(InputError, match="reachable"):
        cw_pattern(nacl, 12.0, tt, 0.01, 0, 0.01)
    with pytest.raises(InputError, match="Caglioti"):
        cw_pattern(nacl, 1.5, tt, 0.0, 0.0, -0.01)
    with pytest.raises(InputError, match="physical range"):
        cw_pattern(nacl, 1.5, np.arange(100, 200, 1.0), 0.01, 0, 0.01)
    with pytest.raises(InstrumentError, match="instrument range"):
        tof_pattern(nacl, np.linspace(1000, 30000, 100), axis="tof", difc=5000.0,
                    instrument_range=(2000, 20000))
    with pytest.raises(InputError, match="DIFC"):
        tof_pattern(nacl, np.linspace(1, 3, 100))
