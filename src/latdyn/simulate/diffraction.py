r"""The virtual powder diffraction experiment: phases with weight fractions (and magnetic
order) -> a diffractometer of the instrument library -> counts with Poisson noise.

The expected counts of a mixture are

.. math::  \mu(x) = C \sum_p \frac{w_p}{(ZMV)_p}\, I_p(x) + B

with I_p the unit-scale pattern of phase p (nuclear plus magnetic, the model of
:mod:`latdyn.diffraction.phases`, so that Hill-Howard fractions of a fit recover w_p), the
instrument's resolution (constant wavelength: its wavelength and Caglioti U, V, W; time of
flight: a bank's DIFC from the flight path and angle and its Delta d/d), C set so that the
strongest channel of the strongest pure phase holds ``counts`` counts, and a flat background
B = ``background`` x ``counts``.  Observed counts N ~ Poisson(mu), sigma = sqrt(max(N, 1)).
"""

from __future__ import annotations

import numpy as np

from .. import kinematics
from ..diffraction.phases import Phase, pattern_model
from ..diffraction.powder_io import PowderData
from ..errors import InputError, InstrumentError

__all__ = ["virtual_powder_pattern", "virtual_phase_sweep", "instrument_grid"]


def instrument_grid(instrument, *, bank: str | None = None, d_range=(0.8, 4.0),
                    points_per_fwhm: float = 5.0) -> tuple[np.ndarray, dict]:
    """The pattern axis and the settings of a diffractometer: constant wavelength -> 2theta (deg)
    over its detector range with FWHM/``points_per_fwhm`` steps; time of flight -> TOF (us) of
    ``bank`` over ``d_range`` (angstrom) in equal steps.  Returns (x, settings) with the axis,
    wavelength or DIFC and the widths (U, V, W or dd)."""
    kind = getattr(instrument, "kind", None)
    if kind == "diffractometer_cw":
        lo = max(instrument.two_theta_min, 5.0)
        hi = min(instrument.two_theta_max, 160.0)
        step = float(np.min(instrument.fwhm(np.linspace(lo, hi, 50)))) / points_per_fwhm
        x = np.arange(lo, hi, step)
        return x, {"axis": "two_theta", "wavelength": instrument.wavelength,
                   "U": instrument.u, "V": instrument.v, "W": instrument.w}
    if kind == "diffractometer_tof":
        if bank is None:
            bank = next(iter(instrument.banks))
        b = instrument.banks.get(bank)
        if b is None:
            raise InstrumentError(f"unknown bank; choose one of {list(instrument.banks)}",
                                  file=instrument.file, field="bank", value=bank)
        difc = kinematics.difc(instrument.moderator_sample + b["sample_detector"], b["two_theta"])
        dd = instrument.delta_d_over_d(bank)
        step = difc * d_range[0] * dd / points_per_fwhm
        x = np.arange(difc * d_range[0], difc * d_range[1], step)
        return x, {"axis": "tof", "difc": float(difc), "dd": dd, "dt": 0.0}
    raise InstrumentError("not a powder diffractometer (kind diffractometer_cw or _tof)",
                          field="instrument", value=getattr(instrument, "name", instrument))


def _scales(phases, fractions) -> np.ndarray:
    w = np.asarray(fractions, dtype=float)
    if w.shape != (len(phases),) or np.any(w < 0) or not np.isclose(w.sum(), 1.0, atol=1e-9):
        raise InputError("weight fractions must be one per phase, >= 0, summing to 1",
                         field="fractions", value=w.tolist())
    zmv = np.array([p.cell_mass * p.crystal.volume for p in phases])
    return w / zmv


def _template(phases, x, settings, values, eta):
    dummy = PowderData(x, np.ones_like(x), np.ones_like(x), settings["axis"],
                       settings.get("wavelength"), settings.get("difc"))
    vals = {k: v for k, v in settings.items() if k in ("U", "V", "W", "dd", "dt")}
    vals.update(values or {})
    per_phase = []
    for p in phases:
        v = {**vals, **{f"scale_{q.name}": float(q is p) for q in phases}}
        total, _ = pattern_model(dummy, phases, v, background=0, eta=eta)
        per_phase.append(total)
    return per_phase


def virtual_phase_sweep(phases: list[Phase], fractions, conditions, instrument, *, sweeps=None,
                        bank: str | None = None, counts: float = 2e4, background: float = 0.02,
                        values=None, x=None, d_range=(0.8, 4.0), eta: float = 0.0,
                        seed: int | None = None, labels=None, noise: bool = True) -> list[PowderData]:
    """Simulated patterns of a sweep (module docstring): ``fractions`` (n, n_phases) weight
    fractions at the ``conditions`` (n,) (K or T), ``sweeps`` ('up'/'down' per pattern),
    ``values`` (a dict, or one dict per pattern) of model parameters such as ``moment_<phase>``
    or ``zero``; ``x`` overrides the instrument grid, ``d_range`` (angstrom) bounds a TOF one.
    One random generator (``seed``) draws all patterns; ``noise=False`` returns the expected counts
    (sigma from them)."""
    fr = np.atleast_2d(np.asarray(fractions, dtype=float))
    cond = np.atleast_1d(np.asarray(conditions, dtype=float))
    if fr.shape[0] != cond.size:
        raise InputError("one row of fractions per condition", field="fractions",
                         value=(fr.shape, cond.shape))
    sweeps = list(sweeps) if sweeps is not None else [""] * cond.size
    per = values if isinstance(values, (list, tuple)) else [values] * cond.size
    if len(sweeps) != cond.size or len(per) != cond.size:
        raise InputError("one sweep and one value set per condition", field="sweeps")
    grid, settings = instrument_grid(instrument, bank=bank, d_range=d_range)
    x = grid if x is None else np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    ref = _template(phases, x, settings, None, eta)
    zmv = np.array([p.cell_mass * p.crystal.volume for p in phases])
    c = counts / max(float(np.max(t)) / z for t, z in zip(ref, zmv, strict=True))
    out = []
    for i in range(cond.size):
        curves = ref if per[i] is None else _template(phases, x, settings, per[i], eta)
        s = _scales(phases, fr[i])
        mu = c * sum(si * t for si, t in zip(s, curves, strict=True)) + background * counts
        n = rng.poisson(mu).astype(float) if noise else mu
        label = labels[i] if labels is not None else f"{sweeps[i] or 'p'}{i:02d}_{cond[i]:g}"
        out.append(PowderData(x, n, np.sqrt(np.maximum(n, 1.0)), settings["axis"],
                              settings.get("wavelength"), settings.get("difc"), float(cond[i]),
                              sweeps[i], label, f"virtual {instrument.name}"))
    return out


def virtual_powder_pattern(phases: list[Phase], fractions, instrument, **kwargs) -> PowderData:
    """One simulated pattern of a mixture (see :func:`virtual_phase_sweep`; ``condition`` and
    ``sweep`` keywords label it)."""
    cond = kwargs.pop("condition", float("nan"))
    sweep = kwargs.pop("sweep", "")
    return virtual_phase_sweep(phases, [fractions], [cond], instrument, sweeps=[sweep], **kwargs)[0]
