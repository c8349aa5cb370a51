"""Lifetimes, kinetic kappa, Arrhenius fits, configurational entropy, Clausius-Clapeyron."""

import numpy as np
import pytest
import scipp as sc
from scipy import constants as C

from latdyn.errors import FitError, InputError
from latdyn.thermo import (
    arrhenius,
    arrhenius_fit,
    clausius_clapeyron,
    configurational_entropy,
    driving_pressure,
    kappa_average,
    kappa_modes,
    lifetime,
    lifetime_error,
    mean_free_path,
    mode_heat_capacity,
    phonon_period,
    residence_time,
    timescale_comparison,
)


def test_lifetime_and_mean_free_path():
    # hbar = 0.6582 meV ps: Gamma = 0.5 meV -> tau = 0.6582 ps
    assert lifetime(0.5) == pytest.approx(C.hbar / C.e * 1e3 * 1e12, rel=1e-12)
    assert lifetime_error(0.5, 0.05) == pytest.approx(0.1 * lifetime(0.5))
    assert mean_free_path(1000.0, 2.0) == pytest.approx(20.0)  # 1000 m/s * 2 ps = 20 A
    assert lifetime(sc.scalar(0.5e-3, unit="eV")) == pytest.approx(lifetime(0.5))
    with pytest.raises(InputError, match="gamma"):
        lifetime(0.0)
    with pytest.raises(InputError, match="not convertible"):
        lifetime(sc.scalar(1.0, unit="m"))


def test_kappa_modes_equals_average_for_identical_modes():
    T, e, v, tau = 300.0, 5.0, 2000.0, 3.0
    n_q, n_b, cell = 10, 6, 150.0
    k = kappa_modes(np.full((n_q, n_b), e), np.full((n_q, n_b), v), np.full((n_q, n_b), tau), T,
                    cell, n_q)
    c_vol = n_b * mode_heat_capacity(e, T) / (cell * 1e-30)
    assert k == pytest.approx(kappa_average(c_vol, v, tau), rel=1e-12)
    vec = np.zeros((n_q, n_b, 3))
    vec[..., 0] = v
    assert kappa_modes(np.full((n_q, n_b), e), vec, np.full((n_q, n_b), tau), T, cell, n_q) == \
        pytest.approx(k)
    # classical limit: C -> k_B
    assert mode_heat_capacity(0.01, 3000.0) == pytest.approx(C.k, rel=1e-8)


def test_timescales():
    assert phonon_period(C.h / C.e * 1e3 * 1e12) == pytest.approx(1.0)  # E = h * 1 THz
    tau = residence_time(0.1)
    rows = timescale_comparison(tau, [1.0, 10.0])
    assert [r["faster_than_hop"] for r in rows] == [tau > rows[0]["period_ps"],
                                                     tau > rows[1]["period_ps"]]
    assert rows[1]["faster_than_hop"]


def test_arrhenius_round_trip():
    rng = np.random.default_rng(3)
    T = np.linspace(250, 500, 12)
    y = arrhenius(T, 0.25, 3.0)
    err = 0.03 * y
    res = arrhenius_fit(T, y + rng.normal(0, err), err)
    assert abs(res.activation_energy - 0.25) < 2 * res.activation_energy_error
    assert abs(res.prefactor - 3.0) < 2 * res.prefactor_error
    assert 0.1 < res.reduced_chi2 < 3
    exact = arrhenius_fit(T, y)
    assert exact.activation_energy == pytest.approx(0.25, rel=1e-10)


def test_arrhenius_bad_input():
    with pytest.raises(InputError, match="> 0"):
        arrhenius_fit([300, 400], [1.0, -1.0])
    with pytest.raises(InputError, match="temperature"):
        arrhenius_fit([0, 400], [1.0, 1.0])
    with pytest.raises(FitError, match="two distinct"):
        arrhenius_fit([300, 300], [1.0, 2.0])


def test_configurational_entropy_and_clapeyron():
    assert configurational_entropy(6, 2) == pytest.approx(C.R * np.log(3))
    assert configurational_entropy(2) == pytest.approx(C.R * np.log(2))
    # dV = 2 cm3/mol, dS = 20 J/(mol K) -> 0.1 K/MPa = 100 K/GPa
    assert clausius_clapeyron(2.0, 20.0) == pytest.approx(0.1)
    assert driving_pressure(10.0, 2.0, 20.0) == pytest.approx(100.0)
    with pytest.raises(InputError, match="entropy change"):
        clausius_clapeyron(1.0, 0.0)
    with pytest.raises(InputError, match="omega_2"):
        configurational_entropy(0)
