"""Sphinx configuration of the latdyn documentation site.

Build (from the repository root, see CONTRIBUTING.md)::

    python -m sphinx -W -j auto -b html docs docs/_build/html

* The API reference (``docs/api/``) is written at every build from ``docs/_ext/public_api.py``:
  every public object of latdyn, documented once under its canonical name.
* The gallery (``examples/gallery/plot_*.py``) is built by sphinx-gallery when the folder holds a
  ``GALLERY_HEADER.rst`` (or ``README.rst``/``README.txt``); the scripts run during the build
  (``LATDYN_GALLERY_QUICK=1`` for their quick setting, ``LATDYN_DOCS_RUN_GALLERY=0`` to show
  them without running).  Without a header, or without sphinx-gallery, each script is shown as a page.
* ``docs/getting-started/*.md`` pages are listed when present.
* Intersphinx links to numpy, scipy, scipp, phonopy and ase need the network: they are on only
  with ``LATDYN_DOCS_INTERSPHINX=1`` (CI has no network, and an unreachable inventory warns).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GALLERY = ROOT / "examples" / "gallery"
sys.path[:0] = [str(ROOT / "src"), str(DOCS / "_ext")]  # document this tree, not an installed copy

import api_pages  # noqa: E402
import optional_pages  # noqa: E402

project = "latdyn"
author = "latdyn developers"
copyright = "latdyn developers, BSD-3-Clause"  # noqa: A001
try:
    from importlib.metadata import version as _version

    release = _version("latdyn")
except Exception:  # a source tree that is not installed
    release = "0.0.0+unknown"
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "plain_docstrings",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_generated", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.json"]
templates_path: list[str] = []

# --- Markdown pages (MyST) ------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- API reference --------------------------------------------------------------------------
api_pages.write_pages(DOCS / "api")
autosummary_generate = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"exclude-members": "__init__, __new__"}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --- optional pages: gallery, getting started ------------------------------------------------
_gallery_header = any((GALLERY / n).is_file() for n in
                      ("GALLERY_HEADER.rst", "GALLERY_HEADER.txt", "README.rst", "README.txt"))
_sphinx_gallery = importlib.util.find_spec("sphinx_gallery") is not None
USE_SPHINX_GALLERY = bool(list(GALLERY.glob("plot_*.py"))) and _gallery_header and _sphinx_gallery
if USE_SPHINX_GALLERY:
    extensions.append("sphinx_gallery.gen_gallery")
    sphinx_gallery_conf = {
        "examples_dirs": [str(GALLERY)],
        "gallery_dirs": [str(DOCS / "auto_examples")],
        "filename_pattern": r"/plot_",
        "download_all_examples": False,
        "remove_config_comments": True,
        "matplotlib_animations": False,
        "parallel": True,
        "within_subsection_order": "FileNameSortKey",
    }
    # LATDYN_DOCS_RUN_GALLERY=0: pages from the scripts without running them (the docs test;
    # the gallery has its own test that runs every script)
    plot_gallery = "False" if os.environ.get("LATDYN_DOCS_RUN_GALLERY") == "0" else "True"
optional_pages.write_toc(DOCS, GALLERY, sphinx_gallery=USE_SPHINX_GALLERY)

# --- links to other projects (network only on request) --------------------------------------
if os.environ.get("LATDYN_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "scipp": ("https://scipp.github.io", None),
        "phonopy": ("https://phonopy.github.io/phonopy", None),
        "ase": ("https://wiki.fysik.dtu.dk/ase", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }
    intersphinx_timeout = 10

# --- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme" if importlib.util.find_spec("pydata_sphinx_theme") else "alabaster"
html_title = f"latdyn {release}"
html_static_path: list[str] = []
if html_theme == "pydata_sphinx_theme":
    html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
