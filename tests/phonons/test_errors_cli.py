"""Bad input gives clear latdyn errors; the CLI writes its files and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from latdyn.cli.main import main
from latdyn.errors import FormatError, InputError
from latdyn.phonons import load_phonopy
from latdyn.phonons.modes import calculate_modes


def _copy_yaml(nacl_dir, tmp_path, edit):
    d = yaml.safe_load((nacl_dir / "phonopy_nacl.yaml").read_text())
    edit(d)
    p = tmp_path / "phonopy.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_missing_force_constants(nacl_dir, tmp_path):
    p = _copy_yaml(nacl_dir, tmp_path, lambda d: d.pop("force_constants"))
    with pytest.raises(InputError, match="no force constants"):
        load_phonopy(p)


def test_supercell_block_disagrees(nacl_dir, tmp_path):
    def edit(d):
        d["supercell"]["points"][3]["coordinates"] = [0.1, 0.2, 0.3]
    with pytest.raises(FormatError, match="supercell"):
        load_phonopy(_copy_yaml(nacl_dir, tmp_path, edit))


def test_force_constants_for_another_supercell(nacl_dir, tmp_path):
    p = _copy_yaml(nacl_dir, tmp_path, lambda d: d.update(supercell_matrix=[[3, 0, 0], [0, 2, 0],
                                                                            [0, 0, 2]]))
    with pytest.raises(FormatError, match="supercell"):
        load_phonopy(p)


def test_force_constants_file_with_wrong_atom_count(nacl_dir, tmp_path):
    bad = tmp_path / "FORCE_CONSTANTS"
    lines = ["4 32"] + [f"{i + 1} {j + 1}\n1 0 0\n0 1 0\n0 0 1" for i in range(4) for j in range(32)]
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match="force constants"):
        load_phonopy(nacl_dir / "phonopy_nacl.yaml", force_constants=bad)


def test_born_file_with_wrong_atom_count(nacl_dir, tmp_path):
    born = tmp_path / "BORN"
    born.write_text("14.4\n2 0 0 0 2 0 0 0 2\n1 0 0 0 1 0 0 0 1\n-1 0 0 0 -1 0 0 0 -1\n"
                    "1 0 0 0 1 0 0 0 1\n")
    with pytest.raises(FormatError):
        load_phonopy(nacl_dir / "phonopy_nacl.yaml", born=born)


def test_born_file_equals_yaml_charges(nacl_dir):
    a = load_phonopy(nacl_dir / "phonopy_nacl.yaml", born=nacl_dir / "BORN_nacl")
    b = load_phonopy(nacl_dir / "phonopy_nacl.yaml")
    q = np.array([[0.1, 0.2, 0.3]])
    assert np.allclose(calculate_modes(a, q).energies, calculate_modes(b, q).energies)


def test_hdf5_and_text_force_constants_agree(nacl_dir):
    if not (nacl_dir / "FORCE_CONSTANTS_nacl").is_file():
        pytest.skip("the text FORCE_CONSTANTS file is only in the shared data (reference data "
                    f"../shared/data not found); {nacl_dir} has none")
    a = load_phonopy(nacl_dir / "phonopy_nacl.yaml", force_constants=nacl_dir / "force_constants.hdf5")
    b = load_phonopy(nacl_dir / "phonopy_nacl.yaml",
                     force_constants=nacl_dir / "FORCE_CONSTANTS_nacl")
    q = np.array([[0.1, 0.2, 0.3]])
    assert np.allclose(calculate_modes(a, q).energies, calculate_modes(b, q).energies, atol=1e-6)


@pytest.mark.parametrize("q", [np.zeros((4, 2)), np.zeros((2, 3, 3)), [[np.nan, 0, 0]], "abc"])
def test_qpoints_wrong_shape(nacl_model, q):
    with pytest.raises(InputError, match="q-points"):
        calculate_modes(nacl_model, q)


def test_isotope_changes_mass_and_frequencies(nacl_dir):
    a = load_phonopy(nacl_dir / "phonopy_nacl.yaml")
    b = load_phonopy(nacl_dir / "phonopy_nacl.yaml", isotopes={"Cl": "37Cl"})
    assert b.crystal.masses[-1] > a.crystal.masses[-1]
    q = np.array([[0.3, 0.1, 0.2]])
    assert calculate_modes(b, q).energies[0, -1] < calculate_modes(a, q).energies[0, -1]


def test_cli_modes_json(nacl_dir, capsys):
    assert main(["phonons", "modes", str(nacl_dir / "phonopy_nacl.yaml"), "--q", "0,0,0",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 24 and abs(rows[0]["E"]) < 1e-3


def test_cli_bad_q_exits_2(nacl_dir, capsys):
    assert main(["phonons", "modes", str(nacl_dir / "phonopy_nacl.yaml"), "--q", "0,0"]) == 2
    assert "--q" in capsys.readouterr().err


def test_cli_powder_and_dos_write_files(nacl_dir, tmp_path, capsys):
    out = tmp_path / "pow"
    assert main(["phonons", "powder", str(nacl_dir / "phonopy_nacl.yaml"), "--out", str(out),
                 "--qbins", "6", "--ebins", "20", "--npts", "20", "--fwhm", "1", "--dw-mesh", "3",
                 "--json"]) == 0
    assert (out / "sqe_powder.h5").is_file() and (out / "report.html").is_file()
    import scipp as sc

    da = sc.io.load_hdf5(out / "sqe_powder.h5")
    assert da.dims == ("Q", "E") and da.sizes == {"Q": 6, "E": 20}
    capsys.readouterr()
    out2 = tmp_path / "dos"
    assert main(["phonons", "dos", str(nacl_dir / "phonopy_nacl.yaml"), "--out", str(out2),
                 "--mesh", "4", "--fwhm", "0.5", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["rows"][0]["curve"] == "total"
    assert res["rows"][0]["integral"] == pytest.approx(res["expected_total"], rel=1e-3)
    assert (out2 / "dos_total.h5").is_file()


def test_cli_powder_with_instrument_resolution(nacl_dir, tmp_path, capsys):
    """--instrument broadens with the instrument's energy and |Q| resolution and masks what it
    cannot reach; the table reports the widths used."""
    import scipp as sc

    from latdyn.instruments import load_instrument

    out = tmp_path / "pow"
    args = ["phonons", "powder", str(nacl_dir / "phonopy_nacl.yaml"), "--out", str(out), "--npts", "20",
            "--qbins", "16", "--ebins", "40", "--emax", "30", "--dw-mesh", "0"]
    assert main(args + ["--instrument", "MARI", "--ei", "45", "--package", "S", "--frequency", "250",
                        "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    mari = load_instrument("MARI")
    assert info["instrument"]["elastic_fwhm"]["value"] == pytest.approx(
        mari.elastic_resolution(45.0, package="S", frequency=250.0))
    da = sc.io.load_hdf5(out / "sqe_powder.h5")
    mask = da.masks["outside_coverage"].values
    assert mask[0, -1] and not mask[8, 20]          # |Q| < 0.5 at 30 meV unreachable; 4 1/A, 14 meV seen
    assert main(args + ["--instrument", "MARI", "--ei", "45", "--fwhm", "1"]) == 2
    assert main(args + ["--instrument", "IRIS", "--ei", "45"]) == 2
    assert main(args + ["--instrument", "MARI", "--ei", "20"]) == 2
    assert "--emax" in capsys.readouterr().err
