"""The library behind ``latdyn md``: one call per command gives the command's JSON, writes its
documented files, and the diffusion fit follows the FitResult protocol."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipp as sc

from latdyn.cli.main import main
from latdyn.cli.output import to_jsonable
from latdyn.errors import InputError
from latdyn.fileio import RESULT_MARKER
from latdyn.fitresult import FitResult, Quantity
from latdyn.md import (
    DiffusionFit,
    Trajectory,
    compute_msd,
    compute_van_hove,
    dos_from_trajectory,
    fit_diffusion,
    load_trajectory,
    msd_from_trajectory,
    sqw_from_trajectory,
    vanhove_from_trajectory,
)
from latdyn.md.compute import primitive_cell
from latdyn.md.trajectory import write_h5md


@pytest.fixture
def h5md_file(tmp_path, two_species_walk):
    positions, cell, symbols, velocities = two_species_walk
    return write_h5md(tmp_path / "walk.h5", positions, cell, symbols, 0.01, velocities)


def _cli_json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def _same(a, b, path="") -> None:
    """Equal JSON trees, floats to 1e-12 relative."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, a, b)
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-300), path
    else:
        assert a == b, path


def _python_json(result, folder) -> dict:
    files = result.write(folder)
    return to_jsonable({"title": result.title, "rows": result.rows(), **result.to_json(),
                        "results": str(files[0]), "report": str(files[-1])})


