"""Channel cross sections: the textbook identities of longitudinal polarisation analysis."""

import numpy as np
import pytest
import scipp as sc

from latdyn.errors import InputError
from latdyn.polarisation import (
    bragg_channels,
    channel_cross_sections,
    expected_channels,
    paramagnetic_cross_section,
    polarised_bragg,
    sample_cross_sections,
    scharpf_angle,
    separate,
)

DIRS = ("x", "y", "z", "x+y", "x-y")


@pytest.mark.parametrize("formula", ["V", "Ni", "H2O", "Li7La3Zr2O12"])
@pytest.mark.parametrize("direction", DIRS)
def test_non_magnetic_sf_is_two_thirds_spin_incoherent(formula, direction):
    """SF = 2/3 sigma_si and NSF = sigma_coh + sigma_ii + 1/3 sigma_si for every direction and
    every angle alpha (Moon, Riste & Koehler 1969)."""
    xs = sample_cross_sections(formula)
    alpha = np.linspace(-180, 180, 37)
    nsf, sf = channel_cross_sections(direction, coherent=xs["sigma_coh"], isotope_incoherent=xs["sigma_ii"],
                                     spin_incoherent=xs["sigma_si"], alpha=alpha)
    assert np.allclose(sf, 2 / 3 * xs["sigma_si"], rtol=1e-14)
    assert np.allclose(nsf, xs["sigma_coh"] + xs["sigma_ii"] + xs["sigma_si"] / 3, rtol=1e-14)


def test_spin_incoherent_split_matches_the_table_and_the_isotopes():
    from latdyn.scattering import nuclide

    for el in ("V", "Ni", "Ti", "Cl", "H"):
        xs = sample_cross_sections(el)
        row = xs["elements"][0]
        assert row["split"]
        assert xs["sigma_si"] + xs["sigma_ii"] == pytest.approx(nuclide(el).sigma_inc, rel=1e-12)
    v, ni = sample_cross_sections("V"), sample_cross_sections("Ni")
    assert v["sigma_si"] / (v["sigma_si"] + v["sigma_ii"]) > 0.99       # vanadium: spin incoherent
    assert ni["sigma_ii"] / (ni["sigma_si"] + ni["sigma_ii"]) > 0.99     # nickel: isotope incoherent
    for el in ("Ni", "Ti"):   # the isotope incoherence from the isotopes' lengths agrees within 3 %
        row = sample_cross_sections(el)["elements"][0]
        assert row["sigma_ii_lengths"] == pytest.approx(row["sigma_ii"], rel=0.03)
    li7 = sample_cross_sections("7Li")
    assert li7["sigma_ii"] == 0.0 and li7["sigma_si"] == pytest.approx(nuclide("7Li").sigma_inc)


@pytest.mark.parametrize("direction", DIRS)
def test_nsf_plus_sf_is_the_unpolarised_cross_section(direction):
    rng = np.random.default_rng(3)
    a = rng.uniform(-180, 180, 50)
    n, si, my, mz = rng.uniform(0, 2, (4, 50))
    nsf, sf = channel_cross_sections(direction, coherent=n, spin_incoherent=si, magnetic_y=my,
                                     magnetic_z=mz, alpha=a)
    assert np.allclose(nsf + sf, n + si + my + mz)


def test_polarisation_along_q_puts_all_magnetic_scattering_in_spin_flip():
    # x at alpha = 0 is parallel to Q
    nsf, sf = channel_cross_sections("x", magnetic_y=0.7, magnetic_z=0.4, alpha=0.0)
    assert nsf == pytest.approx(0.0, abs=1e-15) and sf == pytest.approx(1.1)
    # z: only the vertical moment component is non-spin-flip
    nsf, sf = channel_cross_sections("z", magnetic_y=0.7, magnetic_z=0.4, alpha=30.0)
    assert nsf == pytest.approx(0.4) and sf == pytest.approx(0.7)


def _paramagnet(alpha):
    q = np.linspace(0.3, 3.0, alpha.size)
    coords = {"Q": sc.array(dims=["Q"], values=q, unit="1/angstrom"),
              "alpha": sc.array(dims=["Q"], values=alpha, unit="deg")}
    m = paramagnetic_cross_section("Mn2+", q, spin=2.5)

    def da(v):
        return sc.DataArray(sc.array(dims=["Q"], values=np.broadcast_to(v, q.shape).astype(float),
                                     unit="barn"), coords=coords)

    return {"coherent": da(0.3 * np.cos(q) ** 2), "spin_incoherent": da(0.15), "isotope_incoherent": da(0.02),
            "magnetic": da(m)}, m


