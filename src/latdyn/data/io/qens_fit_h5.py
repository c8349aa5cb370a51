"""The QENS fit files of ``latdyn qens fit`` (``fit_perq_<N>L.h5``, ``fit_global.h5``).

Layout (:meth:`latdyn.qens.spectral_result.SpectralFitResult.write_hdf5`, docs/qens.md): root
attributes ``mode``, ``chi2``, ``n_points``, ``n_varied``, ``aic``, ``bic``, ``converged``,
``source``; ``/parameters/{name, value, error, unit, vary, min, max, group}``;
``/groups/<i>`` (attributes ``Q`` and ``chi2``; datasets ``E``, ``data``, ``error``, ``mask``,
``model``, ``components/<name>``; ``mask`` is True on the points the fit used); JSON text in
``/model``, ``/status``, ``/reasons``, ``/derived``.

As :class:`LoadedData`: the entries ``data`` (the fitted spectra, dims ``(Q, E)``, with
errors and the fit's mask ``excluded``) and ``model`` (the model curves, same grid) when
every group shares one energy grid, else ``data <i>`` and ``model <i>`` per group (dim ``E``).
Metadata (of the data entries): the root attributes, ``parameters`` (name -> value, error, unit),
``reasons`` (why the fit is not trusted, when it is not) and ``derived`` quantities.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipp as sc

from ...errors import FormatError
from ...fileio import names_input_file
from ._common import bytes_to_str, dataset, open_hdf5, read_array, read_dataset
from .container import LoadedData

__all__ = ["is_qens_fit_h5", "read_qens_fit_h5"]

_ROOT = ("mode", "chi2", "n_points", "n_varied", "aic", "bic", "converged", "source")


def is_qens_fit_h5(fh: Any) -> bool:
    """True for the layout of a QENS fit file (module docstring)."""
    import h5py

    try:
        return ("mode" in fh.attrs and "chi2" in fh.attrs and isinstance(fh.get("groups"), h5py.Group)
                and isinstance(fh.get("parameters"), h5py.Group))
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False


def _json(fh: Any, name: str, file: Path) -> Any:
    if name not in fh:
        return None
    text = bytes_to_str(read_dataset(dataset(fh, name, file), file, name))
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError, RecursionError):
        raise FormatError("bad JSON", file=file, field=name) from None


def _scalar(v: Any) -> Any:
    v = bytes_to_str(v)
    return v.item() if isinstance(v, np.generic) else v


def _group_arrays(g: Any, file: Path, where: str) -> dict[str, np.ndarray]:
    out = {k: read_array(g, k, file, ndim=1) for k in ("E", "data", "error", "model")}
    out["mask"] = read_array(g, "mask", file, ndim=1, dtype=bool) if "mask" in g else \
        np.zeros(out["E"].shape, dtype=bool)
    for k, v in out.items():
        if v.shape != out["E"].shape:
            raise FormatError("differs in length from E", file=file, field=f"{where}/{k}",
                              value=v.shape)
    return out


@names_input_file
def read_qens_fit_h5(path: str | Path) -> LoadedData:
    """Read a QENS fit file (module docstring) as :class:`LoadedData`."""
    p = Path(path)
    with open_hdf5(p) as fh:
        meta: dict[str, Any] = {k: _scalar(fh.attrs[k]) for k in _ROOT if k in fh.attrs}
        pg = fh["parameters"]
        names = [str(bytes_to_str(x)) for x in np.atleast_1d(read_dataset(dataset(pg, "name", p), p,
                                                                           "parameters/name"))]
        values = read_array(pg, "value", p, ndim=1)
        errors = read_array(pg, "error", p, ndim=1)
        units = [str(bytes_to_str(x)) for x in np.atleast_1d(read_dataset(dataset(pg, "unit", p), p,
                                                                           "parameters/unit"))]
        if not len(names) == values.size == errors.size == len(units):
            raise FormatError("parameter columns differ in length", file=p, field="parameters")
        meta["parameters"] = {n: {"value": float(v), "error": float(e), "unit": u}
                              for n, v, e, u in zip(names, values, errors, units, strict=True)}
        for key in ("reasons", "derived", "status"):
            value = _json(fh, key, p)
            if value:
                meta[key] = value
        groups = fh["groups"]
        keys = sorted(groups, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
        if not keys:
            raise FormatError("the fit file holds no group", file=p, field="groups")
        arrays, qs = [], []
        for k in keys:
            arrays.append(_group_arrays(groups[k], p, f"groups/{k}"))
            qs.append(float(_scalar(groups[k].attrs.get("Q", np.nan))))
    entries: dict[str, sc.DataArray] = {}
    e0 = arrays[0]["E"]
    if all(a["E"].shape == e0.shape and np.array_equal(a["E"], e0) for a in arrays) and \
            np.all(np.isfinite(qs)) and np.all(np.diff(qs) > 0):
        stack = {k: np.stack([a[k] for a in arrays]) for k in ("data", "error", "model", "mask")}
        coords = {"Q": sc.array(dims=["Q"], values=qs, unit="1/angstrom"),
                  "E": sc.array(dims=["E"], values=e0, unit="meV")}
        data = sc.DataArray(sc.array(dims=["Q", "E"], values=stack["data"],
                                     variances=stack["error"] ** 2), coords=coords)
        data.masks["excluded"] = sc.array(dims=["Q", "E"], values=~stack["mask"])
        entries["data"] = data
        entries["model"] = sc.DataArray(sc.array(dims=["Q", "E"], values=stack["model"]),
                                        coords=coords)
    else:
        for k, a in zip(keys, arrays, strict=True):
            coords = {"E": sc.array(dims=["E"], values=a["E"], unit="meV")}
            d = sc.DataArray(sc.array(dims=["E"], values=a["data"], variances=a["error"] ** 2),
                             coords=coords)
            d.masks["excluded"] = sc.array(dims=["E"], values=~a["mask"])
            entries[f"data {k}"] = d
            entries[f"model {k}"] = sc.DataArray(sc.array(dims=["E"], values=a["model"]), coords=coords)
    return LoadedData(p, "qens_fit_h5", entries,
                      {k: dict(meta) if k.startswith("data") else {} for k in entries})
