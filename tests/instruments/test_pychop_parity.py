"""Direct geometry against the facility calculator: every instrument ISIS PyChop describes, every
chopper package or variant of PyChop's own instrument files, a grid of frequencies and Ei.

Reference numbers (facts only): ISIS PyChop, standalone port github.com/mducle/pychop commit
e63b203 (GPL, run side by side, not shipped), stored by
``python tools/compare_pychop.py --pychop DIR --write-reference
tests/instruments/data/pychop_reference.json``:
``PyChop2(name, package_or_variant, frequency)``, ``setEi(ei)``,
``getResolution([0, .25, .5, .75] * ei)`` and ``getFlux()``.
"""

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from latdyn.instruments import load_instrument

REFERENCE = json.loads((Path(__file__).parent / "data" / "pychop_reference.json").read_text())
FRACTIONS = np.array(REFERENCE["fractions"])
INSTRUMENTS = sorted({r["instrument"] for r in REFERENCE["rows"]})


@cache
def _instrument(name):
    return load_instrument(name)


def _setting(row):
    return {k: row[k] for k in ("mode", "package") if k in row}


def test_every_pychop_instrument_and_setting_is_covered():
    assert INSTRUMENTS == ["ARCS", "CNCS", "HYSPEC", "LET", "MAPS", "MARI", "MERLIN", "SEQUOIA"]
    settings = {(r["instrument"], r.get("package", r.get("mode"))) for r in REFERENCE["rows"]}
    assert len({s for s in settings if s[0] == "MARI"}) == 6            # A B C G R S
    assert len({s for s in settings if s[0] == "SEQUOIA"}) == 9
    assert len({s for s in settings if s[0] == "LET"}) == 3
    assert len(REFERENCE["rows"]) > 700


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_resolution_within_3_percent_of_pychop(name):
    """Elastic and inelastic FWHM (E = 0, .25, .5, .75 Ei) of every stored setting."""
    inst = _instrument(name)
    worst = 0.0
    for row in (r for r in REFERENCE["rows"] if r["instrument"] == name):
        got = inst.resolution(FRACTIONS * row["ei"], ei=row["ei"], frequency=row["frequency"],
                              **_setting(row))
        dev = np.abs(got / np.array(row["fwhm"]) - 1.0)
        worst = max(worst, float(dev.max()))
    assert worst < 0.03
    # measured when the reference was stored: every instrument within 0.4 %
    assert worst < 0.004


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_flux_within_10_percent_of_pychop(name):
    inst = _instrument(name)
    rows = [r for r in REFERENCE["rows"] if r["instrument"] == name and r["flux"] is not None]
    assert rows
    got = np.array([inst.flux_at_sample(r["ei"], frequency=r["frequency"], source="calculator",
                                        **_setting(r)) for r in rows])
    ref = np.array([r["flux"] for r in rows])
    assert np.max(np.abs(got / ref - 1.0)) < 0.10


def test_second_moment_stays_available_and_differs_for_box_windows():
    """The second-moment width is offered too; on LET's box-like disk windows it is up to ~27 %
    narrower than the facility number at large energy transfer (docs/instruments.md)."""
    let = _instrument("LET")
    row = next(r for r in REFERENCE["rows"] if r["instrument"] == "LET" and r.get("mode") ==
               "high_resolution" and r["frequency"] == 300 and r["ei"] == 3.7)
    sm = let.resolution(FRACTIONS * 3.7, ei=3.7, frequency=300, mode="high_resolution",
                        convention="second_moment")
    assert sm[-1] < 0.85 * row["fwhm"][-1]


# Repetition-rate multiplication with every modelled disk (MARI's and MAPS's unequally spaced
# four-slot disks phased on a slot, MERLIN's and LET's frame-overlap disks phased on their own,
# CNCS's and HYSPEC's 60 Hz disks): PyChop getAllowedEi(ei) for PyChop2(name, setting, f),
# setEi(ei) (meV).  latdyn keeps those inside the instrument's Ei range that the Fermi chopper
# can pass (Windsor gamma < 4); PyChop lists the others too.
PYCHOP_ALLOWED_EI = {
    ("MARI", "package", "S", 400, 100.0): [3.491, 9.913, 22.936, 100.0],
    ("MARI", "package", "G", 400, 25.0): [2.478, 5.734, 10.487, 25.0],
    ("MAPS", "package", "A", 400, 100.0): [10.039, 23.157, 100.0],
    ("MAPS", "package", "S", 200, 60.0): [8.416, 60.0],
    ("MERLIN", "package", "S", 300, 100.0): [16.542, 100.0],
    ("MERLIN", "package", "S", 400, 240.0): [12.4548, 33.0474],
    ("LET", "mode", "high_flux", 240, 25.0): [0.6051, 0.7825, 1.0511, 1.4862, 2.2602, 3.8438, 7.9368,
                                              25.0363],
    ("CNCS", "mode", "high_flux", 300, 3.32): [3.322],
    ("HYSPEC", "package", "OnlyOne", 300, 7.5): [7.52],
}


@pytest.mark.parametrize("key", list(PYCHOP_ALLOWED_EI))
def test_rrm_energies_with_every_disk(key):
    name, keyword, setting, f, ei = key
    inst = _instrument(name)
    (fermi,) = [c for c in inst.choppers(**{keyword: setting}) if hasattr(c, "gamma")] or [None]
    expected = [x for x in PYCHOP_ALLOWED_EI[key] if inst.ei_min <= x <= inst.ei_max
                and (fermi is None or float(fermi.transmission(x, f)) > 0)]
    got = inst.multi_ei(ei, frequency=f, **{keyword: setting})
    assert got == pytest.approx(expected, rel=4e-3)
