"""File utilities shared by every writer: atomic writes, whole result folders, file hashes.

* :func:`atomic_path` / :func:`write_text_atomic` / :func:`write_bytes_atomic`: a file is
  written to a temporary name in the target folder and renamed into place, so a failure
  (exception, interrupt, full disk) never leaves a partly written output.  The file gets the
  mode an ordinary ``open()`` would give it (0666 minus the umask), not ``mkstemp``'s 0600.
* :func:`result_folder`: a whole output folder is built beside its target and replaces the
  previous results in one step, so a folder always holds the files of exactly one run; a
  second run into the same folder while one is writing fails at once with a clear message.
* :func:`hdf5_writer`: an HDF5 file built in memory (h5py's ``core`` driver without a backing
  store) and written with Python I/O through :func:`atomic_path`, so a full disk or a file-size
  limit is an :class:`OutputError`, never a crash inside the HDF5 library.
* :func:`file_sha256`: the digest recorded in reports and results files (provenance).

Reading hostile input safely (used by every reader):

* :func:`input_file`: a path that is a regular file (a FIFO, device, folder or symbolic-link
  loop is refused before anything opens it, so nothing blocks or is misreported).
* :func:`read_budget` / :func:`check_read_size`: the memory budget of one read (bytes), checked
  against what a file declares before the read.
* :func:`decode_text` / :func:`read_text_file`: text decoded as UTF-8 with a byte-order mark
  removed (UTF-8, UTF-16 and UTF-32 marks understood), falling back to Latin-1 (ISO 8859-1)
  when the bytes are not UTF-8; NUL bytes mean "not a text file".
* :func:`load_yaml`: YAML through the safe loader (no code, no Python objects) that refuses
  more than a few aliases (the "billion laughs" expansion) and recursive structures.

A write that fails for lack of space or a file-size limit raises :class:`OutputError` naming
the file (one line at the command line), never an ``OSError`` traceback.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import os
import shutil
import signal
import stat
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import FormatError, InputError, OutputError

__all__ = ["atomic_path", "write_text_atomic", "write_bytes_atomic", "result_folder",
           "check_output_folder", "check_output_file", "file_sha256", "default_file_mode",
           "hdf5_writer", "input_file", "read_budget", "check_read_size", "decode_text",
           "read_text_file", "load_yaml", "deferred_signals", "is_hdf5", "names_input_file",
           "RESULT_MARKER"]

#: the file that marks a folder written by :func:`result_folder` (so it may be replaced)
RESULT_MARKER = ".latdyn-result"

_SPACE_ERRORS = {errno.ENOSPC: "no space left on device", errno.EFBIG: "file too large",
                 errno.EDQUOT: "disk quota exceeded"}

#: the signals a command turns into an orderly exit (KeyboardInterrupt, or the CLI's SIGTERM)
_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """0666 minus the process umask: the mode ``open()`` gives a new file."""
    return 0o666 & ~_umask()


def _as_output_error(exc: OSError, path: Path) -> OutputError:
    reason = _SPACE_ERRORS.get(exc.errno, exc.strerror or str(exc))
    return OutputError(f"{reason} writing '{path}'", file=path)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs (a commit, a clean-up), then deliver
    them: a Ctrl-C never cuts a rename pair or a temp-folder removal in half.  Outside the
    main thread signals cannot be handled and the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    old = {}
    for s in _EXIT_SIGNALS:
        current = signal.getsignal(s)
        if current is not None and current != signal.SIG_IGN:  # None: set outside Python
            old[s] = signal.signal(s, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if pending:
            handler = old[pending[0]]
            if callable(handler):
                handler(pending[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), pending[0])


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    Usage::

        with atomic_path("out.h5") as tmp:
            write_everything(tmp)

    The temporary file is removed on every exit path (exception, Ctrl-C, SIGTERM through the
    CLI's handler); a full disk, a file-size limit or a permission problem is an OutputError
    naming ``path``.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError("the output path is a folder, not a file", file=target)
    with deferred_signals():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                            dir=target.parent)
            os.close(fd)
        except FileExistsError as exc:
            raise OutputError("a parent of the output path is a file", file=target) from exc
        except NotADirectoryError as exc:
            raise OutputError("a parent of the output path is a file", file=target) from exc
        except OSError as exc:
            raise _as_output_error(exc, target) from exc
    tmp = Path(tmp_name)
    done = False
    try:
        yield tmp
        with deferred_signals():
            os.chmod(tmp, default_file_mode())
            os.replace(tmp, target)
            done = True
    except OSError as exc:
        if exc.errno in _SPACE_ERRORS or isinstance(exc, PermissionError):
            raise _as_output_error(exc, target) from exc
        raise
    finally:
        if not done:
            with deferred_signals(), contextlib.suppress(OSError):
                tmp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextlib.contextmanager
def hdf5_writer(path: str | os.PathLike) -> Iterator[Any]:
    """An ``h5py.File`` open for writing that lives in memory; on a clean exit its bytes are
    written to ``path`` atomically with Python I/O.

    HDF5 crashes the interpreter when the disk fills or a file-size limit is hit during its
    own writes; here the library never touches the disk, so those failures are ordinary
    OSErrors, reported as an OutputError naming ``path`` ("no space left on device writing
    ...").  Memory: the file is held twice at the end (the image and its bytes)."""
    import h5py

    target = Path(path)
    if target.is_dir():
        raise OutputError("the output path is a folder, not a file", file=target)
    fh = h5py.File(f"latdyn-{uuid.uuid4().hex}.h5", "w", driver="core", backing_store=False)
    try:
        yield fh
        fh.flush()
        image = fh.id.get_file_image()
    finally:
        fh.close()
    write_bytes_atomic(target, image)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- reading hostile input -----------------------------------------------------------------------
def input_file(path: str | os.PathLike) -> Path:
    """``path`` after checking that it is a regular file that can be opened without blocking.

    FileNotFoundError when it does not exist (the CLI prints it on one line); InputError for a
    folder, a symbolic-link loop, a broken link, a FIFO, socket or device (opening a FIFO
    without a writer would wait for ever) or a file that cannot be read.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if p.is_symlink():
            raise InputError("broken symbolic link (its target does not exist)", file=p) from None
        raise FileNotFoundError(errno.ENOENT, "No such file", str(p)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("symbolic link loop", file=p) from None
        raise InputError(f"cannot access the file ({exc.strerror or exc})", file=p) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("this is a folder, not a file", file=p)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "a device")
        raise InputError(f"not a regular file but {kind}; latdyn reads regular files only", file=p)
    if not os.access(p, os.R_OK):
        raise InputError("the file cannot be read (permission denied)", file=p)
    return p


def names_input_file(reader):
    """Decorator for a reader whose first argument is the input file: a LatdynError raised
    without a file (e.g. by a unit conversion deep inside: 'energy must be positive') is
    raised again naming that file, so every error of a reader says which file is at fault."""
    import functools

    from .errors import LatdynError

    @functools.wraps(reader)
    def wrapper(path, *args, **kwargs):
        try:
            return reader(path, *args, **kwargs)
        except LatdynError as exc:
            if exc.file is not None:
                raise
            raise type(exc)(str(exc), file=path) from exc

    return wrapper


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_hdf5(path: str | os.PathLike) -> bool:
    """True when the file starts with the HDF5 signature (at byte 0 or after a user block of
    512 * 2**n bytes)."""
    p = Path(path)
    with open(p, "rb") as fh:
        if fh.read(8) == _HDF5_SIGNATURE:
            return True
        offset, size = 512, p.stat().st_size
        while offset + 8 <= size and offset <= 1 << 20:
            fh.seek(offset)
            if fh.read(8) == _HDF5_SIGNATURE:
                return True
            offset *= 2
    return False


def read_budget() -> int:
    """Largest number of bytes one read may allocate: ``LATDYN_MAX_READ_BYTES`` when set, else
    a quarter of the physical memory, at most 4 GiB.  Readers compare what a file declares
    (array shapes, atom counts, supercell sizes) with it before reading."""
    env = os.environ.get("LATDYN_MAX_READ_BYTES")
    if env:
        try:
            value = int(float(env))
        except ValueError:
            raise InputError("LATDYN_MAX_READ_BYTES must be a number of bytes",
                             field="LATDYN_MAX_READ_BYTES", value=env) from None
        if value > 0:
            return value
    try:
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - non-POSIX
        ram = 16 << 30
    return int(min(4 << 30, ram // 4))


def _human(nbytes: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if abs(nbytes) < 1000 or unit == "PB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1000
    return f"{nbytes:.3g} PB"  # pragma: no cover


def check_read_size(nbytes: float, *, file: Any, field: str | None = None,
                    what: str = "the data") -> None:
    """FormatError naming ``file`` and ``field`` when reading ``nbytes`` would pass the memory
    budget (:func:`read_budget`)."""
    budget = read_budget()
    if not nbytes <= budget:
        raise FormatError(f"{what} would need {_human(float(nbytes))} of memory, more than the "
                          f"read budget of {_human(budget)} (a damaged size field?  set "
                          "LATDYN_MAX_READ_BYTES to allow more)", file=file, field=field)


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode_text(raw: bytes, *, file: Any = None) -> tuple[str, str]:
    """(text, encoding) of ``raw``: a byte-order mark selects UTF-8/16/32 and is removed;
    otherwise UTF-8, falling back to Latin-1 (ISO 8859-1, which maps every byte to one
    character) when the bytes are not valid UTF-8.  FormatError for NUL bytes or bytes that
    contradict their byte-order mark."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise FormatError(f"not valid {encoding} although the file starts with its "
                                  "byte-order mark", file=file, field=f"byte {exc.start}") from None
            break
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"
    nul = text.find("\x00")
    if nul >= 0:
        raise FormatError("not a text file (NUL byte)", file=file, field=f"character {nul}")
    return text, encoding


