"""Reading instrument YAML files: sourced values, required fields, clear errors.

Every number in a library file is written as ``{value: ..., source: KEY}`` where KEY names an
entry of the file's ``references`` list, so each value carries its published source.  A bare
number is accepted in user files (``source`` is then 'user').  Missing or malformed fields raise
:class:`latdyn.errors.InstrumentError` naming the file and the full field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import InstrumentError

__all__ = ["Node", "read_yaml"]


def read_yaml(path: str | Path) -> dict:
    """Parse a YAML file into a mapping (InstrumentError if unreadable or not a mapping)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstrumentError("cannot read instrument file", file=p) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InstrumentError(f"instrument file is not valid YAML: {exc}", file=p) from exc
    if not isinstance(data, Mapping):
        raise InstrumentError("instrument file must hold a mapping at the top level", file=p)
    return dict(data)


class Node:
    """A mapping from an instrument file with its field path, for validated look-ups."""

    def __init__(self, data: Mapping, file: str, path: str = "", references: Mapping | None = None):
        self.data = data
        self.file = file
        self.path = path
        self.references = references or {}

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str, default: Any = ...) -> Any:
        if not self.has(key):
            if default is ...:
                raise InstrumentError("instrument file misses a required field", file=self.file,
                                      field=self._name(key))
            return default
        return self.data[key]

    def child(self, key: str, default: Any = ...) -> Node | None:
        value = self.raw(key, default)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise InstrumentError("field must be a mapping", file=self.file, field=self._name(key),
                                  value=value)
        return Node(value, self.file, self._name(key), self.references)

    def children(self, key: str) -> list[Node]:
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise InstrumentError("field must be a non-empty list", file=self.file,
                                  field=self._name(key), value=value)
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise InstrumentError("list entry must be a mapping", file=self.file,
                                      field=f"{self._name(key)}[{i}]", value=item)
            out.append(Node(item, self.file, f"{self._name(key)}[{i}]", self.references))
        return out

    def _sourced(self, key: str, default: Any) -> tuple[Any, str]:
        value = self.raw(key, default)
        if value is default and default is not ...:
            return default, "default"
        if isinstance(value, Mapping):
            if "value" not in value:
                raise InstrumentError("sourced value misses 'value'", file=self.file,
                                      field=self._name(key))
            src = value.get("source")
            if src is None:
                raise InstrumentError("sourced value misses 'source'", file=self.file,
                                      field=self._name(key) + ".source")
            if self.references and src not in self.references and src != "user":
                raise InstrumentError("source is not listed under 'references'", file=self.file,
                                      field=self._name(key) + ".source", value=src)
            return value["value"], str(src)
        return value, "user"

    def number(self, key: str, default: Any = ..., *, positive: bool = True,
               allow_zero: bool = False) -> float:
        """A float field (bare or sourced); positive unless told otherwise."""
        value, _ = self._sourced(key, default)
        if value is None:
            return None
        try:
            x = float(value)
        except (TypeError, ValueError) as exc:
            raise InstrumentError("field must be a number", file=self.file, field=self._name(key),
                                  value=value) from exc
        if not np.isfinite(x) or (positive and (x < 0 or (x == 0 and not allow_zero))):
            raise InstrumentError("field must be a positive finite number", file=self.file,
                                  field=self._name(key), value=x)
        return x

    def array(self, key: str, default: Any = ..., *, length: int | None = None) -> np.ndarray:
        """A list of floats (bare or sourced)."""
        value, _ = self._sourced(key, default)
        if value is None:
            return None
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InstrumentError("field must be a list of numbers", file=self.file,
                                  field=self._name(key), value=value) from exc
        if arr.ndim != 1 or not np.all(np.isfinite(arr)) or (length is not None and arr.size != length):
            raise InstrumentError(
                "field must be a list of finite numbers" + (f" of length {length}" if length else ""),
                file=self.file, field=self._name(key), value=value)
        return arr

    def strings(self, key: str, default: Any = ...) -> list[str]:
        """A list of names (bare or sourced)."""
        value, _ = self._sourced(key, default)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InstrumentError("field must be a list of names", file=self.file,
                                  field=self._name(key), value=value)
        return list(value)

    def text(self, key: str, default: Any = ...) -> str:
        value = self.raw(key, default)
        return None if value is None else str(value)

    def source_of(self, key: str) -> str:
        """Citation of a sourced field ('user' for bare values)."""
        _, src = self._sourced(key, None)
        return self.references.get(src, src)
