"""State shared by the demo steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..report import Report


@dataclass
class DemoContext:
    """Output folder, quick flag, the report under construction and results by step."""

    out: Path
    quick: bool
    report: Report
    results: dict = field(default_factory=dict)
    seed: int = 20261125
