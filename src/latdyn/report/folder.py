"""A result folder written whole: data files, ``report.html`` and its ``figures/``.

Every analysis result's ``write(folder)`` goes through :func:`write_result_folder`: the files
are built in a temporary folder beside ``folder`` that replaces it in one step
(:func:`latdyn.fileio.result_folder`: a failure leaves the previous results untouched, a second
run into the same folder fails at once), so a folder always holds the files of one run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..fileio import result_folder
from .html import Report

__all__ = ["write_result_folder"]


def write_result_folder(folder: str | Path, files: Mapping[str, Callable[[Path], object]],
                        report: Report | None = None, report_name: str = "report.html") -> list[Path]:
    """Write ``folder`` whole: ``files`` maps a relative file name to a writer called with the
    path to write; then ``report`` as ``report_name`` with its figures (``figures/<name>.png``,
    and ``.svg`` when asked for).  Returns the paths written, as they lie in ``folder`` afterwards."""
    folder = Path(folder)
    names: list[str] = []
    with result_folder(folder) as tmp:
        for name, writer in files.items():
            writer(tmp / name)
            names.append(name)
        if report is not None:
            report.write(tmp / report_name)
            names.append(report_name)
            fig_dir = tmp / "figures"
            if fig_dir.is_dir():
                names += sorted(f"figures/{p.name}" for p in fig_dir.iterdir())
    return [folder / n for n in names]
