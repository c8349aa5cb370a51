"""Compare latdyn's direct-geometry resolution and flux with ISIS PyChop, setting by setting.

PyChop (T. G. Perring's CHOP and R. I. Bewley's MulpyRep, ported to Python by D. Le; GPL) is
the resolution calculator ISIS and SNS publish for their chopper spectrometers.  It is not on
PyPI: point this script at a checkout of the standalone port (github.com/mducle/pychop, the
directory that holds the ``PyChop`` package) or of Mantid's ``scripts/pychop``.  Nothing of
PyChop is shipped with latdyn; it is imported at run time only.

    python tools/compare_pychop.py --pychop /path/to/pychop [--markdown table.md]
                                   [--write-reference tests/instruments/data/pychop_reference.json]

For every instrument PyChop describes (MARI, MERLIN, MAPS, ARCS, SEQUOIA, LET, CNCS, HYSPEC),
every chopper package or variant of PyChop's own instrument files, a grid of frequencies and
incident energies, and energy transfers 0, 0.25, 0.5 and 0.75 Ei, it prints PyChop's FWHM,
latdyn's FWHM (meV, ``convention`` "pychop" and "second_moment") and the flux at the sample
(PyChop's ``getFlux`` against latdyn's ``flux_at_sample(source="calculator")``), then per
instrument the median and largest |deviation|.  Settings where PyChop transmits nothing (or
refuses the Ei) are skipped.  ``--write-reference`` stores PyChop's numbers (facts only) for
tests/instruments/test_pychop_parity.py.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from latdyn.errors import LatdynError
from latdyn.instruments import load_instrument

_FERMI_F = (100, 200, 300, 400, 500, 600)
#: instrument -> (latdyn keyword, [(PyChop package or variant, latdyn value)], frequencies, Ei)
GRID = {
    "MARI": ("package", [(p, p) for p in "ABCGRS"], _FERMI_F, (10.0, 25.0, 60.0, 150.0, 500.0)),
    "MERLIN": ("package", [(p, p) for p in "GS"], _FERMI_F, (10.0, 30.0, 100.0, 300.0, 1000.0)),
    "MAPS": ("package", [(p, p) for p in "ABS"], _FERMI_F, (15.0, 50.0, 150.0, 500.0, 1500.0)),
    "ARCS": ("package", [(p, p) for p in ("ARCS-100-1.5-AST", "ARCS-700-1.5-AST", "ARCS-700-0.5-AST",
                                          "ARCS-100-1.5-SMI", "ARCS-700-1.5-SMI", "SEQ-100-2.0-AST",
                                          "SEQ-700-3.5-AST")], _FERMI_F,
             (15.0, 50.0, 150.0, 500.0, 1000.0)),
    "SEQUOIA": ("package", [(p, p) for p in ("Fine", "Sloppy", "SEQ-100-2.0-AST", "SEQ-700-3.5-AST",
                                             "ARCS-100-1.5-AST", "ARCS-700-1.5-AST", "ARCS-700-0.5-AST",
                                             "ARCS-100-1.5-SMI", "ARCS-700-1.5-SMI")], _FERMI_F,
                (10.0, 30.0, 100.0, 300.0, 1000.0)),
    "LET": ("mode", [("High flux", "high_flux"), ("Intermediate", "intermediate"),
                     ("High resolution", "high_resolution")], (60, 120, 180, 240, 300),
            (1.0, 2.2, 3.7, 8.0, 20.0)),
    "CNCS": ("mode", [("High Flux", "high_flux"), ("Intermediate", "intermediate"),
                      ("High Resolution", "high_resolution")], (60, 120, 180, 240, 300),
             (1.0, 2.0, 3.32, 6.6, 12.0, 25.0)),
    "HYSPEC": ("package", [("OnlyOne", "OnlyOne")], (60, 120, 180, 240, 300, 420),
               (3.8, 7.5, 15.0, 30.0, 60.0)),
}
FRACTIONS = (0.0, 0.25, 0.5, 0.75)


def pychop_rows(pychop_dir: Path) -> list[dict]:
    """PyChop's FWHM (meV) at E = FRACTIONS x Ei and flux (n/cm^2/s) over the whole GRID."""
    sys.path.insert(0, str(pychop_dir))
    from PyChop import PyChop2

    rows = []
    for name, (keyword, settings, freqs, eis) in GRID.items():
        for py_setting, ld_setting in settings:
            for f in freqs:
                for ei in eis:
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            chop = PyChop2(name, py_setting, f)
                            chop.setEi(ei)
                            fwhm = np.ravel(chop.getResolution(np.array(FRACTIONS) * ei))
                            flux = float(np.ravel(chop.getFlux())[0])
                    except ValueError:
                        continue
                    if not (np.all(np.isfinite(fwhm)) and np.all(fwhm > 0)):
                        continue
                    rows.append({"instrument": name, keyword: ld_setting, "frequency": f, "ei": ei,
                                 "fwhm": [float(f"{x:.6g}") for x in fwhm],
                                 "flux": float(f"{flux:.6g}") if np.isfinite(flux) and flux > 0
                                 else None})
    return rows


