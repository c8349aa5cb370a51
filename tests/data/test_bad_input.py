"""Bad input -> FormatError naming the file and the path inside it; never a partial object."""

import h5py
import numpy as np
import pytest

from latdyn.data import make_sqe
from latdyn.data.io import (
    load,
    nxspe_to_powder,
    read_ascii_columns,
    read_dave_grp,
    read_inx,
    read_lamp_hdf,
    read_mantid_nexus,
    read_nxspe,
    write_mantid_nexus,
)
from latdyn.errors import FormatError, InputError


@pytest.fixture
def mantid_file(tmp_path):
    q = np.linspace(0.3, 1.5, 4)
    e = np.linspace(-0.1, 0.1, 21)
    da = make_sqe(q, e, np.ones((4, 20)), 0.1 * np.ones((4, 20)))
    return write_mantid_nexus(tmp_path / "good.nxs", da)


def _lamp(path, **override):
    arrays = {"DATA": np.ones((3, 5)), "errors": 0.1 * np.ones((3, 5)),
              "X": np.linspace(-1, 1, 5), "Y": np.array([0.5, 1.0, 1.5])}
    arrays.update(override)
    with h5py.File(path, "w") as fh:
        g = fh.create_group("entry1/data1")
        for k, v in arrays.items():
            if v is not None:
                g.create_dataset(k, data=v)
        if "Y" in g:
            g["Y"].attrs["long_name"] = np.bytes_("Wavevector Transfer")
    return path


def _expect(func, path, *fragments):
    with pytest.raises(FormatError) as info:
        func(path)
    msg = str(info.value)
    assert str(path) in msg
    for f in fragments:
        assert f in msg, msg
    return msg


def test_truncated_hdf5(mantid_file):
    data = mantid_file.read_bytes()
    mantid_file.write_bytes(data[: len(data) // 3])
    _expect(read_mantid_nexus, mantid_file, "HDF5")
    _expect(load, mantid_file, "HDF5")


@pytest.mark.parametrize("name", ["values", "errors", "axis1"])
def test_missing_dataset(mantid_file, name):
    with h5py.File(mantid_file, "a") as fh:
        del fh[f"mantid_workspace_1/workspace/{name}"]
    _expect(read_mantid_nexus, mantid_file, f"mantid_workspace_1/workspace/{name}")


def test_mismatched_sizes(mantid_file):
    with h5py.File(mantid_file, "a") as fh:
        ws = fh["mantid_workspace_1/workspace"]
        del ws["axis1"]
        ws.create_dataset("axis1", data=np.linspace(0, 1, 7))
        ws["axis1"].attrs["units"] = np.bytes_("DeltaE")
    _expect(read_mantid_nexus, mantid_file, "mantid_workspace_1/workspace/axis1", "7")


def test_non_monotonic_axis(mantid_file):
    with h5py.File(mantid_file, "a") as fh:
        fh["mantid_workspace_1/workspace/axis2"][...] = [0.3, 0.9, 0.6, 1.5]
    _expect(read_mantid_nexus, mantid_file, "mantid_workspace_1/workspace/axis2", "monotonic")


def test_nan_errors(mantid_file):
    with h5py.File(mantid_file, "a") as fh:
        fh["mantid_workspace_1/workspace/errors"][2, 5] = np.nan
    _expect(read_mantid_nexus, mantid_file, "mantid_workspace_1/workspace/values (errors)",
            "(2, 5)")


def test_unknown_unit(mantid_file):
    with h5py.File(mantid_file, "a") as fh:
        fh["mantid_workspace_1/workspace/axis1"].attrs["units"] = np.bytes_("Furlongs")
    _expect(read_mantid_nexus, mantid_file, "axis1 (units)", "Furlongs")


def test_nan_values_are_masked_not_silent(mantid_file):
    with h5py.File(mantid_file, "a") as fh:
        fh["mantid_workspace_1/workspace/values"][1, 2] = np.nan
        fh["mantid_workspace_1/workspace/errors"][1, 2] = np.nan
    da = read_mantid_nexus(mantid_file).data
    assert da.masks["not_measured"].values[1, 2] and da.masks["not_measured"].values.sum() == 1
    assert np.isfinite(da.values).all()


def test_lamp_bad_inputs(tmp_path):
    _expect(read_lamp_hdf, _lamp(tmp_path / "a.hdf", errors=None), "entry1/data1/errors")
    _expect(read_lamp_hdf, _lamp(tmp_path / "b.hdf", X=np.linspace(-1, 1, 9)), "entry1/data1/X")
    _expect(read_lamp_hdf, _lamp(tmp_path / "c.hdf", Y=np.array([0.5, 1.5, 1.0])),
            "entry1/data1/Y", "monotonic")
    err = 0.1 * np.ones((3, 5))
    err[1, 1] = np.nan
    _expect(read_lamp_hdf, _lamp(tmp_path / "d.hdf", errors=err), "entry1/data1/DATA (errors)")


def test_nxspe_bad_inputs(tmp_path):
    def make(path, drop=None, error_nan=False):
        with h5py.File(path, "w") as fh:
            g = fh.create_group("e")
            g.create_dataset("NXSPE_info/fixed_energy", data=[20.0])
            d = g.create_group("data")
            err = np.ones((4, 3))
            if error_nan:
                err[2, 1] = np.nan
            for k, v in {"data": np.ones((4, 3)), "error": err, "energy": np.linspace(-1, 5, 4),
                         "polar": np.linspace(10, 40, 4), "azimuthal": np.zeros(4)}.items():
                if k != drop:
                    d.create_dataset(k, data=v)
        return path

    _expect(read_nxspe, make(tmp_path / "a.nxspe", drop="polar"), "e/data/polar")
    _expect(read_nxspe, make(tmp_path / "b.nxspe", drop="error"), "e/data/error")
    _expect(read_nxspe, make(tmp_path / "c.nxspe", error_nan=True), "e/data/data (errors)")
    _expect(nxspe_to_powder, make(tmp_path / "d.nxspe", error_nan=True), "e/data/error",
            "detector 2")


def test_text_bad_inputs(tmp_path):
    inx = tmp_path / "t.inx"
    inx.write_text("  13 1 2 0 0 0 0 10\ntitle\n 0.5 2.08 1.0 0 0 0\n 0 0 0\n"
                   + "".join(f" {e:.2f} 1.0 0.1\n" for e in np.linspace(-1, 1, 6)))
    _expect(read_inx, inx, "line 1", "truncated")
    grp = tmp_path / "d.grp"
    grp.write_text("# Number of Energy transfer values\n3\n# Number of q values\n1\n"
                   "# Energy transfer (micro eV) values\n-1\n0\n1\n# q values\n0.5\n"
                   "# Group 0\n1 0.1\n2 0.1\n")
    _expect(read_dave_grp, grp, "Group 0")
    cols = tmp_path / "c.dat"
    cols.write_text("0 1 0.1\n1 2 0.1\n0.5 3 0.1\n")
    _expect(read_ascii_columns, cols, "column 1", "monotonic")
    cols.write_text("0 1 0.1\n1 2 nan\n2 3 0.1\n")
    _expect(read_ascii_columns, cols, "errors")


def test_unknown_hdf5_layout(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("something", data=[1])
    _expect(load, path, "unknown layout")


def test_load_rejects_unknown_option(tmp_path):
    cols = tmp_path / "c.dat"
    cols.write_text("0 1 0.1\n1 2 0.1\n")
    with pytest.raises(InputError, match="option"):
        load(cols, bogus=1)
