"""``latdyn thermo arrhenius|caloric|kappa``."""

import json

import numpy as np
import pytest
from scipy import constants as C

from latdyn.cli.main import main
from latdyn.thermo import arrhenius


def test_arrhenius_command(capsys, tmp_path):
    T = np.linspace(300, 600, 7)
    y = arrhenius(T, 0.3, 1e3)
    p = tmp_path / "d.txt"
    p.write_text("# T  D  err\n" + "\n".join(f"{a} {b} {0.02 * b}" for a, b in zip(T, y, strict=True)))
    assert main(["thermo", "arrhenius", str(p), "-o", str(tmp_path / "out"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["parameters"]["activation_energy"]["value"] == pytest.approx(0.3, rel=1e-9)
    assert (tmp_path / "out" / "report.html").exists()
    p.write_text("300 1\n400 x\n")
    assert main(["thermo", "arrhenius", str(p)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_caloric_and_kappa(capsys):
    assert main(["thermo", "caloric", "--omega", "2", "6", "--dV", "2.0", "--dT", "10", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["dS_conf"]["value"] == pytest.approx(C.R * np.log(3))
    assert res["driving_pressure"]["value"] == pytest.approx(10 / (2.0 / (C.R * np.log(3))))
    assert main(["thermo", "kappa", "--C", "2e6", "--v", "3000", "--tau", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kappa"]["value"] == pytest.approx(6.0)
