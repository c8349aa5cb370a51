r"""CIF input and output for :class:`~latdyn.structure.crystal.Crystal`.

Reading uses gemmi's CIF parser for the syntax only; the crystallography is done here so that
symmetry expansion rotates anisotropic ADPs (gemmi's own expansion does not) and site
occupancies keep the CIF meaning (fraction of the site occupied).  Recognised items:

* cell: ``_cell_length_a/b/c``, ``_cell_angle_alpha/beta/gamma`` (angles default to 90).
* symmetry, first found: ``_space_group_symop_operation_xyz`` or ``_symmetry_equiv_pos_as_xyz``;
  ``_space_group_name_Hall``; ``_space_group_name_H-M_alt`` or
  ``_symmetry_space_group_name_H-M``; ``_space_group_IT_number``; none: P1.
* sites: ``_atom_site_label``, ``_atom_site_type_symbol`` (charges such as 'O2-' are dropped,
  isotopes such as '7Li' or 'D' kept; from the label when absent), ``_atom_site_fract_x/y/z``,
  ``_atom_site_occupancy``, ``_atom_site_U_iso_or_equiv`` or ``_atom_site_B_iso_or_equiv``
  (B = 8 pi^2 U).
* anisotropic ADPs: ``_atom_site_aniso_U_ij``, ``_atom_site_aniso_B_ij`` (B = 8 pi^2 U) or
  ``_atom_site_aniso_beta_ij`` (beta_ij = 2 pi^2 a*_i a*_j U_ij).

Numbers may carry standard uncertainties in parentheses ('0.1234(5)'); '?' and '.' mean unknown.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import FormatError, InputError
from ..fileio import atomic_path, input_file, names_input_file, read_text_file
from .crystal import FILE_FORMATS, Crystal, Site
from .lattice import Lattice
from .spacegroup import SpaceGroup

__all__ = ["read_cif", "write_cif", "parse_cif_number", "species_from_type_symbol"]

_NUM_RE = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\(\d+\))?$")
_TYPE_RE = re.compile(r"^(\d*)([A-Z][a-z]?)(?:\d*[+-]|[+-]\d*)?$")


def parse_cif_number(text: str | None, *, file=None, field: str = "") -> float | None:
    """'1.234(5)' -> 1.234; '?' or '.' or None -> None; anything else -> FormatError."""
    if text is None:
        return None
    t = str(text).strip().strip("'\"")
    if t in ("?", ".", ""):
        return None
    m = _NUM_RE.match(t)
    if m is None:
        raise FormatError("not a number", file=file, field=field, value=text)
    return float(m.group(1))


def species_from_type_symbol(text: str, *, file=None, field: str = "_atom_site_type_symbol") -> str:
    """Nuclide symbol from a CIF type symbol or label: 'O2-' -> 'O', 'Ag1+' -> 'Ag', '7Li' -> '7Li'."""
    from ..scattering import nuclide

    t = str(text).strip().strip("'\"")
    m = _TYPE_RE.match(t)
    candidates = []
    if m is not None:
        candidates.append(m.group(1) + m.group(2))
    lead = re.match(r"^(\d*)([A-Za-z]{1,2})", t)
    if lead is not None:
        mass, letters = lead.groups()
        candidates += [mass + letters[:1].upper() + letters[1:].lower(), mass + letters[:1].upper()]
    for c in candidates:
        if c in ("D", "T") or c.lstrip("0123456789"):
            try:
                nuclide(c)
            except InputError:
                continue
            return c
    raise InputError("unknown site symbol: not an element or isotope", file=file, field=field,
                     value=text)


def _item(block, tags, file, required=False):
    for tag in tags:
        v = block.find_value(tag)
        if v is not None:
            return v, tag
    if required:
        raise FormatError(f"CIF lacks the item {tags[0]}", file=file, field=tags[0])
    return None, tags[0]


def _loop(block, tags, file):
    """Columns of a loop as lists of strings, or None when the first tag is missing."""
    import gemmi

    present = [t for t in tags if block.find_values(t)]
    if tags[0] not in present:
        return None
    cols = {}
    for t in present:
        vals = block.find_values(t)
        cols[t] = [gemmi.cif.as_string(v) if v not in ("?", ".") else v for v in vals]
    n = len(cols[tags[0]])
    for t, v in cols.items():
        if len(v) != n:
            raise FormatError("loop columns differ in length", file=file, field=t, value=len(v))
    return cols


@names_input_file
def read_cif(path, block: str | int = 0) -> Crystal:
    """Read a crystal structure from a CIF file (the first data block, or ``block`` by name/index).

    Raises FormatError for a file without cell or sites and InputError for unknown site symbols.
    """
    import gemmi

    path = Path(path)
    blk = open_block(path, block)
    lattice = read_lattice(blk, path)
    sg = _space_group(blk, path)
    sites, _ = read_sites(blk, lattice, path)
    title = blk.find_value("_chemical_formula_sum") or blk.name
    return Crystal(lattice, sites, sg, title=gemmi.cif.as_string(title), source=str(path))


def open_block(path: Path, block: str | int = 0):
    """The gemmi block ``block`` (index or name) of a CIF file; FormatError if unreadable."""
    import gemmi

    path = input_file(path)
    # CIF 1.1 is ASCII; files from databases carry accented names (UTF-8 or Latin-1) in
    # free-text items: those characters become '?' before gemmi parses the syntax
    text, _ = read_text_file(path)
    if not text.isascii():
        text = "".join(ch if ord(ch) < 128 else "?" for ch in text)
    try:
        doc = gemmi.cif.read_string(text)
    except (RuntimeError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise FormatError(f"not a readable CIF: {message}", file=path) from None
    if len(doc) == 0:
        raise FormatError("CIF has no data block", file=path)
    try:
        blk = doc[block] if isinstance(block, int) else doc.find_block(block)
    except IndexError:
        blk = None
    if blk is None:
        raise FormatError("CIF has no such data block", file=path, field="data_", value=block)
    return blk


def read_lattice(blk, path) -> Lattice:
    """The unit cell of a CIF block (angles default to 90 degrees)."""
    cell = []
    for tag, default in (("_cell_length_a", None), ("_cell_length_b", None), ("_cell_length_c", None),
                         ("_cell_angle_alpha", 90.0), ("_cell_angle_beta", 90.0),
                         ("_cell_angle_gamma", 90.0)):
        v = parse_cif_number(blk.find_value(tag), file=path, field=tag)
        if v is None:
            if default is None:
                raise FormatError("CIF has no unit cell", file=path, field=tag)
            v = default
        cell.append(v)
    return Lattice(*cell, source=str(path))


def read_sites(blk, lattice: Lattice, path) -> tuple[list[Site], list[str]]:
    """The ``_atom_site`` loop as :class:`Site` objects, with each site's raw type symbol
    (charges such as 'Mn3+' kept there; the label where no type symbol is given)."""
    cols = _loop(blk, ["_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x",
                       "_atom_site_fract_y", "_atom_site_fract_z", "_atom_site_occupancy",
                       "_atom_site_U_iso_or_equiv", "_atom_site_B_iso_or_equiv"], path)
    if cols is None:
        cols = _loop(blk, ["_atom_site_type_symbol", "_atom_site_fract_x", "_atom_site_fract_y",
                           "_atom_site_fract_z", "_atom_site_occupancy",
                           "_atom_site_U_iso_or_equiv", "_atom_site_B_iso_or_equiv"], path)
        if cols is not None:
            cols["_atom_site_label"] = [f"{t}{i + 1}" for i, t in enumerate(cols["_atom_site_type_symbol"])]
    if cols is None:
        raise FormatError("CIF has no atom sites", file=path, field="_atom_site_label")
    for t in ("_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"):
        if t not in cols:
            raise FormatError("CIF atom sites lack fractional coordinates", file=path, field=t)
    aniso = _aniso(blk, lattice, path)

    sites, symbols = [], []
    labels = cols["_atom_site_label"]
    for i, label in enumerate(labels):
        field = "_atom_site_type_symbol" if "_atom_site_type_symbol" in cols else "_atom_site_label"
        species = species_from_type_symbol(cols.get(field)[i], file=path, field=field)
        xyz = []
        for t in ("_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"):
            v = parse_cif_number(cols[t][i], file=path, field=t)
            if v is None:
                raise FormatError(f"site '{label}' has no coordinate", file=path, field=t)
            xyz.append(v)
        occ = 1.0
        if "_atom_site_occupancy" in cols:
            o = parse_cif_number(cols["_atom_site_occupancy"][i], file=path, field="_atom_site_occupancy")
            occ = 1.0 if o is None else o
        u_iso = None
        if "_atom_site_U_iso_or_equiv" in cols:
            u_iso = parse_cif_number(cols["_atom_site_U_iso_or_equiv"][i], file=path,
                                     field="_atom_site_U_iso_or_equiv")
        elif "_atom_site_B_iso_or_equiv" in cols:
            b = parse_cif_number(cols["_atom_site_B_iso_or_equiv"][i], file=path,
                                 field="_atom_site_B_iso_or_equiv")
            u_iso = None if b is None else b / (8 * np.pi**2)
        try:
            sites.append(Site(label, species, tuple(xyz), occ, u_iso, aniso.get(label)))
        except InputError as exc:
            raise InputError(str(exc), file=path) from exc
        symbols.append(str(cols.get(field)[i]).strip("'\""))
    return sites, symbols


def _space_group(blk, path) -> SpaceGroup:
    import gemmi

    for tag in ("_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz"):
        vals = blk.find_values(tag)
        if vals:
            return SpaceGroup.from_triplets([gemmi.cif.as_string(v) for v in vals], source=str(path),
                                            field=tag)
    for tag in ("_space_group_name_Hall", "_symmetry_space_group_name_Hall",
                "_space_group_name_H-M_alt", "_symmetry_space_group_name_H-M",
                "_space_group_IT_number", "_symmetry_Int_Tables_number"):
        v = blk.find_value(tag)
        if v is not None and gemmi.cif.as_string(v) not in ("?", "."):
            text = gemmi.cif.as_string(v)
            if "Hall" in tag:
                try:
                    ops = gemmi.symops_from_hall(text)
                except (ValueError, RuntimeError) as exc:
                    raise InputError("unknown Hall symbol", file=path, field=tag, value=text) from exc
                return SpaceGroup._from_gemmi_ops(ops)
            if "number" in tag.lower() or "Int_Tables" in tag:
                if not (text.isdigit() and 1 <= int(text) <= 230):
                    raise FormatError("space-group number must be an integer from 1 to 230",
                                      file=path, field=tag, value=text)
            return SpaceGroup.from_symbol(text, source=str(path))
    return SpaceGroup.p1()


def _aniso(blk, lattice: Lattice, path) -> dict[str, np.ndarray]:
    comps = ("11", "22", "33", "12", "13", "23")
    out: dict[str, np.ndarray] = {}
    for kind in ("U", "B", "beta"):
        tags = ["_atom_site_aniso_label"] + [f"_atom_site_aniso_{kind}_{c}" for c in comps]
        cols = _loop(blk, tags, path)
        if cols is None or tags[1] not in cols:
            continue
        for t in tags[1:]:
            if t not in cols:
                raise FormatError("anisotropic ADP loop lacks a component", file=path, field=t)
        for i, label in enumerate(cols["_atom_site_aniso_label"]):
            v = [parse_cif_number(cols[t][i], file=path, field=t) for t in tags[1:]]
            if any(x is None for x in v):
                continue
            u11, u22, u33, u12, u13, u23 = v
            u = np.array([[u11, u12, u13], [u12, u22, u23], [u13, u23, u33]])
            if kind == "B":
                u = u / (8 * np.pi**2)
            elif kind == "beta":
                n = lattice.reciprocal_lengths
                u = u / (2 * np.pi**2 * np.outer(n, n))
            out[label] = u
        if out:
            return out
    return out


def _num(v: float) -> str:
    return f"{v:.10g}"


def write_cif(crystal: Crystal, path) -> Path:
    """Write ``crystal`` as CIF (atomically): cell, space-group operations, sites, U_iso/U_ij.

    The asymmetric unit is written with the full list of symmetry operations, so any CIF reader
    reproduces the expansion.  Sites with anisotropic ADPs get an ``_atom_site_aniso_U_ij`` row
    and U_equiv in ``_atom_site_U_iso_or_equiv``.
    """
    lat = crystal.lattice
    a, b, c, al, be, ga = lat.parameters
    name = re.sub(r"[^A-Za-z0-9_]", "_", crystal.title or crystal.formula) or "latdyn"
    lines = [f"data_{name}", "_audit_creation_method 'latdyn'",
             f"_cell_length_a {_num(a)}", f"_cell_length_b {_num(b)}", f"_cell_length_c {_num(c)}",
             f"_cell_angle_alpha {_num(al)}", f"_cell_angle_beta {_num(be)}",
             f"_cell_angle_gamma {_num(ga)}", f"_cell_volume {_num(lat.volume)}"]
    sg = crystal.space_group
    if sg.symbol:
        lines.append(f"_space_group_name_H-M_alt '{sg.symbol}'")
    if sg.number:
        lines.append(f"_space_group_IT_number {sg.number}")
    lines += ["", "loop_", "_space_group_symop_id", "_space_group_symop_operation_xyz"]
    lines += [f"{i + 1} '{t}'" for i, t in enumerate(sg.triplets)]
    lines += ["", "loop_", "_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x",
              "_atom_site_fract_y", "_atom_site_fract_z", "_atom_site_occupancy",
              "_atom_site_U_iso_or_equiv", "_atom_site_adp_type"]
    aniso_rows = []
    for s in crystal.sites:
        if s.u_aniso is not None:
            u = np.array(s.u_aniso)
            ueq = float(np.trace(lat.u_cif_to_cart(u)) / 3.0)
            adp = f"{_num(ueq)} Uani"
            aniso_rows.append(f"{s.label} " + " ".join(_num(u[i, j]) for i, j in
                                                      ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))))
        elif s.u_iso is not None:
            adp = f"{_num(s.u_iso)} Uiso"
        else:
            adp = "? ."
        lines.append(f"{s.label} {s.species} " + " ".join(_num(x) for x in s.frac)
                     + f" {_num(s.occupancy)} {adp}")
    if aniso_rows:
        lines += ["", "loop_", "_atom_site_aniso_label"]
        lines += [f"_atom_site_aniso_U_{c}" for c in ("11", "22", "33", "12", "13", "23")]
        lines += aniso_rows
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


FILE_FORMATS["cif"] = (read_cif, write_cif)
