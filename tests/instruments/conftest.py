"""Shared helpers of the triple-axis tests: ResLib/neutronpy-style instruments and geometries."""

import numpy as np

TAU_PG002 = 1.87325  # 1/angstrom, ResLib/neutronpy PG(002)
RESLIB_E_PER_K2 = 2.072  # meV A^2: ResLib/neutronpy's CONVERT2, used to make their numbers

def q_of(h, k):
    return float(np.hypot(2 * np.pi * h / 6, 2 * np.pi * k / 7))


def tas_dict(geometry=None, senses=(-1, 1, -1), fixed="ef", fixed_energy=14.7, mosaics=(25, 25),
             hcol=(40, 40, 40, 40), vcol=(120, 120, 120, 120)):
    d = 2 * np.pi / TAU_PG002
    data = {"name": "popovici-test", "kind": "triple_axis",
            "monochromator": {"d_spacing": d, "mosaic_arcmin": mosaics[0]},
            "analyser": {"d_spacing": d, "mosaic_arcmin": mosaics[1]}, "senses": list(senses),
            "collimation_horizontal_arcmin": list(hcol), "collimation_vertical_arcmin": list(vcol),
            "fixed": fixed, "fixed_energy": fixed_energy, "incident_energy_range": [1, 100]}
    if geometry is not None:
        data["geometry"] = geometry
    return data


def reslib_geometry():
    """neutronpy/ResLib defaults: unit variances (width sqrt 12), unit arms, radii 1e6 (same unit)."""
    w, r = np.sqrt(12.0), 1e6
    return {"source": {"width": w, "height": w},
            "monochromator": {"width": w, "height": w, "depth": w, "radius_h": r, "radius_v": r},
            "sample": {"width": w, "height": w, "depth": w},
            "analyser": {"width": w, "height": w, "depth": w, "radius_h": r, "radius_v": r},
            "detector": {"width": w, "height": w},
            "distances": {"source_mono": 1, "mono_sample": 1, "sample_ana": 1, "ana_detector": 1}}


def realistic_geometry(mono_r=None, ana_r=None, sample_mosaic=None):
    """The geometry of the neutronpy cases A and B, in m (sourced form for one value)."""
    geo = {"source": {"width": 0.06, "height": 0.12},
           "monochromator": {"width": 0.15, "height": 0.12, "depth": 0.002},
           "sample": {"width": 0.02, "height": 0.03, "depth": 0.01},
           "analyser": {"width": 0.14, "height": 0.10, "depth": 0.003},
           "detector": {"width": 0.025, "height": 0.10},
           "distances": {"source_mono": {"value": 2.0, "source": "user"}, "mono_sample": 1.6,
                         "sample_ana": 1.0, "ana_detector": 0.7}}
    if mono_r is not None:
        geo["monochromator"].update(radius_h=mono_r[0], radius_v=mono_r[1])
    if ana_r is not None:
        geo["analyser"].update(radius_h=ana_r[0], radius_v=ana_r[1])
    if sample_mosaic is not None:
        geo["sample"].update(mosaic_arcmin=sample_mosaic[0], vertical_mosaic_arcmin=sample_mosaic[1])
    return geo
