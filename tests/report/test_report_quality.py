"""Report quality: one number formatter, the report check, figure formats, linked large figures,
file modes under the user's umask, and the demo and a QENS fit report passing the check."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from latdyn.report import Report, check_html, check_report, format_number, format_value_error, new_figure
from latdyn.report.numbers import format_cell, round_to_error


# --- the one number formatter --------------------------------------------------------------
@pytest.mark.parametrize(("value", "error", "text"), [
    (0.20942, 0.00034, "0.20942 ± 0.00034"),
    (2.85004, 0.00191976, "2.8500 ± 0.0019"),
    (12345.6, 230.0, "12350 ± 230"),
    (3.0, 0.0995, "3.00 ± 0.10"),            # the error rounds up to a new decade
    (-1.33201, 0.5, "-1.33 ± 0.50"),
    (0.000296281, 1e-5, "(2.96 ± 0.10)e-04"),
    (5.8e8, 2.6e20, "(0.0 ± 2.6)e+20"),      # an error far above the value stays visible
    (1.0, 0.0, "1"),                          # a fixed parameter: no '± 0.000'
    (0.21, float("nan"), "0.21 (error undetermined)"),
    (0.23, None, "0.23"),
])
def test_value_error_is_rounded_to_two_digits_of_the_error(value, error, text):
    assert format_value_error(value, error) == text


@pytest.mark.parametrize(("value", "text"), [
    (52.9603, "52.96"), (0.000296281, "0.0002963"), (1455.59, "1456"), (24.0, "24"),
    (-0.995595, "-0.9956"), (1e7, "1.000e+07"), (3, "3"), (np.int64(5), "5"), (np.float32(0.5), "0.5"),
])
def test_numbers_without_error_get_four_significant_digits(value, text):
    assert format_number(value) == text


def test_cells_never_print_none_nan_or_nothing():
    assert {format_cell(v) for v in (None, float("nan"), "", "  ")} == {"—"}
    assert format_cell(True) == "yes" and format_cell(np.bool_(False)) == "no"


def test_round_to_error_value_and_error_share_the_last_digit():
    rng = np.random.default_rng(3)
    for v, e in zip(rng.normal(0, 100, 200) * 10.0 ** rng.integers(-3, 4, 200),
                    rng.uniform(0.01, 10, 200) * 10.0 ** rng.integers(-3, 4, 200), strict=True):
        tv, te, suffix = round_to_error(v, e)
        assert len((te if "." in te else te.rstrip("0")).replace(".", "").lstrip("0")) <= 2
        assert len(tv.partition(".")[2]) == len(te.partition(".")[2])
        scale = 10.0 ** int(suffix[1:]) if suffix else 1.0
        last = 10.0 ** -len(te.partition(".")[2]) if "." in te else 10.0 ** (len(te) - len(te.rstrip("0")))
        assert abs(float(tv) - v / scale) <= 0.51 * last
        assert float(te) * scale == pytest.approx(e, rel=0.05)


def test_cli_tables_use_the_same_formatter(capsys):
    from latdyn.cli.output import emit, print_result_lines

    emit([{"a": 52.9603, "b": None, "c": 0.000296281}], as_json=False, title="t")
    out = capsys.readouterr().out
    assert "52.96" in out and "0.0002963" in out and "None" not in out and "52.9603" not in out
    lines = print_result_lines({"source": "global fit", "quantities": {
        "D": {"value": 0.20942, "error": 0.00034, "unit": "Å²/ps"}}}, {"HWHM fit": {"quantities": {
            "D": {"value": 0.2, "error": 0.0, "unit": "Å²/ps"}}}})
    assert lines[0] == "result (global fit, converged): D = 0.20942 ± 0.00034 Å²/ps"
    assert lines[1].startswith("cross-check HWHM fit: D = 0.2 Å²/ps") and "± 0.0" not in lines[1]


# --- the report check ----------------------------------------------------------------------
def _report(tmp_path, build) -> Path:
    rep = Report("t", command="latdyn test")
    build(rep)
    return rep.write(tmp_path / "r" / "report.html")


def test_check_flags_each_kind_of_slip(tmp_path):
    def build(rep):
        rep.add_text(None, "D = 0.2 +- 0.000 and 52.9603 and tau 0.21 ± 0.0345 ps")
        rep.add_table("t", [{"a": "None", "b": "nan"}])
        rep.add_table("u", [{"a": "x", "b": "52.9603"}], columns=["a", "b"])
        fig, ax = new_figure()
        x = np.linspace(1, 2, 11)
        ax.plot(x, x, "o", label="data")
        xx = np.linspace(0, 3, 50)
        ax.plot(xx, xx, label="fit")
        rep.add_figure("f", fig, "")

    problems = check_report(_report(tmp_path, build))
    text = "\n".join(problems)
    assert "zero uncertainty" in text and "'52.9603'" in text
    assert "'0.21 ± 0.0345' is not rounded" in text
    assert "'None' printed" in text and "'nan' printed" in text
    assert "empty or missing caption" in text
    assert "curve 'fit' spans x = 0 to 3, the data 1 to 2" in text


def test_check_passes_a_clean_report_and_rounds_error_columns(tmp_path):
    def build(rep):
        rep.add_text(None, "D = 0.2094 ± 0.0034 Å²/ps at 1.798 Å, 2026, seed 20261125.")
        rep.add_table("fits", [{"T (K)": 300, "E0": 2.85004, "E0_err": 0.00191976, "n": None,
                                "ok": True, "x": 1455.59}])
        rep.add_parameters("p", {"D": (0.20942, 0.00034, "Å²/ps"), "chi2": (6.78379, None, "")})
        fig, ax = new_figure()
        x = np.linspace(1, 2, 11)
        ax.errorbar(x, x, 0.1 + 0 * x, fmt="o", label="data")
        ax.plot(x, x, label="fit")
        ax.axhline(1.5)                       # reference lines are not curves
        rep.add_figure("f", fig, "a caption")

    path = _report(tmp_path, build)
    assert check_report(path) == []
    html = path.read_text()
    assert 'data-error="0.0019">2.8500<' in html and ">1456<" in html and ">—<" in html


def test_unrounded_numbers_in_figure_free_html_are_found():
    assert check_html("<p>x = 1.23456</p>") and not check_html("<p>x = 1.235</p>")
    assert not check_html("<h2>Provenance</h2><table><tr><td>0.123456</td></tr></table>")


# --- figure formats and sizes ---------------------------------------------------------------
def test_figures_png_only_by_default_svg_on_request(tmp_path, monkeypatch):
    monkeypatch.delenv("LATDYN_FIGURE_FORMATS", raising=False)

    def build(rep):
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1])
        rep.add_figure("f", fig, "c")

    _report(tmp_path / "a", build)
    assert sorted(p.name for p in (tmp_path / "a" / "r" / "figures").iterdir()) == ["f.png"]
    monkeypatch.setenv("LATDYN_FIGURE_FORMATS", "png,svg")
    _report(tmp_path / "b", build)
    assert sorted(p.name for p in (tmp_path / "b" / "r" / "figures").iterdir()) == ["f.png", "f.svg"]
    monkeypatch.setenv("LATDYN_FIGURE_FORMATS", "pdf")
    from latdyn.errors import InputError
    with pytest.raises(InputError, match="LATDYN_FIGURE_FORMATS"):
        _report(tmp_path / "c", build)


def test_a_figure_over_one_megabyte_is_linked_not_embedded(tmp_path, monkeypatch):
    import latdyn.report.html as rh

    monkeypatch.setattr(rh, "EMBED_LIMIT", 1000)   # any real PNG is larger than 1 kB

    def build(rep):
        fig, ax = new_figure()
        ax.imshow(np.random.default_rng(0).random((50, 50)))
        rep.add_figure("big", fig, "noise")

    rep = Report("t")
    build(rep)
    path = rep.write(tmp_path / "report.html", figures=False)
    html = path.read_text()
    assert 'src="figures/big.png"' in html and "base64" not in html
    assert (tmp_path / "figures" / "big.png").stat().st_size > 1000


# --- file modes under the user's umask --------------------------------------------------------
def _modes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): oct(stat.S_IMODE(p.stat().st_mode))
            for p in sorted(folder.rglob("*"))}


def _expect_umask_022(folder: Path) -> None:
    modes = _modes(folder)
    assert modes
    bad = {k: m for k, m in modes.items()
           if m != ("0o755" if (folder / k).is_dir() else "0o644")}
    assert not bad, bad


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_qens_fit_folder_is_0644_under_umask_022_and_its_report_passes(tmp_path, umask_022):
    """Every file of a ``latdyn qens fit`` folder (report, figures, CSV, HDF5 built in memory)
    is 0644 (folders 0755) under umask 022, and its report passes the check: one headline
    result with the other fits as cross-checks."""
    from latdyn import lineshapes as ls
    from latdyn.cli.main import main
    from latdyn.data import make_sqe
    from latdyn.data.io import write_mantid_nexus
    from latdyn.units import HBAR_MEV_PS

    e, q = np.linspace(-1.0, 1.0, 121), np.linspace(0.5, 1.75, 6)
    r = 0.85 * ls.gaussian(e, 0.03) + 0.15 * ls.lorentzian(e, 0.03)
    rng = np.random.default_rng(0)
    lines = [0.4 * r + 0.6 * ls.voigt(e, 0.03, HBAR_MEV_PS * 0.15 * qq**2) + 0.02 for qq in q]
    c = rng.poisson(np.array(lines) * 3000.0).astype(float)
    s, v = tmp_path / "sample.nxs", tmp_path / "vana.nxs"
    write_mantid_nexus(s, make_sqe(q, e, c / 3000.0, np.sqrt(np.maximum(c, 1)) / 3000.0))
    res = np.tile(r, (q.size, 1))
    write_mantid_nexus(v, make_sqe(q, e, res, np.full_like(res, 1e-3 * r.max())))
    out = tmp_path / "out"
    assert main(["qens", "fit", str(s), "--resolution", str(v), "--lorentzians", "1", "--diffusion",
                 "fick", "--diffusion", "ss", "--temperature", "none", "--out", str(out), "--json"]) == 0
    _expect_umask_022(out)
    html = (out / "report.html").read_text()
    assert "<h3>Result</h3>" in html and "Cross-checks" in html
    assert check_report(out / "report.html") == []


@pytest.mark.slow
@pytest.mark.xdist_group("demo")    # one quick demo per run, shared with the browser test
def test_demo_output_is_small_0644_and_passes_the_report_check(demo_quick):
    """The quick demo (about 2 CPU-minutes; shared with the browser test's fixture when both
    run in one process): every file 0644 under umask 022, no SVGs, no figure over 1 MB
    embedded, the folder under 8 MB, and the report passes :func:`check_report`."""
    out = demo_quick.parent
    _expect_umask_022(out)
    assert not list(out.rglob("*.svg"))
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < 8e6, total
    html = demo_quick.read_text()
    for b64 in re.findall(r'src="data:image/png;base64,([^"]*)"', html):
        assert len(b64) * 3 / 4 <= 1_000_000
    assert "error sentence" not in html and "n/a:" not in html
    assert check_report(demo_quick) == []


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_every_writer_follows_the_umask(tmp_path, mask):
    """Text, bytes, HDF5 built in memory, h5py through atomic_path, figures, reports and whole
    result folders all get 0666 & ~umask (folders 0777 & ~umask), never mkstemp's 0600."""
    import h5py

    from latdyn.fileio import atomic_path, hdf5_writer, write_bytes_atomic, write_text_atomic
    from latdyn.report import save_figure
    from latdyn.report.folder import write_result_folder

    old = os.umask(mask)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        write_bytes_atomic(tmp_path / "b.bin", b"x")
        with hdf5_writer(tmp_path / "c.h5") as f:
            f["x"] = np.arange(3)
        with atomic_path(tmp_path / "d.h5") as tmp, h5py.File(tmp, "w") as f:
            f["x"] = np.arange(3)
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1], label="line")
        save_figure(fig, tmp_path / "e")
        rep = Report("t")
        rep.add_figure("g", fig, "caption")
        write_result_folder(tmp_path / "folder", {"t.csv": lambda p: write_text_atomic(p, "a,b\n")}, rep)
    finally:
        os.umask(old)
    modes = _modes(tmp_path)
    want_file, want_dir = oct(0o666 & ~mask), oct(0o777 & ~mask)
    assert {k: m for k, m in modes.items() if m != (want_dir if (tmp_path / k).is_dir() else want_file)} == {}
    assert {"a.txt", "c.h5", "d.h5", "e.png", "folder/report.html", "folder/figures/g.png",
            "folder/t.csv"} <= set(modes)
