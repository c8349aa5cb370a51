"""Reading channels: Mantid workspace groups (names or logs), LAMP HDF entries, the text layout."""

import h5py
import numpy as np
import pytest
import scipp as sc

from latdyn.data.io import write_mantid_nexus
from latdyn.errors import FormatError, InputError
from latdyn.polarisation import (
    ion_conductor_parts,
    parse_channel,
    read_channels,
    separate,
    simulate_channels,
    write_channels_text,
)


@pytest.fixture(scope="module")
def channels():
    q, e = np.linspace(0.4, 2.0, 4), np.linspace(-1.0, 1.0, 9)
    parts = ion_conductor_parts(q, e, sigma_coh=2.0, sigma_si=3.0, D_self=0.05, tau=1.0, D_collective=0.2,
                                s_of_q=(q, np.ones(q.size)))
    return simulate_channels(parts, ("x", "z"), exposure=1e4, seed=1)


@pytest.mark.parametrize("name,key", [("z_sf", "z_sf"), ("SF_z", "z_sf"), ("Z_ON", "z_sf"),
                                      ("XPO OFF", "x_nsf"), ("396939_ZPO_ON", "z_sf"), ("x+y_nsf", "x+y_nsf"),
                                      ("xmy_sf", "x-y_sf"), ("sample_x-y_nsf", "x-y_nsf"), ("zsf", "z_sf")])
def test_channel_names(name, key):
    assert parse_channel(name).key == key


@pytest.mark.parametrize("bad", ["z", "x_y_sf", "z_sf_nsf", "sample"])
def test_bad_channel_names(bad):
    with pytest.raises(InputError):
        parse_channel(bad)


def test_text_layout_round_trip(tmp_path, channels):
    p = write_channels_text(tmp_path / "c.txt", channels)
    assert p.read_text().splitlines()[0] == "# latdyn polarisation channels"
    back = read_channels(p)
    assert list(back) == list(channels)
    for k in channels:
        assert np.allclose(back[k].values, channels[k].values)
        assert np.allclose(back[k].variances, channels[k].variances, rtol=1e-9)
        assert back[k].dims == ("Q", "E")
        assert back[k].coords["Q"].unit == channels[k].coords["Q"].unit


def test_text_layout_errors(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("Q z_sf z_sf_err\n1 2 3\n")
    with pytest.raises(FormatError, match="latdyn channel layout"):
        read_channels(p)
    p.write_text("# latdyn polarisation channels\nQ z_sf\n1 2\n")
    with pytest.raises(FormatError, match="no error column"):
        read_channels(p)
    p.write_text("# latdyn polarisation channels\nQ z_sf z_sf_err\n1 2 1\n2 3 1\n")
    g = read_channels(p)
    assert g["z_sf"].dims == ("Q",) and g["z_sf"].values.tolist() == [2.0, 3.0]


def test_mantid_group_by_names_and_by_logs(tmp_path, channels):
    write_mantid_nexus(tmp_path / "names.nxs", {f"run_{k}": v for k, v in channels.items()})
    by_name = read_channels(tmp_path / "names.nxs")
    assert list(by_name) == list(channels)
    path = tmp_path / "logs.nxs"
    write_mantid_nexus(path, {f"ws{i}": v for i, v in enumerate(channels.values())})
    with h5py.File(path, "a") as fh:
        for i, k in enumerate(channels):
            d, f = k.split("_")
            logs = fh[f"mantid_workspace_{i + 1}/logs"]
            for name, val in (("POL.actual_state", d.upper() + "PO"),
                              ("POL.actual_stateB1B2", "ON" if f == "sf" else "OFF")):
                logs.create_group(name).create_dataset("value", data=np.array([val.encode()]))
    by_log = read_channels(path)
    for k in channels:
        assert np.allclose(by_log[k].values, channels[k].values)
    with h5py.File(path, "a") as fh:   # a name saying SF on a workspace whose logs say OFF
        i = list(channels).index("z_nsf") + 1
        del fh[f"mantid_workspace_{i}/workspace_name"]
        fh[f"mantid_workspace_{i}"].create_dataset("workspace_name", data=np.array([b"z_sf"]))
    with pytest.raises(InputError, match="inconsistent flipper states"):
        read_channels(path)


def test_duplicate_channel_is_an_error(tmp_path, channels):
    write_mantid_nexus(tmp_path / "a.nxs", {"z_sf": channels["z_sf"]})
    write_mantid_nexus(tmp_path / "b.nxs", {"ZPO_ON": channels["z_sf"]})
    with pytest.raises(InputError, match="appears twice"):
        read_channels([tmp_path / "a.nxs", tmp_path / "b.nxs"])


def _lamp_entry(fh, name, da, params):
    g = fh.create_group(f"{name}/data1")
    g.create_dataset("DATA", data=da.values)
    g.create_dataset("errors", data=np.sqrt(da.variances))
    x = g.create_dataset("X", data=da.coords["E"].values)
    x.attrs["long_name"] = b"Energy Transfer (meV)"
    y = g.create_dataset("Y", data=da.coords["Q"].values)
    y.attrs["long_name"] = b"Wavevector Transfer (A-1)"
    g.create_dataset("PARAMETERS", data=np.bytes_(params))


def test_lamp_entries_per_spin_state(tmp_path, channels):
    path = tmp_path / "d7.hdf"
    with h5py.File(path, "w") as fh:
        for i, k in enumerate(channels, start=1):
            d, f = k.split("_")
            _lamp_entry(fh, f"entry{i}", channels[k], f"(Instrument) name: D7 = 0\n"
                        f"Polarisation = {d.upper()}PO\nFlipper state = {'ON' if f == 'sf' else 'OFF'}\n")
    g = read_channels(path)
    assert sorted(g) == sorted(channels)
    for k in channels:
        assert np.allclose(g[k].values, channels[k].values)
    one = tmp_path / "vanadium_z_sf.hdf"   # one spin state per file: from the file name
    with h5py.File(one, "w") as fh:
        _lamp_entry(fh, "entry1", channels["z_sf"], "Wavelength (angstroms) = 4.8\n")
    assert list(read_channels(one)) == ["z_sf"]


def test_separation_file_round_trip(tmp_path, channels):
    sep = separate(channels, "uniaxial")
    files = sep.write(tmp_path / "out")
    assert {f.name for f in files} == {"parts.csv", "separation.h5", "report.html"}
    back = read_channels(tmp_path / "out" / "separation.h5")
    assert sorted(back) == ["z_nsf", "z_sf"]
    assert (tmp_path / "out" / "figures" / "parts.png").is_file()
    assert isinstance(back["z_sf"], sc.DataArray)