COMMANDS = {
    "sqw": (["--window", "8", "--q-max", "3", "--shells", "4", "--max-per-shell", "3",
             "--self-method", "direct", "--currents", "--time-window", "hann", "--temperature", "300"],
            sqw_from_trajectory, dict(window=8, q_max=3, shells=4, max_per_shell=3, self_method="direct",
                                      currents=True, time_window="hann", temperature=300, threads=2)),
    "msd": (["--window", "20", "--blocks", "3", "--fit-range", "0.05", "0.15"], msd_from_trajectory,
            dict(window=20, blocks=3, fit_range=(0.05, 0.15))),
    "vanhove": (["--lags", "0,5", "--bins", "20", "--origin-step", "5"], vanhove_from_trajectory,
                dict(lags=[0, 5], bins=20, origin_step=5, threads=2)),
    "dos": (["--window", "15", "--time-window", "hann"], dos_from_trajectory,
            dict(window=15, time_window="hann")),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_python_call_gives_the_commands_json(tmp_path, capsys, h5md_file, command):
    argv, call, kwargs = COMMANDS[command]
    cli, err = _cli_json(capsys, ["md", command, str(h5md_file), *argv, "--out", str(tmp_path / "c")])
    r = call(h5md_file, **kwargs)
    py = _python_json(r, tmp_path / "c")          # same folder: the file names match too
    _same(cli, py)
    assert err.count("latdyn: warning: ") == len(r.warnings())
    assert cli["units"] and all(" (" not in k for row in cli["rows"] for k in row)  # no units in keys


def test_sqw_along_a_path_in_python(tmp_path, h5md_file):
    r = sqw_from_trajectory(h5md_file, window=5, path=[[0, 0, 0], [1, 0, 0]], supercell=(4, 4, 4))
    assert [row["q"] for row in r.rows()][0] == 0.0 and len(r.rows()) == 5
    assert r.rows()[0]["F_inc"] == pytest.approx(1.0) and r.time == pytest.approx(0.03)
    with pytest.raises(InputError, match="supercell"):
        primitive_cell(np.eye(3), (4, 0, 4))


WRITTEN = {  # docs/md.md, "Files written by latdyn md"
    "sqw": ("md_sqw.h5", {"F_coh", "F_inc", "S_coh", "S_inc", "S_Q", "F_Li_O", "F_s_Li"},
            ("S_coh", "S_inc", "S_Q")),
    "msd": ("md_msd.h5", {"MSD_Li", "MSD_O"}, ("msd",)),
    "vanhove": ("md_vanhove.h5", {"G_s_Li", "G_s_O", "G_d_Li_O", "G_d_O_Li", "G_d_Li_Li"},
                ("G_self", "G_distinct")),
    "dos": ("md_dos.h5", {"g_total", "g_neutron", "g_Li", "g_O", "VACF_Li", "VACF_O"}, ("dos",)),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_write_gives_the_documented_files(tmp_path, h5md_file, command):
    _, call, kwargs = COMMANDS[command]
    name, keys, figures = WRITTEN[command]
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier_run.txt").write_text("replaced with the folder")
    (out / RESULT_MARKER).write_text("an earlier latdyn result")
    r = call(h5md_file, **kwargs)
    files = r.write(out)
    assert files == [out / name, out / "report.html"]
    assert sorted(p.name for p in out.iterdir()) == sorted([name, "report.html", "figures", RESULT_MARKER])
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        f"{f}.png" for f in figures)
    dg = sc.io.load_hdf5(out / name)
    assert keys <= set(dg.keys())
    assert set(dg.keys()) == set(r.arrays().keys())
    html = (out / "report.html").read_text()
    assert r.report_title in html and "walk.h5" in html          # provenance: the trajectory


def test_diffusion_fit_protocol_and_the_deprecated_tuples(random_walk):
    d_in, dt, box = 0.5, 0.01, 15.0
    pos = np.concatenate([random_walk(200, 40, box, np.sqrt(2 * d_in * dt), seed=5),
                          random_walk(200, 4, box, np.sqrt(2 * 0.1 * dt), seed=6)], axis=1)
    msd = compute_msd(Trajectory.from_arrays(pos, np.eye(3) * box, ["H"] * 40 + ["O"] * 4, dt), 60, 2)
    fit = fit_diffusion(msd, (0.1, 0.5), n_blocks=4)
    assert isinstance(fit, FitResult) and isinstance(fit, DiffusionFit) and fit.converged
    assert [p.name for p in fit.parameters] == ["D_H", "c_H", "D_O", "c_O"]
    assert {p.unit for p in fit.parameters} == {"angstrom**2/ps", "angstrom**2"}
    assert fit.n_varied == 4 and fit.n_points == 2 * 41
    assert fit.error_from == ("16 groups of atoms", "4 blocks of time origins (a lower bound)")
    cov = fit.covariance
    assert np.allclose(cov, cov.T) and np.allclose(np.sqrt(np.diag(cov)), [
        fit.diffusion_error[0], fit.intercept_error[0], fit.diffusion_error[1], fit.intercept_error[1]])
    assert cov[0, 2] == cov[1, 3] == 0.0                      # species fitted separately
    # the intercept: MSD - 6 D t averages to c over the fit range (least squares)
    sel = (msd.time >= 0.1) & (msd.time <= 0.5)
    for k, s in enumerate(fit.species):
        assert fit.intercept[k] == pytest.approx(np.mean(msd.msd[k, sel] - 6 * fit.diffusion[k]
                                                         * msd.time[sel]), abs=1e-12)
        line = 6 * fit.diffusion[k] * msd.time[sel] + fit.intercept[k]
        assert np.allclose(fit.line(s, msd.time[sel]), line)
    q = fit.coefficient("H")
    assert isinstance(q, Quantity) and q.unit == "angstrom**2/ps" and abs(q.value - d_in) < 4 * q.error
    assert q.to("cm**2/s").value == pytest.approx(1e-4 * q.value, rel=1e-12)   # 1 A^2/ps = 1e-4 cm^2/s
    assert fit.derived["D_H"] == q
    chi2 = sum(np.sum((msd.msd[k, sel] - fit.line(s, msd.time[sel])) ** 2) for k, s in enumerate(fit.species))
    assert fit.chi2 == pytest.approx(chi2, rel=1e-10) and fit.aic == pytest.approx(chi2 + 8)
    with pytest.warns(DeprecationWarning, match="deprecated"):
        d, err = fit["H"]
    assert (d, err) == (q.value, q.error)
    with pytest.warns(DeprecationWarning):
        assert dict(fit.items()) == {s: (fit.diffusion[k], fit.diffusion_error[k])
                                     for k, s in enumerate(fit.species)}
    with pytest.raises(InputError, match="no species 'Li'"):
        fit.coefficient("Li")
    json.dumps(fit.to_json(), allow_nan=False)


def test_a_decreasing_msd_is_flagged():
    """Atoms vibrating with period 2 ps: MSD = A^2 (1 - cos wt) falls between 1 and 2 ps, so a
    fit there gives D < 0, which is flagged instead of reported as a diffusion coefficient."""
    t = np.arange(400) * 0.05
    phase = np.random.default_rng(1).uniform(0, 2 * np.pi, 8)
    pos = np.zeros((400, 8, 3))
    pos[:, :, 0] = 5.0 + 0.3 * np.sin(np.pi * t[:, None] + phase[None, :])
    msd = compute_msd(Trajectory.from_arrays(pos, np.eye(3) * 20, ["Ar"] * 8, 0.05), 40, 5)
    fit = fit_diffusion(msd, (1.1, 1.9))
    assert fit.diffusion[0] < -2 * fit.diffusion_error[0]
    assert len(fit.flags()) == 1 and "D_Ar" in fit.flags()[0] and "is negative" in fit.flags()[0]
    assert fit_diffusion(msd, (0.1, 0.9)).flags() == []          # the rising half: no flag


def test_van_hove_moments_and_total_distinct_part():
    rng = np.random.default_rng(2)
    box = 14.0
    pos = rng.uniform(0, box, (3, 400, 3))
    traj = Trajectory.from_arrays(pos, np.eye(3) * box, ["O"] * 300 + ["H"] * 100, dt=0.01)
    res = compute_van_hove(traj, lags=[0, 1], r_max=6.0, n_bins=12, origin_step=1, max_origins=2)
    assert np.allclose(res.shell_volumes, 4 / 3 * np.pi * np.diff(res.r_edges**3))
    fraction, r2 = res.self_displacements()
    assert np.allclose(fraction[:, 0], 1.0) and np.allclose(r2[:, 0], res.r[0] ** 2)
    total = res.total_distinct()
    assert np.allclose(total, 0.25 * res.g_distinct[0].sum(axis=0) + 0.75 * res.g_distinct[1].sum(axis=0))
    assert res.number_density == pytest.approx(400 / box**3)
    assert np.allclose(total[:, res.r > 2.0], res.number_density, rtol=0.1)   # uncorrelated: -> N/V
    res_self = compute_van_hove(traj, lags=[0], r_max=6.0, n_bins=4, distinct=False, max_origins=1)
    with pytest.raises(InputError, match="distinct part was not computed"):
        res_self.total_distinct()


def test_dos_result_reports_partials_that_miss_states(h5md_file):
    r = dos_from_trajectory(h5md_file, window=15)
    assert any("instead of 3" in w for w in r.warnings())
    assert r.to_json()["warnings"] == r.warnings()
    rows = r.rows()
    assert [row["species"] for row in rows] == ["Li", "O"]
    assert rows[0]["<E>"] == r.dos.moment(1.0, "Li") and math.isfinite(rows[1]["<v^2>"])


def test_load_trajectory_refuses_options_for_an_open_trajectory(two_species_walk, h5md_file):
    positions, cell, symbols, _ = two_species_walk
    traj = Trajectory.from_arrays(positions, cell, symbols, 0.01)
    assert load_trajectory(traj) is traj
    with pytest.raises(InputError, match="open Trajectory"):
        load_trajectory(traj, dt=0.02)
    assert load_trajectory(h5md_file, frame_step=2).dt == pytest.approx(0.02)
    r = msd_from_trajectory(traj, window=20, blocks=3)
    assert r.run.inputs == [] and r.run.n_atoms == 48
