"""Fuzz suite: every reader against corrupted variants of real files (issue 22).

For each reader (Mantid NeXus, NXSPE, LAMP HDF, INX, DAVE grp, column ASCII, latdyn results,
phonopy yaml / FORCE_CONSTANTS / force_constants.hdf5 / BORN, extended XYZ, H5MD, CIF, mCIF
and the magnetic-structure YAML) a generator derives corrupted files from the shipped data
(../shared/data) and from files the tests write: truncations, bit flips, garbage headers,
deleted HDF5 objects, zero-length and scalar datasets, NaN/inf, negative and zero errors,
shuffled axes, huge declared sizes, garbage attributes, rich markup and 100 kB titles,
decimal commas, stray text lines, byte-order marks, non-UTF-8 bytes, huge counts, YAML alias
bombs and unphysical values, plus special files (FIFO, folder, symbolic-link loop, broken
link, empty file) and files of another format under the reader's name.

Each case runs in a forked child with a time budget and an address-space limit
(``RLIMIT_AS`` = the child's size + 1 GiB; ``LATDYN_MAX_READ_BYTES`` = 256 MB) and must end
in a LatdynError whose message names the file, or in values that pass an independent
boundary check (finite increasing axes, finite values and variances, boolean masks,
physical E_i/E_f/T, finite cells and force constants...).  Any other exception, a hang, a
crash or running out of memory is a failure.

Seeds are fixed: the same cases run in CI.  ``LATDYN_FUZZ_CASES=N`` runs N cases per reader
(``LATDYN_FUZZ_SEED`` changes the seed); ``LATDYN_FUZZ_SAVE=folder`` copies failing cases
there.  Every case that ever failed is kept in ``tests/data/fuzz_corpus/<reader>/`` and runs
on every test run.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pytest

from latdyn.errors import LatdynError

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "fuzz_corpus"
REPO = HERE.parents[1]
DIFFRACTION_DATA = REPO / "tests" / "diffraction" / "data"
EXAMPLES = REPO / "src" / "latdyn" / "examples"

SEED = int(os.environ.get("LATDYN_FUZZ_SEED", "22"))
CASES = os.environ.get("LATDYN_FUZZ_CASES")
TIME_BUDGET = float(os.environ.get("LATDYN_FUZZ_TIME", "30"))
HEADROOM = 1 << 30
READ_BUDGET = 256 << 20
MARKUP = "[/bold] lysozyme [b]in D2O[/b] :smile: [link=x]y[/link]"


# --- isolated execution ---------------------------------------------------------------------------
def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 4 << 30


def run_isolated(func: Callable[[], str | None], names: list[str], budget: float = TIME_BUDGET
                 ) -> tuple[str, str]:
    """Run ``func`` in a forked child (time and memory limits); (kind, detail) where kind is
    'ok' or 'error' (a LatdynError naming one of ``names``) when the case passes, else
    'invalid', 'unnamed', 'exception', 'memory', 'hang' or 'crash'."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            limit = _vm_size() + HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            os.environ["LATDYN_MAX_READ_BYTES"] = str(READ_BUDGET)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            warnings.simplefilter("ignore")
            try:
                problem = func()
                msg = ["ok", ""] if not problem else ["invalid", problem]
            except LatdynError as exc:
                text = str(exc)
                msg = ["error", text] if any(n in text for n in names) else ["unnamed", text]
            except MemoryError:
                msg = ["memory", traceback.format_exc(limit=-6)]
            except BaseException as exc:  # noqa: BLE001 - the point is to report anything
                msg = ["exception", f"{type(exc).__name__}: {exc}\n"
                                    f"{traceback.format_exc(limit=-6)}"]
            data = json.dumps([msg[0], msg[1][:4000]]).encode()
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    os.close(w)
    deadline = time.monotonic() + budget
    chunks = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "hang", f"no result within {budget:g} s"
            ready, _, _ = select.select([r], [], [], left)
            if ready:
                block = os.read(r, 1 << 16)
                if not block:
                    break
                chunks.append(block)
    finally:
        os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "crash", f"killed by signal {os.WTERMSIG(status)}"
    if not chunks:
        return "crash", "no result"
    kind, detail = json.loads(b"".join(chunks))
    return kind, detail


