r"""Spectrum models and their parameter rules.

A :class:`SpectrumModel` is a sum of components convolved with the resolution R, shifted by
the offset s of each group, plus a background:

    M(Q, E) = A_el(Q) R(E - s) + sum_i R (x) [B(E) A_i f_i](E - s) + b(E)

f_i are unit-area symmetric lines of :mod:`latdyn.lineshapes` ('lorentzian', 'gaussian',
'dho' = :func:`~latdyn.lineshapes.dho_symmetric`; a component may be a series of terms, e.g.
the rotational expansion of a geometry model) and B(E) the detailed-balance factor applied
when a temperature is given (none on the elastic line, B(0) = 1).  For the DHO, B(E) times the
symmetric line is (E_0 / 2 k_B T) [n(E) + 1] D(E) with D the response of
:func:`~latdyn.lineshapes.dho` (Fak & Dorner 1997), so A is the area of the classical line.
The background b(E) is non-negative over the fitted window by construction: 'flat' is one
value b_0 >= 0, 'linear' the straight line through its values at the two ends of the energy
window, b_low >= 0 and b_high >= 0.  Model parameters are named ``<component>_<param>``
(``elastic_amplitude``, ``L1_hwhm``, ``shift``, ``bg0``, ``bg_low``, ``bg_high``); each is an
array over Q groups.

How each model parameter is obtained is a :class:`Rule`: free per group ('perq'), one value
shared by all groups ('shared'), fixed, or derived from global and per-group fit parameters
through a function of Q ('derived': widths tied to a diffusion model, elastic fraction tied to
an EISF model, a geometry model's Lorentzian series).  :class:`FitSetup` collects the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..convolution.kernels import db_factor, db_factor_derivative
from ..errors import InputError

__all__ = ["Component", "SpectrumModel", "Rule", "FitSetup", "qens_model"]

_LINE_PARAMS = {"lorentzian": ("amplitude", "hwhm"), "gaussian": ("amplitude", "hwhm", "center"),
                "dho": ("amplitude", "E0", "hwhm")}
#: kernel of each component kind: a 'dho' component is the unit-area symmetric DHO
#: (E_0/2) D(E)/E (:func:`latdyn.lineshapes.dho_symmetric`), which B(E) turns into
#: (E_0 / 2 k_B T) [n(E) + 1] D(E), the detailed-balanced damped oscillator.
_KERNEL = {"dho": "dho_even"}


@dataclass(frozen=True)
class Component:
    """One line of the model: a name and a kind ('lorentzian', 'gaussian' or 'dho')."""

    name: str
    kind: str

    def __post_init__(self):
        if self.kind not in _LINE_PARAMS:
            raise InputError(f"unknown component kind; use one of {sorted(_LINE_PARAMS)}",
                             field="kind", value=self.kind)
        if not self.name.isidentifier() or self.name in ("elastic", "shift", "bg0", "bg"):
            raise InputError("component name must be an identifier other than a reserved name",
                             field="name", value=self.name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}_{p}" for p in _LINE_PARAMS[self.kind])


@dataclass(frozen=True)
class SpectrumModel:
    """Elastic line (optional) + components + background ('none', 'flat', 'linear'), all
    convolved with the resolution; ``temperature`` (K) switches detailed balance on."""

    components: tuple[Component, ...] = ()
    elastic: bool = True
    background: str = "flat"
    temperature: float | None = None

    def __post_init__(self):
        if self.background not in ("none", "flat", "linear"):
            raise InputError("background must be 'none', 'flat' or 'linear'", field="background",
                             value=self.background)
        if self.temperature is not None and not (np.isfinite(self.temperature) and self.temperature > 0):
            raise InputError("temperature must be positive (K)", field="temperature",
                             value=self.temperature)

    @property
    def param_names(self) -> tuple[str, ...]:
        names = ["shift"] + (["elastic_amplitude"] if self.elastic else [])
        for c in self.components:
            names += c.param_names
        names += {"none": [], "flat": ["bg0"], "linear": ["bg_low", "bg_high"]}[self.background]
        return tuple(names)

    def to_dict(self) -> dict:
        return {"components": [[c.name, c.kind] for c in self.components], "elastic": self.elastic,
                "background": self.background, "temperature": self.temperature}

    def evaluate(self, res, p: dict[str, np.ndarray], parts: bool = False):
        """Model (nQ, nE) on the prepared resolution ``res`` for parameter arrays ``p``.

        With ``parts`` also a dict component name -> its contribution (for plots)."""
        shift = np.asarray(p["shift"], dtype=float)
        E = res.E
        out = {}
        total = np.zeros((shift.size, E.size))
        if self.elastic:
            out["elastic"] = np.asarray(p["elastic_amplitude"])[:, None] * res.delta(shift)
            total += out["elastic"]
        if self.temperature is not None and self.components:
            ep = E[None, :] - shift[:, None]
            B, dB = db_factor(ep, self.temperature), db_factor_derivative(ep, self.temperature)
        for c in self.components:
            kw = {k.split("_", 1)[1]: p[k] for k in c.param_names if not k.endswith("_amplitude")}
            val, mom = res.line(_KERNEL.get(c.kind, c.kind), p[f"{c.name}_amplitude"], kw, shift)
            if self.temperature is not None:
                val = B * val - dB * mom
            out[c.name] = val
            total += val
        if self.background == "flat":
            bg = np.asarray(p["bg0"])[:, None] + 0.0 * E[None, :]
        elif self.background == "linear":
            t = (E - E[0]) / (E[-1] - E[0])
            bg = np.asarray(p["bg_low"])[:, None] * (1.0 - t)[None, :] + np.asarray(p["bg_high"])[:, None] * t
        if self.background != "none":
            out["background"] = np.broadcast_to(bg, total.shape)
            total = total + bg
        return (total, out) if parts else total


def qens_model(n_lorentzians: int = 1, background: str = "flat", temperature: float | None = None,
               elastic: bool = True) -> SpectrumModel:
    """Elastic line + ``n_lorentzians`` Lorentzians L1..Ln + background."""
    if not 0 <= int(n_lorentzians) <= 5:
        raise InputError("number of Lorentzians must be 0 to 5", field="n_lorentzians",
                         value=n_lorentzians)
    return SpectrumModel(tuple(Component(f"L{i + 1}", "lorentzian") for i in range(int(n_lorentzians))),
                         elastic, background, temperature)


@dataclass
class Rule:
    """How a model parameter is obtained.

    kind: 'perq' (one fit parameter per group), 'shared' (one for all groups), 'fixed', or
    'derived': ``function(Q, g)`` returns the array from ``g``, a dict of the fit parameters
    named in ``globals`` (scalars) and ``perq`` (arrays over groups); both map a name to
    (initial value, min, max).  ``description`` is written into result files.
    """

    kind: str
    value: float = 0.0
    min: float = -np.inf
    max: float = np.inf
    function: Callable | None = None
    globals: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    perq: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    description: str = ""


@dataclass
class FitSetup:
    """A model with a :class:`Rule` per parameter (defaults: every parameter free per group)."""

    model: SpectrumModel
    rules: dict[str, Rule] = field(default_factory=dict)

    def __post_init__(self):
        for n in self.model.param_names:
            self.rules.setdefault(n, Rule("perq", *_default_init(n)))

    def _check(self, name):
        if name not in self.model.param_names:
            raise InputError(f"unknown model parameter; the model has {list(self.model.param_names)}",
                             field="parameter", value=name)

    def set(self, name: str, value: float | None = None, min: float | None = None,
            max: float | None = None) -> FitSetup:
        """Initial value and bounds of a free or shared parameter."""
        self._check(name)
        r = self.rules[name]
        r.value = r.value if value is None else float(value)
        r.min = r.min if min is None else float(min)
        r.max = r.max if max is None else float(max)
        return self

    def fix(self, name: str, value: float) -> FitSetup:
        self._check(name)
        self.rules[name] = Rule("fixed", float(value), description=f"fixed at {value}")
        return self

    def share(self, name: str, value: float | None = None, min: float | None = None,
              max: float | None = None) -> FitSetup:
        """One value of ``name`` for all groups."""
        self._check(name)
        r = self.rules[name]
        self.rules[name] = Rule("shared", r.value, r.min, r.max, description="shared by all groups")
        return self.set(name, value, min, max)

    def tie_diffusion(self, component: str, model, init: dict | None = None) -> FitSetup:
        """Tie ``<component>_hwhm`` to a diffusion model Gamma(Q) (latdyn.qens.diffusion; a name
        or a :class:`~latdyn.qens.diffusion.DiffusionModel`, e.g. the de Gennes model)."""
        from .diffusion import as_diffusion_model

        name = f"{component}_hwhm"
        self._check(name)
        dm = as_diffusion_model(model)
        init = init or {}
        glob = {f"{component}_{p}": (float(init.get(p, g)), 1e-8, np.inf)
                for p, g in zip(dm.params, dm.guess, strict=True)}

        def fn(Q, g, dm=dm, c=component):
            return dm.hwhm(Q, **{p: g[f"{c}_{p}"] for p in dm.params})

        self.rules[name] = Rule("derived", function=fn, globals=glob,
                                description=f"HWHM from diffusion model {dm.name}")
        self.diffusion = getattr(self, "diffusion", {}) | {component: dm}
        return self

    def tie_eisf(self, spec: str, component: str, immobile: bool = False,
                 init: dict | None = None) -> FitSetup:
        """Elastic fraction A_el / (A_el + A_c) = EISF(Q) of a geometry model; I(Q) free per group.

        Only the lengths of the model (and the immobile fraction) are fitted: its rates do not
        change the EISF.  The width of ``component`` keeps its own rule (free, shared or tied)."""
        from .geometry import get_geometry_model

        gm = get_geometry_model(spec)
        amp = f"{component}_amplitude"
        self._check(amp)
        self._check("elastic_amplitude")
        # only the lengths shape the EISF; a rate or time would be a parameter without effect
        shape = {p for p, u in zip(gm.params, gm.units, strict=True) if u in ("A", "A^2")}
        glob = {k: v for k, v in self._geometry_globals(gm, init, immobile).items()
                if k == "immobile" or k[5:] in shape}
        held = {p: float((init or {}).get(p, g)) for p, g in zip(gm.params, gm.guess, strict=True)
                if p not in shape}

        def eisf(Q, g, gm=gm, held=held):
            return gm.eisf(Q, immobile=g.get("immobile", 0.0),
                           **({p: g[f"eisf_{p}"] for p in gm.params if p not in held} | held))

        perq = {"intensity": (1.0, 0.0, np.inf)}
        self.rules["elastic_amplitude"] = Rule(
            "derived", function=lambda Q, g: g["intensity"] * eisf(Q, g), globals=glob, perq=perq,
            description=f"intensity * EISF of {gm.name}")
        self.rules[amp] = Rule("derived", function=lambda Q, g: g["intensity"] * (1 - eisf(Q, g)),
                               globals=glob, perq=perq, description=f"intensity * (1 - EISF of {gm.name})")
        self.geometry = gm
        return self

    def expand_geometry(self, spec: str, component: str, immobile: bool = False,
                        init: dict | None = None) -> FitSetup:
        """Replace a Lorentzian by the full series of a geometry model (rotational expansion).

        Elastic = I(Q) A_0(Q); the component = I(Q) sum_k A_k(Q) L(Gamma_k) with the weights and
        widths of the model (Bee 1988 ch. 6); I(Q) free per group, model parameters global.
        """
        from .geometry import get_geometry_model

        gm = get_geometry_model(spec)
        for n in (f"{component}_amplitude", f"{component}_hwhm", "elastic_amplitude"):
            self._check(n)
        glob = self._geometry_globals(gm, init, immobile)
        perq = {"intensity": (1.0, 0.0, np.inf)}

        def terms(Q, g, gm=gm):
            return gm.terms(Q, immobile=g.get("immobile", 0.0), **{p: g[f"eisf_{p}"] for p in gm.params})

        def amps(Q, g):
            return g["intensity"][:, None] * terms(Q, g)[0][:, 1:]

        self.rules[f"{component}_amplitude"] = Rule("derived", function=amps, globals=glob, perq=perq,
                                                    description=f"intensity * A_k of {gm.name}")
        self.rules[f"{component}_hwhm"] = Rule("derived", function=lambda Q, g: terms(Q, g)[1][:, 1:],
                                               globals=glob, description=f"Gamma_k of {gm.name}")
        self.rules["elastic_amplitude"] = Rule("derived", function=lambda Q, g: g["intensity"]
                                               * terms(Q, g)[0][:, 0], globals=glob, perq=perq,
                                               description=f"intensity * EISF of {gm.name}")
        self.geometry = gm
        return self

    def tie_translation(self, component: str, diffusion: str, geometry: str, immobile: bool = False,
                        init: dict | None = None) -> FitSetup:
        r"""Translation x localised motion: the product of two independent motions in time.

        If a particle diffuses (HWHM Gamma_t(Q) of a diffusion model) and, independently, moves
        within a molecule (geometry model: A_k(Q), Gamma_k), the intermediate scattering
        function is the product I_t(Q,t) I_loc(Q,t), so S is the convolution of both laws:

            S(Q, E) = sum_k A_k(Q) L(E; Gamma_t(Q) + Gamma_k),

        the elastic term of the localised motion (k = 0, the EISF) broadened into L(Gamma_t).
        With ``sphere-rotation`` this is the model of water of Teixeira, Bellissent-Funel,
        Chen & Dianoux, Phys. Rev. A 31, 1913 (1985) (jump diffusion x isotropic rotation);
        Bee (1988) sec. 6.6.  ``<component>_amplitude`` = I(Q) A_k(Q) (I free per group),
        ``<component>_hwhm`` = Gamma_t(Q) + Gamma_k(Q); diffusion parameters are global
        (``<component>_D``, ...), geometry parameters ``eisf_<name>``.  The elastic line of the
        model, if any, stays free per group (an immobile or container contribution).
        """
        from .diffusion import get_diffusion_model
        from .geometry import get_geometry_model

        dm = get_diffusion_model(diffusion)
        gm = get_geometry_model(geometry)
        for n in (f"{component}_amplitude", f"{component}_hwhm"):
            self._check(n)
        init = init or {}
        glob = {f"{component}_{p}": (float(init.get(p, g)), 1e-8, np.inf)
                for p, g in zip(dm.params, dm.guess, strict=True)}
        glob |= self._geometry_globals(gm, init, immobile)
        perq = {"intensity": (1.0, 0.0, np.inf)}

        def terms(Q, g, gm=gm, dm=dm, c=component):
            A, G = gm.terms(Q, immobile=g.get("immobile", 0.0), **{p: g[f"eisf_{p}"] for p in gm.params})
            gt = dm.hwhm(Q, **{p: g[f"{c}_{p}"] for p in dm.params})
            return A, G + np.asarray(gt, dtype=float)[:, None]

        self.rules[f"{component}_amplitude"] = Rule(
            "derived", function=lambda Q, g: g["intensity"][:, None] * terms(Q, g)[0], globals=glob,
            perq=perq, description=f"intensity * A_k of {gm.name} (translation x {gm.name})")
        self.rules[f"{component}_hwhm"] = Rule(
            "derived", function=lambda Q, g: terms(Q, g)[1], globals=glob,
            description=f"Gamma_t of {dm.name} + Gamma_k of {gm.name}")
        self.diffusion = getattr(self, "diffusion", {}) | {component: dm}
        self.geometry = gm
        return self

    @staticmethod
    def _geometry_globals(gm, init, immobile):
        init = init or {}
        glob = {f"eisf_{p}": (float(init.get(p, g)), 1e-6, np.inf)
                for p, g in zip(gm.params, gm.guess, strict=True)}
        if immobile:
            glob["immobile"] = (float(init.get("immobile", 0.1)), 0.0, 1.0)
        return glob

    def parameter_unit(self, name: str, data_unit: str = "dimensionless") -> str:
        """Unit (scipp spelling) of a model or fit parameter: energies meV, amplitudes and the
        per-group intensity data x meV (areas of unit-area lines), backgrounds the data's,
        diffusion and geometry parameters those of their model."""
        import re

        import scipp as sc

        from ..units import scipp_unit

        base = re.sub(r"_q\d+$", "", name)
        data = sc.Unit(data_unit or "dimensionless")
        if base == "shift" or base.endswith(("_hwhm", "_E0", "_center")):
            return "meV"
        if base.endswith("_amplitude") or base == "intensity":
            return str(data * sc.Unit("meV"))
        if base in ("bg0", "bg_low", "bg_high"):
            return str(data)
        if base == "immobile":
            return "dimensionless"
        gm = getattr(self, "geometry", None)
        if gm is not None and base.startswith("eisf_") and base[5:] in gm.params:
            return scipp_unit(gm.units[gm.params.index(base[5:])])
        for comp, dm in getattr(self, "diffusion", {}).items():
            p = base[len(comp) + 1:] if base.startswith(f"{comp}_") else None
            if p in dm.params:
                return scipp_unit(dm.units[dm.params.index(p)])
        return ""

    def describe(self) -> dict[str, str]:
        """Parameter -> rule, for result files."""
        out = {}
        for n in self.model.param_names:
            r = self.rules[n]
            out[n] = r.description or r.kind
        return out


def _default_init(name: str) -> tuple[float, float, float]:
    if name == "shift":
        return 0.0, -np.inf, np.inf
    if name.endswith("_amplitude"):
        return 1.0, 0.0, np.inf
    if name.endswith("_hwhm"):
        return 0.1, 1e-6, np.inf
    if name.endswith("_E0"):
        return 5.0, 1e-6, np.inf
    if name in ("bg0", "bg_low", "bg_high"):
        return 0.0, 0.0, np.inf
    return 0.0, -np.inf, np.inf
