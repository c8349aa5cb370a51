"""Every command that reads a file, fed every kind of file latdyn ships or writes that it does
not take: exit status 2, exactly one line on standard error, no traceback, no internal path.

The commands are found by walking the argparse tree (every leaf with a positional file
argument); :data:`EXTRA` completes each one's command line with valid options, and a command
missing from it fails the test, so a new command is covered from the day it is added.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import latdyn
from latdyn.cli.main import build_parser, main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "src" / "latdyn" / "examples"
SHARED = Path(os.environ.get("LATDYN_SHARED_DATA", REPO / ".." / "shared" / "data")).resolve()
PACKAGE = str(Path(latdyn.__file__).resolve().parent)

#: kind -> shipped file (the reference-data kinds are left out when ../shared/data is absent)
SHIPPED = {
    "mantid_nexus": SHARED / "qens" / "in16b_lysozyme" / "vana_QENS_280K.nxs",
    "lamp_hdf": SHARED / "qens" / "in5_water" / "V_273K_5A.hdf",
    "inx": SHARED / "qens" / "in16b_lysozyme" / "D_syn_fibers_elastic_10to300K.inx",
    "ascii": SHARED / "qens" / "iris_graphite" / "irf_iris.dat",
    "phonopy_yaml": EXAMPLES / "nacl" / "phonopy_nacl.yaml",
    "force_constants_hdf5": EXAMPLES / "nacl" / "force_constants.hdf5",
    "born": EXAMPLES / "nacl" / "BORN_nacl",
    "cif": EXAMPLES / "agi" / "AgI_alpha.cif",
    "mcif": REPO / "tests" / "diffraction" / "data" / "mcif" / "magnetic.example.NiO.mcif",
}

#: kinds of measured or computed data on a grid (what the data commands take)
DATA = {"mantid_nexus", "lamp_hdf", "inx", "ascii", "results_h5", "scipp_h5", "csv"}
TRAJECTORIES = {"extxyz", "h5md"}

#: command -> (options completing its line, given the output path; kinds it takes)
EXTRA = {
    "info": (lambda o: [], DATA | {"h5md"}),
    "convert": (lambda o: [o + ".h5"], DATA | {"h5md"}),
    "diffraction reflections": (lambda o: [], {"cif", "mcif"}),
    "diffraction pattern": (lambda o: ["--out", o], {"cif", "mcif"}),
    "diffraction pdf": (lambda o: ["--out", o], {"cif", "mcif"}),
    "diffraction debye": (lambda o: ["--out", o], set()),
    "diffraction phases": (lambda o: ["--out", o], set()),
    "diffraction mem": (lambda o: ["--out", o], set()),
    "ins cut": (lambda o: ["--q-range", "0", "10", "-o", o + ".csv"], DATA),
    "ins fit": (lambda o: ["-T", "300", "--e0", "10", "--resolution", "1", "-o", o], DATA),
    "ins dos": (lambda o: ["-T", "300", "--mass", "50", "--q-range", "0", "5", "--e-range", "1", "50",
                           "-o", o], DATA),
    "ins magnetic": (lambda o: ["--ion", "Mn2+", "--uiso", "0.01", "-o", o], DATA),
    "ins thermo": (lambda o: ["-o", o], DATA),
    "md sqw": (lambda o: ["--out", o], TRAJECTORIES),
    "md vanhove": (lambda o: ["--out", o], TRAJECTORIES),
    "md msd": (lambda o: ["--out", o], TRAJECTORIES),
    "md dos": (lambda o: ["--out", o], TRAJECTORIES),
    "phonons modes": (lambda o: ["--q", "0,0,0"], {"phonopy_yaml"}),
    "phonons dispersion": (lambda o: ["--out", o], {"phonopy_yaml"}),
    "phonons slice": (lambda o: ["--e-range", "5", "10", "--out", o], {"phonopy_yaml"}),
    "phonons diffuse": (lambda o: ["--n", "4", "--out", o], {"phonopy_yaml"}),
    "phonons powder": (lambda o: ["--out", o], {"phonopy_yaml"}),
    "phonons dos": (lambda o: ["--out", o], {"phonopy_yaml"}),
    "polarisation separate": (lambda o: ["--out", o], DATA),
    "polarisation fit": (lambda o: ["--out", o], DATA),
    "qens fit": (lambda o: ["--out", o], DATA),
    "qens msd": (lambda o: ["--out", o], DATA),
    "thermo arrhenius": (lambda o: [], {"ascii", "csv"}),
}

#: positional arguments that are not input files
NOT_FILES = {"instrument", "formula", "output"}


def file_commands() -> dict[str, list[str]]:
    """command path -> its positional file arguments, for every leaf of the argparse tree."""
    found = {}

    def walk(parser, path):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if subs:
            for name, sub in subs[0].choices.items():
                walk(sub, [*path, name])
            return
        files = [a.dest for a in parser._actions if not a.option_strings and a.dest not in NOT_FILES]
        if files:
            found[" ".join(path)] = files

    walk(build_parser(), [])
    return found


def test_every_file_command_is_covered():
    assert set(file_commands()) <= set(EXTRA), "add the new command to EXTRA"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """One file of every kind, copied or written into a temporary folder (so that no message
    names the package's own folder because of the file's path)."""
    import matplotlib.pyplot as plt
    import scipp as sc

    from latdyn.data.io import Results, Table, write_csv, write_results_h5
    from latdyn.md.trajectory import write_h5md

    folder = tmp_path_factory.mktemp("kinds")
    out = {}
    for kind, src in SHIPPED.items():
        if src.is_file():
            out[kind] = Path(shutil.copy(src, folder / src.name))
    rng = np.random.default_rng(1)
    pos = rng.uniform(0, 8, (4, 8, 3))
    symbols = ["Li"] * 4 + ["O"] * 4
    lines = []
    for frame in pos:
        lines += ["8", 'Lattice="8 0 0 0 8 0 0 0 8" Properties=species:S:1:pos:R:3 pbc="T T T"']
        lines += [f"{s} {x:.5f} {y:.5f} {z:.5f}" for s, (x, y, z) in zip(symbols, frame, strict=True)]
    out["extxyz"] = folder / "traj.extxyz"
    out["extxyz"].write_text("\n".join(lines) + "\n")
    out["h5md"] = write_h5md(folder / "traj.h5", pos, np.eye(3) * 8, symbols, 0.01)
    e = sc.linspace("E", -1.0, 1.0, 21, unit="meV")
    da = sc.DataArray(sc.array(dims=["E"], values=np.exp(-e.values ** 2), unit="1/meV",
                               variances=np.full(21, 1e-4)), coords={"E": e})
    out["results_h5"] = write_results_h5(folder / "results.h5", Results(data={"spectrum": da})) \
        or folder / "results.h5"
    out["scipp_h5"] = folder / "scipp.h5"
    da.save_hdf5(out["scipp_h5"])
    out["csv"] = write_csv(folder / "table.csv", Table({"name": np.array(["a", "b"]),
                                                        "value": np.array([1.0, 2.0])}))
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(folder / "figure.png", dpi=20)
    plt.close(fig)
    out["png"] = folder / "figure.png"
    return out


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(EXTRA))
def test_wrong_file_kind_is_one_line_and_exit_2(command, files, tmp_path, capsys):
    positional = file_commands()[command]
    extra, takes = EXTRA[command]
    tried = 0
    for kind, path in files.items():
        if kind in takes:
            continue
        out = str(tmp_path / kind)
        argv = [*command.split(), *[str(path)] * len(positional), *extra(out)]
        if command in ("qens fit", "polarisation fit"):
            argv += ["--resolution", str(path)]
        rc = main(argv)
        _, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert rc == 2, f"{command} on {kind}: exit {rc}: {err}"
        assert len(lines) == 1 and lines[0].startswith("latdyn: error: "), f"{command} on {kind}: {err}"
        assert "Traceback" not in err and "site-packages" not in err and PACKAGE not in err, err
        assert not Path(out).exists(), f"{command} on {kind} left {out}"
        tried += 1
    assert tried >= 3
