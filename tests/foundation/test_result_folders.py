"""Result folders committed whole, temp files removed on every exit path, writes that fail for
lack of space end in one line (issue 22): :mod:`latdyn.fileio` and the CLI entry point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from latdyn.errors import FormatError, InputError, OutputError
from latdyn.fileio import (
    RESULT_MARKER,
    atomic_path,
    check_output_folder,
    decode_text,
    deferred_signals,
    hdf5_writer,
    input_file,
    load_yaml,
    result_folder,
    write_text_atomic,
)

SRC = Path(__file__).resolve().parents[2] / "src"


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _tree(folder: Path) -> dict[str, bytes]:
    """The files of a result folder, without its marker file."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != RESULT_MARKER}


def test_result_folder_replaces_whole_and_drops_stale_files(tmp_path):
    out = tmp_path / "out"
    with result_folder(out) as tmp:
        (tmp / "a.csv").write_text("1")
        (tmp / "fit_global.h5").write_text("old global fit")
    with result_folder(out) as tmp:
        (tmp / "a.csv").write_text("2")
    assert _tree(out) == {"a.csv": b"2"} and (out / RESULT_MARKER).is_file()
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_result_folder_keeps_previous_on_failure(tmp_path, error):
    out = tmp_path / "out"
    with result_folder(out) as tmp:
        (tmp / "a.csv").write_text("1")
    with pytest.raises(error), result_folder(out) as tmp:
        (tmp / "a.csv").write_text("2")
        (tmp / "b.csv").write_text("2")
        raise error()
    assert _tree(out) == {"a.csv": b"1"}
    assert _hidden(tmp_path) == []


def test_result_folder_refuses_a_concurrent_run(tmp_path):
    out = tmp_path / "out"
    with result_folder(out) as tmp:
        (tmp / "a.csv").write_text("1")
        with pytest.raises(OutputError, match="another latdyn run is writing"), result_folder(out):
            pass
    assert _tree(out) == {"a.csv": b"1"}
    assert _hidden(tmp_path) == []


def test_result_folder_recovers_after_a_killed_run(tmp_path):
    """SIGKILL between the two renames of a commit leaves the previous folder moved aside and
    a temporary folder: the next run puts the previous one back first, then replaces it."""
    out = tmp_path / "out"
    with result_folder(out) as tmp:
        (tmp / "a.csv").write_text("1")
    aside = tmp_path / ".out.x1.old"
    aside.mkdir()
    os.replace(out, aside / "out")
    (tmp_path / ".out.x2.partial").mkdir()
    (tmp_path / ".out.x2.partial" / "half.csv").write_text("half")
    with pytest.raises(RuntimeError), result_folder(out):
        raise RuntimeError()
    assert _tree(out) == {"a.csv": b"1"}
    assert _hidden(tmp_path) == []


def test_check_output_folder(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match="existing file"):
        check_output_folder(f)
    with pytest.raises(OutputError, match="parent of the output folder is a file"):
        check_output_folder(f / "sub")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(OutputError, match="permission denied"):
            check_output_folder(ro / "out")
    finally:
        ro.chmod(0o755)


def test_atomic_path_cleans_up_and_keeps_mode(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise KeyboardInterrupt()
    assert list(tmp_path.iterdir()) == []
    write_text_atomic(target, "ok")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(OutputError, match="parent of the output path is a file"):
        write_text_atomic(target / "below.txt", "x")


def test_deferred_signals_holds_sigint_until_the_block_ends():
    order = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            order.append("block finished")
    assert order == ["block finished"]


def test_hdf5_writer_builds_in_memory(tmp_path):
    import h5py

    path = tmp_path / "x.h5"
    with hdf5_writer(path) as fh:
        fh.create_dataset("a", data=np.arange(5.0))
        assert not path.exists()
    with h5py.File(path, "r") as fh:
        np.testing.assert_array_equal(fh["a"][()], np.arange(5.0))
    with pytest.raises(ValueError), hdf5_writer(tmp_path / "y.h5") as fh:
        raise ValueError()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.h5"]


_FSIZE_SCRIPT = """
import resource, sys
import numpy as np
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
from latdyn.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("suffix", [".h5", ".nxs"])
def test_hdf5_write_over_a_file_size_limit_is_one_line_and_exit_2(tmp_path, suffix):
    """An HDF5 write that hits RLIMIT_FSIZE (as a full disk would) ends in one line naming the
    output and exit status 2, not h5py tracebacks and a segmentation fault."""
    src = tmp_path / "in.dat"
    x = np.linspace(-1, 1, 400)
    src.write_text("".join(f"# Q = {q}\n" + "".join(f"{v:.5f} {1 + v * v:.5f} 0.1\n" for v in x)
                           for q in (0.5, 1.0)))
    out = tmp_path / f"out{suffix}"
    r = subprocess.run([sys.executable, "-c", _FSIZE_SCRIPT, "convert", str(src), str(out)],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)},
                       timeout=120)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "file too large writing" in lines[0] and str(out) in lines[0], r.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_input_file_refuses_special_files(tmp_path):
    fifo = tmp_path / "fifo.dat"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        input_file(fifo)
    loop = tmp_path / "loop.dat"
    loop.symlink_to("loop.dat")
    with pytest.raises(InputError, match="symbolic link loop"):
        input_file(loop)
    with pytest.raises(InputError, match="folder"):
        input_file(tmp_path)
    with pytest.raises(FileNotFoundError):
        input_file(tmp_path / "missing.dat")


def test_decode_text_boms_and_fallback():
    assert decode_text(b"\xef\xbb\xbf1 2 3") == ("1 2 3", "utf-8")
    assert decode_text("1 2 3".encode("utf-16")) == ("1 2 3", "utf-16-le")
    assert decode_text(b"caf\xe9") == ("caf\u00e9", "latin-1")
    with pytest.raises(FormatError, match="NUL"):
        decode_text(b"1 2\x00 3")


def test_load_yaml_refuses_alias_bombs_and_cycles(tmp_path):
    bomb = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    bomb += [f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(bomb))
    with pytest.raises(FormatError, match="aliases") as info:
        load_yaml(path)
    assert str(path) in str(info.value)
    cyc = tmp_path / "cycle.yaml"
    cyc.write_text("a: &x [1, *x]\n")
    with pytest.raises(FormatError, match="refers to itself"):
        load_yaml(cyc)
    ok = tmp_path / "ok.yaml"
    ok.write_text("base: &b {x: 1}\nuse: *b\n")
    assert load_yaml(ok) == {"base": {"x": 1}, "use": {"x": 1}}
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(FormatError) as info:
        load_yaml(bad)
    assert "\n" not in str(info.value)


def test_main_turns_sigterm_into_an_orderly_exit(tmp_path, capsys, monkeypatch):
    """SIGTERM during a command raises inside it, so context managers clean up; exit 143."""
    import argparse

    from latdyn.cli import main as cli_main

    out = tmp_path / "out"

    def command(args):
        with result_folder(out) as tmp:
            (tmp / "half.csv").write_text("x")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        return 0

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=command, command="fake")
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    before = signal.getsignal(signal.SIGTERM)
    assert cli_main.main([]) == 143
    assert capsys.readouterr().err.strip() == "latdyn: terminated"
    assert not out.exists() and _hidden(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) == before
