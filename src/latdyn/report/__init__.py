"""Figures and HTML reports with provenance; the one number formatter; the report check."""

from .check import check_html, check_report
from .figures import axis_label, label_path, new_figure, plot_coverage, plot_sqe, save_figure
from .html import Report, file_sha256
from .numbers import format_cell, format_number, format_value_error, round_to_error

__all__ = ["Report", "file_sha256", "axis_label", "new_figure", "plot_sqe", "plot_coverage",
           "save_figure", "label_path", "check_report", "check_html", "format_number", "format_value_error",
           "format_cell", "round_to_error"]
