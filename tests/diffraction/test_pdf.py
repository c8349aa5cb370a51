import numpy as np
import pytest
import scipp as sc

from latdyn.data import make_sq
from latdyn.diffraction.pdf import (
    G_from_g,
    R_from_G,
    coordination_number,
    fq_to_gr,
    g_from_G,
    gr_to_fq,
    gr_to_sq,
    model_pdf,
    pdf_from_sq,
    sq_from_pdf,
    sq_to_gr,
)
from latdyn.errors import InputError
from latdyn.structure import read_cif

# an analytic pair: F(Q) = sum a_k sin(Q r_k) exp(-s_k^2 Q^2 / 2)  <->
# G(r) = sum a_k [N(r - r_k, s_k) - N(r + r_k, s_k)]  with N the unit-area Gaussian
SHELLS = [(2.5, 0.08, 3.0), (3.6, 0.1, -1.5), (4.4, 0.12, 2.0)]


def _fq(q):
    return sum(a * np.sin(q * r0) * np.exp(-(s * q) ** 2 / 2) for r0, s, a in SHELLS)


def _gr(r):
    def n(x, s):
        return np.exp(-x**2 / (2 * s * s)) / (np.sqrt(2 * np.pi) * s)

    return sum(a * (n(r - r0, s) - n(r + r0, s)) for r0, s, a in SHELLS)


def test_forward_transform_matches_analytic_pair():
    q = np.linspace(0, 80, 8001)
    r = np.linspace(0.01, 8, 800)
    np.testing.assert_allclose(fq_to_gr(q, _fq(q), r), _gr(r), atol=1e-6)


def test_round_trip_s_g_s_to_truncation_error():
    q = np.linspace(0, 40, 4001)
    sq = 1 + np.where(q > 0, _fq(q) / np.where(q > 0, q, 1), 0.0)
    r = np.linspace(0, 12, 2401)
    g = sq_to_gr(q, sq, r)
    qb = np.linspace(0.5, 35, 300)
    back = gr_to_sq(r, g, qb)
    truncation = max(abs(a) * np.exp(-(s * 40) ** 2 / 2) for _, s, a in SHELLS)
    np.testing.assert_allclose(back, np.interp(qb, q, sq), atol=max(truncation, 1e-5) / 0.5)
    # a Q_max cut leaves a measurable truncation error that the Lorch function damps in G(r)
    g_cut = sq_to_gr(q, sq, r, qmax=15.0)
    g_lorch = sq_to_gr(q, sq, r, qmax=15.0, modification="lorch")
    exact = _gr(r)
    assert np.abs(g_cut - exact).max() > 1e-3
    far = r > 6  # beyond the shells: only termination ripples remain
    assert np.abs(g_lorch[far]).max() < np.abs(g_cut[far]).max()


def test_relations_between_G_g_R():
    r = np.linspace(0.5, 10, 50)
    g = 1 + 0.3 * np.sin(r)
    rho = 0.07
    G = G_from_g(r, g, rho)
    np.testing.assert_allclose(g_from_G(r, G, rho), g)
    np.testing.assert_allclose(R_from_G(r, G, rho), 4 * np.pi * r**2 * rho * g)


def test_fcc_ni_first_shell_coordination(cif_dir):
    ni = read_cif(cif_dir / "Ni.cif")
    r = np.arange(0.01, 12.0, 0.005)
    rho = ni.number_density
    g = model_pdf(ni, r)
    assert coordination_number(r, g, rho, 2.0, 3.0) == pytest.approx(12.0, rel=0.01)
    assert coordination_number(r, g, rho, 3.0, 4.0) == pytest.approx(6.0, rel=0.01)
    # finite Q_max (with Lorch) broadens but keeps the count
    g25 = model_pdf(ni, r, qmax=25.0, modification="lorch")
    assert coordination_number(r, g25, rho, 2.0, 3.0) == pytest.approx(12.0, rel=0.01)
    # first peak at a / sqrt(2)
    first = (r > 2) & (r < 3)
    assert r[first][np.argmax(g[first])] == pytest.approx(3.5238 / np.sqrt(2), abs=0.01)


def _pdffit(path, qmax, rmin, rmax, n, rename=None):
    pdffit2 = pytest.importorskip("diffpy.pdffit2")
    import os

    from diffpy.structure import loadStructure

    pdffit2.redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115
    s = loadStructure(str(path))
    for a in s:
        a.element = (rename or {}).get(a.element, a.element)
    pf = pdffit2.PdfFit()
    pf.add_structure(s)
    pf.alloc("N", qmax, 0.0, rmin, rmax, n)
    pf.calc()
    lengths = {el: pf.get_scat("N", el) for el in {a.element for a in s}}
    return np.array(pf.getR()), np.array(pf.getpdf_fit()), lengths


