"""Harmonic thermodynamics of NaCl: latdyn (its own phonon DOS on a mesh, then the DOS
integrals of latdyn.thermo) against phonopy's mode sums (run_thermal_properties) on the same
force constants.  Independent on both halves: modes and the thermodynamic integrals."""

import numpy as np
import pytest
import yaml

from latdyn.phonons import load_phonopy, phonon_dos
from latdyn.thermo import thermodynamics

from .conftest import phonopy_of

T = np.array([20.0, 50.0, 100.0, 300.0, 600.0])


@pytest.fixture(scope="module")
def phonopy_per_atom(nacl_dir):
    d = yaml.safe_load((nacl_dir / "phonopy_nacl.yaml").read_text())
    ph = phonopy_of(d, force_constants=True)
    n_atoms = len(d["unit_cell"]["points"])
    ph.run_mesh([12, 12, 12], is_gamma_center=False, with_eigenvectors=False)
    ph.run_thermal_properties(temperatures=T)
    tp = ph.get_thermal_properties_dict()
    return {"Cv": tp["heat_capacity"] / n_atoms, "S": tp["entropy"] / n_atoms,
            "F": tp["free_energy"] * 1e3 / n_atoms}           # J/(K mol), J/mol per atom


def test_heat_capacity_entropy_free_energy_match_phonopy(nacl_dir, phonopy_per_atom):
    model = load_phonopy(nacl_dir / "phonopy_nacl.yaml", nac=False)
    dos = phonon_dos(model, 16, np.linspace(0.0, 35.0, 3501))
    mine = thermodynamics(dos.total, T, atoms_per_formula_unit=1)
    # measured: Cv 0.3 % at 20 K and <= 0.15 % above; S 0.25 % at 20 K; F within 7.3 J/mol
    # (F crosses zero near 250 K, so it is compared in absolute terms)
    assert mine["Cv"] == pytest.approx(phonopy_per_atom["Cv"], rel=6e-3)
    assert mine["S"] == pytest.approx(phonopy_per_atom["S"], rel=5e-3)
    assert mine["F"] == pytest.approx(phonopy_per_atom["F"], abs=15.0)
    assert mine["Cv"][-1] / (3 * 8.314462618) == pytest.approx(0.9906, abs=2e-3)
