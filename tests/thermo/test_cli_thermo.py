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
    assert res["Ea_eV"] == pytest.approx(0.3, rel=1e-9)
    assert (tmp_path / "out" / "report.html").exists()
    p.write_text("300 1\n400 x\n")
    assert main(["thermo", "arrhenius", str(p)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_caloric_and_kappa(capsys):
    assert main(["thermo", "caloric", "--omega", "2", "6", "--dV", "2.0", "--dT", "10", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert row["dS_conf_J_molK"] == pytest.approx(C.R * np.log(3))
    assert row["driving_pressure_MPa"] == pytest.approx(10 / (2.0 / (C.R * np.log(3))))
    assert main(["thermo", "kappa", "--C", "2e6", "--v", "3000", "--tau", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["kappa_W_mK"] == pytest.approx(6.0)
