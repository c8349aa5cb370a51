"""The one way latdyn prints numbers: in tables, reports, captions and CLI lines.

- A value with a standard error is rounded to its uncertainty: the error to 2 significant digits
  (Particle Data Group convention, simplified: always two), the value to the same decimal place,
  ``0.2094 ± 0.0034``; very small or large magnitudes share one power of ten,
  ``(2.96 ± 0.11)e-05``.  A zero error (a fixed parameter) prints the value alone; a
  non-finite error says so (``0.21 (error undetermined)``), never ``± 0.000`` or ``± nan``.
- A value without an error gets :data:`SIGNIFICANT` significant digits (``52.96``, ``0.0002963``,
  ``1.456e+06``); integers print whole; missing values (None, NaN) print as :data:`MISSING`.

:func:`latdyn.report.check.check_report` enforces the result on a written report.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

__all__ = ["SIGNIFICANT", "MISSING", "format_number", "format_value_error", "round_to_error",
           "format_cell"]

#: significant digits of a number printed without an uncertainty
SIGNIFICANT = 4
#: the text of a missing value (None, NaN) in a table
MISSING = "—"
#: significant digits of a printed uncertainty
ERROR_DIGITS = 2


def _is_number(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) or type(v).__name__.startswith(("float", "int"))


def format_number(value: float, digits: int = SIGNIFICANT) -> str:
    """``value`` to ``digits`` significant digits: fixed notation for 1e-4 <= |value| < 1e6
    (integers and integer-valued floats below 1e6 whole), scientific outside; ``inf`` as text,
    NaN as :data:`MISSING`."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        return str(int(value))
    v = float(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if not 1e-4 <= abs(v) < 1e6:
        return f"{v:.{digits - 1}e}"
    if v == round(v) and abs(v) >= 1:
        return str(int(round(v)))
    decimals = max(0, digits - 1 - mag)
    text = f"{v:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def round_to_error(value: float, error: float) -> tuple[str, str, str]:
    """(value, error, exponent suffix) as text: the error to 2 significant digits and the value
    to the same decimal place; the suffix (``'e-05'`` or ``''``) applies to both when the
    magnitudes are outside 1e-4 .. 1e6.  ``error`` must be finite and positive."""
    v, e = float(value), float(error)
    scale = max(abs(v), e)
    exp = 0
    if scale >= 1e6 or e < 1e-4:
        exp = math.floor(math.log10(scale))
        v, e = v / 10**exp, e / 10**exp
    place = math.floor(math.log10(e)) - (ERROR_DIGITS - 1)   # decimal exponent of the last digit
    e_r = round(e, -place)
    if e_r >= 10 ** (place + ERROR_DIGITS):        # 0.0995 -> 0.10: one digit fewer
        place += 1
        e_r = round(e, -place)
    decimals = max(0, -place)
    v_r = round(v, -place)
    suffix = f"e{exp:+03d}" if exp else ""
    return f"{v_r:.{decimals}f}", f"{e_r:.{decimals}f}", suffix


def format_value_error(value: float, error: float | None, unit: str = "") -> str:
    """``'0.2094 ± 0.0034'`` (the value rounded to its error, 2 significant digits of the error),
    ``'(2.96 ± 0.11)e-05'`` at extreme magnitudes, the value alone when ``error`` is None or 0,
    and ``'0.21 (error undetermined)'`` when the error is not finite.  ``unit`` is appended."""
    tail = f" {unit}" if unit and unit != "dimensionless" else ""
    if value is None or not math.isfinite(float(value)):
        return format_number(float("nan") if value is None else value) + tail
    if error is None or float(error) == 0:
        return format_number(value) + tail
    e = abs(float(error))
    if not math.isfinite(e):
        return f"{format_number(value)}{tail} (error undetermined)"
    v, err, suffix = round_to_error(value, e)
    if suffix:
        return f"({v} ± {err}){suffix}{tail}"
    return f"{v} ± {err}{tail}"


def format_cell(value: Any) -> str:
    """A table cell: numbers by :func:`format_number`, booleans as yes/no, None and NaN as
    :data:`MISSING`, anything else as its text (an empty text also as :data:`MISSING`)."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):
        return "yes" if value else "no"
    if _is_number(value):
        return format_number(value)
    text = str(value)
    return text if text.strip() else MISSING
