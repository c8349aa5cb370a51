"""Compare latdyn's direct-geometry resolution with ISIS PyChop, setting by setting.

PyChop (T. G. Perring's CHOP and R. I. Bewley's multirep, ported to Python by D. Le; GPL) is
the resolution calculator ISIS and SNS publish for their chopper spectrometers.  It is not on
PyPI: point this script at a checkout of the standalone port (github.com/mducle/pychop, the
directory that holds the ``PyChop`` package) or of Mantid's ``scripts/pychop``.  Nothing of
PyChop is shipped with latdyn; it is imported at run time only.

    python tools/compare_pychop.py --pychop /path/to/pychop [--markdown table.md]

Prints, for every instrument both programs know (MARI, MERLIN, MAPS, ARCS, SEQUOIA, LET,
CNCS), each setting
(package or mode, frequency, Ei) and energy transfers 0, 0.25, 0.5 and 0.75 Ei: PyChop's FWHM,
latdyn's FWHM (meV) and the deviation; then per instrument the median and largest |deviation|
at the elastic line and over all energy transfers.  Settings where either program transmits
nothing are skipped.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from latdyn.errors import LatdynError
from latdyn.instruments import load_instrument

#: instrument -> (latdyn keyword, [(PyChop variant or package, latdyn value)], frequencies, Ei)
GRID = {
    "MARI": ("package", [(p, p) for p in ("A", "G", "R", "S")], (100, 250, 400, 600),
             (10.0, 25.0, 100.0, 500.0)),
    "MERLIN": ("package", [(p, p) for p in ("G", "S")], (100, 200, 400, 600), (10.0, 30.0, 100.0, 300.0)),
    "MAPS": ("package", [(p, p) for p in ("A", "B", "S")], (100, 200, 400, 600),
             (15.0, 50.0, 100.0, 200.0, 500.0, 1000.0)),
    "ARCS": ("package", [(p, p) for p in ("ARCS-100-1.5-AST", "ARCS-700-1.5-AST", "ARCS-700-0.5-AST",
                                          "SEQ-700-3.5-AST")], (120, 300, 420, 600),
             (15.0, 50.0, 100.0, 250.0, 500.0, 1000.0)),
    "SEQUOIA": ("package", [(p, p) for p in ("Fine", "Sloppy", "SEQ-100-2.0-AST", "ARCS-700-0.5-AST")],
                (120, 300, 420, 600), (10.0, 30.0, 100.0, 250.0, 500.0, 1000.0)),
    "LET": ("mode", [("High flux", "high_flux"), ("Intermediate", "intermediate"),
                     ("High resolution", "high_resolution")], (120, 240, 300), (1.0, 3.7, 8.0, 20.0)),
    "CNCS": ("mode", [("High Flux", "high_flux"), ("Intermediate", "intermediate"),
                      ("High Resolution", "high_resolution")], (180, 300), (1.0, 3.32, 12.0)),
}
FRACTIONS = np.array([0.0, 0.25, 0.5, 0.75])


def compare(pychop_dir: Path) -> list[dict]:
    sys.path.insert(0, str(pychop_dir))
    from PyChop import PyChop2

    rows = []
    for name, (keyword, settings, freqs, eis) in GRID.items():
        inst = load_instrument(name)
        for py_setting, ld_setting in settings:
            for f in freqs:
                for ei in eis:
                    et = FRACTIONS * ei
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            chop = PyChop2(name, py_setting, f)
                            chop.setEi(ei)
                            ref = np.ravel(chop.getResolution(et))
                        got = inst.resolution(et, ei=ei, frequency=f, **{keyword: ld_setting})
                    except (LatdynError, ValueError):
                        continue
                    if not np.all(np.isfinite(ref)):
                        continue
                    rows.append({"instrument": name, "setting": ld_setting, "frequency": f, "ei": ei,
                                 "pychop": ref, "latdyn": np.asarray(got)})
    return rows


def summary(rows: list[dict]) -> list[tuple]:
    out = []
    for name in GRID:
        dev = np.array([100 * (r["latdyn"] / r["pychop"] - 1) for r in rows if r["instrument"] == name])
        if dev.size == 0:
            continue
        el = np.abs(dev[:, 0])
        out.append((name, len(dev), float(np.median(el)), float(el.max()),
                    float(np.median(np.abs(dev))), float(np.abs(dev).max())))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pychop", type=Path, required=True,
                        help="directory that contains the PyChop package")
    parser.add_argument("--markdown", type=Path, help="also write the per-setting table here")
    args = parser.parse_args()
    rows = compare(args.pychop)
    lines = ["| Instrument | Setting | f (Hz) | Ei (meV) | PyChop FWHM at E/Ei = 0, .25, .5, .75 (meV) "
             "| latdyn | deviation (%) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        dev = 100 * (r["latdyn"] / r["pychop"] - 1)
        lines.append(f"| {r['instrument']} | {r['setting']} | {r['frequency']} | {r['ei']:g} | "
                     + ", ".join(f"{v:.4g}" for v in r["pychop"]) + " | "
                     + ", ".join(f"{v:.4g}" for v in r["latdyn"]) + " | "
                     + ", ".join(f"{v:+.1f}" for v in dev) + " |")
    print("\n".join(lines))
    print("\n| Instrument | settings | median abs dev elastic (%) | max elastic (%) "
          "| median all E (%) | max all E (%) |\n|---|---|---|---|---|---|")
    for name, n, med_el, max_el, med, mx in summary(rows):
        print(f"| {name} | {n} | {med_el:.1f} | {max_el:.1f} | {med:.1f} | {mx:.1f} |")
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
