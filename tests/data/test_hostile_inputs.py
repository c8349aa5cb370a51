"""The cases of issue 22 one by one: each silent wrong result is now an error or a reported
opt-in, each traceback a one-line LatdynError naming the file, each hang or memory blow-up a
quick refusal."""

from __future__ import annotations

import io
import os
import shutil
import signal
from contextlib import redirect_stderr, redirect_stdout

import h5py
import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.data import make_sqe
from latdyn.data.io import (
    load,
    read_ascii_columns,
    read_dave_grp,
    read_inx,
    read_lamp_hdf,
    read_mantid_nexus,
    read_results_h5,
    write_mantid_nexus,
    write_results_h5,
)
from latdyn.data.io.results_h5 import Results
from latdyn.errors import FormatError, InputError, LatdynError

QENS = "qens"


@pytest.fixture(autouse=True)
def _alarm():
    """A hang fails the test instead of blocking the suite."""
    old = signal.signal(signal.SIGALRM, lambda *a: pytest.fail("timed out (a hang)"))
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def _expect(exc, func, path, *fragments, **kwargs):
    with pytest.raises(exc) as info:
        func(path, **kwargs)
    msg = str(info.value)
    assert str(path) in msg, msg
    for f in fragments:
        assert f in msg, msg
    return msg


def _lamp(shared_data, tmp_path, name="x.hdf"):
    path = tmp_path / name
    shutil.copy(shared_data / QENS / "in5_water" / "H2O_293K_5A.hdf", path)
    return path


def _set_parameter(path, name, value):
    with h5py.File(path, "a") as fh:
        ds = fh["entry1/data1/PARAMETERS"]
        text = ds[()]
        text = text.decode() if isinstance(text, bytes) else str(np.asarray(text).ravel()[0].decode())
        lines = [f"{ln.rpartition('=')[0]}= {value}" if name in ln and "=" in ln else ln
                 for ln in text.splitlines()]
        del fh["entry1/data1/PARAMETERS"]
        fh["entry1/data1/PARAMETERS"] = np.bytes_("\n".join(lines))


