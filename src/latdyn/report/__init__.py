"""Figures and self-contained HTML reports with provenance."""

from .figures import axis_label, new_figure, plot_coverage, plot_sqe, save_figure
from .html import Report, file_sha256

__all__ = ["Report", "file_sha256", "axis_label", "new_figure", "plot_sqe", "plot_coverage",
           "save_figure"]
