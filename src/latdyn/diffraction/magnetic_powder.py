r"""Powder patterns of magnetic structures: nuclear and magnetic parts side by side.

The two parts are the powder patterns of :mod:`latdyn.diffraction.patterns` (constant
wavelength: I = s m |F|^2 L Phi with L = 1/(sin^2 theta cos theta); time of flight:
I(d) = s m |F|^2 d^4 Phi) evaluated with the domain-averaged nuclear and magnetic |F|^2 of
:func:`latdyn.diffraction.magnetic_reflections`; for unpolarised neutrons they add.  Results
carry their reflection list and write CSV files, a figure and an HTML report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import write_text_atomic
from ..kinematics import d_to_two_theta
from ..structure import MagneticStructure
from .magnetic import MagneticReflections, magnetic_reflections
from .patterns import caglioti_fwhm, cw_pattern, tof_pattern

__all__ = ["MagneticPattern", "magnetic_powder_pattern", "write_reflection_table"]


def _csv(path: Path, header, columns, comment: str) -> Path:
    lines = [f"# {c}" for c in comment.splitlines() if c] + [",".join(header)]
    for row in zip(*columns, strict=True):
        lines.append(",".join(v if isinstance(v, str) else f"{v:.10g}" for v in row))
    return write_text_atomic(path, "\n".join(lines) + "\n")


def _hkl_text(v: float) -> str:
    r = round(float(v))
    return str(int(r)) if abs(v - r) < 1e-6 else f"{float(v):.6g}"


def write_reflection_table(refl: MagneticReflections, folder, *, title: str,
                           inputs=()) -> dict[str, str]:
    """Write ``reflections.csv`` (h, k, l, [parent h k l], d, Q, multiplicity, F2_nuclear_barn,
    F2_magnetic_barn), a stick figure and ``report.html`` into ``folder``; return the paths."""
    from ..report import Report, axis_label, new_figure

    out = Path(folder)
    header = ["h", "k", "l"]
    cols = [[_hkl_text(v) for v in refl.hkl[:, i]] for i in range(3)]
    if refl.parent_hkl is not None:
        header += ["h_parent", "k_parent", "l_parent"]
        cols += [[_hkl_text(v) for v in refl.parent_hkl[:, i]] for i in range(3)]
    header += ["d_angstrom", "Q_inv_angstrom", "multiplicity", "F2_nuclear_barn", "F2_magnetic_barn"]
    cols += [refl.d, refl.q, refl.multiplicity, refl.f2_nuclear, refl.f2_magnetic]
    k = ", ".join(f"{v:.6g}" for v in refl.k)
    csv = _csv(out / "reflections.csv", header, cols,
               f"{title}: nuclear and magnetic reflections, k = ({k}); F2 domain-averaged per "
               "orbit member (barn), powder line strength = multiplicity x F2")
    fig, ax = new_figure(7, 4.2)
    ax.vlines(refl.d, 0, refl.multiplicity * refl.f2_nuclear, color="C0", label="nuclear")
    ax.vlines(refl.d, 0, -refl.multiplicity * refl.f2_magnetic, color="C3", label="magnetic")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel(axis_label("d", "angstrom"))
    ax.set_ylabel("m |F|² (barn), magnetic down")
    ax.legend(frameon=False)
    rep = Report(f"Nuclear and magnetic reflections of {title}")
    for i in inputs:
        rep.add_input(i)
    rep.add_text(None, f"Propagation vector k = ({k}); magnetic |F_M⊥|² (p = 2.695 fm/μB, dipole "
                 "form factors, Debye-Waller factors) averaged over equal-weight domains of the "
                 "parent group; unpolarised neutrons, no nuclear-magnetic interference.")
    rep.add_figure("reflections", fig, "Powder line strengths m|F|², nuclear up, magnetic down")
    rep.add_table("Reflections", refl.rows())
    path = rep.write(out / "report.html")
    return {"csv": str(csv), "report": str(path)}


@dataclass
class MagneticPattern:
    """A powder pattern with its nuclear and magnetic parts (same units as
    :func:`latdyn.diffraction.cw_pattern` / :func:`tof_pattern`) on ``x`` ('two_theta' in deg
    or 'd' in angstrom), and the reflection list with each reflection's position on x."""

    axis: str
    x: np.ndarray
    nuclear: np.ndarray
    magnetic: np.ndarray
    reflections: MagneticReflections
    positions: np.ndarray
    title: str = ""
    settings: dict = field(default_factory=dict)

    @property
    def total(self) -> np.ndarray:
        return self.nuclear + self.magnetic

    @property
    def unit(self) -> str:
        return "deg" if self.axis == "two_theta" else "angstrom"

    def rows(self, limit: int = 60) -> list[dict]:
        """Reflections inside the pattern with their position, strongest magnetic first."""
        ok = np.isfinite(self.positions) & (self.positions >= self.x[0]) & (self.positions <= self.x[-1])
        idx = np.flatnonzero(ok)
        out = []
        for i, row in enumerate(self.reflections.rows()):
            if i in idx:
                row[self.axis] = float(self.positions[i])
                out.append(row)
        return out[:limit]

    def figure(self):
        from ..report import axis_label, new_figure

        fig, ax = new_figure(7.5, 4.2)
        ax.plot(self.x, self.total, lw=1, color="k", label="total")
        ax.plot(self.x, self.nuclear, lw=0.8, color="C0", label="nuclear")
        ax.plot(self.x, self.magnetic, lw=0.8, color="C3", label="magnetic")
        ax.set_xlabel(axis_label("2θ" if self.axis == "two_theta" else "d", self.unit))
        ax.set_ylabel("Intensity")
        ax.legend(frameon=False)
        return fig

    def write(self, folder, *, inputs=()) -> dict[str, str]:
        """Write ``pattern.csv`` (x, nuclear, magnetic, total), ``reflections.csv`` and
        ``report.html`` (figures ``pattern`` and ``reflections``) into ``folder``."""
        from ..report import Report

        out = Path(folder)
        name = f"{self.axis}_{self.unit}"
        csv = _csv(out / "pattern.csv", [name, "nuclear", "magnetic", "total"],
                   [self.x, self.nuclear, self.magnetic, self.total],
                   f"{self.title}: powder pattern, nuclear and magnetic parts (unpolarised neutrons); "
                   + ", ".join(f"{k} = {v}" for k, v in self.settings.items()))
        paths = write_reflection_table(self.reflections, out, title=self.title, inputs=inputs)
        rep = Report(f"Magnetic powder pattern of {self.title}")
        for i in inputs:
            rep.add_input(i)
        rep.add_parameters("Settings", {k: (v, None, "") for k, v in self.settings.items()
                                        if isinstance(v, (int, float))})
        rep.add_figure("pattern", self.figure(), "Nuclear, magnetic and total powder pattern")
        rep.add_table("Reflections in range", self.rows())
        paths["report"] = str(rep.write(out / "report.html"))
        paths["csv"] = str(csv)
        return paths


