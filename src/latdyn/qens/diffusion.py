r"""Translational diffusion models: the quasi-elastic HWHM Gamma(Q) (meV) of a Lorentzian.

Units: Q in 1/angstrom, D in angstrom^2/ps, residence time tau in ps, jump length l in
angstrom; hbar from :data:`latdyn.units.HBAR_MEV_PS` (meV ps).  Conversions: 1 A^2/ps =
1e-4 cm^2/s = 1e-8 m^2/s.

- Fick:              Gamma = hbar D Q^2
- Chudley-Elliott:   Gamma = (hbar / tau) [1 - sin(Q l) / (Q l)],       D = l^2 / (6 tau)
  (Chudley & Elliott, Proc. Phys. Soc. 77, 353 (1961); isotropic average of a fixed jump l)
- Hall-Ross:         Gamma = (hbar / tau) [1 - exp(-Q^2 <l^2> / 6)],    D = <l^2> / (6 tau)
  (Hall & Ross, Mol. Phys. 42, 673 (1981); Gaussian distribution of jump vectors, l = rms)
- Singwi-Sjolander:  Gamma = hbar D Q^2 / (1 + D Q^2 tau)
  (Singwi & Sjolander, Phys. Rev. 119, 863 (1960); jump diffusion with residence time tau;
  Teixeira et al., PRA 31, 1913 (1985) for water)

- de Gennes:         Gamma = hbar D_c Q^2 / S(Q)
  (de Gennes, Physica 25, 825 (1959); collective (coherent) diffusion narrowed where the static
  structure factor S(Q) peaks; S(Q) is given, not fitted: :func:`de_gennes_model`)

All tend to Fick's law at small Q; the jump models saturate at hbar / tau.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..units import HBAR_MEV_PS

__all__ = ["DiffusionModel", "DIFFUSION_MODELS", "DIFFUSION_ALIASES", "diffusion_name",
           "get_diffusion_model", "as_diffusion_model", "fick", "chudley_elliott",
           "hall_ross", "singwi_sjolander", "de_gennes", "de_gennes_model", "A2PS_TO_CM2S",
           "A2PS_TO_M2S"]

#: 1 angstrom^2/ps in cm^2/s.
A2PS_TO_CM2S = 1e-16 / 1e-12
#: 1 angstrom^2/ps in m^2/s.
A2PS_TO_M2S = 1e-20 / 1e-12


def _q(Q) -> np.ndarray:
    q = np.asarray(Q, dtype=float)
    if np.any(~np.isfinite(q) | (q < 0)):
        raise InputError("Q must be finite and non-negative", field="Q", value=Q)
    return q


def positive_scalar(x, name: str) -> float:
    """float(x), which must be positive and finite (InputError naming ``name`` otherwise)."""
    v = float(x)
    if not (np.isfinite(v) and v > 0):
        raise InputError(f"{name} must be positive and finite", field=name, value=x)
    return v


def fick(Q, D):
    """Fickian HWHM hbar D Q^2 (meV); D in A^2/ps, Q in 1/A."""
    return HBAR_MEV_PS * positive_scalar(D, "D") * _q(Q) ** 2


def chudley_elliott(Q, D, l):
    """Chudley-Elliott HWHM (hbar/tau)(1 - sin(Ql)/(Ql)) (meV), tau = l^2/(6D); D A^2/ps, l A."""
    d, jl = positive_scalar(D, "D"), positive_scalar(l, "l")
    tau = jl * jl / (6.0 * d)
    return HBAR_MEV_PS / tau * (1.0 - np.sinc(_q(Q) * jl / np.pi))


def hall_ross(Q, D, l):
    """Hall-Ross HWHM (hbar/tau)(1 - exp(-Q^2 l^2/6)) (meV), tau = l^2/(6D); l the rms jump (A)."""
    d, jl = positive_scalar(D, "D"), positive_scalar(l, "l")
    tau = jl * jl / (6.0 * d)
    return -HBAR_MEV_PS / tau * np.expm1(-(_q(Q) * jl) ** 2 / 6.0)


def singwi_sjolander(Q, D, tau):
    """Singwi-Sjolander HWHM hbar D Q^2 / (1 + D Q^2 tau) (meV); D A^2/ps, tau ps."""
    d, t = positive_scalar(D, "D"), positive_scalar(tau, "tau")
    dq2 = d * _q(Q) ** 2
    return HBAR_MEV_PS * dq2 / (1.0 + dq2 * t)


def de_gennes(Q, D, S):
    """de Gennes-narrowed collective HWHM hbar D Q^2 / S(Q) (meV); D A^2/ps, S(Q) > 0 at Q."""
    d = positive_scalar(D, "D")
    s = np.asarray(S, dtype=float)
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise InputError("S(Q) must be positive and finite", field="S", value=S)
    return HBAR_MEV_PS * d * _q(Q) ** 2 / s


def de_gennes_model(q, s) -> DiffusionModel:
    """The de Gennes model with the static structure factor tabulated as ``s`` at ``q`` (1/A),
    interpolated linearly (InputError for Q outside the table) or a callable S(Q)."""
    if callable(s):
        s_of_q = s
    else:
        qt = np.asarray(q, dtype=float).ravel()
        st = np.asarray(s, dtype=float).ravel()
        if qt.size != st.size or qt.size < 1 or np.any(~np.isfinite(qt)) or np.any(~(st > 0)):
            raise InputError("S(Q) needs matching finite Q and positive S values", field="S",
                             value=(qt.size, st.size))
        order = np.argsort(qt)
        qt, st = qt[order], st[order]

        def s_of_q(Q):
            Q = np.asarray(Q, dtype=float)
            tol = 1e-9 * max(1.0, float(qt[-1]))
            if np.any(Q < qt[0] - tol) or np.any(Q > qt[-1] + tol):
                raise InputError(f"Q outside the tabulated S(Q) ({qt[0]:.4g} to {qt[-1]:.4g} 1/A)",
                                 field="Q", value=float(np.max(np.abs(Q))))
            return np.interp(Q, qt, st)

    def gamma(Q, D):
        return de_gennes(Q, D, s_of_q(Q))

    gamma.__doc__ = de_gennes.__doc__
    return DiffusionModel("de-gennes", gamma, ("D",), ("A^2/ps",), (0.1,))


@dataclass(frozen=True)
class DiffusionModel:
    """A named HWHM(Q) model: parameter names, units, initial guesses and derived quantities."""

    name: str
    function: Callable
    params: tuple[str, ...]
    units: tuple[str, ...]
    guess: tuple[float, ...]

    def hwhm(self, Q, **p) -> np.ndarray:
        """Gamma(Q) in meV for parameters by name."""
        return self.function(Q, **{k: p[k] for k in self.params})

    def derived(self, **p) -> dict[str, tuple[float, str]]:
        """Quantities that follow from the parameters, name -> (value, scipp unit): D, and the
        residence time tau and jump length l (or rms jump length l_rms) where defined."""
        d = float(p["D"])
        out = {"D": (d, "angstrom**2/ps")}
        if "l" in p:
            out["l"] = (float(p["l"]), "angstrom")
            out["tau"] = (float(p["l"]) ** 2 / (6.0 * d), "ps")
        if "tau" in p:
            out["tau"] = (float(p["tau"]), "ps")
            out["l_rms"] = (float(np.sqrt(6.0 * d * float(p["tau"]))), "angstrom")
        return out


DIFFUSION_MODELS: dict[str, DiffusionModel] = {
    "fick": DiffusionModel("fick", fick, ("D",), ("A^2/ps",), (0.1,)),
    "chudley-elliott": DiffusionModel("chudley-elliott", chudley_elliott, ("D", "l"),
                                      ("A^2/ps", "A"), (0.1, 2.0)),
    "hall-ross": DiffusionModel("hall-ross", hall_ross, ("D", "l"), ("A^2/ps", "A"), (0.1, 2.0)),
    "singwi-sjolander": DiffusionModel("singwi-sjolander", singwi_sjolander, ("D", "tau"),
                                       ("A^2/ps", "ps"), (0.1, 1.0)),
}


#: the one registry of short names: every entry point (Python and CLI) resolves them here
DIFFUSION_ALIASES = {"fick": "fick", "ce": "chudley-elliott", "chudley-elliott": "chudley-elliott",
                     "hr": "hall-ross", "hall-ross": "hall-ross", "ss": "singwi-sjolander",
                     "singwi-sjolander": "singwi-sjolander", "jump": "singwi-sjolander",
                     "de-gennes": "de-gennes", "degennes": "de-gennes", "dg": "de-gennes"}


def diffusion_name(name: str) -> str:
    """Full diffusion-model name from a full or short one (fick, ce, hr, ss, jump)."""
    key = str(name).strip().lower().replace("_", "-")
    if key not in DIFFUSION_ALIASES:
        raise InputError(f"unknown diffusion model; use one of {sorted(DIFFUSION_ALIASES)}",
                         field="diffusion", value=name)
    return DIFFUSION_ALIASES[key]


def get_diffusion_model(name: str, structure_factor=None) -> DiffusionModel:
    """The diffusion model called ``name`` (a full name or a short one of DIFFUSION_ALIASES).

    'de-gennes' needs ``structure_factor``: (Q, S) arrays or a callable S(Q)."""
    full = diffusion_name(name)
    if full == "de-gennes":
        if structure_factor is None:
            raise InputError("the de Gennes model needs the static structure factor S(Q)",
                             field="structure_factor", value=name)
        if callable(structure_factor):
            return de_gennes_model(None, structure_factor)
        q, s = structure_factor
        return de_gennes_model(q, s)
    return DIFFUSION_MODELS[full]


def as_diffusion_model(model) -> DiffusionModel:
    """A :class:`DiffusionModel` as given, or the registry's model of that name."""
    return model if isinstance(model, DiffusionModel) else get_diffusion_model(model)
