"""Crystal structures: lattice and reciprocal lattice, space groups, sites with occupancies and
ADPs (U_iso, U_ij), symmetry expansion, CIF input and output; magnetic structures (moments on
the atoms of a crystal, propagation vectors, magnetic cells) and magnetic CIF."""

from .cif import parse_cif_number, read_cif, species_from_type_symbol, write_cif
from .crystal import Atoms, Crystal, Site, site_labels
from .lattice import Lattice
from .magnetic import (
    MagneticOps,
    MagneticStructure,
    ParentSetting,
    commensurate_denominators,
    magnetic_structure,
    parse_k,
    supercell_matrix,
)
from .magnetic_file import read_magnetic_structure
from .mcif import read_mcif, write_mcif
from .spacegroup import SpaceGroup

__all__ = ["Lattice", "SpaceGroup", "Site", "Atoms", "Crystal", "site_labels", "read_cif", "write_cif",
           "parse_cif_number", "species_from_type_symbol", "MagneticStructure", "MagneticOps",
           "ParentSetting", "magnetic_structure", "parse_k", "commensurate_denominators",
           "supercell_matrix", "read_mcif", "write_mcif", "read_magnetic_structure"]