def read_text_file(path: str | os.PathLike, *, max_bytes: int | None = None) -> tuple[str, str]:
    """(text, encoding) of a text file (:func:`decode_text`), after :func:`input_file` and a
    size check against ``max_bytes`` (default: an eighth of the read budget, since a text
    file's numbers take several times its size once parsed)."""
    p = input_file(path)
    limit = read_budget() // 8 if max_bytes is None else max_bytes
    size = p.stat().st_size
    if size > limit:
        raise FormatError(f"text file of {_human(size)} is larger than the limit of "
                          f"{_human(limit)} for text input (set LATDYN_MAX_READ_BYTES)", file=p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=p) from None
    return decode_text(raw, file=p)


#: aliases a YAML document may use (latdyn's inputs use none; a few are harmless)
MAX_YAML_ALIASES = 16


def _yaml_loader(max_aliases: int):
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[misc, valid-type]
        """The safe loader, counting aliases: each reuse of an already built node is one."""

        aliases = 0

        def construct_object(self, node, deep=False):
            if node in self.constructed_objects or node in self.recursive_objects:
                self.aliases += 1
                if self.aliases > max_aliases:
                    raise yaml.YAMLError(f"more than {max_aliases} aliases (an alias bomb?)")
            return super().construct_object(node, deep)

    return _Loader


