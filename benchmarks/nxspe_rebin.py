"""Benchmark: read a ~200 MB NXSPE file and rebin it to powder S(|Q|, E).

Generates a synthetic NXSPE (published layout, float64 data + error) in a temporary folder,
then times (1) a plain pass reading every detector chunk with h5py (the I/O floor) and
(2) latdyn.data.io.nxspe_to_powder, and prints both times, their ratio, the throughput and
the peak resident memory growth (which stays near chunk_size x n_E, not the file size).

    python benchmarks/nxspe_rebin.py [--mb 200] [--chunk-size 2048]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np


def make_file(path: Path, n_det: int, n_e: int, ei: float = 60.0) -> None:
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as fh:
        g = fh.create_group("bench")
        g.attrs["NX_class"] = np.bytes_("NXentry")
        g.create_dataset("definition", data=np.bytes_("NXSPE"))
        g.create_dataset("NXSPE_info/fixed_energy", data=[ei])
        d = g.create_group("data")
        chunk = (min(n_det, 1024), n_e)
        dv = d.create_dataset("data", shape=(n_det, n_e), dtype="f8", chunks=chunk)
        de = d.create_dataset("error", shape=(n_det, n_e), dtype="f8", chunks=chunk)
        for i0 in range(0, n_det, 4096):
            i1 = min(n_det, i0 + 4096)
            dv[i0:i1] = rng.random((i1 - i0, n_e))
            de[i0:i1] = 0.1 + 0.01 * rng.random((i1 - i0, n_e))
        d.create_dataset("energy", data=np.linspace(-0.3 * ei, 0.9 * ei, n_e + 1))
        d.create_dataset("polar", data=np.sort(rng.uniform(3.0, 135.0, n_det)))
        d.create_dataset("azimuthal", data=rng.uniform(-30.0, 30.0, n_det))


def read_only(path: Path, chunk_size: int) -> float:
    total = 0.0
    with h5py.File(path, "r") as fh:
        dv, de = fh["bench/data/data"], fh["bench/data/error"]
        for i0 in range(0, dv.shape[0], chunk_size):
            total += float(dv[i0:i0 + chunk_size].sum()) + float(de[i0:i0 + chunk_size].sum())
    return total


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="file size in MB (data + error)")
    parser.add_argument("--chunk-size", type=int, default=2048, help="detectors per chunk")
    parser.add_argument("--n-e", type=int, default=320, help="energy bins")
    args = parser.parse_args()
    n_det = int(args.mb * 1e6 / (16 * args.n_e))
    from latdyn.data.io import nxspe_to_powder

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.nxspe"
        t0 = time.perf_counter()
        make_file(path, n_det, args.n_e)
        size = path.stat().st_size / 1e6
        print(f"generated {path.name}: {n_det} detectors x {args.n_e} energies, {size:.0f} MB "
              f"({time.perf_counter() - t0:.1f} s)")
        rss0 = rss_mb()
        t0 = time.perf_counter()
        read_only(path, args.chunk_size)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        da = nxspe_to_powder(path, q_bins=0.05, chunk_size=args.chunk_size).data
        t_rebin = time.perf_counter() - t0
        print(f"plain h5py read of data+error       : {t_read:7.2f} s")
        print(f"nxspe_to_powder (read + rebin)      : {t_rebin:7.2f} s  "
              f"({size / t_rebin:.0f} MB/s, {n_det * args.n_e / t_rebin / 1e6:.1f} Mpixel/s)")
        print(f"ratio rebin / plain read            : {t_rebin / t_read:7.2f}")
        print(f"output grid {dict(da.sizes)}, covered bins "
              f"{int((~da.masks['no_coverage'].values).sum())}")
        print(f"peak RSS growth during the runs     : {rss_mb() - rss0:7.1f} MB "
              f"(file {size:.0f} MB, chunk {args.chunk_size} detectors)")


if __name__ == "__main__":
    main()
