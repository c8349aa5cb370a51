"""File-level entry points of ``latdyn polarisation separate | fit | plan``.

Each reads its inputs, runs the library and returns a result object that owns its output
(``rows()``, ``to_json()``, ``write(folder)``, ``report()``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipp as sc

from ..errors import FormatError, InputError

__all__ = ["separate_files", "analyse_files", "plan_measurement", "read_structure_factor",
           "model_parts"]


def _flipping(quartz, quartz_integrate, flipping, quartz_background=None):
    from .flipping import flipping_ratios
    from .io import read_channels

    if quartz and flipping is not None:
        raise InputError("give a quartz run or a flipping ratio, not both", field="flipping", value=flipping)
    if quartz:
        bg = read_channels(quartz_background) if quartz_background else None
        return flipping_ratios(read_channels(quartz), integrate=quartz_integrate, background=bg)
    if flipping is not None:
        if not (np.isfinite(flipping) and flipping > 1.0):
            raise InputError("the flipping ratio must be a number > 1", field="flipping", value=flipping)
        return float(flipping)
    return None


def separate_files(channels, method: str = "xyz", *, quartz=None, quartz_integrate=None,
                   flipping: float | None = None, background=None, background_scale: float = 1.0,
                   estimator: str = "combination", direction: str | None = None,
                   alpha: float | None = None, entries=None, vanadium=None):
    """Read the channel files (:func:`latdyn.polarisation.io.read_channels`), the quartz run
    (flipping ratios, summed over ``quartz_integrate``) or one flipping ratio, the background
    channels, and separate (:func:`latdyn.polarisation.separate`).  ``vanadium``: channels of a
    spin-incoherent reference (same grid, at least one direction's NSF and SF): the parts are
    divided by its relative detector efficiencies (:func:`latdyn.polarisation
    .incoherent_normalisation`), with the same flipping ratios."""
    from .io import read_channels
    from .separation import incoherent_normalisation, separate

    files = [channels] if isinstance(channels, str | Path) else list(channels)
    ch = read_channels(files, entries=entries)
    bg = read_channels(background) if background else None
    F = _flipping(quartz, quartz_integrate, flipping)
    sep = separate(ch, method, flipping=F, alpha=alpha, estimator=estimator, direction=direction,
                   background=bg, background_scale=background_scale, source=str(files[0]))
    if vanadium:
        v = read_channels(vanadium)
        ref = separate(v, "uniaxial", flipping=F, background=bg, background_scale=background_scale,
                       source=str(vanadium[0] if not isinstance(vanadium, str | Path) else vanadium))
        dims = [d for d in ref.dims if d not in ("Q", "two_theta", "spectrum")]
        for d in dims:
            ref = ref.integrate(d)
        sep = sep.normalise(incoherent_normalisation(ref, dim=None), "vanadium efficiency")
    return sep


def read_structure_factor(path) -> sc.DataArray:
    """S(Q) from a text file with columns Q (1/angstrom), S and optionally its error ('#'
    comments), or from a latdyn results file holding 'S_of_Q'."""
    from ..data.io.detect import detect_format

    p = Path(path)
    if detect_format(p) == "results_h5":
        from ..data.io import read_results_h5

        r = read_results_h5(p)
        if "S_of_Q" not in r.data:
            raise FormatError("the results file holds no S_of_Q", file=p, field="data")
        return r.data["S_of_Q"]
    try:
        t = np.loadtxt(p, comments="#", ndmin=2)
    except ValueError as exc:
        raise FormatError(f"S(Q) file is not numeric columns: {exc}", file=p) from None
    if t.shape[1] not in (2, 3) or t.shape[0] < 2:
        raise FormatError("S(Q) file needs columns Q, S [, error] and at least two rows", file=p,
                          field="columns", value=t.shape)
    if np.any(~(t[:, 1] > 0)):
        raise FormatError("S(Q) must be positive", file=p, field="S", value=float(np.min(t[:, 1])))
    var = t[:, 2] ** 2 if t.shape[1] == 3 else None
    return sc.DataArray(sc.array(dims=["Q"], values=t[:, 1], variances=var),
                        coords={"Q": sc.array(dims=["Q"], values=t[:, 0], unit="1/angstrom")}, name="S(Q)")


def analyse_files(channels, resolution, method: str = "uniaxial", *, quartz=None, quartz_integrate="E",
                  flipping: float | None = None, background=None, background_scale: float = 1.0,
                  estimator: str = "combination", direction: str | None = None, entries=None,
                  vanadium=None, resolution_entry: str | None = None, s_of_q=None,
                  formula: str | None = None,
                  diffusion=("singwi-sjolander",), eisf=(), temperature: float | None = None,
                  coherent_elastic: bool = False, magnetic_ion: str | None = None):
    """Separate the channel files and fit each part (:func:`latdyn.polarisation.analysis
    .analyse`).  ``resolution``: a file latdyn reads (vanadium); ``s_of_q``: a file
    (:func:`read_structure_factor`), else S(Q) from the separation with the cross sections of
    ``formula`` (:func:`latdyn.polarisation.sample_cross_sections`)."""
    from ..data.io import load
    from .analysis import analyse
    from .cross_sections import sample_cross_sections

    sep = separate_files(channels, method, quartz=quartz, quartz_integrate=quartz_integrate,
                         flipping=flipping, background=background, background_scale=background_scale,
                         estimator=estimator, direction=direction, entries=entries, vanadium=vanadium)
    res, _ = load(resolution).pick(resolution_entry)
    sq = read_structure_factor(s_of_q) if s_of_q is not None else None
    sc_coh = sc_si = None
    if sq is None and formula is not None:
        xs = sample_cross_sections(formula)
        sc_coh, sc_si = xs["sigma_coh"] + xs["sigma_ii"], xs["sigma_si"]
    return analyse(sep, res, s_of_q=sq, sigma_coh=sc_coh, sigma_si=sc_si, diffusion=diffusion, eisf=eisf,
                   temperature=temperature, coherent_elastic=coherent_elastic, magnetic_ion=magnetic_ion,
                   source=str(channels[0] if not isinstance(channels, str | Path) else channels))


def model_parts(formula: str, q, *, magnetic_ion: str | None = None, spin: float | None = None,
                g: float = 2.0, magnetic_per_formula: float = 1.0) -> dict[str, sc.DataArray]:
    """Energy-integrated cross sections (barn/sr per formula unit) on the |Q| grid ``q`` of a
    sample without structure (S(Q) = 1): coherent sigma_coh/4 pi, isotope- and
    spin-incoherent sigma/4 pi (:func:`latdyn.polarisation.sample_cross_sections`) and, with
    ``magnetic_ion`` and ``spin``, the paramagnetic scattering of ``magnetic_per_formula`` ions
    (:func:`latdyn.polarisation.paramagnetic_cross_section`)."""
    from .cross_sections import paramagnetic_cross_section, sample_cross_sections

    q = np.asarray(q, dtype=float)
    if q.ndim != 1 or q.size < 1 or np.any(~(q > 0)):
        raise InputError("Q points must be positive (1/angstrom)", field="q", value=q)
    xs = sample_cross_sections(formula)
    coords = {"Q": sc.array(dims=["Q"], values=q, unit="1/angstrom")}

    def da(v):
        return sc.DataArray(sc.array(dims=["Q"], values=np.broadcast_to(v, q.shape).astype(float),
                                     unit="barn"), coords=coords)

    parts = {"coherent": da(xs["sigma_coh"] / (4 * np.pi)),
             "isotope_incoherent": da(xs["sigma_ii"] / (4 * np.pi)),
             "spin_incoherent": da(xs["sigma_si"] / (4 * np.pi))}
    if magnetic_ion is not None:
        if spin is None:
            raise InputError("give the spin S of the magnetic ion", field="spin", value=magnetic_ion)
        m = paramagnetic_cross_section(magnetic_ion, q, spin=spin, g=g)
        parts["magnetic"] = da(magnetic_per_formula * m)
    return parts


def plan_measurement(instrument: str, formula: str, mass_g: float, *, method: str = "xyz",
                     part: str = "coherent", target: float = 0.05, q_range=(0.5, 2.5), points: int = 10,
                     magnetic_ion: str | None = None, spin: float | None = None,
                     magnetic_per_formula: float = 1.0, over: str = "sum", allocation: str = "equal",
                     ei: float | None = None, flipping_ratio: float | None = None,
                     flipping_error: float = 0.0, monte_carlo: int = 0, seed=None):
    """Counting time on a polarised instrument for a sample given by formula and mass
    (:func:`model_parts` on ``points`` |Q| values over ``q_range``, then
    :func:`latdyn.polarisation.planning.plan_counting`); with ``monte_carlo`` runs the answer
    is checked by simulation (stored in ``plan.check``)."""
    from .planning import plan_counting

    if points < 1:
        raise InputError("need at least one Q point", field="points", value=points)
    q = np.linspace(float(q_range[0]), float(q_range[1]), int(points))
    parts = model_parts(formula, q, magnetic_ion=magnetic_ion, spin=spin,
                        magnetic_per_formula=magnetic_per_formula)
    if method in ("uniaxial", "z") and "magnetic" in parts:
        raise InputError("the uniaxial method cannot separate magnetic scattering: use xyz",
                         field="method", value=method)
    plan = plan_counting(parts, method, target=target, part=part, instrument=instrument, formula=formula,
                         mass_g=mass_g, ei=ei, flipping_ratio=flipping_ratio, flipping_error=flipping_error,
                         over=over, allocation=allocation)
    if monte_carlo:
        plan.check = plan.monte_carlo(int(monte_carlo), seed=seed)
    return plan