# --- silent wrong results -------------------------------------------------------------------------
def test_lamp_negative_error_is_an_error_or_a_counted_mask(shared_data, tmp_path):
    path = _lamp(shared_data, tmp_path)
    with h5py.File(path, "a") as fh:
        fh["entry1/data1/errors"][3, 80] = -5.0
        fh["entry1/data1/errors"][4, 81] = 0.0
    msg = _expect(FormatError, read_lamp_hdf, path, "entry1/data1/DATA (errors)", "2 point(s)")
    assert "bad_errors='mask'" in msg
    loaded = load(path, bad_errors="mask")
    assert loaded.meta["masked_bad_errors"] == 2
    assert loaded.data.masks["bad_errors"].values[3, 80] and loaded.data.masks["bad_errors"].values[4, 81]
    code, _, err = _cli("info", path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(path) in err


def test_zero_count_bins_stay_and_are_counted(tmp_path):
    q, e = np.array([0.5, 1.0]), np.linspace(-1, 1, 11)
    values, errors = np.ones((2, 10)), 0.1 * np.ones((2, 10))
    values[0, 3] = errors[0, 3] = 0.0
    path = write_mantid_nexus(tmp_path / "z.nxs", make_sqe(q, e, values, errors))
    loaded = read_mantid_nexus(path)
    assert loaded.meta["zero_count_points"] == 1 and not loaded.data.masks


def test_latdyn_tables_may_hold_zero_errors_other_files_not(tmp_path):
    """A DOS written by latdyn carries sigma = 0 where it is a model (extrapolation)."""
    from latdyn.data import make_spectrum
    from latdyn.data.io import write_csv

    e = np.linspace(0, 10, 11)
    path = write_csv(tmp_path / "dos.csv", make_spectrum(e, 1 + e, np.where(e < 3, 0.0, 0.1)))
    loaded = read_ascii_columns(path)
    assert loaded.meta["zero_error_points"] == 3 and not loaded.data.masks
    plain = tmp_path / "plain.dat"
    plain.write_text(path.read_text().split("\n", 1)[1].replace(",", " "))
    _expect(FormatError, read_ascii_columns, plain, "3 point(s)")


def test_mantid_nan_without_masked_bins_gives_a_bool_mask(tmp_path):
    q, e = np.array([0.5, 1.0]), np.linspace(-1, 1, 11)
    values, errors = np.ones((2, 10)), 0.1 * np.ones((2, 10))
    values[1, 2], errors[1, 2] = np.nan, np.nan
    values[0, 7] = np.inf
    path = write_mantid_nexus(tmp_path / "n.nxs", make_sqe(q, e, np.nan_to_num(values),
                                                           np.nan_to_num(errors)))
    with h5py.File(path, "a") as fh:
        fh["mantid_workspace_1/workspace/values"][...] = values
        fh["mantid_workspace_1/workspace/errors"][...] = errors
    da = read_mantid_nexus(path).data
    mask = da.masks["not_measured"]
    assert mask.dtype == "bool" and mask.values.sum() == 2 and "masked_bins" not in da.masks
    code, _, err = _cli("convert", path, tmp_path / "n.h5")
    assert code == 0, err
    back = read_results_h5(tmp_path / "n.h5").data
    assert next(iter(back.values())).masks["not_measured"].dtype == "bool"


def test_mantid_three_element_masked_spectra(tmp_path):
    q, e = np.array([0.5, 1.0]), np.linspace(-1, 1, 11)
    path = write_mantid_nexus(tmp_path / "m.nxs", make_sqe(q, e, np.ones((2, 10)), np.ones((2, 10))))
    with h5py.File(path, "a") as fh:
        ws = fh["mantid_workspace_1/workspace"]
        ws["masked_spectra"] = np.array([0, 0, 1], dtype=np.int32)
        ws["masked_bins"] = np.array([1, 2], dtype=np.uint64)
    _expect(FormatError, read_mantid_nexus, path, "masked_spectra")


def test_zero_length_arrays_are_refused(shared_data, tmp_path):
    path = _lamp(shared_data, tmp_path)
    with h5py.File(path, "a") as fh:
        for name in ("DATA", "errors"):
            del fh[f"entry1/data1/{name}"]
            fh[f"entry1/data1/{name}"] = np.zeros((0, 160))
        del fh["entry1/data1/Y"]
        fh["entry1/data1/Y"] = np.zeros(0)
    _expect(FormatError, load, path, "zero")


def test_wavelength_and_temperature(shared_data, tmp_path):
    path = _lamp(shared_data, tmp_path, "w.hdf")
    _set_parameter(path, "wavelength", "inf")
    _expect(FormatError, read_lamp_hdf, path, "wavelength")
    path = _lamp(shared_data, tmp_path, "t.hdf")
    _set_parameter(path, "temperature", "nan")
    loaded = read_lamp_hdf(path)
    assert "sample_temperature" not in loaded.meta
    assert any("temperature" in n for n in loaded.meta["notes"])
    code, out, _ = _cli("info", path)
    assert code == 0 and "temperature" in out


def test_fixed_energy_above_1_ev_is_refused_unless_allowed(tmp_path):
    q, e = np.array([0.5, 1.0]), np.linspace(-1, 1, 11)
    path = write_mantid_nexus(tmp_path / "ef.nxs", make_sqe(q, e, np.ones((2, 10)), np.ones((2, 10))))
    with h5py.File(path, "a") as fh:
        log = fh.create_group("mantid_workspace_1/logs/Ei")
        log["value"] = np.array([1e30])
    _expect(FormatError, read_mantid_nexus, path, "incident_energy", "sample log 'Ei'")
    with h5py.File(path, "a") as fh:
        fh["mantid_workspace_1/logs/Ei/value"][...] = [-2.08]
    _expect(FormatError, load, path, "incident_energy")
    with h5py.File(path, "a") as fh:
        fh["mantid_workspace_1/logs/Ei/value"][...] = [2500.0]
    assert read_mantid_nexus(path, max_fixed_energy=3000.0).meta["incident_energy"] == 2500.0


def test_dave_decimal_commas(shared_data, tmp_path):
    path = tmp_path / "comma.grp"
    lines = (shared_data / QENS / "dave" / "dave_file.grp").read_text().splitlines()
    lines[616] = lines[616].replace(".", ",")
    path.write_text("\n".join(lines) + "\n")
    _expect(FormatError, read_dave_grp, path, "decimal commas", "line 617")


def test_ascii_bom_keeps_every_row_and_a_stray_line_is_an_error(shared_data, tmp_path):
    src = shared_data / QENS / "iris_graphite" / "irf_iris.dat"
    ref = read_ascii_columns(src).data
    bom = tmp_path / "bom.dat"
    bom.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    assert read_ascii_columns(bom).data.sizes == ref.sizes
    lines = src.read_text().splitlines()
    lines[50] = lines[50].replace("e", "x", 1) if "e" in lines[50] else "1.0 2.O 0.1"
    stray = tmp_path / "stray.dat"
    stray.write_text("\n".join(lines) + "\n")
    _expect(FormatError, read_ascii_columns, stray, "line 51")
    commas = tmp_path / "commas.dat"
    commas.write_text("0,1 2,5 0,1\n0,2 2,6 0,1\n0,3 2,7 0,1\n")
    _expect(FormatError, read_ascii_columns, commas, "decimal commas")


def test_inx_truncated_inside_the_last_line(shared_data, tmp_path):
    src = shared_data / QENS / "toftof_bzi" / "Vana_2p5_cool__tt_cr.txt"
    raw = src.read_bytes()
    cut = tmp_path / "cut.inx"
    cut.write_bytes(raw[: len(raw) - 12])
    _expect(FormatError, read_inx, cut, "truncated", bad_errors="mask")
    lines = raw.decode().splitlines()
    lines[0] = lines[0].replace("209", "100", 1)
    over = tmp_path / "over.inx"
    over.write_text("\n".join(lines) + "\n")
    _expect(FormatError, read_inx, over, "line 1", "channels", bad_errors="mask")


def test_space_group_number_zero(tmp_path):
    from latdyn.structure.cif import read_cif

    path = tmp_path / "zero.cif"
    path.write_text("data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
                    "_space_group_IT_number 0\nloop_\n_atom_site_label\n_atom_site_fract_x\n"
                    "_atom_site_fract_y\n_atom_site_fract_z\nNa1 0 0 0\n")
    _expect(FormatError, read_cif, path, "_space_group_IT_number", "1 to 230")


# --- tracebacks that are now one-line errors ---------------------------------------------------
def test_damaged_results_files(tmp_path):
    q, e = np.array([0.5, 1.0]), np.linspace(-1, 1, 11)
    good = write_results_h5(tmp_path / "r.h5", Results(data={"d": make_sqe(q, e, np.ones((2, 10)))}))

    def damaged(name, edit):
        path = tmp_path / f"{name}.h5"
        shutil.copy(good, path)
        with h5py.File(path, "a") as fh:
            edit(fh)
        return path

    cases = {
        "no_data": (lambda fh: fh.__delitem__("data"), "/data"),
        "no_tables": (lambda fh: fh.__delitem__("tables"), "/tables"),
        "no_provenance": (lambda fh: fh.__delitem__("provenance"), "/provenance"),
        "bad_dims": (lambda fh: fh["data/0"].attrs.__setitem__("dims", "[Q, E"), "dims"),
        "text_version": (lambda fh: fh.attrs.__setitem__("format_version", "one"), "format_version"),
        "bad_dtype": (lambda fh: fh["data/0"].attrs.__setitem__("dtype", "complex1024"), "dtype"),
        "bad_unit": (lambda fh: fh["data/0"].attrs.__setitem__("unit", "furlong/fortnight^x"), "unit"),
    }
    for name, (edit, fragment) in cases.items():
        path = damaged(name, edit)
        _expect(FormatError, read_results_h5, path, fragment)
        _expect(FormatError, load, path)


def test_non_utf8_bytes_in_text_inputs(shared_data, tmp_path):
    from latdyn.phonons.phonopy_io import load_phonopy
    from latdyn.structure.cif import read_cif

    nacl = shared_data / "phonopy" / "NaCl"
    for name in ("phonopy_nacl.yaml", "FORCE_CONSTANTS_nacl", "BORN_nacl"):
        shutil.copy(nacl / name, tmp_path / name)
    yaml_path = tmp_path / "phonopy_nacl.yaml"
    yaml_path.write_bytes(b"# r\xe9sum\xe9 \xff\n" + yaml_path.read_bytes())
    born = tmp_path / "BORN_nacl"
    born.write_bytes(born.read_bytes() + b"# \xe9\n")
    with pytest.warns(Warning):
        model = load_phonopy(yaml_path, force_constants=tmp_path / "FORCE_CONSTANTS_nacl", born=born)
    assert np.all(np.isfinite(model.dynamical_matrices(np.array([[0.1, 0.2, 0.3]]))))
    cif = tmp_path / "x.cif"
    cif.write_bytes(b"data_x\n_journal_name 'Z. f\xfcr Kristallographie'\n_cell_length_a 5.64\n"
                    b"_cell_length_b 5.64\n_cell_length_c 5.64\n_space_group_IT_number 225\n"
                    b"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n"
                    b"_atom_site_fract_z\nNa1 0 0 0\nCl1 0.5 0.5 0.5\n")
    assert len(read_cif(cif).atoms) == 8


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d.__setitem__("primitive_matrix", "abc"), "primitive_matrix"),
    (lambda d: d.__setitem__("dielectric_constant", [1.0, 2.0]), "dielectric"),
    (lambda d: d["born_effective_charge"][0].__setitem__(0, [1.0, 0.0]), "born_effective_charge"),
    (lambda d: d["force_constants"]["elements"][3][1].__setitem__(1, float("nan")), "force constants"),
    (lambda d: d.__setitem__("supercell_matrix", [[1000, 0, 0], [0, 1000, 0], [0, 0, 1000]]),
     "supercell_matrix"),
    (lambda d: d.__setitem__("physical_unit", "eV"), "physical_unit"),
])
def test_phonopy_yaml_values(shared_data, tmp_path, edit, fragment):
    import yaml

    from latdyn.phonons.phonopy_io import load_phonopy

    data = yaml.load((shared_data / "phonopy" / "NaCl" / "phonopy_nacl.yaml").read_text(),
                     Loader=yaml.CSafeLoader)
    edit(data)
    path = tmp_path / "phonopy.yaml"
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper))
    msg = _expect(FormatError, load_phonopy, path, fragment)
    assert "\n" not in msg


