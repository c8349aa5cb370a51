"""The instrument library: YAML files shipped in ``latdyn/instruments/library`` and user files.

``load_instrument(name_or_path)`` returns the model object for the file's ``kind``
(direct, indirect, triple_axis, diffractometer_cw, diffractometer_tof, polarised).  Names are
case-insensitive file stems of the library; anything with a path separator or a .yaml/.yml
suffix is read as a user file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import InstrumentError
from ._yaml import Node, read_yaml
from .diffractometer import CWDiffractometer, TOFDiffractometer
from .direct import DirectGeometry
from .indirect import IndirectGeometry
from .polarised import PolarisedInstrument
from .tas import TripleAxis

__all__ = ["LIBRARY", "list_instruments", "load_instrument", "instrument_from_dict"]

#: Folder of the shipped instrument files.
LIBRARY = Path(__file__).with_name("library")

_KINDS = {
    "direct": DirectGeometry,
    "indirect": IndirectGeometry,
    "triple_axis": TripleAxis,
    "diffractometer_cw": CWDiffractometer,
    "diffractometer_tof": TOFDiffractometer,
    "polarised": PolarisedInstrument,
}


def list_instruments() -> list[str]:
    """Names (file stems, upper case) of the instruments in the shipped library."""
    return sorted(p.stem.upper() for p in LIBRARY.glob("*.yaml"))


def instrument_from_dict(data: Mapping, file: str = "<dict>"):
    """Build an instrument model from a parsed mapping (validates every field)."""
    refs = data.get("references") or {}
    if not isinstance(refs, Mapping):
        raise InstrumentError("'references' must map keys to citations", file=file,
                              field="references")
    node = Node(data, file, "", {str(k): str(v) for k, v in refs.items()})
    node.text("name")
    kind = node.text("kind")
    if kind not in _KINDS:
        raise InstrumentError(f"unknown instrument kind; use one of {sorted(_KINDS)}", file=file,
                              field="kind", value=kind)
    return _KINDS[kind](node)


def load_instrument(name_or_path: str | Path):
    """Load an instrument by library name (e.g. 'AMATERAS') or from a YAML file path."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1 or path.is_file():
        if not path.is_file():
            raise InstrumentError("instrument file not found", file=path)
        return instrument_from_dict(read_yaml(path), str(path))
    candidate = LIBRARY / f"{text.lower()}.yaml"
    if not candidate.is_file():
        raise InstrumentError(f"unknown instrument; the library has {list_instruments()}",
                              field="instrument", value=text)
    return instrument_from_dict(read_yaml(candidate), str(candidate))
