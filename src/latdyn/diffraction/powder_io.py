"""Powder patterns as files: ``x y e`` columns and the GSAS raw formats, for exchange with
Rietveld programs (GSAS, GSAS-II, FullProf, TOPAS).

* ``.xye``: three whitespace-separated columns, position (2theta in degrees, TOF in
  microseconds or d in angstrom), intensity, standard uncertainty; ``#`` comment lines.
* GSAS ``.gsa`` (type ESD): a title line of 80 characters, ``#`` comments, then
  ``BANK 1 NCHAN NREC CONS START STEP 0 0 ESD`` with START and STEP in centidegrees
  (constant wavelength) or microseconds (TOF) for an equally spaced grid, followed by 80-column
  records of five (intensity, esd) pairs in F8 fields.
* GSAS ``.fxye``: the same header with ``FXYE``; one record per point, ``position intensity
  esd`` in free format, position in centidegrees or microseconds, padded to 80 characters.

The formats follow the GSAS manual (A. C. Larson and R. B. Von Dreele, LAUR 86-748, 2004,
"Powder data file"); GSAS-II reads both.  Intensities too large for an F8 field are scaled by a
power of ten that a comment line states.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FormatError, InputError
from ..fileio import write_text_atomic

__all__ = ["PowderData", "read_powder", "write_xye", "write_gsas"]

AXES = {"two_theta": "deg", "tof": "us", "d": "angstrom"}


@dataclass
class PowderData:
    """One measured (or simulated) powder pattern.

    x (2theta in deg, tof in us or d in angstrom, per ``axis``), y, sigma (> 0; points with
    sigma <= 0 are ignored by fits); ``wavelength`` (angstrom, constant wavelength) or ``difc``
    (us/angstrom, TOF); ``condition`` (temperature in K or field in T) and ``sweep`` ('up',
    'down' or '') of a series; ``label`` for tables.
    """

    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    axis: str = "two_theta"
    wavelength: float | None = None
    difc: float | None = None
    condition: float = float("nan")
    sweep: str = ""
    label: str = ""
    source: str | None = None

    def __post_init__(self) -> None:
        if self.axis not in AXES:
            raise InputError(f"axis must be one of {sorted(AXES)}", file=self.source, field="axis",
                             value=self.axis)
        x = np.asarray(self.x, dtype=float)
        y = np.asarray(self.y, dtype=float)
        s = np.asarray(self.sigma, dtype=float)
        if x.ndim != 1 or x.size < 10 or y.shape != x.shape or s.shape != x.shape:
            raise InputError("a pattern needs matching 1-D x, y, sigma of at least 10 points",
                             file=self.source, field="x", value=(x.shape, y.shape, s.shape))
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.isfinite(s))):
            raise InputError("pattern values must be finite", file=self.source, field="y")
        if np.any(np.diff(x) <= 0):
            raise InputError("pattern positions must increase", file=self.source, field="x")
        if self.axis == "two_theta" and (self.wavelength is None or self.wavelength <= 0):
            raise InputError("a constant-wavelength pattern needs the wavelength (angstrom)",
                             file=self.source, field="wavelength", value=self.wavelength)
        if self.axis == "tof" and (self.difc is None or self.difc <= 0):
            raise InputError("a time-of-flight pattern needs DIFC (us/angstrom)", file=self.source,
                             field="difc", value=self.difc)
        if self.sweep not in ("", "up", "down"):
            raise InputError("sweep must be 'up', 'down' or empty", file=self.source, field="sweep",
                             value=self.sweep)
        self.x, self.y, self.sigma = x, y, s

    @property
    def unit(self) -> str:
        return AXES[self.axis]


def read_powder(path, *, axis: str = "two_theta", wavelength: float | None = None,
                difc: float | None = None, condition: float = float("nan"), sweep: str = "",
                label: str = "") -> PowderData:
    """Read ``x y [e]`` columns (``#`` comments; without e, sigma = sqrt(max(y, 1))) or a GSAS
    ``.gsa``/``.fxye`` file written by :func:`write_gsas` (positions converted from centidegrees
    for constant wavelength)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    bank = next((ln for ln in lines if ln.startswith("BANK")), None)
    if bank is not None:
        x, y, e = _read_gsas(lines, bank, path, axis)
    else:
        rows = []
        for i, ln in enumerate(lines, 1):
            t = ln.split("#", 1)[0].replace(",", " ").strip()
            if not t:
                continue
            try:
                rows.append([float(v) for v in t.split()])
            except ValueError as exc:
                if rows:
                    raise FormatError("not a number", file=path, field=f"line {i}", value=ln) from exc
        if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
            raise FormatError("expected 2 or 3 numeric columns: x, y[, e]", file=path, field="columns")
        arr = np.array(rows)
        x, y = arr[:, 0], arr[:, 1]
        e = arr[:, 2] if arr.shape[1] > 2 else np.sqrt(np.maximum(y, 1.0))
    return PowderData(x, y, e, axis, wavelength, difc, condition, sweep, label or path.stem, str(path))


def _read_gsas(lines, bank: str, path, axis: str):
    parts = bank.split()
    kind = parts[-1]
    start = lines.index(bank) + 1
    body = [ln for ln in lines[start:] if ln.strip() and not ln.startswith("#")]
    scale = 1.0
    for ln in lines:
        if ln.startswith("# intensities scaled by"):
            scale = float(ln.split()[-1])
    factor = 100.0 if axis == "two_theta" else 1.0
    try:
        if kind == "FXYE":
            arr = np.array([[float(v) for v in ln.split()[:3]] for ln in body])
            return arr[:, 0] / factor, arr[:, 1] / scale, arr[:, 2] / scale
        if kind == "ESD":
            n = int(parts[2])
            x0, dx = float(parts[5]), float(parts[6])
            vals = []
            for ln in body:
                ln = ln.ljust(80)
                for i in range(0, 80, 16):
                    if ln[i:i + 8].strip():
                        vals.append((float(ln[i:i + 8]), float(ln[i + 8:i + 16])))
            vals = np.array(vals[:n])
            x = (x0 + dx * np.arange(len(vals))) / factor
            return x, vals[:, 0] / scale, vals[:, 1] / scale
    except (ValueError, IndexError) as exc:
        raise FormatError(f"malformed GSAS {kind} data", file=path, field="BANK") from exc
    raise FormatError("GSAS data type not read (use ESD or FXYE)", file=path, field="BANK", value=kind)


def write_xye(data: PowderData, path, comment: str = "") -> Path:
    """Three columns x, y, e with ``#`` comment lines (axis, unit, condition)."""
    head = [f"# {c}" for c in comment.splitlines() if c]
    head.append(f"# {data.label}: {data.axis} ({data.unit}), intensity, esd; condition "
                f"{data.condition:g} {data.sweep}".rstrip())
    if data.wavelength:
        head.append(f"# wavelength {data.wavelength:.8g} angstrom")
    if data.difc:
        head.append(f"# DIFC {data.difc:.8g} us/angstrom")
    body = [f"{x:.8f} {y:.8g} {e:.8g}" for x, y, e in zip(data.x, data.y, data.sigma, strict=True)]
    return write_text_atomic(path, "\n".join(head + body) + "\n")


def _scale(vmax: float, limit: float) -> float:
    if vmax < limit:
        return 1.0
    return 10.0 ** -int(np.ceil(np.log10(vmax / limit)))


def write_gsas(data: PowderData, path, *, kind: str = "ESD", title: str | None = None) -> Path:
    """A GSAS raw file: ``kind`` 'ESD' (.gsa, needs an equally spaced grid) or 'FXYE' (module
    docstring).  Positions in centidegrees (2theta) or microseconds (TOF); d-spacing data are
    not a GSAS raw format (InputError)."""
    if kind not in ("ESD", "FXYE"):
        raise InputError("GSAS kind must be 'ESD' or 'FXYE'", field="kind", value=kind)
    if data.axis == "d":
        raise InputError("GSAS raw files hold 2theta or TOF positions, not d", field="axis",
                         value=data.axis)
    factor = 100.0 if data.axis == "two_theta" else 1.0
    x = data.x * factor
    n = len(x)
    head = [(title or f"{data.label} written by latdyn")[:80].ljust(80)]
    if data.wavelength:
        head.append(f"# wavelength {data.wavelength:.8g} angstrom".ljust(80))
    if data.difc:
        head.append(f"# DIFC {data.difc:.8g} us/angstrom".ljust(80))
    if kind == "FXYE":
        s = _scale(float(max(np.abs(data.y).max(), data.sigma.max())), 1e12)
        if s != 1.0:
            head.append(f"# intensities scaled by {s:g}".ljust(80))
        head.append(f"BANK 1 {n} {n} CONS {x[0]:.4f} {x[1] - x[0]:.4f} 0 0 FXYE".ljust(80))
        body = [f"{xi:.6f} {yi * s:.8g} {ei * s:.8g}".ljust(80)
                for xi, yi, ei in zip(x, data.y, data.sigma, strict=True)]
        return write_text_atomic(path, "\r\n".join(head + body) + "\r\n")
    step = np.diff(x)
    if not np.allclose(step, step[0], rtol=1e-6, atol=1e-9):
        raise InputError("the GSAS ESD format needs an equally spaced grid; write FXYE instead",
                         field="x")
    s = _scale(float(max(np.abs(data.y).max(), data.sigma.max())), 99999.0)
    if s != 1.0:
        head.append(f"# intensities scaled by {s:g}".ljust(80))
    nrec = -(-n // 5)
    head.append(f"BANK 1 {n} {nrec} CONS {x[0]:.4f} {step[0]:.6f} 0 0 ESD".ljust(80))
    pairs = [f"{yi * s:8.2f}{ei * s:8.2f}" for yi, ei in zip(data.y, data.sigma, strict=True)]
    body = ["".join(pairs[i:i + 5]).ljust(80) for i in range(0, n, 5)]
    return write_text_atomic(path, "\r\n".join(head + body) + "\r\n")