def _peak(r, g, lo, hi):
    m = (r > lo) & (r < hi)
    y = np.abs(g[m])  # Ti-O pairs in rutile are negative (b_Ti < 0)
    mu = np.sum(r[m] * y) / np.sum(y)
    return mu, np.sqrt(np.sum((r[m] - mu) ** 2 * y) / np.sum(y))


@pytest.mark.parametrize("name,rename", [("Ni", None), ("NaCl", {"Na+": "Na", "Cl-": "Cl"}),
                                         ("TiO2_rutile_aniso", {"Ti4+": "Ti", "O2-": "O"})])
def test_model_pdf_matches_pdffit2(cif_dir, name, rename):
    path = cif_dir / f"{name}.cif"
    r, ref, lengths = _pdffit(path, 0.0, 1.0, 10.0, 901, rename)
    crystal = read_cif(path)
    lengths = {k.rstrip("+-0123456789"): v for k, v in lengths.items()}
    ours = model_pdf(crystal, r, scattering_lengths=lengths)
    np.testing.assert_allclose(ours, ref, atol=2e-4 * np.abs(ref).max())
    # the nearest-neighbour peak: position and width
    lo, hi = {"Ni": (2.2, 2.8), "NaCl": (2.5, 3.1), "TiO2_rutile_aniso": (1.8, 2.1)}[name]
    base = -4 * np.pi * crystal.number_density * r
    p_ours, p_ref = _peak(r, ours - base, lo, hi), _peak(r, ref - base, lo, hi)
    assert p_ours[0] == pytest.approx(p_ref[0], abs=1e-4)
    assert p_ours[1] == pytest.approx(p_ref[1], rel=1e-3)


def test_model_pdf_termination_matches_pdffit2(cif_dir):
    path = cif_dir / "Ni.cif"
    r, ref, _ = _pdffit(path, 25.0, 0.01, 20.0, 2000)
    ours = model_pdf(read_cif(path), r, qmax=25.0)
    inner = (r > 2) & (r < 12)  # away from pdffit2's range ends
    untruncated = model_pdf(read_cif(path), r)
    effect = np.abs(untruncated - ref)[inner].max()
    assert effect > 0.3  # the ripples matter at this Q_max
    assert np.abs(ours - ref)[inner].max() < 0.1 * effect


def test_xray_vs_neutron_weights_differ(cif_dir):
    nacl = read_cif(cif_dir / "NaCl.cif").with_u_iso(0.004)  # sharp shells that do not overlap
    r = np.arange(0.5, 6, 0.01)
    gn, gx = model_pdf(nacl, r), model_pdf(nacl, r, radiation="xray")
    # Na-Cl first shell (2.82 A): 6 neighbours weighted b_Na b_Cl / <b>^2, <b> = (b_Na + b_Cl) / 2
    assert not np.allclose(gn, gx)
    rho = nacl.number_density
    from latdyn.scattering import nuclide

    bna, bcl = nuclide("Na").b_coh.real, nuclide("Cl").b_coh.real
    expected = 6 * 4 * bna * bcl / (bna + bcl) ** 2
    assert coordination_number(r, gn, rho, 2.3, 3.4) == pytest.approx(expected, rel=0.01)


def test_scipp_wrappers_propagate_errors():
    q = np.linspace(0.05, 30, 1500)
    sq = 1 + _fq(q) / q
    da = make_sq(q, sq, errors=np.full_like(q, 0.01))
    r = np.linspace(0.5, 8, 300)
    g = pdf_from_sq(da, r)
    assert g.dims == ("r",) and g.unit == sc.Unit("1/angstrom^2")
    assert g.variances is not None and np.all(g.variances > 0)
    back = sq_from_pdf(g, np.linspace(1, 20, 50))
    assert back.dims == ("Q",)


def test_bad_input(cif_dir):
    q = np.linspace(0, 20, 100)
    with pytest.raises(InputError, match="Q_max"):
        fq_to_gr(q, q, np.linspace(0, 5, 10), qmax=30.0)
    with pytest.raises(InputError, match="modification"):
        fq_to_gr(q, q, np.linspace(0, 5, 10), modification="hann")
    with pytest.raises(InputError, match="increasing"):
        gr_to_fq(np.array([1.0, 0.5]), np.array([0.0, 0.0]), q)
    ni = read_cif(cif_dir / "Ni.cif").with_u_iso(0.0)
    with pytest.raises(InputError, match="displacement"):
        model_pdf(ni, np.linspace(1, 5, 10))
