"""Magnetic versus phonon scattering of a powder by |Q| dependence, and the paramagnetic line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.data import make_sqe
from latdyn.data.io import write_mantid_nexus
from latdyn.errors import InputError
from latdyn.ins import fit_paramagnetic, paramagnetic_sqe, separate_magnetic
from latdyn.scattering import magnetic_form_factor
from latdyn.units import KB_MEV_PER_K

U = 0.012
Q = np.linspace(0.4, 9.0, 60)
E = np.linspace(1.0, 20.0, 20)


def _sqe(mag, ph, rel=0.03, seed=0, flat=0.0):
    f2 = magnetic_form_factor("Mn2+", Q) ** 2
    true = np.outer(f2, mag) + np.outer(Q**2 * np.exp(-Q**2 * U), ph) + flat
    sig = rel * true.max() * np.ones_like(true)
    noisy = true + np.random.default_rng(seed).normal(0, sig)
    return make_sqe(Q, E, noisy, sig), true


def test_recovers_magnetic_and_phonon_amplitudes_within_errors():
    mag = 2.0 * np.exp(-E / 8.0)
    ph = 0.01 * E
    pulls = []
    for seed in range(4):
        sqe, _ = _sqe(mag, ph, seed=seed)
        r = separate_magnetic(sqe, ion="Mn2+", u_iso=U)
        assert r.converged, r.reasons
        pulls += list((r.magnetic - mag) / r.magnetic_err) + list((r.phonon - ph) / r.phonon_err)
    pulls = np.array(pulls)
    assert np.mean(np.abs(pulls) < 2) > 0.9 and abs(pulls.mean()) < 0.3 and 0.7 < pulls.std() < 1.3


def test_pure_phonon_and_pure_magnetic_limits_and_the_flat_term():
    sqe, _ = _sqe(np.zeros(E.size), 0.01 * E, seed=1)
    r = separate_magnetic(sqe, ion="Mn2+", u_iso=U)
    assert np.mean(np.abs(r.magnetic / r.magnetic_err) < 2) >= 0.75
    sqe, _ = _sqe(np.exp(-E / 5.0), np.zeros(E.size), seed=2)
    r = separate_magnetic(sqe, ion="Mn2+", u_iso=U)
    assert np.mean(np.abs(r.phonon / r.phonon_err) < 2) >= 0.75
    assert np.all(r.magnetic_fraction(1.0)[E < 5] > 0.9)
    sqe, _ = _sqe(np.exp(-E / 5.0), 0.01 * E, seed=3, flat=0.05)
    r = separate_magnetic(sqe, ion="Mn2+", u_iso=U, flat=True)
    assert abs(np.mean(r.flat) - 0.05) < 3 * np.mean(r.flat_err) / np.sqrt(E.size) + 0.005
    with pytest.raises(InputError, match="at least"):
        separate_magnetic(sqe, ion="Mn2+", u_iso=U, q_range=(0.4, 0.6))
    narrow = separate_magnetic(sqe, ion="Mn2+", u_iso=U, q_range=(8.9, 9.0), min_points=1)
    assert not narrow.converged and narrow.reasons


def test_paramagnetic_quasielastic_line_with_the_form_factor():
    e = np.linspace(-10, 20, 61)
    s = paramagnetic_sqe(Q, e, ion="Fe3+", amplitude=3.0, gamma=4.0, T=300.0)
    f2 = magnetic_form_factor("Fe3+", Q) ** 2
    assert np.allclose(s / f2[:, None], s[0] / f2[0])                     # Q dependence = |f|^2
    kt = 300 * KB_MEV_PER_K
    assert s[0, e == 10.0][0] / s[0, e == -10.0][0] == pytest.approx(np.exp(10 / kt), rel=1e-10)
    line = s[0] / f2[0]
    ok = e > 0
    fit = fit_paramagnetic(e[ok], line[ok], 0.01 * line[ok], T=300.0)
    assert fit.converged
    assert fit.params["gamma"][0] == pytest.approx(4.0, rel=1e-6)
    assert fit.params["amplitude"][0] == pytest.approx(3.0, rel=1e-6)
    # through the separation: a paramagnet plus phonons
    sqe = make_sqe(Q, E, paramagnetic_sqe(Q, E, ion="Mn2+", amplitude=10.0, gamma=3.0, T=200.0)
                   + np.outer(Q**2 * np.exp(-Q**2 * U), 0.01 * E), 1e-3 * np.ones((Q.size, E.size)))
    r = separate_magnetic(sqe, ion="Mn2+", u_iso=U, paramagnetic_T=200.0)
    assert r.paramagnetic.params["gamma"][0] == pytest.approx(3.0, rel=1e-3)


def test_magnetic_command(tmp_path, capsys):
    sqe, _ = _sqe(2.0 * np.exp(-E / 8.0), 0.01 * E, seed=5)
    path = write_mantid_nexus(tmp_path / "sqe.nxs", sqe)
    args = ["ins", "magnetic", str(path), "--ion", "Mn2+", "--uiso", str(U), "-o", str(tmp_path / "o"),
            "--json"]
    assert main(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res["rows"]) == E.size and res["converged"] is True
    for f in ("separation.csv", "maps.h5", "report.html"):
        assert (tmp_path / "o" / f).is_file()
    assert main(["ins", "magnetic", str(path), "--ion", "Xx2+", "--uiso", "0.01", "-o", str(tmp_path)]) == 2
    assert "unknown magnetic ion" in capsys.readouterr().err