def latdyn_row(row: dict) -> dict:
    """latdyn's FWHM (both conventions) and calculator flux at one stored PyChop setting;
    None values where latdyn refuses the setting."""
    inst = load_instrument(row["instrument"])
    kw = {k: row[k] for k in ("mode", "package") if k in row}
    et = np.array(FRACTIONS) * row["ei"]
    out = {}
    for conv in ("pychop", "second_moment"):
        try:
            out[conv] = np.asarray(inst.resolution(et, ei=row["ei"], frequency=row["frequency"],
                                                   convention=conv, **kw))
        except LatdynError:
            out[conv] = None
    try:
        out["flux"] = inst.flux_at_sample(row["ei"], frequency=row["frequency"], source="calculator",
                                          **kw)
    except LatdynError:
        out["flux"] = None
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pychop", type=Path, required=True,
                        help="directory that contains the PyChop package")
    parser.add_argument("--markdown", type=Path, help="also write the per-setting table here")
    parser.add_argument("--write-reference", type=Path,
                        help="store PyChop's numbers (JSON) for the parity test")
    args = parser.parse_args()
    rows = pychop_rows(args.pychop)
    lines = ["| Instrument | Setting | f (Hz) | Ei (meV) | PyChop FWHM at E/Ei = 0, .25, .5, .75 (meV) "
             "| latdyn pychop dev (%) | latdyn second-moment dev (%) | flux PyChop | flux dev (%) |",
             "|---|---|---|---|---|---|---|---|---|"]
    stats: dict[str, dict[str, list]] = {}
    for r in rows:
        got = latdyn_row(r)
        ref = np.array(r["fwhm"])
        st = stats.setdefault(r["instrument"], {"pychop": [], "second_moment": [], "flux": [],
                                                "refused": 0})
        devs = {}
        for conv in ("pychop", "second_moment"):
            if got[conv] is None:
                devs[conv] = None
                continue
            devs[conv] = 100 * (got[conv] / ref - 1)
            st[conv].append(devs[conv])
        if devs["pychop"] is None:
            st["refused"] += 1
        flux_dev = None
        if r["flux"] is not None and got["flux"] is not None:
            flux_dev = 100 * (got["flux"] / r["flux"] - 1)
            st["flux"].append(flux_dev)
        setting = r.get("package", r.get("mode"))

        def fmt(d):
            return "refused" if d is None else ", ".join(f"{v:+.1f}" for v in d)
        lines.append(f"| {r['instrument']} | {setting} | {r['frequency']} | {r['ei']:g} | "
                     + ", ".join(f"{v:.4g}" for v in ref) + f" | {fmt(devs['pychop'])} | "
                     f"{fmt(devs['second_moment'])} | "
                     + ("-" if r["flux"] is None else f"{r['flux']:.4g}") + " | "
                     + ("-" if flux_dev is None else f"{flux_dev:+.1f}") + " |")
    print("\n".join(lines))
    print("\n| Instrument | rows | refused by latdyn | pychop: max elastic (%) | pychop: max all E (%) "
          "| second moment: median / max all E (%) | flux: max (%) |\n|---|---|---|---|---|---|---|")
    for name, st in stats.items():
        p = np.abs(np.array(st["pychop"]))
        s = np.abs(np.array(st["second_moment"]))
        fl = np.abs(np.array(st["flux"])) if st["flux"] else np.array([np.nan])
        print(f"| {name} | {len(p) + st['refused']} | {st['refused']} | {p[:, 0].max():.2f} | "
              f"{p.max():.2f} | {np.median(s):.1f} / {s.max():.1f} | {fl.max():.2f} |")
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    if args.write_reference:
        payload = {"source": "ISIS PyChop, standalone port github.com/mducle/pychop (GPL), run by "
                   "tools/compare_pychop.py: PyChop2(name, package_or_variant, frequency), setEi(ei), "
                   "getResolution(fractions * ei), getFlux()", "fractions": list(FRACTIONS),
                   "rows": rows}
        body = ",\n".join(json.dumps(r, separators=(",", ":")) for r in rows)
        head = json.dumps({k: v for k, v in payload.items() if k != "rows"})[:-1]
        args.write_reference.write_text(head + ', "rows": [\n' + body + "\n]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
