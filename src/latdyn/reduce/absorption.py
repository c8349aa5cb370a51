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

Sample in a container (concentric annuli, Paalman and Pings 1962): the factors
A_{s,sc} (scattered in the sample, attenuated by sample and can), A_{c,sc} (scattered in the
can, attenuated by both) and A_{c,c} (can alone, for the empty-can run) give the sample's
scattering from the measured sample-plus-can and empty-can intensities,

.. math::  S = \frac{1}{A_{s,sc}}\Big(I_{s+c} - \frac{A_{c,sc}}{A_{c,c}}\,I_c\Big)

(:func:`paalman_pings`, :func:`container_correction`).  The path of a ray through each
annulus is its length inside the outer disc minus that inside the inner disc.
"""

from __future__ import annotations

import numpy as np
import scipp as sc

from ..data.model import validate
from ..errors import InputError
from ..kinematics import cos_two_theta
from ..units import energy_to_wavelength
from .corrections import energy_centres, incident_final_energies

__all__ = ["cylinder_attenuation", "paalman_pings", "self_shielding_correction",
           "container_correction"]


def _disc_length(px, py, ux, uy, radius: float):
    """Length of the ray p + t u (t >= 0, |u| = 1) inside the disc of ``radius`` (p anywhere)."""
    pu = px * ux + py * uy
    disc = pu * pu - (px * px + py * py - radius * radius)
    root = np.sqrt(np.maximum(disc, 0.0))
    return np.where(disc > 0, np.maximum(-pu + root - np.maximum(-pu - root, 0.0), 0.0), 0.0)


def _annulus_length(px, py, ux, uy, r_in: float, r_out: float):
    """Length of the ray p + t u (t >= 0) inside the annulus r_in <= |r| <= r_out."""
    length = _disc_length(px, py, ux, uy, r_out)
    return length - _disc_length(px, py, ux, uy, r_in) if r_in > 0 else length


def _quadrature(r_in: float, r_out: float, n_radial: int | None, n_azimuth: int):
    """Points (x, y) and area weights of the annulus: Gauss-Legendre in r (r dr; by default 48
    points across a solid cylinder, in proportion for a wall, at least 8), periodic trapezoid
    in the azimuth."""
    if n_radial is None:
        n_radial = max(8, int(np.ceil(48 * (r_out - r_in) / r_out)))
    nodes, weights = np.polynomial.legendre.leggauss(int(n_radial))
    r = 0.5 * (r_out - r_in) * nodes + 0.5 * (r_out + r_in)
    w_r = 0.5 * (r_out - r_in) * weights * r
    phi = np.linspace(0.0, 2.0 * np.pi, int(n_azimuth), endpoint=False)
    px = (r[:, None] * np.cos(phi)[None, :]).ravel()
    py = (r[:, None] * np.sin(phi)[None, :]).ravel()
    return px, py, np.repeat(w_r, phi.size) * (2.0 * np.pi / phi.size)


def _radii(inner_mm, outer_mm, name: str) -> tuple[float, float]:
    """(r_in, r_out) in cm, checked."""
    r_out, r_in = float(outer_mm) / 10.0, float(inner_mm) / 10.0
    if not (np.isfinite(r_out) and r_out > 0):
        raise InputError("outer radius must be positive (mm)", field=f"{name}outer_radius_mm",
                         value=outer_mm)
    if not (np.isfinite(r_in) and 0 <= r_in < r_out):
        raise InputError("inner radius must lie in [0, outer radius) (mm)",
                         field=f"{name}inner_radius_mm", value=inner_mm)
    return r_in, r_out


def _mu(values, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(v)):
        raise InputError(f"{name} must be finite", field=name, value="non-finite")
    if np.any(v < 0):
        raise InputError("attenuation coefficients must be >= 0 (1/cm)", field=name, value=float(v.min()))
    return v


def _layered(two_theta, layers, scatterer: int, absorbers, n_radial: int | None, n_azimuth: int):
    """A of layer ``scatterer`` attenuated by the layers ``absorbers`` at every 2theta (deg):
    layers are (r_in, r_out, mu_in, mu_out) with radii in cm and mu arrays like two_theta."""
    r_in, r_out = layers[scatterer][:2]
    px, py, w = _quadrature(r_in, r_out, n_radial, n_azimuth)
    area = np.pi * (r_out**2 - r_in**2)
    l_in = [_annulus_length(px, py, -1.0, 0.0, *layers[j][:2]) for j in absorbers]
    flat_tt = np.ravel(two_theta)
    mus = [(np.ravel(layers[j][2]), np.ravel(layers[j][3])) for j in absorbers]
    out = np.empty(flat_tt.size)
    for k in range(flat_tt.size):
        a = np.radians(flat_tt[k])
        exponent = np.zeros(px.size)
        for j, (mu_i, mu_f), li in zip(absorbers, mus, l_in, strict=True):
            lo = _annulus_length(px, py, np.cos(a), np.sin(a), *layers[j][:2])
            exponent -= mu_i[k] * li + mu_f[k] * lo
        out[k] = np.exp(exponent) @ w / area
    return out.reshape(np.shape(two_theta))


def cylinder_attenuation(two_theta_deg, mu_in_per_cm, mu_out_per_cm, outer_radius_mm: float,
                         inner_radius_mm: float = 0.0, *, n_radial: int | None = None,
                         n_azimuth: int = 96) -> np.ndarray:
    """Self-shielding factor A (0-1) of a cylinder or annulus at scattering angles 2theta (deg).

    ``mu_in_per_cm`` and ``mu_out_per_cm``: attenuation coefficients (1/cm) at the incident and
    final wavelengths (numbers, or arrays broadcasting with ``two_theta_deg``);
    ``outer_radius_mm``, ``inner_radius_mm`` (mm; 0 for a solid cylinder).  ``n_radial`` x
    ``n_azimuth`` quadrature points (default: 48 radial points across a solid cylinder, fewer
    for a wall, at least 8; measured 2e-7 for a solid cylinder and 2e-5 for a wall of 4 % of
    the radius at mu R <= 2.5).  Formula: module docstring (Paalman and Pings 1962).
    """
    r_in, r_out = _radii(inner_radius_mm, outer_radius_mm, "")
    mu_i = _mu(mu_in_per_cm, "mu_in_per_cm")
    mu_f = _mu(mu_out_per_cm, "mu_out_per_cm")
    tt, mu_i, mu_f = np.broadcast_arrays(np.asarray(two_theta_deg, dtype=float), mu_i, mu_f)
    if np.any(~np.isfinite(tt)):
        raise InputError("two_theta_deg must be finite", field="two_theta_deg", value="non-finite")
    return _layered(tt, [(r_in, r_out, mu_i, mu_f)], 0, [0], n_radial, n_azimuth)


def paalman_pings(two_theta_deg, sample, container, *, n_radial: int | None = None,
                  n_azimuth: int = 96) -> dict[str, np.ndarray]:
    """Paalman-Pings factors of a sample in a container, both concentric annuli.

    ``sample`` and ``container``: (inner_radius_mm, outer_radius_mm, mu_in_per_cm,
    mu_out_per_cm), the attenuation coefficients numbers or arrays broadcasting with
    ``two_theta_deg`` (deg).  The annuli must not overlap (the can outside or inside the
    sample).  Returns ``A_s_s``, ``A_s_sc``, ``A_c_sc`` and ``A_c_c`` (module docstring).
    """
    layers = []
    for name, layer in (("sample", sample), ("container", container)):
        try:
            inner, outer, mu_i, mu_f = layer
        except (TypeError, ValueError) as exc:
            raise InputError("give (inner_radius_mm, outer_radius_mm, mu_in_per_cm, mu_out_per_cm)",
                             field=name, value=layer) from exc
        layers.append((*_radii(inner, outer, f"{name}."), _mu(mu_i, f"{name}.mu_in_per_cm"),
                       _mu(mu_f, f"{name}.mu_out_per_cm")))
    (s_in, s_out, *_), (c_in, c_out, *_) = layers
    if not (c_in >= s_out - 1e-12 or c_out <= s_in + 1e-12):
        raise InputError("sample and container annuli overlap", field="container",
                         value=(10 * c_in, 10 * c_out))
    tt = np.asarray(two_theta_deg, dtype=float)
    shape = np.broadcast_shapes(tt.shape, *(np.shape(v) for layer in layers for v in layer[2:]))
    tt = np.broadcast_to(tt, shape)
    layers = [(a, b, np.broadcast_to(m_i, shape), np.broadcast_to(m_f, shape)) for a, b, m_i, m_f in layers]
    kw = {"n_radial": n_radial, "n_azimuth": n_azimuth}
    return {"A_s_s": _layered(tt, layers, 0, [0], **kw), "A_s_sc": _layered(tt, layers, 0, [0, 1], **kw),
            "A_c_sc": _layered(tt, layers, 1, [0, 1], **kw), "A_c_c": _layered(tt, layers, 1, [1], **kw)}


def _geometry(da: sc.DataArray, ei, ef, source):
    """Scattering angle (deg), incident and final wavelengths (angstrom), the reachable mask on
    the (Q, E) grid, and the axis order that puts (Q, E) arrays back in ``da``'s dim order."""
    validate(da, source=source)
    if set(da.dims) != {"Q", "E"}:
        raise InputError("absorption corrections need data with dims Q and E", file=source,
                         field="dims", value=da.dims)
    e_i, e_f = incident_final_energies(energy_centres(da).values, ei, ef, source)
    fixed = float(ei if ei is not None else ef)
    q = sc.to_unit(da.coords["Q"], "1/angstrom").values
    if da.coords.is_edges("Q"):
        q = 0.5 * (q[1:] + q[:-1])
    qq, ee_i = np.meshgrid(q, e_i, indexing="ij")
    ee_f = np.broadcast_to(e_f, qq.shape)
    cos = cos_two_theta(qq, ee_i, ee_f)
    ok = (ee_i > 0) & (ee_f > 0) & (np.abs(cos) <= 1.0)
    two_theta = np.degrees(np.arccos(np.clip(np.where(ok, cos, 1.0), -1.0, 1.0)))
    lam_i = np.asarray(energy_to_wavelength(np.where(ee_i > 0, ee_i, fixed)))
    lam_f = np.asarray(energy_to_wavelength(np.where(ee_f > 0, ee_f, fixed)))
    order = np.argsort([da.dims.index("Q"), da.dims.index("E")])
    return two_theta, lam_i, lam_f, ok, order


