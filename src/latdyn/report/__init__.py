"""Figures and HTML reports with provenance; the one number formatter; the report check.

Names load on first use (PEP 562), so ``latdyn.report.numbers`` (used by every CLI table) does
not import matplotlib.
"""

from __future__ import annotations

from importlib import import_module

_HOMES = {
    "Report": "html", "file_sha256": "html",
    "axis_label": "figures", "label_path": "figures", "new_figure": "figures",
    "plot_coverage": "figures", "plot_sqe": "figures", "save_figure": "figures",
    "check_report": "check", "check_html": "check",
    "format_number": "numbers", "format_value_error": "numbers", "format_cell": "numbers",
    "round_to_error": "numbers",
}

__all__ = list(_HOMES)


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
