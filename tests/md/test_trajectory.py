"""Trajectory readers: formats, chunking, unwrapping, and clear errors naming the frame."""

from __future__ import annotations

import ase.io
import h5py
import numpy as np
import pytest
from ase import Atoms

from latdyn.errors import FormatError, InputError
from latdyn.md.trajectory import Trajectory, open_trajectory, write_h5md


def _frames(n_frames=6, n_atoms=5, box=7.0, seed=0):
    rng = np.random.default_rng(seed)
    return [Atoms(["Li", "O", "O", "Li", "H"][:n_atoms], positions=rng.uniform(0, box, (n_atoms, 3)),
                  cell=np.eye(3) * box, pbc=True) for _ in range(n_frames)]


def _positions(traj, chunk=4):
    return np.concatenate([c.positions for c in traj.chunks(chunk)])


@pytest.mark.parametrize("suffix", [".xyz", ".traj"])
def test_ase_formats_read_in_chunks(tmp_path, suffix):
    frames = _frames()
    path = tmp_path / f"t{suffix}"
    ase.io.write(path, frames)
    traj = open_trajectory(path, dt=0.002, unwrap=False)
    assert traj.symbols == ("Li", "O", "O", "Li", "H") and traj.species == ("H", "Li", "O")
    assert np.allclose(_positions(traj, 4), [f.positions for f in frames])
    assert traj.frame_count() == 6
    sub = open_trajectory(path, dt=0.002, frame_step=2, unwrap=False)
    assert np.isclose(sub.dt, 0.004)
    assert np.allclose(_positions(sub, 2), [f.positions for f in frames[::2]])


def test_lammps_dump_with_type_map(tmp_path):
    path = tmp_path / "dump.lammpstrj"
    lines = []
    for step in range(3):
        lines += ["ITEM: TIMESTEP", str(step * 10), "ITEM: NUMBER OF ATOMS", "2",
                  "ITEM: BOX BOUNDS pp pp pp", "0 6", "0 6", "0 6",
                  "ITEM: ATOMS id type x y z", f"1 1 {1 + 0.1 * step} 1 1", "2 2 3 3 3"]
    path.write_text("\n".join(lines) + "\n")
    traj = open_trajectory(path, dt=0.01, species_map={1: "Li", 2: "O"}, unwrap=False)
    assert traj.symbols == ("Li", "O")
    assert np.allclose(_positions(traj)[:, 0, 0], [1.0, 1.1, 1.2])


def test_xdatcar(tmp_path):
    frames = _frames(3)
    path = tmp_path / "XDATCAR"
    ase.io.write(path, frames, format="vasp-xdatcar")
    traj = open_trajectory(path, dt=0.001, unwrap=False)
    assert np.allclose(_positions(traj), [f.positions for f in frames], atol=1e-6)


def test_h5md_round_trip_with_velocities_and_time(tmp_path):
    rng = np.random.default_rng(1)
    pos = rng.uniform(0, 8, (7, 4, 3))
    vel = rng.normal(size=(7, 4, 3))
    path = write_h5md(tmp_path / "t.h5", pos, np.eye(3) * 8, ["Na", "Cl", "Na", "Cl"], 0.025, vel)
    traj = open_trajectory(path, unwrap=False)             # dt from the file
    assert np.isclose(traj.dt, 0.025) and traj.n_frames == 7 and traj.has_velocities
    chunks = list(traj.chunks(3))
    assert [c.start for c in chunks] == [0, 3, 6]
    assert np.allclose(np.concatenate([c.positions for c in chunks]), pos)
    assert np.allclose(np.concatenate([c.velocities for c in chunks]), vel)


def test_unwrapping_follows_atoms_across_chunks():
    box = 5.0
    steps = np.full((30, 1, 3), 0.4)
    true = 1.0 + np.cumsum(steps, axis=0)
    traj = Trajectory.from_arrays(np.mod(true, box), np.eye(3) * box, ["Li"], dt=0.1)
    assert np.allclose(_positions(traj, 7), true - true[0] + np.mod(true[0], box))


def test_truncated_file_names_the_frame(tmp_path):
    path = tmp_path / "t.xyz"
    ase.io.write(path, _frames(4))
    text = path.read_text()
    path.write_text(text[: len(text) - 60])
    traj = open_trajectory(path, dt=0.01)
    with pytest.raises(FormatError, match="frame 3"):
        _positions(traj)


def test_inconsistent_atom_count_names_the_frame(tmp_path):
    frames = _frames(4)
    frames[2] = _frames(1, n_atoms=4)[0]
    path = tmp_path / "t.xyz"
    ase.io.write(path, frames)
    with pytest.raises(FormatError, match="frame 2 has 4 atoms but frame 0 has 5"):
        _positions(open_trajectory(path, dt=0.01))


def test_missing_cell_names_the_frame(tmp_path):
    path = tmp_path / "t.xyz"
    ase.io.write(path, [Atoms("Ar2", positions=[[0, 0, 0], [1, 1, 1]])] * 2)
    with pytest.raises(FormatError, match="frame 0 has no periodic cell"):
        open_trajectory(path, dt=0.01)
    frames = _frames(3)
    frames[1].cell = np.zeros((3, 3))
    ase.io.write(path, frames)
    with pytest.raises(FormatError, match="frame 1 has no periodic cell"):
        _positions(open_trajectory(path, dt=0.01))


def test_changing_cell_is_rejected(tmp_path):
    frames = _frames(3)
    frames[2].cell = np.eye(3) * 7.5
    path = tmp_path / "t.traj"
    ase.io.write(path, frames)
    with pytest.raises(FormatError, match="cell changes at frame 2"):
        _positions(open_trajectory(path, dt=0.01))


def test_h5md_without_box_and_missing_dt(tmp_path):
    path = tmp_path / "nobox.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("particles/all/position/value", data=np.zeros((2, 3, 3)))
    with pytest.raises(FormatError, match="no box"):
        open_trajectory(path, dt=0.1)
    xyz = tmp_path / "t.xyz"
    ase.io.write(xyz, _frames(2))
    with pytest.raises(InputError, match="time step"):
        open_trajectory(xyz)


def test_h5md_truncated_dataset(tmp_path):
    path = write_h5md(tmp_path / "t.h5", np.zeros((50, 100, 3)), np.eye(3) * 8, ["Ar"] * 100, 0.1)
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    # HDF5 detects the truncation when the file is opened, before any frame is read
    with pytest.raises(FormatError, match="truncated"):
        open_trajectory(cut)
