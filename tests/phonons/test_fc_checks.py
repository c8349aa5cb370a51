"""Force constants checked on load: permutation asymmetry and acoustic-sum-rule violation are
measured and reported, --symmetrize-fc makes them exact (and then latdyn equals Euphonic on a
copy symmetrised the same way), force constants are built from forces, units are required."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import yaml

from latdyn.errors import FormatError, InputError
from latdyn.phonons import load_phonopy
from latdyn.phonons.fc_checks import ForceConstantWarning
from latdyn.phonons.modes import calculate_modes

from .conftest import phonopy_of

Q = np.random.default_rng(11).random((30, 3)) * 2 - 1.0


def _full_fc(d):
    """Full supercell force constants of a parsed yaml, built here by lattice translation."""
    ph = phonopy_of(d)
    prim, sc = ph.primitive, ph.supercell
    fc = np.array(d["force_constants"]["elements"]).reshape(d["force_constants"]["shape"] + [3, 3])
    n_sc = len(sc)
    frac = sc.scaled_positions
    smat = np.array(d["supercell_matrix"])
    full = np.zeros((n_sc, n_sc, 3, 3))
    p2s = list(prim.p2s_map)
    for l_ in range(n_sc):
        i = p2s.index(prim.s2p_map[l_])
        shift = frac[l_] - frac[prim.s2p_map[l_]]
        for m in range(n_sc):
            target = frac[m] - shift
            d_ = frac - target
            m0 = int(np.flatnonzero(np.all(np.abs(d_ - np.rint(d_)) < 1e-6, axis=1))[0])
            full[l_, m] = fc[i, m0]
    assert smat is not None
    return full, ph


def _write(d, folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "phonopy.yaml").write_text(yaml.safe_dump(d))
    return folder / "phonopy.yaml"


@pytest.fixture(scope="module")
def asymmetric(nacl_dir, tmp_path_factory):
    """NaCl with one more antisymmetric pair term of 2.7e-3 eV/A^2 (on top of the file's own)."""
    d = yaml.safe_load((nacl_dir / "phonopy_nacl.yaml").read_text())
    fc = np.array(d["force_constants"]["elements"]).reshape(d["force_constants"]["shape"] + [3, 3])
    fc[0, 5, 0, 1] += 2.7e-3
    d["force_constants"]["elements"] = fc.tolist()
    return _write(d, tmp_path_factory.mktemp("asym")), d


def test_loading_measures_and_warns_the_asymmetry(asymmetric):
    path, d = asymmetric
    full, _ = _full_fc(d)
    expected_asym = np.abs(full - full.transpose(1, 0, 3, 2)).max()
    expected_asr = np.abs(full.sum(axis=1)).max()
    with pytest.warns(ForceConstantWarning, match=f"{expected_asym:.3g} eV/A\\^2") as rec:
        model = load_phonopy(path)
    c = model.fc_checks
    assert c.permutation_asymmetry == pytest.approx(expected_asym, rel=1e-12)
    assert c.asr_violation == pytest.approx(expected_asr, rel=1e-9)
    assert expected_asym >= 2.7e-3 - 1e-12
    assert c.triangle_energy_change > 0.05 and not c.symmetrized
    assert "meV" in str(rec[0].message) and "--symmetrize-fc" in str(rec[0].message)


def test_symmetrize_fc_makes_the_checks_exact(asymmetric):
    path, _ = asymmetric
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForceConstantWarning)
        model = load_phonopy(path, symmetrize_fc=True, asr=None)
    c = model.fc_checks
    assert c.symmetrized and c.permutation_asymmetry == 0.0
    assert c.asr_violation < 1e-12 * c.max_force_constant
    assert c.triangle_energy_change < 1e-9 and c.acoustic_gamma < 1e-3


def _phonopy_symmetrised_copy(d, folder, polar):
    from phonopy.harmonic.force_constants import symmetrize_force_constants

    full, ph = _full_fc(d)
    symmetrize_force_constants(full, level=1)
    e = dict(d)
    e["force_constants"] = {"format": "compact", "shape": d["force_constants"]["shape"],
                            "elements": full[ph.primitive.p2s_map].tolist()}
    if not polar:
        e = {k: v for k, v in e.items() if k not in ("born_effective_charge", "dielectric_constant")}
        e["phonopy"] = {k: v for k, v in d["phonopy"].items() if k != "nac_unit_conversion_factor"}
    return _write(e, folder)


