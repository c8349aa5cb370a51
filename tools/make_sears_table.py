"""Regenerate src/latdyn/scattering/tables/sears1992.csv from NCrystal's atom database.

NCrystal (Apache-2.0, https://github.com/mctools/ncrystal) carries the Sears 1992 neutron
scattering lengths and cross sections (V. F. Sears, Neutron News 3 (1992) 26) for elements and
isotopes.  Run with NCrystal installed:  python tools/make_sears_table.py
"""

import csv
import sys
from pathlib import Path

import NCrystal
import periodictable

OUT = Path(__file__).resolve().parents[1] / "src/latdyn/scattering/tables/sears1992.csv"


def main() -> int:
    rows = []
    for atom in NCrystal.iterateAtomDB():
        rows.append({
            "symbol": periodictable.elements[atom.Z()].symbol,
            "Z": atom.Z(),
            "A": atom.A(),
            "mass_amu": repr(atom.averageMassAMU()),
            "b_coh_fm": repr(round(atom.coherentScatLen() * 10.0, 10)),  # NCrystal: sqrt(barn)
            "sigma_coh_b": repr(atom.coherentXS()),
            "sigma_inc_b": repr(atom.incoherentXS()),
            "sigma_abs_b": repr(atom.captureXS()),
        })
    with OUT.open("w", newline="") as fh:
        fh.write("# Sears 1992 neutron scattering lengths and cross sections (Neutron News 3, 26),\n")
        fh.write(f"# exported from NCrystal {NCrystal.__version__} atomDB (Apache-2.0) "
                 "by tools/make_sears_table.py.\n")
        fh.write("# b_coh in fm (real part), cross sections in barn, sigma_abs at 2200 m/s (1.798 A).\n")
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} entries to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
