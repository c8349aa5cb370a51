r"""Maximum-entropy (MEM) reconstruction of a scattering density from structure factors.

The Sakata-Sato algorithm (Sakata & Sato, Acta Cryst. A46, 263 (1990); Collins, Nature 298,
49 (1982)) maximises the entropy S = -sum_x rho(x) ln[rho(x) / tau(x)] of a positive density
on an N-pixel grid subject to the chi^2 constraint

.. math::  C = \frac{1}{M}\sum_{h}\frac{|F_{obs}(h) - F_{cal}(h)|^2}{\sigma(h)^2} = 1,\qquad
           F_{cal}(h) = \frac{V}{N}\sum_x \rho(x)\, e^{2\pi i\, h\cdot x}

over the M observed reflections.  The zeroth-order single-pixel approximation gives the update

.. math::  \rho_{k+1}(x) = \rho_k(x)\exp\Big[\lambda \sum_h \frac{F_{obs}(h) - F_{cal,k}(h)}{\sigma(h)^2}
           e^{-2\pi i\, h\cdot x}\Big]

(Friedel mates included, so the exponent is real), renormalised each step to the total
F(000); lambda is adapted so that C decreases, and the iteration stops at C <= ``target``.
The prior tau is uniform (F(000)/V).  The density is in the units of F per angstrom^3:
fm/angstrom^3 for neutron structure factors (nuclear scattering density), electrons/angstrom^3
for X-rays.  MEM needs a positive density: F(000) <= 0 is refused; for crystals that mix
negative scattering lengths (H, Li, Ti, Mn, V ...) with positive ones the positive-density
reconstruction is only an approximation.

Phases of F_obs come from a structure model (centrosymmetric: signs), as in practice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipp as sc

from ..errors import FitError, InputError
from ..scattering import nuclide
from ..structure import Crystal
from .structure_factor import structure_factor

__all__ = ["MEMResult", "density_from_structure", "fourier_synthesis", "calc_structure_factors",
           "maximum_entropy"]


def _grid_shape(shape) -> tuple[int, int, int]:
    s = tuple(int(n) for n in shape)
    if len(s) != 3 or min(s) < 4:
        raise InputError("grid must have three sizes of at least 4 pixels", field="grid", value=shape)
    return s


def _indices(hkl, shape) -> tuple[np.ndarray, ...]:
    h = np.asarray(hkl, dtype=int)
    half = np.array(shape) // 2
    if np.any(np.abs(h) >= half):
        raise InputError("reflection beyond the grid's Nyquist limit; use a finer grid", field="hkl",
                         value=h[np.any(np.abs(h) >= half, axis=1)][0].tolist())
    return tuple(np.mod(h[:, k], shape[k]) for k in range(3))


def fourier_synthesis(hkl, f, volume: float, shape, f000: float | None = None) -> np.ndarray:
    """rho(x) = (1/V) sum_h F(h) exp(-2 pi i h.x) on the grid (Friedel mates F(-h) = F(h)*
    added for reflections given once); units of F per angstrom^3."""
    shape = _grid_shape(shape)
    grid = np.zeros(shape, dtype=complex)
    h = np.asarray(hkl, dtype=int)
    f = np.asarray(f, dtype=complex)
    grid[_indices(h, shape)] = f
    mates = _indices(-h, shape)
    missing = np.abs(grid[mates]) == 0
    grid[tuple(m[missing] for m in mates)] = np.conj(f[missing])
    if f000 is not None:
        grid[0, 0, 0] = f000
    return np.real(np.fft.fftn(grid)) / volume


def density_from_structure(crystal: Crystal, shape, radiation: str = "neutron", **sf_kwargs) -> np.ndarray:
    """Thermally smeared scattering density of ``crystal`` on an (N1, N2, N3) grid of the cell.

    The Fourier series of all reflections inside the grid's Nyquist box (F from
    :func:`structure_factor`, Debye-Waller included), fm/angstrom^3 or electrons/angstrom^3.
    Neutron densities use the real parts b' of the scattering lengths unless
    ``scattering_lengths`` is given (the absorptive b'' has no real-space density).
    """
    shape = _grid_shape(shape)
    if radiation == "neutron" and "scattering_lengths" not in sf_kwargs:
        sf_kwargs["scattering_lengths"] = {s: nuclide(s).b_coh.real for s in set(crystal.atoms.species)}
    axes = [np.arange(-(n // 2) + 1, n // 2) for n in shape]
    hkl = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    f = structure_factor(crystal, hkl, radiation, **sf_kwargs)
    grid = np.zeros(shape, dtype=complex)
    grid[_indices(hkl, shape)] = f
    return np.real(np.fft.fftn(grid)) / crystal.volume


def calc_structure_factors(rho: np.ndarray, hkl, volume: float) -> np.ndarray:
    """F_cal(h) = (V/N) sum_x rho(x) exp(2 pi i h.x) of a density grid."""
    ft = np.fft.ifftn(rho) * volume
    return ft[_indices(hkl, rho.shape)]


@dataclass
class MEMResult:
    """density (N1,N2,N3) in F-units/angstrom^3 on fractional grid points i/N_k; chi2 (the C
    statistic), iterations, converged, f_cal (complex, per input reflection), volume."""

    density: np.ndarray
    chi2: float
    iterations: int
    converged: bool
    f_cal: np.ndarray
    volume: float

    def to_dataarray(self, unit: str = "fm/angstrom^3") -> sc.DataArray:
        """The density as a DataArray with fractional-coordinate dims 'x', 'y', 'z'."""
        coords = {d: sc.array(dims=[d], values=np.arange(n) / n) for d, n in zip("xyz", self.density.shape,
                                                                                  strict=True)}
        return sc.DataArray(sc.array(dims=["x", "y", "z"], values=self.density, unit=unit), coords=coords,
                            name="MEM density")


def maximum_entropy(hkl, f_obs, sigma, volume: float, f000: float, shape=(32, 32, 32), *,
                    prior: np.ndarray | None = None, target: float = 1.0, max_iter: int = 5000,
                    step: float | None = None) -> MEMResult:
    """Sakata-Sato MEM density (module docstring) from observed F (complex or signed real) with
    standard errors ``sigma`` (same units), cell volume (angstrom^3) and F(000).

    Raises InputError for inconsistent input and FitError when C does not reach ``target``
    within ``max_iter`` iterations.
    """
    shape = _grid_shape(shape)
    h = np.asarray(hkl, dtype=int)
    fo = np.asarray(f_obs, dtype=complex)
    sg = np.asarray(sigma, dtype=float)
    if h.ndim != 2 or h.shape[1] != 3 or len(fo) != len(h) or sg.shape != fo.shape:
        raise InputError("hkl (M,3), F_obs (M) and sigma (M) must match", field="f_obs",
                         value=(h.shape, fo.shape, sg.shape))
    if np.any(~np.isfinite(sg) | (sg <= 0)) or np.any(~np.isfinite(fo)):
        raise InputError("F_obs must be finite and sigma positive", field="sigma", value=sg.min())
    if np.any(np.all(h == 0, axis=1)):
        raise InputError("give F(000) separately, not in the reflection list", field="hkl", value=[0, 0, 0])
    if not np.isfinite(f000) or f000 <= 0:
        raise InputError("MEM needs a positive density: F(000) must be positive", field="f000", value=f000)
    if not np.isfinite(volume) or volume <= 0:
        raise InputError("cell volume must be positive", field="volume", value=volume)
    idx = _indices(h, shape)
    midx = _indices(-h, shape)
    n_pix = int(np.prod(shape))
    mean = f000 / volume
    if prior is None:
        rho = np.full(shape, mean)
    else:
        rho = np.asarray(prior, dtype=float).copy()
        if rho.shape != shape or np.any(~(rho > 0)):
            raise InputError("prior must be a positive grid of the given shape", field="prior",
                             value=rho.shape)
        rho *= mean / rho.mean()
    w = 1.0 / sg**2
    m = len(h)

    def chi2_and_grad(r):
        fc = np.fft.ifftn(r)[idx] * volume
        diff = fo - fc
        c = float(np.sum(w * np.abs(diff) ** 2) / m)
        g = np.zeros(shape, dtype=complex)
        np.add.at(g, idx, w * diff)
        np.add.at(g, midx, np.conj(w * diff))
        return c, np.real(np.fft.fftn(g)) / 2, fc

    c, grad, fc = chi2_and_grad(rho)
    lam = step if step is not None else 0.05 / max(np.abs(grad).max(), 1e-300)
    it = 0
    while c > target and it < max_iter:
        it += 1
        expo = np.clip(lam * grad, -50, 50)
        trial = rho * np.exp(expo)
        trial *= f000 / (trial.sum() * volume / n_pix)
        c_new, g_new, fc_new = chi2_and_grad(trial)
        if c_new < c:
            rho, c, grad, fc = trial, c_new, g_new, fc_new
            lam *= 1.2
        else:
            lam *= 0.5
            if lam * np.abs(grad).max() < 1e-12:
                break
    converged = c <= target
    if not converged:
        raise FitError(f"MEM did not reach C <= {target} (C = {c:.4g} after {it} iterations); the "
                       "errors may be underestimated or the grid too coarse", field="chi2", value=c)
    return MEMResult(density=rho, chi2=c, iterations=it, converged=True, f_cal=fc, volume=float(volume))
