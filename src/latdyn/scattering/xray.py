r"""X-ray atomic form factors f0(|Q|) for comparison with neutron scattering lengths.

f0 from the Waasmaier-Kirfel parametrisation (Acta Cryst. A51, 416 (1995)) as carried by
``periodictable``: f0(s) = sum_i a_i exp(-b_i s^2) + c, s = |Q| / (4 pi), |Q| in 1/angstrom,
f0 in electrons (f0(0) = Z for a neutral atom).  Expressed as a length, the X-ray
scattering amplitude is r_e f0 with the classical electron radius r_e = 2.818 fm.
"""

from __future__ import annotations

import numpy as np
from scipy import constants

from ..errors import InputError
from .nuclides import parse_nuclide_symbol

__all__ = ["xray_form_factor", "R_ELECTRON_FM"]

#: Classical electron radius in fm (Thomson scattering length).
R_ELECTRON_FM = constants.physical_constants["classical electron radius"][0] * 1e15


def xray_form_factor(symbol: str, q):
    """Atomic form factor f0(|Q|) (electrons) of an element (isotope prefixes are ignored).

    ``q`` in 1/angstrom (scalar or array, >= 0).
    """
    import periodictable as pt

    element, _ = parse_nuclide_symbol(symbol)
    el = getattr(pt, element, None)
    if el is None:
        raise InputError("unknown element", field="symbol", value=symbol)
    qq = np.asarray(q, dtype=float)
    if np.any(~np.isfinite(qq)) or np.any(qq < 0):
        raise InputError("|Q| must be finite and non-negative", field="q", value=q)
    try:
        f = np.asarray(el.xray.f0(qq), dtype=float)
    except Exception as exc:
        raise InputError("no X-ray form factor for this element", field="symbol",
                         value=symbol) from exc
    return float(f) if f.ndim == 0 else f
