"""Deprecated alias of :mod:`latdyn.convolution.broadening` (kept for one release)."""

import warnings

from ..convolution.broadening import Broadening, bin_lines, broaden_axis, cell_edges, check_edges

__all__ = ["bin_lines", "check_edges", "Broadening", "broaden_axis", "cell_edges"]

warnings.warn("latdyn.phonons.spectra is deprecated: use latdyn.convolution.broadening",
              DeprecationWarning, stacklevel=2)
