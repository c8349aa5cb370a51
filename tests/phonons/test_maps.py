"""Binning and broadening, path and slice maps."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.errors import InputError
from latdyn.phonons.maps import path_map, slice_map
from latdyn.phonons.spectra import bin_lines


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
