r"""Scattering weights of MD partial correlations: neutron (coherent and incoherent scattering
lengths) and X-ray (atomic form factors).

The weighted functions, normalised per unit mean squared weight so that they tend to 1 at
large Q and t = 0 (Faber-Ziman-like normalisation, here for a general mixture):

.. math::

    F_\mathrm{coh}^w(\mathbf q,t) = \frac{\sum_{\alpha\beta}\mathrm{Re}(b_\alpha b_\beta^*)
        F_{\alpha\beta}(\mathbf q,t)}{\sum_\alpha c_\alpha |b_\alpha|^2},\qquad
    F_\mathrm{inc}^w(\mathbf q,t) = \frac{\sum_\alpha b_{\mathrm{inc},\alpha}^2
        F_{s,\alpha}(\mathbf q,t)}{\sum_\alpha c_\alpha b_{\mathrm{inc},\alpha}^2}

with concentrations c_alpha (F_{s,alpha}(q, 0) = c_alpha).  With ``normalize=False`` the
denominators are dropped and the result is the cross section per atom and steradian in barn
(b in fm, 1 fm^2 = 0.01 barn): d^2sigma/dOmega dE = (k_f/k_i) [S_coh^w + S_inc^w].
For X-rays b_alpha is f_alpha(|q|) (electrons; Waasmaier-Kirfel f0), which depends on |q|.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError

__all__ = ["species_weights", "weighted_coherent", "weighted_incoherent", "BARN_PER_FM2"]

#: 1 fm^2 in barn.
BARN_PER_FM2 = 0.01


def species_weights(species: Sequence[str], q_norm, kind: str = "neutron",
                    table: str = "sears", overrides: Mapping[str, float] | None = None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """Coherent and incoherent weights per species, each (n_species, n_q).

    kind: 'neutron' (b_coh complex and b_inc in fm; species may be isotopes such as '7Li' or
    'D'), 'xray' (f0(|q|), no incoherent weight: None) or 'none' (all 1).
    overrides: species -> coherent weight, replacing the table value (e.g. for atom types of
    a LAMMPS dump that are not element symbols).
    """
    q = np.atleast_1d(np.asarray(q_norm, dtype=float))
    n_q = q.size
    overrides = dict(overrides or {})
    coh = np.ones((len(species), n_q), dtype=complex)
    inc = np.ones((len(species), n_q))
    if kind == "none":
        return coh, inc
    if kind not in ("neutron", "xray"):
        raise InputError("unknown weighting; use 'neutron', 'xray' or 'none'", field="weighting",
                         value=kind)
    from ..scattering import nuclide, xray_form_factor

    for i, s in enumerate(species):
        if s in overrides:
            coh[i] = overrides[s]
            inc[i] = 0.0
            continue
        try:
            if kind == "neutron":
                n = nuclide(s, table=table)
                coh[i], inc[i] = n.b_coh, n.b_inc
            else:
                coh[i] = np.asarray(xray_form_factor(s, q), dtype=float)
        except InputError as exc:
            raise InputError(f"no {kind} scattering data for species '{s}' ({exc}); give "
                             "its weight explicitly", field="species", value=s) from exc
    return coh, (inc if kind == "neutron" else None)


def weighted_coherent(f_coh: np.ndarray, concentrations, b, normalize: bool = True) -> np.ndarray:
    """Weighted coherent function from partials f_coh (n_s, n_s, n_q, ...) and weights b
    (n_s, n_q) (module docstring formula)."""
    b = np.asarray(b)
    c = np.asarray(concentrations, dtype=float)
    w = np.real(b[:, None, :] * np.conj(b[None, :, :]))          # (s, s, q)
    extra = (1,) * (f_coh.ndim - 3)
    out = np.sum(w.reshape(w.shape + extra) * f_coh, axis=(0, 1))
    if normalize:
        norm = np.sum(c[:, None] * np.abs(b) ** 2, axis=0)
        return out / norm.reshape(norm.shape + extra)
    return out * BARN_PER_FM2


def weighted_incoherent(f_inc: np.ndarray, concentrations, b_inc, normalize: bool = True
                        ) -> np.ndarray:
    """Weighted incoherent function from f_inc (n_s, n_q, ...) and b_inc (n_s, n_q)."""
    b2 = np.asarray(b_inc, dtype=float) ** 2
    c = np.asarray(concentrations, dtype=float)
    extra = (1,) * (f_inc.ndim - 2)
    out = np.sum(b2.reshape(b2.shape + extra) * f_inc, axis=0)
    if normalize:
        norm = np.sum(c[:, None] * b2, axis=0)
        if np.any(norm <= 0):
            raise InputError("the species have no incoherent scattering", field="b_inc")
        return out / norm.reshape(norm.shape + extra)
    return out * BARN_PER_FM2
