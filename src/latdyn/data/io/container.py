"""What every reader returns: :class:`LoadedData`, named DataArrays plus their metadata.

A file holds one or more *entries* (a Mantid workspace group holds several workspaces, an
ILL file one).  Each entry is a :class:`scipp.DataArray` with named dims, units and
variances; scalars that describe the measurement live in a plain ``metadata`` dict per entry,
not on the DataArray (recent scipp has no free-form attributes).

Standard metadata keys (present when the file holds them; units in the key or listed here):

``instrument`` (str), ``title`` (str), ``notes`` (list of str: what the reader changed or
ignored and why), ``text_encoding`` (text files not in UTF-8: the encoding used),
``masked_bad_errors`` and ``zero_count_points`` (counts, see
:func:`latdyn.data.io._common.assemble`), ``run_number`` (str), ``sample_temperature`` (K,
mean of the log), ``incident_energy`` (E_i, meV, direct geometry), ``final_energy``
(E_f, meV, indirect geometry), ``wavelength`` (angstrom), ``distribution`` (bool: values are
per unit x), ``y_unit_label`` (str, the label the file gives the values), ``q_source`` (how the
Q coordinate was obtained), ``logs`` (dict name -> scalar, string or array) and ``history``
(list of processing steps as text).  Readers may add format-specific keys; each reader's
docstring lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scipp as sc

from ...errors import InputError

__all__ = ["LoadedData"]


@dataclass
class LoadedData:
    """Entries read from one file.

    Attributes
    ----------
    path: the file read.
    format: the format name (``'mantid_nexus'``, ``'nxspe'``, ``'lamp_hdf'``, ``'inx'``,
        ``'dave_grp'``, ``'ascii_columns'``, ``'results_h5'``).
    entries: entry name -> DataArray, in file order.
    metadata: entry name -> dict of metadata (see the module docstring for standard keys).
    max_fixed_energy: upper limit (meV) of E_i and E_f in the metadata (default 1 eV).

    Creating one runs the boundary check :func:`latdyn.data.io.validate.validate_loaded`
    (finite, increasing coordinates; finite values and variances; boolean masks; physical
    E_i, E_f, wavelength and temperature), so no reader returns data that fail it.
    """

    path: Path
    format: str
    entries: dict[str, sc.DataArray]
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_fixed_energy: float = field(default=1000.0, repr=False)

    def __post_init__(self) -> None:
        from .validate import validate_loaded

        self.path = Path(self.path)
        for name in self.entries:
            self.metadata.setdefault(name, {})
        validate_loaded(self, self.max_fixed_energy)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __getitem__(self, name: str) -> sc.DataArray:
        try:
            return self.entries[name]
        except KeyError:
            raise InputError(f"no entry of that name; entries are {list(self.entries)}",
                             file=self.path, field="entry", value=name) from None

    def pick(self, entry: str | None = None) -> tuple[sc.DataArray, dict[str, Any]]:
        """(DataArray, metadata) of ``entry``, or of the only entry when ``entry`` is None
        (InputError naming the entries when the file holds several)."""
        if entry is not None:
            return self[entry], self.metadata[entry]
        if len(self.entries) != 1:
            raise InputError(f"the file holds {len(self.entries)} entries: choose one "
                             f"({list(self.entries)})", file=self.path, field="entry")
        name = next(iter(self.entries))
        return self.entries[name], self.metadata[name]

    @property
    def name(self) -> str:
        """Name of the only entry; InputError when the file holds several."""
        if len(self.entries) != 1:
            raise InputError(f"file holds {len(self.entries)} entries {list(self.entries)}; "
                             "pick one with loaded[name]", file=self.path, field="entries")
        return next(iter(self.entries))

    @property
    def data(self) -> sc.DataArray:
        """The only entry (InputError when the file holds several)."""
        return self.entries[self.name]

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata of the only entry."""
        return self.metadata[self.name]
