"""Read phonopy output (phonopy.yaml / phonopy_disp.yaml, FORCE_CONSTANTS or
force_constants.hdf5, BORN) into a :class:`ForceConstants` model, through phonopy itself.

The yaml file is parsed here and its parts are handed to ``phonopy.Phonopy`` (so that old
files whose ``physical_unit`` phonopy >= 4 refuses still load); phonopy builds the supercell,
the primitive cell and the periodic images (shortest vectors).  Force constants and Born
charges are looked up in this order: the file given as argument, the yaml file, then
``force_constants.hdf5`` / ``FORCE_CONSTANTS`` / ``BORN`` next to the yaml file.

The dipole-dipole prefactor e^2/(4 pi epsilon_0) is taken from the file when it states one
(``nac_unit_conversion_factor``, ``nac: unit_conversion_factor`` or the first line of BORN:
14.400 in files written for VASP), otherwise from scipy.constants (14.39964 eV A).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import DependencyError, FormatError, InputError
from .atoms import phonon_crystal, species_from_crystal
from .fc_checks import check_force_constants, symmetrize_full_fc, warn_if_needed
from .model import ForceConstants, commensurate_qpoints

__all__ = ["load_phonopy"]

_YAML_NAMES = ("phonopy.yaml", "phonopy_disp.yaml", "phonopy_params.yaml")


def _find_yaml(path: Path) -> Path:
    if path.is_dir():
        for name in _YAML_NAMES:
            if (path / name).is_file():
                return path / name
        raise InputError(f"no phonopy yaml file ({', '.join(_YAML_NAMES)}) in the folder",
                         file=path, field="phonopy_yaml")
    if not path.is_file():
        raise InputError("phonopy yaml file not found", file=path, field="phonopy_yaml")
    return path


def _read_yaml(path: Path) -> dict:
    import yaml

    try:
        loader = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - pure-python yaml
        loader = yaml.SafeLoader
    try:
        with open(path) as fh:
            data = yaml.load(fh, Loader=loader)
    except yaml.YAMLError as exc:
        raise FormatError(f"not a valid YAML file: {exc}", file=path) from exc
    if not isinstance(data, dict):
        raise FormatError("not a phonopy yaml file (top level is not a mapping)", file=path)
    return data


def _structure(data: dict, key: str, path: Path):
    try:
        block = data[key]
        lattice = np.array(block["lattice"], dtype=float)
        points = block["points"]
        symbols = [str(p["symbol"]) for p in points]
        pos = np.array([p["coordinates"] for p in points], dtype=float)
        masses = np.array([p.get("mass", np.nan) for p in points], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"structure block is incomplete ({exc})", file=path, field=key) from None
    if lattice.shape != (3, 3) or pos.shape != (len(symbols), 3):
        raise FormatError("structure block has wrong shapes", file=path, field=key,
                          value=(lattice.shape, pos.shape))
    return lattice, symbols, pos, masses


def _check_units(data: dict, path: Path, units: str | None) -> None:
    """The file's ``physical_unit`` (or ``units`` = 'LENGTH,FORCE_CONSTANTS' when the file has
    none) must be angstrom and eV/angstrom^2; a file without units and no ``units`` is an error."""
    if "physical_unit" in data:
        pu = data.get("physical_unit") or {}
    elif units is not None:
        parts = [p.strip() for p in str(units).split(",")]
        if len(parts) != 2:
            raise InputError("units must be 'LENGTH,FORCE_CONSTANTS', e.g. "
                             "'angstrom,eV/angstrom^2'", field="units", value=units)
        pu = {"length": parts[0], "force_constants": parts[1]}
    else:
        raise FormatError("no physical_unit block: the units of lengths and force constants are "
                          "unknown; give units='angstrom,eV/angstrom^2' (CLI --units) if that is "
                          "what the file holds", file=path, field="physical_unit")
    length = str(pu.get("length", "angstrom")).lower()
    fcu = str(pu.get("force_constants", "eV/angstrom^2")).lower().replace(" ", "")
    if length != "angstrom":
        raise FormatError("only lengths in angstrom are supported", file=path,
                          field="physical_unit.length", value=pu.get("length"))
    if fcu not in ("ev/angstrom^2", "ev/angstrom.angstrom", "ev/angstrom**2", "ev/a^2"):
        raise FormatError("only force constants in eV/angstrom^2 are supported", file=path,
                          field="physical_unit.force_constants", value=pu.get("force_constants"))


def _read_fc_file(fc_path: Path, n_sc: int, p2s: np.ndarray) -> np.ndarray:
    from phonopy.file_IO import parse_FORCE_CONSTANTS, read_force_constants_hdf5

    if not fc_path.is_file():
        raise InputError("force-constant file not found", file=fc_path, field="force_constants")
    try:
        if fc_path.suffix in (".hdf5", ".h5"):
            fc = read_force_constants_hdf5(str(fc_path))
            import h5py

            with h5py.File(fc_path, "r") as fh:
                if "p2s_map" in fh and len(fh["p2s_map"]) == len(p2s) and \
                        not np.array_equal(np.asarray(fh["p2s_map"]), p2s):
                    raise FormatError("p2s_map of the force constants disagrees with the "
                                      "primitive cell of the yaml file", file=fc_path,
                                      field="p2s_map", value=np.asarray(fh["p2s_map"]).tolist())
        else:
            fc = parse_FORCE_CONSTANTS(str(fc_path))
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise FormatError(f"cannot read force constants ({exc})", file=fc_path,
                          field="force_constants") from None
    return _compact(np.asarray(fc, dtype=float), n_sc, p2s, fc_path)


def _compact(fc: np.ndarray, n_sc: int, p2s: np.ndarray, where) -> np.ndarray:
    if fc.ndim != 4 or fc.shape[2:] != (3, 3) or fc.shape[1] != n_sc:
        raise FormatError(f"force constants have shape {fc.shape}; the supercell has {n_sc} "
                          "atoms", file=where, field="force_constants", value=fc.shape)
    if fc.shape[0] == n_sc:
        return fc[p2s]
    if fc.shape[0] == len(p2s):
        return fc
    raise FormatError(f"force constants have {fc.shape[0]} rows; expected {len(p2s)} (compact) "
                      f"or {n_sc} (full)", file=where, field="force_constants", value=fc.shape)


def _parse_born_text(text: str, born_path, primitive, n_atoms: int):
    lines = [ln.split("#")[0].split() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    factor = None
    try:
        if len(lines[0]) == 1:
            factor = float(lines[0][0])
            lines = lines[1:]
        eps = np.array(lines[0], dtype=float)
        zs = np.array(lines[1:], dtype=float)
    except (IndexError, ValueError) as exc:
        raise FormatError(f"BORN file is malformed ({exc})", file=born_path) from None
    if eps.shape != (9,) or zs.ndim != 2 or zs.shape[1] != 9:
        raise FormatError("BORN needs 9 numbers per line (dielectric tensor, then one Born "
                          "tensor per atom)", file=born_path, value=(eps.shape, zs.shape))
    if len(zs) == n_atoms:
        return zs.reshape(n_atoms, 3, 3), eps.reshape(3, 3), factor
    # symmetry-independent atoms only: let phonopy expand them
    from phonopy.file_IO import get_born_parameters
    from phonopy.structure.symmetry import Symmetry

    try:
        params = get_born_parameters(io.StringIO(text), primitive, Symmetry(primitive))
    except Exception as exc:
        raise FormatError(f"BORN lists {len(zs)} atoms, neither all {n_atoms} nor the "
                          f"independent ones ({exc})", file=born_path, field="born",
                          value=len(zs)) from None
    return np.asarray(params["born"]), np.asarray(params["dielectric"]), factor


def _nac_from_yaml(data: dict):
    nac = data.get("nac")
    if isinstance(nac, dict) and "born_effective_charge" in nac:
        return (np.array(nac["born_effective_charge"], dtype=float),
                np.array(nac["dielectric_constant"], dtype=float),
                nac.get("unit_conversion_factor"))
    if "born_effective_charge" in data:
        return (np.array(data["born_effective_charge"], dtype=float),
                np.array(data["dielectric_constant"], dtype=float),
                (data.get("phonopy") or {}).get("nac_unit_conversion_factor"))
    return None


def load_phonopy(path, force_constants=None, born=None, *,
                 isotopes: Mapping[str, str] | Sequence[str] | None = None,
                 table: str = "sears", asr: str | None = "realspace", nac: bool = True,
                 ewald_tolerance: float = 1e-13, lambda_scale: float = 1.0,
                 crystal=None, symmetrize_fc: bool = False,
                 units: str | None = None) -> ForceConstants:
    """Load a phonopy calculation into a :class:`ForceConstants` model.

    Parameters
    ----------
    path: phonopy.yaml / phonopy_disp.yaml (or a folder holding one).
    force_constants: FORCE_CONSTANTS or force_constants.hdf5 (default: the yaml's own force
        constants, else those files next to the yaml).
    born: BORN file (default: the yaml's Born charges, else BORN next to the yaml).
    isotopes: element -> isotope mapping ({'H': 'D'}) or one symbol per primitive site;
        isotope masses and scattering lengths replace those of the element.
    crystal: a :class:`latdyn.structure.Crystal` (e.g. ``latdyn.structure.read_cif`` of the sample)
        whose species replace those of the file, atom by atom (found by position, see
        :func:`latdyn.phonons.atoms.species_from_crystal`): an isotope there ('D', '7Li')
        sets that atom's mass and scattering lengths.  Its cell must be the unit cell or the
        primitive cell of the calculation.  Give either ``isotopes`` or ``crystal``.
    table: scattering-length table for latdyn.scattering.nuclide ('sears' or 'rauch').
    asr: acoustic sum rule ('reciprocal', 'realspace' or None).
    nac: include the dipole-dipole (Ewald, Gonze-Lee) term when Born charges are present.
    symmetrize_fc: make the supercell force constants permutation- and translation-symmetric
        with phonopy before building the model.
    units: 'LENGTH,FORCE_CONSTANTS' for a yaml without ``physical_unit`` (only
        'angstrom,eV/angstrom^2' is supported); a yaml without units and no ``units`` raises
        FormatError.

    Without a force-constant file or block, the force constants are built by phonopy from the
    displacements and forces of the yaml (``displacements`` with ``forces``) or of a
    ``FORCE_SETS`` file next to it.  The loaded force constants are measured
    (:mod:`latdyn.phonons.fc_checks`): ``model.fc_checks`` holds their permutation asymmetry,
    acoustic-sum-rule violation and the energy effects, and a
    :class:`~latdyn.phonons.fc_checks.ForceConstantWarning` names them when they matter.
    """
    try:
        from phonopy import Phonopy
        from phonopy.structure.atoms import PhonopyAtoms
    except ImportError as exc:  # pragma: no cover - phonopy is a dependency
        raise DependencyError("reading phonopy files needs phonopy (pip install phonopy)",
                              field="phonopy") from exc
    ypath = _find_yaml(Path(path))
    data = _read_yaml(ypath)
    _check_units(data, ypath, units)
    if "unit_cell" not in data:
        raise FormatError("no unit_cell block", file=ypath, field="unit_cell")
    lattice, symbols, pos, masses = _structure(data, "unit_cell", ypath)
    try:
        smat = np.array(data["supercell_matrix"], dtype=int)
    except (KeyError, ValueError, TypeError):
        raise FormatError("no valid supercell_matrix", file=ypath, field="supercell_matrix",
                          value=data.get("supercell_matrix")) from None
    if smat.shape == (3,):
        smat = np.diag(smat)
    if smat.shape != (3, 3) or round(abs(np.linalg.det(smat))) < 1:
        raise FormatError("supercell_matrix must be a non-singular 3x3 integer matrix",
                          file=ypath, field="supercell_matrix", value=smat.tolist())
    pmat = data.get("primitive_matrix")
    pmat = "P" if pmat is None else np.array(pmat, dtype=float)
    kwargs = {}
    if np.all(np.isfinite(masses)):
        kwargs["masses"] = masses
    try:
        unitcell = PhonopyAtoms(symbols=symbols, cell=lattice, scaled_positions=pos, **kwargs)
        ph = Phonopy(unitcell, supercell_matrix=smat, primitive_matrix=pmat)
    except Exception as exc:
        raise FormatError(f"phonopy rejected the structure ({exc})", file=ypath,
                          field="unit_cell") from None
    sc = ph.supercell
    prim = ph.primitive
    n_sc = len(sc)
    if "supercell" in data:
        _, sc_syms, sc_pos, _ = _structure(data, "supercell", ypath)
        if len(sc_syms) != n_sc:
            raise FormatError(f"supercell block has {len(sc_syms)} atoms but unit_cell x "
                              f"supercell_matrix gives {n_sc}", file=ypath, field="supercell",
                              value=len(sc_syms))
        diff = sc_pos - sc.scaled_positions
        if np.max(np.abs(diff - np.rint(diff))) > 1e-5 or list(sc_syms) != list(sc.symbols):
            raise FormatError("supercell block disagrees with unit_cell x supercell_matrix "
                              "(atom order or positions)", file=ypath, field="supercell")
    p2s = np.asarray(prim.p2s_map, dtype=int)
    # force constants
    if force_constants is not None:
        fc = _read_fc_file(Path(force_constants), n_sc, p2s)
    elif isinstance(data.get("force_constants"), dict):
        block = data["force_constants"]
        try:
            shape = list(block["shape"])
            fc = np.array(block["elements"], dtype=float).reshape(shape + [3, 3])
        except (KeyError, ValueError, TypeError) as exc:
            raise FormatError(f"force_constants block is malformed ({exc})", file=ypath,
                              field="force_constants") from None
        fc = _compact(fc, n_sc, p2s, ypath)
    else:
        for name in ("force_constants.hdf5", "FORCE_CONSTANTS"):
            if (ypath.parent / name).is_file():
                fc = _read_fc_file(ypath.parent / name, n_sc, p2s)
                break
        else:
            fc = _fc_from_forces(ph, data, ypath, p2s)
    # Born charges
    nac_data = None
    if born is not None:
        bpath = Path(born)
        if not bpath.is_file():
            raise InputError("BORN file not found", file=bpath, field="born")
        nac_data = _parse_born_text(bpath.read_text(), bpath, prim, len(prim))
        if nac_data[2] is None:
            yaml_nac = _nac_from_yaml(data)
            nac_data = (nac_data[0], nac_data[1], yaml_nac[2] if yaml_nac else None)
    else:
        nac_data = _nac_from_yaml(data)
        if nac_data is None and (ypath.parent / "BORN").is_file():
            bpath = ypath.parent / "BORN"
            nac_data = _parse_born_text(bpath.read_text(), bpath, prim, len(prim))
    born_arr = dielectric = factor = None
    if nac_data is not None and nac:
        born_arr, dielectric, factor = nac_data
        if born_arr.shape != (len(prim), 3, 3):
            raise FormatError(f"Born charges for {born_arr.shape[0]} atoms but the primitive cell "
                              f"has {len(prim)}", file=born or ypath, field="born",
                              value=born_arr.shape)
        dielectric = np.asarray(dielectric, dtype=float).reshape(3, 3)
    if crystal is not None:
        if isotopes is not None:
            raise InputError("give isotopes or a Crystal with isotope species, not both",
                             file=ypath, field="isotopes", value=isotopes)
        isotopes = species_from_crystal(crystal, [lattice, prim.cell], prim.positions,
                                        list(prim.symbols), source=getattr(crystal, "source", None))
    pcrystal = phonon_crystal(prim.cell, prim.scaled_positions, list(prim.symbols), prim.masses,
                              isotopes=isotopes, table=table, source=str(ypath))
    svecs, multi = prim.get_smallest_vectors()
    s2p_prim = np.array([int(np.flatnonzero(p2s == s)[0]) for s in prim.s2p_map])
    sc_pos_prim = pcrystal.lattice.fractional(sc.positions)
    smat_prim = _prim_supercell_matrix(sc.cell, prim.cell)
    fc, checks = _checked_fc(prim, fc, symmetrize_fc, s2p_prim, sc_pos_prim, pcrystal, smat_prim)
    model = ForceConstants.from_supercell(
        pcrystal, smat_prim, fc, s2p_prim, sc_pos_prim,
        svecs, multi, born=born_arr, dielectric=dielectric, nac_factor=factor, asr=asr,
        ewald_tolerance=ewald_tolerance, lambda_scale=lambda_scale, source=str(ypath))
    model.fc_checks = checks
    warn_if_needed(checks, ypath, asr)
    return model


def _checked_fc(prim, fc, symmetrize, s2p_prim, sc_pos_prim, pcrystal, smat_prim):
    """(compact force constants, :class:`ForceConstantChecks`), symmetrised first if asked."""
    from phonopy.harmonic.force_constants import compact_fc_to_full_fc

    p2s = np.asarray(prim.p2s_map, dtype=int)
    full = compact_fc_to_full_fc(prim, np.ascontiguousarray(fc))
    if symmetrize:
        full = symmetrize_full_fc(full)
        fc = full[p2s]
    cells = np.rint(sc_pos_prim - pcrystal.positions[s2p_prim])
    checks = check_force_constants(full, p2s, s2p_prim, cells, pcrystal.masses,
                                   commensurate_qpoints(smat_prim), symmetrized=symmetrize)
    return fc, checks


def _fc_from_forces(ph, data: dict, ypath: Path, p2s: np.ndarray) -> np.ndarray:
    """Compact force constants built by phonopy from the yaml's displacements with forces or
    from FORCE_SETS next to it; InputError when there are neither."""
    n_sc = len(ph.supercell)
    disps = data.get("displacements")
    dataset = None
    if isinstance(disps, list) and disps and all(isinstance(d, dict) and "forces" in d
                                                 for d in disps):
        try:
            dataset = {"natom": n_sc, "first_atoms": [
                {"number": int(d["atom"]) - 1,
                 "displacement": np.array(d["displacement"], dtype=float),
                 "forces": np.array(d["forces"], dtype=float)} for d in disps]}
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"displacements block is malformed ({exc})", file=ypath,
                              field="displacements") from None
    elif (ypath.parent / "FORCE_SETS").is_file():
        from phonopy.file_IO import parse_FORCE_SETS

        try:
            dataset = parse_FORCE_SETS(natom=n_sc, filename=str(ypath.parent / "FORCE_SETS"))
        except (OSError, ValueError, IndexError, RuntimeError) as exc:
            raise FormatError(f"cannot read FORCE_SETS ({exc})", file=ypath.parent / "FORCE_SETS",
                              field="forces") from None
    if dataset is None:
        raise InputError("no force constants: give FORCE_CONSTANTS or force_constants.hdf5, or "
                         "forces (displacements with forces in the yaml, or FORCE_SETS)",
                         file=ypath, field="force_constants")
    try:
        ph.dataset = dataset
        ph.produce_force_constants(calculate_full_force_constants=True)
    except Exception as exc:
        raise FormatError(f"phonopy could not build force constants from the forces ({exc})",
                          file=ypath, field="forces") from None
    return _compact(np.asarray(ph.force_constants, dtype=float), n_sc, p2s, ypath)


def _prim_supercell_matrix(sc_cell: np.ndarray, prim_cell: np.ndarray) -> np.ndarray:
    """Integer S with supercell rows = S @ primitive rows."""
    s = sc_cell @ np.linalg.inv(prim_cell)
    si = np.rint(s)
    if np.max(np.abs(s - si)) > 1e-5:
        raise FormatError("supercell is not a multiple of the primitive cell", field="supercell",
                          value=s.tolist())
    return si.astype(int)