# --- independent boundary checks of what a reader returns ------------------------------------------
def check_loaded(loaded) -> str | None:
    """Problems of a LoadedData, checked here independently of latdyn's own validation."""
    import scipp as sc

    if not loaded.entries:
        return "no entries"
    for name, da in loaded.entries.items():
        if not isinstance(da, sc.DataArray):
            return f"{name}: not a DataArray"
        for m, mask in da.masks.items():
            if mask.dtype != sc.DType.bool:
                return f"{name}: mask {m} has dtype {mask.dtype}"
        if loaded.format == "results_h5":
            continue
        if da.values.size == 0 or 0 in da.shape:
            return f"{name}: zero-length data {da.sizes}"
        for dim in da.dims:
            if dim not in da.coords:
                continue
            c = np.asarray(da.coords[dim].values)
            if c.dtype.kind not in "fiu":
                continue
            if not np.all(np.isfinite(c)):
                return f"{name}: coordinate {dim} not finite"
            if c.size > 1 and not np.all(np.diff(c) > 0):
                return f"{name}: coordinate {dim} not increasing"
        if not np.all(np.isfinite(da.values)):
            return f"{name}: values not finite"
        if da.variances is not None:
            v = np.asarray(da.variances)
            if not np.all(np.isfinite(v)) or np.any(v < 0):
                return f"{name}: variances not finite or negative"
            masked = np.zeros(da.shape, bool)
            for mask in da.masks.values():
                masked |= np.broadcast_to(mask.broadcast(sizes=da.sizes).values, da.shape)
            bad = (v == 0) & (np.asarray(da.values) != 0) & ~masked
            if bad.any() and not loaded.metadata.get(name, {}).get("zero_error_points"):
                return f"{name}: {int(bad.sum())} zero errors on non-zero values, unmasked"
        meta = loaded.metadata.get(name, {})
        for key in ("incident_energy", "final_energy"):
            if key in meta:
                e = meta[key]
                if not (isinstance(e, (int, float)) and np.isfinite(e) and 0 < e <= 1000):
                    return f"{name}: {key} = {e!r}"
        if "wavelength" in meta and not (np.isfinite(meta["wavelength"]) and meta["wavelength"] > 0):
            return f"{name}: wavelength = {meta['wavelength']!r}"
        if "sample_temperature" in meta:
            t = meta["sample_temperature"]
            if not (isinstance(t, (int, float)) and np.isfinite(t) and t > 0):
                return f"{name}: sample_temperature = {t!r}"
    return None


def check_force_constants(model) -> str | None:
    c = model.crystal
    if not np.all(np.isfinite(c.masses)) or np.any(c.masses <= 0):
        return "masses not finite and positive"
    if not np.all(np.isfinite(model.short_blocks)):
        return "force constants not finite"
    d = model.dynamical_matrices(np.array([[0.1, 0.2, 0.3]]))
    if not np.all(np.isfinite(d)):
        return "dynamical matrix not finite"
    return None


def check_trajectory(traj) -> str | None:
    if traj.n_atoms < 1 or not np.all(np.isfinite(traj.cell)) or abs(np.linalg.det(traj.cell)) < 1e-9:
        return "bad cell or no atoms"
    if not (np.isfinite(traj.dt) and traj.dt > 0):
        return f"dt = {traj.dt}"
    n = 0
    for chunk in traj.chunks(4):
        if chunk.positions.shape[1:] != (traj.n_atoms, 3) or not np.all(np.isfinite(chunk.positions)):
            return "positions not finite or wrong shape"
        if chunk.velocities is not None and not np.all(np.isfinite(chunk.velocities)):
            return "velocities not finite"
        n += chunk.n_frames
    return None if n >= 1 else "no frames"


def check_crystal(crystal) -> str | None:
    a, b, c, al, be, ga = crystal.lattice.parameters
    if not all(np.isfinite([a, b, c, al, be, ga])) or min(a, b, c) <= 0 or \
            not all(0 < x < 180 for x in (al, be, ga)) or not crystal.lattice.volume > 0:
        return f"bad lattice {crystal.lattice.parameters}"
    sg = crystal.space_group
    if sg.number and not 1 <= sg.number <= 230:  # 0 or None: given by operations only
        return f"space group number {sg.number}"
    for s in crystal.sites:
        if not np.all(np.isfinite(s.frac)) or not 0 < s.occupancy <= 1:
            return f"site {s.label}: {s.frac}, occupancy {s.occupancy}"
    atoms = crystal.atoms
    if len(atoms) < 1:
        return "no atoms"
    return None


def check_magnetic(structure) -> str | None:
    problem = check_crystal(structure.crystal)
    if problem:
        return problem
    if not np.all(np.isfinite(structure.moment)) or not np.all(np.isfinite(structure.k)):
        return "moments or k not finite"
    return None


# --- mutators: each changes the file at ``path`` in place, drawing from ``rng`` ---------------------
def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def truncate(path, rng):
    data = _bytes(path)
    path.write_bytes(data[: int(rng.integers(0, max(1, len(data))))])


def empty(path, rng):
    path.write_bytes(b"")


def bitflips(path, rng, n=None, head=False):
    data = bytearray(_bytes(path))
    if not data:
        return
    n = n or int(rng.choice([1, 4, 32, 256]))
    span = min(len(data), 4096) if head else len(data)
    for pos in rng.integers(0, span, n):
        data[pos] ^= 1 << int(rng.integers(0, 8))
    path.write_bytes(bytes(data))


def header_bitflips(path, rng):
    bitflips(path, rng, head=True)


