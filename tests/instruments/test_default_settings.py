"""Every library instrument works with its default settings across its Ei range."""

import numpy as np
import pytest

from latdyn.errors import InstrumentError
from latdyn.instruments import list_instruments, load_instrument
from latdyn.instruments.choppers import FermiChopper
from latdyn.units import wavelength_to_energy

DIRECT = [n for n in list_instruments() if load_instrument(n).kind == "direct"]


def _some_package_transmits(inst, ei) -> bool:
    for package in inst.packages or [None]:
        for mode in inst.modes or [None]:
            fermi = [c for c in inst.choppers(mode, package) if isinstance(c, FermiChopper)]
            f_max = min((c.max_frequency for c in fermi), default=1.0)
            if all(max(float(c.transmission(ei, f)) for f in np.linspace(1.0, f_max, 200)) > 0
                   for c in fermi):
                return True
    return False


@pytest.mark.parametrize("name", DIRECT)
def test_default_settings_work_across_the_ei_range(name):
    """Without frequency, mode or package every direct instrument gives a finite resolution, a
    flux trend and its RRM set at every Ei its choppers can deliver; where the default Fermi
    package cannot, the error names ``ei`` and asks for another package, and only where no
    package could."""
    inst = load_instrument(name)
    eis = np.geomspace(inst.ei_min, inst.ei_max, 9)
    if inst.monochromator is not None and inst.monochromator.wavelengths:
        eis = wavelength_to_energy(np.array(inst.monochromator.wavelengths))
    for ei in eis:
        try:
            fwhm = inst.resolution([0.0, 0.5 * ei], ei=ei)
        except InstrumentError as exc:
            assert exc.field == "ei" and "package" in str(exc)
            assert not _some_package_transmits(inst, ei) or inst.packages
            continue
        assert np.all(np.isfinite(fwhm)) and np.all(fwhm > 0)
        # narrower at large energy loss, except where time focusing sets the narrowest point
        assert fwhm[1] < fwhm[0] or inst.monochromator is not None
        assert inst.relative_flux(ei) > 0
        rrm = inst.multi_ei(ei)
        if name == "MERLIN" and ei > 190.0:
            # its disk, phased on its own to open 1500 us after the pulse, blocks neutrons that
            # reach it (9.3 m) earlier, i.e. above ~200 meV (PyChop's getAllowedEi agrees:
            # [33.05, 12.45] at 240 meV); users re-phase it for such Ei
            assert not np.any(np.isclose(rrm, ei, rtol=0.05))
            continue
        assert np.any(np.isclose(rrm, ei, rtol=0.05))   # band centres (cut at the Ei range)


def test_maps_at_25_mev_picks_a_transmitting_frequency():
    """``latdyn plan MAPS --ei 25`` used to fail: package A at its default 400 Hz passes nothing
    at 25 meV (Windsor gamma 6.8).  The frequency used instead is the multiple of the 50 Hz
    source rate closest to 400 Hz at which A passes at least half its best transmission."""
    maps = load_instrument("MAPS")
    (fermi,) = maps.choppers()
    assert float(fermi.transmission(25.0, 400.0)) == 0.0
    f = maps.frequency_for(25.0)
    assert f % 50.0 == 0 and float(fermi.transmission(25.0, f)) > 0
    assert maps.elastic_resolution(25.0) == pytest.approx(maps.elastic_resolution(25.0, frequency=f))
    # where the default frequency transmits well, it is kept
    assert maps.frequency_for(400.0) == maps.default_frequency


def test_no_package_transmits_names_the_package_choice():
    maps = load_instrument("MAPS")
    with pytest.raises(InstrumentError, match="another package"):
        maps.resolution(0.0, ei=0.5)


@pytest.mark.parametrize("name", DIRECT)
def test_everything_works_at_the_default_ei(name):
    """At ``default_ei`` (a monochromator's middle wavelength, else sqrt(Ei_min Ei_max)) the
    default settings give a resolution, |Q| broadening, coverage and flux: the demo's
    resolution table and ``latdyn plan NAME --ei <default_ei>`` never show an error instead."""
    from latdyn.instruments import resolution_table

    inst = load_instrument(name)
    ei = inst.default_ei
    assert inst.ei_min <= ei <= inst.ei_max
    assert inst.check_ei(ei) == ei
    fwhm = inst.resolution([0.0, 0.5 * ei], ei=ei)
    assert np.all(np.isfinite(fwhm)) and np.all(fwhm > 0) and fwhm[0] < 0.2 * ei
    q_fwhm = inst.q_broadening(ei, 0.25 * ei)(np.array([1.0, 2.0]))
    assert np.all(np.isfinite(q_fwhm)) and np.all(q_fwhm > 0)
    q, e = inst.coverage(ei=ei).polygon()
    assert np.ptp(q) > 0 and np.max(e) <= ei
    assert inst.relative_flux(ei) > 0
    assert len(resolution_table(name, ei=ei).rows()) > 0


def test_default_ei_of_a_monochromator_instrument_is_one_it_offers():
    """IN6-SHARP offers four wavelengths; 25 meV (the demo's old fallback) is outside its range."""
    inst = load_instrument("IN6-SHARP")
    offered = wavelength_to_energy(np.array(sorted(inst.monochromator.wavelengths)))
    assert np.min(np.abs(offered / inst.default_ei - 1)) < 1e-9
    with pytest.raises(InstrumentError, match="cannot deliver"):
        inst.check_ei(25.0)
