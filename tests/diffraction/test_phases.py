"""Multi-phase fits of powder patterns: Hill-Howard fractions, convergence flags, the transition
of a field sweep, GSAS/xye export and the virtual-experiment round trip."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.diffraction import (
    Phase,
    PowderData,
    fit_pattern,
    fit_series,
    fit_transition,
    read_powder,
    weight_fractions,
    write_gsas,
    write_xye,
)
from latdyn.errors import FitError, InputError
from latdyn.instruments import instrument_from_dict, load_instrument
from latdyn.simulate import virtual_phase_sweep, virtual_powder_pattern
from latdyn.structure import read_cif, read_magnetic_structure

EXAMPLES = resources.files("latdyn.examples").joinpath("mncoge")
CW = {"name": "CW-test", "kind": "diffractometer_cw", "wavelength": 2.41,
      "caglioti": {"U": 0.08, "V": -0.06, "W": 0.06},
      "detector": {"two_theta_min": 10, "two_theta_max": 120}}


@pytest.fixture(scope="module")
def phases():
    with resources.as_file(EXAMPLES) as d:
        hexa = read_cif(d / "MnCoGe_hexagonal.cif")
        orth = read_magnetic_structure(d / "MnCoGe_orthorhombic_FM.yaml")
    return [Phase("hex", hexa), Phase("orth", orth, refine_moment=True)]


@pytest.fixture(scope="module")
def cw():
    return instrument_from_dict(CW)


def test_hill_howard_weight_fractions():
    w = weight_fractions([2.0, 1.0], [100.0, 300.0], [50.0, 100.0])
    assert w == pytest.approx([10000 / 40000, 30000 / 40000])
    with pytest.raises(FitError, match="non-zero total"):
        weight_fractions([0.0, 0.0], [1, 1], [1, 1])


def test_fit_recovers_every_parameter(phases, cw):
    truth = {"moment_orth": 2.5, "zero": 0.03, "ab_hex": 4.08, "c_hex": 5.30, "a_orth": 5.95,
             "b_orth": 3.82, "c_orth": 7.05, "U": 0.08, "W": 0.06}
    values = {"moment_orth": 2.5, "zero": 0.03}
    exact = virtual_phase_sweep(phases, [[0.35, 0.65]], [0.0], cw, counts=1e4, values=values,
                                noise=False)[0]
    widths = {"U": 0.1, "V": -0.06, "W": 0.05}     # V fixed at the instrument's value
    f = fit_pattern(exact, phases, start={"zero": 0.0, "moment_orth": 2.0}, widths=widths)
    assert f.converged, f.reasons
    assert f.chi2 < 1e-6
    for name, v in truth.items():
        assert f.params[name][0] == pytest.approx(v, rel=1e-5, abs=1e-6), name
    assert f.fractions["orth"][0] == pytest.approx(0.65, abs=1e-6)
    noisy = virtual_powder_pattern(phases, [0.35, 0.65], cw, counts=1e4, values=values, seed=11)
    g = fit_pattern(noisy, phases, widths=widths)
    assert g.converged and 0.8 < g.reduced_chi2 < 1.2
    for name, v in truth.items():
        assert abs(g.params[name][0] - v) < 3.5 * g.params[name][1], name
    w, e = g.fractions["orth"]
    assert abs(w - 0.65) < 3 * e and e < 0.01


def test_time_of_flight_fit_on_hrpd(phases):
    hrpd = load_instrument("HRPD")
    d = virtual_powder_pattern(phases, [0.5, 0.5], hrpd, counts=5e3, seed=3, d_range=(1.3, 2.8))
    assert d.axis == "tof" and d.difc > 40000
    f = fit_pattern(d, phases)
    assert f.converged, f.reasons
    w, e = f.fractions["hex"]
    assert abs(w - 0.5) < 3 * e


def test_every_fit_carries_converged_and_its_reasons(phases, cw):
    d = virtual_powder_pattern(phases, [0.5, 0.5], cw, counts=1e4, seed=2)
    limited = fit_pattern(d, phases, max_nfev=2)
    assert not limited.converged and any("evaluation limit" in r for r in limited.reasons)
    twin = [phases[0], Phase("hex2", phases[0].structure)]
    same = fit_pattern(d, twin, refine={"lattice": False})
    assert not same.converged and any("singular" in r for r in same.reasons)
    nomag = virtual_powder_pattern(phases, [0.5, 0.5], cw, counts=1e4, seed=2,
                                   values={"moment_orth": 0.0})
    bound = fit_pattern(nomag, phases)
    assert any("moment_orth at its lower bound" in r for r in bound.reasons) or \
        bound.params["moment_orth"][0] < 3 * bound.params["moment_orth"][1]
    row = limited.row()
    assert row["converged"] is False and "evaluation limit" in row["reasons"]


def test_a_pattern_fit_writes_its_parameters_curves_and_report(tmp_path, phases, cw):
    d = virtual_powder_pattern(phases, [0.5, 0.5], cw, counts=1e4, seed=6)
    f = fit_pattern(d, phases)
    paths = f.write(tmp_path)
    lines = (tmp_path / "fit.csv").read_text().splitlines()
    assert lines[0] == "parameter,value,error,unit,refined" and any(ln.startswith("w_orth,") for ln in lines)
    assert (tmp_path / "curves.csv").read_text().splitlines()[0] == "x,y,sigma,model,hex,orth,background"
    assert paths["report"].endswith("report.html")


def test_transition_fit_of_a_logistic_step():
    rng = np.random.default_rng(4)
    x = np.linspace(0, 5, 21)
    e = np.full(x.size, 0.01)
    w = 0.1 + 0.8 / (1 + np.exp(-(x - 2.2) / 0.25)) + rng.normal(0, 0.01, x.size)
    t = fit_transition(x, w, e, phase="orth", sweep="up")
    assert t.converged
    assert abs(t.midpoint[0] - 2.2) < 3 * t.midpoint[1]
    assert abs(t.width[0] - 0.25) < 3 * t.width[1]
    assert t.width_10_90[0] == pytest.approx(2 * np.log(9) * t.width[0])
    with pytest.raises(InputError, match="no transition"):
        fit_transition(x, np.full(x.size, 0.5), e)


def test_gsas_and_xye_exports_read_back(tmp_path, phases, cw):
    d = virtual_powder_pattern(phases, [0.5, 0.5], cw, counts=3e4, seed=5, condition=1.5,
                               sweep="up")
    for kind, suffix in (("ESD", ".gsa"), ("FXYE", ".fxye")):
        p = write_gsas(d, tmp_path / f"p{suffix}", kind=kind)
        lines = p.read_text().splitlines()
        assert all(len(ln) == 80 for ln in lines)
        assert lines[[i for i, ln in enumerate(lines) if ln.startswith("BANK")][0]].split()[-1] == kind
        back = read_powder(p, wavelength=d.wavelength)
        np.testing.assert_allclose(back.x, d.x, atol=1e-5)
        np.testing.assert_allclose(back.y, d.y, atol=0.006)
        np.testing.assert_allclose(back.sigma, d.sigma, atol=0.006)
    back = read_powder(write_xye(d, tmp_path / "p.xye"), wavelength=d.wavelength)
    np.testing.assert_allclose(back.y, d.y)
    with pytest.raises(InputError, match="not d"):
        write_gsas(PowderData(d.x / 10, d.y, d.sigma, "d"), tmp_path / "d.gsa")


@pytest.mark.slow
def test_virtual_field_sweep_round_trip_recovers_fractions_within_two_sigma(phases, cw):
    """A MnCoGe-like field sweep across the hexagonal -> orthorhombic transition, up and down
    (hysteresis 0.6 T), Poisson noise: fitted fractions against the truth over 3 seeds."""
    h = np.linspace(0.0, 5.0, 9)
    up = 1 / (1 + np.exp(-(h - 2.5) / 0.4))
    down = 1 / (1 + np.exp(-(h[::-1] - 1.9) / 0.4))
    w = np.r_[up, down]
    fr = np.stack([1 - w, w], axis=1)
    cond = np.r_[h, h[::-1]]
    sweeps = ["up"] * h.size + ["down"] * h.size
    values = [{"moment_orth": 2.4 + 0.1 * x} for x in cond]
    pulls, mids = [], []
    for seed in range(3):
        data = virtual_phase_sweep(phases, fr, cond, cw, sweeps=sweeps, values=values, counts=4e3,
                                   seed=seed)
        s = fit_series(data, phases, quantity="field", transition_phase="orth",
                       widths={"U": cw.u, "V": cw.v, "W": cw.w})
        truth = {d.label: (wi, v["moment_orth"]) for d, wi, v in zip(data, w, values, strict=True)}
        for f in s.fits:
            wt, mt = truth[f.label]
            wf, ef = f.fractions["orth"]
            pulls.append((wf - wt) / ef)
            if wt > 0.3:
                m, em, _ = f.params["moment_orth"]
                assert abs(m - mt) < 4 * em
        by = {t.sweep: t for t in s.transitions}
        mids.append((by["up"].midpoint, by["down"].midpoint))
        assert s.hysteresis is not None
    pulls = np.array(pulls)
    assert np.mean(np.abs(pulls) < 2) >= 0.9
    assert abs(pulls.mean()) < 0.5 and 0.6 < pulls.std() < 1.4
    for (mu, eu), (md, ed) in mids:
        assert abs(mu - 2.5) < 3 * eu + 0.05 and abs(md - 1.9) < 3 * ed + 0.05


def test_phases_command_with_a_manifest(tmp_path, phases, cw, capsys):
    h = np.linspace(0.0, 5.0, 5)
    w = 1 / (1 + np.exp(-(h - 2.5) / 0.6))
    data = virtual_phase_sweep(phases, np.stack([1 - w, w], axis=1), h, cw, sweeps=["up"] * 5,
                               counts=3e3, seed=9)
    with resources.as_file(EXAMPLES) as d:
        for name in ("MnCoGe_hexagonal.cif", "MnCoGe_orthorhombic.cif", "MnCoGe_orthorhombic_FM.yaml"):
            (tmp_path / name).write_text((d / name).read_text())
    lines = ["quantity: field", "axis: two_theta", "wavelength: 2.41", "phases:",
             "  - {name: hex, structure: MnCoGe_hexagonal.cif}",
             "  - {name: orth, structure: MnCoGe_orthorhombic_FM.yaml, refine_moment: true}",
             "fit: {background: 3, transition_phase: orth}", "patterns:"]
    for i, p in enumerate(data):
        write_xye(p, tmp_path / f"p{i}.xye")
        lines.append(f"  - {{file: p{i}.xye, value: {p.condition}, sweep: up}}")
    (tmp_path / "m.yaml").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["diffraction", "phases", str(tmp_path / "m.yaml"), "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res["rows"]) == 5 and "w_orth" in res["rows"][0] and "converged" in res
    assert res["transitions"][0]["phase"] == "orth"
    for f in ("phases.csv", "fractions.csv", "transitions.csv", "summary.json", "report.html",
              "export/p0.xye", "export/p0.gsa", "export/p0.fxye"):
        assert (out / f).is_file(), f
    (tmp_path / "bad.yaml").write_text("phases: []\npatterns: []\n")
    assert main(["diffraction", "phases", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "phases" in err
