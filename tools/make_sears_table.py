"""Regenerate src/latdyn/scattering/tables/sears1992.csv from the NIST list of Sears 1992.

Source of the scattering data: V. F. Sears, Neutron News 3 (1992) 26, as listed by the NIST
Center for Neutron Research (https://www.ncnr.nist.gov/resources/n-lengths/list.html) and
shipped as ``scippneutron/atoms/scattering_parameters.csv`` (scippneutron, BSD-3-Clause; the
list retrieved 2024-02-19).  Get that file without installing scippneutron with

    pip download scippneutron --no-deps -d /tmp/sn
    python tools/make_sears_table.py --source /tmp/sn/scippneutron-*.whl

(``--source`` also takes the CSV itself; without it the installed scippneutron is used).

What the script does, and nothing else:

- every row of the NIST list with b_coh, sigma_coh, sigma_inc and sigma_abs is written as it
  stands (rows without those numbers, e.g. 98Ru or Po, are left out and listed);
- three values where the NIST list departs from Sears 1992 are corrected (``CORRECTIONS``,
  each with its evidence);
- a mono-isotopic element (one isotope above 99.9 % natural abundance, e.g. 27Al) also gets an
  isotope row equal to its element row, as in Sears' table where the two are one line;
- masses (not part of Sears' table): NCrystal's atom database (isotope masses and natural
  averages) when NCrystal is installed, else periodictable.

The header of the CSV names the source file, its SHA-256 and the corrections.
docs/foundation.md lists how the table compares with Euphonic, NCrystal, neutronpy and
periodictable (tests/foundation/test_sears_table.py checks every entry).
"""

import argparse
import csv
import hashlib
import importlib.util
import io
import sys
import zipfile
from pathlib import Path

import periodictable

OUT = Path(__file__).resolve().parents[1] / "src/latdyn/scattering/tables/sears1992.csv"
MEMBER = "scippneutron/atoms/scattering_parameters.csv"

#: (nuclide, column) -> (value, evidence): where the NIST list departs from Sears 1992.
CORRECTIONS = {
    ("Hf", "b_coh_fm"): (7.77, "NIST lists 7.7; Sears' sigma_coh 7.6 b = 4 pi b^2 needs 7.78 fm, "
                         "and Euphonic's transcription of Sears 1992 and Rauch 2003 give 7.77"),
    ("Xe", "sigma_coh_b"): (3.04, "NIST row shifted: 3.04 b (= 4 pi (4.92 fm)^2) sits under "
                            "'Inc b'; Rauch 2003 gives 3.04 b"),
    ("147Sm", "sigma_inc_b"): (14.0, "NIST lists 143 b, Sears 14(19) b: sigma_s - sigma_coh = "
                               "39 - 25 b; Rauch 2003 gives 14 b"),
}

#: columns of the NIST CSV (value, uncertainty pairs after the name)
_COL = {"b_coh_fm": 1, "sigma_coh_b": 9, "sigma_inc_b": 11, "sigma_abs_b": 15}


def _read_source(source: Path | None) -> tuple[str, str]:
    """(text of the NIST CSV, description of where it came from)."""
    if source is None:
        spec = importlib.util.find_spec("scippneutron")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("scippneutron is not installed: give --source (see the module docstring)")
        source = Path(list(spec.submodule_search_locations)[0]) / "atoms/scattering_parameters.csv"
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as zf:
            return zf.read(MEMBER).decode(), f"{source.name}:{MEMBER}"
    return source.read_text(), str(source)


def _split(name: str) -> tuple[str, int]:
    digits = name[:len(name) - len(name.lstrip("0123456789"))]
    return name[len(digits):], int(digits) if digits else 0


def _mass(symbol: str, a: int) -> float:
    el = periodictable.elements.symbol(symbol)
    try:
        import NCrystal

        atom = NCrystal.atomDB(el.number, a) if a else NCrystal.atomDB(el.number)
        if atom is not None:
            return float(atom.averageMassAMU())
    except (ImportError, RuntimeError):
        pass
    return float(el[a].mass if a else el.mass)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, help="scippneutron wheel or its scattering_parameters.csv")
    args = ap.parse_args()
    text, origin = _read_source(args.source)
    digest = hashlib.sha256(text.encode()).hexdigest()
    rows, skipped = [], []
    for rec in csv.reader(io.StringIO(text)):
        if not rec or rec[0].startswith("#"):
            continue
        values = {k: rec[i] for k, i in _COL.items()}
        if any(v == "" for v in values.values()):
            skipped.append(rec[0])
            continue
        symbol, a = _split(rec[0])
        row = {k: float(v) for k, v in values.items()}
        for (name, col), (value, _) in CORRECTIONS.items():
            if name == rec[0]:
                row[col] = value
        rows.append({"symbol": symbol, "Z": periodictable.elements.symbol(symbol).number, "A": a,
                     **row})
    present = {(r["symbol"], r["A"]) for r in rows}
    for r in [r for r in rows if r["A"] == 0]:
        isos = [i for i in periodictable.elements.symbol(r["symbol"]) if i.abundance > 99.9]
        if len(isos) == 1 and (r["symbol"], isos[0].isotope) not in present:
            rows.append({**r, "A": isos[0].isotope})
    rows.sort(key=lambda r: (r["Z"], r["A"]))
    for r in rows:
        r["mass_amu"] = repr(_mass(r["symbol"], r["A"]))
    cols = ["symbol", "Z", "A", "mass_amu", "b_coh_fm", "sigma_coh_b", "sigma_inc_b", "sigma_abs_b"]
    buf = io.StringIO()
    buf.write("# Sears 1992 neutron scattering lengths and cross sections (V. F. Sears, Neutron News "
              "3 (1992) 26)\n")
    buf.write("# as listed by NIST NCNR (n-lengths), read from " + origin + "\n")
    buf.write(f"# (sha256 {digest}) by tools/make_sears_table.py.\n")
    for (name, col), (value, why) in CORRECTIONS.items():
        buf.write(f"# corrected: {name} {col} = {value:g} ({why})\n")
    buf.write("# Mono-isotopic elements repeat their element row under the isotope's A. Masses: "
              "NCrystal atomDB (else periodictable).\n")
    buf.write("# b_coh in fm (real part), cross sections in barn (sigma_coh = 4 pi |b|^2 as "
              "tabulated), sigma_abs at 2200 m/s (1.798 A).\n")
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: r[k] for k in cols} for r in rows)
    OUT.write_text(buf.getvalue())
    print(f"wrote {len(rows)} entries to {OUT}; left out (no numbers in the list): "
          f"{', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