def magnetic_powder_pattern(structure: MagneticStructure, x, *, wavelength: float | None = None,
                            U: float = 0.01, V: float = -0.005, W: float = 0.01,
                            tof: bool = False, difc: float | None = None, path_m: float | None = None,
                            two_theta: float | None = None, dd_over_d: float = 0.003,
                            dt: float = 0.0, eta: float = 0.0, scale: float = 1.0,
                            profile: str = "pseudo-voigt", alpha=None, beta=None,
                            instrument_range=None, debye_waller: bool = True) -> MagneticPattern:
    """Nuclear and magnetic powder pattern of ``structure`` on the grid ``x``.

    Constant wavelength (``tof=False``): ``x`` is 2theta (deg), ``wavelength`` (angstrom) and the
    Caglioti U, V, W (deg^2) as in :func:`latdyn.diffraction.cw_pattern`.  Time of flight: ``x``
    is d (angstrom), DIFC from ``difc`` or ``path_m`` and ``two_theta``, widths ``dd_over_d``
    and ``dt`` and the ``profile`` of :func:`latdyn.diffraction.tof_pattern`.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise InputError("the pattern grid must be 1-D with at least two points", field="x",
                         value=x.shape)
    title = structure.title or structure.crystal.title
    if not tof:
        if wavelength is None or not np.isfinite(wavelength) or wavelength <= 0:
            raise InputError("a constant-wavelength pattern needs a positive wavelength (angstrom)",
                             field="wavelength", value=wavelength)
        hw = 3 * float(caglioti_fwhm(min(x[-1], 179.0), U, V, W))
        d_min = wavelength / (2 * np.sin(np.deg2rad(min(x[-1] + hw, 179.99)) / 2))
        d_max = wavelength / (2 * np.sin(np.deg2rad(max(x[0] - hw, 1e-3)) / 2))
        refl = magnetic_reflections(structure, d_min, d_max, debye_waller=debye_waller)
        parts = {}
        for part in ("nuclear", "magnetic"):
            parts[part] = cw_pattern(structure.crystal, wavelength, x, U, V, W, eta=eta, scale=scale,
                                     instrument_range=instrument_range,
                                     refl=refl.reflections(part)).values
        pos = np.full(len(refl), np.nan)
        ok = refl.d >= wavelength / 2
        pos[ok] = d_to_two_theta(refl.d[ok], wavelength)
        settings = {"wavelength (angstrom)": wavelength, "U": U, "V": V, "W": W, "eta": eta}
        axis = "two_theta"
    else:
        pad = 4 * np.hypot(dd_over_d * x[-1], dt / difc if difc else 0.0)
        refl = magnetic_reflections(structure, max(x[0] - pad, 0.05), x[-1] + pad,
                                    debye_waller=debye_waller)
        if len(refl) == 0:
            raise InputError("no reflection in this d range", field="d", value=(float(x[0]), float(x[-1])))
        parts = {}
        for part in ("nuclear", "magnetic"):
            parts[part] = tof_pattern(structure.crystal, x, axis="d", difc=difc, path_m=path_m,
                                      two_theta=two_theta, dd_over_d=dd_over_d, dt=dt, eta=eta,
                                      scale=scale, instrument_range=instrument_range,
                                      refl=refl.reflections(part), profile=profile, alpha=alpha,
                                      beta=beta).values
        pos = refl.d.copy()
        settings = {"dd_over_d": dd_over_d, "dt (us)": dt, "eta": eta}
        if difc is not None:
            settings["DIFC (us/angstrom)"] = difc
        axis = "d"
    return MagneticPattern(axis, x, parts["nuclear"], parts["magnetic"], refl, pos, title, settings)
