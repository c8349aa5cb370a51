"""``latdyn polarisation separate | fit | plan``: tables, JSON, files and one-line errors."""

import json

import h5py
import numpy as np
import pytest
import scipp as sc

from latdyn.cli.main import main
from latdyn.data.io import write_mantid_nexus
from latdyn.lineshapes import gaussian
from latdyn.polarisation import ion_conductor_parts, quartz_channels, simulate_channels, write_channels_text


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pol")
    q, e = np.linspace(0.4, 2.0, 5), np.linspace(-1.5, 1.5, 61)
    sq = 1.0 + 0.8 * np.exp(-(q - 1.4) ** 2 / 0.08)
    parts = ion_conductor_parts(q, e, sigma_coh=3.0, sigma_si=5.0, D_self=0.05, tau=1.0, D_collective=0.2,
                                s_of_q=(q, sq), resolution_hwhm=0.05)
    ch = simulate_channels(parts, ("z",), exposure=2e5, flipping=20.0, seed=1)
    write_channels_text(d / "sample.txt", ch)
    qz = quartz_channels(ch["z_sf"], ("z",), flipping=20.0, counts=500.0, seed=2)
    write_mantid_nexus(d / "quartz.nxs", {f"quartz_{k}": v for k, v in qz.items()})
    write_mantid_nexus(d / "swapped.nxs", {"quartz_z_sf": qz["z_nsf"], "quartz_z_nsf": qz["z_sf"]})
    write_mantid_nexus(d / "sf_only.nxs", {"run_z_sf": ch["z_sf"]})
    r = np.array([gaussian(e, 0.05) for _ in q]) * 1e4
    res = sc.DataArray(sc.array(dims=["Q", "E"], values=r, variances=np.maximum(r, 1.0)),
                       coords={"Q": sc.array(dims=["Q"], values=q, unit="1/angstrom"),
                               "E": sc.array(dims=["E"], values=e, unit="meV")})
    write_mantid_nexus(d / "vana.nxs", res)
    np.savetxt(d / "sq.txt", np.c_[q, sq], header="Q S")
    vana = ion_conductor_parts(q, e, sigma_coh=0.02, sigma_si=5.0, D_self=0.05, tau=1.0, D_collective=0.2,
                               s_of_q=(q, np.ones(q.size)), mobile_fraction=0.0, resolution_hwhm=0.05)
    write_channels_text(d / "vanadium.txt", simulate_channels(vana, ("z",), exposure=2e5, flipping=20.0,
                                                              seed=9))
    write_mantid_nexus(d / "logs.nxs", {"ws0": ch["z_sf"]})
    with h5py.File(d / "logs.nxs", "a") as fh:
        del fh["mantid_workspace_1/workspace_name"]
        fh["mantid_workspace_1"].create_dataset("workspace_name", data=np.array([b"z_nsf"]))
        fh["mantid_workspace_1/logs"].create_group("flipper").create_dataset("value", data=np.array([b"ON"]))
    return d


def test_separate_json(files, capsys, tmp_path):
    out = tmp_path / "sep"
    assert main(["polarisation", "separate", str(files / "sample.txt"), "--method", "uniaxial",
                 "--quartz", str(files / "quartz.nxs"), "--quartz-integrate", "E", "--out", str(out),
                 "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["method"] == "uniaxial" and len(js["rows"]) == 5
    assert set(js["total"]) == {"coherent", "spin_incoherent"} and js["flipping_ratio"]["z"]["dims"] == ["Q"]
    for f in ("parts.csv", "separation.h5", "report.html"):
        assert (out / f).is_file()


def test_separate_table(files, capsys, tmp_path):
    assert main(["polarisation", "separate", str(files / "sample.txt"), "--method", "uniaxial",
                 "--flipping", "20", "--vanadium", str(files / "vanadium.txt"),
                 "--out", str(tmp_path / "s")]) == 0
    text = capsys.readouterr().out
    assert "spin_incoherent" in text and "uniaxial separation" in text
    assert "divided by vanadium efficiency" in text


@pytest.mark.slow
def test_fit_json(files, capsys, tmp_path):
    out = tmp_path / "fit"
    assert main(["polarisation", "fit", str(files / "sample.txt"), "--resolution", str(files / "vana.nxs"),
                 "--quartz", str(files / "quartz.nxs"), "--s-of-q", str(files / "sq.txt"), "--out", str(out),
                 "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["result"]["collective"]["quantities"]["D_collective"]["unit"] == "angstrom**2/ps"
    assert "self" in js["result"] and len(js["rows"]) == 5
    for f in ("collective.csv", "self.csv", "results.json", "report.html", "separation.h5"):
        assert (out / f).is_file(), f


def test_plan_json_and_monte_carlo(capsys, tmp_path):
    assert main(["polarisation", "plan", "--instrument", "D7", "--formula", "MnO", "--mass", "3",
                 "--magnetic-ion", "Mn2+", "--spin", "2.5", "--part", "magnetic", "--target", "0.05",
                 "--monte-carlo", "300", "--seed", "1", "--out", str(tmp_path / "plan"), "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["time"]["unit"] == "s" and js["time"]["value"] > 0
    mc = js["monte_carlo"]
    assert mc["relative_error_monte_carlo"] == pytest.approx(0.05, rel=0.15)
    assert (tmp_path / "plan" / "plan.csv").is_file()


@pytest.mark.parametrize("argv,message", [
    (["separate", "{d}/sf_only.nxs", "--method", "uniaxial"], "missing channel z_nsf"),
    (["separate", "{d}/logs.nxs", "--method", "uniaxial"], "inconsistent flipper states"),
    (["separate", "{d}/sample.txt", "--method", "uniaxial", "--quartz", "{d}/swapped.nxs"],
     "flipping ratio < 1"),
    (["separate", "{d}/sample.txt", "--method", "uniaxial", "--flipping", "0.7"], "flipping ratio"),
    (["separate", "{d}/sample.txt", "--method", "xyz"], "missing channel x_nsf"),
])
def test_one_line_errors(files, capsys, argv, message):
    args = ["polarisation"] + [a.format(d=files) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("latdyn: error:")
