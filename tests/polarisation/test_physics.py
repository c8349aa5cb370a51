"""Physics of the separated parts: de Gennes narrowing, S(Q), form factor, the QENS chain."""

import numpy as np
import pytest
import scipp as sc

from latdyn.convolution.resolution import AnalyticResolution
from latdyn.errors import InputError
from latdyn.lineshapes import sigma_from_hwhm
from latdyn.polarisation import (
    expected_channels,
    fit_coherent,
    fit_incoherent,
    fit_paramagnet,
    flipping_ratios,
    ion_conductor_parts,
    paramagnetic_cross_section,
    quartz_channels,
    separate,
    simulate_channels,
    structure_factor,
)
from latdyn.qens import de_gennes, de_gennes_model, fick, fit_hwhm, get_diffusion_model


def test_de_gennes_limits():
    q = np.linspace(0.2, 2.0, 10)
    assert np.allclose(de_gennes(q, 0.3, np.ones(q.size)), fick(q, 0.3))
    s = 1.0 + np.exp(-(q - 1.2) ** 2 / 0.05)
    assert np.allclose(de_gennes(q, 0.3, s) * s, fick(q, 0.3))     # narrowed by S(Q)
    m = de_gennes_model(q, s)
    assert np.allclose(m.hwhm(q, D=0.3), de_gennes(q, 0.3, s))
    with pytest.raises(InputError, match="outside the tabulated S"):
        m.hwhm([2.5], D=0.3)
    with pytest.raises(InputError, match="needs the static structure factor"):
        get_diffusion_model("de-gennes")
    assert get_diffusion_model("dg", structure_factor=(q, s)).name == "de-gennes"
    r = fit_hwhm(q, m.hwhm(q, D=0.17), np.full(q.size, 1e-4), m)
    assert r.converged and r.derived["D"].value == pytest.approx(0.17, rel=1e-6)


def test_structure_factor_from_the_coherent_to_incoherent_ratio():
    q = np.linspace(0.5, 2.5, 9)
    s = 1.0 + 0.6 * np.sin(2 * q) ** 2
    coords = {"Q": sc.array(dims=["Q"], values=q, unit="1/angstrom")}
    sig_coh, sig_si = 2.5, 4.0
    parts = {"coherent": sc.DataArray(sc.array(dims=["Q"], values=sig_coh / (4 * np.pi) * s), coords=coords),
             "spin_incoherent": sc.DataArray(
                 sc.array(dims=["Q"], values=np.full(q.size, sig_si / (4 * np.pi))), coords=coords)}
    exact = structure_factor(separate(expected_channels(parts, ("z",)), "uniaxial"), sig_coh, sig_si)
    assert np.allclose(exact.values, s, rtol=1e-12)
    # its error (ratio of correlated parts) is calibrated over 400 seeds (a 'seed' dim)
    many = {k: v.broadcast(sizes={"seed": 400, "Q": q.size}).copy() for k, v in parts.items()}
    ch = simulate_channels(many, ("z",), exposure=2e4, seed=5)
    r = structure_factor(separate(ch, "uniaxial"), sig_coh, sig_si)
    p = ((r.values - s) / np.sqrt(r.variances)).ravel()
    assert abs(p.mean()) < 0.2 and 0.8 < p.std() < 1.2


def test_paramagnet_form_factor_fit_gives_the_effective_moment():
    q = np.linspace(0.3, 3.5, 20)
    m = paramagnetic_cross_section("Mn2+", q, spin=2.5)
    da = sc.DataArray(sc.array(dims=["Q"], values=m, variances=(0.01 * m) ** 2, unit="barn"),
                      coords={"Q": sc.array(dims=["Q"], values=q, unit="1/angstrom")})
    r = fit_paramagnet(da, "Mn2+", absolute=True)
    assert r.converged and r.derived["mu_eff"].value == pytest.approx(np.sqrt(35.0), rel=1e-6)
    with pytest.raises(InputError):
        fit_paramagnet(da.broadcast(sizes={"E": 2, "Q": 20}).copy(), "Mn2+")


@pytest.mark.slow
def test_virtual_ion_conductor_round_trip():
    """Uniaxial QENS channels with a flipping ratio of 20 corrected from a quartz run: the
    collective (de Gennes) and self (jump) diffusion constants come back within 3 sigma."""
    q, e = np.linspace(0.4, 2.0, 7), np.linspace(-1.5, 1.5, 81)
    sq = 1.0 + 0.8 * np.exp(-(q - 1.4) ** 2 / 0.08)
    hw = 0.03
    parts = ion_conductor_parts(q, e, sigma_coh=3.0, sigma_si=5.0, D_self=0.05, tau=1.0, D_collective=0.2,
                                s_of_q=(q, sq), mobile_fraction=0.7, resolution_hwhm=hw)
    ch = simulate_channels(parts, ("z",), exposure=5e5, flipping=20.0, seed=21)
    quartz = quartz_channels(ch["z_sf"], ("z",), flipping=20.0, counts=2e3, seed=22)
    sep = separate(ch, "uniaxial", flipping=flipping_ratios(quartz, integrate="E"))
    res = AnalyticResolution(np.full(q.size, float(sigma_from_hwhm(hw))), np.zeros(q.size),
                             np.full(q.size, hw), np.zeros(q.size), Q=q)
    coh = fit_coherent(sep, res, (q, sq))
    d = coh.derived["D_collective"]
    assert coh.converged and abs(d.value - 0.2) < 3 * d.error
    inc = fit_incoherent(sep, res, diffusion=("ss",))
    h = inc.headline()["quantities"]
    assert inc.final.converged
    assert abs(h["L1_D"]["value"] - 0.05) < 3 * h["L1_D"]["error"]
    assert abs(h["L1_tau"]["value"] - 1.0) < 3 * h["L1_tau"]["error"]
