"""Format detection by content and the ``load`` entry point.

HDF5 files (recognised by their signature) are told apart by their layout:
``mantid_workspace_N`` groups (Mantid processed NeXus), an ``NXSPE_info`` group (NXSPE),
``entry1/data1/DATA`` (ILL LAMP), the root attribute ``latdyn_format`` (latdyn results), the
root attribute ``scipp-type`` (scipp's own layout, written by ``latdyn simulate``, ``phonons``
and ``md``), an ``h5md`` group (H5MD trajectories) or root attributes ``mode`` and ``chi2``
over ``groups`` and ``parameters`` (the fit files of ``latdyn qens fit``).
Text files: a comma-separated header of column names over rows with text cells or at least
four columns is a CSV results table; ``# Number of`` opens a DAVE group file; an integer
header line followed by a title and a numeric parameter line is INX; anything else numeric is
column ASCII.
The file name's extension is never trusted on its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import FormatError, InputError
from ...fileio import input_file, is_hdf5, names_input_file
from ._common import check_bad_errors_option, open_hdf5, read_text
from .container import LoadedData

__all__ = ["detect_format", "load", "READERS"]

def detect_format(path: str | Path) -> str:
    """Name of the format of ``path`` (a key of :data:`READERS`); FormatError if unknown."""
    from .csv_tables import looks_like_csv_table
    from .dave_grp import looks_like_dave_grp
    from .h5md import is_h5md
    from .inx import looks_like_inx
    from .lamp_hdf import is_lamp_hdf
    from .mantid_nexus import is_mantid_nexus
    from .nxspe import is_nxspe
    from .qens_fit_h5 import is_qens_fit_h5
    from .results_h5 import is_results_h5
    from .scipp_h5 import is_scipp_h5

    p = input_file(path)
    if is_hdf5(p):
        with open_hdf5(p) as fh:
            if is_results_h5(fh):
                return "results_h5"
            if is_mantid_nexus(fh):
                return "mantid_nexus"
            if is_nxspe(fh):
                return "nxspe"
            if is_lamp_hdf(fh):
                return "lamp_hdf"
            if is_scipp_h5(fh):
                return "scipp_h5"
            if is_h5md(fh):
                return "h5md"
            if is_qens_fit_h5(fh):
                return "qens_fit_h5"
            top = sorted(fh.keys())[:8]
        raise FormatError("HDF5 file of an unknown layout (not Mantid processed NeXus, NXSPE, "
                          "LAMP, H5MD, scipp, QENS fit or latdyn results)", file=p, field="/", value=top)
    lines = read_text(p)
    if looks_like_csv_table(lines):
        return "csv_table"
    if looks_like_dave_grp(lines):
        return "dave_grp"
    if looks_like_inx(lines):
        return "inx"
    return "ascii_columns"


def _readers() -> dict[str, Callable[..., LoadedData]]:
    from .ascii_columns import read_ascii_columns
    from .csv_tables import read_csv_table
    from .dave_grp import read_dave_grp
    from .h5md import read_h5md
    from .inx import read_inx
    from .lamp_hdf import read_lamp_hdf
    from .mantid_nexus import read_mantid_nexus
    from .nxspe import read_nxspe
    from .qens_fit_h5 import read_qens_fit_h5
    from .results_h5 import load_results_h5
    from .scipp_h5 import read_scipp_h5

    return {"mantid_nexus": read_mantid_nexus, "nxspe": read_nxspe, "lamp_hdf": read_lamp_hdf,
            "inx": read_inx, "dave_grp": read_dave_grp, "ascii_columns": read_ascii_columns,
            "results_h5": load_results_h5, "scipp_h5": read_scipp_h5, "h5md": read_h5md,
            "csv_table": read_csv_table, "qens_fit_h5": read_qens_fit_h5}


#: Format names understood by :func:`load`.
READERS = ("mantid_nexus", "nxspe", "lamp_hdf", "inx", "dave_grp", "ascii_columns", "results_h5",
           "scipp_h5", "h5md", "csv_table", "qens_fit_h5")


@names_input_file
def load(path: str | Path, format: str | None = None, *, bad_errors: str = "error",
         **kwargs: Any) -> LoadedData:
    """Read any supported file, detecting its format by content.

    Parameters
    ----------
    path: the file.
    format: force a reader (one of :data:`READERS`) instead of detecting.
    bad_errors: 'error' (default: FormatError) or 'mask' (mask them, count in
        ``metadata['masked_bad_errors']``) for measured points whose error is NaN, infinite,
        negative, or zero on a non-zero value; latdyn results files take it as it is.
    kwargs: passed to the reader (e.g. ``q=`` for :func:`read_inx`, ``max_fixed_energy=``).

    Returns
    -------
    LoadedData: ``.data`` (the only DataArray), ``.entries`` (all), ``.metadata``.
    """
    fmt = format or detect_format(path)
    readers = _readers()
    if fmt not in readers:
        raise InputError(f"unknown format; choose one of {list(READERS)}", file=path,
                         field="format", value=fmt)
    reader = readers[fmt]
    check_bad_errors_option(bad_errors, path)
    if "bad_errors" in inspect.signature(reader).parameters:
        kwargs["bad_errors"] = bad_errors
    try:
        inspect.signature(reader).bind(path, **kwargs)
    except TypeError as exc:
        raise InputError(f"option not understood by the {fmt} reader ({exc})", file=path,
                         field="options", value=sorted(kwargs)) from None
    return reader(path, **kwargs)
