"""Real facility files in ../shared/data read with the right shapes, units and values.

Each reader is spot-checked against numbers read independently with plain h5py / numpy.
"""

import h5py
import numpy as np
import pytest
from scipy import constants as C

from latdyn.data.io import (
    detect_format,
    load,
    read_ascii_columns,
    read_dave_grp,
    read_inx,
    read_lamp_hdf,
    read_mantid_nexus,
)
from latdyn.errors import FormatError

QENS = "qens"


def _blocks_numpy(path):
    """Independent INX parse: every line with exactly three floats after a 4-line header."""
    lines = path.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        n = int(lines[i].split()[-1])
        par = [float(v) for v in lines[i + 2].split()]
        out.append((par, np.loadtxt(lines[i + 4:i + 4 + n])))
        i += 4 + n
    return out


def test_lamp_in5_water(shared_data):
    path = shared_data / QENS / "in5_water" / "H2O_293K_5A.hdf"
    loaded = read_lamp_hdf(path)
    da = loaded.data
    with h5py.File(path) as fh:
        data = fh["entry1/data1/DATA"][()]
        err = fh["entry1/data1/errors"][()]
        x = fh["entry1/data1/X"][()]
        y = fh["entry1/data1/Y"][()]
    assert da.dims == ("Q", "E") and da.shape == (17, 160)
    assert str(da.coords["E"].unit) == "meV" and str(da.coords["Q"].unit) == "1/Å"
    np.testing.assert_allclose(da.coords["E"].values, x)
    np.testing.assert_allclose(da.coords["Q"].values, y)
    good = err >= 0
    np.testing.assert_allclose(da.values[good], data[good])
    np.testing.assert_allclose(da.variances[good], err[good].astype(float) ** 2)
    np.testing.assert_array_equal(da.masks["unmeasured"].values, ~good)
    assert 0 < (~good).sum() < good.sum()
    meta = loaded.meta
    assert meta["instrument"] == "IN5"
    assert meta["sample_temperature"] == pytest.approx(293.349)
    assert meta["wavelength"] == pytest.approx(5.0)
    # E_i = h^2 / (2 m_n lambda^2), independently from scipy constants
    ei = C.h**2 / (2 * C.m_n * (5e-10) ** 2) / C.e * 1e3
    assert meta["incident_energy"] == pytest.approx(ei, rel=1e-9)
    assert meta["parameters"]["Chopper speed [rpm]"] == pytest.approx(11999.0)


def test_mantid_in16b_qens(shared_data):
    path = shared_data / QENS / "in16b_lysozyme" / "vana_QENS_280K.nxs"
    loaded = read_mantid_nexus(path)
    da = loaded.data
    with h5py.File(path) as fh:
        ws = fh["mantid_workspace_1/workspace"]
        values, errors = ws["values"][()], ws["errors"][()]
        axis1, axis2 = ws["axis1"][()], ws["axis2"][()]
        n_masked = ws["masked_bins"].shape[0]
    assert da.dims == ("Q", "E") and da.shape == (18, 1024)
    assert da.coords.is_edges("E")
    np.testing.assert_allclose(da.coords["E"].values, axis1)
    np.testing.assert_allclose(da.coords["two_theta"].values, axis2)
    mask = da.masks["masked_bins"].values
    assert mask.sum() == n_masked
    np.testing.assert_allclose(da.values[~mask], values[~mask])
    np.testing.assert_allclose(da.variances[~mask], errors[~mask] ** 2)
    # Q = 4 pi sin(theta) / lambda_f with E_f = 2.082 meV (IN16B Si(111))
    lam = C.h / np.sqrt(2 * C.m_n * 2.082e-3 * C.e) * 1e10
    q = 4 * np.pi * np.sin(np.deg2rad(axis2) / 2) / lam
    np.testing.assert_allclose(da.coords["Q"].values, q, rtol=1e-10)
    meta = loaded.meta
    assert meta["instrument"] == "IN16B" and meta["emode"] == "indirect"
    assert meta["final_energy"] == pytest.approx(2.082)
    assert 279 < meta["sample_temperature"] < 282
    assert "sample.temperature" in meta["logs"]


def test_mantid_workspace_group_fws(shared_data):
    path = shared_data / QENS / "in16b_lysozyme" / "lys_part_01_FWS.nxs"
    loaded = read_mantid_nexus(path)
    assert len(loaded) == 4
    with h5py.File(path) as fh:
        names = [fh[f"mantid_workspace_{k}/workspace_name"][0].decode() for k in range(1, 5)]
        v3 = fh["mantid_workspace_3/workspace/values"][()]
        runs = fh["mantid_workspace_3/workspace/axis1"][()]
    assert list(loaded) == names
    da = loaded[names[2]]
    assert da.dims == ("Q", "run_number") and da.shape == (18, 21)
    np.testing.assert_allclose(da.values, v3)
    np.testing.assert_allclose(da.coords["run_number"].values, runs)
    assert loaded.metadata[names[2]]["distribution"] is True
    one = read_mantid_nexus(path, workspaces=[names[1]])
    assert list(one) == [names[1]]


