"""``latdyn info`` and ``latdyn convert``: tables, JSON, errors as one line with exit 2."""

import json

import numpy as np
import pytest
import scipp as sc

from latdyn.cli.main import main
from latdyn.data import make_sqe
from latdyn.data.io import load, read_results_h5, write_mantid_nexus, write_nxspe


@pytest.fixture
def sqe_file(tmp_path):
    da = make_sqe(np.linspace(0.3, 1.5, 4), np.linspace(-0.1, 0.1, 21), np.ones((4, 20)),
                  0.1 * np.ones((4, 20)))
    return write_mantid_nexus(tmp_path / "s.nxs", {"ws": da},
                              metadata={"ws": {"instrument": "IRIS", "sample_temperature": 300.0}})


def test_info_json(sqe_file, capsys):
    assert main(["info", str(sqe_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "mantid_nexus" and out["entries"] == 1
    assert out["rows"][0]["dims"] == "Q:4 x E:20"
    assert out["instrument"] == "IRIS" and out["sample_temperature"] == 300.0


def test_info_table(sqe_file, capsys):
    assert main(["info", str(sqe_file)]) == 0
    text = capsys.readouterr().out
    assert "mantid_nexus" in text and "Q:4 x E:20" in text


def test_info_bad_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.nxs"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40)
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err


@pytest.mark.parametrize("suffix", [".h5", ".csv", ".nxs"])
def test_convert_round_trip(sqe_file, tmp_path, suffix, capsys):
    out = tmp_path / f"out{suffix}"
    assert main(["convert", str(sqe_file), str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["output"] == str(out)
    original = load(sqe_file).data
    if suffix == ".csv":
        text = out.read_text().splitlines()
        assert len(text) == 1 + 80
        return
    back = load(out).data
    assert sc.identical(back.coords["E"], original.coords["E"])
    np.testing.assert_array_equal(back.values, original.values)
    if suffix == ".h5":
        prov = read_results_h5(out).provenance
        assert "convert" in prov["command_line"] and len(prov["input_sha256"]) == 1


def test_convert_nxspe_powder(tmp_path, capsys):
    n, ne = 50, 10
    da = sc.DataArray(sc.array(dims=["spectrum", "E"], values=np.ones((n, ne)),
                               variances=np.ones((n, ne))),
                      coords={"spectrum": sc.arange("spectrum", float(n)),
                              "E": sc.linspace("E", -2.0, 8.0, ne + 1, unit="meV"),
                              "two_theta": sc.linspace("spectrum", 5.0, 120.0, n, unit="deg")})
    src = write_nxspe(tmp_path / "d.nxspe", da, 12.0)
    out = tmp_path / "powder.nxs"
    assert main(["convert", str(src), str(out), "--powder", "--q-bin", "0.2", "--json"]) == 0
    back = load(out)
    (name,) = list(back)
    assert back[name].dims == ("Q", "E")


def test_convert_unknown_extension(sqe_file, tmp_path, capsys):
    assert main(["convert", str(sqe_file), str(tmp_path / "x.weird")]) == 2
    assert "extension" in capsys.readouterr().err
