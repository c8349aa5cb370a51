"""The library calls behind ``latdyn phonons``: one call gives the command's results, JSON and
files (latdyn.phonons.compute, latdyn.phonons.results)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipp as sc

from latdyn.cli.main import main
from latdyn.cli.output import to_jsonable
from latdyn.errors import InputError
from latdyn.fileio import RESULT_MARKER
from latdyn.phonons import (
    automatic_energy_range,
    compute_dispersion,
    compute_dos,
    compute_modes,
    compute_powder,
    compute_slice,
    path_map,
    powder_map,
)
from latdyn.phonons.compute import highest_mode_energy


def _cli_json(capsys, args):
    assert main(args + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_modes_call_gives_the_cli_json(nacl_dir, capsys, tmp_path):
    yaml = str(nacl_dir / "phonopy_nacl.yaml")
    cli = _cli_json(capsys, ["phonons", "modes", yaml, "--q", "0,0,0", "--q", "0.5,0.5,0.5",
                             "--isotope", "Cl=37Cl"])
    r = compute_modes(yaml, [[0, 0, 0], [0.5, 0.5, 0.5]], isotopes={"Cl": "37Cl"})
    assert to_jsonable({"rows": r.rows(), **r.to_json()}) == {k: v for k, v in cli.items()
                                                              if k != "title"}
    assert len(r.rows()) == 48 and r.to_json()["units"] == {"E": "meV"}
    files = r.write(tmp_path / "modes")
    assert [f.name for f in files] == ["modes.csv", "report.html"] and all(f.is_file() for f in files)
    header = (tmp_path / "modes" / "modes.csv").read_text().splitlines()
    assert any("E" in line for line in header[:3]) and len(header) > 48


def test_powder_call_writes_the_documented_files_and_gives_the_cli_json(nacl_dir, tmp_path, capsys):
    """With an instrument: same map (mask included) and JSON as the command; sqe_powder.h5,
    report.html and figures/sqe_powder.png|svg written, the folder replaced whole."""
    yaml = str(nacl_dir / "phonopy_nacl.yaml")
    opts = ["--npts", "8", "--qbins", "8", "--ebins", "16", "--emax", "30", "--dw-mesh", "0",
            "--instrument", "MARI", "--ei", "45", "--package", "S", "--frequency", "250"]
    cli = _cli_json(capsys, ["phonons", "powder", yaml, "--out", str(tmp_path / "cli")] + opts)
    r = compute_powder(yaml, npts=8, qbins=8, ebins=16, emax=30.0, dw_mesh=0, instrument="MARI",
                       ei=45.0, package="S", frequency=250.0)
    assert to_jsonable(r.to_json()) == {k: v for k, v in cli.items() if k not in ("title", "rows")}
    assert sc.identical(r.data, sc.io.load_hdf5(tmp_path / "cli" / "sqe_powder.h5"))
    out = tmp_path / "py"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier run")
    (out / RESULT_MARKER).write_text("an earlier latdyn result")
    files = r.write(out)
    assert [f.name for f in files] == ["sqe_powder.h5", "report.html"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        RESULT_MARKER, "figures/sqe_powder.png", "report.html",
        "sqe_powder.h5"]
    assert "outside_coverage" in sc.io.load_hdf5(out / "sqe_powder.h5").masks
    html = (out / "report.html").read_text()
    assert "Force constants as loaded" in html and "MARI elastic FWHM" in html
    # without an instrument the map is powder_map's, on the automatic energy range
    plain = compute_powder(r.run.model, qmax=4.0, qbins=4, ebins=10, npts=8, dw_mesh=0, fwhm=1.0)
    emin, emax = automatic_energy_range(r.run.model)
    ref = powder_map(r.run.model, np.linspace(0, 4, 5), np.linspace(emin, emax, 11), 300.0, npts=8,
                     broadening=1.0, max_npts=6400, progress=False)
    assert np.array_equal(plain.data.values, ref.data.values) and plain.to_json()["instrument"] is None


def test_powder_instrument_excludes_fixed_widths(nacl_model):
    with pytest.raises(InputError, match="either an instrument"):
        compute_powder(nacl_model, instrument="MARI", ei=45.0, fwhm=1.0, emax=30.0)
    with pytest.raises(InputError, match="ei"):
        compute_powder(nacl_model, instrument="MARI", emax=30.0)


def test_dispersion_and_slice_calls(nacl_model, tmp_path):
    path = [(0, 0, 0), (0.5, 0, 0), (0.5, 0.5, 0)]
    r = compute_dispersion(nacl_model, path=path, npts=20, emin=-5.0, emax=35.0, ebins=8,
                           dw_mesh=0, fwhm=1.0)
    ref = path_map(nacl_model, [np.array(p, float) for p in path], np.linspace(-5, 35, 9), 300.0,
                   npts=20, broadening=1.0)
    assert np.array_equal(r.data.values, ref.values)
    labels = list(r.data.coords["label"].values)
    assert (labels[0], labels[-1]) == ("0,0,0", "0.5,0.5,0")
    j = r.to_json()
    assert j["max_intensity"] == {"value": pytest.approx(float(ref.values.max())), "error": None,
                                  "unit": "barn/eV"} and j["n_q"] == r.data.sizes["q"]
    files = r.write(tmp_path / "disp")
    assert [f.name for f in files] == ["sqe_path.h5", "report.html"]
    assert (tmp_path / "disp" / "figures" / "sqe_path.png").is_file()
    s = compute_slice(nacl_model, (5.0, 10.0), n=5, dw_mesh=0)
    assert s.data.dims == ("x", "y") and s.data.shape == (5, 5)
    assert [f.name for f in s.write(tmp_path / "slice")] == ["slice.h5", "report.html"]
    assert any(line.startswith("max intensity:") for line in s.lines())


def test_dos_call_writes_the_documented_files(nacl_dir, tmp_path):
    r = compute_dos(nacl_dir / "phonopy_nacl.yaml", mesh=4, fwhm="0.5", ebins=100)
    rows = {row["curve"]: row["integral"] for row in r.rows()}
    assert rows["total"] == pytest.approx(r.to_json()["expected_total"], rel=1e-3)
    assert rows["Na"] + rows["Cl"] == pytest.approx(rows["total"], rel=1e-12)
    names = [f.name for f in r.write(tmp_path / "dos")]
    sites = [f"dos_site_{k}.h5" for k in ("Na1", "Na2", "Na3", "Na4", "Cl1", "Cl2", "Cl3", "Cl4")]
    assert names == ["dos_total.h5", "dos_neutron_weighted.h5", "dos_element_Na.h5",
                     "dos_element_Cl.h5", *sites, "report.html"]
    for fig in ("dos", "dos_neutron"):
        assert (tmp_path / "dos" / "figures" / f"{fig}.png").is_file()
    with pytest.raises(InputError, match="adaptive"):
        compute_dos(r.run.model, fwhm="wide")


def test_automatic_energy_range(nacl_model):
    top = highest_mode_energy(nacl_model)
    assert automatic_energy_range(nacl_model) == (pytest.approx(-0.25 * 1.15 * top),
                                                  pytest.approx(1.15 * top))
    assert automatic_energy_range(nacl_model, emin=1.0) == (1.0, pytest.approx(1.15 * top))
    with pytest.raises(InputError, match="emax > emin"):
        automatic_energy_range(nacl_model, emin=5.0, emax=2.0)


def test_loading_options_need_a_file(nacl_model):
    with pytest.raises(InputError, match="loading options"):
        compute_modes(nacl_model, [[0, 0, 0]], born="BORN")
