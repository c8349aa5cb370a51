r"""Separation methods: which channels each needs, what it separates, and how.

Every method is a linear model of the measured channels (:mod:`latdyn.polarisation
.cross_sections`), I = A theta, with theta the separated cross sections:

``uniaxial``
    one direction (z by default), NSF and SF; theta = (N, I_si) of a non-magnetic sample
    (Scharpf & Capellmann 1993): I_si = 3/2 SF, N = NSF - SF/2.
``xyz``
    x, y, z, NSF and SF (six channels); theta = (N, I_si, M) of a paramagnet or powder (M
    isotropic: M_y = M_z = M/2).  The published combination (Stewart et al., J. Appl. Cryst.
    42, 69 (2009); Ehlers et al., Rev. Sci. Instrum. 84, 093901 (2013)):
    M_SF = 2 (SF_x + SF_y - 2 SF_z), M_NSF = 2 (2 NSF_z - NSF_x - NSF_y), M = (M_SF + M_NSF)/2,
    I_si = (SF_x + SF_y + SF_z)/2 - M, N = [2 (NSF_x + NSF_y + NSF_z) - (SF_x + SF_y + SF_z)]/6.
``xyz-crystal``
    the same six channels for an anisotropic magnet (single crystal); theta = (N, I_si, M_y,
    M_z) at the angle alpha of each point (Schweika 2010).  M_y is undetermined where
    cos 2 alpha = 0 (those points are masked).
``ten-point``
    x, y, z, x+y, x-y, NSF and SF (ten channels): theta = (N, I_si, M_y, M_z) at every alpha
    (Schweika, J. Phys. Conf. Ser. 211, 012026 (2010)): the x+y and x-y pair measures
    sin 2 alpha M_y where x and y measure cos 2 alpha M_y.

``magnetic`` = M_y + M_z is reported with the anisotropic methods (a linear combination of
the same channels, so its error is exact).  The *combination* estimator of the anisotropic
methods is the ordinary least-squares solution, theta = (A^T A)^-1 A^T I, a fixed linear
combination at each alpha; the *weighted* estimator (:mod:`latdyn.polarisation.separation`)
uses the channels' variances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .channels import Channel
from .cross_sections import channel_coefficients

__all__ = ["Method", "METHODS", "get_method"]

_XYZ = ("x", "y", "z")
_TEN = ("x", "y", "z", "x+y", "x-y")


def _keys(directions) -> tuple[str, ...]:
    return tuple(Channel(d, f).key for d in directions for f in (False, True))


@dataclass(frozen=True)
class Method:
    """A separation method: required channels (canonical keys), fitted components (``base``),
    reported components (``components``: base plus linear combinations of them), whether it
    needs the angle alpha, and its reference."""

    name: str
    directions: tuple[str, ...]
    base: tuple[str, ...]
    components: tuple[str, ...]
    needs_alpha: bool
    reference: str

    @property
    def channels(self) -> tuple[str, ...]:
        return _keys(self.directions)

    def design(self, alpha: np.ndarray) -> np.ndarray:
        """A (P, n_channels, n_base): channel = A theta at each point's alpha (degrees)."""
        a = np.atleast_1d(np.asarray(alpha, dtype=float))
        rows = np.stack([channel_coefficients(c, a) for c in self.channels], axis=-2)  # (P, nc, 4)
        if self.base == ("coherent", "spin_incoherent"):
            return rows[..., :2]
        if self.base == ("coherent", "spin_incoherent", "magnetic"):
            return np.concatenate([rows[..., :2], 0.5 * (rows[..., 2:3] + rows[..., 3:4])], axis=-1)
        return rows

    def derived(self) -> np.ndarray:
        """D (n_components, n_base): reported components = D theta."""
        nb = len(self.base)
        rows = [np.eye(nb)[self.base.index(c)] if c in self.base else None for c in self.components]
        out = []
        for r in rows:
            if r is None:   # magnetic = magnetic_y + magnetic_z
                r = np.zeros(nb)
                r[self.base.index("magnetic_y")] = r[self.base.index("magnetic_z")] = 1.0
            out.append(r)
        return np.array(out)

    def combination(self, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(C (P, n_base, n_channels), singular (P,) bool): theta = C I, exact on noiseless
        data (C A = 1).  Published combinations for uniaxial and xyz, least squares otherwise;
        ``singular`` marks points where the method cannot separate (C is zero there)."""
        A = self.design(alpha)
        P = A.shape[0]
        ch = {k: i for i, k in enumerate(self.channels)}
        if self.name == "xyz":
            C = np.zeros((len(self.base), len(self.channels)))
            sf = [ch[f"{d}_sf"] for d in _XYZ]
            nsf = [ch[f"{d}_nsf"] for d in _XYZ]
            m = np.zeros(len(self.channels))
            m[[ch["x_sf"], ch["y_sf"]]] += 1.0
            m[ch["z_sf"]] -= 2.0
            m[[ch["x_nsf"], ch["y_nsf"]]] -= 1.0
            m[ch["z_nsf"]] += 2.0
            C[2] = m                                   # (M_SF + M_NSF) / 2
            C[1, sf] = 0.5
            C[1] -= C[2]                               # I_si = sum(SF)/2 - M
            C[0, nsf] = 2.0 / 6.0
            C[0, sf] = -1.0 / 6.0
            return np.broadcast_to(C, (P, *C.shape)).copy(), np.zeros(P, bool)
        G = np.einsum("pci,pcj->pij", A, A)
        cond = np.linalg.cond(G)
        singular = ~np.isfinite(cond) | (cond > 1e10)
        Gs = np.where(singular[:, None, None], np.eye(G.shape[-1]), G)
        C = np.linalg.solve(Gs, np.swapaxes(A, 1, 2))
        C[singular] = 0.0
        return C, singular


METHODS: dict[str, Method] = {
    "uniaxial": Method("uniaxial", ("z",), ("coherent", "spin_incoherent"),
                       ("coherent", "spin_incoherent"), False, "Scharpf & Capellmann 1993"),
    "xyz": Method("xyz", _XYZ, ("coherent", "spin_incoherent", "magnetic"),
                  ("coherent", "spin_incoherent", "magnetic"), False,
                  "Scharpf & Capellmann 1993; Stewart et al. 2009"),
    "xyz-crystal": Method("xyz-crystal", _XYZ, ("coherent", "spin_incoherent", "magnetic_y", "magnetic_z"),
                          ("coherent", "spin_incoherent", "magnetic_y", "magnetic_z", "magnetic"), True,
                          "Schweika 2010"),
    "ten-point": Method("ten-point", _TEN, ("coherent", "spin_incoherent", "magnetic_y", "magnetic_z"),
                        ("coherent", "spin_incoherent", "magnetic_y", "magnetic_z", "magnetic"), True,
                        "Schweika 2010"),
}

_ALIASES = {"uniaxial": "uniaxial", "z": "uniaxial", "xyz": "xyz", "six-point": "xyz",
            "6p": "xyz", "xyz-crystal": "xyz-crystal", "ten-point": "ten-point", "10p": "ten-point",
            "10-point": "ten-point", "tenpoint": "ten-point"}


def get_method(name: str, direction: str | None = None) -> Method:
    """The method called ``name`` (uniaxial, xyz, xyz-crystal, ten-point; aliases z, 6p, 10p).
    ``direction`` sets the polarisation direction of the uniaxial method (default z)."""
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise InputError(f"unknown separation method; use one of {list(METHODS)}", field="method",
                         value=name)
    m = METHODS[key]
    if key == "uniaxial" and direction not in (None, "z"):
        from .channels import parse_direction

        d = parse_direction(direction)
        if d is None:
            raise InputError("unknown polarisation direction", field="direction", value=direction)
        m = Method("uniaxial", (d,), m.base, m.components, False, m.reference)
    return m
