"""Fixtures of the phonon tests: the NaCl phonopy calculation (phonondb, A. Togo) and copies of it
with symmetrised force constants, with and without Born charges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

#: The same phonondb files ship with latdyn (src/latdyn/examples/nacl, without the text
#: FORCE_CONSTANTS file): the phonon tests run where ../shared/data is absent.
PACKAGED_NACL = Path(__file__).resolve().parents[2] / "src" / "latdyn" / "examples" / "nacl"


@pytest.fixture(scope="session")
def nacl_dir() -> Path:
    """../shared/data/phonopy/NaCl when present, else the copy shipped in the package."""
    import os

    shared = Path(os.environ.get("LATDYN_SHARED_DATA",
                                 Path(__file__).resolve().parents[2] / ".." / "shared" / "data"))
    for path in (shared / "phonopy" / "NaCl", PACKAGED_NACL):
        if (path / "phonopy_nacl.yaml").is_file():
            return path.resolve()
    pytest.skip(f"NaCl phonopy data found neither in {shared} nor in {PACKAGED_NACL}")


def phonopy_of(d: dict, force_constants: bool = False):
    """phonopy.Phonopy on the unit cell and supercell of a parsed phonopy yaml (primitive =
    the unit cell), with the file's force constants when ``force_constants``."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    uc = d["unit_cell"]
    atoms = PhonopyAtoms(symbols=[p["symbol"] for p in uc["points"]], cell=uc["lattice"],
                         scaled_positions=[p["coordinates"] for p in uc["points"]],
                         masses=[p["mass"] for p in uc["points"]])
    ph = Phonopy(atoms, supercell_matrix=d["supercell_matrix"], primitive_matrix="P")
    if force_constants:
        ph.force_constants = np.array(d["force_constants"]["elements"]).reshape(
            len(uc["points"]), -1, 3, 3)
    return ph


def _symmetrised_copy(src: Path, dst: Path, polar: bool) -> Path:
    """Write phonopy.yaml with force constants made symmetric, Phi(i,j) = Phi(j,i)^T.

    The file's force constants break this symmetry by ~1e-3 eV/A^2; codes differ in how they
    treat the asymmetric part (latdyn and phonopy symmetrise, Euphonic uses one triangle), so
    the side-by-side comparisons use a symmetric copy.
    """
    from phonopy.harmonic.force_constants import compact_fc_to_full_fc

    d = yaml.safe_load(src.read_text())
    ph = phonopy_of(d)
    shape = d["force_constants"]["shape"]
    fc = np.array(d["force_constants"]["elements"]).reshape(shape + [3, 3])
    full = compact_fc_to_full_fc(ph.primitive, fc)
    full = 0.5 * (full + full.transpose(1, 0, 3, 2))
    d["force_constants"]["elements"] = full[ph.primitive.p2s_map].tolist()
    if not polar:
        d.pop("born_effective_charge")
        d.pop("dielectric_constant")
        d["phonopy"].pop("nac_unit_conversion_factor")
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "phonopy.yaml").write_text(yaml.safe_dump(d))
    return dst / "phonopy.yaml"


@pytest.fixture(scope="session")
def nacl_sym(nacl_dir, tmp_path_factory) -> Path:
    return _symmetrised_copy(nacl_dir / "phonopy_nacl.yaml",
                             tmp_path_factory.mktemp("nacl_sym"), polar=True)


@pytest.fixture(scope="session")
def nacl_sym_nonpolar(nacl_dir, tmp_path_factory) -> Path:
    return _symmetrised_copy(nacl_dir / "phonopy_nacl.yaml",
                             tmp_path_factory.mktemp("nacl_sym_np"), polar=False)


@pytest.fixture(scope="session")
def nacl_model(nacl_dir):
    from latdyn.phonons import load_phonopy

    return load_phonopy(nacl_dir / "phonopy_nacl.yaml")


@pytest.fixture(scope="session")
def nacl_distorted(nacl_sym, tmp_path_factory) -> Path:
    """The symmetric NaCl force constants on a non-centrosymmetric arrangement of the atoms
    (Cl shifted by (0.03, 0.05, 0.02)): not a physical crystal, but a model with the same
    force constants in which the phases exp(iQ.r_k) of the structure factor matter."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    d = yaml.safe_load(nacl_sym.read_text())
    shift = np.array([0.03, 0.05, 0.02])
    for block in ("unit_cell", "primitive_cell"):
        for p in d[block]["points"]:
            if p["symbol"] == "Cl":
                p["coordinates"] = (np.array(p["coordinates"]) + shift).tolist()
    uc = d["unit_cell"]
    atoms = PhonopyAtoms(symbols=[p["symbol"] for p in uc["points"]], cell=uc["lattice"],
                         scaled_positions=[p["coordinates"] for p in uc["points"]],
                         masses=[p["mass"] for p in uc["points"]])
    ph = Phonopy(atoms, supercell_matrix=d["supercell_matrix"], primitive_matrix="P")
    for p, pos in zip(d["supercell"]["points"], ph.supercell.scaled_positions, strict=True):
        p["coordinates"] = pos.tolist()
    dst = tmp_path_factory.mktemp("nacl_distorted")
    (dst / "phonopy.yaml").write_text(yaml.safe_dump(d))
    return dst / "phonopy.yaml"


# --- a strict stand-in for CuPy -----------------------------------------------------------------

class _DeviceArray(np.lib.mixins.NDArrayOperatorsMixin):
    """An array that stands for GPU memory.  As with CuPy: operations that mix it with host
    numpy arrays raise TypeError, and so does any implicit conversion to numpy (storing it
    into a numpy array, np.asarray); only ``asnumpy`` brings it back.  So a missing
    host-to-device or device-to-host transfer in the array-module code fails here as it would
    on a GPU."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    def __array__(self, dtype=None, copy=None):
        raise TypeError("implicit conversion of a device array to numpy (use asnumpy)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out", ())
        _refuse_host(inputs + tuple(out))
        if out:
            kwargs["out"] = tuple(_plain(o) for o in out)
        res = getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs)
        return out[0] if out else _device(res)

    def __array_function__(self, func, types, args, kwargs):
        _refuse_host(args)
        _refuse_host(tuple(kwargs.values()))
        return _device(func(*_plain_all(args), **{k: _plain_all(v) for k, v in kwargs.items()}))

    def __getitem__(self, index):
        _refuse_host(index if isinstance(index, tuple) else (index,))
        return _device(self._a[_plain_all(index)])

    def __setitem__(self, index, value):
        _refuse_host((index if isinstance(index, tuple) else (index,)) + (value,))
        self._a[_plain_all(index)] = _plain(value)

    def __len__(self) -> int:
        return len(self._a)

    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    dtype = property(lambda self: self._a.dtype)
    T = property(lambda self: _DeviceArray(self._a.T))

    @property
    def real(self):
        return _DeviceArray(self._a.real)

    @real.setter
    def real(self, value):
        _refuse_host((value,))
        self._a.real = _plain(value)

    @property
    def imag(self):
        return _DeviceArray(self._a.imag)

    @imag.setter
    def imag(self, value):
        _refuse_host((value,))
        self._a.imag = _plain(value)

    def reshape(self, *shape):
        return _DeviceArray(self._a.reshape(*shape))

    def transpose(self, *axes):
        return _DeviceArray(self._a.transpose(*axes))

    def conj(self):
        return _DeviceArray(self._a.conj())


