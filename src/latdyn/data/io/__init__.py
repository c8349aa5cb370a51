"""File input and output: readers for facility formats, latdyn's results files, detection.

Entry point: :func:`load` reads any supported file (format detected by content) and returns a
:class:`LoadedData` holding named scipp DataArrays (dims such as ``('Q', 'E')``, units,
variances, masks) and a metadata dict per entry.  Explicit readers and writers are exported
as well; see docs/data-io.md for every layout.
"""

from .ascii_columns import read_ascii_columns
from .container import LoadedData
from .dave_grp import read_dave_grp
from .detect import READERS, detect_format, load
from .inx import read_inx
from .lamp_hdf import read_lamp_hdf
from .mantid_nexus import read_mantid_nexus, write_mantid_nexus

__all__ = [
    "LoadedData",
    "load",
    "detect_format",
    "READERS",
    "read_mantid_nexus",
    "write_mantid_nexus",
    "read_lamp_hdf",
    "read_inx",
    "read_dave_grp",
    "read_ascii_columns",
]
