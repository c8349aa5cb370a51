"""Magnetic CIF input and output, magnetic cells and the YAML moment description."""

from __future__ import annotations

import numpy as np
import pytest

from latdyn.diffraction import magnetic_intensity, magnetic_reflections, magnetic_structure_factor
from latdyn.errors import FormatError, InputError
from latdyn.structure import (
    Crystal,
    Lattice,
    Site,
    SpaceGroup,
    magnetic_structure,
    read_magnetic_structure,
    read_mcif,
    supercell_matrix,
    write_cif,
    write_mcif,
)

from .conftest import CIF_DIR

MCIF = CIF_DIR / "mcif"
H = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 2, 0], [2, 1, 1], [3, 0, 1], [1, 0, 1],
              [1, 1, 1], [3, 1, 1], [2, 2, 0], [0, 0, 1]])


def _same_f(a, b, h):
    np.testing.assert_allclose(magnetic_structure_factor(a, h), magnetic_structure_factor(b, h),
                               atol=1e-9)


@pytest.mark.parametrize("name,ion", [("magnetic.example.NiO.mcif", {"Ni": "Ni2+"}),
                                      ("magnetic.ncl.example.GdB4.mcif", {"Gd": "Gd3+"})])
def test_magndata_file_read_write_read_gives_the_same_magnetic_structure_factors(tmp_path, name, ion):
    a = read_mcif(MCIF / name, ions=ion)
    path = write_mcif(a, tmp_path / "copy.mcif")
    b = read_mcif(path)          # the ions travel in the type symbols now
    assert len(b.crystal.sites) == len(a.crystal.sites)   # asymmetric unit and operations kept
    assert len(b.symmetry) == len(a.symmetry)
    _same_f(a, b, H)
    np.testing.assert_allclose(b.moments(), a.moments(), atol=1e-9)
    if a.parent is not None:
        np.testing.assert_allclose(b.parent.transform, a.parent.transform)


def test_incommensurate_superspace_file_round_trip(tmp_path):
    a = read_mcif(MCIF / "magnetic.incommensurate.example.Cr.mcif", ions={"Cr": "Cr"})
    b = read_mcif(write_mcif(a, tmp_path / "cr.mcif"))
    np.testing.assert_allclose(b.k, a.k)
    h = np.array([[1, 0, 0.05], [1, 0, -0.05], [0, 1, 0.95], [2, 1, 0.05], [1, 1, 0.95]])
    _same_f(a, b, h)
    assert magnetic_intensity(b, h).max() > 0
    with pytest.raises(InputError, match="not commensurate"):
        write_mcif(a, tmp_path / "bad.mcif", cell="magnetic")


def _tetragonal():
    return Crystal(Lattice(4.0, 4.0, 6.0),
                   [Site("Mn1", "Mn", (0, 0, 0), 1.0, 0.006), Site("Ge1", "Ge", (0.5, 0.5, 0.5))],
                   SpaceGroup.from_symbol("P 4/m m m"), title="MnGe")


def test_helix_and_commensurate_structures_written_and_read_back(tmp_path):
    c = _tetragonal()
    helix = magnetic_structure(c, {"Mn1": (2.5, 0, 0)}, second={"Mn1": (0, 2.5, 0)},
                               k="0,0,0.137", ions={"Mn1": "Mn3+"})
    back = read_mcif(write_mcif(helix, tmp_path / "helix.mcif"))
    h = np.array([[0, 0, 0.137], [1, 0, 0.137], [1, 1, -0.137], [2, 1, 1.137]])
    _same_f(helix, back, h)
    afm = magnetic_structure(c, {"Mn1": (0, 0, 3.0)}, k="1/2,0,1/2", ions={"Mn1": "Mn3+"},
                             g={"Mn1": 2.1})
    cell = read_mcif(write_mcif(afm, tmp_path / "afm.mcif"))
    assert np.allclose(cell.lattice.abc, (8.0, 4.0, 12.0)) or \
        round(cell.lattice.volume / c.lattice.volume) == 2
    assert cell.orbital[cell.magnetic][0] == pytest.approx(1 - 2 / 2.1)     # C2 travels too
    ra, rb = magnetic_reflections(afm, 1.5), magnetic_reflections(cell, 1.5)
    n = round(cell.lattice.volume / c.lattice.volume)
    parent = rb.parent_hkl[rb.f2_magnetic > 0]
    half = np.isclose(np.mod(parent, 1.0), 0.5)
    assert np.all(half[:, 2]) and np.all(half[:, 0] ^ half[:, 1])   # the arms (1/2,0,1/2), (0,1/2,1/2)
    np.testing.assert_allclose(np.sort(rb.d[rb.f2_magnetic > 0]), np.sort(ra.d[ra.f2_magnetic > 0]))
    lb = (rb.multiplicity * rb.f2_magnetic)[rb.f2_magnetic > 0]
    la = (ra.multiplicity * ra.f2_magnetic)[ra.f2_magnetic > 0]
    np.testing.assert_allclose(np.sort(lb), np.sort(n**2 * la), rtol=1e-7)   # 10 digits written


