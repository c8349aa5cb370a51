r"""Self-shielding of cylindrical and annular samples (Paalman-Pings A_s,s in the scattering plane).

A sample of attenuation coefficient mu (1/cm: scattering plus absorption, the latter at the
neutron's wavelength) scatters at every point of its cross-section; the scattered intensity
leaving at 2theta is reduced by

.. math::  A(2\theta) = \frac{1}{S}\int_S \exp\!\big(-\mu_i\,l_i(\mathbf r) - \mu_f\,l_f(\mathbf r,
           2\theta)\big)\,dS

(H. H. Paalman and C. J. Pings, J. Appl. Phys. 33, 2635 (1962)), l_i the path inside the
material from where the beam enters to the point r, l_f the path from r out of the sample along
the scattered direction, S the cross-section (annulus r_inner <= |r| <= r_outer, a solid
cylinder for r_inner = 0).  The cylinder is long compared with the beam height (in-plane
scattering, 2theta in the plane normal to the axis) and bathed uniformly by the beam.  The
integral is done numerically: Gauss-Legendre in the radius (area weights r dr) and the
trapezoid rule in the azimuth (periodic, spectrally accurate); paths through the hole of an
annulus are left out of l_i and l_f.  A = 1 for mu = 0, and A is symmetric in 2theta.

:func:`self_shielding_correction` divides measured S(|Q|, E) by A at the scattering angle of
each (|Q|, E) (any sample geometry that provides ``attenuation``, e.g. a slab).
"""

from __future__ import annotations

import numpy as np
import scipp as sc

from ..data.model import validate
from ..errors import InputError
from ..units import E_PER_K2, energy_to_wavelength
from .corrections import energy_centres

__all__ = ["cylinder_attenuation", "self_shielding_correction"]


def _chord_exit(px, py, ux, uy, radius):
    """Distance from points p (inside the circle of ``radius``) to its boundary along u."""
    pu = px * ux + py * uy
    return -pu + np.sqrt(np.maximum(pu * pu - (px * px + py * py - radius * radius), 0.0))


def _hole_crossing(px, py, ux, uy, radius):
    """Length of the ray p + t u (t > 0) inside the circle of ``radius`` (p outside it)."""
    pu = px * ux + py * uy
    disc = pu * pu - (px * px + py * py - radius * radius)
    root = np.sqrt(np.maximum(disc, 0.0))
    t1 = -pu - root
    return np.where((disc > 0) & (t1 > 0), 2.0 * root, 0.0)


def _material_path(px, py, ux, uy, r_out, r_in):
    path = _chord_exit(px, py, ux, uy, r_out)
    if r_in > 0:
        path = path - _hole_crossing(px, py, ux, uy, r_in)
    return path


def cylinder_attenuation(two_theta_deg, mu_in_per_cm, mu_out_per_cm, outer_radius_mm: float,
                         inner_radius_mm: float = 0.0, *, n_radial: int = 48,
                         n_azimuth: int = 96) -> np.ndarray:
    """Self-shielding factor A (0-1) of a cylinder or annulus at scattering angles 2theta (deg).

    ``mu_in_per_cm`` and ``mu_out_per_cm``: attenuation coefficients (1/cm) at the incident and
    final wavelengths (numbers, or arrays broadcasting with ``two_theta_deg``);
    ``outer_radius_mm``, ``inner_radius_mm`` (mm; 0 for a solid cylinder).  ``n_radial`` x
    ``n_azimuth`` quadrature points (the default reaches 1e-6 for mu R <= 2).  Formula: module
    docstring (Paalman and Pings 1962).
    """
    r_out = float(outer_radius_mm) / 10.0
    r_in = float(inner_radius_mm) / 10.0
    if not (np.isfinite(r_out) and r_out > 0):
        raise InputError("outer radius must be positive (mm)", field="outer_radius_mm",
                         value=outer_radius_mm)
    if not (np.isfinite(r_in) and 0 <= r_in < r_out):
        raise InputError("inner radius must lie in [0, outer radius) (mm)", field="inner_radius_mm",
                         value=inner_radius_mm)
    tt, mu_i, mu_f = np.broadcast_arrays(np.asarray(two_theta_deg, dtype=float),
                                         np.asarray(mu_in_per_cm, dtype=float),
                                         np.asarray(mu_out_per_cm, dtype=float))
    for name, v in (("two_theta_deg", tt), ("mu_in_per_cm", mu_i), ("mu_out_per_cm", mu_f)):
        if np.any(~np.isfinite(v)):
            raise InputError(f"{name} must be finite", field=name, value="non-finite")
    if np.any(mu_i < 0) or np.any(mu_f < 0):
        raise InputError("attenuation coefficients must be >= 0 (1/cm)", field="mu_in_per_cm",
                         value=float(min(mu_i.min(), mu_f.min())))
    nodes, weights = np.polynomial.legendre.leggauss(int(n_radial))
    r = 0.5 * (r_out - r_in) * nodes + 0.5 * (r_out + r_in)
    w_r = 0.5 * (r_out - r_in) * weights * r                         # area element r dr
    phi = np.linspace(0.0, 2.0 * np.pi, int(n_azimuth), endpoint=False)
    px = (r[:, None] * np.cos(phi)[None, :]).ravel()
    py = (r[:, None] * np.sin(phi)[None, :]).ravel()
    w = np.repeat(w_r, phi.size) * (2.0 * np.pi / phi.size)
    area = np.pi * (r_out**2 - r_in**2)
    # incident beam along +x: the path back to where it entered runs along -x
    l_in = _material_path(px, py, -1.0, 0.0, r_out, r_in)
    flat_tt, flat_i, flat_f = tt.ravel(), mu_i.ravel(), mu_f.ravel()
    out = np.empty(flat_tt.size)
    for k in range(flat_tt.size):
        a = np.radians(flat_tt[k])
        l_out = _material_path(px, py, np.cos(a), np.sin(a), r_out, r_in)
        out[k] = np.exp(-flat_i[k] * l_in - flat_f[k] * l_out) @ w / area
    return out.reshape(tt.shape)