def garbage_header(path, rng):
    data = bytearray(_bytes(path))
    n = int(rng.integers(8, 512))
    data[:n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def insert_garbage(path, rng):
    data = _bytes(path)
    pos = int(rng.integers(0, len(data) + 1))
    junk = rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()
    path.write_bytes(data[:pos] + junk + data[pos:])


BYTE_MUTATORS = [truncate, truncate, empty, bitflips, bitflips, header_bitflips, garbage_header,
                 insert_garbage]


# HDF5 structure
def _h5_objects(fh, kind=None):
    out = []
    fh.visititems(lambda name, obj: out.append(name) if kind is None or isinstance(obj, kind) else None)
    return out


def _h5_pick(fh, rng, kind=h5py.Dataset):
    names = _h5_objects(fh, kind)
    return names[int(rng.integers(len(names)))] if names else None


def _h5_replace(fh, name, **kw):
    attrs = dict(fh[name].attrs)
    del fh[name]
    ds = fh.create_dataset(name, **kw)
    for k, v in attrs.items():
        ds.attrs[k] = v


def _h5_edit(edit):
    def mutator(path, rng):
        try:
            with h5py.File(path, "a") as fh:
                edit(fh, rng)
        except (OSError, KeyError, ValueError, TypeError, RuntimeError):
            pass
    mutator.__name__ = edit.__name__
    return mutator


@_h5_edit
def h5_delete(fh, rng):
    name = _h5_pick(fh, rng, None)
    if name:
        del fh[name]


@_h5_edit
def h5_zero_length(fh, rng):
    name = _h5_pick(fh, rng)
    if name:
        _h5_replace(fh, name, shape=(0,), dtype=fh[name].dtype if fh[name].dtype.kind in "fiub" else float)


@_h5_edit
def h5_scalar(fh, rng):
    name = _h5_pick(fh, rng)
    if name:
        _h5_replace(fh, name, data=float(rng.choice([0.0, -1.0, np.nan, 1e300])))


@_h5_edit
def h5_text(fh, rng):
    name = _h5_pick(fh, rng)
    if name:
        _h5_replace(fh, name, data=np.bytes_(rng.choice(["garbage", MARKUP, "x" * 100_000, "1,5"])))


def _numeric(fh, rng):
    names = [n for n in _h5_objects(fh, h5py.Dataset)
             if fh[n].dtype.kind in "fiu" and 0 < fh[n].size < 2_000_000]
    return names[int(rng.integers(len(names)))] if names else None


@_h5_edit
def h5_nonfinite(fh, rng):
    name = _numeric(fh, rng)
    if name:
        a = np.array(fh[name][()], dtype=float)
        flat = a.reshape(-1)
        k = int(rng.integers(1, max(2, flat.size // 10 + 1)))
        flat[rng.integers(0, flat.size, k)] = rng.choice([np.nan, np.inf, -np.inf, 1e308])
        _h5_replace(fh, name, data=a)


@_h5_edit
def h5_negative_or_zero(fh, rng):
    name = _numeric(fh, rng)
    if name:
        a = np.array(fh[name][()], dtype=float)
        flat = a.reshape(-1)
        idx = rng.integers(0, flat.size, int(rng.integers(1, 5)))
        flat[idx] = rng.choice([-5.0, 0.0, -1.0, -1e30])
        _h5_replace(fh, name, data=a)


@_h5_edit
def h5_shuffle(fh, rng):
    name = _numeric(fh, rng)
    if name:
        a = np.array(fh[name][()])
        if a.ndim:
            a = a[::-1] if rng.random() < 0.5 else rng.permutation(a)
            _h5_replace(fh, name, data=a)


@_h5_edit
def h5_huge(fh, rng):
    name = _h5_pick(fh, rng)
    if name:
        shape = [(10**9,), (10**12,), (10**6, 10**6), (10**8,)][int(rng.integers(4))]
        chunks = None if shape == (10**8,) else tuple(min(s, 1024) for s in shape)
        _h5_replace(fh, name, shape=shape, dtype=float, chunks=chunks)


@_h5_edit
def h5_reshape(fh, rng):
    name = _numeric(fh, rng)
    if name:
        a = np.array(fh[name][()])
        a = a.reshape(-1) if a.ndim > 1 else (a[None, None] if rng.random() < 0.5 else a[:-1])
        _h5_replace(fh, name, data=a)


@_h5_edit
def h5_attrs(fh, rng):
    names = [n for n in _h5_objects(fh) if len(fh[n].attrs)] + (["/"] if len(fh.attrs) else [])
    if not names:
        return
    obj = fh[names[int(rng.integers(len(names)))]]
    key = list(obj.attrs)[int(rng.integers(len(obj.attrs)))]
    choice = int(rng.integers(5))
    if choice == 0:
        del obj.attrs[key]
    else:
        obj.attrs[key] = [np.bytes_(rng.integers(1, 256, 40, dtype=np.uint8).tobytes()),
                          np.bytes_(MARKUP), np.bytes_("x" * 100_000), np.float64(np.nan)][choice - 1]


@_h5_edit
def h5_markup(fh, rng):
    for name in _h5_objects(fh, h5py.Dataset):
        if name.rsplit("/", 1)[-1].lower() in ("title", "workspace_name", "name", "definition"):
            _h5_replace(fh, name, data=np.bytes_(MARKUP + " " + "long " * int(rng.integers(1, 20000))))
    for obj in [fh] + [fh[n] for n in _h5_objects(fh)]:
        for key in list(obj.attrs):
            if key.lower() in ("titles", "title", "name"):
                obj.attrs[key] = np.bytes_(MARKUP)


HDF5_MUTATORS = BYTE_MUTATORS + [h5_delete, h5_delete, h5_zero_length, h5_scalar, h5_text,
                                 h5_nonfinite, h5_nonfinite, h5_negative_or_zero,
                                 h5_negative_or_zero, h5_shuffle, h5_huge, h5_huge, h5_reshape,
                                 h5_attrs, h5_markup]


# text
def _text_edit(edit):
    def mutator(path, rng):
        raw = path.read_bytes()
        lines = raw.decode("latin-1").split("\n")
        out = edit(lines, rng)
        if isinstance(out, bytes):
            path.write_bytes(out)
        else:
            path.write_bytes("\n".join(out).encode("latin-1", "replace"))
    mutator.__name__ = edit.__name__
    return mutator


def _numeric_lines(lines):
    out = []
    for i, ln in enumerate(lines):
        toks = ln.replace(",", " ").split()
        try:
            [float(t) for t in toks]
        except ValueError:
            continue
        if toks:
            out.append(i)
    return out or list(range(len(lines)))


@_text_edit
def t_delete_lines(lines, rng):
    i = int(rng.integers(len(lines)))
    del lines[i: i + int(rng.choice([1, 1, 3, 50]))]
    return lines


@_text_edit
def t_duplicate_line(lines, rng):
    i = int(rng.integers(len(lines)))
    lines.insert(i, lines[i])
    return lines


@_text_edit
def t_swap_lines(lines, rng):
    rows = _numeric_lines(lines)
    i, j = rng.choice(rows, 2)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


NASTY_TOKENS = ["nan", "NaN", "inf", "-inf", "-5", "0", "0.0", "1e308", "-1e30", "1,5", "abc",
                "", "1000000000", "1000000000000", "1e999", "0x10", "1_000", "--1"]


@_text_edit
def t_token(lines, rng):
    rows = _numeric_lines(lines)
    for _ in range(int(rng.choice([1, 1, 2, 10]))):
        i = int(rng.choice(rows))
        toks = lines[i].split()
        if toks:
            toks[int(rng.integers(len(toks)))] = str(rng.choice(NASTY_TOKENS))
            lines[i] = " ".join(toks)
    return lines


@_text_edit
def t_header_token(lines, rng):
    head = [i for i in range(min(len(lines), 12))]
    i = int(rng.choice(head))
    toks = lines[i].split()
    if toks:
        toks[int(rng.integers(len(toks)))] = str(rng.choice(NASTY_TOKENS))
        lines[i] = " ".join(toks)
    return lines


@_text_edit
def t_stray_text(lines, rng):
    rows = _numeric_lines(lines)
    lines.insert(int(rng.choice(rows)), str(rng.choice(["this is not a number", "1.0 2.O 0.1",
                                                         "END", MARKUP])))
    return lines


@_text_edit
def t_bom(lines, rng):
    text = "\n".join(lines)
    if rng.random() < 0.5:
        return b"\xef\xbb\xbf" + text.encode("latin-1", "replace")
    return text.encode("utf-16")


@_text_edit
def t_non_utf8(lines, rng):
    i = int(rng.integers(len(lines)))
    lines[i] = lines[i] + "\xe9\xff\xfe"
    return lines


@_text_edit
def t_nul(lines, rng):
    i = int(rng.integers(len(lines)))
    lines[i] = lines[i] + "\x00"
    return lines


@_text_edit
def t_decimal_commas(lines, rng):
    rows = _numeric_lines(lines)
    pick = rows if rng.random() < 0.5 else [int(rng.choice(rows))]
    for i in pick:
        lines[i] = lines[i].replace(".", ",")
    return lines


@_text_edit
def t_long_line(lines, rng):
    i = int(rng.integers(min(len(lines), 8)))
    lines[i] = MARKUP + " " + "title " * int(rng.choice([20_000, 170_000]))
    return lines


@_text_edit
def t_reverse_block(lines, rng):
    rows = _numeric_lines(lines)
    a = int(rng.integers(len(rows)))
    b = min(len(rows), a + int(rng.integers(2, 40)))
    idx = rows[a:b]
    vals = [lines[i] for i in idx][::-1]
    for i, v in zip(idx, vals, strict=True):
        lines[i] = v
    return lines


@_text_edit
def t_crlf(lines, rng):
    return "\r\n".join(lines).encode("latin-1", "replace")


TEXT_MUTATORS = BYTE_MUTATORS + [t_delete_lines, t_delete_lines, t_duplicate_line, t_swap_lines,
                                 t_token, t_token, t_token, t_header_token, t_header_token,
                                 t_stray_text, t_bom, t_non_utf8, t_nul, t_decimal_commas,
                                 t_long_line, t_reverse_block, t_crlf]


# YAML (structure-level)
def _yaml_edit(values):
    def mutator(path, rng):
        import yaml

        try:
            data = yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            return
        nodes = []

        def walk(obj, depth):
            if depth > 5:
                return
            if isinstance(obj, dict):
                for k in obj:
                    nodes.append((obj, k))
                    walk(obj[k], depth + 1)
            elif isinstance(obj, list):
                for k in range(min(len(obj), 20)):
                    nodes.append((obj, k))
                    walk(obj[k], depth + 1)

        walk(data, 0)
        if not nodes:
            return
        parent, key = nodes[int(rng.integers(len(nodes)))]
        parent[key] = values[int(rng.integers(len(values)))]
        path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper))
    mutator.__name__ = "y_replace"
    return mutator


YAML_VALUES = ["abc", None, [], {}, float("nan"), float("inf"), -1.0, 0, 10**9,
               [[1000, 0, 0], [0, 1000, 0], [0, 0, 1000]], [[2.5, 0, 0], [0, 2, 0], [0, 0, 2]],
               [1.0, 2.0], [[1, 2, 3], [4, 5]], [[float("nan")] * 3] * 3, MARKUP, "x" * 100_000,
               [[0, 0, 0], [0, 0, 0], [0, 0, 0]], {"a": 1}]


def y_alias_bomb(path, rng):
    bomb = ['lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, 9):
        bomb.append(f"lol{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]")
    text = path.read_text(encoding="latin-1")
    path.write_text("\n".join(bomb) + "\n" + text, encoding="latin-1")


def y_alias_in_value(path, rng):
    text = path.read_text(encoding="latin-1").split("\n")
    for i, ln in enumerate(text):
        if ":" in ln and not ln.startswith(" ") and not ln.startswith("#"):
            key = ln.split(":", 1)[0]
            text[i] = f"{key}: &self [*self]" if rng.random() < 0.5 else f"{key}: *undefined"
            break
    path.write_text("\n".join(text), encoding="latin-1")


YAML_MUTATORS = TEXT_MUTATORS + [_yaml_edit(YAML_VALUES)] * 8 + [y_alias_bomb, y_alias_in_value]


# --- targets ------------------------------------------------------------------------------------
@dataclass
class Target:
    """A reader under test: seed files, how to read one, mutators, CI case count."""

    name: str
    seeds: list[Path]
    read: Callable[[Path], str | None]
    mutators: list
    n_ci: int
    suffix_of: Callable[[Path], str] = field(default=lambda p: p.suffix)


def _load_check(**kwargs):
    def read(path: Path) -> str | None:
        from latdyn.data.io import load

        return check_loaded(load(path, **kwargs))
    return read


def _reader_check(reader_name: str, **kwargs):
    def read(path: Path) -> str | None:
        import latdyn.data.io as io

        return check_loaded(getattr(io, reader_name)(path, **kwargs))
    return read


def _either(*reads):
    """Alternate readers by the file name's hash (same choice for a case every run)."""
    def read(path: Path) -> str | None:
        return reads[sum(path.name.encode()) % len(reads)](path)
    return read


def _info_cli(path: Path) -> str | None:
    """``latdyn info FILE``: one-line error (exit 2) or a table; never a traceback."""
    import contextlib
    import io as _io

    from latdyn.cli.main import main

    out, err = _io.StringIO(), _io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["info", str(path)])
    if code == 2:
        lines = err.getvalue().strip().splitlines()
        if len(lines) != 1 or str(path) not in lines[0]:
            return f"exit 2 without a one-line error naming the file: {err.getvalue()[:300]!r}"
        return None
    if code != 0:
        return f"exit {code}: {err.getvalue()[:300]!r}"
    return None


def _make_seeds(root: Path, shared: Path) -> dict[str, list[Path]]:
    from latdyn.data import make_sqe
    from latdyn.data.io import Results, Table, write_mantid_nexus, write_nxspe, write_results_h5
    from latdyn.md.trajectory import write_h5md

    root.mkdir(parents=True, exist_ok=True)
    qens = shared / "qens"
    rng = np.random.default_rng(5)
    q = np.linspace(0.3, 1.5, 4)
    e = np.linspace(-0.5, 0.5, 41)
    da = make_sqe(q, e, 1.0 + rng.random((4, 40)), 0.1 + 0.01 * rng.random((4, 40)))
    import scipp as sc

    da.masks["masked_bins"] = sc.array(dims=["Q", "E"], values=rng.random((4, 40)) < 0.05)
    mantid = write_mantid_nexus(root / "small.nxs", {"sample": da, "other": da.copy()},
                                metadata={"sample": {"title": "water", "instrument": "IRIS",
                                                     "sample_temperature": 300.0}})
    spec = sc.DataArray(
        sc.array(dims=["spectrum", "E"], values=1 + rng.random((12, 30)),
                 variances=0.01 + 0.01 * rng.random((12, 30))),
        coords={"E": sc.array(dims=["E"], values=np.linspace(-5, 15, 31), unit="meV"),
                "spectrum": sc.array(dims=["spectrum"], values=np.arange(12.0)),
                "two_theta": sc.array(dims=["spectrum"], values=np.linspace(5, 120, 12), unit="deg")})
    nxspe = write_nxspe(root / "small.nxspe", spec, 25.0, psi=3.0, instrument="MARI")
    res = Results(data={"sqe": da, "spec": spec.copy()},
                  tables={"fit": Table({"name": np.array(["a", "b"]), "value": np.array([1.0, 2.0])},
                                       {"value": "meV"}, np.eye(2), ["a", "b"])},
                  model={"lines": ["L"]}, metadata={"title": "t"})
    results = write_results_h5(root / "results.h5", res, command="fuzz seed")
    inx_lines = []
    for k, qq in enumerate([0.4, 0.8, 1.2]):
        inx_lines += ["   23    1    2    0    0    0    0   20", "synthetic INX",
                      f"  {qq:.4f}  3.2700  1.2500  293.0  1.0 0", "   0.0000  4.0000  0.0000"]
        inx_lines += [f"  {x:10.5f}  {1 + np.exp(-x * x):.5e}  {0.05 + 0.01 * k:.4e}"
                      for x in np.linspace(-1, 1, 20)]
    inx = root / "small.inx"
    inx.write_text("\n".join(inx_lines) + "\n")
    blocks = root / "blocks.dat"
    blocks.write_text("# synthetic Q blocks\n" + "".join(
        f"# Q = {qq}\n# E(meV) I err\n" + "".join(f"{x:.4f} {2 + np.cos(x + qq):.5f} 0.05\n"
                                                 for x in np.linspace(-1, 1, 25))
        for qq in (0.5, 0.9, 1.3)))
    n_atoms, n_frames = 4, 6
    pos = rng.random((n_frames, n_atoms, 3)) * 5.0
    xyz = root / "traj.extxyz"
    with open(xyz, "w") as fh:
        for f in range(n_frames):
            fh.write(f"{n_atoms}\nLattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3:"
                     f"vel:R:3 Time={f * 10.0} pbc=\"T T T\"\n")
            for a in range(n_atoms):
                fh.write(f"{'Li' if a % 2 else 'O'} " + " ".join(f"{v:.6f}" for v in pos[f, a])
                         + " 0.001 -0.002 0.003\n")
    h5md = write_h5md(root / "traj.h5", pos, np.eye(3) * 5.0, ["Li", "O", "Li", "O"], 0.01,
                      velocities=np.zeros_like(pos))
    return {
        "mantid_nexus": [mantid, mantid, qens / "in16b_lysozyme" / "vana_QENS_280K.nxs"],
        "nxspe": [nxspe],
        "lamp_hdf": [qens / "in5_water" / "H2O_293K_5A.hdf"],
        "inx": [inx, qens / "toftof_bzi" / "Vana_2p5_cool__tt_cr.txt"],
        "dave_grp": [qens / "dave" / "dave_file.grp"],
        "ascii_columns": [qens / "iris_graphite" / "irf_iris.dat", blocks],
        "results_h5": [results],
        "extxyz": [xyz],
        "h5md": [h5md],
        "cif": [DIFFRACTION_DATA / "NaCl.cif", DIFFRACTION_DATA / "Al2O3_corundum_aniso.cif",
                EXAMPLES / "mncoge" / "MnCoGe_orthorhombic.cif"],
        "mcif": [DIFFRACTION_DATA / "mcif" / "magnetic.example.NiO.mcif",
                 DIFFRACTION_DATA / "mcif" / "magnetic.incommensurate.example.Cr.mcif"],
        "magnetic_yaml": [EXAMPLES / "mncoge" / "MnCoGe_orthorhombic_FM.yaml"],
    }


def _results_read(path: Path) -> str | None:
    """The full results reader: DataArrays, tables and provenance."""
    import scipp as sc

    from latdyn.data.io import Table, read_results_h5

    res = read_results_h5(path)
    for name, da in res.data.items():
        if not isinstance(da, sc.DataArray) or any(m.dtype != sc.DType.bool
                                                   for m in da.masks.values()):
            return f"data {name}: not a DataArray with boolean masks"
    if not all(isinstance(t, Table) for t in res.tables.values()):
        return "a table is not a Table"
    return None


def _traj_read(path: Path) -> str | None:
    from latdyn.md.trajectory import open_trajectory

    fmt = "h5md" if path.suffix in (".h5", ".h5md", ".hdf5") else "extxyz"
    return check_trajectory(open_trajectory(path, dt=0.01, fmt=fmt))


def _cif_read(path: Path) -> str | None:
    from latdyn.structure.cif import read_cif

    return check_crystal(read_cif(path))


def _mcif_read(path: Path) -> str | None:
    from latdyn.structure.mcif import read_mcif

    return check_magnetic(read_mcif(path, ions={"Ni": "Ni2+", "Cr1": "Cr3+", "Cr": "Cr3+"}))


def _magnetic_yaml_read(path: Path) -> str | None:
    from latdyn.structure.magnetic_file import read_magnetic_structure

    return check_magnetic(read_magnetic_structure(path))


def targets(seeds: dict[str, list[Path]]) -> dict[str, Target]:
    toftof = _either(_load_check(bad_errors="mask"), _reader_check("read_inx", bad_errors="mask"))
    return {t.name: t for t in [
        Target("mantid_nexus", seeds["mantid_nexus"],
               _either(_load_check(), _reader_check("read_mantid_nexus"), _info_cli),
               HDF5_MUTATORS, 110),
        Target("nxspe", seeds["nxspe"],
               _either(_load_check(), _reader_check("read_nxspe"),
                       _reader_check("nxspe_to_powder", q_bins=0.2)), HDF5_MUTATORS, 60),
        Target("lamp_hdf", seeds["lamp_hdf"], _either(_load_check(), _reader_check("read_lamp_hdf"),
                                                      _info_cli), HDF5_MUTATORS, 70),
        Target("inx", seeds["inx"], _either(toftof, _info_cli), TEXT_MUTATORS, 80),
        Target("dave_grp", seeds["dave_grp"], _either(_load_check(), _reader_check("read_dave_grp")),
               TEXT_MUTATORS, 45),
        Target("ascii_columns", seeds["ascii_columns"],
               _either(_load_check(), _reader_check("read_ascii_columns")), TEXT_MUTATORS, 60),
        Target("results_h5", seeds["results_h5"],
               _either(_load_check(), _results_read), HDF5_MUTATORS, 60),
        Target("extxyz", seeds["extxyz"], _traj_read, TEXT_MUTATORS, 50),
        Target("h5md", seeds["h5md"], _traj_read, HDF5_MUTATORS, 50),
        Target("cif", seeds["cif"], _cif_read, TEXT_MUTATORS, 55),
        Target("mcif", seeds["mcif"], _mcif_read, TEXT_MUTATORS, 40),
        Target("magnetic_yaml", seeds["magnetic_yaml"], _magnetic_yaml_read, YAML_MUTATORS, 25),
    ]}


# phonopy: four files read together; a case corrupts one of them
PHONOPY_ROLES = {"yaml": "phonopy_nacl.yaml", "fc_text": "FORCE_CONSTANTS_nacl",
                 "fc_hdf5": "force_constants.hdf5", "born": "BORN_nacl"}


def _phonopy_case(folder: Path, role: str) -> Callable[[], str | None]:
    def read() -> str | None:
        from latdyn.phonons.phonopy_io import load_phonopy

        fc = folder / (PHONOPY_ROLES["fc_hdf5"] if role == "fc_hdf5" else PHONOPY_ROLES["fc_text"])
        return check_force_constants(load_phonopy(folder / PHONOPY_ROLES["yaml"], force_constants=fc,
                                                  born=folder / PHONOPY_ROLES["born"]))
    return read


# --- the cases -----------------------------------------------------------------------------------
def _count(target_ci: int) -> int:
    return int(CASES) if CASES else target_ci


def _special_cases(case_dir: Path, seed: Path, other: Path) -> list[tuple[str, Path]]:
    """FIFO, folder, symbolic-link loop, broken link, empty file, another format's file."""
    out = []
    fifo = case_dir / f"fifo{seed.suffix}"
    os.mkfifo(fifo)
    out.append(("fifo", fifo))
    folder = case_dir / f"folder{seed.suffix}"
    folder.mkdir()
    out.append(("folder", folder))
    loop = case_dir / f"loop{seed.suffix}"
    loop.symlink_to(loop.name)
    out.append(("symlink_loop", loop))
    broken = case_dir / f"broken{seed.suffix}"
    broken.symlink_to("does-not-exist")
    out.append(("broken_link", broken))
    blank = case_dir / f"empty{seed.suffix}"
    blank.write_bytes(b"")
    out.append(("empty", blank))
    wrong = case_dir / f"wrong{seed.suffix}"
    shutil.copy(other, wrong)
    out.append(("wrong_format", wrong))
    return out


def _record(failures: list, case: str, path: Path, kind: str, detail: str) -> None:
    if kind in ("ok", "error"):
        return
    failures.append(f"{case} [{path}]: {kind}: {detail[:1500]}")
    save = os.environ.get("LATDYN_FUZZ_SAVE")
    if save and path.is_file() and not path.is_symlink():
        dest = Path(save) / case.split(":")[0]
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest / f"{case.replace(':', '_').replace('/', '_')}{path.suffix}")
        (dest / f"{case.replace(':', '_').replace('/', '_')}.txt").write_text(f"{kind}\n{detail}\n")


@pytest.fixture(scope="module")
def fuzz_seeds(tmp_path_factory, shared_data):
    return _make_seeds(tmp_path_factory.mktemp("fuzz_seeds"), shared_data)


@pytest.fixture(scope="module")
def warm(fuzz_seeds, shared_data):
    """Read every seed once in the parent, so that the forked children start with warm caches
    (imports, symmetry tables): the cases then cost what the reading costs."""
    import latdyn.cli.main as m
    from latdyn.phonons.phonopy_io import load_phonopy

    m.build_parser()
    for name, target in targets(fuzz_seeds).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for seed in target.seeds:
                assert target.read(seed) is None, (name, seed)
    nacl = shared_data / "phonopy" / "NaCl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_phonopy(nacl / PHONOPY_ROLES["yaml"], force_constants=nacl / PHONOPY_ROLES["fc_text"],
                     born=nacl / PHONOPY_ROLES["born"])
    return fuzz_seeds


