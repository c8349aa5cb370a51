"""The virtual experiment's |Q| broadening: width from the instrument, area conserved."""

import numpy as np
import pytest

from latdyn.errors import InstrumentError
from latdyn.instruments import FWHM_PER_SIGMA, load_instrument
from latdyn.simulate import simulate_sqe

MARI = {"package": "S", "frequency": 400.0}


def _ring(q0, e0):
    """A line at E = e0 (Gaussian, 1 meV sigma) present only in the |Q| cell at q0."""
    def model(q, e):
        on = abs(q - q0) < 1e-9
        return np.exp(-0.5 * (e - e0) ** 2) / np.sqrt(2 * np.pi) * (1.0 if on else 0.0)
    return model


def test_q_profile_has_the_instrument_width_and_keeps_its_area():
    mari = load_instrument("MARI")
    q = np.round(np.arange(2.0, 4.0001, 0.01), 10)
    e = np.linspace(0.0, 30.0, 121)
    model = _ring(3.0, 20.0)
    plain = simulate_sqe(model, mari, q, e, ei=100.0, noise=False, progress=False, **MARI)
    wide = simulate_sqe(model, mari, q, e, ei=100.0, noise=False, progress=False, q_resolution=True,
                        **MARI)
    j = int(np.argmin(np.abs(e - 20.0)))
    a, b = plain.values[:, j], wide.values[:, j]
    assert np.count_nonzero(a) == 1
    assert b.sum() == pytest.approx(a.sum(), rel=1e-6)                 # equal cells: sum is the area
    mean = np.sum(q * b) / b.sum()
    std = np.sqrt(np.sum((q - mean) ** 2 * b) / b.sum())
    sigma = float(mari.q_resolution(3.0, 20.0, 100.0, **MARI)) / FWHM_PER_SIGMA
    assert std == pytest.approx(np.hypot(sigma, 0.01 / np.sqrt(12)), rel=0.02)


def test_q_resolution_needs_a_direct_instrument():
    iris = load_instrument("IRIS")
    with pytest.raises(InstrumentError, match="direct-geometry"):
        simulate_sqe(_ring(1.0, 0.0), iris, [0.8, 1.0, 1.2], np.linspace(-0.5, 0.5, 21),
                     noise=False, progress=False, q_resolution=True)
