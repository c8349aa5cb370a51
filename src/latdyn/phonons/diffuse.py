r"""Thermal diffuse scattering (TDS): the energy-integrated one-phonon coherent intensity of a
single crystal on a plane or a volume of reciprocal space.

Integrating the one-phonon S(Q,E) of :mod:`latdyn.phonons.one_phonon` over all energy
transfers, creation (n + 1) and annihilation (n) together (B. E. Warren, X-ray Diffraction
(1969), ch. 11; R. Xu and T. C. Chiang, Z. Kristallogr. 220, 1009 (2005), eq. 3 for X-rays;
Squires 1978, eq. 3.120, for neutrons):

.. math::

    I_1(\mathbf Q) = \int dE\, S_{coh}(\mathbf Q, E)
        = \sum_\nu F_\nu(\mathbf Q) \left[2 n_\nu + 1\right]
        = \sum_\nu \frac{\hbar^2}{2 E_\nu} \coth\!\left(\frac{E_\nu}{2 k_B T}\right)
          \left| \sum_k \frac{b_k}{\sqrt{M_k}} e^{-W_k(\mathbf Q)}
          e^{i\mathbf Q\cdot\mathbf r_k} (\mathbf Q\cdot\mathbf e^*_{k\nu}) \right|^2

in barn per atom (``per='atom'``) or per cell, with the Debye-Waller exponents W_k(Q) = Q^T W_k Q
(:func:`latdyn.phonons.debye_waller`).  F_nu comes from
:func:`latdyn.phonons.coherent_structure_factors` and the thermal factors from
:func:`latdyn.phonons.one_phonon_weights`, the same code as the S(Q,E) maps, so the diffuse
map equals the energy integral of those maps.

Limits: at high temperature 2n + 1 -> 2 k_B T / E_nu and the intensity becomes the classical
(equipartition) result I_1 = k_B T Q^T [sum_k ...] Phi(q)^{-1} [...] Q, proportional to T with
the 1/omega^2 weighting of each mode (for one atom per cell I_1 = k_B T b^2 e^{-2W}
Q^T Phi(q)^{-1} Q, Phi(q) the lattice Fourier transform of the force constants).  At a
reciprocal-lattice point the acoustic modes (E <= ``energy_min``) are left out: the Bragg peak
and the 1/q^2 divergence of the acoustic TDS next to it are not part of the map.  Imaginary
(unstable) modes contribute nothing and are counted (``n_imaginary``) so that the caller can
flag them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipp as sc

from ..data import from_numpy
from ..errors import InputError
from .backend import array_module, run_tasks
from .maps import KINDS, _plan, _structure_factors
from .model import ForceConstants, check_qpoints
from .modes import calculate_modes
from .one_phonon import one_phonon_weights

__all__ = ["diffuse_intensity", "diffuse_map", "DiffuseIntensity"]


@dataclass
class DiffuseIntensity:
    """Energy-integrated one-phonon intensity at a set of Q-points.

    ``intensity`` (nq,) barn per atom/cell; ``n_imaginary`` the number of (q, mode) pairs with an
    imaginary energy (left out); ``n_points`` the q-points.
    """

    intensity: np.ndarray
    n_imaginary: int
    n_points: int


def _diffuse_chunk(model, q, start, stop, temperature, dw, kind, per, energy_min, n_threads,
                   backend):
    """(sum_nu F_nu (2 n_nu + 1) for q[start:stop], imaginary-mode count): one task."""
    modes = calculate_modes(model, q[start:stop], n_threads=n_threads, progress=False,
                            backend=backend)
    f = _structure_factors(modes, dw, kind, per, energy_min)
    up, down = one_phonon_weights(modes.energies, temperature)
    return (f * (up + down)).sum(axis=1), int(np.count_nonzero(modes.energies < -energy_min))


def diffuse_intensity(model: ForceConstants, q_frac, temperature: float, *, dw=None,
                      kind: str = "coherent", per: str = "atom", energy_min: float = 0.01,
                      chunk: int | None = None, n_threads: int | None = None,
                      progress: bool | None = None, executor: str | None = None,
                      backend: str = "numpy") -> DiffuseIntensity:
    """Energy-integrated one-phonon intensity I_1(Q) = sum_nu F_nu(Q) (2 n_nu + 1) at reduced
    Q-points ``q_frac`` (nq, 3), barn per atom (or cell): see the module docstring.

    ``temperature`` K; ``dw``: Debye-Waller tensors (N, 3, 3) A^2 or None; ``kind``: 'coherent'
    (TDS), 'incoherent' or 'incoherent_approximation'; ``energy_min`` (meV): modes at or below it
    are left out.  ``chunk`` q-points at a time (memory bound); ``executor`` and ``backend`` as in
    :mod:`latdyn.phonons.backend`.
    """
    q = check_qpoints(q_frac, model.source)
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}", field="kind", value=kind)
    one_phonon_weights(np.ones(1), temperature)          # validates the temperature
    if not energy_min >= 0:
        raise InputError("energy_min must be >= 0 meV", field="energy_min", value=energy_min)
    array_module(backend)
    ex, chunk, threads = _plan(executor, chunk, n_threads)
    out = np.empty(len(q))
    imaginary = [0]
    bounds = [(s, min(s + chunk, len(q))) for s in range(0, len(q), chunk)]

    def collect(i, part):
        out[slice(*bounds[i])] = part[0]
        imaginary[0] += part[1]

    run_tasks(_diffuse_chunk, [(a, b, temperature, dw, kind, per, energy_min, threads, backend)
                               for a, b in bounds],
              ex, shared=(model, q), collect=collect, progress=progress, desc="diffuse")
    return DiffuseIntensity(out, imaginary[0], len(q))


def _axis(vector, name: str) -> np.ndarray:
    a = np.asarray(vector, dtype=float)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise InputError("expected an (h, k, l) triple", field=name, value=np.asarray(a).tolist())
    return a


def diffuse_map(model: ForceConstants, origin, u, v, u_range, v_range, temperature: float, *,
                w=None, w_range=(0.0, 0.0), nu: int = 80, nv: int = 80, nw: int = 1, dw=None,
                kind: str = "coherent", per: str = "atom", energy_min: float = 0.01,
                executor: str | None = None,
                backend: str = "numpy") -> tuple[sc.DataArray, DiffuseIntensity]:
    """Diffuse intensity on the plane Q = origin + x u + y v (reduced vectors; x in ``u_range``,
    y in ``v_range``, ``nu`` x ``nv`` points) or, with a third vector ``w`` and ``nw`` > 1, on
    the volume origin + x u + y v + z w (z in ``w_range``).

    Returns (DataArray ('x', 'y') or ('x', 'y', 'z') in barn per atom/cell with the r.l.u.
    coordinates and h, k, l of each point, the :class:`DiffuseIntensity`).  Other keywords as
    in :func:`diffuse_intensity`.
    """
    o, uu, vv = _axis(origin, "origin"), _axis(u, "u"), _axis(v, "v")
    counts = {"nu": nu, "nv": nv, "nw": nw}
    for name, n in counts.items():
        if int(n) < 1:
            raise InputError("need at least one point along each axis", field=name, value=n)
    x = np.linspace(*u_range, int(nu))
    y = np.linspace(*v_range, int(nv))
    volume = w is not None and int(nw) > 1
    if w is not None and not volume:
        raise InputError("a volume needs nw > 1 points along w", field="nw", value=nw)
    ww = _axis(w, "w") if volume else np.zeros(3)
    z = np.linspace(*w_range, int(nw)) if volume else np.zeros(1)
    grid = np.meshgrid(x, y, z, indexing="ij")
    q = o + sum(g.reshape(-1, 1) * a for g, a in zip(grid, (uu, vv, ww), strict=True))
    res = diffuse_intensity(model, q, temperature, dw=dw, kind=kind, per=per,
                            energy_min=energy_min, executor=executor, backend=backend)
    dims = ("x", "y", "z") if volume else ("x", "y")
    shape = (len(x), len(y), len(z)) if volume else (len(x), len(y))
    coords = {"x": x, "y": y, "z": z} if volume else {"x": x, "y": y}
    da = from_numpy(res.intensity.reshape(shape), coords, unit="barn",
                    units=dict.fromkeys(dims, "dimensionless"),
                    name=f"diffuse {kind} {float(temperature):g} K")
    for i, name in enumerate("hkl"):
        da.coords[name] = sc.array(dims=list(dims), values=q[:, i].reshape(shape))
    return da, res
