"""Progress bars for long MD analyses: tqdm on a terminal, silent otherwise."""

from __future__ import annotations

from contextlib import contextmanager

from ..console import progress_enabled

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(total: int | None, desc: str, enabled: bool | None = None):
    """A tqdm bar counting frames; ``enabled=None`` shows it only when stderr is a terminal
    (never with ``--quiet``: :func:`latdyn.console.progress_enabled`)."""
    from tqdm.auto import tqdm

    show = progress_enabled(enabled)
    bar = tqdm(total=total, desc=desc, unit="frame", disable=not show, leave=False)
    try:
        yield bar
    finally:
        bar.close()
