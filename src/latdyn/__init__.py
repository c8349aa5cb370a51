"""latdyn: neutron scattering and lattice dynamics of energy materials.

The chain: plan the experiment -> read reduced data -> model S(Q,E) -> fit -> derive physics
-> report.  Units throughout: meV, angstrom, 1/angstrom, K, ps, barn, fm, amu.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("latdyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