def _on_dims(da: sc.DataArray, values: np.ndarray, order) -> sc.Variable:
    return sc.array(dims=list(da.dims), values=np.transpose(values, order))


def self_shielding_correction(da: sc.DataArray, sample, *, ei: float | None = None,
                              ef: float | None = None, source: str | None = None) -> sc.DataArray:
    """Divide a measured S(|Q|, E) (dims Q and E) by the sample's self-shielding A(2theta).

    ``sample``: an object with ``attenuation(wavelength_in, wavelength_out, two_theta_deg)``
    (:class:`latdyn.simulate.Sample` with a slab or cylinder geometry).  Give ``ei`` (direct
    geometry) or ``ef`` (indirect), meV; the scattering angle of each (|Q|, E) follows from
    cos 2theta = (k_i^2 + k_f^2 - Q^2) / (2 k_i k_f).  Variances are divided by A^2.  Points no
    scattering angle reaches get the mask ``unreachable`` (values left as they are).
    """
    two_theta, lam_i, lam_f, ok, order = _geometry(da, ei, ef, source)
    a = np.where(ok, sample.attenuation(lam_i, lam_f, two_theta), 1.0)
    out = da.copy()
    out.data = da.data / _on_dims(da, a, order)
    out.masks["unreachable"] = _on_dims(da, ~ok, order)
    return out


