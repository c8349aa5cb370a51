r"""Cross sections of the polarisation channels (longitudinal polarisation analysis).

Frame (Scharpf & Capellmann 1993; :mod:`latdyn.polarisation.channels`): z vertical, x and y in
the horizontal scattering plane; alpha is the angle from x to Q in that plane.  The magnetic
scattering of a sample is split into the parts from moment components perpendicular to Q
*in* the plane (M_y, along y_Q = z x Q-hat) and *vertical* (M_z); a paramagnet or powder has
M_y = M_z = M/2 with M the unpolarised magnetic cross section.

For a polarisation direction p in the plane at angle beta from x, and for p = z (Moon, Riste
& Koehler, Phys. Rev. 181, 920 (1969); Schweika, J. Phys. Conf. Ser. 211, 012026 (2010)):

.. math::

    \sigma^{NSF}_p &= N + \tfrac13 I_{si} + \sin^2(\beta-\alpha)\, M_y, \qquad
    \sigma^{SF}_p   = \tfrac23 I_{si} + M_z + \cos^2(\beta-\alpha)\, M_y \\
    \sigma^{NSF}_z &= N + \tfrac13 I_{si} + M_z, \qquad\qquad\quad\;\;
    \sigma^{SF}_z   = \tfrac23 I_{si} + M_y

with N the nuclear coherent plus isotope-incoherent scattering (both non-spin-flip) and
I_si the nuclear spin-incoherent scattering (two thirds spin flip, one third not, for every
direction).  Nuclear-magnetic interference and the chiral term vanish for paramagnets and
unpolarised sample states; for Bragg peaks of ordered structures they are kept
(:func:`bragg_channels`, Blume, Phys. Rev. 130, 1670 (1963)).

Units: whatever the inputs share (barn/sr, barn/sr/meV, counts).  Magnetic cross sections
use p = gamma r_e / 2 = 2.6954 fm per Bohr magneton
(:data:`latdyn.scattering.P_MAGNETIC_FM`).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..scattering import P_MAGNETIC_FM, magnetic_form_factor, nuclide, parse_formula
from .channels import DIRECTIONS, Channel, parse_channel

__all__ = ["COMPONENTS", "channel_coefficients", "channel_cross_sections", "paramagnetic_cross_section",
           "bragg_channels", "polarised_bragg", "sample_cross_sections", "scharpf_angle"]

#: the independent cross sections of the channel model, in the order of the coefficients
COMPONENTS = ("coherent", "spin_incoherent", "magnetic_y", "magnetic_z")


def scharpf_angle(two_theta, *, x_angle: float = 0.0, ki=None, kf=None) -> np.ndarray:
    """Angle alpha (degrees) from the x axis to Q in the scattering plane.

    Q = k_i - k_f with k_i along the beam and k_f at the signed in-plane scattering angle
    ``two_theta`` (degrees); ``x_angle`` is the angle from k_i to the x axis (degrees).
    Elastic (``ki``/``kf`` None): alpha = theta - 90 deg - x_angle; inelastic: from the wave
    vectors (1/angstrom).  Mantid's D7AbsoluteCrossSections calls alpha the Scharpf angle.
    """
    tt = np.radians(np.asarray(two_theta, dtype=float))
    if ki is None and kf is None:
        ki = kf = 1.0
    ki = np.asarray(ki, dtype=float)
    kf = np.asarray(kf, dtype=float)
    ang = np.arctan2(-kf * np.sin(tt), ki - kf * np.cos(tt))
    return np.degrees(ang) - float(x_angle)


def channel_coefficients(channel: Channel | str, alpha=0.0) -> np.ndarray:
    """Coefficients of (N, I_si, M_y, M_z) in the cross section of ``channel`` (module
    docstring); ``alpha`` in degrees (scalar or array), result shape alpha.shape + (4,)."""
    ch = parse_channel(channel) if isinstance(channel, str) else channel
    a = np.radians(np.asarray(alpha, dtype=float))
    one, zero = np.ones_like(a), np.zeros_like(a)
    beta = DIRECTIONS[ch.direction]
    if beta is None:
        cols = (zero, 2 / 3 * one, one, zero) if ch.flip else (one, one / 3, zero, one)
    else:
        c2 = np.cos(np.radians(beta) - a) ** 2
        cols = (zero, 2 / 3 * one, c2, one) if ch.flip else (one, one / 3, 1.0 - c2, zero)
    return np.stack(cols, axis=-1)


def channel_cross_sections(direction: str, *, coherent=0.0, isotope_incoherent=0.0,
                           spin_incoherent=0.0, magnetic=None, magnetic_y=None, magnetic_z=None,
                           alpha=0.0) -> tuple[np.ndarray, np.ndarray]:
    """(NSF, SF) cross sections for polarisation along ``direction`` (module docstring).

    ``coherent`` and ``isotope_incoherent`` are both non-spin-flip; ``spin_incoherent`` is
    2/3 SF + 1/3 NSF.  ``magnetic`` is the unpolarised cross section of an isotropic magnet
    (paramagnet, powder: M_y = M_z = M/2); give ``magnetic_y``/``magnetic_z`` instead for an
    anisotropic one (single crystal).  ``alpha``: angle from x to Q (degrees)."""
    if magnetic is not None and (magnetic_y is not None or magnetic_z is not None):
        raise InputError("give the isotropic magnetic cross section or its y/z parts, not both",
                         field="magnetic", value=magnetic)
    if magnetic is not None:
        my = mz = 0.5 * np.asarray(magnetic, dtype=float)
    else:
        my = np.asarray(0.0 if magnetic_y is None else magnetic_y, dtype=float)
        mz = np.asarray(0.0 if magnetic_z is None else magnetic_z, dtype=float)
    n = np.asarray(coherent, dtype=float) + np.asarray(isotope_incoherent, dtype=float)
    parts = (n, np.asarray(spin_incoherent, dtype=float), my, mz)
    out = []
    for flip in (False, True):
        c = channel_coefficients(Channel(_direction(direction), flip), alpha)
        out.append(sum(c[..., k] * parts[k] for k in range(4)))
    return out[0], out[1]


def _direction(d: str) -> str:
    from .channels import parse_direction

    out = parse_direction(d)
    if out is None:
        raise InputError(f"unknown polarisation direction; use one of {list(DIRECTIONS)}",
                         field="direction", value=d)
    return out


def paramagnetic_cross_section(ion: str, q, *, mu_eff: float | None = None, spin: float | None = None,
                               g: float = 2.0, debye_waller=None, **form_factor) -> np.ndarray:
    r"""dsigma/dOmega (barn/sr per magnetic ion) of an ideal paramagnet:

    .. math::  \frac{d\sigma}{d\Omega} = \tfrac23\, p^2\, \mu_{\rm eff}^2\, f^2(Q)\, e^{-2W}

    with p = 2.6954 fm per mu_B, mu_eff^2 = g^2 S(S+1) (``spin`` S and ``g``) or ``mu_eff``
    (Bohr magnetons) directly, f the dipole form factor of ``ion``
    (:func:`latdyn.scattering.magnetic_form_factor`, extra keywords passed on) and exp(-2W)
    the Debye-Waller factor (``debye_waller``, default 1).  For S = 5/2, g = 2 (Mn2+) the
    value at Q = 0 is 1.695 b/sr (Squires 1978 eq. 7.42 with (gamma r0)^2 = 0.2905 b).
    """
    if (mu_eff is None) == (spin is None):
        raise InputError("give mu_eff (Bohr magnetons) or spin S (with g)", field="mu_eff",
                         value=(mu_eff, spin))
    m2 = float(mu_eff) ** 2 if mu_eff is not None else float(g) ** 2 * float(spin) * (float(spin) + 1)
    if not np.isfinite(m2) or m2 < 0:
        raise InputError("the effective moment must be finite", field="mu_eff", value=m2)
    f = magnetic_form_factor(ion, q, **form_factor)
    dw = 1.0 if debye_waller is None else np.asarray(debye_waller, dtype=float)
    return (2.0 / 3.0) * (P_MAGNETIC_FM**2 / 100.0) * m2 * f**2 * dw


def bragg_channels(nuclear, magnetic_perp, polarisation, incident: int = +1
                   ) -> tuple[np.ndarray, np.ndarray]:
    r"""(NSF, SF) |amplitude|^2 (barn) of Bragg peaks for incident spin ``incident`` (+1 or -1)
    along the unit vector ``polarisation`` (Blume 1963; Moon, Riste & Koehler 1969):

    .. math::

        \sigma^{NSF}_\pm &= |F_N|^2 + |\hat P\cdot\mathbf M_\perp|^2
                           \pm 2\,\mathrm{Re}(F_N^*\,\hat P\cdot\mathbf M_\perp) \\
        \sigma^{SF}_\pm  &= |\mathbf M_\perp|^2 - |\hat P\cdot\mathbf M_\perp|^2
                           \pm i\,\hat P\cdot(\mathbf M_\perp^*\times\mathbf M_\perp)

    ``nuclear``: F_N (n,) complex, fm; ``magnetic_perp``: M_perp (n, 3) complex Cartesian,
    fm (:func:`latdyn.diffraction.magnetic_interaction_vector`); ``polarisation`` (3,) or
    (n, 3) in the same Cartesian frame.  For a collinear ferromagnet with moments along P and
    perpendicular to Q the flipping ratio NSF+/NSF- is ((F_N + M)/(F_N - M))^2.
    """
    fn = np.atleast_1d(np.asarray(nuclear, dtype=complex))
    m = np.atleast_2d(np.asarray(magnetic_perp, dtype=complex))
    p = np.asarray(polarisation, dtype=float)
    if m.shape[-1] != 3 or m.shape[0] != fn.shape[0]:
        raise InputError("magnetic_perp must be (n, 3) with one row per nuclear amplitude",
                         field="magnetic_perp", value=m.shape)
    if incident not in (1, -1):
        raise InputError("incident spin must be +1 or -1", field="incident", value=incident)
    norm = np.linalg.norm(p, axis=-1, keepdims=True)
    if np.any(~np.isfinite(norm)) or np.any(norm == 0):
        raise InputError("polarisation must be a non-zero vector", field="polarisation", value=p)
    p = np.broadcast_to(p / norm, m.shape)
    pm = np.einsum("ni,ni->n", p, m)
    m2 = np.einsum("ni,ni->n", m.conj(), m).real
    nsf = np.abs(fn) ** 2 + np.abs(pm) ** 2 + incident * 2.0 * np.real(fn.conj() * pm)
    chiral = np.real(1j * np.einsum("ni,ni->n", p, np.cross(m.conj(), m)))
    sf = m2 - np.abs(pm) ** 2 + incident * chiral
    return nsf / 100.0, sf / 100.0


def polarised_bragg(structure, hkl, polarisation, incident: int = +1, **kwargs
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(NSF, SF) (barn) of a :class:`~latdyn.structure.MagneticStructure` at ``hkl`` (n, 3),
    incident spin along the Cartesian unit vector ``polarisation`` (frame of the structure's
    lattice): nuclear amplitude (:func:`latdyn.diffraction.structure_factor`, zero off the
    nuclear lattice) and magnetic interaction vector (:func:`latdyn.diffraction
    .magnetic_interaction_vector`) into :func:`bragg_channels`."""
    from ..diffraction import magnetic_interaction_vector, structure_factor

    h = np.atleast_2d(np.asarray(hkl, dtype=float))
    fn = structure_factor(structure.crystal, h, **kwargs)
    fn = np.where(np.all(np.abs(h - np.round(h)) < 1e-6, axis=1), fn, 0.0)
    mp = magnetic_interaction_vector(structure, h, **kwargs)
    return bragg_channels(fn, mp, polarisation, incident)


