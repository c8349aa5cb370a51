r"""A QENS measurement from files to results in one call: :func:`fit_measurement`.

The steps, each one of latdyn's library functions:

1. read the sample and resolution files (any format :func:`latdyn.data.io.load` reads; an
   entry picked by name when a file holds several) and give the groups their |Q|
   (:func:`latdyn.qens.prepare.as_q_groups`; ``q`` when the file carries none); refuse a
   resolution wider than the sample (files swapped,
   :func:`latdyn.qens.prepare.check_resolution_narrower`);
2. subtract the empty container and the solvent (:func:`latdyn.qens.prepare.subtract`), or
   correct self-shielding / apply the Paalman-Pings container correction of cylindrical
   samples (:mod:`latdyn.reduce.absorption`);
3. keep the |Q| and energy windows (:func:`latdyn.qens.prepare.crop`);
4. take the sample temperature from the file unless given (detailed balance);
5. run :func:`latdyn.qens.analyse` with the :class:`QensPlan` built from the options.

``latdyn qens fit`` is this function plus :meth:`QensAnalysis.write`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ..errors import InputError
from .analysis import QensAnalysis, QensPlan, analyse, analyse_auto
from .prepare import as_q_groups, check_resolution_narrower, crop, on_grid_of, subtract

__all__ = ["fit_measurement", "plan_from_options", "SPECTRAL_MODELS", "MODEL_TEXT", "read_entry",
           "cylinder", "model_catalogue", "kf_ki_statement"]

SPECTRAL_MODELS = ("elastic-lorentzians", "lorentzians", "translation-rotation", "auto")

#: the formula of each spectral model, as written in reports
MODEL_TEXT = {
    "elastic-lorentzians": "I(Q,E) = R(E - s) (x) [A_el delta(E) + B(E) sum_i A_i L(E; Gamma_i)] "
                           "+ b0 [+ b1 E], L unit-area Lorentzians of HWHM Gamma_i, R the normalised "
                           "resolution, s the energy shift, B(E) = (E/kT)/(1 - exp(-E/kT)) detailed balance.",
    "lorentzians": "I(Q,E) = R(E - s) (x) [B(E) sum_i A_i L(E; Gamma_i)] + b0 [+ b1 E] (no elastic line).",
    "auto": "Every family of latdyn.qens.auto_candidates (elastic + 1-3 Lorentzians per Q; Fick, "
            "Chudley-Elliott, Hall-Ross, Singwi-Sjolander global fits; translation x rotation with and "
            "without an immobile fraction) fitted and ranked by BIC; the best one that converged without "
            "implausible values is reported, the ranking table beside it.",
    "translation-rotation": "I(Q,E) = R(E - s) (x) [B(E) I(Q) sum_k A_k(Q) L(E; Gamma_t(Q) + Gamma_k)] + "
                            "b0 [+ b1 E]: translation (Gamma_t(Q) of the diffusion model) convolved with "
                            "the localised motion (A_k, Gamma_k of the geometry model; Teixeira et al., "
                            "PRA 31, 1913 (1985); Bee 1988 sec. 6.6).",
}


def model_catalogue() -> list[dict[str, str]]:
    """Every diffusion, geometry and spectral model: kind, name (short name), parameters with
    units, formula (the first docstring line)."""
    from .diffusion import DIFFUSION_ALIASES, DIFFUSION_MODELS
    from .geometry import GEOMETRY_NAMES, get_geometry_model

    rows = []
    for name, m in DIFFUSION_MODELS.items():
        short = min((k for k, v in DIFFUSION_ALIASES.items() if v == name), key=len)
        rows.append({"kind": "diffusion (--diffusion)", "name": f"{name} ({short})",
                     "parameters": ", ".join(f"{p} [{u}]" for p, u in zip(m.params, m.units, strict=True)),
                     "formula": (m.function.__doc__ or "").strip().splitlines()[0]})
    for spec in GEOMETRY_NAMES:
        m = get_geometry_model(spec.split("[")[0].split(":")[0])
        rows.append({"kind": "geometry (--eisf, --rotation)", "name": spec,
                     "parameters": ", ".join(f"{p} [{u}]" for p, u in zip(m.params, m.units, strict=True)),
                     "formula": (m.function.__doc__ or "").strip().splitlines()[0]})
    for name, text in MODEL_TEXT.items():
        rows.append({"kind": "spectral (--model)", "name": name, "parameters": "", "formula": text})
    return rows


def read_entry(source, entry: str | None = None, bad_errors: str = "error"
               ) -> tuple[sc.DataArray, dict[str, Any], str]:
    """(data, metadata, name) of a file path (``entry`` picks one of several) or of a DataArray.
    ``bad_errors``: what the reader does with NaN, negative, or zero errors on non-zero values
    ('error' or 'mask', :func:`latdyn.data.io.load`)."""
    if isinstance(source, sc.DataArray):
        return source, {}, source.name or "data"
    from ..data.io import load

    da, meta = load(source, bad_errors=bad_errors).pick(entry)
    return da, meta, str(source)


def _reader_notes(meta: dict[str, Any], name: str) -> list[str]:
    """What the reader of ``name`` masked or ignored, as notes for the report."""
    out = [f"{name}: {n}" for n in meta.get("notes", [])]
    if meta.get("masked_bad_errors"):
        out.append(f"{name}: {meta['masked_bad_errors']} point(s) with NaN, negative, or zero errors "
                   "on non-zero values masked (--bad-errors mask)")
    return out


def cylinder(spec) -> Any:
    """A cylindrical :class:`latdyn.simulate.Sample` from a Sample or (formula, mass_g,
    r_in_mm, r_out_mm, height_mm)."""
    from ..simulate import Sample

    if spec is None or isinstance(spec, Sample):
        return spec
    formula, *numbers = spec
    try:
        mass, r_in, r_out, height = (float(x) for x in numbers)
    except (TypeError, ValueError) as exc:
        raise InputError("a cylinder is FORMULA MASS_G R_IN_MM R_OUT_MM HEIGHT_MM", field="cylinder",
                         value=list(spec)) from exc
    return Sample(formula, mass, outer_radius_mm=r_out, inner_radius_mm=r_in, height_mm=height)


def plan_from_options(model: str = "elastic-lorentzians", *, lorentzians: Sequence[int] | str = (1,),
                      elastic: bool | None = None, rotation: str | None = None,
                      diffusion: Sequence[str] = (), **plan) -> tuple[QensPlan, str]:
    """(QensPlan, spectral model name) from the options a user states.

    model: 'elastic-lorentzians' (elastic line + N Lorentzians), 'lorentzians' (no elastic
    line) or 'translation-rotation' (diffusion x localised motion; needs ``diffusion``;
    ``rotation`` defaults to sphere-rotation:3; a ``rotation`` given with another model
    switches to it).  lorentzians: N, a list, or 'auto' (1, 2, 3).  elastic: default on only
    for 'elastic-lorentzians'.  Other keywords go to :class:`QensPlan`."""
    if model not in SPECTRAL_MODELS:
        raise InputError(f"unknown spectral model; use one of {list(SPECTRAL_MODELS)}", field="model",
                         value=model)
    if isinstance(lorentzians, str):
        text = lorentzians.strip().lower()
        try:
            lorentzians = (1, 2, 3) if text == "auto" else tuple(int(x) for x in text.split(",") if x.strip())
        except ValueError as exc:
            raise InputError("lorentzians must be N, a list such as 1,2 or 'auto'", field="lorentzians",
                             value=text) from exc
    elastic = (model in ("elastic-lorentzians", "auto")) if elastic is None else bool(elastic)
    if model == "translation-rotation":
        rotation = rotation or "sphere-rotation:3"
        if not diffusion:
            raise InputError("the translation-rotation model needs --diffusion (e.g. ss)", field="diffusion")
    elif rotation:
        model = "translation-rotation"
    if model == "translation-rotation":
        lorentzians = (1,)
    return QensPlan(lorentzians=tuple(lorentzians), elastic=elastic, rotation=rotation,
                    diffusion=tuple(diffusion), **plan), model


def _temperature(value, meta: dict, source) -> float | None:
    """Sample temperature (K): 'file' (the file's, when it is finite and positive), None/'none'
    (detailed balance off) or a number."""
    if isinstance(value, str) and value.strip().lower() == "file":
        t = meta.get("sample_temperature")
        return float(t) if t is not None and np.isfinite(t) and t > 0 else None
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    try:
        t = float(value)
    except ValueError as exc:
        raise InputError("the temperature must be a number (K), 'file' or 'none'", file=source,
                         field="temperature", value=value) from exc
    if not (np.isfinite(t) and t > 0):
        raise InputError("the temperature must be positive (K)", file=source, field="temperature", value=t)
    return t


def _energies(ei, ef, meta: dict, source) -> dict[str, float | None]:
    if ei is not None or ef is not None:
        return {"ei": ei, "ef": ef}
    if meta.get("emode") == "indirect" or (meta.get("final_energy") and not meta.get("incident_energy")):
        out = {"ef": meta.get("final_energy")}
    else:
        out = {"ei": meta.get("incident_energy")}
    if all(v is None for v in out.values()):
        raise InputError("this correction needs the incident (--ei) or final (--ef) energy; "
                         "the file records neither",
                         file=source, field="ei")
    return out


#: what the history of a reduced file says about k_f/k_i (Mantid's CorrectKiKf)
_KFKI_DONE = ("correctkikf",)


def kf_ki_statement(kf_ki: str, meta: dict) -> tuple[bool, str]:
    """(apply ki/kf to the data?, the sentence for the report) for kf_ki 'auto', 'apply' or
    'none'.  A measured intensity is (k_f/k_i) S(Q, E); 'apply' multiplies the data by k_i/k_f
    to obtain S.  'auto' applies nothing when the file's history shows the correction was made
    and otherwise says that the file does not record it."""
    if kf_ki not in ("auto", "apply", "none"):
        raise InputError("kf_ki must be 'auto', 'apply' or 'none'", field="kf_ki", value=kf_ki)
    history = " ".join(str(h) for h in meta.get("history", [])).lower()
    done = any(k in history for k in _KFKI_DONE)
    if kf_ki == "apply":
        if done:
            raise InputError("the file's history shows k_f/k_i was already corrected (CorrectKiKf); "
                             "applying it again would count it twice", field="kf_ki", value="apply")
        return True, "k_i/k_f applied to the data (--kf-ki apply): the fit is of S(Q,E)"
    if done:
        return False, "k_f/k_i already corrected in the file (CorrectKiKf in its history)"
    if kf_ki == "none":
        return False, "k_f/k_i not applied (--kf-ki none): the fit is of the measured (k_f/k_i) S(Q,E)"
    return False, ("k_f/k_i not applied: the file does not record whether its intensities are corrected "
                   "(give --kf-ki apply to fit S(Q,E) = (k_i/k_f) I)")


def _absorption(data, meta, q, source, *, sample, can, empty, empty_scale, solvent, ei, ef,
                bad_errors="error"):
    """Self-shielding (sample only) or the Paalman-Pings container correction."""
    from ..reduce import container_correction, self_shielding_correction

    if sample is None:
        raise InputError("a can cylinder needs the sample cylinder too", field="sample_cylinder")
    if solvent is not None or empty_scale != 1.0:
        raise InputError("the Paalman-Pings correction replaces the empty scale and does not take a "
                         "solvent", field="sample_cylinder")
    energies = _energies(ei, ef, meta, source)
    if can is None:
        if empty is not None:
            e, _, name = read_entry(empty, bad_errors=bad_errors)
            data = subtract(data, as_q_groups(e, q, name), 1.0, source=source)
        return self_shielding_correction(data, sample, source=source, **energies)
    if empty is None:
        raise InputError("the container correction needs the empty-can run (empty)", field="empty")
    e, _, name = read_entry(empty, bad_errors=bad_errors)
    return container_correction(data, on_grid_of(as_q_groups(e, q, name), data, "empty", name), sample,
                                can, source=source, **energies)


def fit_measurement(data, resolution, *, entry: str | None = None, resolution_entry: str | None = None,
                    q: Sequence[float] | None = None, q_range=None, e_range=None, empty=None,
                    empty_scale: float = 1.0, solvent=None, solvent_scale: float = 1.0,
                    sample_cylinder=None, can_cylinder=None, ei: float | None = None,
                    ef: float | None = None, temperature="file", resolution_shape: str = "measured",
                    model: str = "elastic-lorentzians", lorentzians: Sequence[int] | str = (1,),
                    elastic: bool | None = None, rotation: str | None = None,
                    diffusion: Sequence[str] = (), kf_ki: str = "auto", progress: bool | None = None,
                    bad_errors: str = "error", **plan) -> QensAnalysis:
    """Read, correct and fit a QENS measurement (module docstring): a :class:`QensAnalysis`.

    data, resolution, empty, solvent: file paths or DataArrays. q: |Q| (1/A) of the groups
    when the files carry none. q_range, e_range: (min, max) windows in 1/A and meV.
    sample_cylinder, can_cylinder: Samples or (formula, mass_g, r_in_mm, r_out_mm, height_mm)
    for the absorption corrections; ei/ef (meV) default to the file's. temperature: 'file',
    a number (K) or None (no detailed balance). resolution_shape: 'measured', 'gaussian' or
    'pseudo-voigt' (fitted to the resolution). kf_ki: 'auto', 'apply' (multiply the data by
    k_i/k_f, with E_i or E_f from ei/ef or the file) or 'none' (:func:`kf_ki_statement`).
    bad_errors: 'error' (default) or 'mask': points of the files whose error is NaN, negative,
    or zero on a non-zero value are refused or masked (counted in the notes).
    model, lorentzians, elastic, rotation,
    diffusion and the other keywords: :func:`plan_from_options`."""
    from ..convolution import fit_resolution

    plan_obj, spectral = plan_from_options(model, lorentzians=lorentzians, elastic=elastic,
                                           rotation=rotation, diffusion=diffusion,
                                           temperature=None, **plan)
    raw, meta, src = read_entry(data, entry, bad_errors)
    rraw, rmeta, rsrc = read_entry(resolution, resolution_entry, bad_errors)
    notes = _reader_notes(meta, src) + _reader_notes(rmeta, rsrc)
    sample_da = as_q_groups(raw, q, src)
    one_spectrum = rraw.ndim == 1 or min(rraw.sizes[d] for d in rraw.dims if d != "E") == 1
    res = as_q_groups(rraw, q if (q is not None and "Q" not in rraw.coords and not one_spectrum) else None,
                      rsrc, allow_missing_q=one_spectrum)
    check_resolution_narrower(sample_da, res, src, rsrc)
    sample, can = cylinder(sample_cylinder), cylinder(can_cylinder)
    if sample is not None or can is not None:
        sample_da = _absorption(sample_da, meta, q, src, sample=sample, can=can, empty=empty,
                                empty_scale=empty_scale, solvent=solvent, ei=ei, ef=ef,
                                bad_errors=bad_errors)
    elif empty is not None or solvent is not None:
        ebg = (as_q_groups(read_entry(empty, bad_errors=bad_errors)[0], q, str(empty))
               if empty is not None else None)
        sbg = (as_q_groups(read_entry(solvent, bad_errors=bad_errors)[0], q, str(solvent))
               if solvent is not None else None)
        sample_da = subtract(sample_da, ebg, empty_scale, sbg, solvent_scale, source=src)
    sample_da = crop(sample_da, q_range, e_range, src)
    apply_kf, kf_note = kf_ki_statement(kf_ki, meta)
    if apply_kf:
        from ..reduce import kf_ki_correction

        sample_da = kf_ki_correction(sample_da, source=src, **_energies(ei, ef, meta, src))
    plan_obj.temperature = _temperature(temperature, meta, src)
    if resolution_shape != "measured":
        res = fit_resolution(res, resolution_shape, source=rsrc, match=plan_obj.resolution_match)
    run = analyse_auto if spectral == "auto" else analyse
    a = run(sample_da, res, plan_obj, source=src, progress=progress)
    if spectral == "auto":
        chosen = next(r["model"] for r in a.ranking if r["chosen"])
        spectral = "translation-rotation" if "rotation" in chosen else \
            ("elastic-lorentzians" if a.plan.elastic else "lorentzians")
    a.spectral_model = spectral
    a.notes.insert(0, kf_note)
    if plan_obj.temperature is None and isinstance(temperature, str) and \
            temperature.strip().lower() == "file":
        notes.append("no valid sample temperature in the file: detailed balance not applied "
                     "(give --temperature)")
    a.notes[1:1] = notes
    a.instrument = meta.get("instrument")
    a.inputs = [Path(p) for p in (data, resolution, empty, solvent) if isinstance(p, str | Path)]
    return a
