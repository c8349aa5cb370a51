"""Data shipped with latdyn for the demo and the docs (see README.md for provenance and licenses).

:func:`example_file` gives the path of a shipped file, e.g.
``example_file("in5_water/H2O_293K_5A.hdf")``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import InputError

__all__ = ["example_file", "EXAMPLES"]

#: the shipped files, relative to this package
EXAMPLES = ("in5_water/H2O_293K_5A.hdf", "in5_water/V_273K_5A.hdf", "nacl/phonopy_nacl.yaml",
            "nacl/BORN_nacl", "nacl/force_constants.hdf5", "agi/AgI_alpha.cif",
            "mncoge/MnCoGe_hexagonal.cif", "mncoge/MnCoGe_orthorhombic.cif",
            "mncoge/MnCoGe_orthorhombic_FM.yaml")


def example_file(name: str) -> Path:
    """Path of a file shipped with latdyn (one of :data:`EXAMPLES`)."""
    path = Path(str(resources.files(__name__).joinpath(name)))
    if name not in EXAMPLES or not path.is_file():
        raise InputError(f"no shipped example file of that name; there are {list(EXAMPLES)}",
                         field="name", value=name)
    return path