def test_supercell_matrices():
    assert np.array_equal(supercell_matrix((0, 0, 0)), np.eye(3))
    t = supercell_matrix((0.5, 0.5, 0.5))
    assert round(abs(np.linalg.det(t))) == 2          # the rhombohedral-type cell, not 2x2x2
    assert np.allclose(np.mod(t @ np.array([0.5, 0.5, 0.5]), 1.0), 0)
    assert round(abs(np.linalg.det(supercell_matrix((1 / 3, 0, 1 / 4))))) == 12
    with pytest.raises(InputError, match="not commensurate"):
        supercell_matrix((0, 0, 0.137))


_HEAD = """data_test
_cell_length_a 4.0
_cell_length_b 4.0
_cell_length_c 4.0
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Fe1 Fe3+ 0 0 0
O1 O2- 0.5 0.5 0.5
"""


def _write(tmp_path, ops, moments, name="t.mcif"):
    text = _HEAD + "loop_\n_space_group_symop_magn_operation.id\n_space_group_symop_magn_operation.xyz\n"
    text += "".join(f"{i + 1} {o}\n" for i, o in enumerate(ops))
    text += "loop_\n_atom_site_moment.label\n_atom_site_moment.crystalaxis_x\n" \
            "_atom_site_moment.crystalaxis_y\n_atom_site_moment.crystalaxis_z\n" + moments
    p = tmp_path / name
    p.write_text(text)
    return p


def test_mcif_errors_name_what_is_wrong(tmp_path):
    ok = read_mcif(_write(tmp_path, ["x,y,z,+1", "-x,-y,-z,+1"], "Fe1 0 0 4.5\n"))
    assert ok.ion[0] == "Fe3+"                      # from the type symbol's charge
    with pytest.raises(FormatError, match="site symmetry"):
        read_mcif(_write(tmp_path, ["x,y,z,+1", "-x,-y,-z,-1"], "Fe1 0 0 4.5\n"))
    with pytest.raises(FormatError, match="magnetic operation"):
        read_mcif(_write(tmp_path, ["x,y,z,+1", "x,y,+1"], "Fe1 0 0 1\n"))
    with pytest.raises(InputError, match="non-magnetic site"):
        read_mcif(_write(tmp_path, ["x,y,z,+1"], "O1 0 0 1\n"))
    with pytest.raises(FormatError, match="unknown site"):
        read_mcif(_write(tmp_path, ["x,y,z,+1"], "Zz9 0 0 1\n"))
    with pytest.raises(InputError, match="unknown magnetic ion"):
        read_mcif(_write(tmp_path, ["x,y,z,+1"], "Fe1 0 0 1\n"), ions={"Fe1": "Fe9+"})


def test_yaml_moment_description(tmp_path):
    cif = tmp_path / "mnge.cif"
    write_cif(_tetragonal(), cif)
    y = tmp_path / "afm.yaml"
    y.write_text("structure: mnge.cif\nk: 1/2,0,1/2\nmoments: {Mn1: [0, 0, 3.0]}\nions: {Mn1: Mn3+}\n")
    s = read_magnetic_structure(y)
    assert np.allclose(s.k, (0.5, 0, 0.5)) and s.ion[0] == "Mn3+"
    same = read_magnetic_structure(y, crystal=cif)
    np.testing.assert_allclose(same.moments(), s.moments())
    y.write_text("moments: {Mn9: [0, 0, 1]}\nions: {Mn1: Mn3+}\n")
    with pytest.raises(InputError, match="unknown site label"):
        read_magnetic_structure(y, crystal=cif)
    y.write_text("moments: [1, 2]\n")
    with pytest.raises(FormatError):
        read_magnetic_structure(y, crystal=cif)
