"""Round trips: DataArray / Table -> writer -> reader gives identical values, variances,
units and coordinates; writes are atomic."""

import hashlib

import numpy as np
import pytest
import scipp as sc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latdyn import __version__
from latdyn.data import make_sqe
from latdyn.data.io import (
    Results,
    Table,
    load,
    read_csv,
    read_mantid_nexus,
    read_nxspe,
    read_results_h5,
    write_csv,
    write_mantid_nexus,
    write_nxspe,
    write_results_h5,
)
from latdyn.errors import InputError


def _sqe(nq=5, ne=40, seed=0, edges=True):
    rng = np.random.default_rng(seed)
    q = np.linspace(0.3, 1.9, nq)
    e = np.linspace(-0.5, 0.5, ne + 1 if edges else ne)
    v = rng.random((nq, ne))
    err = 0.05 + rng.random((nq, ne)) * 0.01
    return make_sqe(q, e, v, err)


def _full_dataarray():
    da = _sqe()
    mask = np.zeros(da.shape, dtype=bool)
    mask[1, 3:7] = True
    da.masks["masked_bins"] = sc.array(dims=["Q", "E"], values=mask)
    da.coords["two_theta"] = sc.array(dims=["Q"], values=np.linspace(10, 140, 5), unit="deg")
    da.coords["label"] = sc.array(dims=["Q"], values=["a", "b", "c", "d", "e"])
    da.coords["n"] = sc.array(dims=["Q"], values=np.arange(5, dtype=np.int64))
    da.coords["T"] = sc.scalar(280.5, variance=0.01, unit="K")
    da.coords.set_aligned("T", False)
    return da


def _fit_table():
    q = np.array([0.5, 0.7, 0.9])
    cov = np.array([[[0.04, 0.001], [0.001, 0.0009]]] * 3) * np.arange(1, 4)[:, None, None]
    return Table({"Q": q, "D": [0.21, 0.22, 0.23], "D_err": [0.2, 0.2, 0.2], "tau": [1.1, 1.2, 1.3],
                  "model": ["jump", "jump", "fickian"], "converged": [True, True, False],
                  "nfev": [10, 20, 30]},
                 units={"Q": "1/angstrom", "D": "angstrom**2/ps", "tau": "ps"},
                 covariance=cov, parameters=["D", "tau"])


def test_results_h5_round_trip_lossless(tmp_path):
    da = _full_dataarray()
    spectrum = sc.DataArray(sc.array(dims=["E"], values=[1.0, 2.0, 3.0], unit="counts"),
                            coords={"E": sc.array(dims=["E"], values=[-1.0, 0.0, 1.0],
                                                  unit="meV")})
    model = {"components": ["delta", "lorentzian"], "bounds": {"hwhm": [0, None]},
             "ties": {"A0": "1 - A1"}}
    inp = tmp_path / "input.dat"
    inp.write_text("1 2 3\n")
    res = Results(data={"S(Q,E)": da, "fit/curve": spectrum}, tables={"fit": _fit_table()},
                  model=model, metadata={"temperature": 280.0, "note": "x"})
    out = write_results_h5(tmp_path / "r.h5", res, inputs=[inp], command="latdyn qens fit x")
    back = read_results_h5(out)
    assert list(back.data) == ["S(Q,E)", "fit/curve"]
    assert sc.identical(back.data["S(Q,E)"], da)
    assert not back.data["S(Q,E)"].coords["T"].aligned
    assert sc.identical(back.data["fit/curve"], spectrum)
    assert back.tables["fit"].equals(_fit_table())
    np.testing.assert_allclose(back.tables["fit"].correlation()[0, 0, 1],
                               0.001 / np.sqrt(0.04 * 0.0009))
    assert back.model == model and back.metadata == {"temperature": 280.0, "note": "x"}
    prov = back.provenance
    assert prov["latdyn_version"] == __version__
    assert prov["command_line"] == "latdyn qens fit x"
    assert prov["input_sha256"] == [hashlib.sha256(b"1 2 3\n").hexdigest()]
    loaded = load(out)
    assert loaded.format == "results_h5" and sc.identical(loaded["S(Q,E)"], da)


def test_results_write_is_atomic(tmp_path):
    target = tmp_path / "r.h5"
    target.write_bytes(b"old")
    bad = sc.DataArray(sc.array(dims=["x"], values=np.array([1, 2], dtype="datetime64[s]")))
    with pytest.raises(InputError):
        write_results_h5(target, Results(data={"good": _sqe(), "bad": bad}))
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5"]