def test_phonopy_yaml_alias_bomb(shared_data, tmp_path):
    from latdyn.phonons.phonopy_io import load_phonopy

    bomb = ['lol0: &a0 ["l","l","l","l","l","l","l","l","l"]']
    bomb += [f"lol{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 10)]
    path = tmp_path / "phonopy.yaml"
    path.write_text("\n".join(bomb) + "\n"
                    + (shared_data / "phonopy" / "NaCl" / "phonopy_nacl.yaml").read_text())
    _expect(FormatError, load_phonopy, path, "aliases")


def test_extxyz_huge_atom_count(tmp_path):
    from latdyn.md.trajectory import open_trajectory

    path = tmp_path / "t.extxyz"
    path.write_text('1000000000\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\n'
                    "Li 0 0 0\nLi 1 1 1\n")
    _expect(FormatError, open_trajectory, path, "1000000000 atoms", dt=0.01)


def test_huge_declared_dataset_is_refused_before_reading(shared_data, tmp_path):
    path = _lamp(shared_data, tmp_path)
    with h5py.File(path, "a") as fh:
        del fh["entry1/data1/errors"]
        fh.create_dataset("entry1/data1/errors", shape=(10**6, 10**6), dtype=float,
                          chunks=(1000, 1000))
    assert path.stat().st_size < 200_000
    _expect(FormatError, read_lamp_hdf, path, "entry1/data1/errors", "memory")
    with h5py.File(path, "a") as fh:
        del fh["entry1/data1/errors"]
        fh.create_dataset("entry1/data1/errors", shape=(17, 160), dtype=float, chunks=(1, 160))
    _expect(FormatError, read_lamp_hdf, path, "entry1/data1/errors", "stores 0 bytes")


def test_special_files(tmp_path):
    fifo = tmp_path / "pipe.hdf"
    os.mkfifo(fifo)
    _expect(InputError, load, fifo, "FIFO")
    loop = tmp_path / "loop.dat"
    loop.symlink_to(loop.name)
    _expect(InputError, load, loop, "symbolic link loop")
    code, _, err = _cli("info", loop)
    assert code == 2 and "symbolic link loop" in err and len(err.strip().splitlines()) == 1


# --- terminal output -----------------------------------------------------------------------------
def test_info_prints_markup_and_long_titles_literally(shared_data, tmp_path):
    src = (shared_data / QENS / "toftof_bzi" / "Vana_2p5_cool__tt_cr.txt").read_text().splitlines()
    src[1] = "[/bold] lysozyme [b]in D2O[/b] :smile: " + "x" * 100_000
    path = tmp_path / "markup.inx"
    path.write_text("\n".join(src) + "\n")
    loaded = read_inx(path, bad_errors="mask")
    assert loaded.meta["title"].startswith("[/bold] lysozyme [b]in D2O[/b] :smile:")
    code, out, err = _cli("info", path, "--format", "inx")
    assert code == 2 and "bad_errors" in err
    lines = src[:]
    for k, ln in enumerate(lines):
        parts = ln.split()
        if len(parts) == 3 and parts[2] in ("0.0000e+00",):
            lines[k] = f"{parts[0]} {parts[1]} 1.0e-03"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = _cli("info", path)
    assert code == 0, err
    assert "[/bold] lysozyme [b]in D2O[/b] :smile:" in out
    assert "(100039 characters; --json" in out and len(out) < 20_000


def test_errors_name_the_file(tmp_path):
    """Every reader error names the file, also for checks deep inside (here E_i < 0)."""
    path = tmp_path / "neg.inx"
    block = ["   23 1 2 0 0 0 0 20", "t", "  0.5 -2.08 1.0 0 0 0", " 0 4 0"]
    block += [f"  {x:.4f} 1.0 0.1" for x in np.linspace(-1, 1, 20)]
    path.write_text("\n".join(block) + "\n")
    with pytest.raises(LatdynError) as info:
        load(path)
    assert str(path) in str(info.value)
