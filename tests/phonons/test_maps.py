"""Binning and broadening, path and slice maps."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.convolution.broadening import bin_lines, broaden_axis
from latdyn.errors import InputError
from latdyn.phonons.maps import path_map, powder_map, slice_map


def test_histogram_and_gaussian_conserve_area():
    rng = np.random.default_rng(0)
    pos = rng.uniform(-10, 10, size=(5, 12))
    w = rng.uniform(0, 1, size=(5, 12))
    edges = np.linspace(-40, 40, 801)
    for broadening in (None, 1.3, lambda e: 0.5 + 0.05 * np.abs(e)):
        out = bin_lines(pos, w, edges, broadening)
        assert np.allclose((out * np.diff(edges)).sum(axis=1), w.sum(axis=1), rtol=1e-10)


def test_gaussian_width_follows_the_resolution_callable():
    edges = np.linspace(-20, 20, 4001)
    centres = 0.5 * (edges[1:] + edges[:-1])
    out = bin_lines(np.array([[10.0]]), np.array([[1.0]]), edges, lambda e: 0.1 * np.abs(e))[0]
    half = out >= out.max() / 2
    fwhm = centres[half][-1] - centres[half][0]
    assert fwhm == pytest.approx(1.0, abs=0.02)
    assert centres[np.argmax(out)] == pytest.approx(10.0, abs=0.01)


def test_bad_broadening_is_an_error():
    with pytest.raises(InputError, match="FWHM"):
        bin_lines(np.ones((1, 2)), np.ones((1, 2)), np.linspace(0, 2, 5), lambda e: -e)
    with pytest.raises(InputError, match="edges"):
        bin_lines(np.ones((1, 2)), np.ones((1, 2)), np.array([1.0, 0.5]), None)


def test_path_map_units_and_labels(nacl_model):
    da = path_map(nacl_model, [[0, 0, 0], [1, 0, 0], [1, 1, 0]], np.linspace(-5, 35, 81),
                  300.0, npts=40, labels=["G", "X", "K"], broadening=1.0)
    assert da.dims == ("q", "E") and str(da.unit) == "barn/eV"
    labels = list(da.coords["label"].values)
    assert labels[0] == "G" and labels[-1] == "K" and "X" in labels
    assert np.all(da.values >= 0) and da.values.max() > 0


def test_slice_map_is_symmetric_for_a_cubic_crystal(nacl_model):
    da = slice_map(nacl_model, [0, 0, 0], [1, 0, 0], [0, 1, 0], (-2.5, 2.5), (-2.5, 2.5),
                   (8.0, 12.0), 300.0, nu=11, nv=11, broadening=1.0)
    v = da.values
    assert np.allclose(v, v.T, rtol=1e-6, atol=1e-9 * v.max())       # (h,k) <-> (k,h)
    assert np.allclose(v, v[::-1, :], rtol=1e-6, atol=1e-9 * v.max())  # h -> -h


def test_cli_dispersion_and_slice(nacl_dir, tmp_path):
    out = tmp_path / "disp"
    assert main(["phonons", "dispersion", str(nacl_dir / "phonopy_nacl.yaml"), "--out", str(out),
                 "--npts", "30", "--ebins", "20", "--dw-mesh", "0", "--fwhm", "1"]) == 0
    assert (out / "sqe_path.h5").is_file() and (out / "figures" / "sqe_path.png").is_file()
    out2 = tmp_path / "slice"
    assert main(["phonons", "slice", str(nacl_dir / "phonopy_nacl.yaml"), "--out", str(out2),
                 "--energy", "5", "10", "--n", "6", "--dw-mesh", "0", "--json"]) == 0
    assert (out2 / "slice.h5").is_file() and (out2 / "report.html").is_file()


# --- broadening in |Q| --------------------------------------------------------------------------

def _kept_fraction(centres, sigma, lo, hi):
    """Part of a unit Gaussian at each centre that stays inside [lo, hi]."""
    from scipy.special import erf

    s = np.sqrt(2.0) * sigma
    return 0.5 * (erf((hi - centres) / s) - erf((lo - centres) / s))


def test_q_broadening_conserves_area_and_follows_fwhm():
    rng = np.random.default_rng(1)
    edges = np.sort(rng.uniform(0.0, 10.0, 61))                  # non-uniform cells
    width = np.diff(edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    values = rng.uniform(0.0, 1.0, (60, 7))
    fwhm = lambda q: 0.05 + 0.04 * q                              # noqa: E731 - FWHM(|Q|)
    out = broaden_axis(values, edges, fwhm)
    sigma = fwhm(centres) / (2 * np.sqrt(2 * np.log(2)))
    kept = _kept_fraction(centres, sigma, edges[0], edges[-1])
    expected = ((values * width[:, None]) * kept[:, None]).sum(axis=0)
    assert np.allclose((out * width[:, None]).sum(axis=0), expected, rtol=1e-12)
    assert not np.allclose(out, values)
    assert np.array_equal(broaden_axis(values, edges, None), values)
    # one narrow cell at 5 1/A on a fine grid: the profile has the FWHM the callable gives
    fine = np.linspace(3.0, 7.0, 4001)
    spike = np.zeros((4000, 1))
    spike[2000] = 1.0
    prof = broaden_axis(spike, fine, fwhm)[:, 0]
    x = 0.5 * (fine[1:] + fine[:-1])
    half = x[prof >= prof.max() / 2]
    assert half[-1] - half[0] == pytest.approx(fwhm(5.0005), abs=2e-3)


def test_bad_q_broadening_names_its_field():
    with pytest.raises(InputError, match=r"1/angstrom.*q_broadening"):
        broaden_axis(np.ones((3, 2)), [0.0, 1.0, 2.0, 3.0], lambda q: -q)
    with pytest.raises(InputError, match="q_broadening"):
        broaden_axis(np.ones((2, 2)), [0.0, 1.0, 2.0, 3.0], 0.1)


def test_powder_map_q_broadening_keeps_the_area(nacl_model):
    q_bins = np.linspace(0.5, 4.5, 17)
    e_bins = np.linspace(-10.0, 30.0, 21)
    kw = dict(npts=20, broadening=1.0, progress=False)
    sharp = powder_map(nacl_model, q_bins, e_bins, 100.0, **kw).data.values
    fwhm = 0.3
    broad = powder_map(nacl_model, q_bins, e_bins, 100.0, q_broadening=fwhm, **kw).data.values
    width = np.diff(q_bins)[:, None]
    centres = 0.5 * (q_bins[1:] + q_bins[:-1])
    kept = _kept_fraction(centres, fwhm / (2 * np.sqrt(2 * np.log(2))), q_bins[0], q_bins[-1])
    assert np.allclose((broad * width).sum(axis=0), (sharp * width * kept[:, None]).sum(axis=0),
                       rtol=1e-10)
    assert np.abs(broad - sharp).max() > 0.05 * sharp.max()       # it did broaden


def test_path_map_q_broadening_keeps_the_area(nacl_model):
    # |Q| (2.2 to 3.1 1/A) differs from the path length, and both ends carry intensity
    path = [[2, 0, 0], [2, 1, 0], [2, 2, 0], [1, 1, 1]]
    e_bins = np.linspace(-5.0, 30.0, 36)
    sharp = path_map(nacl_model, path, e_bins, 300.0, npts=60, broadening=1.0)
    fwhm = lambda q: 0.1 + 0.05 * q                                # noqa: E731 - FWHM(|Q|)
    broad = path_map(nacl_model, path, e_bins, 300.0, npts=60, broadening=1.0, q_broadening=fwhm)
    x = sharp.coords["q"].values
    hkl = np.stack([sharp.coords[c].values for c in "hkl"], axis=1)
    q_abs = np.linalg.norm(hkl @ nacl_model.crystal.reciprocal, axis=1)
    cells = np.concatenate([x[:1], 0.5 * (x[1:] + x[:-1]), x[-1:]])
    width = np.diff(cells)[:, None]
    sigma = fwhm(q_abs) / (2 * np.sqrt(2 * np.log(2)))
    kept = _kept_fraction(x, sigma, x[0], x[-1])
    assert np.allclose((broad.values * width).sum(axis=0),
                       (sharp.values * width * kept[:, None]).sum(axis=0), rtol=1e-10)
    assert np.abs(broad.values - sharp.values).max() > 0.05 * sharp.values.max()


# --- sampling error of the powder average --------------------------------------------------------

def _trigonal_spring_model():
    """3 atoms at generic positions in a hexagonal lattice (space group P1 on a trigonal
    lattice): central springs (latdyn.phonons.springs), a low-symmetry powder average."""
    from latdyn.phonons import phonon_crystal
    from latdyn.phonons.springs import spring_model

    a, c = 4.2, 5.6
    cell = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    pos = np.array([[0.1, 0.2, 0.05], [0.45, 0.7, 0.4], [0.8, 0.35, 0.72]])
    return spring_model(phonon_crystal(cell, pos, ["Li", "O", "Si"]), cutoff=3.6, k=2.0,
                        decay=0.8)


@pytest.mark.slow
def test_powder_sampling_error_covers_the_difference_to_40000_directions():
    from latdyn.phonons.maps import powder_map

    model = _trigonal_spring_model()
    qb, eb = np.array([2.9, 3.1, 5.9, 6.1]), np.linspace(4.0, 48.0, 12)
    ref = powder_map(model, qb, eb, 300.0, npts=40000, n_sets=8, broadening=2.0)
    for npts, seed in ((400, 1), (1600, 2)):
        res = powder_map(model, qb, eb, 300.0, npts=npts, seed=seed, broadening=2.0)
        assert res.n_sets == 4 and res.npts == npts and res.error.shape == res.data.shape
        diff = res.data.values - ref.data.values
        both = np.sqrt(res.data.variances + ref.data.variances)
        assert np.mean(np.abs(diff) <= 3 * both + 1e-12) >= 0.9
        actual = np.abs(diff).sum() / np.abs(ref.data.values).sum()
        assert actual <= 2 * (res.relative_error + ref.relative_error)
        assert res.relative_error > 2 * ref.relative_error       # the estimate is not vacuous
    conv = powder_map(model, qb, eb, 300.0, npts=400, tolerance=0.03, broadening=2.0, seed=3)
    assert conv.converged and conv.relative_error < 0.03 and conv.npts > 400
    diff = np.abs(conv.data.values - ref.data.values).sum() / np.abs(ref.data.values).sum()
    assert diff <= 2 * (conv.relative_error + ref.relative_error)


def test_powder_direction_sets_are_turned_fibonacci_lattices():
    from latdyn.phonons.maps import direction_sets, fibonacci_sphere

    sets = direction_sets(100, 4, seed=5)
    assert sets.shape == (4, 25, 3)
    assert np.allclose(np.linalg.norm(sets, axis=-1), 1.0)
    base = fibonacci_sphere(25)
    for s in sets:                      # each set is the lattice turned: same pair distances
        assert np.allclose(s @ s.T, base @ base.T)
    assert not np.allclose(sets[0], sets[1])
    assert np.array_equal(direction_sets(100, 4, seed=5), sets)