@pytest.mark.parametrize("estimator", ["combination", "weighted"])
def test_paramagnet_xyz_returns_the_magnetic_cross_section_exactly(estimator):
    alpha = np.random.default_rng(1).uniform(-180, 180, 25)
    parts, m = _paramagnet(alpha)
    ch = expected_channels(parts, ("x", "y", "z"))
    sep = separate(ch, "xyz", estimator=estimator)
    assert np.allclose(sep["magnetic"].values, m, rtol=1e-12, atol=1e-15)
    assert np.allclose(sep["spin_incoherent"].values, 0.15, rtol=1e-12)
    assert np.allclose(sep["coherent"].values, parts["coherent"].values + 0.02, rtol=1e-12)
    # the published SF and NSF combinations on their own (Stewart et al. 2009)
    sf = {d: ch[f"{d}_sf"].values for d in "xyz"}
    nsf = {d: ch[f"{d}_nsf"].values for d in "xyz"}
    assert np.allclose(2 * (sf["x"] + sf["y"] - 2 * sf["z"]), m, rtol=1e-12)
    assert np.allclose(2 * (2 * nsf["z"] - nsf["x"] - nsf["y"]), m, rtol=1e-12)


def test_paramagnetic_cross_section_value():
    # (2/3) (gamma r0)^2 S(S+1) for Mn2+ (S = 5/2, g = 2): 1.695 b/sr at Q = 0 (f(0) = 1 to 3e-3)
    v = paramagnetic_cross_section("Mn2+", 0.0, spin=2.5)
    assert v == pytest.approx(1.695, rel=4e-3)
    assert paramagnetic_cross_section("Mn2+", 0.0, mu_eff=np.sqrt(35.0)) == pytest.approx(v)
    with pytest.raises(InputError):
        paramagnetic_cross_section("Mn2+", 1.0)


def test_bragg_channels_ferromagnet_flipping_ratio_and_chirality():
    fn, m = 3.0, 1.2
    mp = np.array([[0, 0, m]], dtype=complex)    # moment along P, perpendicular to Q
    up = bragg_channels([fn], mp, [0, 0, 1], +1)
    down = bragg_channels([fn], mp, [0, 0, 1], -1)
    assert up[0][0] / down[0][0] == pytest.approx(((fn + m) / (fn - m)) ** 2)
    assert up[1][0] == pytest.approx(0.0) and down[1][0] == pytest.approx(0.0)
    # a helix: M = (1, i, 0) seen with P along z gives a chiral spin-flip difference
    helix = np.array([[1.0, 1.0j, 0.0]])
    sp, sm = bragg_channels([0.0], helix, [0, 0, 1], +1)[1], bragg_channels([0.0], helix, [0, 0, 1], -1)[1]
    assert sp[0] + sm[0] == pytest.approx(2 * 2.0 / 100)
    assert abs(sp[0] - sm[0]) == pytest.approx(2 * 2.0 / 100)   # fully chiral: one state only


def test_polarised_bragg_sums_to_the_unpolarised_intensities():
    from importlib import resources

    from latdyn.diffraction import magnetic_intensity, structure_factor
    from latdyn.structure import read_magnetic_structure

    with resources.as_file(resources.files("latdyn.examples").joinpath("mncoge")) as d:
        ms = read_magnetic_structure(d / "MnCoGe_orthorhombic_FM.yaml")
    hkl = np.array([[0, 1, 1], [1, 0, 1], [0, 2, 0], [1, 1, 1], [0, 0, 2]], float)
    p = np.array([0.0, 0.0, 1.0])
    tot = sum(sum(polarised_bragg(ms, hkl, p, s)) for s in (+1, -1))
    fn2 = np.abs(structure_factor(ms.crystal, hkl)) ** 2 / 100
    assert np.allclose(tot, 2 * (fn2 + magnetic_intensity(ms, hkl)), rtol=1e-10)
    # polarisation along Q: the magnetic scattering is all spin flip, the NSF is nuclear
    qv = hkl @ ms.lattice.reciprocal_matrix
    nsf, sf = polarised_bragg(ms, hkl, qv / np.linalg.norm(qv, axis=1)[:, None])
    assert np.allclose(nsf, fn2, rtol=1e-10) and np.allclose(sf, magnetic_intensity(ms, hkl), rtol=1e-10)


def test_scharpf_angle():
    tt = np.array([20.0, 60.0, 120.0])
    assert np.allclose(scharpf_angle(tt), tt / 2 - 90.0)
    assert np.allclose(scharpf_angle(tt, x_angle=15.0), tt / 2 - 105.0)
    ki, kf = 1.5, 1.2
    a = scharpf_angle(tt, ki=ki, kf=kf)
    q = np.stack([ki - kf * np.cos(np.radians(tt)), -kf * np.sin(np.radians(tt))], axis=1)
    assert np.allclose(np.degrees(np.arctan2(q[:, 1], q[:, 0])), a)
