"""File input and output: readers for facility formats, latdyn's results files, detection.

Entry point: :func:`load` reads any supported file (format detected by content) and returns a
:class:`LoadedData` holding named scipp DataArrays (dims such as ``('Q', 'E')``, units,
variances, masks) and a metadata dict per entry.  Explicit readers and writers are exported
as well; see docs/data-io.md for every layout.
"""

from .ascii_columns import read_ascii_columns
from .container import LoadedData
from .csv_tables import dataarray_to_table, read_csv, write_csv
from .dave_grp import read_dave_grp
from .detect import READERS, detect_format, load
from .inx import read_inx
from .lamp_hdf import read_lamp_hdf
from .mantid_nexus import read_mantid_nexus, write_mantid_nexus
from .nxspe import nxspe_to_powder, read_nxspe, write_nxspe
from .results_h5 import Results, read_results_h5, write_results_h5
from .summary import summarise
from .table import Table

__all__ = [
    "LoadedData",
    "load",
    "detect_format",
    "READERS",
    "read_mantid_nexus",
    "write_mantid_nexus",
    "read_nxspe",
    "write_nxspe",
    "nxspe_to_powder",
    "read_lamp_hdf",
    "read_inx",
    "read_dave_grp",
    "read_ascii_columns",
    "Results",
    "Table",
    "write_results_h5",
    "read_results_h5",
    "write_csv",
    "read_csv",
    "dataarray_to_table",
    "summarise",
]
