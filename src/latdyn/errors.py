"""Exceptions raised by latdyn.

Every exception names what was wrong: the file, the field (dataset path, parameter or column)
and the offending value, so that a user can fix the input without reading the code.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LatdynError",
    "InputError",
    "FormatError",
    "FitError",
    "InstrumentError",
    "DependencyError",
    "OutputError",
]


class LatdynError(Exception):
    """Base class of all latdyn errors.

    Parameters
    ----------
    message:
        What is wrong, in one sentence.
    file, field, value:
        Where the problem is. Each one given is appended to the message, so the message always
        names the file, field and value that the caller knows about.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Any = None,
        field: str | None = None,
        value: Any = None,
        has_value: bool | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.field = field
        self.value = value
        parts = [message]
        where = []
        if self.file is not None:
            where.append(f"file '{self.file}'")
        if field is not None:
            where.append(f"field '{field}'")
        if has_value if has_value is not None else value is not None:
            where.append(f"value {_short_repr(value)}")
        if where:
            parts.append("(" + ", ".join(where) + ")")
        super().__init__(" ".join(parts))


class InputError(LatdynError, ValueError):
    """An argument is outside its physical or allowed range, or malformed."""


class FormatError(LatdynError, ValueError):
    """A file does not follow the layout its format requires."""


class FitError(LatdynError, RuntimeError):
    """A fit could not be set up or did not converge."""


class InstrumentError(LatdynError, ValueError):
    """An instrument definition is incomplete, or a setting it cannot deliver was asked for."""


class DependencyError(LatdynError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class OutputError(LatdynError, OSError):
    """An output cannot be written: the path is a file, not writable, in use, or the disk is full."""


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