def test_mantid_nexus_round_trip(tmp_path):
    da = _sqe(edges=True)
    mask = np.zeros(da.shape, dtype=bool)
    mask[0, :4] = mask[3, -2:] = True
    da.masks["masked_bins"] = sc.array(dims=["Q", "E"], values=mask)
    out = write_mantid_nexus(tmp_path / "sqw.nxs", {"sample": da},
                             metadata={"sample": {"instrument": "IN16B", "sample_temperature": 280.0}})
    loaded = read_mantid_nexus(out)
    back = loaded["sample"]
    assert back.dims == da.dims and back.coords.is_edges("E")
    for d in ("Q", "E"):
        assert sc.identical(back.coords[d], da.coords[d])
    np.testing.assert_array_equal(back.masks["masked_bins"].values, mask)
    np.testing.assert_array_equal(back.values[~mask], da.values[~mask])
    np.testing.assert_allclose(back.variances[~mask], da.variances[~mask], rtol=1e-15)
    assert back.unit == da.unit
    assert loaded.metadata["sample"]["instrument"] == "IN16B"
    assert loaded.metadata["sample"]["sample_temperature"] == 280.0


def test_mantid_writer_converts_units(tmp_path):
    da = _sqe(edges=False)
    da.coords["E"] = sc.to_unit(da.coords["E"], "ueV")
    back = read_mantid_nexus(write_mantid_nexus(tmp_path / "u.nxs", da)).data
    assert str(back.coords["E"].unit) == "meV"
    np.testing.assert_allclose(back.coords["E"].values, np.linspace(-0.5, 0.5, 40), rtol=1e-14)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nq=st.integers(1, 6), ne=st.integers(2, 30), edges=st.booleans(), seed=st.integers(0, 99))
def test_mantid_round_trip_property(tmp_path, nq, ne, edges, seed):
    da = _sqe(nq, ne, seed, edges)
    back = read_mantid_nexus(write_mantid_nexus(tmp_path / "p.nxs", da)).data
    assert sc.identical(back.coords["Q"], da.coords["Q"])
    assert sc.identical(back.coords["E"], da.coords["E"])
    np.testing.assert_array_equal(back.values, da.values)
    np.testing.assert_allclose(back.variances, da.variances, rtol=1e-15)


def test_nxspe_round_trip(tmp_path):
    n, ne = 30, 12
    rng = np.random.default_rng(1)
    da = sc.DataArray(
        sc.array(dims=["spectrum", "E"], values=rng.random((n, ne)), variances=rng.random((n, ne))),
        coords={"spectrum": sc.arange("spectrum", float(n)),
                "E": sc.linspace("E", -2.0, 10.0, ne + 1, unit="meV"),
                "two_theta": sc.linspace("spectrum", 5.0, 120.0, n, unit="deg"),
                "azimuthal": sc.linspace("spectrum", -30.0, 30.0, n, unit="deg")})
    loaded = read_nxspe(write_nxspe(tmp_path / "a.nxspe", da, 25.0, psi=12.0, instrument="MARI"))
    back = loaded.data
    for c in ("spectrum", "E", "two_theta", "azimuthal"):
        assert sc.identical(back.coords[c], da.coords[c])
    np.testing.assert_array_equal(back.values, da.values)
    np.testing.assert_allclose(back.variances, da.variances, rtol=1e-15)
    assert loaded.meta["incident_energy"] == 25.0 and loaded.meta["psi"] == 12.0
    assert loaded.meta["instrument"] == "MARI"


def test_csv_table_round_trip(tmp_path):
    t = _fit_table()
    back = read_csv(write_csv(tmp_path / "fit.csv", t))
    assert back.equals(t)


def test_csv_single_covariance_round_trip(tmp_path):
    cov = np.array([[0.01, -0.002], [-0.002, 0.04]])
    t = Table({"parameter": ["D", "tau"], "value": [0.23, 1.25], "error": [0.1, 0.2]},
              covariance=cov, parameters=["D", "tau"])
    back = read_csv(write_csv(tmp_path / "g.csv", t))
    assert back.equals(t)


def test_csv_of_dataarray_long_form(tmp_path):
    da = _sqe(nq=3, ne=4)
    back = read_csv(write_csv(tmp_path / "s.csv", da))
    assert back.n_rows == 12
    np.testing.assert_array_equal(back.columns["value"], da.values.ravel())
    np.testing.assert_array_equal(back.columns["error"], np.sqrt(da.variances).ravel())
    np.testing.assert_allclose(back.columns["E"][:4], 0.5 * (da.coords["E"].values[1:]
                                                            + da.coords["E"].values[:-1]))
    assert back.units["Q"] == "1/Å"


def test_table_validation():
    with pytest.raises(InputError, match="column length"):
        Table({"a": [1, 2], "b": [1]})
    with pytest.raises(InputError, match="covariance"):
        Table({"a": [1, 2]}, covariance=np.eye(3), parameters=["x", "y"])


