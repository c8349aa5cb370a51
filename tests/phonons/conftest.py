"""Fixtures of the phonon tests: the NaCl phonopy calculation (phonondb, A. Togo) and copies of it
with symmetrised force constants, with and without Born charges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml


@pytest.fixture(scope="session")
def nacl_dir(shared_data) -> Path:
    path = shared_data / "phonopy" / "NaCl"
    if not (path / "phonopy_nacl.yaml").is_file():
        pytest.skip(f"NaCl phonopy data not found in {path}")
    return path


def _symmetrised_copy(src: Path, dst: Path, polar: bool) -> Path:
    """Write phonopy.yaml with force constants made symmetric, Phi(i,j) = Phi(j,i)^T.

    The file's force constants break this symmetry by ~1e-3 eV/A^2; codes differ in how they
    treat the asymmetric part (latdyn and phonopy symmetrise, Euphonic uses one triangle), so
    the side-by-side comparisons use a symmetric copy.
    """
    from phonopy import Phonopy
    from phonopy.harmonic.force_constants import compact_fc_to_full_fc
    from phonopy.structure.atoms import PhonopyAtoms

    d = yaml.safe_load(src.read_text())
    uc = d["unit_cell"]
    atoms = PhonopyAtoms(symbols=[p["symbol"] for p in uc["points"]], cell=uc["lattice"],
                         scaled_positions=[p["coordinates"] for p in uc["points"]],
                         masses=[p["mass"] for p in uc["points"]])
    ph = Phonopy(atoms, supercell_matrix=d["supercell_matrix"], primitive_matrix="P")
    shape = d["force_constants"]["shape"]
    fc = np.array(d["force_constants"]["elements"]).reshape(shape + [3, 3])
    full = compact_fc_to_full_fc(ph.primitive, fc)
    full = 0.5 * (full + full.transpose(1, 0, 3, 2))
    d["force_constants"]["elements"] = full[ph.primitive.p2s_map].tolist()
    if not polar:
        d.pop("born_effective_charge")
        d.pop("dielectric_constant")
        d["phonopy"].pop("nac_unit_conversion_factor")
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "phonopy.yaml").write_text(yaml.safe_dump(d))
    return dst / "phonopy.yaml"


@pytest.fixture(scope="session")
def nacl_sym(nacl_dir, tmp_path_factory) -> Path:
    return _symmetrised_copy(nacl_dir / "phonopy_nacl.yaml",
                             tmp_path_factory.mktemp("nacl_sym"), polar=True)


@pytest.fixture(scope="session")
def nacl_sym_nonpolar(nacl_dir, tmp_path_factory) -> Path:
    return _symmetrised_copy(nacl_dir / "phonopy_nacl.yaml",
                             tmp_path_factory.mktemp("nacl_sym_np"), polar=False)


@pytest.fixture(scope="session")
def nacl_model(nacl_dir):
    from latdyn.phonons import load_phonopy

    return load_phonopy(nacl_dir / "phonopy_nacl.yaml")


@pytest.fixture(scope="session")
def nacl_distorted(nacl_sym, tmp_path_factory) -> Path:
    """The symmetric NaCl force constants on a non-centrosymmetric arrangement of the atoms
    (Cl shifted by (0.03, 0.05, 0.02)): not a physical crystal, but a model with the same
    force constants in which the phases exp(iQ.r_k) of the structure factor matter."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    d = yaml.safe_load(nacl_sym.read_text())
    shift = np.array([0.03, 0.05, 0.02])
    for block in ("unit_cell", "primitive_cell"):
        for p in d[block]["points"]:
            if p["symbol"] == "Cl":
                p["coordinates"] = (np.array(p["coordinates"]) + shift).tolist()
    uc = d["unit_cell"]
    atoms = PhonopyAtoms(symbols=[p["symbol"] for p in uc["points"]], cell=uc["lattice"],
                         scaled_positions=[p["coordinates"] for p in uc["points"]],
                         masses=[p["mass"] for p in uc["points"]])
    ph = Phonopy(atoms, supercell_matrix=d["supercell_matrix"], primitive_matrix="P")
    for p, pos in zip(d["supercell"]["points"], ph.supercell.scaled_positions, strict=True):
        p["coordinates"] = pos.tolist()
    dst = tmp_path_factory.mktemp("nacl_distorted")
    (dst / "phonopy.yaml").write_text(yaml.safe_dump(d))
    return dst / "phonopy.yaml"
