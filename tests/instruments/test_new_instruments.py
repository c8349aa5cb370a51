"""IN5, IN6-SHARP, HYSPEC, BASIS Si(311), OSIRIS PG(004), IN16B: published and measured widths.

HYSPEC's check is the facility calculator itself (tests/instruments/test_pychop_parity.py).
"""

import numpy as np
import pytest

from latdyn.data.io import load
from latdyn.errors import InstrumentError
from latdyn.instruments import load_instrument
from latdyn.units import wavelength_to_energy


def _fwhm(x, y):
    """FWHM of a sampled peak by linear interpolation at half maximum."""
    i = int(np.argmax(y))
    h = y[i] / 2
    left = np.interp(h, y[: i + 1], x[: i + 1])
    right = np.interp(h, y[i:][::-1], x[i:][::-1])
    return right - left


def test_in5_matches_the_ill_figure_at_5_angstrom_8500_rpm():
    """ILL IN5 set-up page: 5 A and 8500 rpm give 100 ueV (Lechner's analytical formulae)."""
    in5 = load_instrument("IN5")
    got = in5.elastic_resolution(float(wavelength_to_energy(5.0)), frequency=8500 / 60)
    assert got == pytest.approx(0.100, rel=0.05)


def test_in5_against_the_measured_vanadium_line(shared_data):
    """V_273K_5A.hdf: 5 A, 11999 rpm.  The measured line (all groups summed) is 90.5 ueV wide;
    the chopper model gives 74.8 ueV: it leaves out the sample size and the detector depth,
    which widen the measured line (docs/instruments.md)."""
    import h5py

    with h5py.File(shared_data / "qens" / "in5_water" / "V_273K_5A.hdf", "r") as f:
        x = f["entry1/data1/X"][()]
        y = f["entry1/data1/DATA"][()].sum(axis=0)
    measured = _fwhm(x, y)
    model = load_instrument("IN5").elastic_resolution(float(wavelength_to_energy(5.0)),
                                                      frequency=11999 / 60)
    assert measured == pytest.approx(0.0905, abs=0.001)
    assert 0.78 < model / measured < 0.88


def test_in6_focusing_speed_is_the_facility_rule():
    """The default Fermi speed is the IN6 control software's time-focusing rule,
    f = h / (2 pi m d cos(theta) (L_CS + L_SD)) at the elastic line (McStas ILL_IN6.instr)."""
    from scipy import constants as C

    in6 = load_instrument("IN6-SHARP")
    for lam in (4.14, 4.6, 5.12, 5.92):
        ei = float(wavelength_to_energy(lam))
        theta = np.arcsin(lam / (2 * 3.355))
        k2v = C.hbar / C.m_n * 1e10                      # m/s per 1/angstrom
        rule = k2v / (3.355 * np.cos(theta) * (0.395 + 2.483))
        assert in6.frequency_for(ei) == pytest.approx(rule, rel=1e-9)
    with pytest.raises(InstrumentError, match="offers only"):
        in6.resolution(0.0, ei=3.0)


def test_in6_time_focusing_removes_the_band_at_the_focus():
    """At the focus the width does not depend on the band; off the focus it grows with it."""
    import dataclasses

    in6 = load_instrument("IN6-SHARP")
    ei = float(wavelength_to_energy(5.12))
    wide = dataclasses.replace(in6.monochromator, band_fwhm_percent=3.0)
    at_focus = in6.resolution([0.0, 1.5], ei=ei)
    in6.monochromator = wide
    wider = in6.resolution([0.0, 1.5], ei=ei)
    assert wider[0] == pytest.approx(at_focus[0], rel=1e-6)
    assert wider[1] > 1.2 * at_focus[1]
    # without focusing the band enters the elastic width too
    in6.monochromator = dataclasses.replace(wide, time_focusing=False)
    assert in6.resolution(0.0, ei=ei, frequency=in6.frequency_for(ei)) > 1.5 * at_focus[0]


def test_basis_si311_and_the_inelastic_figure():
    basis = load_instrument("BASIS")
    # Mamontov and Herwig 2011: Si(311) 15 ueV at Ef 7.63 meV (the analyser term is set on it)
    assert basis.elastic_resolution(analyser="Si311") == pytest.approx(0.015, rel=1e-9)
    assert basis.elastic_resolution(ef=7.63) == pytest.approx(0.015, rel=1e-9)
    # ORNL BASIS page: about 0.1 % resolution at energy transfers up to about 40 meV
    rel = float(basis.resolution(40.0)) / 40.0
    assert 0.0008 < rel < 0.0015
    with pytest.raises(InstrumentError, match="analyser"):
        basis.resolution(0.0, analyser="Si511")


def test_osiris_pg004_is_pg002_scaled_by_final_energy():
    osiris = load_instrument("OSIRIS")
    pg2, pg4 = osiris.analysers["PG002"], osiris.analysers["PG004"]
    assert pg4.final_energy == pytest.approx(4 * pg2.final_energy)
    assert pg4.sigma_final_energy == pytest.approx(4 * pg2.sigma_final_energy)
    assert pg4.published_elastic_fwhm is None
    # the prediction (no published PG(004) width was verified)
    assert osiris.elastic_resolution(analyser="PG004") == pytest.approx(0.098, abs=0.002)


def test_in16b_parameter_and_measured_vanadium(shared_data):
    in16b = load_instrument("IN16B")
    assert in16b.resolution([0.0, 0.02]) == pytest.approx([0.00075, 0.00075])
    data = load(shared_data / "qens" / "in16b_lysozyme" / "vana_QENS_280K.nxs")
    van = next(iter(data.entries.values()))
    edges = van.coords["E"].values
    e = 0.5 * (edges[1:] + edges[:-1])
    y = np.where(van.masks["masked_bins"].values, 0.0, van.values).sum(axis=0)
    measured = _fwhm(e, y)
    assert measured == pytest.approx(0.00080, abs=0.00002)
    assert in16b.elastic_resolution() / measured == pytest.approx(1.0, abs=0.1)


def test_hyspec_polarised_mode_costs_flux_not_resolution():
    hyspec = load_instrument("HYSPEC")
    un = hyspec.flux_at_sample(15.0, mode="unpolarised", source="calculator")
    pol = hyspec.flux_at_sample(15.0, mode="polarised", source="calculator")
    assert pol == pytest.approx(0.5 * un)
    with pytest.raises(InstrumentError, match="relative units"):   # PyChop's table is not absolute
        hyspec.flux_at_sample(15.0)
    assert hyspec.elastic_resolution(15.0, mode="polarised") == hyspec.elastic_resolution(15.0)
