"""Counting times against a Monte Carlo of the same measurement; polarised instruments."""

import numpy as np
import pytest

from latdyn.errors import InputError, InstrumentError
from latdyn.instruments import PolarisedInstrument, instrument_from_dict, load_instrument
from latdyn.polarisation import model_parts, plan_counting, plan_measurement


@pytest.fixture(scope="module")
def mno():
    return model_parts("MnO", np.linspace(0.5, 2.5, 8), magnetic_ion="Mn2+", spin=2.5)


@pytest.mark.parametrize("part,allocation,over,method", [
    ("coherent", "equal", "sum", "xyz"), ("magnetic", "optimal", "sum", "xyz"),
    ("spin_incoherent", "equal", "sum", "xyz"), ("magnetic", "equal", "each", "xyz"),
    ("magnetic_y", "equal", "sum", "ten-point")])
def test_counting_time_agrees_with_monte_carlo_within_10_percent(mno, part, allocation, over, method):
    """The time that gives the target on average in 2000 simulated measurements (Poisson counts,
    flipping ratio of D7, the separation with its correction) is the planned one within 10 %."""
    parts = dict(mno)
    if method == "ten-point":
        m = parts.pop("magnetic")
        parts["magnetic_y"], parts["magnetic_z"] = 0.6 * m, 0.4 * m
    alpha = np.linspace(-70, 30, 8) if method == "ten-point" else None
    plan = plan_counting(parts, method, target=0.03, part=part, instrument="D7", formula="MnO", mass_g=4.0,
                         allocation=allocation, over=over, alpha=alpha, flipping_error=0.01)
    mc = plan.monte_carlo(2000, seed=3)
    t_mc = plan.time * (mc["relative_error_monte_carlo"] / plan.target) ** 2
    assert t_mc / plan.time == pytest.approx(1.0, abs=0.10)
    assert abs(mc["bias"]) < 0.01
    assert mc["mean_relative_error_estimated"] == pytest.approx(plan.relative_errors[part], rel=0.05)


def test_optimal_split_is_never_slower(mno):
    eq = plan_counting(mno, "xyz", target=0.05, part="magnetic", rate=100.0, flipping_ratio=20.0)
    op = plan_counting(mno, "xyz", target=0.05, part="magnetic", rate=100.0, flipping_ratio=20.0,
                       allocation="optimal")
    assert op.time <= eq.time * (1 + 1e-12)
    # time scales as 1/target^2
    eq2 = plan_counting(mno, "xyz", target=0.025, part="magnetic", rate=100.0, flipping_ratio=20.0)
    assert eq2.time == pytest.approx(4 * eq.time, rel=1e-9)


def test_plan_errors(mno):
    with pytest.raises(InputError, match="floor"):
        plan_counting(mno, "xyz", target=0.001, part="coherent", rate=100.0, flipping_ratio=3.0,
                      flipping_error=0.2)
    with pytest.raises(InputError, match="does not polarise along x"):
        plan_counting(mno, "xyz", target=0.05, instrument="LET-POLARISED", formula="MnO", mass_g=1.0, ei=3.7)
    with pytest.raises(InputError, match="cannot separate magnetic"):
        plan_measurement("D7", "MnO", 1.0, method="uniaxial", magnetic_ion="Mn2+", spin=2.5)


def test_polarised_instruments_in_the_library():
    for name in ("D7", "DNS", "LET-POLARISED", "HYSPEC-POLARISED"):
        inst = load_instrument(name)
        assert isinstance(inst, PolarisedInstrument)
        assert inst.polarisation == pytest.approx((inst.flipping_ratio - 1) / (inst.flipping_ratio + 1))
        assert 0 < inst.flux_penalty <= 0.25
    d7 = load_instrument("D7")
    assert set(d7.directions) == {"x", "y", "z", "x+y", "x-y"}
    rate = d7.count_rate(1e22, 0.01)
    assert rate == pytest.approx(1e6 * 1e22 * 1e-24 * 0.01 * 0.5 * 0.9)
    let_p, let = load_instrument("LET-POLARISED"), load_instrument("LET")
    assert let_p.flux_at_sample(3.7) == pytest.approx(let.flux_at_sample(3.7, mode="high_flux") * 0.35)
    with pytest.raises(InputError, match="give ei"):
        let_p.flux_at_sample()
    bad = {"name": "X", "kind": "polarised", "flux_at_sample": 1e6, "polariser_transmission": 1.5,
           "analyser_transmission": 0.5, "flipping_ratio": 20, "directions": ["z"],
           "detector": {"two_theta_min": 0, "two_theta_max": 100, "solid_angle_sr": 0.1}}
    with pytest.raises(InstrumentError, match="cannot exceed 1"):
        instrument_from_dict(bad)
    with pytest.raises(InstrumentError, match="must exceed 1"):
        instrument_from_dict(bad | {"polariser_transmission": 0.4, "flipping_ratio": 0.9})