def test_mantid_writer_layout_matches_real_file(shared_data, tmp_path):
    """Every group and dataset a SaveNexusProcessed Workspace2D needs (as in the real IN16B
    file) is present, with the same NX classes."""
    import h5py

    real = shared_data / "qens" / "in16b_lysozyme" / "vana_QENS_280K.nxs"
    ours = write_mantid_nexus(tmp_path / "o.nxs", _sqe())
    needed = ["definition", "workspace_name", "title", "instrument", "instrument/name", "sample",
              "sample/material", "logs", "process", "workspace", "workspace/values",
              "workspace/errors", "workspace/axis1", "workspace/axis2"]
    with h5py.File(real) as fr, h5py.File(ours) as fo:
        for name in needed:
            r, o = fr["mantid_workspace_1/" + name], fo["mantid_workspace_1/" + name]
            assert r.attrs.get("NX_class") == o.attrs.get("NX_class"), name
        for name in ("values", "axis1"):
            for attr in fr[f"mantid_workspace_1/workspace/{name}"].attrs:
                assert attr in fo[f"mantid_workspace_1/workspace/{name}"].attrs, (name, attr)


def test_mantid_value_unit_round_trip(tmp_path):
    da = _sqe()
    da.data.unit = sc.Unit("1/meV")
    back = read_mantid_nexus(write_mantid_nexus(tmp_path / "u.nxs", da)).data
    assert back.unit == sc.Unit("1/meV")


def test_mantid_spectrum_axis_gets_detector_angles(tmp_path):
    """A spectrum-number axis takes each spectrum's mean detector polar angle from the
    instrument/detector and physical_detectors tables SaveNexusProcessed writes."""
    import h5py

    da = sc.DataArray(sc.array(dims=["spectrum", "E"], values=np.ones((3, 4)),
                               variances=np.ones((3, 4))),
                      coords={"spectrum": sc.array(dims=["spectrum"], values=[1.0, 2.0, 3.0]),
                              "E": sc.linspace("E", -1.0, 1.0, 5, unit="meV")})
    path = write_mantid_nexus(tmp_path / "s.nxs", da)
    with h5py.File(path, "a") as fh:
        inst = fh["mantid_workspace_1/instrument"]
        inst.create_dataset("detector/detector_index", data=[0, 2, 3])
        inst.create_dataset("detector/detector_count", data=[2, 1, 2])
        inst.create_dataset("detector/detector_list", data=[101, 102, 103, 104, 105])
        inst.create_dataset("detector/spectra", data=[1, 2, 3])
        inst.create_dataset("physical_detectors/detector_number", data=[105, 104, 103, 102, 101])
        inst.create_dataset("physical_detectors/polar_angle", data=[50.0, 40.0, 30.0, 20.0, 10.0])
        inst.create_dataset("physical_detectors/azimuthal_angle", data=[0.0, 0.0, 5.0, 0.0, 0.0])
        pmap = "IRIS;string;deltaE-mode;indirect|" + "|".join(
            f"detID:{d};double;Efixed;1.845" for d in range(101, 106))
        inst.create_dataset("instrument_parameter_map/data", data=np.array([pmap.encode()]))
    loaded = read_mantid_nexus(path)
    back = loaded.data
    assert back.dims == ("spectrum", "E")
    np.testing.assert_allclose(back.coords["two_theta"].values, [15.0, 30.0, 45.0])
    np.testing.assert_allclose(back.coords["azimuthal"].values, [0.0, 5.0, 0.0])
    assert loaded.meta["emode"] == "indirect" and loaded.meta["final_energy"] == 1.845
    from scipy import constants as C

    lam = C.h / np.sqrt(2 * C.m_n * 1.845e-3 * C.e) * 1e10
    np.testing.assert_allclose(back.coords["Q"].values,
                               4 * np.pi * np.sin(np.deg2rad([7.5, 15.0, 22.5])) / lam, rtol=1e-6)


def test_mantid_elastic_scan_eq_layout(tmp_path):
    """An ElasticWindowMultiple '_eq' workspace: x = MomentumTransfer, spectrum axis a Label
    axis 'Temperature' in K -> dims ('T', 'Q')."""
    import h5py

    q = np.linspace(0.2, 1.8, 6)
    temps = np.array([10.0, 50.0, 100.0, 200.0])
    da = sc.DataArray(sc.array(dims=["T", "Q"], values=np.ones((4, 6)), variances=np.ones((4, 6))),
                      coords={"T": sc.array(dims=["T"], values=temps, unit="K"),
                              "Q": sc.array(dims=["Q"], values=q, unit="1/angstrom")})
    path = write_mantid_nexus(tmp_path / "x_eq.nxs", da)
    with h5py.File(path, "a") as fh:
        a2 = fh["mantid_workspace_1/workspace/axis2"]
        a2.attrs["units"] = np.bytes_("Label")
        a2.attrs["caption"] = np.bytes_("Temperature")
        a2.attrs["label"] = np.bytes_("K")
    back = read_mantid_nexus(path).data
    assert back.dims == ("T", "Q")
    assert sc.identical(back.coords["T"], da.coords["T"])
    assert sc.identical(back.coords["Q"], da.coords["Q"])
