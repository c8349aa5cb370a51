"""The library calls behind ``latdyn diffraction``: each command's JSON equals the Python result,
``write(folder)`` writes the documented files (and replaces the folder whole), F(000) and the
reflection positions follow their formulas."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.diffraction import (
    compute_pattern,
    compute_pdf,
    compute_reflections,
    f000,
    fit_u_iso_file,
    mem_density,
    structure_factor,
)
from latdyn.scattering import nuclide, xray_form_factor
from latdyn.structure import read_cif

from .conftest import DATA

NIO = DATA / "mcif" / "magnetic.example.NiO.mcif"


def test_reflections_python_equals_cli_and_writes_its_files(cli_matches, tmp_path, capsys):
    r = compute_reflections(DATA / "Si.cif", 1.2)
    cli_matches(["diffraction", "reflections", DATA / "Si.cif", "--d-range", "1.2", "inf", "--out",
               tmp_path / "c"], r)
    files = r.write(tmp_path / "r")
    assert sorted(p.relative_to(tmp_path / "r").as_posix() for p in files) == [
        "figures/reflections.png", "reflections.csv", "report.html"]
    csv = (tmp_path / "r" / "reflections.csv").read_text()
    assert csv == (tmp_path / "c" / "reflections.csv").read_text()
    assert r.to_json()["units"]["F2"] == "barn" and r.rows()[0]["multiplicity"] == 8
    (tmp_path / "r" / "stale.txt").write_text("from an earlier run")
    r.write(tmp_path / "r")
    assert not (tmp_path / "r" / "stale.txt").exists()        # the folder is replaced whole


def test_magnetic_reflections_and_pattern(cli_matches, tmp_path, capsys):
    r = compute_reflections(magnetic=NIO, d_min=1.5, ions={"Ni": "Ni2+"})
    cli_matches(["diffraction", "reflections", "--magnetic", NIO, "--ion", "Ni=Ni2+",
               "--d-range", "1.5", "inf", "--out", tmp_path / "m"], r)
    assert r.to_json()["parent_k"] == [0.5, 0.5, 0.5]
    assert r.write_mcif(tmp_path / "copy.mcif").is_file()
    p = compute_pattern(magnetic=NIO, ions={"Ni": "Ni2+"}, wavelength=2.4, two_theta=(10, 90, 0.05))
    files = {f.name for f in p.write(tmp_path / "p")}
    assert {"pattern.csv", "reflections.csv", "report.html", "pattern.png", "reflections.png"} <= files
    with pytest.raises(Exception, match="preferred orientation"):
        compute_pattern(magnetic=NIO, ions={"Ni": "Ni2+"}, wavelength=2.4,
                        preferred_orientation=([0, 0, 1], 0.8))


def test_pattern_positions_follow_braggs_law(cli_matches, tmp_path, capsys):
    p = compute_pattern(DATA / "NaCl.cif", wavelength=1.54, two_theta=(10, 90, 0.05))
    cli_matches(["diffraction", "pattern", DATA / "NaCl.cif", "--wavelength", "1.54", "--two-theta",
               "10", "90", "0.05", "--out", tmp_path / "c"], p)
    lat = read_cif(DATA / "NaCl.cif").lattice
    for row in p.rows():
        d = float(lat.d_spacing([[row["h"], row["k"], row["l"]]])[0])
        assert row["two_theta"] == pytest.approx(2 * np.degrees(np.arcsin(1.54 / (2 * d))), rel=1e-12)
    assert [f.name for f in p.write(tmp_path / "p")][:2] == ["pattern.csv", "report.html"]
    assert p.normalised("xray").max() == pytest.approx(1.0)
    t = compute_pattern(DATA / "NaCl.cif", tof=True, difc=4900.0, d_range=(1.5, 3.5, 0.001))
    assert t.axis == "d" and all(1.5 <= r["d"] <= 3.5 for r in t.rows())


def test_f000_is_the_sum_of_the_scattering_powers():
    ni, nacl = read_cif(DATA / "Ni.cif"), read_cif(DATA / "NaCl.cif")
    assert f000(ni) == pytest.approx(4 * nuclide("Ni").b_coh.real, rel=1e-12)
    assert f000(nacl, "xray") == pytest.approx(4 * (float(xray_form_factor("Na", 0.0))
                                                    + float(xray_form_factor("Cl", 0.0))), rel=1e-12)
    assert f000(ni) == pytest.approx(structure_factor(ni, [[0, 0, 0]]).real[0], rel=1e-12)


def test_pdf_debye_mem_python_equal_cli(cli_matches, tmp_path, capsys):
    g = compute_pdf(DATA / "Ni.cif", r=(1.0, 6.0, 0.01), shell=(2.0, 3.0))
    cli_matches(["diffraction", "pdf", DATA / "Ni.cif", "--r", "1", "6", "0.01", "--shell", "2", "3",
               "--out", tmp_path / "g"], g)
    assert g.rows()[0]["coordination"] == pytest.approx(12, rel=0.01)
    assert g.to_json()["rho0"]["unit"] == "1/angstrom**3"
    assert (tmp_path / "g" / "pdf.csv").read_text().splitlines()[1].startswith("r_angstrom,G_inv_angstrom2")
    from latdyn.diffraction import debye_u_iso

    T = np.linspace(10, 500, 12)
    np.savetxt(tmp_path / "u.csv", np.column_stack([T, debye_u_iso(T, 300.0, 58.69) + 0.001]), delimiter=",")
    fit = fit_u_iso_file(tmp_path / "u.csv", species="Ni")
    cli_matches(["diffraction", "debye", tmp_path / "u.csv", "--species", "Ni", "--out",
               tmp_path / "d"], fit)
    assert fit.to_json()["parameters"]["theta_D"]["value"] == pytest.approx(300.0, rel=1e-3)
    assert {f.name for f in fit.write(tmp_path / "d2")} >= {"debye_fit.csv", "report.html", "debye.png"}
    fobs = tmp_path / "fobs.txt"
    fobs.write_text("1 1 1 10.0 0.5\n2 0 0 8.0 0.5\n")
    m = mem_density(DATA / "Ni.cif", fobs, grid=(8, 8, 8))
    cli_matches(["diffraction", "mem", DATA / "Ni.cif", fobs, "--grid", "8", "8", "8", "--out",
               tmp_path / "m"], m)
    assert m.f000 == pytest.approx(f000(read_cif(DATA / "Ni.cif")))
    assert {f.name for f in m.write(tmp_path / "m2")} >= {"mem_density.h5", "report.html", "mem.png"}
