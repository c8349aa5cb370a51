r"""Goodness-of-fit statistics shared by every fit in latdyn.

For a least-squares fit with chi^2 over n data points and k varied parameters:

.. math::

    \chi^2_\nu = \chi^2 / (n - k),\qquad
    \mathrm{AIC} = \chi^2 + 2k,\qquad
    \mathrm{BIC} = \chi^2 + k \ln n

(Akaike 1974; Schwarz 1978; with Gaussian errors -2 ln L = chi^2 + const, the constant
cancelling between models fitted to the same data).
"""

from __future__ import annotations

import numpy as np

__all__ = ["reduced_chi2", "aic", "bic", "FitStatistics"]


def reduced_chi2(chi2: float, ndata: int, nvarys: int) -> float:
    """chi^2 / (n - k); n - k is floored at 1."""
    return float(chi2) / max(int(ndata) - int(nvarys), 1)


def aic(chi2: float, nvarys: int) -> float:
    """Akaike information criterion chi^2 + 2k."""
    return float(chi2) + 2.0 * int(nvarys)


def bic(chi2: float, ndata: int, nvarys: int) -> float:
    """Bayesian information criterion chi^2 + k ln n (n floored at 1)."""
    return float(chi2) + int(nvarys) * float(np.log(max(int(ndata), 1)))


class FitStatistics:
    """Mixin for fit results with attributes ``chi2``, ``ndata`` and ``nvarys``: the
    properties ``redchi``, ``aic`` and ``bic`` defined above."""

    chi2: float
    ndata: int
    nvarys: int

    @property
    def redchi(self) -> float:
        return reduced_chi2(self.chi2, self.ndata, self.nvarys)

    @property
    def aic(self) -> float:
        return aic(self.chi2, self.nvarys)

    @property
    def bic(self) -> float:
        return bic(self.chi2, self.ndata, self.nvarys)
