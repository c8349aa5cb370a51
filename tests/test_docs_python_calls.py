"""The Python snippets that show the one library call behind each command (docs/diffraction.md,
docs/thermo.md, docs/ins.md, docs/instruments.md) run as written: every ```python block that
follows the line ``<!-- run by tests/test_docs_python_calls.py -->``, in an empty folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
MARK = "<!-- run by tests/test_docs_python_calls.py -->"
PAGES = ("diffraction.md", "thermo.md", "ins.md", "instruments.md")


def _snippets():
    for page in PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        for k, m in enumerate(re.finditer(re.escape(MARK) + r"\s*```python\n(.*?)```", text, re.S)):
            yield pytest.param(m.group(1), id=f"{page}-{k}", marks=pytest.mark.slow)


SNIPPETS = list(_snippets())


def test_every_page_has_snippets():
    pages = {p.id.rsplit("-", 1)[0] for p in SNIPPETS}
    assert pages == set(PAGES)


@pytest.mark.parametrize("code", SNIPPETS)
def test_snippet_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<doc snippet>", "exec"), {"__name__": "__doc_snippet__"})
