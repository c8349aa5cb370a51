r"""A native reader for the common extended-XYZ trajectory layout.

Extended XYZ (the format of ASE, GPUMD, NequIP/MACE training sets and many MLIP MD codes;
https://github.com/libAtoms/extxyz): per frame a line with the number of atoms N, a comment
line of ``key=value`` pairs, and N atom lines whose columns the ``Properties`` key describes
as ``name:type:columns`` triples (type S string, R real, I integer, L logical), e.g.

.. code-block:: text

    4000
    Lattice="42 0 0 0 42 0 0 0 42" Properties=species:S:1:pos:R:3:vel:R:3 Time=10.0 pbc="T T T"
    Li 0.12 3.40 5.01 0.001 -0.002 0.004
    ...

This reader handles frames with a ``Lattice`` (rows are the cell vectors, angstrom), the
species in the first column and ``pos:R:3`` (angstrom) somewhere after it; velocities come
from ``vel:R:3`` (angstrom/fs, the GPUMD and dynasor convention) or ``momenta:R:3`` (ASE units,
divided by ``masses:R:1`` or the standard atomic masses as ASE does).  Missing ``Properties``
means ``species:S:1:pos:R:3``.  Other columns are skipped.  The numbers are parsed by
:func:`numpy.loadtxt` on each frame's block of lines (about five times faster than
``ase.io.iread`` here), and every frame is checked against frame 0: the atom count, the
species column, the ``Properties`` layout and the cell.  Anything else (no lattice, species
not first, unknown column types, a ``species_map``) goes to ASE, which
:func:`latdyn.md.trajectory.open_trajectory` does automatically.

Random access (a start frame, Dask tasks): frames have N + 2 lines each, so an index of the
byte offset of every (N + 2)-th line is built once by scanning the file for newlines.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ..errors import FormatError
from .blocks import stack_blocks

__all__ = ["ExtxyzLayout", "probe", "ExtxyzFrames"]

_PAIR = re.compile(r'(\w+)\s*=\s*("[^"]*"|\'[^\']*\'|\{[^}]*\}|\S+)')
_TYPES = {"S", "R", "I", "L"}
#: Smallest read of the compiled parser's buffer (bytes).
READ_BYTES = 1 << 20


@dataclass(frozen=True)
class ExtxyzLayout:
    """What frame 0 says: atom count, cell (3x3, angstrom), the Properties string, the column
    of the positions, the velocity column and kind ('vel', 'momenta' or None), the masses
    column (or None), the species tokens and the total number of columns."""

    n_atoms: int
    cell: np.ndarray
    properties: str
    pos_col: int
    vel_col: int | None
    vel_kind: str | None
    mass_col: int | None
    species: tuple[str, ...]
    n_cols: int


def parse_comment(line: str) -> dict[str, str]:
    """``key=value`` pairs of an extended-XYZ comment line (quotes removed)."""
    out = {}
    for key, value in _PAIR.findall(line):
        if value[:1] in "\"'{":
            value = value[1:-1]
        out[key] = value.strip()
    return out


def _columns(properties: str) -> dict[str, tuple[str, int, int]] | None:
    """name -> (type, first column, width) of a Properties string, or None if malformed."""
    parts = properties.split(":")
    if len(parts) % 3:
        return None
    out, col = {}, 0
    for i in range(0, len(parts), 3):
        name, kind, width = parts[i], parts[i + 1].upper(), parts[i + 2]
        if kind not in _TYPES or not width.isdigit():
            return None
        out[name] = (kind, col, int(width))
        col += int(width)
    return out


def _cell(comment: dict[str, str]) -> np.ndarray | None:
    try:
        values = [float(x) for x in comment["Lattice"].replace(",", " ").split()]
    except (KeyError, ValueError):
        return None
    return np.array(values).reshape(3, 3) if len(values) == 9 else None


def probe(path: Path) -> ExtxyzLayout | None:
    """The layout of frame 0 when this reader handles the file, else None (use ASE).

    FormatError when the atom count of frame 0 cannot fit in the file (every atom line takes
    at least two bytes): a damaged count must not make any reader loop over it."""
    try:
        size = Path(path).stat().st_size
        with open(path, "rb") as f:
            count = f.readline(4096)
            comment = f.readline().decode("utf-8", errors="replace")
            n = int(count.split()[0]) if count.split() else -1
            if 2 * n > size:
                raise FormatError(f"frame 0 declares {n} atoms, more than a file of {size} bytes "
                                  "can hold (a damaged atom count?)", file=path, field="line 1",
                                  value=n)
            first = [f.readline() for _ in range(max(n, 0))]
    except FormatError:
        raise
    except (OSError, ValueError, IndexError):
        return None
    if n < 1 or len(first) < n or not first[-1]:
        return None
    keys = parse_comment(comment)
    cell = _cell(keys)
    props = keys.get("Properties", "species:S:1:pos:R:3")
    cols = _columns(props)
    if cell is None or cols is None:
        return None
    if cols.get("species", ("", -1, 0))[:3] != ("S", 0, 1) or cols.get("pos", ("", 0, 0))[0::2] \
            != ("R", 3):
        return None
    vel_col, vel_kind = None, None
    for name in ("vel", "momenta"):
        if name in cols and cols[name][0] == "R" and cols[name][2] == 3:
            vel_col, vel_kind = cols[name][1], name
            break
    mass_col = cols["masses"][1] if "masses" in cols and cols["masses"][0::2] == ("R", 1) \
        else None
    n_cols = sum(w for _, _, w in cols.values())
    species = tuple(line.split(None, 1)[0].decode("utf-8", "replace") if line.split() else ""
                    for line in first)
    if vel_kind == "momenta" and mass_col is None:
        from ase.data import atomic_numbers

        if any(s not in atomic_numbers for s in species):
            return None
    return ExtxyzLayout(n, cell, props, cols["pos"][1], vel_col, vel_kind, mass_col, species,
                        n_cols)


class ExtxyzFrames:
    """Frames of an extended-XYZ file with the :class:`ExtxyzLayout` of frame 0, read in
    blocks (the ``_frames`` reader of :class:`latdyn.md.trajectory.Trajectory`)."""

    def __init__(self, path: Path, layout: ExtxyzLayout, frame_step: int = 1):
        self.path, self.layout, self.frame_step = Path(path), layout, int(frame_step)
        self._offsets: np.ndarray | None = None
        lay = layout
        self._usecols = [lay.pos_col, lay.pos_col + 1, lay.pos_col + 2]
        if lay.vel_col is not None:
            self._usecols += [lay.vel_col, lay.vel_col + 1, lay.vel_col + 2]
        if lay.vel_kind == "momenta":
            if lay.mass_col is not None:
                self._usecols.append(lay.mass_col)
                self._masses = None
            else:
                from ase.data import atomic_masses, atomic_numbers

                self._masses = np.array([atomic_masses[atomic_numbers[s]] for s in lay.species])
        # the species check compares line prefixes with frame 0 (falls back to a split)
        self._prefixes = None
        self._lattice_text: str | None = None

    def __getstate__(self):                         # small when sent to Dask workers
        state = dict(self.__dict__)
        state["_offsets"] = None
        return state

    # --- index ----------------------------------------------------------------------------
    def _index(self) -> np.ndarray:
        """Byte offset of the first line of every (raw) frame that starts in the file."""
        if self._offsets is None:
            per = self.layout.n_atoms + 2
            starts, line0, base = [np.zeros(1, dtype=np.int64)], 0, 0
            with open(self.path, "rb") as f:
                while block := f.read(1 << 26):
                    nl = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
                    numbers = line0 + 1 + np.arange(nl.size)      # line starting after each \n
                    starts.append(base + nl[numbers % per == 0] + 1)
                    line0 += nl.size
                    base += len(block)
            offsets = np.concatenate(starts)
            self._offsets = offsets[offsets < base]               # drop the end of the file
        return self._offsets

    def count(self) -> int:
        """Number of frames after ``frame_step`` (frames that start in the file)."""
        n_raw = self._index().size
        return (n_raw + self.frame_step - 1) // self.frame_step

    # --- reading --------------------------------------------------------------------------
    def _frame(self, f, i: int, traj, keep: bool):
        """Read the frame at the position of the open file f (frame i, for messages); returns
        (positions, velocities) or None at the end of the file; ``keep=False`` only skips it."""
        data = self._frame_data(f, i, traj, keep)
        if data is None or not keep:
            return data
        pos, vel = self._values(data)
        _check_finite(pos, i, self.path)
        return pos, vel

    def _frame_data(self, f, i: int, traj, keep: bool):
        """The wanted columns (n_atoms, columns) of the frame at the position of f, as read
        (None at the end of the file; () when ``keep`` is False)."""
        lay = self.layout
        head = f.readline()
        if not head:
            return None
        try:
            n = int(head.split()[0])
        except (ValueError, IndexError):
            raise FormatError(f"cannot read frame {i} (the file is truncated or corrupt: "
                              f"atom count line {head[:40]!r})", file=self.path,
                              field=f"frame {i}") from None
        if n != lay.n_atoms:
            raise FormatError(f"frame {i} has {n} atoms but frame 0 has {lay.n_atoms}",
                              file=traj.source, field=f"frame {i}", value=n)
        comment = f.readline()
        lines = list(islice(f, n))
        if not comment or len(lines) < n or (lines and not lines[-1].endswith(b"\n")
                                              and len(lines[-1].split()) < lay.n_cols):
            raise FormatError(f"cannot read frame {i} (the file is truncated or corrupt: "
                              f"{len(lines)} of {n} atom lines)", file=self.path,
                              field=f"frame {i}")
        if n != lay.n_atoms:
            raise FormatError(f"frame {i} has {n} atoms but frame 0 has {lay.n_atoms}",
                              file=traj.source, field=f"frame {i}", value=n)
        if not keep:
            return ()
        self._check_comment(comment, i, traj)
        if self._prefixes is None:
            self._prefixes = [s.encode() + b" " for s in lay.species]
        if not all(map(bytes.startswith, lines, self._prefixes)):
            species = [ln.split(None, 1)[0].decode("utf-8", "replace") if ln.split() else ""
                       for ln in lines]
            if tuple(species) != lay.species:
                raise FormatError(f"frame {i} lists different species or atom order than "
                                  "frame 0", file=traj.source, field=f"frame {i}")
        try:
            data = np.loadtxt(io.BytesIO(b"".join(lines)), usecols=self._usecols, ndmin=2)
        except ValueError as exc:
            raise FormatError(f"cannot read frame {i} (the file is truncated or corrupt: {exc})",
                              file=self.path, field=f"frame {i}") from exc
        return data

    def _check_comment(self, comment: bytes, i: int, traj) -> None:
        """Frame i's comment line must give frame 0's Properties and cell."""
        keys = parse_comment(comment.decode("utf-8", errors="replace"))
        if keys.get("Properties", "species:S:1:pos:R:3") != self.layout.properties:
            raise FormatError(f"frame {i} has other columns than frame 0 (Properties "
                              f"{keys.get('Properties')!r})", file=traj.source,
                              field=f"frame {i}")
        lattice = keys.get("Lattice")
        if lattice is not None and lattice == self._lattice_text:
            return                                  # the same text as a frame already checked
        cell = _cell(keys)
        if cell is None:
            raise FormatError(f"frame {i} has no periodic cell (no Lattice)", file=traj.source,
                              field=f"frame {i}")
        if not np.allclose(cell, traj.cell, rtol=1e-6, atol=1e-6):
            raise FormatError(f"the cell changes at frame {i}; correlation functions need a "
                              "fixed box (NPT trajectories are not supported)",
                              file=traj.source, field=f"frame {i}",
                              value=cell.round(6).tolist())
        self._lattice_text = lattice

    def _values(self, data: np.ndarray):
        """(positions, velocities or None) in angstrom and angstrom/ps from the wanted columns
        (..., n_atoms, columns) as read."""
        lay = self.layout
        pos = data[..., :3]
        vel = None
        if lay.vel_kind == "vel":
            vel = data[..., 3:6] * 1e3                             # angstrom/fs -> /ps
        elif lay.vel_kind == "momenta":
            from ase.units import fs

            masses = self._masses if self._masses is not None else data[..., 6]
            vel = data[..., 3:6] / masses[..., None] * (1e3 * fs)  # ASE units -> angstrom/ps
        if vel is not None and not np.all(np.isfinite(vel)):
            raise FormatError("velocities (or momenta, masses) hold NaN, infinity or zero "
                              "masses", file=self.path, field="velocities")
        return pos, vel

    def _seek_frame(self, f, raw: int) -> bool:
        """Move the open file f to the start of raw frame ``raw`` (through the frame index);
        False when the file holds fewer frames."""
        if raw:
            offsets = self._index()
            if raw >= offsets.size:
                return False
            f.seek(int(offsets[raw]))
        return True

    def iterate(self, start: int, stop: int | None, traj):
        """(frame, positions, velocities) for frames start .. stop - 1 (after frame_step)."""
        step = self.frame_step
        with open(self.path, "rb") as f:
            raw = start * step
            if not self._seek_frame(f, raw):
                return
            i = start
            while stop is None or i < stop:
                got = self._frame(f, i, traj, True)
                if got is None:
                    return
                yield i, got[0], got[1]
                i += 1
                for _ in range(1, step):                           # frames between kept ones
                    if self._frame(f, i, traj, False) is None:
                        return
                raw += step

    def blocks(self, size: int, start: int, stop: int | None, traj, velocities: bool = True):
        """(first frame, positions (k, N, 3), velocities or None) for blocks of k <= size
        frames: parsed by the compiled parser of :mod:`latdyn.md._extxyz_parse` when numba is
        available (frames it cannot take go through :meth:`iterate`), else by
        :meth:`iterate`; without ``velocities`` their columns are skipped."""
        from . import _extxyz_parse

        parser = _extxyz_parse.load()
        if parser is None:
            return stack_blocks(self.iterate(start, stop, traj), size, self.layout.n_atoms,
                                start, velocities and traj.has_velocities)
        return self._parsed_blocks(parser, size, start, stop, traj,
                                   velocities and traj.has_velocities)

    def _parsed_blocks(self, parser, size: int, start: int, stop: int | None, traj,
                       velocities: bool):
        from ._extxyz_parse import EXACT_READER, NEED_MORE

        lay = self.layout
        columns = self._usecols if velocities else self._usecols[:3]
        n_out = len(columns)
        slot = np.full(lay.n_cols, -1, dtype=np.int64)
        slot[columns] = np.arange(n_out)
        tokens = [t.encode() for t in lay.species]
        species = np.frombuffer(b"".join(tokens), dtype=np.uint8)
        species_start = np.concatenate([[0], np.cumsum([len(t) for t in tokens])]).astype(np.int64)
        step = self.frame_step
        with open(self.path, "rb") as f:
            raw = start * step
            if not self._seek_frame(f, raw):
                return
            base, buf, pos, at_eof = f.tell(), b"", 0, False
            frame_bytes = 0
            checked: tuple[bytes, ...] = ()      # Lattice and Properties texts known to be fine
            i = start
            while stop is None or i < stop:
                want = size if stop is None else min(size, stop - i)
                out = np.empty((want, lay.n_atoms, n_out))
                comments = np.empty((want, 2), dtype=np.int64)
                kept = 0
                while kept < want:
                    arr = np.frombuffer(buf, dtype=np.uint8)
                    n, end, n_raw, status = parser.parse_frames(
                        arr, pos, arr.size, at_eof, lay.n_atoms, slot, lay.n_cols, species,
                        species_start, raw, step, out[kept:], comments[kept:], want - kept)
                    for k in range(kept, kept + n):
                        c0, c1 = comments[k]
                        comment = buf[c0:c1]
                        if not (checked and all(part in comment for part in checked)):
                            self._check_comment(comment, i + k, traj)
                            checked = _key_texts(comment)
                    if n_raw:
                        frame_bytes = max(frame_bytes, (end - pos) // n_raw)
                    kept, raw, pos = kept + n, raw + n_raw, end
                    if status == NEED_MORE:
                        more = f.read(max(READ_BYTES, frame_bytes * step * (want - kept + 1)))
                        at_eof = not more
                        base, buf, pos = base + pos, (buf[pos:] + more if pos < len(buf)
                                                      else more), 0
                    elif status == EXACT_READER:           # one frame by numpy.loadtxt
                        f.seek(base + pos)
                        data = self._frame_data(f, i + kept, traj, raw % step == 0)
                        if data is None:
                            break
                        if raw % step == 0:
                            out[kept] = data[:, :n_out]
                            kept += 1
                        raw += 1
                        base, buf, pos, at_eof = f.tell(), b"", 0, False
                    elif at_eof or n == 0:
                        break
                if kept == 0:
                    return
                p, v = self._values(out[:kept]) if velocities else (out[:kept], None)
                bad = np.flatnonzero(~np.isfinite(p).all(axis=(1, 2)))
                if bad.size:
                    _check_finite(p[bad[0]], i + int(bad[0]), self.path)
                yield i, p, v
                i += kept
                if kept < want:
                    return


def _check_finite(pos: np.ndarray, i: int, path) -> None:
    if not np.all(np.isfinite(pos)):
        raise FormatError("positions hold NaN or infinity", file=path, field=f"frame {i}")


def _key_texts(comment: bytes) -> tuple[bytes, ...]:
    """The exact ``Lattice=...`` and ``Properties=...`` texts of a comment line, when both are
    present and unambiguous (a later frame with the same texts needs no new check)."""
    out = []
    for key in (b"Lattice=", b"Properties="):
        at = comment.find(key)
        if at < 0 or comment.find(key, at + 1) >= 0:
            return ()
        end = at + len(key)
        if comment[end:end + 1] in (b'"', b"'"):
            close = comment.find(comment[end:end + 1], end + 1)
            if close < 0:
                return ()
            end = close + 1
        else:
            while end < len(comment) and comment[end:end + 1] not in (b" ", b"\t", b"\n", b"\r"):
                end += 1
        out.append(comment[at:end])
    return tuple(out)
