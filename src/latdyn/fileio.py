"""File utilities shared by every writer: atomic writes, whole result folders, file hashes.

* :func:`atomic_path` / :func:`write_text_atomic` / :func:`write_bytes_atomic`: a file is
  written to a temporary name in the target folder and renamed into place, so a failure
  (exception, interrupt, full disk) never leaves a partly written output.  The file gets the
  mode an ordinary ``open()`` would give it (0666 minus the umask), not ``mkstemp``'s 0600.
* :func:`result_folder`: a whole output folder is built beside its target and replaces the
  previous results in one step, so a folder always holds the files of exactly one run; a
  second run into the same folder while one is writing fails at once with a clear message.
* :func:`file_sha256`: the digest recorded in reports and results files (provenance).

A write that fails for lack of space or a file-size limit raises :class:`OutputError` naming
the file (one line at the command line), never an ``OSError`` traceback.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

__all__ = ["atomic_path", "write_text_atomic", "write_bytes_atomic", "result_folder",
           "check_output_folder", "file_sha256", "default_file_mode", "RESULT_MARKER"]

#: the file that marks a folder written by :func:`result_folder` (so it may be replaced)
RESULT_MARKER = ".latdyn-result"

_SPACE_ERRORS = {errno.ENOSPC: "no space left on device", errno.EFBIG: "file too large",
                 errno.EDQUOT: "disk quota exceeded"}


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
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    Usage::

        with atomic_path("out.h5") as tmp:
            write_everything(tmp)
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError("the output path is a folder, not a file", file=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise _as_output_error(exc, target) from exc
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if exc.errno in _SPACE_ERRORS or isinstance(exc, PermissionError):
            raise _as_output_error(exc, target) from exc
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


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


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
    return out


@contextlib.contextmanager
def result_folder(out: str | os.PathLike) -> Iterator[Path]:
    """Build a result folder whole: yield an empty temporary folder beside ``out``; on success
    it replaces ``out`` (and every file of an earlier run there) in one step.

    On an exception or interrupt the temporary folder is removed and ``out`` keeps the previous
    results untouched.  A lock file beside ``out`` makes a concurrent run into the same folder
    fail at once (OutputError) instead of mixing files of two runs.  Only an empty folder or an
    earlier result folder (marked by :data:`RESULT_MARKER`) is replaced; a folder holding other
    files is refused before anything is written.  Writers inside may use :func:`atomic_path`
    as usual.
    """
    import fcntl

    out = check_output_folder(out)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        lock_path = parent / f".{out.name}.lock"
        lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:
        raise _as_output_error(exc, out) from exc
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise OutputError("another latdyn run is writing this output folder; wait for it or "
                              "choose another --out", file=out) from exc
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
        try:
            os.chmod(tmp, 0o777 & ~_umask())
            yield tmp
            (tmp / RESULT_MARKER).write_text("written by latdyn: this folder is replaced whole by the "
                                             "next run into it\n", encoding="utf-8")
            old = None
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=parent))
                os.replace(out, old / out.name)
            os.replace(tmp, out)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        os.close(lock_fd)

