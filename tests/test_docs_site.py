"""The documentation site: every public object has a docstring, and the site builds with
Sphinx without a warning, listing every public object in its API reference.

"Public" is defined once, in ``docs/_ext/public_api.py``, for the API reference and for these
tests: the ``__all__`` of every module without a leading underscore in its dotted name (for a
module without ``__all__``, its documented functions and classes), each object once under its
canonical name.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load(name: str):
    """A module of docs/_ext (not a package: loaded by path)."""
    if name not in sys.modules:
        sys.path.insert(0, str(DOCS / "_ext"))
        try:
            spec = importlib.util.spec_from_file_location(name, DOCS / "_ext" / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(DOCS / "_ext"))
    return sys.modules[name]


def _own_docstring(obj) -> str:
    """The docstring an object was given: not inherited, not the one dataclasses and named
    tuples write from the signature."""
    doc = (obj.__doc__ or "").strip() if inspect.isclass(obj) else (inspect.getdoc(obj) or "")
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc


def test_public_api_is_large_and_canonical():
    entries = _load("public_api").public_objects()
    names = [e.qualname for e in entries]
    assert len(names) == len(set(names))
    assert len(entries) > 500                  # latdyn exports some 800 objects
    assert "latdyn.qens.fit" in names          # a re-export is documented at the package ...
    assert "latdyn.qens.spectral_fit.fit" not in names
    fit = next(e for e in entries if e.qualname == "latdyn.qens.fit")
    assert "latdyn.qens.spectral_fit.fit" in fit.aliases   # ... and listed where it is defined


def test_every_public_function_and_class_has_a_docstring():
    missing = [e.qualname for e in _load("public_api").public_objects()
               if e.kind != "data" and not _own_docstring(e.obj)]
    assert not missing, f"{len(missing)} public objects without a docstring: {missing}"


def _rest_messages(text: str) -> list[str]:
    """docutils' warnings and errors for a piece of reST."""
    from docutils.core import publish_doctree
    from docutils.utils import Reporter

    tree = publish_doctree(text, settings_overrides={"report_level": Reporter.SEVERE_LEVEL + 1,
                                                      "halt_level": Reporter.SEVERE_LEVEL + 1})
    return [m.astext() for m in tree.findall(lambda n: n.tagname == "system_message")
            if m["level"] >= Reporter.WARNING_LEVEL]


PLAIN = """Fit a model to S(|Q|, E) data (meV).

data: DataArray ('Q', 'E') with variances, |Q| in 1/angstrom.
mode: 'global' (one fit of all groups) or
    'per-q' (independent fits per group).
A fit that fails is reported, sigma_-^2/S_-^2 flagged.

A literal block keeps its bars::

    | a | b |

.. math:: |F(Q)|^2 = \\sigma_+

Parameters
----------
T: temperature (K), |T| > 0.
n_q : int
    Number of points.
"""


def test_plain_docstrings_become_valid_rest():
    pytest.importorskip("docutils")
    normalise = _load("plain_docstrings").normalise
    assert _rest_messages(PLAIN)                        # as written, reST reads it wrongly
    text = "\n".join(normalise(PLAIN.splitlines()))
    assert _rest_messages(text) == []
    assert ":mode: 'global'" in text and "    | a | b |" in text
    assert ".. math:: |F(Q)|^2 = \\sigma_+" in text     # directives stay as written
    assert "T\n    temperature (K), \\|T\\| > 0." in text  # numpydoc parameter


def _inventory(path: Path) -> set[str]:
    """The names of a Sphinx objects.inv (version 2: four header lines, then zlib)."""
    raw = path.read_bytes()
    body = raw.split(b"\n", 4)[4]
    return {line.split(" ", 1)[0] for line in zlib.decompress(body).decode().splitlines() if line}


@pytest.mark.slow
def test_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("numpydoc")
    env = dict(os.environ, LATDYN_DOCS_RUN_GALLERY="0")
    env.pop("LATDYN_DOCS_INTERSPHINX", None)            # no network in CI
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    out = tmp_path / "html"
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-j", "2",
                          "-b", "html", "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    # Sphinx's warnings (-W) and Python's UserWarnings (numpydoc's docstring parser)
    noise = [line for line in log.splitlines() if "WARNING" in line or "UserWarning" in line]
    assert not noise, "\n".join(noise[:40])
    listed = _inventory(out / "objects.inv")
    entries = _load("public_api").public_objects()
    absent = [e.qualname for e in entries if e.qualname not in listed]
    assert not absent, f"{len(absent)} public objects not in the API reference: {absent[:20]}"
    modules = [m.__name__ for m in _load("public_api").public_modules()]
    assert not [m for m in modules if m not in listed]
    assert (out / "api" / "index.html").is_file() and (out / "qens.html").is_file()
