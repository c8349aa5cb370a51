r"""Reading polarisation channels from the formats latdyn reads, into one DataGroup.

:func:`read_channels` takes one or several files and returns a :class:`scipp.DataGroup`
keyed by canonical channel name ('z_sf', 'x+y_nsf', ...; :mod:`latdyn.polarisation.channels`).
Each file may hold one channel or several:

Mantid processed NeXus (a workspace group, ``SaveNexusProcessed``)
    one workspace per channel.  The channel comes from the sample logs -- the polarisation
    direction from ``POL.actual_state`` (ILL D7: ZPO, XPO, YPO, XPYPO, XMYPO) or a log named
    ``polarisation``/``polarization``/``polarisation_direction``, the spin state from
    ``POL.actual_stateB1B2`` (D7: ON = spin flip) or ``flipper``/``flipper_state``/
    ``spin_state``/``spin_flip`` (ON/OFF, SF/NSF or 1/0) -- and from the workspace name (e.g.
    ``sample_z_sf``, ``396939_ZPO_ON``).  When both say something they must agree
    ("inconsistent flipper states" otherwise).
ILL LAMP HDF5
    one spin state per file (``entry1/data1``) or one per entry (``entry1``, ``entry2``, ...,
    each with ``data1/DATA``, ``errors``, ``X``, ``Y`` and ``PARAMETERS``).  The channel comes
    from PARAMETERS lines whose name contains 'polari' (direction) and 'flipper' or 'spin'
    (state), or else from the file name (one-entry files) or the entry's title attribute.
latdyn results file (``separation.h5`` of :meth:`Separation.write`)
    its ``channel_<name>`` arrays.
Text, the latdyn channel layout (documented in docs/polarisation.md)::

    # latdyn polarisation channels
    # units: Q=1/angstrom E=meV value=counts
    Q      E      z_nsf  z_nsf_err  z_sf  z_sf_err
    0.50  -1.00   1234   35.1       456   21.4
    ...

    the first line marks the layout; ``# units:`` gives the units of the axis columns and of
    the values; the header row names the columns: axis columns (``Q``, ``E``, ``two_theta``;
    ``alpha``, the angle from x to Q in degrees, is read as a coordinate on the grid), then per
    channel its value and its standard error ``<name>_err``.  One row per grid point in any
    order (a 2-D grid is the product of the distinct axis values; a grid point absent from
    the file is masked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import scipp as sc

from ..errors import FormatError, InputError
from .channels import Channel, channel_group, parse_channel, parse_direction, parse_flip

__all__ = ["read_channels", "write_channels_text", "TEXT_MARKER"]

#: first line of the text channel layout
TEXT_MARKER = "# latdyn polarisation channels"

_DIRECTION_LOGS = ("pol.actual_state", "polarisation", "polarization", "polarisation_direction",
                   "polarization_direction", "pol_direction", "pol")
_FLIP_LOGS = ("pol.actual_stateb1b2", "flipper", "flipper_state", "flipper.state", "spin_state",
              "spin_flip", "spinflip")
_AXES = {"q": ("Q", "1/angstrom"), "e": ("E", "meV"), "two_theta": ("two_theta", "deg"),
         "2theta": ("two_theta", "deg")}


def read_channels(sources: str | Path | Iterable[str | Path], *, entries: Iterable[str] | None = None
                  ) -> sc.DataGroup:
    """Read the channels of one or several files (module docstring) into one checked DataGroup.

    ``entries``: for files with several entries, only these (workspace or entry names).
    InputError for a missing or duplicated channel, a name that names no channel, or
    inconsistent flipper states; FormatError for an unreadable layout."""
    paths = [Path(sources)] if isinstance(sources, str | Path) else [Path(s) for s in sources]
    if not paths:
        raise InputError("no channel files given", field="sources")
    wanted = set(entries) if entries is not None else None
    out: dict[str, sc.DataArray] = {}
    origin: dict[str, str] = {}
    for p in paths:
        for key, da, where in _read_one(p, wanted):
            if key in out:
                raise InputError(f"channel {key} appears twice ({origin[key]} and {where})", file=p,
                                 field="channel", value=key)
            out[key] = da
            origin[key] = where
    return channel_group(out, str(paths[0]) if len(paths) == 1 else None)


def _read_one(p: Path, wanted) -> list[tuple[str, sc.DataArray, str]]:
    from ..data.io.detect import detect_format

    fmt = detect_format(p)
    if fmt == "mantid_nexus":
        return _mantid(p, wanted)
    if fmt == "lamp_hdf":
        return _lamp(p, wanted)
    if fmt == "results_h5":
        return _results(p)
    if fmt in ("ascii_columns",):
        return _text(p)
    raise FormatError(f"channels cannot be read from a {fmt} file", file=p, field="format", value=fmt)


def _log_value(logs: dict, names) -> tuple[str, object] | None:
    low = {str(k).lower(): (k, v) for k, v in logs.items()}
    for n in names:
        if n in low:
            k, v = low[n]
            if isinstance(v, list | tuple | np.ndarray) and len(v):
                vals = {str(x) for x in np.ravel(v)}
                if len(vals) > 1:
                    raise InputError(f"the log {k} changes during the run ({sorted(vals)})",
                                     field=str(k), value=sorted(vals))
                v = next(iter(vals))
            return str(k), v
    return None


def _from_logs(logs: dict, where: str) -> tuple[str | None, bool | None, str]:
    direction = flip = None
    said = []
    d = _log_value(logs, _DIRECTION_LOGS)
    if d is not None:
        direction = parse_direction(str(d[1]).strip())
        if direction is None:
            raise InputError(f"the log {d[0]} names no polarisation direction", file=where,
                             field=d[0], value=d[1])
        said.append(f"{d[0]} = {d[1]}")
    f = _log_value(logs, _FLIP_LOGS)
    if f is not None:
        flip = parse_flip(f[1], numeric=True)
        if flip is None:
            raise InputError(f"the log {f[0]} names no spin state", file=where, field=f[0], value=f[1])
        said.append(f"{f[0]} = {f[1]}")
    return direction, flip, ", ".join(said)


def _resolve(name_candidates: list[str], logs: dict, where: str) -> str:
    """The channel key of an entry from its logs and its names, checking they agree."""
    direction, flip, said = _from_logs(logs, where)
    from_name = None
    for n in name_candidates:
        try:
            from_name = parse_channel(n)
            break
        except InputError:
            continue
    if from_name is not None:
        if flip is not None and flip != from_name.flip:
            raise InputError(f"inconsistent flipper states: the name '{n}' says "
                             f"{'SF' if from_name.flip else 'NSF'}, the logs say ({said})", file=where,
                             field="flipper", value=n)
        if direction is not None and direction != from_name.direction:
            raise InputError(f"inconsistent polarisation directions: the name '{n}' says "
                             f"{from_name.direction}, the logs say ({said})", file=where,
                             field="polarisation", value=n)
        return from_name.key
    if direction is None or flip is None:
        what = "spin state (flipper)" if flip is None else "polarisation direction"
        raise InputError(f"cannot tell the {what} of this entry: name it like 'z_sf' or give the "
                         "flipper and polarisation logs", file=where, field="channel",
                         value=name_candidates[0] if name_candidates else None)
    return Channel(direction, flip).key


def _mantid(p: Path, wanted) -> list:
    from ..data.io import load

    ld = load(p, format="mantid_nexus")
    out = []
    for name, da in ld.entries.items():
        if wanted is not None and name not in wanted:
            continue
        meta = ld.metadata.get(name, {})
        names = [str(x) for x in (meta.get("workspace_name"), name, meta.get("title")) if x]
        key = _resolve(names, meta.get("logs", {}) or {}, f"{p}:{name}")
        out.append((key, da, f"{p.name}:{name}"))
    if not out:
        raise InputError("no workspace of the file was selected", file=p, field="entries",
                         value=sorted(wanted or []))
    return out


def _lamp_params(text: str) -> dict:
    from ..data.io.lamp_hdf import parse_lamp_parameters

    params = parse_lamp_parameters(text)
    logs = {}
    for k, v in params.items():
        low = k.lower()
        if "polari" in low and "direction" not in logs:
            logs["polarisation"] = v
        if ("flipper" in low or low.startswith("spin")) and "flipper" not in logs:
            logs["flipper"] = v
    return logs


def _lamp(p: Path, wanted) -> list:
    import h5py

    with h5py.File(p, "r") as fh:
        names = sorted((k for k in fh if re.fullmatch(r"entry\d+", k) and f"{k}/data1/DATA" in fh),
                       key=lambda k: int(k[5:]))
        titles = {k: _attr_text(fh[k].attrs.get("title") or fh[k].attrs.get("TITLES")) for k in names}
    if len(names) == 1:
        from ..data.io import load

        ld = load(p, format="lamp_hdf")
        da, meta = ld.pick()
        logs = _lamp_params_from_meta(meta)
        key = _resolve([p.stem, meta.get("title", "")], logs, str(p))
        return [(key, da, p.name)]
    out = []
    for k in names:
        if wanted is not None and k not in wanted:
            continue
        da, ptext = _lamp_entry(p, k)
        key = _resolve([titles[k]] if titles[k] else [], _lamp_params(ptext), f"{p}:{k}")
        out.append((key, da, f"{p.name}:{k}"))
    return out


def _lamp_params_from_meta(meta: dict) -> dict:
    logs = {}
    for k, v in (meta.get("parameters") or {}).items():
        low = str(k).lower()
        if "polari" in low and "polarisation" not in logs:
            logs["polarisation"] = v
        if ("flipper" in low or low.startswith("spin")) and "flipper" not in logs:
            logs["flipper"] = v
    return logs


def _attr_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        return " ".join(_attr_text(x) for x in v.ravel())
    return str(v)


def _lamp_entry(p: Path, entry: str) -> tuple[sc.DataArray, str]:
    """One entry of a multi-entry LAMP file: DATA (rows Q or angles, columns energy), errors
    (-1 marks no data: masked), X (energy, meV; micro-eV when its long_name says so), Y."""
    import h5py

    base = f"{entry}/data1/"
    with h5py.File(p, "r") as fh:
        try:
            data = np.asarray(fh[base + "DATA"][()], float)
            err = np.asarray(fh[base + "errors"][()], float)
            x = np.asarray(fh[base + "X"][()], float).ravel()
            y = np.asarray(fh[base + "Y"][()], float).ravel()
        except KeyError as exc:
            raise FormatError(f"LAMP entry misses {exc}", file=p, field=base) from None
        xl = _attr_text(fh[base + "X"].attrs.get("long_name")).lower()
        yl = _attr_text(fh[base + "Y"].attrs.get("long_name")).lower()
        ptext = _attr_text(fh[base + "PARAMETERS"][()]) if base + "PARAMETERS" in fh else ""
    if data.ndim != 2 or err.shape != data.shape:
        raise FormatError("DATA must be 2-D with errors of the same shape", file=p, field=base + "DATA",
                          value=(data.shape, err.shape))
    if data.shape == (x.size, y.size) and data.shape != (y.size, x.size):
        data, err = data.T, err.T
    if data.shape[1] != x.size or data.shape[0] != y.size:
        raise FormatError("X and Y do not match DATA", file=p, field=base + "DATA",
                          value=(data.shape, x.size, y.size))
    if "uev" in xl or "micro" in xl:
        x = x * 1e-3
    ydim = "Q" if ("wavevector" in yl or yl.strip().startswith("q")) else "two_theta" if "angle" in yl \
        else "spectrum"
    yunit = {"Q": "1/angstrom", "two_theta": "deg", "spectrum": ""}[ydim]
    for arr, d in ((x, "X"), (y, "Y")):
        if arr.size > 1 and not (np.all(np.diff(arr) > 0) or np.all(np.diff(arr) < 0)):
            raise FormatError(f"{d} must be monotonic", file=p, field=base + d)
    if x.size > 1 and x[1] < x[0]:
        x, data, err = x[::-1], data[:, ::-1], err[:, ::-1]
    if y.size > 1 and y[1] < y[0]:
        y, data, err = y[::-1], data[::-1], err[::-1]
    bad = err < 0
    da = sc.DataArray(sc.array(dims=[ydim, "E"], values=np.where(bad, 0.0, data),
                               variances=np.where(bad, 0.0, err) ** 2),
                      coords={ydim: sc.array(dims=[ydim], values=y, unit=yunit),
                              "E": sc.array(dims=["E"], values=x, unit="meV")}, name=entry)
    if np.any(bad):
        da.masks["unmeasured"] = sc.array(dims=[ydim, "E"], values=bad)
    return da, ptext


def _results(p: Path) -> list:
    from ..data.io import read_results_h5

    r = read_results_h5(p)
    out = [(parse_channel(k[len("channel_"):]).key, da, f"{p.name}:{k}") for k, da in r.data.items()
           if k.startswith("channel_")]
    if not out:
        raise FormatError("the results file holds no channel_<name> arrays", file=p, field="data")
    return out


def _text(p: Path) -> list:
    lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or not lines[0].strip().lower().startswith(TEXT_MARKER):
        raise FormatError(f"not the latdyn channel layout: the first line must be '{TEXT_MARKER}'",
                          file=p, field="line 1", value=lines[0][:60] if lines else "")
    units = {}
    header = None
    rows = []
    for i, line in enumerate(lines[1:], start=2):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            m = re.match(r"#\s*units\s*:\s*(.*)", s, re.I)
            if m:
                for part in m.group(1).split():
                    k, _, u = part.partition("=")
                    units[k.strip().lower()] = u.strip()
            continue
        cells = re.split(r"[\s,;]+", s)
        if header is None:
            header = cells
            continue
        if len(cells) != len(header):
            raise FormatError(f"row has {len(cells)} values for {len(header)} columns", file=p,
                              field=f"line {i}", value=len(cells))
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise FormatError("non-numeric value", file=p, field=f"line {i}", value=s[:60]) from None
    if header is None or not rows:
        raise FormatError("no header row or no data rows", file=p, field="rows")
    table = np.array(rows)
    cols = {h: table[:, j] for j, h in enumerate(header)}
    axes = [h for h in header if h.lower() in _AXES]
    if not axes:
        raise FormatError("no axis column (Q, E or two_theta)", file=p, field="header", value=header)
    values = [h for h in header if h.lower() not in _AXES and h.lower() != "alpha"
              and not h.lower().endswith(("_err", "_error"))]
    grid = [np.unique(cols[a]) for a in axes]
    shape = tuple(g.size for g in grid)
    index = tuple(np.searchsorted(g, cols[a]) for g, a in zip(grid, axes, strict=True))
    flat = np.ravel_multi_index(index, shape)
    if np.unique(flat).size != flat.size:
        raise FormatError("a grid point appears twice", file=p, field="rows")
    dims = [_AXES[a.lower()][0] for a in axes]
    coords = {d: sc.array(dims=[d], values=g, unit=units.get(a.lower(), _AXES[a.lower()][1]))
              for d, g, a in zip(dims, grid, axes, strict=True)}
    present = np.zeros(int(np.prod(shape)), bool)
    present[flat] = True
    if "alpha" in {h.lower() for h in header}:
        a = np.full(present.size, np.nan)
        a[flat] = cols[next(h for h in header if h.lower() == "alpha")]
        coords["alpha"] = sc.array(dims=dims, values=a.reshape(shape), unit="deg")
    vunit = units.get("value", "counts")
    out = []
    for name in values:
        key = parse_channel(name).key
        names = (f"{name.lower()}_err", f"{name.lower()}_error")
        ename = next((h for h in header if h.lower() in names), None)
        if ename is None:
            raise FormatError(f"channel {name} has no error column {name}_err", file=p, field="header",
                              value=name)
        v = np.zeros(present.size)
        e = np.zeros(present.size)
        v[flat], e[flat] = cols[name], cols[ename]
        if np.any(e[flat] < 0) or np.any(~np.isfinite(e[flat])):
            raise FormatError("errors must be finite and non-negative", file=p, field=ename)
        da = sc.DataArray(sc.array(dims=dims, values=v.reshape(shape), variances=(e**2).reshape(shape),
                                   unit=vunit), coords=coords, name=name)
        if not present.all():
            da.masks["not_in_file"] = sc.array(dims=dims, values=~present.reshape(shape))
        out.append((key, da, f"{p.name}:{name}"))
    return out


def write_channels_text(path: str | Path, channels) -> Path:
    """Write channels in the latdyn text layout (module docstring), atomically."""
    from ..fileio import write_text_atomic
    from .channels import check_channels

    ch = check_channels(channels)
    first = next(iter(ch.values()))
    if first.ndim not in (1, 2):
        raise InputError("the text layout holds 1-D or 2-D channels", field="dims", value=first.dims)
    inv = {v[0]: k for k, v in _AXES.items() if k != "2theta"}
    for d in first.dims:
        if d not in inv or d not in first.coords or first.coords.is_edges(d):
            raise InputError("the text layout needs point coordinates Q, E or two_theta", field=d)
    axes = [np.asarray(first.coords[d].values, float) for d in first.dims]
    mesh = np.meshgrid(*axes, indexing="ij")
    cols = {d: m.ravel() for d, m in zip(first.dims, mesh, strict=True)}
    if "alpha" in first.coords:
        cols["alpha"] = np.broadcast_to(first.coords["alpha"].values, first.shape).ravel()
    for k, da in ch.items():
        cols[k] = np.asarray(da.values, float).ravel()
        cols[f"{k}_err"] = np.sqrt(np.asarray(da.variances, float)).ravel()
    units = " ".join(f"{d}={_unit_text(first.coords[d].unit)}" for d in first.dims) \
        + f" value={_unit_text(first.unit)}"
    lines = [TEXT_MARKER, f"# units: {units}", " ".join(cols)]
    lines += [" ".join(f"{cols[c][i]:.10g}" for c in cols) for i in range(first.size)]
    return write_text_atomic(path, "\n".join(lines) + "\n")


def _unit_text(unit) -> str:
    """A unit as text that scipp reads back (angstrom spelt out, no spaces)."""
    return str(unit).replace("Å", "angstrom").replace(" ", "")
