"""ILL INX ASCII files (IN5, IN6, TOFTOF via LAMP; IN16B elastic scans).

The file is a sequence of blocks, one per group (Q value or detector angle)::

    line 1   n_lines  ...  n_points        (integers; the last one is the number of points)
    line 2   title
    line 3   par1 E_i k_i T ...            (par1: Q in 1/angstrom or 2theta in degrees)
    line 4   ... channel width ...
    n_points lines   x  intensity  error   (x: energy transfer in meV, or temperature in K
                                            for an elastic/fixed-window scan)

Format after J. Ollivier (ILL), as documented with the ILL LAMP software and iFit's reader.
Line 1 declares the total number of channels first and the number of points (channels used)
last; the file declares no number of groups.  A block whose points run past the end of the
file, a last line cut without its newline, or a point count above the channel count is a
FormatError (a truncated or damaged file), never a partial result.

``par1`` is ambiguous in the wild: LAMP's Q-binned output writes |Q|, per-angle output writes
2theta, and some files carry only a group number.  ``group_axis='auto'`` decides as follows:
consecutive integers 1..n are group numbers (dim ``spectrum``; pass ``q=`` to attach Q);
values up to the largest |Q| reachable with the file's E_i and energy range are |Q|;
anything else is 2theta (degrees) and Q is computed as the elastic 4 pi sin(theta)/lambda.

``x_axis='auto'`` treats the first column as energy transfer (meV) unless it exceeds E_i
(impossible for an energy loss) and is positive throughout, in which case it is a
temperature scan (K): dims ``('T', 'Q')``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError, InputError
from ...fileio import names_input_file
from ...kinematics import q_elastic
from ...units import E_PER_K2, energy_to_wavelength
from ._common import assemble, check_axis, check_bad_errors_option, read_text_lines
from .container import LoadedData
from .validate import MAX_FIXED_ENERGY

__all__ = ["read_inx", "parse_inx_blocks", "looks_like_inx"]


def looks_like_inx(lines: list[str]) -> bool:
    """True when the first four lines have the INX block-header shape."""
    if len(lines) < 5:
        return False
    head = lines[0].split()
    try:
        ints = [int(v) for v in head]
        [float(v) for v in lines[2].split()]
        first = [float(v) for v in lines[4].split()]
    except ValueError:
        return False
    return len(ints) >= 3 and ints[-1] > 0 and len(first) >= 3


def _tail_is_cut(p: Path, lines: list[str]) -> bool:
    """True when the file's last line has no end-of-line and is shorter than the data line
    before it (INX columns have a fixed width): a truncation inside the final line, whose
    shortened number would still parse."""
    with open(p, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        if size == 0:
            return False
        fh.seek(size - 1)
        last = fh.read(1)
    if last in (b"\n", b"\r") or len(lines) < 2:
        return False
    return len(lines[-1].rstrip()) < len(lines[-2].rstrip())


def parse_inx_blocks(path: str | Path, lines: list[str] | None = None) -> list[dict[str, Any]]:
    """Blocks of an INX file: dicts with ``title``, ``params`` (line 3 as floats), ``line4``
    and ``columns`` (n_points x n_columns array); FormatError names the line at fault."""
    p = Path(path)
    if lines is None:
        lines = read_text_lines(p)[0]
    blocks = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        try:
            head = [int(v) for v in lines[i].split()]
            n = head[-1]
        except (ValueError, IndexError):
            raise FormatError("expected a block header of integers", file=p,
                              field=f"line {i + 1}", value=lines[i][:60]) from None
        if n <= 0:
            raise FormatError("block has no points", file=p, field=f"line {i + 1}", value=n)
        if len(head) >= 2 and head[0] < n:
            raise FormatError(f"block uses {n} points but declares {head[0]} channels", file=p,
                              field=f"line {i + 1}", value=lines[i][:60])
        if i + 4 + n > len(lines):
            raise FormatError(f"block announces {n} points but the file ends (truncated?)",
                              file=p, field=f"line {i + 1}", value=len(lines) - i - 4)
        try:
            params = [float(v) for v in lines[i + 2].split()]
        except ValueError:
            raise FormatError("parameter line is not numeric", file=p, field=f"line {i + 3}",
                              value=lines[i + 2][:60]) from None
        if len(params) < 2:
            raise FormatError("parameter line needs at least (angle/Q, Ei)", file=p,
                              field=f"line {i + 3}", value=lines[i + 2][:60])
        rows = []
        for j in range(i + 4, i + 4 + n):
            try:
                rows.append([float(v) for v in lines[j].split()])
            except ValueError:
                raise FormatError("data line is not numeric", file=p, field=f"line {j + 1}",
                                  value=lines[j][:60]) from None
            if len(rows[-1]) < 3:
                raise FormatError("data line needs x, intensity, error", file=p,
                                  field=f"line {j + 1}", value=lines[j][:60])
        width = min(len(r) for r in rows)
        cols = np.array([r[:width] for r in rows], dtype=float)
        blocks.append({"title": lines[i + 1].strip(), "params": params,
                       "line4": lines[i + 3].strip(), "columns": cols, "line": i + 1})
        i += 4 + n
    if not blocks:
        raise FormatError("no INX blocks found", file=p, field="line 1")
    if _tail_is_cut(p, lines):
        raise FormatError("the last line has no end-of-line: the file looks truncated", file=p,
                          field=f"line {len(lines)}", value=lines[-1][-60:])
    return blocks


def _group_axis(par1: np.ndarray, ei: float, x: np.ndarray, is_energy: bool) -> str:
    n = par1.size
    if n > 1 and np.allclose(par1, np.arange(1, n + 1)):
        return "index"
    ki = np.sqrt(ei / E_PER_K2)
    e_min = float(np.min(x)) if is_energy else 0.0
    kf_max = np.sqrt(max(ei - e_min, ei) / E_PER_K2)
    return "Q" if np.all(par1 <= ki + kf_max) else "angle"


@names_input_file
def read_inx(path: str | Path, *, group_axis: str = "auto", x_axis: str = "auto",
             q: Any = None, bad_errors: str = "error",
             max_fixed_energy: float = MAX_FIXED_ENERGY) -> LoadedData:
    """Read an ILL INX file.

    Parameters
    ----------
    group_axis: ``'auto'``, ``'Q'`` (par1 is |Q|, 1/angstrom), ``'angle'`` (par1 is 2theta,
        degrees; Q is the elastic |Q| = 4 pi sin(theta) / lambda_i) or ``'index'``.
    x_axis: ``'auto'``, ``'E'`` (energy transfer, meV) or ``'T'`` (temperature scan, K).
    q: optional |Q| per group (1/angstrom) overriding what the file says.
    bad_errors: 'error' (default) or 'mask' for NaN, negative, or zero errors on non-zero
        values (:func:`latdyn.data.io._common.assemble`).
    max_fixed_energy: largest E_i accepted (meV).

    Returns
    -------
    LoadedData with one entry: dims ``('Q', 'E')`` (``('spectrum', 'E')`` for numbered groups
    without ``q``) or ``('T', 'Q')`` for a temperature scan.  Metadata: ``title``,
    ``incident_energy`` (meV, the second value of line 3 as written; on backscattering
    instruments this is the fixed analyser energy), ``wavelength`` (angstrom), ``wavevector``
    (k_i, 1/angstrom), ``sample_temperature`` (K, when non-zero), ``q_source``,
    ``group_parameters`` (line 3 of every block).
    """
    p = Path(path)
    if group_axis not in ("auto", "Q", "angle", "index"):
        raise InputError("group_axis must be auto, Q, angle or index", field="group_axis",
                         value=group_axis)
    if x_axis not in ("auto", "E", "T"):
        raise InputError("x_axis must be auto, E or T", field="x_axis", value=x_axis)
    check_bad_errors_option(bad_errors, p)
    lines, encoding = read_text_lines(p)
    blocks = parse_inx_blocks(p, lines)
    x = blocks[0]["columns"][:, 0]
    for b in blocks[1:]:
        if b["columns"].shape[0] != x.size or not np.allclose(b["columns"][:, 0], x,
                                                               rtol=1e-6, atol=1e-9):
            raise FormatError("groups have different x values; cannot form one grid", file=p,
                              field=f"line {b['line']}", value=b["columns"].shape[0])
    params = np.array([b["params"][:2] for b in blocks])
    par1, ei_all = params[:, 0], params[:, 1]
    ei = float(ei_all[0])
    if not (np.isfinite(ei) and 0 < ei <= max_fixed_energy):
        raise FormatError(f"incident energy (2nd value of line 3) must be positive, finite and "
                          f"at most {max_fixed_energy:g} meV", file=p, field="line 3", value=ei)
    if x_axis == "auto":
        x_axis = "T" if (np.max(x) > ei and np.min(x) > 0) else "E"
    gaxis = group_axis if group_axis != "auto" else _group_axis(par1, ei, x, x_axis == "E")
    meta: dict[str, Any] = {"title": blocks[0]["title"], "incident_energy": ei,
                            "wavelength": float(energy_to_wavelength(ei)),
                            "group_parameters": [b["params"] for b in blocks]}
    if encoding != "utf-8":
        meta["text_encoding"] = encoding
    if len(blocks[0]["params"]) >= 3 and np.isfinite(blocks[0]["params"][2]) and \
            blocks[0]["params"][2] > 0:
        meta["wavevector"] = blocks[0]["params"][2]
    if len(blocks[0]["params"]) >= 4 and blocks[0]["params"][3] != 0:
        meta["sample_temperature"] = blocks[0]["params"][3]
    two_theta = None
    if not np.all(np.isfinite(par1)):
        raise FormatError("group value (1st value of line 3) is NaN or infinite", file=p,
                          field=f"line {blocks[int(np.argmin(np.isfinite(par1)))]['line'] + 2}")
    if q is not None:
        qv = np.asarray(q, dtype=float)
        if qv.shape != par1.shape:
            raise InputError(f"q must have one value per group ({par1.size})", file=p,
                             field="q", value=qv.shape)
        meta["q_source"] = "given by caller"
        gdim, gval = "Q", qv
    elif gaxis == "Q":
        meta["q_source"] = "file (line 3, first value)"
        gdim, gval = "Q", par1
    elif gaxis == "angle":
        two_theta = par1
        gval = q_elastic(meta["wavelength"], par1)
        meta["q_source"] = "elastic Q from 2theta (line 3) and E_i"
        gdim = "Q"
    else:
        meta["q_source"] = "none: groups are numbered; pass q="
        gdim, gval = "spectrum", par1
    y = np.stack([b["columns"][:, 1] for b in blocks])
    e = np.stack([b["columns"][:, 2] for b in blocks])
    check_axis(x, p, "column 1 (x)")
    order = np.argsort(gval, kind="stable")
    gval, y, e = gval[order], y[order], e[order]
    check_axis(gval, p, "line 3 (group values)")
    xdim = "E" if x_axis == "E" else "T"
    units = {gdim: "1/angstrom" if gdim == "Q" else "dimensionless",
             xdim: "meV" if xdim == "E" else "K"}
    report: dict[str, Any] = {}
    if xdim == "T":
        da = assemble(y.T, e.T, {"T": x, gdim: gval}, units, "dimensionless", p, "columns 2-3",
                      name=p.stem, bad_errors=bad_errors, report=report)
    else:
        da = assemble(y, e, {gdim: gval, "E": x}, units, "dimensionless", p, "columns 2-3",
                      name=p.stem, bad_errors=bad_errors, report=report)
    meta.update(report)
    if two_theta is not None:
        import scipp as sc

        da.coords["two_theta"] = sc.array(dims=[gdim], values=two_theta[order], unit="deg")
    return LoadedData(p, "inx", {p.stem: da}, {p.stem: meta}, max_fixed_energy=max_fixed_energy)
