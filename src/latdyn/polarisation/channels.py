r"""Polarisation channels: names, directions and the DataGroup that holds them.

A *channel* is one measured intensity: the neutron polarisation along a direction of the
laboratory frame and the spin state after the sample, non-spin-flip (NSF) or spin-flip (SF).
The frame is that of Scharpf & Capellmann, Phys. Status Solidi A 135, 359 (1993): z is
vertical (perpendicular to the horizontal scattering plane), x and y lie in the plane, and the
in-plane directions used are

==========  =======================  ================================
direction   angle beta from x (deg)  names accepted (case-insensitive)
==========  =======================  ================================
x           0                        x, xpo
y           90                       y, ypo
z           (vertical)               z, zpo
x+y         45                       x+y, xpy, xpypo
x-y         -45                      x-y, xmy, xmypo
==========  =======================  ================================

(``xpo``/``zpo`` are the ILL D7 names of the polarisation states, sample log
``POL.actual_state``.)  The spin state: ``sf``/``spinflip``/``on``/``flip``/``minus``/``-`` for
spin flip, ``nsf``/``nonspinflip``/``off``/``noflip``/``plus``/``+`` for non spin flip.  On D7
the flipper is *on* for the spin-flip measurement (``POL.actual_stateB1B2`` = ON).

The canonical key of a channel is ``<direction>_<sf|nsf>`` (``'z_sf'``, ``'x+y_nsf'``).  A set
of channels is a :class:`scipp.DataGroup` keyed by these names, every entry a DataArray on the
same grid (the same dims, shape and coordinates) with variances.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipp as sc

from ..errors import InputError

__all__ = ["DIRECTIONS", "Channel", "parse_channel", "channel_group", "check_channels",
           "channel_arrays", "direction_angle"]

#: in-plane angle beta (degrees from x) of each polarisation direction; None for z (vertical)
DIRECTIONS: dict[str, float | None] = {"x": 0.0, "y": 90.0, "z": None, "x+y": 45.0, "x-y": -45.0}

_DIRECTION_NAMES = {"x": "x", "xpo": "x", "y": "y", "ypo": "y", "z": "z", "zpo": "z",
                    "x+y": "x+y", "xpy": "x+y", "xpypo": "x+y", "x-y": "x-y", "xmy": "x-y",
                    "xmypo": "x-y"}
_SF = {"sf", "spinflip", "on", "flip", "flipped", "minus", "-"}
_NSF = {"nsf", "nonspinflip", "off", "noflip", "nonflip", "plus", "+"}


@dataclass(frozen=True, order=True)
class Channel:
    """A polarisation direction ('x', 'y', 'z', 'x+y', 'x-y') and a spin state (flip)."""

    direction: str
    flip: bool

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise InputError(f"unknown polarisation direction; use one of {list(DIRECTIONS)}",
                             field="direction", value=self.direction)

    @property
    def key(self) -> str:
        """Canonical name, e.g. 'z_sf'."""
        return f"{self.direction}_{'sf' if self.flip else 'nsf'}"

    def __str__(self) -> str:
        return self.key


def direction_angle(direction: str) -> float | None:
    """In-plane angle beta (degrees from x) of a direction, None for the vertical z."""
    d = _DIRECTION_NAMES.get(str(direction).strip().lower())
    if d is None:
        raise InputError(f"unknown polarisation direction; use one of {list(DIRECTIONS)}",
                         field="direction", value=direction)
    return DIRECTIONS[d]


def parse_direction(text: str) -> str | None:
    """Canonical direction of a name ('ZPO' -> 'z'), None when it names none."""
    return _DIRECTION_NAMES.get(str(text).strip().lower())


def parse_flip(text, numeric: bool = False) -> bool | None:
    """True for a spin-flip name, False for non spin flip, None when it names neither.

    ``numeric``: also read 1/0 (a flipper log: 1 = on = spin flip)."""
    if isinstance(text, bool | np.bool_):
        return bool(text) if numeric else None
    t = str(text).strip().lower().replace("-", "").replace("_", "").replace(" ", "") \
        if str(text).strip() not in ("-", "+") else str(text).strip()
    if t in _SF:
        return True
    if t in _NSF:
        return False
    if numeric:
        try:
            x = float(t)
        except ValueError:
            return None
        return True if x == 1 else False if x == 0 else None
    return None


def parse_channel(name: str) -> Channel:
    """The channel a name stands for: 'z_sf', 'SF_z', 'z-nsf', 'Z_ON' (D7: flipper on = spin
    flip), 'XPO OFF', 'x+y_sf', 'xmy_nsf'.  InputError naming the value otherwise."""
    text = str(name).strip().lower()
    for long, short in (("x+y", "xpy"), ("x-y", "xmy"), ("spin-flip", "spinflip"),
                        ("spin_flip", "spinflip"), ("non-spin-flip", "nonspinflip"),
                        ("non_spin_flip", "nonspinflip"), ("non-spinflip", "nonspinflip")):
        text = text.replace(long, short)
    tokens = [t for t in re.split(r"[\s_,;:/.()\[\]-]+", text) if t]
    expanded = []
    for t in tokens:
        m = re.fullmatch(r"(xpy|xmy|x|y|z)(n?sf)", t)
        expanded += [m.group(1), m.group(2)] if m else [t]
    direction = flip = None
    for t in expanded:
        d, f = parse_direction(t), parse_flip(t)
        if d is not None and f is None:
            if direction is not None and direction != d:
                raise InputError("channel name gives two polarisation directions", field="channel",
                                 value=name)
            direction = d
        elif f is not None and d is None:
            if flip is not None and flip != f:
                raise InputError("channel name gives both spin flip and non spin flip",
                                 field="channel", value=name)
            flip = f
    if direction is None or flip is None:
        raise InputError("cannot read a channel from this name: give a direction (x, y, z, x+y, "
                         "x-y) and a spin state (sf/nsf, or flipper on/off), e.g. 'z_sf'",
                         field="channel", value=name)
    return Channel(direction, flip)


def _same_grid(a: sc.DataArray, b: sc.DataArray, name_a: str, name_b: str) -> None:
    if a.dims != b.dims or a.shape != b.shape:
        raise InputError(f"channels {name_a} and {name_b} lie on different grids",
                         field="channels", value=(dict(a.sizes), dict(b.sizes)))
    for d in a.dims:
        if d in a.coords and d in b.coords:
            ca, cb = a.coords[d], b.coords[d]
            if ca.shape != cb.shape or ca.unit != cb.unit or not np.allclose(
                    ca.values, cb.values, rtol=1e-6, atol=1e-9, equal_nan=True):
                raise InputError(f"channels {name_a} and {name_b} differ in their '{d}' coordinate",
                                 field=d, value=name_b)
    if a.unit != b.unit:
        raise InputError(f"channels {name_a} and {name_b} differ in unit", field="unit",
                         value=(str(a.unit), str(b.unit)))


def channel_group(channels: Mapping[str, sc.DataArray], source: str | None = None) -> sc.DataGroup:
    """A DataGroup keyed by canonical channel names from DataArrays keyed by any accepted name.

    Checks that every channel has variances and that all share one grid (dims, shape,
    coordinates and unit); two names for the same channel are an error."""
    out: dict[str, sc.DataArray] = {}
    for name, da in channels.items():
        if not isinstance(da, sc.DataArray):
            raise InputError("each channel must be a scipp DataArray", file=source, field=str(name),
                             value=type(da).__name__)
        key = parse_channel(name).key
        if key in out:
            raise InputError(f"two entries give channel {key}", file=source, field="channel",
                             value=name)
        if da.variances is None:
            raise InputError("channel has no variances (uncertainties)", file=source, field=key)
        out[key] = da
    if not out:
        raise InputError("no channels given", file=source, field="channels")
    first = next(iter(out))
    for k, da in out.items():
        _same_grid(out[first], da, first, k)
    return sc.DataGroup(dict(sorted(out.items(), key=lambda kv: parse_channel(kv[0]))))


def check_channels(channels, source: str | None = None) -> sc.DataGroup:
    """``channels`` as a checked DataGroup (a DataGroup or mapping of DataArrays)."""
    if isinstance(channels, sc.DataGroup):
        channels = dict(channels.items())
    if not isinstance(channels, Mapping):
        raise InputError("channels must be a scipp DataGroup or a dict of DataArrays", file=source,
                         field="channels", value=type(channels).__name__)
    return channel_group(channels, source)


def channel_arrays(da: sc.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, variances, missing) numpy arrays of a channel; missing = masked or not finite."""
    v = np.asarray(da.values, dtype=float)
    var = np.asarray(da.variances, dtype=float)
    missing = ~(np.isfinite(v) & np.isfinite(var) & (var >= 0))
    for m in da.masks.values():
        missing |= np.broadcast_to(np.asarray(m.broadcast(sizes=da.sizes).values), v.shape)
    return v, var, missing
