"""Figures and self-contained HTML reports with provenance; the one number formatter; the
report check.

The names are imported on first use (:mod:`latdyn.lazy`): importing ``latdyn.report`` or
``latdyn.report.numbers`` (used by every CLI table) does not load matplotlib."""

from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "html": ("Report", "file_sha256"),
    "figures": ("axis_label", "label_path", "new_figure", "plot_sqe", "plot_coverage", "save_figure"),
    "check": ("check_report", "check_html"),
    "numbers": ("format_number", "format_value_error", "format_cell", "round_to_error"),
})