def _has_cycle(obj: Any) -> bool:
    """True when a structure of dicts and lists contains itself."""
    on_path: set[int] = set()
    done: set[int] = set()
    stack: list[tuple[Any, bool]] = [(obj, False)]
    while stack:
        item, leaving = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        key = id(item)
        if leaving:
            on_path.discard(key)
            done.add(key)
            continue
        if key in on_path:
            return True
        if key in done:
            continue
        on_path.add(key)
        stack.append((item, True))
        stack.extend((child, False) for child in (item.values() if isinstance(item, dict) else item))
    return False


def load_yaml(source: str | os.PathLike, *, text: str | None = None, file: Any = None,
              max_aliases: int = MAX_YAML_ALIASES) -> Any:
    """Parse YAML safely: the file ``source`` (or ``text`` when given, ``file`` naming it in
    messages).  Safe loader (plain data only), text decoded by :func:`read_text_file`, at most
    ``max_aliases`` aliases and no recursive structure; FormatError naming the file otherwise,
    with the parser's message on one line."""
    import yaml

    if text is None:
        file = source if file is None else file
        text, _ = read_text_file(source)
    loader = _yaml_loader(max_aliases)(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        message = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise FormatError(f"not valid YAML: {message}", file=file, field=where) from None
    except RecursionError:
        raise FormatError("not valid YAML: nested too deeply", file=file) from None
    finally:
        loader.dispose()
    if loader.aliases and _has_cycle(data):
        raise FormatError("YAML refers to itself (a recursive alias)", file=file)
    return data


def check_output_folder(out: str | os.PathLike) -> Path:
    """The folder ``out`` resolved, after checking that results can be written there.

    Called before any computation, so a bad ``--out`` is reported at once: OutputError when
    ``out`` (or a parent) is an existing file, or when the folder that would hold it cannot be
    written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError("the output folder is an existing file", file=out)
    if out.is_dir() and any(out.iterdir()) and not (out / RESULT_MARKER).is_file():
        raise OutputError("the output folder holds files that latdyn did not write; choose a new or "
                          "empty folder (a folder of an earlier latdyn result is replaced)", file=out)
    cwd = Path.cwd().resolve()
    if out.exists() and (out.resolve() == cwd or out.resolve() in cwd.parents):
        raise OutputError("the output folder is the working folder or one above it", file=out)
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError("a parent of the output folder is a file", file=parent)
    probe = out if out.is_dir() else parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError("the output folder cannot be written (permission denied)", file=probe)
    if out.is_dir() and not os.access(out.absolute().parent, os.W_OK | os.X_OK):
        raise OutputError("the folder holding the output folder cannot be written (permission "
                          "denied); results replace the output folder as a whole",
                          file=out.absolute().parent)
    return out


def check_output_file(path: str | os.PathLike) -> Path:
    """``path`` after checking, before any computation, that a file can be written there: not
    an existing folder, no parent that is a file, a writable folder to hold it."""
    path = Path(path)
    if path.is_dir():
        raise OutputError("the output path is a folder, not a file", file=path)
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError("a parent of the output path is a file", file=folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("the folder that would hold the output file cannot be written "
                          "(permission denied)", file=folder)
    return path


def _lock(lock_path: Path, out: Path) -> int:
    """An exclusive lock on ``lock_path`` (fd); OutputError at once when another run holds it.
    The lock file is removed by its holder, so after locking check that the path still names
    the locked file (else another run removed it meanwhile: lock the new one)."""
    import fcntl

    for _ in range(20):
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise _as_output_error(exc, out) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise OutputError("another latdyn run is writing this output folder; wait for it or "
                              "choose another --out", file=out) from exc
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock_path))
        except OSError:
            same = False
        if same:
            return fd
        os.close(fd)
    raise OutputError("could not lock the output folder (lock file keeps changing)", file=out)


def _recover(out: Path, parent: Path) -> None:
    """Under the lock: put back a previous result folder a killed run left moved aside, and
    remove temporary folders of killed runs (``.<name>.*.partial`` / ``.old``)."""
    for old in sorted(parent.glob(f".{out.name}.*.old")):
        inside = old / out.name
        if not out.exists() and inside.is_dir():
            os.replace(inside, out)
        shutil.rmtree(old, ignore_errors=True)
    for tmp in parent.glob(f".{out.name}.*.partial"):
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def result_folder(out: str | os.PathLike) -> Iterator[Path]:
    """Build a result folder whole: yield an empty temporary folder beside ``out``; on success
    it replaces ``out`` (and every file of an earlier run there) in one step.

    On an exception or interrupt (Ctrl-C, or SIGTERM through the CLI's handler) the temporary
    folder is removed and ``out`` keeps the previous results untouched; the commit (two
    renames) and the clean-up run with those signals held back.  A lock file beside ``out``
    makes a concurrent run into the same folder fail at once (OutputError) instead of mixing
    files of two runs.  Leftovers of a killed run (SIGKILL) are cleaned up by the next run.
    Only an empty folder or an earlier result folder (marked by :data:`RESULT_MARKER`) is
    replaced; a folder holding other files is refused before anything is written.  Writers
    inside may use :func:`atomic_path` as usual.
    """
    out = check_output_folder(out)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _as_output_error(exc, out) from exc
    lock_path = parent / f".{out.name}.lock"
    with deferred_signals():
        lock_fd = _lock(lock_path, out)
        try:
            _recover(out, parent)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
            os.chmod(tmp, 0o777 & ~_umask())
        except BaseException:
            _unlock(lock_fd, lock_path)
            raise
    committed = False
    try:
        yield tmp
        (tmp / RESULT_MARKER).write_text("written by latdyn: this folder is replaced whole by the "
                                         "next run into it\n", encoding="utf-8")
        with deferred_signals():
            try:
                old = None
                if out.exists():
                    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=parent))
                    os.replace(out, old / out.name)
                os.replace(tmp, out)
            except OSError as exc:
                if old is not None and not out.exists():
                    os.replace(old / out.name, out)
                raise _as_output_error(exc, out) from exc
            committed = True
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        with deferred_signals():
            if not committed:
                shutil.rmtree(tmp, ignore_errors=True)
            _unlock(lock_fd, lock_path)


def _unlock(fd: int, lock_path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(lock_path)
    os.close(fd)
