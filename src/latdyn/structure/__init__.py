"""Crystal structures: lattice and reciprocal lattice, space groups, sites with occupancies and
ADPs (U_iso, U_ij), symmetry expansion, CIF input and output."""

from .cif import parse_cif_number, read_cif, species_from_type_symbol, write_cif
from .crystal import Atoms, Crystal, Site
from .lattice import Lattice
from .spacegroup import SpaceGroup

__all__ = ["Lattice", "SpaceGroup", "Site", "Atoms", "Crystal", "read_cif", "write_cif",
           "parse_cif_number", "species_from_type_symbol"]
