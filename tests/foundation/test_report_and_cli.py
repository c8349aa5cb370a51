import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from latdyn import __version__
from latdyn.cli.main import main
from latdyn.fileio import atomic_path
from latdyn.kinematics import coverage_direct
from latdyn.report import Report, plot_coverage

REPO = Path(__file__).resolve().parents[2]


def test_report_is_self_contained(tmp_path):
    src = tmp_path / "input.txt"
    src.write_text("data")
    rep = Report("Test report", command="latdyn test", figure_formats=("png", "svg"))
    rep.add_input(src)
    fig, _ = plot_coverage([coverage_direct(10.0, 3.0, 135.0)], ["Ei = 10 meV"])
    rep.add_figure("cov", fig, "coverage")
    rep.add_parameters("Fit", {"D": (0.23, 0.011, "Å²/ps")})
    path = rep.write(tmp_path / "out" / "report.html")
    text = path.read_text()
    assert "data:image/png;base64," in text
    assert "0.230 ± 0.011" in text
    assert __version__ in text and "latdyn test" in text
    import hashlib
    assert hashlib.sha256(b"data").hexdigest() in text
    assert (tmp_path / "out" / "figures" / "cov.png").stat().st_size > 1000
    assert (tmp_path / "out" / "figures" / "cov.svg").read_text().lstrip().startswith("<?xml")
    assert not re.search(r'src="(?!data:)', text)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "result.h5"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "xs" in capsys.readouterr().out


def test_cli_xs_table_and_json(capsys):
    assert main(["xs", "V"]) == 0
    assert "5.08" in capsys.readouterr().out
    assert main(["xs", "NH4I", "--wavelength", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["formula"] == "NH4I"
    assert {r["nuclide"] for r in data["rows"]} == {"N", "H", "I"}
    assert data["sigma_abs_b"] == pytest.approx(sum(r["count"] * r["sigma_abs_b"] for r in data["rows"]))


def test_cli_error_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "latdyn.cli.main", "xs", "Qq3"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "Qq" in proc.stderr and "Traceback" not in proc.stderr


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("```")]
    assert len(lines) == 1 and "pytest" in lines[0]
    ci = (REPO / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and 'bash -c "$cmd"' in ci
    assert "-eq 5" in ci
    # the extraction in .ci/run yields exactly the README line
    extract = "cmd=" + ci.split("\ncmd=")[1].split("\n")[0] + '; echo "$cmd"'
    awk = subprocess.run(["bash", "-c", extract], cwd=REPO, capture_output=True, text=True)
    assert awk.stdout.strip() == lines[0].strip()
