"""Central-spring force constants (latdyn.phonons.spring_model): one stiffness per species pair."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.errors import InputError
from latdyn.phonons import calculate_modes, phonon_crystal, spring_model


def _perovskite():
    pos = [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]
    return phonon_crystal(5.9 * np.eye(3), pos, ["Pb", "Br", "Br", "Br", "Cs"])


def test_pair_mapping_with_equal_stiffness_is_the_scalar_model():
    c = _perovskite()
    q = np.random.default_rng(0).random((5, 3))
    one = spring_model(c, 4.3, k=0.7)
    pairs = spring_model(c, 4.3, k={("Pb", "Br"): 0.7, ("Br", "Br"): 0.7, ("Cs", "Br"): 0.7})
    e1 = calculate_modes(one, q, eigenvectors=False, progress=False).energies
    e2 = calculate_modes(pairs, q, eigenvectors=False, progress=False).energies
    np.testing.assert_allclose(e1, e2, rtol=1e-12)


def test_unnamed_pairs_get_no_spring():
    """Without Cs-Br springs Cs is free (three zero modes at every q) and the rigid PbBr6
    octahedra keep their rigid-unit modes: one more zero mode on the M-R line, three at R
    (Giddy et al., Acta Cryst. A 49, 697 (1993))."""
    c = _perovskite()
    m = spring_model(c, 4.3, k={("Pb", "Br"): 2.0, ("Br", "Br"): 0.5})
    e = calculate_modes(m, [[0.2, 0.1, 0.3], [0.5, 0.5, 0.1], [0.5, 0.5, 0.5]],
                        eigenvectors=False, progress=False).energies
    assert np.sum(np.abs(e) < 1e-4, axis=1).tolist() == [3, 4, 6]
    with pytest.raises(InputError):
        spring_model(c, 4.3, k={("Pb", "I"): 1.0})
    with pytest.raises(InputError):
        spring_model(c, 4.3, k={("Pb", "Br"): -1.0})
