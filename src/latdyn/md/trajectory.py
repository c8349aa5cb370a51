r"""MD trajectories streamed in frame chunks, with validation and unwrapping.

A :class:`Trajectory` describes a trajectory file (or arrays in memory) and yields
:class:`Chunk` objects of at most ``chunk_size`` frames, so a trajectory larger than memory is
processed with bounded memory.  Every frame is checked against the first one: the same number
of atoms, the same species in the same order, a cell with positive volume, and the same cell
(the q-points of a box are only defined for a fixed box: NPT trajectories are rejected with the
frame that changed).

Readers: ASE (``extxyz``, ``lammps-dump-text``, ``vasp-xdatcar``, ASE ``.traj`` and every other
format ``ase.io.iread`` knows) and H5MD (``.h5``/``.h5md``, read with h5py as slices of
``particles/<group>/position/value``).  Units: positions in angstrom, velocities in
angstrom/ps, time in ps.

Unwrapping (for diffusion): positions are converted to fractional coordinates
:math:`s = r\,h^{-1}` (rows of ``h`` are the cell vectors) and the jump between consecutive frames
is reduced to the minimum image, :math:`s_u(t) = s_u(t-1) + \Delta s - \mathrm{round}(\Delta s)`,
which is exact as long as no atom moves more than half a box length between stored frames.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FormatError, InputError
from ..fileio import input_file, names_input_file
from ..structure import Lattice
from .blocks import stack_blocks

__all__ = ["Chunk", "Trajectory", "open_trajectory", "write_h5md"]

_ASE_FORMATS = {
    ".xyz": "extxyz", ".extxyz": "extxyz", ".traj": "traj", ".dump": "lammps-dump-text",
    ".lammpstrj": "lammps-dump-text",
}
_H5MD_SUFFIXES = {".h5", ".h5md", ".hdf5"}
_LENGTH_TO_ANGSTROM = {"angstrom": 1.0, "a": 1.0, "nm": 10.0, "pm": 0.01, "m": 1e10}
_TIME_TO_PS = {"ps": 1.0, "fs": 1e-3, "ns": 1e3, "s": 1e12}


@dataclass
class Chunk:
    """A block of consecutive frames.

    Attributes: ``start`` (index of the first frame, after ``frame_step``), ``positions``
    (n_frames, n_atoms, 3) angstrom (unwrapped when the trajectory was opened with
    ``unwrap=True``), ``velocities`` (same shape, angstrom/ps) or None.
    """

    start: int
    positions: np.ndarray
    velocities: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return self.positions.shape[0]


@dataclass
class Trajectory:
    """A trajectory with fixed cell, atoms and time step.

    Build with :func:`open_trajectory` (files) or :meth:`from_arrays` (memory).

    Attributes: ``source`` (file or label), ``symbols`` (species per atom), ``cell`` (3x3,
    rows are the box vectors, angstrom), ``dt`` (ps between stored frames, after
    ``frame_step``), ``n_frames`` (None when unknown before reading), ``has_velocities``.
    """

    source: str
    symbols: tuple[str, ...]
    cell: np.ndarray
    dt: float
    n_frames: int | None
    has_velocities: bool
    unwrap: bool = True
    _frames: object = field(default=None, repr=False)

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, positions, cell, symbols: Sequence[str], dt: float, velocities=None,
                    unwrap: bool = True, source: str = "arrays") -> Trajectory:
        """A trajectory from arrays: positions (n_frames, n_atoms, 3) angstrom, cell 3x3 angstrom,
        dt in ps, velocities (angstrom/ps) or None."""
        pos = np.asarray(positions, dtype=float)
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise InputError("positions must have shape (n_frames, n_atoms, 3)", file=source,
                             field="positions", value=pos.shape)
        if len(symbols) != pos.shape[1]:
            raise InputError(f"{len(symbols)} symbols for {pos.shape[1]} atoms", file=source,
                             field="symbols", value=len(symbols))
        vel = None if velocities is None else np.asarray(velocities, dtype=float)
        if vel is not None and vel.shape != pos.shape:
            raise InputError("velocities and positions differ in shape", file=source,
                             field="velocities", value=vel.shape)
        h = _check_cell(cell, source, 0)
        bad = ~np.isfinite(pos)
        if bad.any():
            raise FormatError("positions hold NaN or infinity", file=source,
                              field=f"frame {int(np.argwhere(bad)[0][0])}")
        return cls(source, tuple(str(s) for s in symbols), h, _check_dt(dt, source),
                   pos.shape[0], vel is not None, unwrap, _ArrayFrames(pos, vel))

    # --- properties ------------------------------------------------------------------------
    @property
    def n_atoms(self) -> int:
        return len(self.symbols)

    @property
    def lattice(self) -> Lattice:
        """The box as a :class:`latdyn.structure.Lattice` (``cell`` kept in its frame)."""
        return Lattice.from_matrix(self.cell, source=self.source)

    @property
    def volume(self) -> float:
        """Box volume (angstrom^3)."""
        return self.lattice.volume

    @property
    def species(self) -> tuple[str, ...]:
        """Distinct species, sorted alphabetically (the order of every partial)."""
        return tuple(sorted(set(self.symbols)))

    def indices(self) -> dict[str, np.ndarray]:
        """Atom indices of each species."""
        sym = np.asarray(self.symbols)
        return {s: np.flatnonzero(sym == s) for s in self.species}

    def reciprocal_cell(self) -> np.ndarray:
        """Rows are the reciprocal vectors b_i of the box, with a_i . b_j = 2 pi delta_ij
        (1/angstrom): :attr:`Lattice.reciprocal_matrix` of :attr:`lattice`."""
        return self.lattice.reciprocal_matrix

    # --- iteration -------------------------------------------------------------------------
    def chunks(self, chunk_size: int = 100, start: int = 0, stop: int | None = None,
               unwrap: bool | None = None, velocities: bool = True) -> Iterator[Chunk]:
        """Yield consecutive chunks of at most ``chunk_size`` frames in [start, stop).

        Positions are unwrapped across chunk boundaries (starting from frame ``start``) when
        ``unwrap`` is true (None: the trajectory's setting); otherwise they are as stored.
        Velocities are read when the trajectory has them and ``velocities`` is true (else the
        chunks carry None and the readers skip them).
        """
        if chunk_size < 1:
            raise InputError("chunk size must be at least 1", file=self.source,
                             field="chunk_size", value=chunk_size)
        unwrap = self.unwrap if unwrap is None else bool(unwrap)
        inv = np.linalg.inv(self.cell)
        previous = None
        with_vel = bool(velocities) and self.has_velocities
        for first, pos, vel in self._frames.blocks(chunk_size, start, stop, self, with_vel):
            if unwrap:
                pos, previous = _unwrap(pos, previous, inv, self.cell)
            yield Chunk(first, pos, vel)

    def frame_count(self) -> int:
        """Number of frames (reads the file once when the format does not store it)."""
        if self.n_frames is None:
            count = getattr(self._frames, "count", None)
            n = count() if count is not None else None
            self.n_frames = n if n is not None else \
                sum(c.n_frames for c in self.chunks(500, unwrap=False, velocities=False))
        return self.n_frames


def _unwrap(pos: np.ndarray, previous: np.ndarray | None, inv: np.ndarray, h: np.ndarray):
    """Unwrap a block of frames given the last unwrapped frame before it (module docstring)."""
    s = pos @ inv
    ref = s[0] if previous is None else previous @ inv
    steps = np.diff(np.concatenate([ref[None], s]), axis=0)
    steps -= np.round(steps)
    s_u = ref + np.cumsum(steps, axis=0)
    out = s_u @ h
    return out, out[-1]


def _check_cell(cell, source: str, frame: int) -> np.ndarray:
    try:
        h = np.asarray(cell, dtype=float).reshape(3, 3)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"frame {frame} has no 3x3 cell", file=source, field="cell",
                          value=cell) from exc
    vol = np.linalg.det(h) if np.all(np.isfinite(h)) else 0.0
    if not abs(vol) > 1e-9:
        raise FormatError(f"frame {frame} has no periodic cell (volume {vol:g} angstrom^3); "
                          "correlation functions need the simulation box", file=source,
                          field="cell", value=h.round(6).tolist())
    return h


def _check_dt(dt, source: str) -> float:
    if dt is None:
        raise InputError("the time step is not stored in the file: give dt (ps between frames)",
                         file=source, field="dt")
    dt = float(dt)
    if not (np.isfinite(dt) and dt > 0):
        raise InputError("time step must be positive (ps)", file=source, field="dt", value=dt)
    return dt


class _ArrayFrames:
    def __init__(self, pos: np.ndarray, vel: np.ndarray | None):
        self.pos, self.vel = pos, vel

    def blocks(self, size: int, start: int, stop: int | None, traj: Trajectory,
               velocities: bool):
        stop = self.pos.shape[0] if stop is None else min(stop, self.pos.shape[0])
        for a in range(start, stop, size):
            b = min(a + size, stop)
            yield a, self.pos[a:b], self.vel[a:b] if velocities else None


class _AseFrames:
    """Frames read lazily through ``ase.io.iread``; each block is validated frame by frame."""

    def __init__(self, path: Path, fmt: str | None, species_map: Mapping[int, str] | None,
                 frame_step: int):
        self.path, self.fmt, self.species_map, self.frame_step = path, fmt, species_map, frame_step
        self._numbers: np.ndarray | None = None

    def same_species(self, atoms, traj: Trajectory) -> bool:
        """Whether a frame lists the species of frame 0 (compares atomic numbers: fast)."""
        if self._numbers is None:
            self._numbers = np.array(atoms.numbers)
            return self.symbols_of(atoms) == traj.symbols
        return np.array_equal(atoms.numbers, self._numbers)

    def symbols_of(self, atoms) -> tuple[str, ...]:
        if self.species_map:
            return tuple(self.species_map.get(int(n), str(n)) for n in atoms.numbers)
        return tuple(atoms.get_chemical_symbols())

    def count(self) -> int | None:
        """Number of frames (after frame_step) when the format knows it cheaply (ASE .traj)."""
        if self.fmt != "traj":
            return None
        from ase.io.trajectory import Trajectory as AseTrajectory

        with AseTrajectory(str(self.path)) as t:
            n_raw = len(t)
        return (n_raw + self.frame_step - 1) // self.frame_step

    def iterate(self, start: int = 0, stop: int | None = None):
        import ase.io

        raw_stop = None if stop is None else stop * self.frame_step
        index = slice(start * self.frame_step, raw_stop, self.frame_step)
        i = start
        it = ase.io.iread(str(self.path), index=index, format=self.fmt)
        while True:
            try:
                atoms = next(it)
            except StopIteration:
                return
            except Exception as exc:
                raise FormatError(f"cannot read frame {i} (the file is truncated or corrupt: "
                                  f"{type(exc).__name__}: {exc})", file=self.path,
                                  field=f"frame {i}") from exc
            yield i, atoms
            i += 1

    def blocks(self, size: int, start: int, stop: int | None, traj: Trajectory,
               velocities: bool):
        return stack_blocks(self._checked_frames(start, stop, traj, velocities), size,
                            traj.n_atoms, start, velocities)

    def _checked_frames(self, start: int, stop: int | None, traj: Trajectory,
                        velocities: bool = True):
        """(index, positions, velocities or None) per frame, each checked against frame 0."""
        n = traj.n_atoms
        for i, atoms in self.iterate(start, stop):
            cell = atoms.cell.array
            if len(atoms) != n or not np.array_equal(cell, traj.cell) or \
                    not self.same_species(atoms, traj):
                _validate_frame(traj, i, len(atoms), self.same_species(atoms, traj), cell)
            if not np.all(np.isfinite(atoms.positions)):
                raise FormatError("positions hold NaN or infinity", file=self.path,
                                  field=f"frame {i}")
            v = None
            if velocities:
                v = _ase_velocities(atoms)
                if v is None:
                    raise FormatError(f"frame {i} has no velocities but frame 0 has",
                                      file=self.path, field=f"frame {i}")
                if not np.all(np.isfinite(v)):
                    raise FormatError("velocities hold NaN or infinity", file=self.path,
                                      field=f"frame {i}")
            yield i, atoms.positions, v


def _ase_velocities(atoms) -> np.ndarray | None:
    """Velocities in angstrom/ps: ASE momenta (angstrom per ASE time unit), or an extxyz 'vel'
    column, which by the GPUMD and dynasor convention is in angstrom/fs."""
    from ase.units import fs

    if "momenta" in atoms.arrays:
        return atoms.get_velocities() * (1e3 * fs)
    if "vel" in atoms.arrays:
        return np.asarray(atoms.arrays["vel"], dtype=float) * 1e3
    return None


def _validate_frame(traj: Trajectory, i: int, n_atoms: int, same_species: bool, cell) -> None:
    if n_atoms != traj.n_atoms:
        raise FormatError(f"frame {i} has {n_atoms} atoms but frame 0 has {traj.n_atoms}",
                          file=traj.source, field=f"frame {i}", value=n_atoms)
    if not same_species:
        raise FormatError(f"frame {i} lists different species or atom order than frame 0",
                          file=traj.source, field=f"frame {i}")
    h = _check_cell(cell, traj.source, i)
    if not np.allclose(h, traj.cell, rtol=1e-6, atol=1e-6):
        raise FormatError(f"the cell changes at frame {i}; correlation functions need a fixed box "
                          "(NPT trajectories are not supported)", file=traj.source,
                          field=f"frame {i}", value=h.round(6).tolist())


class _H5mdFrames:
    """H5MD (de Buyl et al., Comput. Phys. Commun. 185, 1546 (2014)) read in slices with h5py."""

    def __init__(self, path: Path, group: str, frame_step: int, pos_scale: float,
                 vel_scale: float):
        self.path, self.group, self.frame_step = path, group, frame_step
        self.pos_scale, self.vel_scale = pos_scale, vel_scale

    def blocks(self, size: int, start: int, stop: int | None, traj: Trajectory,
               velocities: bool):
        import h5py

        from ..data.io._common import open_hdf5

        with open_hdf5(self.path) as f:
            g = f["particles"][self.group]
            pos_ds = g["position/value"]
            vel_ds = g["velocity/value"] if velocities else None
            edges = g["box/edges"]
            moving_box = isinstance(edges, h5py.Group)
            stop = traj.n_frames if stop is None else min(stop, traj.n_frames)
            step = self.frame_step
            for a in range(start, stop, size):
                b = min(a + size, stop)
                sl = slice(a * step, (b - 1) * step + 1, step)
                try:
                    pos = np.asarray(pos_ds[sl], dtype=float) * self.pos_scale
                    vel = None if vel_ds is None else np.asarray(vel_ds[sl], float) * self.vel_scale
                    boxes = np.asarray(edges["value"][sl], dtype=float) if moving_box else ()
                except (OSError, RuntimeError, ValueError, TypeError) as exc:
                    raise FormatError(f"cannot read frames {a} to {b - 1} (truncated file: {exc})",
                                      file=self.path, field=f"frame {a}") from exc
                for k, box in enumerate(boxes):
                    _validate_frame(traj, a + k, traj.n_atoms, True,
                                    _h5md_box(box, self.path) * self.pos_scale)
                bad = ~np.isfinite(pos)
                if bad.any():
                    raise FormatError("positions hold NaN or infinity", file=self.path,
                                      field=f"frame {a + int(np.argwhere(bad)[0][0])}")
                if vel is not None and not np.all(np.isfinite(vel)):
                    raise FormatError("velocities hold NaN or infinity", file=self.path,
                                      field=f"frames {a} to {b - 1}")
                yield a, pos, vel


def _h5md_box(edges: np.ndarray, path=None) -> np.ndarray:
    edges = np.asarray(edges, dtype=float)
    if edges.shape == (3,):
        return np.diag(edges)
    if edges.size != 9:
        raise FormatError("box edges must be 3 lengths or a 3x3 matrix", file=path,
                          field="box/edges", value=edges.shape)
    return edges.reshape(3, 3)


def _unit_scale(ds, table: Mapping[str, float], default: str, path, field: str) -> float:
    unit = ds.attrs.get("unit", default)
    unit = unit.decode("utf-8", "replace") if isinstance(unit, bytes) else str(unit)
    key = unit.strip().lower()
    if key not in table:
        raise FormatError(f"unknown unit; expected one of {sorted(table)}", file=path,
                          field=field, value=unit)
    return table[key]


def _open_h5md(path: Path, dt: float | None, frame_step: int, unwrap: bool,
               species_map: Mapping[int, str] | None) -> Trajectory:
    import h5py

    from ..data.io._common import check_dataset, open_hdf5, read_dataset

    with open_hdf5(path) as f:
        if not isinstance(f.get("particles"), h5py.Group) or not len(f["particles"]):
            raise FormatError("no H5MD 'particles' group", file=path, field="particles")
        group = sorted(f["particles"])[0]
        g = f["particles"][group]
        if not isinstance(g, h5py.Group) or not isinstance(g.get("position"), h5py.Group) or \
                not isinstance(g["position"].get("value"), h5py.Dataset):
            raise FormatError("no positions", file=path, field=f"particles/{group}/position/value")
        pos = g["position/value"]
        if pos.ndim != 3 or pos.shape[2] != 3 or 0 in pos.shape:
            raise FormatError("positions must be (frames, atoms, 3) with at least one frame and "
                              "atom", file=path, field=f"particles/{group}/position/value",
                              value=pos.shape)
        check_dataset(pos, path, f"particles/{group}/position/value", whole=False)
        n_raw, n_atoms = pos.shape[:2]
        pos_scale = _unit_scale(pos, _LENGTH_TO_ANGSTROM, "angstrom", path,
                                f"particles/{group}/position/value@unit")
        if "box" not in g or "edges" not in g["box"]:
            raise FormatError("frame 0 has no box (missing cell)", file=path,
                              field=f"particles/{group}/box/edges")
        edges = g["box/edges"]
        where = f"particles/{group}/box/edges"
        if isinstance(edges, h5py.Group):
            check_dataset(edges["value"], path, where + "/value", whole=False)
            box0 = edges["value"][0]
        else:
            box0 = read_dataset(edges, path, where)
        cell = _check_cell(_h5md_box(box0, path) * pos_scale, str(path), 0)
        if "species" in g:
            sp = g["species"]
            where = f"particles/{group}/species"
            if isinstance(sp, h5py.Group):
                check_dataset(sp["value"], path, where + "/value", whole=False)
                sp = np.asarray(sp["value"][0])
            else:
                sp = np.asarray(read_dataset(sp, path, where))
            if sp.shape != (n_atoms,):
                raise FormatError(f"species has {sp.size} entries for {n_atoms} atoms", file=path,
                                  field=f"particles/{group}/species", value=sp.shape)
            if sp.dtype.kind in "SO":
                symbols = tuple(s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s)
                                for s in sp)
            else:
                mapping = dict(species_map or {})
                symbols = tuple(mapping.get(int(s), str(int(s))) for s in sp)
        else:
            symbols = tuple(["X"] * n_atoms)
        if dt is None:
            t = g["position"].get("time")
            if isinstance(t, h5py.Dataset) and t.shape and t.shape[0] > 1:
                t_scale = _unit_scale(t, _TIME_TO_PS, "ps", path, f"particles/{group}/position/time@unit")
                check_dataset(t, path, f"particles/{group}/position/time", whole=False)
                dt = float(t[1] - t[0]) * t_scale
        has_vel = isinstance(g.get("velocity"), h5py.Group) and "value" in g["velocity"]
        vel_scale = 1.0
        if has_vel:
            vel_ds = g["velocity/value"]
            if vel_ds.shape != pos.shape:
                raise FormatError("velocities and positions differ in shape", file=path,
                                  field=f"particles/{group}/velocity/value", value=vel_ds.shape)
            check_dataset(vel_ds, path, f"particles/{group}/velocity/value", whole=False)
            unit = vel_ds.attrs.get("unit", "angstrom ps-1")
            unit = unit.decode("utf-8", "replace") if isinstance(unit, bytes) else str(unit)
            length, _, time = unit.replace("/", " ").replace("-1", "").partition(" ")
            try:
                vel_scale = _LENGTH_TO_ANGSTROM[length.strip().lower()] / _TIME_TO_PS[time.strip().lower()]
            except KeyError as exc:
                raise FormatError("unknown velocity unit", file=path,
                                  field=f"particles/{group}/velocity/value@unit", value=unit) from exc
    n_frames = (n_raw + frame_step - 1) // frame_step
    if dt is not None:
        dt = dt * frame_step
    return Trajectory(str(path), symbols, cell, _check_dt(dt, str(path)), n_frames, has_vel, unwrap,
                      _H5mdFrames(path, group, frame_step, pos_scale, vel_scale))


@names_input_file
def open_trajectory(path: str | os.PathLike, dt: float | None = None, fmt: str | None = None,
                    frame_step: int = 1, unwrap: bool = True,
                    species_map: Mapping[int, str] | None = None,
                    reader: str = "auto") -> Trajectory:
    """Open a trajectory file; frames are read later, chunk by chunk.

    Parameters
    ----------
    path: trajectory file (extxyz, LAMMPS dump, VASP XDATCAR, ASE .traj, H5MD, or any format
        ``ase.io`` reads, given as ``fmt``).
    dt: time between stored frames in ps; required unless the file stores times (H5MD).
        The time step of the returned trajectory is ``dt * frame_step``.
    frame_step: use every ``frame_step``-th frame.
    species_map: atom type -> element symbol, for LAMMPS dumps (types 1, 2, ...) and integer
        H5MD species.
    reader: for extended XYZ, 'auto' (the native reader of :mod:`latdyn.md.extxyz` when it
        handles the layout, else ASE), 'native' (refuse other layouts) or 'ase'.
    """
    p = Path(path)
    try:
        input_file(p)
    except (FileNotFoundError, IsADirectoryError):
        raise InputError("trajectory file does not exist", file=p) from None
    if int(frame_step) < 1:
        raise InputError("frame step must be at least 1", file=p, field="frame_step",
                         value=frame_step)
    suffix = p.suffix.lower()
    if fmt in ("h5md",) or (fmt is None and suffix in _H5MD_SUFFIXES):
        return _open_h5md(p, dt, int(frame_step), unwrap, species_map)
    if fmt is None:
        fmt = _ASE_FORMATS.get(suffix)
        if fmt is None and "XDATCAR" in p.name.upper():
            fmt = "vasp-xdatcar"
    if reader not in ("auto", "native", "ase"):
        raise InputError("unknown reader; use 'auto', 'native' or 'ase'", file=p, field="reader",
                         value=reader)
    if fmt == "extxyz" and reader != "ase" and not species_map:
        from .extxyz import ExtxyzFrames, probe

        layout = probe(p)
        if layout is not None:
            cell = _check_cell(layout.cell, str(p), 0)
            return Trajectory(str(p), layout.species, cell,
                              _check_dt(None if dt is None else dt * frame_step, str(p)), None,
                              layout.vel_kind is not None, unwrap,
                              ExtxyzFrames(p, layout, int(frame_step)))
    if reader == "native":
        if fmt != "extxyz":
            raise InputError("reader='native' reads extended XYZ files only", file=p,
                             field="reader", value=reader)
        raise FormatError("the native extended-XYZ reader needs a Lattice, the species in the "
                          "first column and pos:R:3 (use reader='ase' for other layouts)",
                          file=p, field="reader", value=reader)
    frames = _AseFrames(p, fmt, species_map, int(frame_step))
    try:
        _, first = next(frames.iterate(0, 1))
    except StopIteration:
        raise FormatError("the trajectory holds no frame", file=p) from None
    except ValueError as exc:
        raise FormatError(f"cannot read the trajectory ({exc})", file=p, field="frame 0") from exc
    symbols = frames.symbols_of(first)
    cell = _check_cell(first.cell.array, str(p), 0)
    has_vel = _ase_velocities(first) is not None
    return Trajectory(str(p), symbols, cell, _check_dt(None if dt is None else dt * frame_step, str(p)),
                      None, bool(has_vel), unwrap, frames)


def write_h5md(path: str | os.PathLike, positions, cell, symbols: Sequence[str], dt: float,
               velocities=None, single_precision: bool = False) -> Path:
    """Write a fixed-box trajectory as H5MD (positions angstrom, velocities angstrom/ps, dt ps).

    Layout: ``h5md`` (version 1.1, author/creator groups), ``particles/all/box`` (attrs
    dimension=3, boundary periodic; ``edges`` 3x3 angstrom), ``particles/all/species``
    (string per atom), ``particles/all/position/{value (frames, atoms, 3) angstrom, step, time
    (ps)}``, and ``particles/all/velocity/...`` (angstrom ps-1) when given.  With
    ``single_precision`` positions and velocities are stored as float32 (half the size; about
    1e-6 A on a 20 A box, as most MD codes write them).
    """

    from .. import __version__
    from ..fileio import hdf5_writer

    pos = np.asarray(positions, dtype=float)
    n_frames = pos.shape[0]
    with hdf5_writer(path) as f:
        h = f.create_group("h5md")
        h.attrs["version"] = np.array([1, 1])
        h.create_group("author").attrs["name"] = "latdyn"
        cr = h.create_group("creator")
        cr.attrs["name"], cr.attrs["version"] = "latdyn", __version__
        g = f.create_group("particles/all")
        box = g.create_group("box")
        box.attrs["dimension"] = 3
        box.attrs["boundary"] = np.array([b"periodic"] * 3)
        e = box.create_dataset("edges", data=np.asarray(cell, dtype=float).reshape(3, 3))
        e.attrs["unit"] = "angstrom"
        g.create_dataset("species", data=np.array([s.encode() for s in symbols]))
        for name, arr, unit in (("position", pos, "angstrom"),
                                ("velocity", velocities, "angstrom ps-1")):
            if arr is None:
                continue
            grp = g.create_group(name)
            ds = grp.create_dataset("value", data=np.asarray(arr, dtype=np.float32 if single_precision
                                                             else float),
                                    chunks=(1, pos.shape[1], 3))
            ds.attrs["unit"] = unit
            grp.create_dataset("step", data=np.arange(n_frames))
            t = grp.create_dataset("time", data=np.arange(n_frames) * float(dt))
            t.attrs["unit"] = "ps"
    return Path(path)