def _element_split(symbol: str, table: str) -> dict:
    """sigma_coh, sigma_inc, sigma_si, sigma_ii (barn) of one element or isotope."""
    import periodictable as pt

    nat = nuclide(symbol, table)
    out = {"sigma_coh": nat.sigma_coh, "sigma_inc": nat.sigma_inc}
    if nat.A != 0:   # a single isotope: all of its incoherence is spin incoherence
        return out | {"sigma_si": nat.sigma_inc, "sigma_ii": 0.0, "sigma_ii_lengths": 0.0, "split": True}
    el = pt.elements.symbol(symbol)
    ab = {a: float(el[a].abundance) for a in el.isotopes if float(el[a].abundance or 0.0) > 0}
    total = sum(ab.values())
    si = b1 = b2 = 0.0
    try:
        for a, c in ab.items():
            n = nuclide(f"{a}{symbol}", table)
            w = c / total
            si += w * n.sigma_inc
            b1 += w * n.b_coh.real
            b2 += w * n.b_coh.real ** 2
    except InputError:
        return out | {"sigma_si": nat.sigma_inc, "sigma_ii": 0.0, "sigma_ii_lengths": float("nan"),
                      "split": False}
    if not ab:
        return out | {"sigma_si": nat.sigma_inc, "sigma_ii": 0.0, "sigma_ii_lengths": float("nan"),
                      "split": False}
    si = min(si, nat.sigma_inc)
    return out | {"sigma_si": si, "sigma_ii": max(nat.sigma_inc - si, 0.0),
                  "sigma_ii_lengths": 4.0 * np.pi * (b2 - b1 * b1) / 100.0, "split": True}


