"""Every code snippet in README.md and docs/*.md runs (executable documentation).

Fenced ```python blocks of one page run in order in one namespace; ```bash and ```console
blocks run each ``latdyn ...`` line (a leading ``$`` is dropped, ``\\`` continues a line)
through the command's entry point and expect exit status 0.  Both run in a fresh folder that
holds the files the docs name (the shipped examples and ../shared/data, copied under the names
of :data:`FILES`).  A block may be marked on the line before its fence:

* ``<!-- snippet: skip (reason) -->``: not run (syntax summaries with placeholders, optional
  tools that are absent); the reason is required and reported;
* ``<!-- snippet: slow -->``: run only when LATDYN_DOCS_SLOW=1 (the weekly/full run).

A page may name further files its snippets read, anywhere in the page:
``<!-- snippet-files: NAME=example:REL NAME2=shared:REL -->`` (a shipped example under
``latdyn/examples`` or a file under ../shared/data, copied into the folder as NAME).  A page
whose shared file is absent is skipped with one line naming the file.  A snippet never names
a file by a ``../shared`` path (it would only run from one folder of the development tree).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LATDYN_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs" / "getting-started").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\s*$")
MARK = re.compile(r"<!--\s*snippet:\s*(skip|slow)\s*(?:\((.+)\))?\s*-->")
PAGE_FILES = re.compile(r"<!--\s*snippet-files:\s*(.+?)\s*-->")

#: names the docs use -> (shipped example or file under ../shared/data)
FILES = {
    "H2O_293K_5A.hdf": "example:in5_water/H2O_293K_5A.hdf",
    "V_273K_5A.hdf": "example:in5_water/V_273K_5A.hdf",
    "phonopy_nacl.yaml": "example:nacl/phonopy_nacl.yaml",
    "BORN_nacl": "example:nacl/BORN_nacl",
    "force_constants.hdf5": "example:nacl/force_constants.hdf5",
    "AgI.cif": "example:agi/AgI_alpha.cif",
    "In20_2p5_350K__tt_cr.txt": "shared:qens/toftof_bzi/In20_2p5_350K__tt_cr.txt",
    "Vana_2p5_cool__tt_cr.txt": "shared:qens/toftof_bzi/Vana_2p5_cool__tt_cr.txt",
    "data_2lorentzians.dat": "shared:qens/iris_graphite/data_2lorentzians.dat",
    "irf_iris.dat": "shared:qens/iris_graphite/irf_iris.dat",
    "D_syn_fibers_elastic_10to300K.inx": "shared:qens/in16b_lysozyme/D_syn_fibers_elastic_10to300K.inx",
}


def _blocks(page: Path):
    """(index, language, code, mark, reason) of each fenced block of a page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out, i, prev = [], 0, ""
    while i < len(lines):
        m = FENCE.match(lines[i].strip())
        if m:
            lang, body, j = m.group(1), [], i + 1
            while j < len(lines) and lines[j].strip() != "```":
                body.append(lines[j])
                j += 1
            mark = MARK.search(prev)
            out.append((len(out), lang, "\n".join(body), mark.group(1) if mark else None,
                        (mark.group(2) or "").strip() if mark else ""))
            i, prev = j + 1, ""
            continue
        if lines[i].strip():
            prev = lines[i]
        i += 1
    return out


def _commands(code: str) -> list[list[str]]:
    """The ``latdyn`` command lines of a shell block, as argument lists."""
    joined = re.sub(r"\\\n\s*", " ", code)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        if line.startswith("latdyn ") or line == "latdyn":
            out.append(shlex.split(line.split(" #")[0])[1:])
    return out


def _page_files(page: Path) -> dict[str, str]:
    """NAME -> source of the ``snippet-files`` comments of a page."""
    out = {}
    for m in PAGE_FILES.finditer(page.read_text(encoding="utf-8")):
        for item in m.group(1).split():
            name, src = item.split("=", 1)
            out[name] = src
    return out


def _workdir(tmp: Path, shared: Path | None, page: Path) -> Path:
    """Copy the docs' files into ``tmp``; skip the page if one it names is absent."""
    from latdyn.examples import example_file

    needed = _page_files(page)
    for name, src in {**FILES, **needed}.items():
        kind, rel = src.split(":", 1)
        path = example_file(rel) if kind == "example" else (shared / rel if shared else None)
        if path is not None and path.is_file():
            shutil.copy(path, tmp / name)
        elif name in needed:
            why = "reference data ../shared/data not found" if kind == "shared" else "absent"
            pytest.skip(f"{page.name} needs {src}: {why}")
    return tmp


def _cases():
    for page in PAGES:
        blocks = _blocks(page)
        if any(lang in ("python", "bash", "console") for _, lang, *_ in blocks):
            yield pytest.param(page, id=str(page.relative_to(ROOT)))


@pytest.mark.slow
@pytest.mark.parametrize("page", list(_cases()))
def test_snippets_run(page, tmp_path, monkeypatch, capsys):
    from latdyn.cli.main import main

    work = _workdir(tmp_path, SHARED if SHARED.is_dir() else None, page)
    monkeypatch.chdir(work)
    namespace: dict = {"__name__": "__docs__"}
    skipped, ran = [], 0
    for index, lang, code, mark, reason in _blocks(page):
        if lang not in ("python", "bash", "console"):
            continue
        where = f"{page.name} block {index}"
        assert "../shared" not in code, (f"{where}: name a file by its bare name and declare it with "
                                         "<!-- snippet-files: NAME=shared:REL -->, not by a ../shared path")
        if mark == "skip":
            assert reason, f"{where}: a skipped snippet must say why: <!-- snippet: skip (reason) -->"
            skipped.append(f"{where}: {reason}")
            continue
        if mark == "slow" and os.environ.get("LATDYN_DOCS_SLOW") != "1":
            skipped.append(f"{where}: slow (LATDYN_DOCS_SLOW=1 runs it)")
            continue
        if lang == "python":
            with contextlib.redirect_stdout(None):
                exec(compile(code, where, "exec"), namespace)  # noqa: S102
            ran += 1
            continue
        for argv in _commands(code):
            try:
                rc = main(argv)
            except SystemExit as stop:      # --help and --version end through argparse
                rc = stop.code or 0
            capsys.readouterr()
            assert rc == 0, f"{where}: 'latdyn {shlex.join(argv)}' exited {rc}"
            ran += 1
    assert ran or skipped, f"{page.name}: no snippet found"
    if skipped:
        print("skipped: " + "; ".join(skipped))
