"""Model selection across fits of the same data by AIC or BIC (lowest wins).

Akaike weights w_i = exp(-Delta_i / 2) / sum_j exp(-Delta_j / 2), Delta_i = IC_i - IC_min
(Burnham & Anderson, Model Selection and Multimodel Inference, 2002).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .results import FitResult

__all__ = ["select_model"]


def select_model(results: dict[str, FitResult], criterion: str = "bic") -> tuple[str, list[dict]]:
    """Return (best name, rows with chi2, k, AIC, BIC, delta and weight for each candidate)."""
    if criterion not in ("aic", "bic"):
        raise InputError("criterion must be 'aic' or 'bic'", field="criterion", value=criterion)
    if not results:
        raise InputError("no fits to compare", field="results")
    nd = {r.ndata for r in results.values()}
    if len(nd) != 1:
        raise InputError("fits to compare must use the same data points", field="ndata", value=sorted(nd))
    ic = {k: getattr(r, criterion) for k, r in results.items()}
    best = min(ic, key=ic.get)
    delta = {k: v - ic[best] for k, v in ic.items()}
    w = {k: np.exp(-d / 2) for k, d in delta.items()}
    tot = sum(w.values())
    rows = [{"model": k, "chi2": r.chi2, "k": r.nvarys, "aic": r.aic, "bic": r.bic,
             f"delta_{criterion}": delta[k], "weight": w[k] / tot, "chosen": k == best}
            for k, r in results.items()]
    return best, rows
