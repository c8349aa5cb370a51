"""A result made of named physical quantities (value, error, unit): caloric bookkeeping,
kinetic thermal conductivity.  ``rows()`` is the printed table (quantity, value, unit, and
error where known), ``to_json()`` the same as {name: {value, error, unit}}; ``write(folder)``
gives ``quantities.csv`` (quantity,value,error,unit) and ``report.html``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..fitresult import Quantities, Quantity

__all__ = ["QuantityTable", "quantities"]


def quantities(**items: tuple[float, str]) -> Quantities:
    """Quantities from name=(value, unit) pairs, errors unknown."""
    return Quantities({k: Quantity(float(v), float("nan"), u) for k, (v, u) in items.items()})


@dataclass
class QuantityTable:
    """Named quantities under a heading (what the table says), with notes on how they came."""

    heading: str
    quantities: Quantities
    notes: list = field(default_factory=list)

    def __getitem__(self, name: str) -> Quantity:
        return self.quantities[name]

    def rows(self) -> list[dict]:
        """quantity, value, unit (and error where any is known)."""
        rows = self.quantities.rows()
        if all(r["error"] is None for r in rows):
            rows = [{k: v for k, v in r.items() if k != "error"} for r in rows]
        return rows

    def to_json(self) -> dict:
        return self.quantities.as_json()

    def report(self, command: str | None = None):
        from ..report import Report

        rep = Report(self.heading, command=command)
        if self.notes:
            rep.add_text(None, " ".join(self.notes))
        rep.add_table("Results", self.rows())
        return rep

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``quantities.csv`` (quantity,value,error,unit) and ``report.html`` into ``folder``
        (replaced whole)."""
        from ..fileio import write_text_atomic
        from ..report.folder import write_result_folder

        def cell(v):
            return "" if v is None else (f"{v:.10g}" if isinstance(v, float) else str(v))

        keys = ("quantity", "value", "error", "unit")
        text = "quantity,value,error,unit\n" + "".join(
            ",".join(cell(r[k]) for k in keys) + "\n" for r in self.quantities.rows())
        return write_result_folder(folder, {"quantities.csv": lambda p: write_text_atomic(p, text)},
                                   self.report(command))
