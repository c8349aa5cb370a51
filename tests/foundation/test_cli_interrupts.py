"""Interrupted and concurrent runs of the ``latdyn`` command (issue 22).

* Ctrl-C (SIGINT) or SIGTERM at random moments of ``latdyn qens fit`` leaves the output folder
  either as the previous run left it or as the new run writes it, never a mixture, and no
  temporary file; the command prints one line and exits 130 (SIGINT) or 143 (SIGTERM).
* Ctrl-C while the command starts (imports) prints one line, never a traceback.
* Four concurrent runs into one ``--out`` end in one consistent folder; the others are
  refused with a clear message.
* A bad ``--out`` is refused before anything is read or computed.

The moments are drawn with a fixed seed over the duration of a reference run measured in the
same test, so they fall in the start-up, the fits and the writing of the results alike.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[2] / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"}


def _latdyn(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from latdyn.cli.main import main; sys.exit(main())",
            *args]


@pytest.fixture(scope="module")
def qens_files(tmp_path_factory):
    """A small synthetic QENS measurement (3 Q groups, 80 energies): elastic line plus a
    Lorentzian of HWHM 0.1 Q^2 meV convolved with a Gaussian resolution, Poisson noise."""
    from latdyn.data import make_sqe
    from latdyn.data.io import write_mantid_nexus

    root = tmp_path_factory.mktemp("qens")
    rng = np.random.default_rng(1)
    q = np.array([0.5, 0.8, 1.1])
    e = np.linspace(-1, 1, 81)
    ec = 0.5 * (e[1:] + e[:-1])
    res = np.exp(-ec**2 / (2 * 0.03**2))
    res /= res.sum()
    gam = 0.1 * q[:, None] ** 2
    lor = gam / np.pi / (ec**2 + gam**2) * (ec[1] - ec[0])
    model = np.array([0.4 * res + 0.6 * np.convolve(lor[i], res, mode="same") for i in range(3)])
    counts = rng.poisson(3000 * model + 1).astype(float) + 1
    write_mantid_nexus(root / "sample.nxs", make_sqe(q, e, counts, np.sqrt(counts)),
                       metadata={"S(Q,E)": {"sample_temperature": 300.0}})
    rcounts = rng.poisson(2000 * np.tile(res, (3, 1)) + 1).astype(float) + 1
    write_mantid_nexus(root / "res.nxs", make_sqe(q, e, rcounts, np.sqrt(rcounts)))
    return root


def _fit_args(files: Path, out: Path, lorentzians: str) -> list[str]:
    return _latdyn("qens", "fit", str(files / "sample.nxs"), "--resolution", str(files / "res.nxs"),
                   "--lorentzians", lorentzians, "--no-global", "--diffusion", "fick",
                   "--out", str(out))


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def _new_run_complete(out: Path, previous: dict[str, bytes]) -> bool:
    """The folder holds a complete 2-Lorentzian run and nothing of the 1-Lorentzian one."""
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    return ("fit_perq_2L.h5" in names and "fit_perq_1L.h5" not in names
            and {"report.html", "results.h5", "perq.csv"} <= names
            and not any(n in previous and (out / n).read_bytes() == previous[n]
                        for n in ("results.h5", "report.html")))


def test_interrupts_leave_previous_or_new_folder(qens_files, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    pristine = tmp_path / "pristine"
    t0 = time.monotonic()
    r = subprocess.run(_fit_args(qens_files, pristine, "1"), env=ENV, capture_output=True,
                       text=True, timeout=300)
    reference = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    previous = _tree(pristine)
    rng = np.random.default_rng(22)
    moments = list(rng.uniform(0.02, 1.0, 4) * reference) + [0.9 * reference, 0.97 * reference]
    seen = {"previous": 0, "new": 0}
    for k, moment in enumerate(moments):
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(pristine, out)
        sig = signal.SIGINT if k % 2 == 0 else signal.SIGTERM
        proc = subprocess.Popen(_fit_args(qens_files, out, "2"), env=ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(moment)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=300)
        expected = 130 if sig == signal.SIGINT else 143
        assert "Traceback" not in stderr, stderr
        assert proc.returncode in (0, expected, -sig), (k, moment, proc.returncode, stderr)
        if proc.returncode == expected:
            assert stderr.strip().splitlines()[-1] in ("latdyn: interrupted", "latdyn: terminated")
        assert _leftovers(work, "out") == [], (k, moment, _leftovers(work, "out"))
        if _tree(out) == previous:
            seen["previous"] += 1
        else:
            assert _new_run_complete(out, previous), (k, moment, sorted(_tree(out)))
            seen["new"] += 1
    assert seen["previous"] >= 1


def test_ctrl_c_during_start_up_prints_one_line(tmp_path):
    """SIGINT in the first moments (imports of the command groups, reading the file).

    The interpreter's own start-up (site, about 30 ms before any latdyn code runs) is outside
    the package's reach: a SIGINT there ends in Python's traceback of site or importlib
    frames.  Such a traceback must not pass through latdyn's code."""
    data = tmp_path / "x.dat"
    data.write_text("0 1 0.1\n1 2 0.1\n2 3 0.1\n")
    rng = np.random.default_rng(7)
    for moment in rng.uniform(0.0, 0.6, 10):
        proc = subprocess.Popen(_latdyn("info", str(data)), env=ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(moment)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        if "Traceback" in stderr:
            assert "latdyn" not in stderr, (moment, stderr)
            continue
        assert proc.returncode in (0, 130, -signal.SIGINT), (moment, proc.returncode, stderr)
        if proc.returncode == 130:
            assert stderr.strip() == "latdyn: interrupted"


def test_four_concurrent_runs_end_in_one_consistent_folder(qens_files, tmp_path):
    out = tmp_path / "out"
    procs = [subprocess.Popen(_fit_args(qens_files, out, n), env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in ("1", "2", "1", "2")]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    for code, stderr in results:
        assert "Traceback" not in stderr, stderr
        assert code == 0 or (code == 2 and "another latdyn run is writing this output folder"
                             in stderr), (code, stderr)
    assert any(code == 0 for code, _ in results)
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    fits = {n for n in names if n.startswith("fit_perq_")}
    assert len(fits) == 1, names
    n = fits.pop()[len("fit_perq_"):-len("L.h5")]
    import h5py

    with h5py.File(out / "results.h5", "r") as fh:
        command = fh["provenance"].attrs["command_line"]
        model = json.loads(fh["model"][()])
    assert list(model["per_q"]) == [n]
    assert f"--lorentzians {n}" in command
    assert _leftovers(tmp_path, "out") == []


def test_bad_out_is_refused_before_reading(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    for out in (blocker, blocker / "below"):
        r = subprocess.run(_latdyn("qens", "fit", str(tmp_path / "missing.nxs"), "--resolution",
                                   str(tmp_path / "missing.nxs"), "--out", str(out)),
                           env=ENV, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "file" in lines[0] and "missing.nxs" not in lines[0], r.stderr
