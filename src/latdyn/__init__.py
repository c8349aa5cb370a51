"""latdyn: neutron scattering and lattice dynamics of energy materials.

The chain: plan the experiment -> read reduced data -> model S(Q,E) -> fit -> derive physics
-> report.  Units throughout: meV, angstrom, 1/angstrom, K, ps, barn, fm, amu.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__`` is looked up on first use, so that importing the package (and starting
    the ``latdyn`` command) does almost nothing before the command can handle Ctrl-C."""
    if name != "__version__":
        raise AttributeError(f"module 'latdyn' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("latdyn")
    except PackageNotFoundError:  # running from a source tree that is not installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
