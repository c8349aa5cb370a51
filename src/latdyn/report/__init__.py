"""Figures and self-contained HTML reports with provenance.

The names are imported on first use (:mod:`latdyn.lazy`): importing ``latdyn.report`` or
``latdyn.report.text`` does not load matplotlib."""

from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "html": ("Report", "file_sha256"),
    "figures": ("axis_label", "new_figure", "plot_sqe", "plot_coverage", "save_figure"),
})