READERS = ["mantid_nexus", "nxspe", "lamp_hdf", "inx", "dave_grp", "ascii_columns", "results_h5",
           "extxyz", "h5md", "cif", "mcif", "magnetic_yaml"]


@pytest.mark.parametrize("name", READERS)
def test_fuzz_reader(name, warm, tmp_path):
    fuzz_seeds = warm
    target = targets(fuzz_seeds)[name]
    rng = np.random.default_rng([SEED, READERS.index(name)])
    failures: list[str] = []
    n = _count(target.n_ci)
    others = [s for k, v in fuzz_seeds.items() if k != name for s in v]
    for k in range(n):
        seed = target.seeds[k % len(target.seeds)]
        mutate = target.mutators[int(rng.integers(len(target.mutators)))]
        case_rng = np.random.default_rng([SEED, READERS.index(name), k])
        path = tmp_path / f"c{k}_{mutate.__name__}{seed.suffix}"
        shutil.copy(seed, path)
        if name == "magnetic_yaml":
            for extra in seed.parent.glob("*.cif"):
                shutil.copy(extra, tmp_path / extra.name)
        mutate(path, case_rng)
        kind, detail = run_isolated(lambda p=path: target.read(p), [str(path)])
        _record(failures, f"{name}:{k}:{mutate.__name__}:{seed.name}", path, kind, detail)
    special = tmp_path / "special"
    special.mkdir()
    for label, path in _special_cases(special, target.seeds[0], others[int(rng.integers(len(others)))]):
        kind, detail = run_isolated(lambda p=path: target.read(p), [str(path)], budget=10)
        _record(failures, f"{name}:special:{label}", path, kind, detail)
    corpus = CORPUS / name
    for path in sorted(corpus.glob("*")) if corpus.is_dir() else []:
        if path.name == "README.md":
            continue
        copy = tmp_path / f"corpus_{path.name}"
        shutil.copy(path, copy)
        if name == "magnetic_yaml":
            for extra in target.seeds[0].parent.glob("*.cif"):
                shutil.copy(extra, tmp_path / extra.name)
        kind, detail = run_isolated(lambda p=copy: target.read(p), [str(copy)])
        _record(failures, f"{name}:corpus:{path.name}", copy, kind, detail)
    assert not failures, f"{len(failures)} failing case(s):\n" + "\n".join(failures[:40])