def _plain(x):
    return x._a if isinstance(x, _DeviceArray) else x


def _plain_all(x):
    if isinstance(x, tuple | list):
        return type(x)(_plain_all(v) for v in x)
    return _plain(x)


def _device(x):
    if isinstance(x, np.ndarray):
        return _DeviceArray(x)
    if isinstance(x, tuple):
        return tuple(_device(v) for v in x)
    return x


def _refuse_host(items):
    for x in items:
        if isinstance(x, tuple | list):
            _refuse_host(x)
        elif isinstance(x, np.ndarray):
            raise TypeError(f"a host numpy array {x.shape} was passed to a device operation")


def make_fake_cupy(device_count=1):
    """A module named 'cupy' whose arrays are :class:`_DeviceArray`: functions refuse host arrays,
    ``asarray`` moves to the 'device', ``asnumpy`` back; ``cuda.runtime.getDeviceCount``
    returns ``device_count`` (or raises it when it is an exception)."""
    import types

    mod = types.ModuleType("cupy")

    def wrap(func):
        def call(*args, **kwargs):
            _refuse_host(args)
            _refuse_host(tuple(kwargs.values()))
            return _device(func(*_plain_all(args), **{k: _plain_all(v) for k, v in kwargs.items()}))
        return call

    def count():
        if isinstance(device_count, Exception):
            raise device_count
        return device_count

    mod.asarray = lambda a, dtype=None: _DeviceArray(np.array(_plain(a), dtype=dtype))
    mod.asnumpy = lambda a: np.array(_plain(a))
    mod.empty = lambda shape, dtype=float: _DeviceArray(np.empty(shape, dtype=dtype))
    mod.linalg = types.SimpleNamespace(eigh=wrap(lambda a: tuple(np.linalg.eigh(a))),
                                       eigvalsh=wrap(np.linalg.eigvalsh))
    mod.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=count))
    mod.__getattr__ = lambda name: wrap(getattr(np, name))
    return mod


@pytest.fixture
def install_fake_cupy(monkeypatch):
    """A function that installs a strict CuPy stand-in as ``cupy`` for one test:
    ``install_fake_cupy(device_count=1)`` (an exception instance: the device query raises it)."""
    import sys

    def install(device_count=1):
        mod = make_fake_cupy(device_count)
        monkeypatch.setitem(sys.modules, "cupy", mod)
        return mod

    return install


@pytest.fixture
def fake_cupy(install_fake_cupy):
    """The strict CuPy stand-in with one 'device', installed as ``cupy`` for one test."""
    return install_fake_cupy()


# --- the NaCl model in a rotated Cartesian frame ---------------------------------------------------

#: A generic rotation (Euler angles zyx 0.3, 0.7, -0.4 rad): the rotated cell is not symmetric,
#: so code that confuses the lattice matrix with its transpose gives other numbers.
ROTATION = Rotation.from_euler("zyx", [0.3, 0.7, -0.4]).as_matrix()


def rotate_model(model, rot):
    """The same crystal turned by ``rot`` (3x3 orthogonal): cell rows, force-constant blocks,
    Born charges and dielectric tensor rotated as Cartesian vectors and tensors."""
    from latdyn.phonons import DipoleSum, ForceConstants, phonon_crystal

    c = model.crystal
    turned = phonon_crystal(c.cell @ rot.T, c.positions, c.symbols, c.masses)
    n = c.n_atoms
    blocks = model.short_blocks.reshape(-1, n, 3, n, 3)
    blocks = np.einsum("ab,rkbld,cd->rkalc", rot, blocks, rot).reshape(model.short_blocks.shape)
    dipole = None
    if model.dipole is not None:
        d = model.dipole
        dipole = DipoleSum(turned.cell, turned.positions, np.einsum("ab,kbc,dc->kad", rot, d.born, rot),
                           rot @ d.dielectric @ rot.T, d.factor)
    return ForceConstants(turned, model.short_cells, blocks, dipole=dipole, asr=model.asr)


@pytest.fixture(scope="session")
def nacl_rotated(nacl_model):
    return rotate_model(nacl_model, ROTATION)
