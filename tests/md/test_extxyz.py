"""The native extended-XYZ reader against ASE on the same files, its fallbacks and its errors."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase import Atoms

from latdyn.errors import FormatError, InputError
from latdyn.md.extxyz import ExtxyzFrames, parse_comment, probe
from latdyn.md.trajectory import _AseFrames, open_trajectory

CELL = np.array([[9.0, 0.0, 0.0], [1.2, 8.5, 0.0], [-0.7, 0.4, 10.0]])      # triclinic


def _ase_frames(n_frames=7, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_frames):
        a = Atoms(["Li", "O", "O", "La", "O"], positions=rng.uniform(-2, 11, (5, 3)), cell=CELL,
                  pbc=True)
        a.set_momenta(rng.normal(0, 0.3, (5, 3)))
        out.append(a)
    return out


def _read(traj, chunk=3, start=0, stop=None):
    chunks = list(traj.chunks(chunk, start, stop, unwrap=False))
    pos = np.concatenate([c.positions for c in chunks])
    vel = np.concatenate([c.velocities for c in chunks]) if traj.has_velocities else None
    return pos, vel


def test_native_reader_matches_ase_with_momenta(tmp_path):
    path = tmp_path / "md.extxyz"
    ase.io.write(path, _ase_frames(), format="extxyz")
    native = open_trajectory(path, dt=0.002)
    reference = open_trajectory(path, dt=0.002, reader="ase")
    assert isinstance(native._frames, ExtxyzFrames)
    assert isinstance(reference._frames, _AseFrames)
    assert native.symbols == reference.symbols and native.has_velocities
    assert np.array_equal(native.cell, reference.cell)
    p1, v1 = _read(native)
    p2, v2 = _read(reference)
    assert np.array_equal(p1, p2)                          # same decimal text, same doubles
    assert np.allclose(v1, v2, rtol=1e-14, atol=0)
    assert native.frame_count() == 7
    # random access through the line index, and every other frame
    p3, _ = _read(native, 2, start=3, stop=6)
    assert np.array_equal(p3, p2[3:6])
    sub = open_trajectory(path, dt=0.002, frame_step=2)
    assert sub.frame_count() == 4
    assert np.array_equal(_read(sub, 3)[0], p2[::2])
    assert np.array_equal(_read(sub, 3, start=1)[0], p2[2::2])


def test_gpumd_layout_with_vel_and_extra_columns(tmp_path):
    rng = np.random.default_rng(1)
    pos = rng.uniform(0, 9, (3, 4, 3))
    vel = rng.normal(0, 0.01, (3, 4, 3))                    # angstrom/fs
    lattice = " ".join(f"{x:.10g}" for x in CELL.ravel())
    text = []
    for f in range(3):
        text += ["4", f'Time={f * 5.0} Lattice="{lattice}" pbc="T T T" '
                 "Properties=species:S:1:pos:R:3:mass:R:1:vel:R:3:forces:R:3:group:I:1"]
        for j, s in enumerate(["Si", "Si", "C", "C"]):
            text.append(f"{s} " + " ".join(f"{x:.12f}" for x in pos[f, j]) + " 28.0 "
                        + " ".join(f"{x:.12e}" for x in vel[f, j]) + " 0.1 0.2 0.3 1")
    path = tmp_path / "dump.xyz"
    path.write_text("\n".join(text) + "\n")
    native = open_trajectory(path, dt=0.001)
    reference = open_trajectory(path, dt=0.001, reader="ase")
    assert isinstance(native._frames, ExtxyzFrames)
    p1, v1 = _read(native, 2)
    p2, v2 = _read(reference, 2)
    assert np.array_equal(p1, p2) and np.allclose(p1, pos, atol=1e-12)
    assert np.allclose(v1, v2, rtol=1e-14) and np.allclose(v1, vel * 1e3, rtol=1e-11)


def test_comment_line_parsing():
    keys = parse_comment('Lattice="1 0 0 0 2 0 0 0 3" Properties=species:S:1:pos:R:3 '
                         "energy=-1.5 pbc='T T F' config_type=md")
    assert keys["Lattice"] == "1 0 0 0 2 0 0 0 3" and keys["pbc"] == "T T F"
    assert keys["energy"] == "-1.5" and keys["config_type"] == "md"


def test_other_layouts_go_to_ase(tmp_path):
    path = tmp_path / "odd.xyz"
    path.write_text('2\nLattice="5 0 0 0 5 0 0 0 5" Properties=pos:R:3:species:S:1\n'
                    "0 0 0 Ar\n1 1 1 Ar\n")
    assert probe(path) is None
    traj = open_trajectory(path, dt=0.01)
    assert isinstance(traj._frames, _AseFrames)
    assert np.allclose(_read(traj)[0][0, 1], [1, 1, 1])
    with pytest.raises(FormatError, match="native extended-XYZ reader"):
        open_trajectory(path, dt=0.01, reader="native")
    with pytest.raises(InputError, match="reader"):
        open_trajectory(path, dt=0.01, reader="fast")


_HEAD = '2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\n'


@pytest.mark.parametrize("tail, message", [
    ("Ar 0 0 0\n", "cannot read frame 1"),                                 # truncated
    ("Ar 0 0 0\nAr 1 1 1\nAr 2 2 2\n", "cannot read frame 2"),       # stray line: frame 2
    ("Ar 0 0 0\nKr 1 1 1\n", "frame 1 lists different species"),
    ("Ar 0 0 0\nAr 1 x 1\n", "cannot read frame 1"),                         # bad number
])
def test_bad_frames_are_named(tmp_path, tail, message):
    path = tmp_path / "bad.xyz"
    path.write_text(_HEAD + "Ar 0 0 0\nAr 1 1 1\n" + _HEAD + tail)
    traj = open_trajectory(path, dt=0.01)
    assert isinstance(traj._frames, ExtxyzFrames)
    with pytest.raises(FormatError, match=message):
        _read(traj)


def test_atom_count_and_cell_changes_are_named(tmp_path):
    path = tmp_path / "n.xyz"
    path.write_text(_HEAD + "Ar 0 0 0\nAr 1 1 1\n"
                    + '3\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\n'
                    + "Ar 0 0 0\nAr 1 1 1\nAr 2 2 2\n")
    with pytest.raises(FormatError, match="frame 1 has 3 atoms but frame 0 has 2"):
        _read(open_trajectory(path, dt=0.01))
    path.write_text(_HEAD + "Ar 0 0 0\nAr 1 1 1\n" + _HEAD.replace('5 0 0 0 5', '5.1 0 0 0 5')
                    + "Ar 0 0 0\nAr 1 1 1\n")
    with pytest.raises(FormatError, match="cell changes at frame 1"):
        _read(open_trajectory(path, dt=0.01))


def _mixed_file(path, n_frames=9, n_atoms=5, crlf=False, final_newline=True):
    """Frames with numbers the compiled parser takes (%.8f, exponents, signs) and some it
    sends to numpy.loadtxt (20 significant digits, huge exponents)."""
    rng = np.random.default_rng(5)
    species = ["Li", "O", "O", "La", "O"][:n_atoms]
    formats = ["{:.8f}", "{:.17g}", "{:+.3e}", "{:.6f}", "{:.20f}", "{:.4E}"]
    lattice = " ".join(f"{x:.10g}" for x in CELL.ravel())
    lines = []
    for f in range(n_frames):
        lines += [f"  {n_atoms}", f'Lattice="{lattice}" Properties=species:S:1:pos:R:3:'
                  f'tag:I:1:vel:R:3 Time={f} pbc="T T T"']
        for j in range(n_atoms):
            fmt = formats[(f + j) % len(formats)]
            pos = rng.uniform(-3, 12, 3)
            vel = rng.normal(0, 1e-3, 3) * (1e300 if (f, j) == (4, 2) else 1.0)
            lines.append(f"{species[j]}\t" + " ".join(fmt.format(x) for x in pos) + f"  {j}  "
                         + " ".join(fmt.format(x) for x in vel))
    eol = "\r\n" if crlf else "\n"
    path.write_bytes((eol.join(lines) + (eol if final_newline else "")).encode())
    return path


@pytest.mark.parametrize("crlf, final_newline", [(False, True), (True, True), (False, False)])
def test_compiled_parser_gives_the_exact_readers_doubles(tmp_path, monkeypatch, crlf,
                                                         final_newline):
    pytest.importorskip("numba", reason="the compiled parser needs numba (latdyn[fast])")
    from latdyn.md import extxyz
    from latdyn.md.blocks import stack_blocks

    path = _mixed_file(tmp_path / "mixed.xyz", crlf=crlf, final_newline=final_newline)
    monkeypatch.setattr(extxyz, "READ_BYTES", 97)           # frames straddle the reads
    for frame_step, start, stop, chunk in [(1, 0, None, 4), (1, 3, 8, 1), (2, 1, None, 3),
                                           (3, 0, None, 50)]:
        traj = open_trajectory(path, dt=0.01, frame_step=frame_step)
        fast = list(traj.chunks(chunk, start, stop, unwrap=False))
        exact = list(stack_blocks(traj._frames.iterate(start, stop, traj), chunk, 5, start,
                                  True))
        assert [c.start for c in fast] == [e[0] for e in exact]
        for c, (_, pos, vel) in zip(fast, exact, strict=True):
            assert np.array_equal(c.positions, pos) and np.array_equal(c.velocities, vel)
    everything = np.concatenate([c.positions for c in open_trajectory(path, dt=0.01).chunks(4)])
    ase_pos = np.array([a.positions for a in ase.io.iread(path, format="extxyz")])
    assert np.array_equal(everything, np.concatenate(
        [c.positions for c in open_trajectory(path, dt=0.01, reader="ase").chunks(4)]))
    assert ase_pos.shape == everything.shape