def sample_cross_sections(formula: str, table: str = "sears") -> dict:
    """Coherent, isotope-incoherent and spin-incoherent cross sections (barn per formula unit).

    Spin incoherence is a property of each isotope: sigma_si = sum_i c_i sigma_inc,i over the
    natural isotopes (abundances c_i of periodictable, isotope cross sections of ``table``);
    the isotope incoherence is the rest of the element's tabulated sigma_inc, so that
    sigma_coh + sigma_ii + sigma_si is the table's total.  ``sigma_ii_lengths`` is the
    isotope incoherence from the isotopes' lengths, 4 pi (<b^2> - <b>^2), as a cross-check.
    An element whose isotopes are not all tabulated keeps its sigma_inc as spin incoherent
    (``split`` False in its row).  Returns totals and one row per element; the NSF and SF
    cross sections of a non-magnetic sample per 4 pi sr follow from :func:`channel_cross_sections`.
    """
    rows = []
    tot = {"sigma_coh": 0.0, "sigma_ii": 0.0, "sigma_si": 0.0}
    for sym, count in parse_formula(formula):
        s = _element_split(sym, table)
        rows.append({"element": sym, "count": count, **s})
        for k in tot:
            tot[k] += count * s[k]
    return {"formula": formula, "table": table, **tot, "elements": rows}
