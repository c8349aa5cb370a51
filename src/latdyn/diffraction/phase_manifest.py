"""The phase-analysis manifest: one YAML file naming the phases, the patterns of a series and the
fit settings, read by ``latdyn diffraction phases`` (layout in docs/diffraction.md)::

    quantity: field            # or temperature
    unit: T                    # default K (temperature) or T (field)
    axis: two_theta            # two_theta (with wavelength), tof (with difc) or d
    wavelength: 2.41           # angstrom
    phases:
      - {name: hex, structure: hexagonal.cif}
      - {name: orth, structure: orthorhombic.yaml, refine_moment: true, ions: {Mn1: Mn3+}}
    fit:                       # every key optional
      background: 3            # Chebyshev terms
      eta: 0.0                 # Lorentzian fraction
      widths: {U: 0.05, V: -0.04, W: 0.05}
      refine_widths: [U, W]
      refine_lattice: true
      refine_zero: true
      transition_phase: orth
    patterns:
      - {file: p00.xye, value: 0.0, sweep: up}
      - {file: p01.xye, value: 0.5, sweep: up}

Paths are relative to the manifest.  Patterns are ``x y [e]`` columns or GSAS .gsa/.fxye files.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FormatError, InputError
from ..fileio import load_yaml
from .phase_series import PhaseSeries, fit_series
from .phases import Phase
from .powder_io import read_powder

__all__ = ["read_phase_manifest", "phase_analysis"]

_TOP = {"quantity", "unit", "axis", "wavelength", "difc", "phases", "fit", "patterns"}
_FIT = {"background", "eta", "widths", "refine_widths", "refine_lattice", "refine_zero",
        "transition_phase", "max_nfev", "min_fraction"}


def _mapping(obj, path, field):
    if not isinstance(obj, dict):
        raise FormatError("expected a mapping", file=path, field=field, value=obj)
    return obj


def read_phase_manifest(path) -> tuple[list, list[Phase], dict]:
    """(patterns, phases, options for :func:`fit_series`) from a manifest (module docstring)."""
    from ..structure import read_cif, read_magnetic_structure

    path = Path(path)
    doc = _mapping(load_yaml(path), path, "manifest")
    unknown = set(doc) - _TOP
    if unknown:
        raise FormatError(f"unknown key; use {sorted(_TOP)}", file=path, field=sorted(unknown)[0])
    for key in ("phases", "patterns"):
        if not isinstance(doc.get(key), list) or not doc[key]:
            raise FormatError(f"'{key}' must be a non-empty list", file=path, field=key)
    base = path.parent
    phases = []
    for i, p in enumerate(doc["phases"]):
        p = _mapping(p, path, f"phases[{i}]")
        if "name" not in p or "structure" not in p:
            raise FormatError("a phase needs 'name' and 'structure'", file=path, field=f"phases[{i}]")
        f = base / str(p["structure"])
        if f.suffix.lower() == ".cif" and not _is_magnetic(f):
            s = read_cif(f)
        else:
            s = read_magnetic_structure(f, ions=p.get("ions"))
        phases.append(Phase(str(p["name"]), s, bool(p.get("refine_moment", False))))
    axis = str(doc.get("axis", "two_theta"))
    data = []
    for i, item in enumerate(doc["patterns"]):
        item = _mapping(item, path, f"patterns[{i}]")
        if "file" not in item or "value" not in item:
            raise FormatError("a pattern needs 'file' and 'value'", file=path, field=f"patterns[{i}]")
        try:
            value = float(item["value"])
        except (TypeError, ValueError) as exc:
            raise FormatError("the value must be a number", file=path, field=f"patterns[{i}].value",
                              value=item["value"]) from exc
        data.append(read_powder(base / str(item["file"]), axis=axis, wavelength=doc.get("wavelength"),
                                difc=doc.get("difc"), condition=value,
                                sweep=str(item.get("sweep", "") or "")))
    fit = _mapping(doc.get("fit") or {}, path, "fit")
    unknown = set(fit) - _FIT
    if unknown:
        raise FormatError(f"unknown fit setting; use {sorted(_FIT)}", file=path, field=sorted(unknown)[0])
    refine = {"lattice": bool(fit.get("refine_lattice", True)), "zero": bool(fit.get("refine_zero", True))}
    if "refine_widths" in fit:
        refine["widths"] = tuple(fit["refine_widths"])
    opts = {"quantity": str(doc.get("quantity", "temperature")), "unit": doc.get("unit"),
            "transition_phase": fit.get("transition_phase"), "background": int(fit.get("background", 3)),
            "eta": float(fit.get("eta", 0.0)), "widths": fit.get("widths") or {}, "refine": refine,
            "max_nfev": int(fit.get("max_nfev", 2000)),
            "min_fraction": float(fit.get("min_fraction", 0.03))}
    return data, phases, opts


def _is_magnetic(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "magn_operation" in text or "magn_ssg_operation" in text or "_atom_site_moment" in text


def phase_analysis(manifest) -> PhaseSeries:
    """Read a manifest and fit its series (:func:`latdyn.diffraction.phase_series.fit_series`):
    what ``latdyn diffraction phases`` runs; ``write(folder)`` gives its files."""
    data, phases, opts = read_phase_manifest(manifest)
    try:
        series = fit_series(data, phases, **opts)
    except InputError as exc:
        if exc.file is None:
            raise InputError(str(exc), file=manifest) from exc
        raise
    series.inputs = [manifest]
    return series
