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

Every input is checked before use (FormatError naming the file and the field otherwise): the
YAML is read with the safe loader and an alias limit (:func:`latdyn.fileio.load_yaml`); the
cell is finite and not singular, masses positive, the supercell matrix integer with a
supercell whose full force constants (72 N_sc^2 bytes) fit the read budget; force constants
(read here from FORCE_CONSTANTS / force_constants.hdf5, with their declared sizes checked
first) are finite with the shape the cells imply; Born charges are N x 3 x 3 and finite, the
dielectric tensor 3 x 3, finite and positive definite; text files may be UTF-8 or Latin-1.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import DependencyError, FormatError, InputError
from ..fileio import check_read_size, input_file, is_hdf5, load_yaml, names_input_file, read_text_file
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
    data = load_yaml(input_file(path))
    if not isinstance(data, dict):
        raise FormatError("not a phonopy yaml file (top level is not a mapping)", file=path)
    return data


def _finite(arr: np.ndarray, path, field: str, what: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise FormatError(f"{what} hold NaN or infinity", file=path, field=field)
    return arr


def _structure(data: dict, key: str, path: Path):
    try:
        block = data[key]
        lattice = np.array(block["lattice"], dtype=float)
        points = block["points"]
        symbols = [str(p["symbol"]) for p in points]
        pos = np.array([p["coordinates"] for p in points], dtype=float)
        masses = np.array([p.get("mass", np.nan) for p in points], dtype=float)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise FormatError(f"structure block is incomplete ({exc})", file=path, field=key) from None
    if lattice.shape != (3, 3) or pos.shape != (len(symbols), 3) or not symbols:
        raise FormatError("structure block has wrong shapes", file=path, field=key,
                          value=(lattice.shape, pos.shape))
    _finite(lattice, path, f"{key}.lattice", "lattice vectors")
    _finite(pos, path, f"{key}.points.coordinates", "atom coordinates")
    if abs(np.linalg.det(lattice)) < 1e-6:
        raise FormatError("the lattice vectors are linearly dependent (zero cell volume)",
                          file=path, field=f"{key}.lattice", value=lattice.tolist())
    known = np.isfinite(masses)
    if np.any(masses[known] <= 0) or (known.any() and not known.all()):
        raise FormatError("masses must be given for every atom or none, and be positive (amu)",
                          file=path, field=f"{key}.points.mass", value=masses.tolist()[:6])
    return lattice, symbols, pos, masses


def _check_units(data: dict, path: Path, units: str | None) -> None:
    """The file's ``physical_unit`` (or ``units`` = 'LENGTH,FORCE_CONSTANTS' when the file has
    none) must be angstrom and eV/angstrom^2; a file without units and no ``units`` is an error."""
    if "physical_unit" in data:
        pu = data.get("physical_unit") or {}
        if not isinstance(pu, dict):
            raise FormatError("physical_unit must be a mapping (length, force_constants, ...)",
                              file=path, field="physical_unit", value=pu)
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


_FC_UNITS = ("ev/angstrom^2", "ev/angstrom.angstrom", "ev/angstrom**2", "ev/a^2")


def _fc_rows_ok(n_rows: int, n_sc: int, p2s: np.ndarray, fc_path: Path, field: str) -> None:
    if n_rows not in (n_sc, len(p2s)):
        raise FormatError(f"force constants declare {n_rows} rows; the cells give {len(p2s)} "
                          f"(compact) or {n_sc} (full)", file=fc_path, field=field, value=n_rows)


def _read_fc_hdf5(fc_path: Path, n_sc: int, p2s: np.ndarray) -> np.ndarray:
    """force_constants.hdf5 (phonopy's layout: ``force_constants`` or ``fc2``, ``p2s_map``,
    ``physical_unit``), with its declared shape checked before the read."""
    from ..data.io._common import bytes_to_str, open_hdf5, read_array

    with open_hdf5(fc_path) as fh:
        key = "fc2" if "fc2" in fh else "force_constants"
        shape = fh[key].shape if key in fh else None
        if shape is None or len(shape) != 4 or shape[1] != n_sc or shape[2:] != (3, 3):
            raise FormatError(f"expected force constants of shape (N, {n_sc}, 3, 3)",
                              file=fc_path, field=key, value=shape)
        _fc_rows_ok(shape[0], n_sc, p2s, fc_path, key)
        fc = read_array(fh, key, fc_path, ndim=4)
        if "p2s_map" in fh:
            p2s_file = read_array(fh, "p2s_map", fc_path, dtype=np.int64).ravel()
            if len(p2s_file) == len(p2s) and not np.array_equal(p2s_file, p2s):
                raise FormatError("p2s_map of the force constants disagrees with the primitive "
                                  "cell of the yaml file", file=fc_path, field="p2s_map",
                                  value=p2s_file.tolist())
        if "physical_unit" in fh:
            unit = str(bytes_to_str(read_array(fh, "physical_unit", fc_path, dtype=object).ravel()[:1]))
            if unit.strip().lower().replace(" ", "") not in _FC_UNITS:
                raise FormatError("only force constants in eV/angstrom^2 are supported",
                                  file=fc_path, field="physical_unit", value=unit)
    return fc


def _read_fc_text(fc_path: Path, n_sc: int, p2s: np.ndarray) -> np.ndarray:
    """FORCE_CONSTANTS: a line 'N1 N2', then per atom pair a line 'i j' and three lines of
    the 3 x 3 block (eV/angstrom^2); the counts are checked before anything is allocated."""
    lines = [ln for ln in read_text_file(fc_path)[0].splitlines() if ln.strip()]
    field = "FORCE_CONSTANTS"
    try:
        head = [int(v) for v in lines[0].split()]
    except (ValueError, IndexError):
        raise FormatError("first line must give the numbers of atoms 'N1 N2'", file=fc_path,
                          field="line 1", value=lines[0][:60] if lines else "") from None
    if len(head) == 1:
        head = head * 2
    if len(head) != 2 or head[1] != n_sc:
        raise FormatError(f"force constants for {head[-1]} supercell atoms; the supercell has "
                          f"{n_sc} (expected 'N {n_sc}' on the first line)", file=fc_path,
                          field="line 1", value=lines[0][:60])
    n1 = head[0]
    _fc_rows_ok(n1, n_sc, p2s, fc_path, "line 1")
    n_lines = 1 + 4 * n1 * n_sc
    if len(lines) != n_lines:
        raise FormatError(f"{n1} x {n_sc} blocks need {n_lines} lines, the file has {len(lines)} "
                          "(truncated?)", file=fc_path, field=field, value=len(lines))
    body = lines[1:]
    try:
        index = np.array([body[k].split()[:2] for k in range(0, len(body), 4)], dtype=int)
        values = np.array([body[k].split() for k in range(len(body)) if k % 4], dtype=float)
    except (ValueError, IndexError):
        raise FormatError("force-constant blocks must be 'i j' and three lines of three numbers",
                          file=fc_path, field=field) from None
    if index.shape != (n1 * n_sc, 2) or values.shape != (3 * n1 * n_sc, 3):
        raise FormatError("force-constant blocks must be 'i j' and three lines of three numbers",
                          file=fc_path, field=field, value=(index.shape, values.shape))
    rows = p2s if n1 == len(p2s) and n1 != n_sc else np.arange(n_sc)
    expect_i = np.repeat(rows + 1, n_sc)
    expect_j = np.tile(np.arange(1, n_sc + 1), n1)
    if not (np.array_equal(index[:, 0], expect_i) and np.array_equal(index[:, 1], expect_j)):
        k = int(np.argmax((index[:, 0] != expect_i) | (index[:, 1] != expect_j)))
        raise FormatError("atom indices of the blocks are not in the expected order", file=fc_path,
                          field=f"block {k + 1}", value=index[k].tolist())
    return values.reshape(n1, n_sc, 3, 3)


def _read_fc_file(fc_path: Path, n_sc: int, p2s: np.ndarray) -> np.ndarray:
    try:
        fc_path = input_file(fc_path)
    except FileNotFoundError:
        raise InputError("force-constant file not found", file=fc_path,
                         field="force_constants") from None
    fc = (_read_fc_hdf5 if is_hdf5(fc_path) else _read_fc_text)(fc_path, n_sc, p2s)
    fc = _finite(np.asarray(fc, dtype=float), fc_path, "force_constants", "force constants")
    return _compact(fc, n_sc, p2s, fc_path)


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


def _read_born(bpath: Path, primitive, n_atoms: int):
    try:
        bpath = input_file(bpath)
    except FileNotFoundError:
        raise InputError("BORN file not found", file=bpath, field="born") from None
    return _parse_born_text(read_text_file(bpath)[0], bpath, primitive, n_atoms)


def _parse_born_text(text: str, born_path, primitive, n_atoms: int):
    lines = [ln.split("#")[0].split() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    factor = None
    try:
        if len(lines[0]) == 1:
            factor = float(lines[0][0])
            lines = lines[1:]
        eps = np.array(lines[0], dtype=float)
        if any(len(ln) != 9 for ln in lines):
            raise ValueError("every line after the factor needs 9 numbers")
        zs = np.array(lines[1:], dtype=float)
    except (IndexError, ValueError) as exc:
        raise FormatError(f"BORN file is malformed ({exc})", file=born_path, field="born") from None
    if eps.shape != (9,) or zs.ndim != 2 or zs.shape[1] != 9 or len(zs) == 0:
        raise FormatError("BORN needs 9 numbers per line (dielectric tensor, then one Born "
                          "tensor per atom)", file=born_path, field="born",
                          value=(eps.shape, zs.shape))
    _finite(eps, born_path, "dielectric", "dielectric tensor values")
    _finite(zs, born_path, "born", "Born charges")
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


def _nac_from_yaml(data: dict, path=None):
    nac = data.get("nac")
    if isinstance(nac, dict) and "born_effective_charge" in nac:
        block, where, factor = nac, "nac.", nac.get("unit_conversion_factor")
    elif "born_effective_charge" in data:
        phon = data.get("phonopy")
        block, where = data, ""
        factor = phon.get("nac_unit_conversion_factor") if isinstance(phon, dict) else None
    else:
        return None
    out = []
    for name in ("born_effective_charge", "dielectric_constant"):
        try:
            out.append(np.array(block[name], dtype=float))
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"missing or malformed ({exc.__class__.__name__})", file=path,
                              field=where + name) from None
    return out[0], out[1], factor


def _check_nac(born: np.ndarray, dielectric: np.ndarray, factor, n_prim: int, where):
    """Born charges (n_prim, 3, 3), dielectric tensor (3, 3) positive definite, factor > 0."""
    born = np.asarray(born, dtype=float)
    dielectric = np.asarray(dielectric, dtype=float)
    if born.shape != (n_prim, 3, 3):
        raise FormatError(f"Born charges must be {n_prim} x 3 x 3 (one tensor per atom of the "
                          "primitive cell)", file=where, field="born", value=born.shape)
    if dielectric.size != 9:
        raise FormatError("the dielectric tensor needs 9 numbers (3 x 3)", file=where,
                          field="dielectric", value=dielectric.shape)
    dielectric = dielectric.reshape(3, 3)
    _finite(born, where, "born", "Born charges")
    _finite(dielectric, where, "dielectric", "dielectric tensor values")
    if np.min(np.linalg.eigvalsh(0.5 * (dielectric + dielectric.T))) <= 0:
        raise FormatError("the dielectric tensor is not positive definite", file=where,
                          field="dielectric", value=dielectric.tolist())
    if factor is not None:
        try:
            factor = float(factor)
        except (TypeError, ValueError):
            factor = float("nan")
        if not (np.isfinite(factor) and factor > 0):
            raise FormatError("the NAC unit conversion factor must be a positive number",
                              file=where, field="unit_conversion_factor", value=factor)
    return born, dielectric, factor


_PRIMITIVE_LETTERS = ("auto", "P", "F", "I", "A", "C", "R")


def _primitive_matrix(data: dict, ypath: Path):
    raw = data.get("primitive_matrix")
    if raw is None:
        return "P"
    if isinstance(raw, str):
        if raw.strip() not in _PRIMITIVE_LETTERS:
            raise FormatError(f"primitive_matrix must be a 3x3 matrix or one of "
                              f"{list(_PRIMITIVE_LETTERS)}", file=ypath, field="primitive_matrix",
                              value=raw)
        return raw.strip()
    try:
        pmat = np.array(raw, dtype=float)
    except (TypeError, ValueError):
        pmat = np.empty(0)
    if pmat.shape != (3, 3) or not np.all(np.isfinite(pmat)) or abs(np.linalg.det(pmat)) < 1e-6:
        raise FormatError("primitive_matrix must be a finite non-singular 3x3 matrix", file=ypath,
                          field="primitive_matrix", value=raw)
    return pmat


def _supercell_matrix(data: dict, ypath: Path, n_unit: int) -> np.ndarray:
    """The integer supercell matrix, after checking that the supercell's full force constants
    (72 N_sc^2 bytes, N_sc = n_unit |det S|) fit the read budget."""
    raw = data.get("supercell_matrix")
    try:
        smat = np.array(raw, dtype=float)
    except (TypeError, ValueError):
        smat = np.empty(0)
    if smat.shape == (3,):
        smat = np.diag(smat)
    if smat.shape != (3, 3) or not np.all(np.isfinite(smat)) or \
            not np.allclose(smat, np.rint(smat), atol=1e-8):
        raise FormatError("no valid supercell_matrix (a 3x3 integer matrix)", file=ypath,
                          field="supercell_matrix", value=raw)
    det = abs(np.linalg.det(smat))
    if round(det) < 1:
        raise FormatError("supercell_matrix must be a non-singular 3x3 integer matrix",
                          file=ypath, field="supercell_matrix", value=smat.tolist())
    n_sc = float(n_unit) * round(det)
    check_read_size(72.0 * n_sc**2, file=ypath, field="supercell_matrix",
                    what=f"the force constants of a {n_sc:.3g}-atom supercell")
    return np.rint(smat).astype(int)


@names_input_file
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
    smat = _supercell_matrix(data, ypath, len(symbols))
    pmat = _primitive_matrix(data, ypath)
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
            shape = [int(v) for v in block["shape"]]
            fc = np.array(block["elements"], dtype=float).reshape(shape + [3, 3])
        except (KeyError, ValueError, TypeError) as exc:
            raise FormatError(f"force_constants block is malformed ({exc})", file=ypath,
                              field="force_constants") from None
        fc = _compact(_finite(fc, ypath, "force_constants", "force constants"), n_sc, p2s, ypath)
    else:
        for name in ("force_constants.hdf5", "FORCE_CONSTANTS"):
            if (ypath.parent / name).is_file():
                fc = _read_fc_file(ypath.parent / name, n_sc, p2s)
                break
        else:
            fc = _fc_from_forces(ph, data, ypath, p2s)
    # Born charges
    nac_data = None
    nac_source = ypath
    if born is not None:
        nac_source = Path(born)
        nac_data = _read_born(nac_source, prim, len(prim))
        if nac_data[2] is None:
            yaml_nac = _nac_from_yaml(data, ypath)
            nac_data = (nac_data[0], nac_data[1], yaml_nac[2] if yaml_nac else None)
    else:
        nac_data = _nac_from_yaml(data, ypath)
        if nac_data is None and (ypath.parent / "BORN").is_file():
            nac_source = ypath.parent / "BORN"
            nac_data = _read_born(nac_source, prim, len(prim))
    born_arr = dielectric = factor = None
    if nac_data is not None and nac:
        born_arr, dielectric, factor = _check_nac(*nac_data, len(prim), nac_source)
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
    smat_prim = _prim_supercell_matrix(sc.cell, prim.cell, ypath)
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


def _prim_supercell_matrix(sc_cell: np.ndarray, prim_cell: np.ndarray, where=None) -> np.ndarray:
    """Integer S with supercell rows = S @ primitive rows."""
    s = sc_cell @ np.linalg.inv(prim_cell)
    si = np.rint(s)
    if np.max(np.abs(s - si)) > 1e-5:
        raise FormatError("supercell is not a multiple of the primitive cell", file=where, field="supercell",
                          value=s.tolist())
    return si.astype(int)
