r"""Triple-axis geometry for the Popovici resolution: sizes, arms, curvatures, sample mosaic.

The source, monochromator, sample, analyser, detector (and beam monitor) have finite
Gaussian-equivalent sizes: variance width^2/12 of a rectangular profile, diameter^2/16 of a
circular one.  Any size, arm or curvature the instrument file leaves out takes the *typical*
value of :data:`TYPICAL` (the default geometry of McStas's template triple-axis spectrometer,
modelled on IN20 at the ILL, E. Farhi 2006), and :attr:`TasGeometry.defaulted` lists the
fields that did, so a result never rests on a default silently.  A curvature radius may be
``optimal``: the focusing radius at each point, R_v = 2 L sin(theta) and R_h = 2 L / sin(theta)
with 1/L = 1/L_in + 1/L_out (the arms on either side of the crystal; Popovici's T matrix then
has no linear term in the crystal position along that axis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InstrumentError
from ._yaml import Node

__all__ = ["TasGeometry", "TYPICAL", "TYPICAL_SOURCE"]

#: Citation of the typical geometry.
TYPICAL_SOURCE = ("McStas template triple-axis spectrometer templateTAS.instr (E. Farhi, ILL 2006; "
                  "'default instrument geometry is from IN20@ILL'): source disc of radius 0.10 m at "
                  "9.0 m from the monochromator, PG monochromator and analyser 0.10 m wide and 0.12 m "
                  "high, monochromator vertically and analyser horizontally focusing at the optimal "
                  "radius, arms 9.0 / 2.1 / 1.5 / 0.7 m, sample cylinder of radius 0.01 m and height "
                  "0.05 m, 3He detector 0.0508 x 0.0857 m; crystal thickness 2 mm is an ESTIMATE "
                  "(the template's crystals are thin); the beam monitor defaults to the sample's "
                  "cross-section at the sample (an ESTIMATE, ResLib's default is a unit size)")

#: Typical sizes (m), arms (m) and curvatures ('optimal' or None for flat); see TYPICAL_SOURCE.
TYPICAL = {
    "source": {"diameter": 0.20},
    "monochromator": {"width": 0.10, "height": 0.12, "depth": 0.002, "radius_h": None,
                      "radius_v": "optimal"},
    "sample": {"diameter": 0.02, "height": 0.05},
    "analyser": {"width": 0.10, "height": 0.12, "depth": 0.002, "radius_h": "optimal",
                 "radius_v": None},
    "detector": {"width": 0.0508, "height": 0.0857},
    "distances": {"source_mono": 9.0, "mono_sample": 2.1, "sample_ana": 1.5, "ana_detector": 0.7},
}

#: Marker of an optimally focusing crystal axis in :attr:`TasGeometry.inv_radii`.
OPTIMAL = float("nan")


@dataclass(frozen=True)
class TasGeometry:
    """Sizes, arms, curvatures and sample mosaic for the Popovici resolution (lengths in m).

    ``variances`` holds the 13 Gaussian-equivalent variances (m^2) of the spatial coordinates
    (source y, z; monochromator x = depth, y = width, z = height; sample along Q,
    perpendicular to Q in the scattering plane, vertical; analyser x, y, z; detector y, z);
    ``arms`` = (L0, L1, L2, L3) source-monochromator, monochromator-sample, sample-analyser,
    analyser-detector (m); ``inv_radii`` = 1/R of monochromator horizontal, vertical and
    analyser horizontal, vertical curvature (1/m, 0 = flat, NaN = optimal focusing);
    ``sample_mosaic_arcmin`` = (horizontal, vertical) FWHM; ``monitor`` = (variance of width,
    variance of height (m^2), distance from the monochromator (m)); ``defaulted`` = the fields
    that took the typical value.

    YAML layout (every number plain or ``{value: ..., source: KEY}``; any item may be left
    out and then takes the typical value)::

        geometry:
          source: {width: 0.06, height: 0.12}          # or {diameter: ...}
          monochromator: {width: 0.15, height: 0.15, depth: 0.002, radius_h: 2.0, radius_v: optimal}
          sample: {diameter: 0.01, height: 0.02, mosaic_arcmin: 30}   # or width/depth/height
          analyser: {width: 0.15, height: 0.15, depth: 0.002}
          detector: {width: 0.025, height: 0.10}        # or {diameter: ..., height: ...}
          monitor: {width: 0.05, height: 0.10, distance: 1.0}   # distance from the monochromator
          distances: {source_mono: 2.0, mono_sample: 1.6, sample_ana: 1.0, ana_detector: 0.7}

    ``radius_h``/``radius_v`` (m) are optional (flat crystal when absent, ``optimal`` for the
    focusing radius); a box sample has ``depth`` along Q and ``width`` perpendicular to Q in the
    scattering plane (as ResLib).
    """

    variances: tuple[float, ...]
    arms: tuple[float, float, float, float]
    inv_radii: tuple[float, float, float, float]
    sample_mosaic_arcmin: tuple[float, float] = (0.0, 0.0)
    monitor: tuple[float, float, float] | None = None
    defaulted: tuple[str, ...] = ()

    @classmethod
    def typical(cls) -> TasGeometry:
        """The typical geometry of :data:`TYPICAL` (every field defaulted)."""
        return cls.from_node(Node({}, "<typical>", "geometry"))

    @classmethod
    def from_node(cls, geo: Node) -> TasGeometry:
        used: list[str] = []

        def part(name):
            node = geo.child(name, None)
            return node if node is not None else Node({}, geo.file, f"{geo.path}.{name}")

        def size(node, key, typical_part):
            if node.has(key):
                return node.number(key)
            used.append(f"{node.path}.{key}")
            return TYPICAL[typical_part][key]

        def profile(node, name, key):
            """Variance of a width (rectangular) or diameter (circular) profile."""
            if node.has("diameter"):
                return node.number("diameter") ** 2 / 16.0
            if node.has(key):
                return node.number(key) ** 2 / 12.0
            typ = TYPICAL[name]
            used.append(f"{node.path}.{key}")
            return typ["diameter"] ** 2 / 16.0 if "diameter" in typ else typ[key] ** 2 / 12.0

        src, mono, samp = part("source"), part("monochromator"), part("sample")
        ana, det, dist = part("analyser"), part("detector"), part("distances")
        if samp.has("diameter"):  # cylinder: circular cross-section
            s_par = s_perp = samp.number("diameter") ** 2 / 16.0
        elif samp.has("depth") or samp.has("width"):
            s_par = samp.number("depth") ** 2 / 12.0
            s_perp = samp.number("width") ** 2 / 12.0
        else:
            used.append(f"{samp.path}.diameter")
            s_par = s_perp = TYPICAL["sample"]["diameter"] ** 2 / 16.0
        s_vert = size(samp, "height", "sample") ** 2 / 12.0
        var = (profile(src, "source", "width"), profile(src, "source", "height"),
               size(mono, "depth", "monochromator") ** 2 / 12.0,
               size(mono, "width", "monochromator") ** 2 / 12.0,
               size(mono, "height", "monochromator") ** 2 / 12.0,
               s_par, s_perp, s_vert,
               size(ana, "depth", "analyser") ** 2 / 12.0, size(ana, "width", "analyser") ** 2 / 12.0,
               size(ana, "height", "analyser") ** 2 / 12.0,
               profile(det, "detector", "width"), size(det, "height", "detector") ** 2 / 12.0)
        arms = tuple(size(dist, k, "distances") for k in ("source_mono", "mono_sample",
                                                          "sample_ana", "ana_detector"))
        inv_r = (_inverse_radius(mono, "radius_h", "monochromator", used),
                 _inverse_radius(mono, "radius_v", "monochromator", used),
                 _inverse_radius(ana, "radius_h", "analyser", used),
                 _inverse_radius(ana, "radius_v", "analyser", used))
        eta_s = samp.number("mosaic_arcmin", 0.0, allow_zero=True)
        eta_sv = samp.number("vertical_mosaic_arcmin", eta_s, allow_zero=True)
        mon = geo.child("monitor", None)
        if mon is None:
            monitor = (s_perp, s_vert, arms[1])
            if geo.data:
                used.append(f"{geo.path}.monitor")
        else:
            monitor = (mon.number("width") ** 2 / 12.0, mon.number("height") ** 2 / 12.0,
                       mon.number("distance"))
        if not geo.data:
            used = ["geometry (all typical)"]
        return cls(tuple(float(v) for v in var), tuple(float(a) for a in arms), inv_r,
                   (eta_s, eta_sv), tuple(float(m) for m in monitor), tuple(used))

    def inverse_radii_at(self, thm: float, tha: float) -> tuple[float, float, float, float]:
        """1/R (1/m) of the four crystal axes at unsigned Bragg angles thm, tha (rad), with
        optimal focusing (NaN entries) resolved: 1/R_h = sin(theta)/(2L), 1/R_v = 1/(2 L sin(theta))."""
        l0, l1, l2, l3 = self.arms
        lm = 1.0 / (1.0 / l0 + 1.0 / l1)
        la = 1.0 / (1.0 / l2 + 1.0 / l3)
        optimal = (np.sin(thm) / (2 * lm), 1.0 / (2 * lm * np.sin(thm)),
                   np.sin(tha) / (2 * la), 1.0 / (2 * la * np.sin(tha)))
        return tuple(float(o) if np.isnan(r) else float(r)
                     for r, o in zip(self.inv_radii, optimal, strict=True))


def _inverse_radius(node: Node, key: str, part: str, used: list) -> float:
    """1/R (1/m) of an optional curvature radius R (m): absent means the typical choice when the
    whole crystal block is absent and flat otherwise; 'optimal' gives NaN (resolved per point)."""
    if not node.has(key):
        if node.data:
            return 0.0
        used.append(f"{node.path}.{key}")
        value = TYPICAL[part][key]
        return OPTIMAL if value == "optimal" else 0.0
    if node.raw(key) == "optimal":
        return OPTIMAL
    value = node.number(key, positive=False)
    if value == 0:
        raise InstrumentError("curvature radius must be non-zero (omit it for a flat crystal, or "
                              "write 'optimal')", file=node.file, field=f"{node.path}.{key}",
                              value=value)
    return 1.0 / value