def container_correction(sample_and_can: sc.DataArray, can: sc.DataArray, sample, container, *,
                         ei: float | None = None, ef: float | None = None,
                         source: str | None = None) -> sc.DataArray:
    """The sample's scattering from a sample-plus-can and an empty-can measurement on the same
    (Q, E) grid: (I_{s+c} - A_{c,sc}/A_{c,c} I_c) / A_{s,sc} (module docstring).

    ``sample`` and ``container``: cylindrical :class:`latdyn.simulate.Sample` objects
    (``outer_radius_mm``, ``inner_radius_mm``, ``mu_per_cm(wavelength)``).  Give ``ei`` or
    ``ef`` (meV).  Variances: var_{s+c} / A_{s,sc}^2 + (A_{c,sc} / (A_{c,c} A_{s,sc}))^2 var_c.
    Points no scattering angle reaches get the mask ``unreachable``.
    """
    for name, obj in (("sample", sample), ("container", container)):
        if getattr(obj, "outer_radius_mm", None) is None:
            raise InputError("the container correction needs cylindrical sample and container "
                             "(outer_radius_mm)", field=name, value=getattr(obj, "formula", obj))
    two_theta, lam_i, lam_f, ok, order = _geometry(sample_and_can, ei, ef, source)
    if can.sizes != sample_and_can.sizes:
        raise InputError("the empty-can run must share the sample run's (Q, E) grid", file=source,
                         field="can", value=dict(can.sizes))
    can = can.transpose(list(sample_and_can.dims)).copy()
    t, li, lf = two_theta[ok], lam_i[ok], lam_f[ok]
    factors = paalman_pings(t, (sample.inner_radius_mm, sample.outer_radius_mm, sample.mu_per_cm(li),
                                sample.mu_per_cm(lf)),
                            (container.inner_radius_mm, container.outer_radius_mm,
                             container.mu_per_cm(li), container.mu_per_cm(lf)))
    a_ssc, ratio = np.ones(ok.shape), np.zeros(ok.shape)
    a_ssc[ok] = factors["A_s_sc"]
    ratio[ok] = factors["A_c_sc"] / factors["A_c_c"]
    out = sample_and_can.copy()
    out.data = (sample_and_can.data - _on_dims(out, ratio, order) * can.data) / _on_dims(out, a_ssc, order)
    out.masks["unreachable"] = _on_dims(out, ~ok, order)
    return out
