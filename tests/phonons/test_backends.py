"""Where the work runs: Dask tasks over q chunks and the array-module (CuPy) path give the same
numbers as the default threaded numpy path; missing extras fail with a DependencyError that
names the extra, and backend='auto' falls back to numpy."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

from latdyn.cli.main import main
from latdyn.errors import DependencyError, InputError
from latdyn.phonons.backend import array_module, resolve_backend
from latdyn.phonons.debye_waller import debye_waller
from latdyn.phonons.maps import path_map, powder_map, slice_map
from latdyn.phonons.modes import calculate_modes, degenerate_sets
from latdyn.phonons.one_phonon import (
    coherent_structure_factors,
    incoherent_structure_factors,
)

needs_dask = pytest.mark.skipif(importlib.util.find_spec("dask") is None,
                                reason="dask is not installed (pip install 'latdyn[dask]')")

Q = np.random.default_rng(11).random((150, 3)) * 4 - 2
E_BINS = np.linspace(-15.0, 35.0, 51)


def _set_sums(f, energies):
    """Intensities summed over degenerate sets: independent of the basis chosen in a set."""
    sets = degenerate_sets(energies)
    out = np.zeros((len(f), sets.max() + 1))
    np.add.at(out, (np.repeat(np.arange(len(f)), f.shape[1]), sets.ravel()), f.ravel())
    return out


def _same_modes(a, b):
    assert np.allclose(a.energies, b.energies, rtol=1e-12, atol=1e-9)
    fa = _set_sums(coherent_structure_factors(a), a.energies)
    fb = _set_sums(coherent_structure_factors(b), b.energies)
    assert np.allclose(fa, fb, rtol=1e-9, atol=1e-12 * fa.max())


# --- Dask -----------------------------------------------------------------------------------------

@needs_dask
def test_dask_modes_equal_threaded_modes(nacl_model):
    ref = calculate_modes(nacl_model, Q, progress=False)
    got = calculate_modes(nacl_model, Q, executor="dask", chunk=17, progress=False)
    _same_modes(ref, got)
    assert np.allclose(got.weights, ref.weights)


@needs_dask
def test_dask_structure_factors_are_the_same_rows(nacl_model):
    modes = calculate_modes(nacl_model, Q, progress=False)
    dw = np.tile(np.eye(3) * 0.01, (8, 1, 1))
    for fn, kw in ((coherent_structure_factors, {"sum_degenerate": True}),
                   (incoherent_structure_factors, {"approximation": True})):
        ref = fn(modes, dw, **kw)
        got = fn(modes, dw, executor="dask", chunk=23, **kw)
        assert got.shape == ref.shape
        assert np.allclose(got, ref, rtol=1e-13, atol=0.0)


@needs_dask
def test_dask_maps_equal_threaded_maps(nacl_model):
    kw = dict(npts=30, broadening=1.0, q_broadening=lambda q: 0.05 + 0.02 * q, progress=False)
    q_bins = np.linspace(0.5, 4.0, 8)
    ref = powder_map(nacl_model, q_bins, E_BINS, 150.0, **kw)
    got = powder_map(nacl_model, q_bins, E_BINS, 150.0, executor="dask", chunk=60, **kw)
    assert np.allclose(got.data.values, ref.data.values, rtol=1e-10, atol=1e-12)
    assert ref.data.values.max() > 0
    path = [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    a = path_map(nacl_model, path, E_BINS, 300.0, npts=40, broadening=1.0)
    b = path_map(nacl_model, path, E_BINS, 300.0, npts=40, broadening=1.0, executor="dask")
    assert np.allclose(a.values, b.values, rtol=1e-10, atol=1e-12)
    s1 = slice_map(nacl_model, [0, 0, 0], [1, 0, 0], [0, 1, 0], (0, 2), (0, 2), (5, 10), 300.0,
                   nu=5, nv=5)
    s2 = slice_map(nacl_model, [0, 0, 0], [1, 0, 0], [0, 1, 0], (0, 2), (0, 2), (5, 10), 300.0,
                   nu=5, nv=5, executor="dask")
    assert np.allclose(s1.values, s2.values, rtol=1e-10, atol=1e-12)
    w1 = debye_waller(nacl_model, 300.0, 3)
    w2 = debye_waller(nacl_model, 300.0, 3, executor="dask", chunk=5)
    assert np.allclose(w1, w2, rtol=1e-10)


@needs_dask
def test_dask_process_scheduler_runs_the_same_graph(nacl_model):
    """With worker processes every task and the shared model are pickled, as on a cluster."""
    import dask

    q = Q[:40]
    ref = calculate_modes(nacl_model, q, progress=False)
    with dask.config.set(scheduler="processes", num_workers=2):
        got = calculate_modes(nacl_model, q, executor="dask", chunk=20, progress=False)
    _same_modes(ref, got)


def test_missing_dask_names_the_extra(nacl_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(DependencyError, match=r"latdyn\[dask\]"):
        calculate_modes(nacl_model, Q[:5], executor="dask")
    with pytest.raises(DependencyError, match=r"latdyn\[dask\]"):
        powder_map(nacl_model, [1.0, 2.0], E_BINS, 10.0, npts=4, executor="dask")


def test_cli_dask_flag_without_dask_exits_2(nacl_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask", None)
    assert main(["phonons", "modes", str(nacl_dir / "phonopy_nacl.yaml"), "--q", "0.1,0,0",
                 "--dask"]) == 2
    assert "latdyn[dask]" in capsys.readouterr().err


def test_unknown_executor_and_backend(nacl_model):
    with pytest.raises(InputError, match="executor"):
        calculate_modes(nacl_model, Q[:3], executor="mpi")
    with pytest.raises(InputError, match="backend"):
        calculate_modes(nacl_model, Q[:3], backend="torch")


# --- CuPy ----------------------------------------------------------------------------------------

def test_cupy_path_equals_numpy_path(nacl_model, fake_cupy):
    """The array-module code run on a strict CuPy stand-in (host arrays refused in device
    operations) gives the numpy results: polar model, LO-TO directions at Gamma, eigvalsh."""
    q = np.vstack([Q[:40], np.zeros((2, 3))])
    dirs = np.zeros_like(q)
    dirs[-2:] = [[1.0, 0, 0], [1.0, 1.0, 0]]
    ref = calculate_modes(nacl_model, q, directions=dirs, progress=False)
    got = calculate_modes(nacl_model, q, directions=dirs, backend="cupy", chunk=16, progress=False)
    assert type(got.energies) is np.ndarray and type(got.eigenvectors) is np.ndarray
    _same_modes(ref, got)
    assert got.energies[-2, -1] > got.energies[-1, -3]      # LO along (100) above the TO
    only = calculate_modes(nacl_model, q, directions=dirs, eigenvectors=False, backend="cupy",
                           progress=False)
    # eigvalsh and eigh differ by ~1e-7 meV on the acoustic modes at Gamma (sqrt of round-off)
    assert np.allclose(only.energies, ref.energies, rtol=1e-12, atol=1e-5)
    a = powder_map(nacl_model, [1.0, 2.0, 3.0], E_BINS, 100.0, npts=20, broadening=1.0,
                   progress=False)
    b = powder_map(nacl_model, [1.0, 2.0, 3.0], E_BINS, 100.0, npts=20, broadening=1.0,
                   backend="cupy", progress=False)
    assert np.allclose(a.data.values, b.data.values, rtol=1e-9, atol=1e-12)
    assert resolve_backend("auto") == "cupy"


def test_cupy_stand_in_refuses_host_arrays(fake_cupy):
    """The stand-in is strict: the test above would catch a missing transfer."""
    dev = fake_cupy.asarray(np.ones(3))
    with pytest.raises(TypeError, match="host"):
        dev + np.ones(3)
    with pytest.raises(TypeError, match="host"):
        fake_cupy.exp(np.ones(3))
    with pytest.raises(TypeError, match="asnumpy"):
        np.zeros(3)[:] = dev
    assert type(fake_cupy.asnumpy(dev * 2)) is np.ndarray


def test_cupy_missing_is_a_dependency_error_and_auto_falls_back(nacl_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(DependencyError, match=r"latdyn\[gpu\]"):
        calculate_modes(nacl_model, Q[:3], backend="cupy")
    with pytest.raises(DependencyError, match=r"latdyn\[gpu\]"):
        powder_map(nacl_model, [1.0, 2.0], E_BINS, 10.0, npts=4, backend="cupy")
    assert array_module("auto") is np and resolve_backend("auto") == "numpy"
    ref = calculate_modes(nacl_model, Q[:10], progress=False)
    auto = calculate_modes(nacl_model, Q[:10], backend="auto", progress=False)
    assert np.array_equal(auto.energies, ref.energies)


@pytest.mark.parametrize("count", [0, RuntimeError("cudaErrorNoDevice: no CUDA-capable device")])
def test_cupy_without_gpu_is_a_dependency_error(nacl_model, install_fake_cupy, count):
    install_fake_cupy(count)
    with pytest.raises(DependencyError, match="no CUDA device"):
        calculate_modes(nacl_model, Q[:3], backend="cupy")
    assert resolve_backend("auto") == "numpy"
    auto = calculate_modes(nacl_model, Q[:10], backend="auto", progress=False)
    assert np.array_equal(auto.energies, calculate_modes(nacl_model, Q[:10]).energies)


def test_cli_backend_cupy_without_cupy_exits_2(nacl_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert main(["phonons", "modes", str(nacl_dir / "phonopy_nacl.yaml"), "--q", "0.1,0,0",
                 "--backend", "cupy"]) == 2
    assert "latdyn[gpu]" in capsys.readouterr().err
    assert main(["phonons", "modes", str(nacl_dir / "phonopy_nacl.yaml"), "--q", "0.1,0,0",
                 "--backend", "auto", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 24


@needs_dask
def test_cli_powder_with_dask_and_q_fwhm(nacl_dir, tmp_path, capsys):
    import scipp as sc

    from latdyn.phonons import load_phonopy

    out = tmp_path / "pow"
    assert main(["phonons", "powder", str(nacl_dir / "phonopy_nacl.yaml"), "--out", str(out),
                 "--q-max", "4", "--qbins", "8", "--emin", "-10", "--emax", "30", "--ebins", "20",
                 "--npts", "16", "--fwhm", "1", "--q-fwhm", "0.2", "--dw-mesh", "0", "--dask",
                 "--json"]) == 0
    capsys.readouterr()
    got = sc.io.load_hdf5(out / "sqe_powder.h5").values
    ref = powder_map(load_phonopy(nacl_dir / "phonopy_nacl.yaml"), np.linspace(0, 4, 9),
                     np.linspace(-10, 30, 21), 300.0, npts=16, broadening=1.0, q_broadening=0.2,
                     progress=False).data.values
    assert np.allclose(got, ref, rtol=1e-10, atol=1e-12) and ref.max() > 0
