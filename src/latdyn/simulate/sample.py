r"""The sample of a virtual experiment: composition, amount, geometry and self-shielding.

``Sample(formula, mass_g, area_cm2=..., thickness_mm=...)`` holds what the count rate needs:

* the number of formula units N = (m / M) N_A (M the formula mass in g/mol, from
  :class:`latdyn.scattering.Composition`, Sears 1992 cross sections by default);
* the fraction of them in the beam (``illuminated_fraction``, default 1: the beam covers the
  sample);
* for self-shielding, a flat slab: its areal density n_A = N / A (formula units per cm^2) from
  the face area A (``area_cm2``, or mass / (density x thickness)), its normal at
  ``angle_deg`` to the incident beam (0: the beam hits the face at normal incidence) in the
  horizontal scattering plane;
* or a cylinder / annulus (``outer_radius_mm``, ``inner_radius_mm``, axis normal to the
  scattering plane) with its number density from ``density_g_cm3`` or from the mass and
  ``height_mm``; its self-shielding is :func:`latdyn.reduce.cylinder_attenuation`.

Self-shielding of a slab (Paalman and Pings, J. Appl. Phys. 33, 2635 (1962), flat-plate case;
as in Mantid's FlatPlateAbsorption): with the attenuation coefficients
mu = n (sigma_coh + sigma_inc + sigma_abs(lambda)) at the incident and final wavelengths
(absorption 1/v, :func:`latdyn.scattering.absorption_at`), a neutron scattered at depth x of
a slab of thickness t travels x / cos(alpha) in and (t - x) / cos(2theta - alpha) out through
the back face (transmission geometry, cos(2theta - alpha) > 0) or x / |cos(2theta - alpha)|
through the front face (reflection geometry).  Averaged over the depth, with
a = mu_i t / cos(alpha) and b = mu_f t / |cos(2theta - alpha)|,

.. math::  A = \frac{e^{-b} - e^{-a}}{a - b}\ \ \text{(transmission)},\qquad
           A = \frac{1 - e^{-(a+b)}}{a + b}\ \ \text{(reflection)},

so that forward elastic scattering (a = b = mu t) is attenuated by exactly exp(-mu t), and
A -> 0 for a beam leaving along the slab (an infinite slab).  Multiple scattering is not
modelled; the attenuation uses the bound (tabulated) scattering cross sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import constants as C

from ..errors import InputError
from ..reduce.absorption import cylinder_attenuation
from ..scattering import Composition

__all__ = ["Sample", "slab_attenuation"]


def _ratio(d):
    """(1 - exp(-d)) / d, 1 at d = 0, stable for small |d|."""
    d = np.asarray(d, dtype=float)
    small = np.abs(d) < 1e-8
    safe = np.where(small, 1.0, d)
    return np.where(small, 1.0 - 0.5 * d, -np.expm1(-safe) / safe)


def slab_attenuation(mu_t_in, mu_t_out, two_theta_deg, angle_deg: float = 0.0) -> np.ndarray:
    """Self-shielding factor A of a flat slab (see the module docstring; arrays broadcast).

    mu_t_in, mu_t_out: attenuation coefficient times thickness (along the normal) at the
    incident and final wavelengths; two_theta_deg: scattering angle; angle_deg: slab normal
    to incident beam.  Returns A in [0, 1].
    """
    alpha = np.radians(float(angle_deg))
    if not np.cos(alpha) > 1e-6:
        raise InputError("the slab normal must make an angle below 90 deg with the beam",
                         field="angle_deg", value=angle_deg)
    a = np.asarray(mu_t_in, dtype=float) / np.cos(alpha)
    c_out = np.cos(np.radians(np.asarray(two_theta_deg, dtype=float)) - alpha)
    mu_out = np.asarray(mu_t_out, dtype=float)
    if np.any(a < 0) or np.any(mu_out < 0):
        raise InputError("attenuation must be non-negative", field="mu_t", value=float(np.min(a)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        b = np.where(np.abs(c_out) > 1e-12, mu_out / np.abs(c_out), np.inf)
        trans = np.exp(-np.minimum(a, b)) * _ratio(np.abs(a - b))
        refl = _ratio(a + b)
        out = np.where(c_out > 0, trans, refl)
    return np.where(np.isfinite(b), out, 0.0)


@dataclass(frozen=True)
class Sample:
    """A sample: ``formula`` (latdyn.scattering syntax), ``mass_g`` (g) and optionally its slab
    or cylinder geometry for self-shielding.

    area_cm2: face area (cm^2); thickness_mm (mm) and density_g_cm3 (g/cm^3) give the area as
    mass / (density x thickness) when ``area_cm2`` is not given (all three must agree within
    2 % when all are given); angle_deg: slab normal to the incident beam; illuminated_fraction:
    fraction of the sample in the beam (default 1); table: scattering table ('sears' or
    'rauch').  Without an area (or thickness and density) no self-shielding is applied.
    Cylinder or annulus instead of a slab: outer_radius_mm, inner_radius_mm (0: solid) and
    either density_g_cm3 or height_mm (the filled height, giving the density from the mass).
    """

    formula: str
    mass_g: float
    area_cm2: float | None = None
    thickness_mm: float | None = None
    density_g_cm3: float | None = None
    angle_deg: float = 0.0
    illuminated_fraction: float = 1.0
    table: str = "sears"
    outer_radius_mm: float | None = None
    inner_radius_mm: float = 0.0
    height_mm: float | None = None
    composition: Composition = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "composition", Composition(self.formula, self.table))
        _positive(self.mass_g, "mass_g")
        for name in ("area_cm2", "thickness_mm", "density_g_cm3"):
            if getattr(self, name) is not None:
                _positive(getattr(self, name), name)
        if not (0 < self.illuminated_fraction <= 1):
            raise InputError("illuminated fraction must lie in (0, 1]", field="illuminated_fraction",
                             value=self.illuminated_fraction)
        if not abs(self.angle_deg) < 90:
            raise InputError("the slab normal must make an angle below 90 deg with the beam",
                             field="angle_deg", value=self.angle_deg)
        if self.outer_radius_mm is not None:
            self._check_cylinder()
        elif self.height_mm is not None or self.inner_radius_mm:
            raise InputError("a cylinder needs outer_radius_mm", field="outer_radius_mm", value=None)
        if None not in (self.area_cm2, self.thickness_mm, self.density_g_cm3):
            implied = self.density_g_cm3 * self.area_cm2 * 0.1 * self.thickness_mm
            if abs(implied / self.mass_g - 1) > 0.02:
                raise InputError(f"mass disagrees with density x area x thickness = {implied:.4g} g",
                                 field="mass_g", value=self.mass_g)

    def _check_cylinder(self) -> None:
        _positive(self.outer_radius_mm, "outer_radius_mm")
        if not (0 <= self.inner_radius_mm < self.outer_radius_mm):
            raise InputError("inner radius must lie in [0, outer radius) (mm)", field="inner_radius_mm",
                             value=self.inner_radius_mm)
        if self.area_cm2 is not None or self.thickness_mm is not None:
            raise InputError("give a slab (area/thickness) or a cylinder (radii), not both",
                             field="outer_radius_mm", value=self.outer_radius_mm)
        if self.height_mm is not None:
            _positive(self.height_mm, "height_mm")
        if (self.density_g_cm3 is None) == (self.height_mm is None):
            raise InputError("a cylinder needs either density_g_cm3 or height_mm", field="height_mm",
                             value=self.height_mm)

    @property
    def cylinder(self) -> bool:
        """True for a cylindrical or annular sample."""
        return self.outer_radius_mm is not None

    def number_density(self) -> float:
        """Formula units per cm^3 of a cylindrical sample: rho N_A / M, or N over the filled
        volume pi (R_o^2 - R_i^2) h."""
        if self.density_g_cm3 is not None:
            return self.density_g_cm3 / self.molar_mass * C.N_A
        area = np.pi * ((0.1 * self.outer_radius_mm) ** 2 - (0.1 * self.inner_radius_mm) ** 2)
        return self.formula_units / (area * 0.1 * self.height_mm)

    def mu_per_cm(self, wavelength) -> np.ndarray:
        """Attenuation coefficient (1/cm) of a cylindrical sample at ``wavelength`` (angstrom)."""
        c = self.composition
        lam = np.asarray(wavelength, dtype=float)
        return self.number_density() * (c.sigma_coh + c.sigma_inc + np.asarray(c.sigma_abs(lam))) * 1e-24

    @property
    def molar_mass(self) -> float:
        """Formula mass (g/mol)."""
        return self.composition.mass

    @property
    def formula_units(self) -> float:
        """N = mass / molar mass x N_A (all formula units in the sample)."""
        return self.mass_g / self.molar_mass * C.N_A

    @property
    def illuminated_formula_units(self) -> float:
        """Formula units in the beam, N x illuminated_fraction."""
        return self.formula_units * self.illuminated_fraction

    @property
    def face_area_cm2(self) -> float | None:
        """Slab face area (cm^2): given, or mass / (density x thickness); None if unknown."""
        if self.area_cm2 is not None:
            return self.area_cm2
        if self.thickness_mm is not None and self.density_g_cm3 is not None:
            return self.mass_g / (self.density_g_cm3 * 0.1 * self.thickness_mm)
        return None

    @property
    def areal_density(self) -> float | None:
        """Formula units per cm^2 of slab face, N / A (None without a geometry)."""
        area = self.face_area_cm2
        return None if area is None else self.formula_units / area

    def mu_t(self, wavelength) -> np.ndarray | float:
        """Attenuation mu t along the normal at ``wavelength`` (angstrom): n_A (sigma_coh +
        sigma_inc + sigma_abs(lambda)) with cross sections per formula unit (1 b = 1e-24 cm^2);
        0 without a geometry."""
        lam = np.asarray(wavelength, dtype=float)
        n_a = self.areal_density
        if n_a is None:
            return np.zeros_like(lam)
        c = self.composition
        sigma = c.sigma_coh + c.sigma_inc + np.asarray(c.sigma_abs(lam))
        return n_a * sigma * 1e-24

    def attenuation(self, wavelength_in, wavelength_out, two_theta_deg) -> np.ndarray:
        """Self-shielding factor (:func:`slab_attenuation` or, for a cylinder,
        :func:`latdyn.reduce.cylinder_attenuation`); 1 without a geometry."""
        if self.cylinder:
            return cylinder_attenuation(two_theta_deg, self.mu_per_cm(wavelength_in),
                                        self.mu_per_cm(wavelength_out), self.outer_radius_mm,
                                        self.inner_radius_mm)
        if self.areal_density is None:
            return np.ones(np.broadcast(np.asarray(wavelength_out), np.asarray(two_theta_deg)).shape)
        return slab_attenuation(self.mu_t(wavelength_in), self.mu_t(wavelength_out), two_theta_deg,
                                self.angle_deg)

    def cross_section(self, kind) -> float:
        """Cross section (barn per formula unit) that normalises a model S(Q,E):
        'total' (sigma_coh + sigma_inc), 'coherent', 'incoherent', 'absolute' (the model is
        already d^2sigma/dOmega dE / (k_f/k_i) in barn/sr/meV per formula unit: 4 pi) or a
        number (barn)."""
        c = self.composition
        table = {"total": c.sigma_coh + c.sigma_inc, "coherent": c.sigma_coh,
                 "incoherent": c.sigma_inc, "absolute": 4.0 * np.pi}
        if isinstance(kind, str):
            if kind not in table:
                raise InputError(f"cross_section must be one of {sorted(table)} or a number (barn)",
                                 field="cross_section", value=kind)
            return float(table[kind])
        value = float(kind)
        if not np.isfinite(value) or value <= 0:
            raise InputError("cross section must be a positive number of barn",
                             field="cross_section", value=kind)
        return value

    def summary(self) -> dict:
        """Key numbers for tables."""
        area = self.face_area_cm2
        out = {"formula": self.formula, "mass (g)": self.mass_g, "molar mass (g/mol)": self.molar_mass,
               "formula units": self.formula_units, "face area (cm^2)": area,
               "illuminated fraction": self.illuminated_fraction}
        if self.cylinder:
            out.update({"outer radius (mm)": self.outer_radius_mm,
                        "inner radius (mm)": self.inner_radius_mm})
        return out


def _positive(value, name: str) -> None:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number", field=name, value=value) from exc
    if not np.isfinite(x) or x <= 0:
        raise InputError(f"{name} must be positive", field=name, value=value)
