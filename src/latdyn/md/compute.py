"""One library call per ``latdyn md`` command, returning a result with ``write(folder)`` and
``report()`` (:mod:`latdyn.md.analysis`)::

    r = msd_from_trajectory("md.h5", window=2000, fit_range=(5, 20)); r.write("msd")

Every function takes the trajectory as an open :class:`latdyn.md.Trajectory` or as a file
with the keywords of :func:`latdyn.md.open_trajectory` (``dt`` in ps, ``fmt``,
``frame_step``, ``species_map``), and the command's options under their names with ``_``
for ``-``: ``window`` (largest lag, frames), ``origin_step`` (frames between time origins),
``chunk_size`` (frames per chunk; None: from the memory budget for ``sqw``, 100 otherwise),
``progress`` (a progress bar; None: only on a terminal).  ``threads`` (None: LATDYN_THREADS
or 2) and ``executor`` ('serial' or 'dask', the command's ``--dask``; ``scheduler`` as for
:func:`latdyn.md.compute_correlations`) apply to ``sqw`` and ``vanhove``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError
from .analysis import DOSAnalysis, MSDAnalysis, SqwAnalysis, TrajectoryInfo, VanHoveAnalysis
from .budget import DEFAULT_MEMORY_MB
from .intermediate import compute_correlations
from .msd import compute_msd, fit_diffusion
from .qpoints import qpoints_along_path, qpoints_in_shells
from .results import correlation_arrays
from .trajectory import Trajectory, open_trajectory
from .vacf import compute_vacf, vibrational_density_of_states
from .vanhove import compute_van_hove, max_pair_distance

__all__ = ["load_trajectory", "primitive_cell", "sqw_from_trajectory", "msd_from_trajectory",
           "vanhove_from_trajectory", "dos_from_trajectory"]

#: frames per chunk of the streamed MSD, VACF and van Hove passes when none is given
DEFAULT_CHUNK = 100


def load_trajectory(trajectory, *, dt: float | None = None, fmt: str | None = None,
                    frame_step: int = 1, species_map: Mapping[int, str] | None = None) -> Trajectory:
    """``trajectory`` itself when it is a :class:`Trajectory` (then no opening keywords), else
    :func:`open_trajectory` of that file with them."""
    if isinstance(trajectory, Trajectory):
        given = {"dt": dt, "fmt": fmt, "species_map": species_map,
                 "frame_step": None if frame_step == 1 else frame_step}
        extra = sorted(k for k, v in given.items() if v)
        if extra:
            raise InputError("opening options apply to a trajectory file, not to an open "
                             "Trajectory", file=trajectory.source, field=extra[0])
        return trajectory
    return open_trajectory(trajectory, dt=dt, fmt=fmt, frame_step=frame_step,
                           species_map=species_map)


def primitive_cell(cell, supercell: Sequence[float]) -> np.ndarray:
    """Rows a_i / n_i: the primitive cell of a box of n1 x n2 x n3 primitive cells (angstrom)."""
    n = np.asarray(supercell, dtype=float)
    if n.shape != (3,) or not np.all(np.isfinite(n) & (n > 0)):
        raise InputError("the supercell is three positive numbers n1, n2, n3", field="supercell",
                         value=list(np.ravel(supercell)))
    return np.asarray(cell, dtype=float) / n[:, None]


def sqw_from_trajectory(trajectory, *, dt=None, fmt=None, frame_step: int = 1, species_map=None,
                        window: int = 200, origin_step: int = 1, q_max: float = 4.0,
                        q_min: float = 0.0, shells: int = 40, max_per_shell: int = 50,
                        path=None, supercell: Sequence[float] = (1, 1, 1),
                        weighting: str = "neutron", incoherent: bool = True,
                        currents: bool = False, time_window: str = "gaussian",
                        temperature: float | None = None, backend: str = "numpy",
                        self_method: str = "auto", executor: str = "serial", scheduler=None,
                        memory_mb: float = DEFAULT_MEMORY_MB, chunk_size: int | None = None,
                        threads: int | None = None, progress: bool | None = None) -> SqwAnalysis:
    """``latdyn md sqw``: F(Q,t) and S(Q,E), coherent and incoherent.

    q-points: ``shells`` equal |Q| shells from ``q_min`` to ``q_max`` (1/angstrom), at most
    ``max_per_shell`` each (:func:`latdyn.md.qpoints_in_shells`), or with ``path`` the box
    lattice points along the points given in reduced units of the primitive reciprocal lattice,
    the box being ``supercell`` primitive cells (:func:`latdyn.md.qpoints_along_path`,
    :func:`primitive_cell`).  Correlations: :func:`latdyn.md.compute_correlations`
    (``incoherent``, ``currents``, ``backend``, ``self_method``, ``memory_mb``, ...); arrays:
    :func:`latdyn.md.correlation_arrays` (``weighting`` 'neutron', 'xray' or 'none';
    ``time_window`` of the Fourier transform; ``temperature`` K for the quantum correction).
    """
    traj = load_trajectory(trajectory, dt=dt, fmt=fmt, frame_step=frame_step,
                           species_map=species_map)
    if path is not None:
        qset = qpoints_along_path(traj.cell, path, primitive_cell(traj.cell, supercell))
    else:
        qset = qpoints_in_shells(traj.cell, q_max, shells, q_min, max_per_shell)
    res = compute_correlations(traj, qset.q, window, origin_step, incoherent=incoherent,
                               currents=currents, chunk_size=chunk_size, threads=threads,
                               backend=backend, self_method=self_method, executor=executor,
                               scheduler=scheduler, progress=progress, memory_mb=memory_mb)
    dg = correlation_arrays(res, qset, weighting, window=time_window, temperature=temperature)
    return SqwAnalysis(TrajectoryInfo.of(traj), res, qset, dg, weighting, time_window, temperature)


def msd_from_trajectory(trajectory, *, dt=None, fmt=None, frame_step: int = 1, species_map=None,
                        window: int = 200, origin_step: int = 1, blocks: int = 5,
                        fit_range: tuple[float, float] | None = None,
                        chunk_size: int | None = None, progress: bool | None = None
                        ) -> MSDAnalysis:
    """``latdyn md msd``: MSD per species (:func:`latdyn.md.compute_msd`) and D from
    MSD = 6 D t + c over ``fit_range`` (ps; default 20-80 % of the window) with its error
    from groups of atoms or ``blocks`` blocks of time origins (:func:`latdyn.md.fit_diffusion`)."""
    traj = load_trajectory(trajectory, dt=dt, fmt=fmt, frame_step=frame_step,
                           species_map=species_map)
    res = compute_msd(traj, window, origin_step, chunk_size or DEFAULT_CHUNK, progress=progress)
    fit = fit_diffusion(res, tuple(fit_range) if fit_range is not None else None, blocks)
    return MSDAnalysis(TrajectoryInfo.of(traj), res, fit)


def vanhove_from_trajectory(trajectory, *, dt=None, fmt=None, frame_step: int = 1,
                            species_map=None, lags: Sequence[int] = (0, 10, 50),
                            r_max: float | None = None, bins: int = 200, origin_step: int = 10,
                            max_origins: int = 20, distinct: bool = True,
                            chunk_size: int | None = None, threads: int | None = None,
                            executor: str = "serial", scheduler=None,
                            progress: bool | None = None) -> VanHoveAnalysis:
    """``latdyn md vanhove``: G_s(r,t) and G_d(r,t) at ``lags`` (frames) in ``bins`` bins up to
    ``r_max`` (angstrom; default half the smallest box width), from ``max_origins`` time
    origins ``origin_step`` frames apart (:func:`latdyn.md.compute_van_hove`)."""
    traj = load_trajectory(trajectory, dt=dt, fmt=fmt, frame_step=frame_step,
                           species_map=species_map)
    r_max = r_max if r_max is not None else max_pair_distance(traj.cell)
    res = compute_van_hove(traj, lags, r_max, bins, origin_step, max_origins, distinct=distinct,
                           chunk_size=chunk_size or DEFAULT_CHUNK, threads=threads,
                           executor=executor, scheduler=scheduler, progress=progress)
    return VanHoveAnalysis(TrajectoryInfo.of(traj), res)


def dos_from_trajectory(trajectory, *, dt=None, fmt=None, frame_step: int = 1, species_map=None,
                        window: int = 200, origin_step: int = 1, time_window: str = "gaussian",
                        chunk_size: int | None = None, progress: bool | None = None
                        ) -> DOSAnalysis:
    """``latdyn md dos``: the velocity autocorrelation (:func:`latdyn.md.compute_vacf`) and the
    vibrational DOS, 3 per atom (:func:`latdyn.md.vibrational_density_of_states` with the
    window ``time_window``)."""
    traj = load_trajectory(trajectory, dt=dt, fmt=fmt, frame_step=frame_step,
                           species_map=species_map)
    res = compute_vacf(traj, window, origin_step, chunk_size or DEFAULT_CHUNK, progress=progress)
    return DOSAnalysis(TrajectoryInfo.of(traj), res, vibrational_density_of_states(res, time_window),
                       time_window)
