"""Deprecated: atomic file writes moved to :mod:`latdyn.fileio` (kept for one release)."""

import warnings

from ..fileio import atomic_path, write_bytes_atomic, write_text_atomic

__all__ = ["atomic_path", "write_text_atomic", "write_bytes_atomic"]

warnings.warn("latdyn.data.atomic is deprecated; use latdyn.fileio", DeprecationWarning, stacklevel=2)
