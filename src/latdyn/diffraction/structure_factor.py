r"""Structure factors of a crystal for neutrons and X-rays, with Debye-Waller factors.

.. math::

    F(\mathbf{h}) = \sum_j o_j\, a_j(Q)\, e^{2\pi i\,\mathbf{h}\cdot\mathbf{x}_j}\,
                    e^{-\frac12 \mathbf{Q}^T U_j \mathbf{Q}},\qquad \mathbf{Q} = 2\pi\,\mathbf{h} B

over every atom j of the unit cell (occupancy o_j, fractional position x_j, Cartesian ADP
tensor U_j in angstrom^2; U_j = U_iso 1 gives exp(-Q^2 U_iso / 2) on F and exp(-Q^2 U_iso)
on |F|^2, the convention of NCrystal and of Willis & Pryor, *Thermal Vibrations in
Crystallography* (1975)).  The amplitude a_j is

* neutrons: the bound coherent scattering length b_j (fm, complex b' - i b'' from
  :func:`latdyn.scattering.nuclide`, Sears 1992 by default; isotopes via the species symbol);
  |F|^2 is returned in barn (1 barn = 100 fm^2);
* X-rays: the atomic form factor f0_j(|Q|) (electrons, Waasmaier-Kirfel, spherical neutral
  atoms, no anomalous dispersion); |F|^2 in electrons^2 (multiply by r_e^2 for a length).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import InputError
from ..scattering import nuclide, xray_form_factor
from ..structure import Crystal

__all__ = ["RADIATIONS", "structure_factor", "scattering_amplitudes", "f000"]

#: Radiations that structure factors and patterns accept.
RADIATIONS = ("neutron", "xray")


def _check_radiation(radiation: str) -> str:
    if radiation not in RADIATIONS:
        raise InputError(f"unknown radiation; use one of {RADIATIONS}", field="radiation",
                         value=radiation)
    return radiation


def scattering_amplitudes(crystal: Crystal, q, radiation: str = "neutron",
                          scattering_lengths: Mapping[str, complex] | None = None,
                          table: str = "sears") -> np.ndarray:
    """Amplitude a_j(|Q|) of each atom of ``crystal.atoms`` at |Q| values ``q`` (1/angstrom).

    Returns shape (len(q), N): neutron b (fm, complex, independent of Q; ``scattering_lengths``
    maps a species to a value that replaces the table's) or X-ray f0 (electrons).
    """
    _check_radiation(radiation)
    species = crystal.atoms.species
    q = np.atleast_1d(np.asarray(q, dtype=float))
    out = np.empty((len(q), len(species)), dtype=complex)
    for s in np.unique(species):
        cols = species == s
        if radiation == "neutron":
            if scattering_lengths is not None and s in scattering_lengths:
                b = complex(scattering_lengths[s])
            else:
                b = nuclide(str(s), table).b_coh
            out[:, cols] = b
        else:
            out[:, cols] = np.asarray(xray_form_factor(str(s), q), dtype=float)[:, None]
    return out


def structure_factor(crystal: Crystal, hkl, radiation: str = "neutron", *,
                     debye_waller: bool = True,
                     scattering_lengths: Mapping[str, complex] | None = None,
                     table: str = "sears", chunk: int = 20000) -> np.ndarray:
    """Complex structure factors F(hkl) (module docstring), fm for neutrons, electrons for X-rays.

    ``hkl``: Miller indices (k, 3).  ``debye_waller=False`` drops the thermal factor (static
    lattice).  Work is done in chunks of ``chunk`` reflections so memory stays bounded.
    """
    _check_radiation(radiation)
    h = np.atleast_2d(np.asarray(hkl, dtype=float))
    if h.shape[-1] != 3 or not np.all(np.isfinite(h)):
        raise InputError("hkl must be finite triples", field="hkl", value=h.shape)
    at = crystal.atoms
    out = np.empty(len(h), dtype=complex)
    bmat = crystal.lattice.reciprocal_matrix
    for start in range(0, len(h), chunk):
        hh = h[start:start + chunk]
        qv = hh @ bmat
        qn = np.linalg.norm(qv, axis=1)
        amp = scattering_amplitudes(crystal, qn, radiation, scattering_lengths, table)
        phase = np.exp(2j * np.pi * (hh @ at.frac.T))
        term = amp * at.occupancy[None, :] * phase
        if debye_waller:
            w = 0.5 * np.einsum("ki,nij,kj->kn", qv, at.u_cart, qv)
            term = term * np.exp(-w)
        out[start:start + chunk] = term.sum(axis=1)
    return out


def f000(crystal: Crystal, radiation: str = "neutron", *,
         scattering_lengths: Mapping[str, complex] | None = None, table: str = "sears") -> float:
    """F(000) = sum_j o_j a_j(Q = 0): the real part of :func:`structure_factor` at h = 0 (no
    Debye-Waller factor there), fm for neutrons (sum of occupancy x b), electrons for X-rays
    (sum of occupancy x Z for neutral atoms).  The total scattering power of the cell, e.g.
    the normalisation of a maximum-entropy density."""
    return float(structure_factor(crystal, [[0, 0, 0]], radiation, debye_waller=False,
                                  scattering_lengths=scattering_lengths, table=table)[0].real)
