"""Report figures of the thermodynamics: C_V / 3R versus temperature."""

from __future__ import annotations

from ..report import axis_label, new_figure

__all__ = ["thermo_figure"]


def thermo_figure(tab):
    """C_V / 3R versus temperature with the Dulong-Petit line (``tab``: the table of
    :func:`latdyn.thermo.thermodynamics`)."""
    fig, ax = new_figure()
    ax.plot(tab["T"], tab["Cv_over_3R"], "o-", ms=3)
    ax.axhline(1.0, color="0.5", ls="--", lw=1, label="Dulong-Petit 3R")
    ax.set_xlabel(axis_label("T", "K"))
    ax.set_ylabel("C_V / 3R")
    ax.legend(frameon=False)
    return fig