def test_inx_toftof(shared_data):
    path = shared_data / QENS / "toftof_bzi" / "In20_2p5_350K__tt_cr.txt"
    blocks = _blocks_numpy(path)
    # one point of this file has a zero error on a non-zero value: refused unless masked
    with pytest.raises(FormatError, match=r"1 point\(s\), first at \(3, 8\)"):
        read_inx(path)
    loaded = read_inx(path, bad_errors="mask")
    da = loaded.data
    assert da.dims == ("spectrum", "E") and da.shape == (9, 206)
    assert loaded.meta["incident_energy"] == pytest.approx(13.088)
    assert loaded.meta["masked_bad_errors"] == 1 and da.masks["bad_errors"].values[3, 8]
    for k, (_, cols) in enumerate(blocks):
        keep = ~da.masks["bad_errors"].values[k]
        np.testing.assert_allclose(da.values[k][keep], cols[keep, 1])
        np.testing.assert_allclose(np.sqrt(da.variances[k])[keep], cols[keep, 2])
    np.testing.assert_allclose(da.coords["E"].values, blocks[0][1][:, 0])
    q = np.linspace(0.4, 2.0, 9)
    with_q = read_inx(path, q=q, bad_errors="mask").data
    assert with_q.dims == ("Q", "E")
    np.testing.assert_allclose(with_q.coords["Q"].values, q)


def test_inx_elastic_scan(shared_data):
    path = shared_data / QENS / "in16b_lysozyme" / "D_syn_fibers_elastic_10to300K.inx"
    blocks = _blocks_numpy(path)
    loaded = read_inx(path)
    da = loaded.data
    assert da.dims == ("T", "Q") and da.shape == (2880, 14)
    assert str(da.coords["T"].unit) == "K"
    np.testing.assert_allclose(da.coords["Q"].values, [b[0][0] for b in blocks])
    np.testing.assert_allclose(da.values[:, 5], blocks[5][1][:, 1])
    np.testing.assert_allclose(da.variances[:, 5], blocks[5][1][:, 2] ** 2)
    assert loaded.meta["incident_energy"] == pytest.approx(2.0802)


def test_dave_grp_micro_ev_to_mev(shared_data):
    path = shared_data / QENS / "dave" / "dave_file.grp"
    lines = path.read_text().splitlines()
    energies_uev = np.array([float(v) for v in lines[5:605]])
    q = np.array([float(v) for v in lines[606:615]])
    group3 = np.loadtxt(lines[2419:3019])  # after "# Group 3" (line 2419)
    da = read_dave_grp(path).data
    assert da.dims == ("Q", "E") and da.shape == (9, 600)
    np.testing.assert_allclose(da.coords["E"].values, energies_uev * 1e-3)
    assert str(da.coords["E"].unit) == "meV"
    np.testing.assert_allclose(da.coords["Q"].values, q)
    np.testing.assert_allclose(da.values[3], group3[:, 0])
    np.testing.assert_allclose(da.variances[3], group3[:, 1] ** 2)


def test_ascii_iris(shared_data):
    path = shared_data / QENS / "iris_graphite" / "data_2lorentzians.dat"
    ref = np.loadtxt(path)
    da = read_ascii_columns(path).data
    assert da.dims == ("E",) and da.shape == (ref.shape[0],)
    np.testing.assert_allclose(da.coords["E"].values, ref[:, 0])
    np.testing.assert_allclose(da.values, ref[:, 1])
    np.testing.assert_allclose(da.variances, ref[:, 2] ** 2)


@pytest.mark.parametrize("rel, fmt", [
    ("in5_water/V_273K_5A.hdf", "lamp_hdf"),
    ("in16b_lysozyme/D2O_QENS_280K.nxs", "mantid_nexus"),
    ("in16b_lysozyme/empty_cell_QENS_280K.nxs", "mantid_nexus"),
    ("in16b_lysozyme/lys_part_01_QENS_before_280K.nxs", "mantid_nexus"),
    ("toftof_bzi/Vana_2p5_cool__tt_cr.txt", "inx"),
    ("in16b_lysozyme/D_syn_fibers_elastic_10to300K.inx", "inx"),
    ("dave/dave_file.grp", "dave_grp"),
    ("iris_graphite/irf_iris.dat", "ascii_columns"),
])
def test_load_detects_real_formats(shared_data, rel, fmt):
    path = shared_data / QENS / rel
    assert detect_format(path) == fmt
    loaded = load(path, bad_errors="mask" if "toftof" in rel else "error")
    assert loaded.format == fmt
    for da in loaded.entries.values():
        assert da.variances is not None
        assert np.all(np.isfinite(da.values)) and np.all(da.variances >= 0)
        if "E" in da.dims:
            assert str(da.coords["E"].unit) == "meV"
        if "Q" in da.dims:
            assert str(da.coords["Q"].unit) == "1/Å"
