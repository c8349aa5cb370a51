"""The gallery (examples/gallery/plot_*.py): each script runs alone on the quick setting, writes
its figure into the folder it is given and ends by printing its physical conclusion with
numbers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "examples" / "gallery"
SCRIPTS = sorted(GALLERY.glob("plot_*.py"))
#: what each story's conclusion must state (a number follows each)
CONCLUSIONS = {
    "plot_superionic_thermoelectric.py": ["kappa_L", "overdamped", "C_V/3R"],
    "plot_solid_electrolyte.py": ["E_a(QENS)", "E_a(MSD)", "band centre"],
    "plot_plastic_crystal_barocaloric.py": ["S_conf", "Delta S_tr", "dT/dp"],
    "plot_halide_perovskite.py": ["rods", "LO-TO splitting"],
    "plot_magnetocaloric.py": ["dT_t/d(mu0 H)", "Delta S", "lattice", "magnetic"],
}


def test_every_story_is_in_the_gallery():
    assert sorted(p.name for p in SCRIPTS) == sorted(CONCLUSIONS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_runs_alone_on_the_quick_setting(script, tmp_path):
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "LATDYN_GALLERY_QUICK": "1", "LATDYN_GALLERY_OUT": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("Conclusion:"), run.stdout[-2000:]
    for key in CONCLUSIONS[script.name]:
        assert key in last, (key, last)
    assert len(re.findall(r"\d+\.\d+ \+- \d+\.\d+", last)) >= 1, last
    figures = list(tmp_path.glob("*.png"))
    assert len(figures) == 1 and figures[0].stat().st_size > 10_000
