"""Column-ASCII and INX variants seen in the wild (synthetic files written in the test)."""

import numpy as np
import pytest

from latdyn.data.io import detect_format, load, read_ascii_columns, read_inx


def test_ascii_blocks_with_q_headers_and_micro_ev(tmp_path):
    e_uev = np.linspace(-100, 100, 11)
    text = "# energy (ueV)  intensity  error\n"
    for q in (0.9, 0.5, 0.7):
        text += f"# Q = {q}\n" + "".join(f"{e}, {q * 10 + e / 1000}, 0.01\n" for e in e_uev)
    path = tmp_path / "blocks.csv"
    path.write_text(text)
    loaded = read_ascii_columns(path)
    da = loaded.data
    assert da.dims == ("Q", "E")
    np.testing.assert_allclose(da.coords["Q"].values, [0.5, 0.7, 0.9])
    np.testing.assert_allclose(da.coords["E"].values, e_uev * 1e-3)
    np.testing.assert_allclose(da.values[0], 5 + e_uev / 1000)


def test_ascii_two_columns_no_errors_and_temperature_blocks(tmp_path):
    path = tmp_path / "t.dat"
    path.write_text("T = 10\n1 2\n2 3\nT = 20\n1 4\n2 5\n")
    da = read_ascii_columns(path).data
    assert da.dims == ("T", "E") and da.variances is None
    np.testing.assert_array_equal(da.values, [[2, 3], [4, 5]])


def test_ascii_decreasing_x_is_flipped(tmp_path):
    path = tmp_path / "d.dat"
    path.write_text("x y e\n3 1 0.1\n2 2 0.2\n1 3 0.3\n")
    da = read_ascii_columns(path).data
    np.testing.assert_array_equal(da.coords["E"].values, [1, 2, 3])
    np.testing.assert_array_equal(da.values, [3, 2, 1])


def _inx_block(par1, ei, energies, values):
    head = f"  {len(energies) + 3}    1    2    0    0    0    0  {len(energies)}\n"
    head += "title\n" + f" {par1:.4f}  {ei:.3f}  0.0  0.0 0 0\n  0.0 0.0 0.0\n"
    return head + "".join(f" {e:.5f} {v:.5e} {0.1:.4e}\n" for e, v in zip(energies, values, strict=True))


def test_inx_angle_groups_give_elastic_q(tmp_path):
    energies = np.linspace(-1, 1, 5)
    angles = [30.0, 60.0, 90.0]
    path = tmp_path / "a.inx"
    path.write_text("".join(_inx_block(a, 3.272, energies, np.ones(5)) for a in angles))
    assert detect_format(path) == "inx"
    loaded = load(path)
    da = loaded.data
    lam = loaded.meta["wavelength"]
    assert lam == pytest.approx(5.0, rel=1e-3)
    np.testing.assert_allclose(da.coords["Q"].values,
                               4 * np.pi * np.sin(np.deg2rad(angles) / 2) / lam)
    np.testing.assert_allclose(da.coords["two_theta"].values, angles)
    q_forced = read_inx(path, group_axis="Q").data
    np.testing.assert_allclose(q_forced.coords["Q"].values, angles)
