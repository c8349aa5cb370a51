"""`latdyn diffraction reflections|pattern --magnetic`: tables, JSON, files and one-line errors."""

from __future__ import annotations

import json

import pytest

from latdyn.cli.main import main

from .conftest import DATA

NIO = str(DATA / "mcif" / "magnetic.example.NiO.mcif")


def _run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reflections_from_an_mcif(tmp_path, capsys):
    code, out, _ = _run(capsys, "diffraction", "reflections", "--magnetic", NIO, "--ion", "Ni=Ni2+",
                        "--d-range", "1.5", "inf", "--out", str(tmp_path / "r"), "--json",
                        "--write-mcif", str(tmp_path / "copy.mcif"))
    assert code == 0
    res = json.loads(out)
    mag = [r for r in res["rows"] if r["F2_magnetic"] > 0]
    assert mag and all(r["F2_nuclear"] == 0 for r in mag)
    assert res["parent_k"] == [0.5, 0.5, 0.5]
    assert all(float(x) % 1 == 0.5 for r in mag for x in r["parent hkl"].split())
    assert (tmp_path / "r" / "reflections.csv").is_file() and (tmp_path / "copy.mcif").is_file()
    code, out, _ = _run(capsys, "diffraction", "reflections", "--magnetic", str(tmp_path / "copy.mcif"),
                        "--d-range", "1.5", "inf", "--out", str(tmp_path / "r2"), "--json")
    assert code == 0 and json.loads(out)["rows"] == res["rows"]


def test_pattern_from_a_cif_and_a_yaml_moment_file(tmp_path, capsys):
    (tmp_path / "afm.yaml").write_text("k: 1/2,1/2,1/2\naxes: cartesian\nmoments: {Ni: [1, 1, -2]}\n"
                                       "ions: {Ni: Ni2+}\n")
    cif = tmp_path / "nio.cif"
    cif.write_text("data_NiO\n_cell_length_a 4.175\n_cell_length_b 4.175\n_cell_length_c 4.175\n"
                   "_space_group_name_H-M_alt 'F m -3 m'\nloop_\n_atom_site_label\n"
                   "_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
                   "Ni Ni 0 0 0\nO O 0.5 0.5 0.5\n")
    code, out, _ = _run(capsys, "diffraction", "pattern", str(cif), "--magnetic", str(tmp_path / "afm.yaml"),
                        "--wavelength", "2.4", "--two-theta", "10", "90", "0.05", "--out",
                        str(tmp_path / "p"), "--json")
    assert code == 0
    assert (tmp_path / "p" / "pattern.csv").read_text().splitlines()[1].startswith("two_theta_deg,nuclear")
    code, _, _ = _run(capsys, "diffraction", "pattern", str(cif), "--magnetic", str(tmp_path / "afm.yaml"),
                      "--tof", "--difc", "5000", "--d-range", "1.3", "5", "0.001", "--out",
                      str(tmp_path / "t"))
    assert code == 0


@pytest.mark.parametrize("yaml_text,extra,message", [
    ("moments: {Ni: [0, 0, 2]}\nions: {Ni: Ni9+}\n", [], "unknown magnetic ion"),
    ("moments: {O: [0, 0, 2]}\nions: {O: O2-}\n", [], "non-magnetic site"),
    ("k: 0,0,0.137\nmoments: {Ni: [0, 0, 2]}\nions: {Ni: Ni2+}\n", ["--magnetic-cell"],
     "not commensurate"),
    ("moments: {Ni: [0, 0, 2]}\n", [], "needs its magnetic ion"),
])
def test_one_line_errors(tmp_path, capsys, yaml_text, extra, message):
    cif = tmp_path / "nio.cif"
    cif.write_text("data_NiO\n_cell_length_a 4.175\n_cell_length_b 4.175\n_cell_length_c 4.175\n"
                   "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
                   "_atom_site_fract_y\n_atom_site_fract_z\nNi Ni 0 0 0\nO O 0.5 0.5 0.5\n")
    (tmp_path / "m.yaml").write_text(yaml_text)
    code, _, err = _run(capsys, "diffraction", "reflections", str(cif), "--magnetic",
                        str(tmp_path / "m.yaml"), "--out", str(tmp_path / "o"), *extra)
    assert code == 2 and err.count("\n") == 1 and message in err