@pytest.mark.parametrize("polar", [True, False])
@pytest.mark.parametrize("asr", ["reciprocal", None])
def test_symmetrize_fc_equals_euphonic_on_a_symmetrised_copy(asymmetric, tmp_path, polar, asr):
    euphonic = pytest.importorskip("euphonic")
    path, d = asymmetric
    copy = _phonopy_symmetrised_copy(d, tmp_path / "sym", polar)
    if not polar:
        dd = {k: v for k, v in d.items() if k not in ("born_effective_charge", "dielectric_constant")}
        dd["phonopy"] = {k: v for k, v in d["phonopy"].items() if k != "nac_unit_conversion_factor"}
        path = _write(dd, tmp_path / "asym_np")
    with pytest.warns(ForceConstantWarning):
        load_phonopy(path, asr=asr)
    model = load_phonopy(path, asr=asr, symmetrize_fc=True)
    eu = euphonic.ForceConstants.from_phonopy(path=str(copy.parent), summary_name=copy.name)
    ref = eu.calculate_qpoint_frequencies(Q, asr=asr, n_threads=1).frequencies.to("meV").magnitude
    got = calculate_modes(model, Q, eigenvectors=False, progress=False).energies
    assert np.max(np.abs(got - ref)) < 1e-6


def test_a_yaml_without_units_needs_units(nacl_sym, tmp_path):
    d = yaml.safe_load(nacl_sym.read_text())
    d.pop("physical_unit")
    path = _write(d, tmp_path)
    with pytest.raises(FormatError, match="physical_unit"):
        load_phonopy(path)
    ref = calculate_modes(load_phonopy(nacl_sym), Q, eigenvectors=False).energies
    got = calculate_modes(load_phonopy(path, units="angstrom,eV/angstrom^2"), Q,
                          eigenvectors=False).energies
    assert np.array_equal(got, ref)
    with pytest.raises(FormatError, match="angstrom"):
        load_phonopy(path, units="nm,eV/nm^2")
    with pytest.raises(InputError, match="LENGTH"):
        load_phonopy(path, units="angstrom")


def test_force_constants_are_built_from_displacements_and_forces(nacl_sym, tmp_path):
    d = yaml.safe_load(nacl_sym.read_text())
    full, ph = _full_fc(d)
    ph.generate_displacements(distance=0.01)
    disps = []
    for entry in ph.dataset["first_atoms"]:
        a, u = entry["number"], np.asarray(entry["displacement"])
        disps.append({"atom": a + 1, "displacement": u.tolist(),
                      "forces": (-(full[:, a] @ u)).tolist()})
    e = {k: v for k, v in d.items() if k not in ("force_constants", "born_effective_charge",
                                                 "dielectric_constant")}
    e["phonopy"] = {k: v for k, v in d["phonopy"].items() if k != "nac_unit_conversion_factor"}
    e["displacements"] = disps
    path = _write(e, tmp_path / "forces")
    dd = {k: v for k, v in d.items() if k not in ("born_effective_charge", "dielectric_constant")}
    dd["phonopy"] = e["phonopy"]
    ref_path = _write(dd, tmp_path / "fc")
    got = calculate_modes(load_phonopy(path), Q, eigenvectors=False).energies
    ref = calculate_modes(load_phonopy(ref_path), Q, eigenvectors=False).energies
    assert len(disps) == 2 and np.max(np.abs(got - ref)) < 1e-6
    e.pop("displacements")
    with pytest.raises(InputError, match="forces"):
        load_phonopy(_write(e, tmp_path / "none"))


@pytest.mark.slow
def test_cli_reports_the_checks_and_symmetrizes(asymmetric):
    path, _ = asymmetric
    base = [sys.executable, "-m", "latdyn.cli.main", "phonons", "modes", str(path), "--q", "0.1,0,0",
            "--json"]
    out = json.loads(subprocess.run(base, capture_output=True, text=True, check=True).stdout)
    assert out["force_constants"]["permutation_asymmetry"] >= 2.7e-3 - 1e-12
    assert out["force_constants"]["triangle_energy_change"] > 0.05
    sym = json.loads(subprocess.run(base + ["--symmetrize-fc"], capture_output=True, text=True,
                                    check=True).stdout)
    assert sym["force_constants"]["permutation_asymmetry"] == 0.0
    assert sym["force_constants"]["symmetrized"] is True
