"""Maximum-entropy densities from files: what ``latdyn diffraction mem`` computes and writes.

:func:`mem_density` reads the cell from a CIF and observed structure factors from a table
(``h k l F sigma`` or ``h k l F_re F_im sigma``), takes F(000) from the CIF
(:func:`latdyn.diffraction.structure_factor.f000`) unless given, and runs the Sakata-Sato MEM
(:func:`latdyn.diffraction.maximum_entropy`).  :class:`MEMAnalysis` writes ``mem_density.h5``,
``report.html`` and ``figures/mem.png``
(``.svg`` too with ``LATDYN_FIGURE_FORMATS=png,svg``) (layouts in docs/diffraction.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .mem import MEMResult, maximum_entropy
from .reflection_results import _crystal, _inputs
from .structure_factor import _check_radiation
from .structure_factor import f000 as cell_f000
from .tables import read_numeric_table

__all__ = ["MEMAnalysis", "mem_density", "read_structure_factors"]

DENSITY_UNITS = {"neutron": "fm/angstrom^3", "xray": "electrons/angstrom^3"}


def read_structure_factors(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hkl (M, 3) int, F (M) complex, sigma (M)) of a table ``h k l F sigma`` (real F) or
    ``h k l F_re F_im sigma`` (comma or whitespace separated, '#' comments)."""
    tab = read_numeric_table(path, 5, "h,k,l,F,sigma")
    hkl = np.round(tab[:, :3]).astype(int)
    if tab.shape[1] >= 6:
        return hkl, tab[:, 3] + 1j * tab[:, 4], tab[:, 5]
    return hkl, tab[:, 3].astype(complex), tab[:, 4]


@dataclass
class MEMAnalysis:
    """A MEM density (:class:`latdyn.diffraction.MEMResult`) with the data it reproduces: the
    crystal's title and cell (a, b, c in angstrom, angles in deg), hkl, F_obs, sigma and the
    F(000) used (fm or electrons)."""

    title: str
    cell: tuple
    radiation: str
    hkl: np.ndarray
    f_obs: np.ndarray
    sigma: np.ndarray
    f000: float
    result: MEMResult
    inputs: list = field(default_factory=list)

    @property
    def unit(self) -> str:
        """Unit of the density: fm/angstrom^3 (neutrons) or electrons/angstrom^3 (X-rays)."""
        return DENSITY_UNITS[self.radiation]

    @property
    def heading(self) -> str:
        return f"Sakata-Sato MEM of {self.title}"

    def rows(self) -> list[dict]:
        """Reflections used, F(000), the C statistic, iterations, density range."""
        d = self.result.density
        return [{"reflections": len(self.hkl), "F000": self.f000, "chi2": self.result.chi2,
                 "iterations": self.result.iterations, "density_min": float(d.min()),
                 "density_max": float(d.max())}]

    def to_json(self) -> dict:
        return {"converged": self.result.converged, "radiation": self.radiation,
                "units": {"F000": "fm" if self.radiation == "neutron" else "electrons",
                          "density_min": self.unit, "density_max": self.unit}}

    def figure(self):
        import matplotlib.pyplot as plt

        d = self.result.density
        fig, axes = plt.subplots(1, 2, figsize=(9, 4), dpi=110, constrained_layout=True)
        panels = ((axes[0], d[:, :, 0], "section z = 0"), (axes[1], d.max(axis=2), "maximum along z"))
        for ax, img, name in panels:
            im = ax.imshow(img.T, origin="lower", extent=(0, 1, 0, 1), cmap="viridis")
            ax.set_xlabel("x (fractional)")
            ax.set_ylabel("y (fractional)")
            ax.set_title(name)
            fig.colorbar(im, ax=ax, label=self.unit.replace("angstrom", "Å"))
        return fig

    def report(self, command: str | None = None):
        from ..report import Report

        rep = Report(f"MEM density of {self.title}", command=command)
        for i in self.inputs:
            rep.add_input(i)
        rep.add_figure("mem", self.figure(), "MEM density")
        rep.add_table("MEM", self.rows())
        return rep

    def _write_h5(self, path: Path) -> None:
        import h5py

        from ..fileio import atomic_path

        res = self.result
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
            ds = h5.create_dataset("density", data=res.density)
            ds.attrs["unit"] = self.unit
            ds.attrs["axes"] = "fractional x, y, z: index i at i / N"
            h5.attrs["cell"] = np.array(self.cell)
            h5.attrs["f000"] = self.f000
            h5.attrs["chi2"] = res.chi2
            h5.attrs["iterations"] = res.iterations
            h5.create_dataset("hkl", data=self.hkl)
            h5.create_dataset("f_obs", data=self.f_obs)
            h5.create_dataset("f_cal", data=res.f_cal)
            h5.create_dataset("sigma", data=self.sigma)

    def write(self, folder, command: str | None = None) -> list[Path]:
        """``mem_density.h5``, ``report.html`` and ``figures/`` into ``folder`` (replaced whole)."""
        from ..report.folder import write_result_folder

        return write_result_folder(folder, {"mem_density.h5": self._write_h5}, self.report(command))


def mem_density(cif, fobs, *, grid=(32, 32, 32), f000: float | None = None,
                radiation: str = "neutron") -> MEMAnalysis:
    """The MEM density of ``latdyn diffraction mem``: cell and F(000) from ``cif`` (a path or a
    Crystal; ``f000`` overrides F(000), fm or electrons), observed structure factors from
    the table ``fobs`` (:func:`read_structure_factors`), density on ``grid`` points."""
    _check_radiation(radiation)
    c = _crystal(cif)
    hkl, f, sigma = read_structure_factors(fobs)
    f0 = f000 if f000 is not None else cell_f000(c, radiation)
    res = maximum_entropy(hkl, f, sigma, c.volume, f0, tuple(grid))
    return MEMAnalysis(c.title, tuple(c.lattice.parameters), radiation, hkl, f, sigma, float(f0), res,
                       _inputs(cif, fobs))
