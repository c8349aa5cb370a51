"""H5MD trajectories (de Buyl et al., Comput. Phys. Commun. 185, 1546 (2014)) as data.

``latdyn md`` streams trajectories frame block by frame block (:mod:`latdyn.md.trajectory`);
this reader serves :func:`latdyn.data.io.load` and ``latdyn info``: the positions of the first
particle group as one entry ``position`` with dims ``(time, particle, xyz)`` in angstrom and
the time in ps (from ``position/time``, else the frame index times ``dt``), read whole within
the read budget.  Metadata: ``n_frames``, ``n_atoms``, ``species`` (symbol -> count, from
``species`` as text or numbers), ``time_step`` (ps, when the file gives times), ``box``
(angstrom, the first frame's edges as 3 lengths or a 3x3 matrix), ``has_velocities``,
``creator`` (the program named in ``h5md/creator``) and ``particle_group``.

Units: length ``nm``, ``pm``, ``m`` or ``angstrom`` (the H5MD ``unit`` attribute; angstrom
when absent), time ``fs``, ``ps``, ``ns`` or ``s`` (ps when absent), converted with scipp.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError
from ...fileio import names_input_file
from ._common import bytes_to_str, check_dataset, open_hdf5, read_dataset
from .container import LoadedData

__all__ = ["is_h5md", "read_h5md"]


def is_h5md(fh: Any) -> bool:
    """True when an open h5py file has the ``h5md`` and ``particles`` groups of H5MD."""
    import h5py

    try:
        return isinstance(fh.get("h5md"), h5py.Group) and isinstance(fh.get("particles"), h5py.Group)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False


def _scale(ds: Any, default: str, target: str, file: Path, field: str) -> float:
    unit = bytes_to_str(ds.attrs.get("unit", default))
    text = str(unit).strip() or default
    text = {"a": "angstrom", "å": "angstrom"}.get(text.lower(), text)
    try:
        return float(sc.scalar(1.0, unit=text).to(unit=target).value)
    except Exception:  # noqa: BLE001 - scipp raises several kinds for unknown units
        raise FormatError(f"unknown or wrong unit (expected one convertible to {target})",
                          file=file, field=field + "@unit", value=unit) from None


def _first_frame(obj: Any, file: Path, field: str) -> np.ndarray:
    """A time-independent dataset, or frame 0 of a time-dependent H5MD element (``value``)."""
    import h5py

    if isinstance(obj, h5py.Group):
        if not isinstance(obj.get("value"), h5py.Dataset):
            raise FormatError("time-dependent element without a 'value' dataset", file=file,
                              field=field)
        ds = obj["value"]
        check_dataset(ds, file, field + "/value", whole=False)
        if not ds.shape:
            raise FormatError("'value' is a scalar, expected one entry per frame", file=file,
                              field=field + "/value")
        return np.asarray(ds[0])
    return np.asarray(read_dataset(obj, file, field))


def _species(g: Any, n_atoms: int, file: Path, where: str) -> dict[str, int]:
    if "species" not in g:
        return {}
    sp = _first_frame(g["species"], file, where + "/species").reshape(-1)
    if sp.size != n_atoms:
        raise FormatError(f"species has {sp.size} entries for {n_atoms} atoms", file=file,
                          field=where + "/species", value=sp.shape)
    names = [str(bytes_to_str(s)) if sp.dtype.kind in "SOU" else str(int(s)) for s in sp]
    return dict(Counter(names))


@names_input_file
def read_h5md(path: str | Path) -> LoadedData:
    """The positions of an H5MD file as one entry (module docstring); FormatError naming the
    dataset when the layout is broken or a size does not fit the read budget."""
    import h5py

    p = Path(path)
    with open_hdf5(p) as fh:
        parts = fh.get("particles")
        if not isinstance(parts, h5py.Group) or not len(parts):
            raise FormatError("no H5MD 'particles' group", file=p, field="particles")
        group = sorted(parts)[0]
        where = f"particles/{group}"
        g = parts[group]
        pos_grp = g.get("position") if isinstance(g, h5py.Group) else None
        if not isinstance(pos_grp, h5py.Group) or not isinstance(pos_grp.get("value"), h5py.Dataset):
            raise FormatError("no positions", file=p, field=where + "/position/value")
        ds = pos_grp["value"]
        if ds.ndim != 3 or ds.shape[2] != 3 or 0 in ds.shape:
            raise FormatError("positions must be (frames, atoms, 3) with at least one frame and "
                              "atom", file=p, field=where + "/position/value", value=ds.shape)
        n_frames, n_atoms = int(ds.shape[0]), int(ds.shape[1])
        scale = _scale(ds, "angstrom", "angstrom", p, where + "/position/value")
        pos = np.asarray(read_dataset(ds, p, where + "/position/value"), dtype=float) * scale
        meta: dict[str, Any] = {"n_frames": n_frames, "n_atoms": n_atoms, "particle_group": group,
                                "has_velocities": isinstance(g.get("velocity"), h5py.Group)}
        t_ds = pos_grp.get("time")
        time = np.arange(n_frames, dtype=float)
        time_unit = "dimensionless"
        if isinstance(t_ds, h5py.Dataset) and t_ds.shape == (n_frames,):
            time = np.asarray(read_dataset(t_ds, p, where + "/position/time"), dtype=float) * \
                _scale(t_ds, "ps", "ps", p, where + "/position/time")
            time_unit = "ps"
            if n_frames > 1:
                meta["time_step"] = float(time[1] - time[0])
        if isinstance(g.get("box"), h5py.Group) and "edges" in g["box"]:
            edges = g["box"]["edges"]
            e_ds = edges["value"] if isinstance(edges, h5py.Group) and "value" in edges else edges
            box = _first_frame(edges, p, where + "/box/edges").astype(float) * \
                _scale(e_ds, "angstrom", "angstrom", p, where + "/box/edges")
            meta["box"] = [round(float(x), 6) for x in box.reshape(-1)]
        meta["species"] = _species(g, n_atoms, p, where)
        creator = fh["h5md"].get("creator") if isinstance(fh["h5md"], h5py.Group) else None
        if creator is not None:
            name = bytes_to_str(creator.attrs.get("name", ""))
            version = bytes_to_str(creator.attrs.get("version", ""))
            meta["creator"] = f"{name} {version}".strip()
    if not np.all(np.isfinite(pos)):
        raise FormatError("positions hold NaN or infinity", file=p, field=where + "/position/value")
    da = sc.DataArray(
        sc.array(dims=["time", "particle", "xyz"], values=pos, unit="angstrom"),
        coords={"time": sc.array(dims=["time"], values=time, unit=time_unit),
                "xyz": sc.array(dims=["xyz"], values=["x", "y", "z"])})
    return LoadedData(p, "h5md", {"position": da}, {"position": meta})
