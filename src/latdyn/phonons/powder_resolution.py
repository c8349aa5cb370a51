r"""A direct-geometry spectrometer's resolution and coverage applied to a powder map.

``latdyn phonons powder --instrument`` (and :func:`latdyn.phonons.compute_powder` with
``instrument=``) broadens the powder-averaged S(|Q|, E) with the instrument's energy
resolution FWHM(E) at the incident energy E_i (:meth:`DirectGeometry.resolution`, evaluated at
each line's energy transfer) and its powder |Q| resolution FWHM(|Q|) taken at one energy
transfer (:meth:`DirectGeometry.q_broadening`, default the middle of the energy range), and
masks the (|Q|, E) bins the detectors cannot reach: a bin is outside when its centre lies
outside :meth:`DirectGeometry.coverage` at E_i (|Q| between the values at the smallest and
largest scattering angle, E <= E_i; :class:`latdyn.kinematics.Coverage`).  Units: meV, 1/A.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipp as sc

from ..errors import InputError, InstrumentError
from ..fitresult import Quantity

__all__ = ["PowderResolution", "Q_FWHM_REPORTED_AT", "check_incident_energy"]

#: |Q| (1/A) at which the |Q| resolution is reported in tables and JSON
Q_FWHM_REPORTED_AT = 3.0


def _centres(coord: np.ndarray, n: int) -> np.ndarray:
    """Bin centres of a coordinate given as edges (n + 1 values) or as points (n values)."""
    c = np.asarray(coord, dtype=float)
    return 0.5 * (c[1:] + c[:-1]) if c.size == n + 1 else c


def check_incident_energy(ei: float | None) -> float:
    """``ei`` (meV) after checking it is given, finite and positive (InputError naming ``ei``)."""
    if ei is None:
        raise InputError("an instrument needs the incident energy ei (meV, CLI --ei)", field="ei")
    if not (math.isfinite(float(ei)) and ei > 0):
        raise InputError("the incident energy must be a positive number of meV", field="ei",
                         value=ei)
    return float(ei)


@dataclass
class PowderResolution:
    """The instrument, its incident energy ``ei`` (meV) and chopper ``settings``, the energy
    transfer ``q_energy`` (meV) at which the |Q| resolution is taken, the elastic FWHM (meV)
    and the |Q| FWHM(|Q|) callable (1/A)."""

    instrument: object
    ei: float
    q_energy: float
    elastic_fwhm: float
    q_fwhm: Callable
    settings: dict = field(default_factory=dict)

    @classmethod
    def setup(cls, instrument, ei: float | None, energy_range: tuple[float, float], *,
              frequency: float | None = None, package: str | None = None,
              mode: str | None = None, q_energy: float | None = None) -> PowderResolution:
        """Load ``instrument`` (library name, YAML path or instrument object) and check that
        it is a direct-geometry machine and that ``energy_range`` (meV) stays below ``ei``."""
        from ..instruments import load_instrument

        check_incident_energy(ei)
        inst = load_instrument(instrument) if isinstance(instrument, str) else instrument
        if inst.kind != "direct":
            raise InstrumentError("powder maps are broadened with a direct-geometry instrument",
                                  file=inst.file, field="kind", value=inst.kind)
        emin, emax = energy_range
        if emax >= ei:
            raise InputError(f"the energy range must stay below Ei = {ei:g} meV (use --emax)",
                             field="emax", value=emax)
        settings = {"frequency": frequency, "package": package, "mode": mode}
        q_energy = 0.5 * (emin + emax) if q_energy is None else float(q_energy)
        return cls(inst, float(ei), q_energy, float(inst.elastic_resolution(ei, **settings)),
                   inst.q_broadening(ei, q_energy, **settings), settings)

    @property
    def name(self) -> str:
        return self.instrument.name

    def energy_fwhm(self, energy):
        """Energy resolution FWHM (meV) at energy transfer ``energy`` (meV)."""
        return self.instrument.resolution(energy, ei=self.ei, **self.settings)

    def coverage(self):
        """The (|Q|, E) region the detectors reach at this Ei."""
        return self.instrument.coverage(ei=self.ei)

    def mask(self, da: sc.DataArray) -> None:
        """Add the mask ``outside_coverage`` (True where the bin centre cannot be reached) to
        a DataArray with dims ('Q', 'E')."""
        q = _centres(da.coords["Q"].values, da.sizes["Q"])
        e = _centres(da.coords["E"].values, da.sizes["E"])
        reach = self.coverage().contains(q[:, None], e[None, :])
        da.masks["outside_coverage"] = sc.array(dims=list(da.dims), values=~reach)

    def quantities(self) -> dict[str, Quantity]:
        """ei, elastic_fwhm, q_fwhm (at :data:`Q_FWHM_REPORTED_AT` and ``q_energy``)."""
        nan = float("nan")
        return {"ei": Quantity(self.ei, nan, "meV"),
                "elastic_fwhm": Quantity(self.elastic_fwhm, nan, "meV"),
                "q_fwhm": Quantity(float(self.q_fwhm(Q_FWHM_REPORTED_AT)), nan, "1/angstrom")}

    def rows(self) -> list[dict]:
        """Table rows (quantity, value, unit) of the widths used."""
        return [{"quantity": f"{self.name} elastic FWHM", "value": self.elastic_fwhm, "unit": "meV"},
                {"quantity": f"|Q| FWHM at {Q_FWHM_REPORTED_AT:g} 1/A, E = {self.q_energy:g} meV",
                 "value": float(self.q_fwhm(Q_FWHM_REPORTED_AT)), "unit": "1/angstrom"}]

    def to_json(self) -> dict:
        """The instrument, its settings and the widths used ({value, error, unit})."""
        nan = float("nan")
        return {"name": self.name, **{k: v.as_dict() for k, v in self.quantities().items()},
                "q_fwhm_at": {"Q": Quantity(Q_FWHM_REPORTED_AT, nan, "1/angstrom").as_dict(),
                              "E": Quantity(self.q_energy, nan, "meV").as_dict()},
                "settings": {k: v for k, v in self.settings.items() if v is not None}}