def self_shielding_correction(da: sc.DataArray, sample, *, ei: float | None = None,
                              ef: float | None = None, source: str | None = None) -> sc.DataArray:
    """Divide a measured S(|Q|, E) (dims Q and E) by the sample's self-shielding A(2theta).

    ``sample``: an object with ``attenuation(wavelength_in, wavelength_out, two_theta_deg)``
    (:class:`latdyn.simulate.Sample` with a slab or cylinder geometry).  Give ``ei`` (direct
    geometry) or ``ef`` (indirect), meV; the scattering angle of each (|Q|, E) follows from
    cos 2theta = (k_i^2 + k_f^2 - Q^2) / (2 k_i k_f).  Variances are divided by A^2.  Points no
    scattering angle reaches get the mask ``unreachable`` (values left as they are).
    """
    validate(da, source=source)
    if set(da.dims) != {"Q", "E"}:
        raise InputError("self-shielding needs data with dims Q and E", file=source, field="dims",
                         value=da.dims)
    if (ei is None) == (ef is None):
        raise InputError("give exactly one of ei (direct geometry) or ef (indirect geometry)",
                         file=source, field="ei/ef", value=(ei, ef))
    e = energy_centres(da).values
    q = sc.to_unit(da.coords["Q"], "1/angstrom").values
    if da.coords.is_edges("Q"):
        q = 0.5 * (q[1:] + q[:-1])
    fixed = float(ei if ei is not None else ef)
    if not np.isfinite(fixed) or fixed <= 0:
        raise InputError("fixed neutron energy must be > 0 meV", file=source,
                         field="ei" if ei is not None else "ef", value=fixed)
    e_i = np.full(e.shape, fixed) if ei is not None else fixed + e
    e_f = fixed - e if ei is not None else np.full(e.shape, fixed)
    qq, ee_i = np.meshgrid(q, e_i, indexing="ij")
    ee_f = np.broadcast_to(e_f, qq.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (ee_i + ee_f - qq**2 * E_PER_K2) / (2.0 * np.sqrt(ee_i * ee_f))
    ok = (ee_i > 0) & (ee_f > 0) & (np.abs(cos) <= 1.0)
    two_theta = np.degrees(np.arccos(np.clip(np.where(ok, cos, 1.0), -1.0, 1.0)))
    lam_i = np.asarray(energy_to_wavelength(np.where(ee_i > 0, ee_i, fixed)))
    lam_f = np.asarray(energy_to_wavelength(np.where(ee_f > 0, ee_f, fixed)))
    a = np.where(ok, sample.attenuation(lam_i, lam_f, two_theta), 1.0)
    order = [da.dims.index("Q"), da.dims.index("E")]
    a = np.transpose(a, np.argsort(order))
    out = da.copy()
    out.data = da.data / sc.array(dims=list(da.dims), values=a)
    out.masks["unreachable"] = sc.array(dims=list(da.dims), values=np.transpose(~ok, np.argsort(order)))
    return out