def test_fuzz_phonopy(shared_data, warm, tmp_path):
    """phonopy yaml, FORCE_CONSTANTS, force_constants.hdf5 and BORN, one corrupted per case."""
    nacl = shared_data / "phonopy" / "NaCl"
    rng = np.random.default_rng([SEED, 100])
    mutators = {"yaml": YAML_MUTATORS, "fc_text": TEXT_MUTATORS, "fc_hdf5": HDF5_MUTATORS,
                "born": TEXT_MUTATORS}
    roles = list(PHONOPY_ROLES)
    failures: list[str] = []
    cases = []
    for k in range(_count(36)):
        role = roles[k % len(roles)]
        mutate = mutators[role][int(rng.integers(len(mutators[role])))]
        cases.append((f"{k}_{role}_{mutate.__name__}", role, mutate, None))
    corpus = CORPUS / "phonopy"
    for path in sorted(corpus.glob("*")) if corpus.is_dir() else []:
        role = path.name.split("__", 1)[0]
        cases.append((f"corpus_{path.name}", role, None, path))
    for k, (label, role, mutate, replacement) in enumerate(cases):
        folder = tmp_path / label
        folder.mkdir()
        for fname in PHONOPY_ROLES.values():
            shutil.copy(nacl / fname, folder / fname)
        target = folder / PHONOPY_ROLES[role]
        if replacement is not None:
            shutil.copy(replacement, target)
        else:
            mutate(target, np.random.default_rng([SEED, 100, k]))
        names = [str(folder / f) for f in PHONOPY_ROLES.values()]
        kind, detail = run_isolated(_phonopy_case(folder, role), names)
        _record(failures, f"phonopy:{label}", target, kind, detail)
    special = tmp_path / "special"
    special.mkdir()
    for label, path in _special_cases(special, nacl / PHONOPY_ROLES["yaml"],
                                      shared_data / "qens" / "dave" / "dave_file.grp"):
        def read(p=path):
            from latdyn.phonons.phonopy_io import load_phonopy

            return check_force_constants(load_phonopy(p))
        kind, detail = run_isolated(read, [str(path)], budget=10)
        _record(failures, f"phonopy:special:{label}", path, kind, detail)
    assert not failures, f"{len(failures)} failing case(s):\n" + "\n".join(failures[:40])
