"""Magnetic structures from files: an mCIF, or a short YAML description of moments on the sites
of a crystal given as CIF.

YAML layout (every key but ``moments`` optional)::

    structure: MnCoGe_orthorhombic.cif   # CIF of the crystal, relative to this file
    k: "0,0,0"                           # propagation vector (r.l.u.), fractions allowed
    axes: crystal                        # or cartesian
    moments: {Mn1: [2.8, 0, 0]}          # mu_B per site label (amplitude A for k != 0)
    second: {Mn1: [0, 2.8, 0]}           # sine component B (helix, cycloid)
    phase: {Mn1: 0.25}                   # cycles
    ions: {Mn1: Mn3+}                    # magnetic ion per site label or species
    g_J: {Ho1: 1.25}                     # or g (spectroscopic) or orbital (mu_L/mu)
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FormatError, InputError
from ..fileio import input_file, load_yaml, names_input_file, read_text_file
from .crystal import Crystal
from .magnetic import MagneticStructure, magnetic_structure

__all__ = ["read_magnetic_structure"]

_KEYS = {"structure", "k", "axes", "moments", "second", "phase", "ions", "g", "g_J", "orbital", "title"}


def _is_mcif(path: Path) -> bool:
    text = read_text_file(path)[0]
    return "data_" in text and ("magn_operation" in text or "magn_ssg_operation" in text
                                or "_atom_site_moment" in text)


@names_input_file
def read_magnetic_structure(path, *, crystal: Crystal | str | Path | None = None,
                            ions: dict | None = None) -> MagneticStructure:
    """Read an mCIF (:func:`latdyn.structure.read_mcif`) or a YAML description (module
    docstring).  ``crystal`` (a :class:`Crystal` or a CIF path) replaces the YAML's
    ``structure``; ``ions`` ({label or species: ion}) adds to or overrides the file's ions."""
    from .cif import read_cif
    from .mcif import read_mcif

    path = input_file(path)
    if _is_mcif(path):
        return read_mcif(path, ions=ions)
    try:
        data = load_yaml(path)
    except FormatError as exc:
        raise FormatError(f"neither an mCIF nor a YAML magnetic structure: {exc}", file=path) from None
    if not isinstance(data, dict) or "moments" not in data:
        raise FormatError("a magnetic structure file needs 'moments' (or is an mCIF)", file=path,
                          field="moments")
    unknown = set(data) - _KEYS
    if unknown:
        raise FormatError(f"unknown key; use {sorted(_KEYS)}", file=path, field=sorted(unknown)[0])
    if crystal is None:
        if "structure" not in data:
            raise InputError("give the crystal: a CIF on the command line or 'structure:' in the "
                             "file", file=path, field="structure")
        crystal = path.parent / str(data["structure"])
        try:
            input_file(crystal)
        except (FileNotFoundError, InputError) as exc:
            raise InputError(f"the structure named in the file cannot be read ({exc})", file=path,
                             field="structure", value=data["structure"]) from None
    if not isinstance(crystal, Crystal):
        crystal = read_cif(crystal)
    for key in ("moments", "second", "phase", "ions", "g", "g_J", "orbital"):
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            raise FormatError("must map site labels (or species) to values", file=path, field=key,
                              value=data[key])
    merged_ions = {**(data.get("ions") or {}), **(ions or {})}
    try:
        return magnetic_structure(crystal, data["moments"], k=data.get("k", "0,0,0"),
                                  axes=data.get("axes", "crystal"), second=data.get("second"),
                                  phase=data.get("phase"), ions=merged_ions or None,
                                  orbital=data.get("orbital"), g=data.get("g"),
                                  g_J=data.get("g_J"), title=str(data.get("title", "")))
    except InputError as exc:
        if exc.file is None or Path(exc.file) != path:  # name the YAML that sets ions, moments
            raise InputError(str(exc), file=path) from exc
        raise
    except (ValueError, TypeError, KeyError) as exc:  # values of the wrong type or shape
        raise FormatError(f"malformed values ({exc})", file=path, field="moments") from None
