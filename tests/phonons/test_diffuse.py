"""Thermal diffuse scattering (latdyn.phonons.diffuse): the energy integral of the S(Q,E) maps,
the classical high-temperature limit and the command ``latdyn phonons diffuse``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipp as sc
from scipy import constants as C

from latdyn.cli.main import main
from latdyn.cli.output import to_jsonable
from latdyn.errors import InputError
from latdyn.phonons import (
    ForceConstants,
    compute_diffuse,
    debye_waller,
    diffuse_intensity,
    diffuse_map,
    phonon_crystal,
    sqe_at,
)
from latdyn.phonons.springs import spring_model


def _q_points(n=24, seed=3):
    """Random reduced Q away from reciprocal-lattice points (|q - G| > 0.05 in each axis)."""
    q = np.random.default_rng(seed).uniform(-2.5, 2.5, (n, 3))
    near = np.abs(q - np.rint(q)) < 0.05
    return np.where(near, q + 0.1, q)


@pytest.mark.parametrize("temperature", [10.0, 300.0])
def test_diffuse_equals_energy_integral_of_sqe(nacl_model, temperature):
    """sum_nu F_nu (2n + 1) = int dE S(Q,E) over a fine grid holding every mode on both sides,
    with Debye-Waller factors, unbroadened and with a 0.3 meV Gaussian (tails inside)."""
    q = _q_points()
    dw = debye_waller(nacl_model, temperature, 4)
    tds = diffuse_intensity(nacl_model, q, temperature, dw=dw)
    assert tds.n_imaginary == 0 and tds.n_points == len(q)
    edges = np.linspace(-40.0, 40.0, 8001)
    for broadening in (None, 0.3):
        s = sqe_at(nacl_model, q, edges, temperature, dw=dw, broadening=broadening)
        integral = (s * np.diff(edges)).sum(axis=1)
        np.testing.assert_allclose(tds.intensity, integral, rtol=1e-3)
    assert np.all(tds.intensity > 0)


def _fcc_springs(k=1.5, a=4.0):
    """One Cu atom per fcc primitive cell, nearest-neighbour central springs k (eV/A^2)."""
    cell = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    crystal = phonon_crystal(cell, [[0, 0, 0]], ["Cu"])
    return spring_model(crystal, cutoff=0.75 * a, k=k), a, k


def _classical_tds(q_frac, model, a, k, temperature):
    """k_B T b^2 Q^T Phi(q)^-1 Q (barn) with Phi(q) = sum_bonds k (1 - cos q.d) d^ d^: Warren's
    equipartition result for one atom per cell, written independently of latdyn's code."""
    recip = 2 * np.pi * np.linalg.inv(model.crystal.cell).T
    q_cart = q_frac @ recip
    bonds = 0.5 * a * np.array([[s1, s2, 0] for s1 in (1, -1) for s2 in (1, -1)]
                               + [[s1, 0, s2] for s1 in (1, -1) for s2 in (1, -1)]
                               + [[0, s1, s2] for s1 in (1, -1) for s2 in (1, -1)], dtype=float)
    unit = bonds / np.linalg.norm(bonds, axis=1)[:, None]
    b = model.crystal.b_coh.real[0]                                       # fm
    kt = C.k * temperature / C.e                                           # eV
    out = []
    for qc in q_cart:
        phi = np.einsum("n,na,nb->ab", k * (1 - np.cos(bonds @ qc)), unit, unit)
        out.append(kt * (b * 1e-15) ** 2 * qc @ np.linalg.solve(phi, qc) / 1e-28)
    return np.array(out)


def test_high_temperature_limit_is_classical_and_linear_in_t():
    """At k_B T >> E every mode weighs k_B T / E^2: the intensity equals the equipartition
    formula (relative correction (E/2k_BT)^2/3 < 1e-4 at 6000 K) and doubles with T."""
    model, a, k = _fcc_springs()
    q = _q_points(16)
    hot = diffuse_intensity(model, q, 6000.0).intensity
    np.testing.assert_allclose(hot, _classical_tds(q, model, a, k, 6000.0), rtol=1e-3)
    hotter = diffuse_intensity(model, q, 12000.0).intensity
    np.testing.assert_allclose(hotter / hot, 2.0, rtol=1e-3)
    cold = diffuse_intensity(model, q, 0.0).intensity       # zero-point: (2n + 1) = 1
    assert np.all(cold < 0.2 * hot) and np.all(cold > 0)


def test_diffuse_map_plane_and_volume(nacl_model):
    """A plane is the middle layer of a volume through it; coordinates hold h, k, l."""
    plane, res = diffuse_map(nacl_model, (0, 0, 0.5), (1, 0, 0), (0, 1, 0), (-1, 1), (-1, 1),
                             300.0, nu=5, nv=4)
    assert plane.dims == ("x", "y") and plane.shape == (5, 4) and plane.unit == sc.Unit("barn")
    assert np.allclose(plane.coords["l"].values, 0.5) and res.n_points == 20
    vol, _ = diffuse_map(nacl_model, (0, 0, 0), (1, 0, 0), (0, 1, 0), (-1, 1), (-1, 1), 300.0,
                         w=(0, 0, 1), w_range=(0.0, 1.0), nu=5, nv=4, nw=3)
    assert vol.dims == ("x", "y", "z")
    np.testing.assert_allclose(vol["z", 1].values, plane.values, rtol=1e-10)
    with pytest.raises(InputError):
        diffuse_map(nacl_model, (0, 0, 0), (1, 0), (0, 1, 0), (-1, 1), (-1, 1), 300.0)
    with pytest.raises(InputError):
        diffuse_intensity(nacl_model, [[0.1, 0.2, 0.3]], -5.0)
    with pytest.raises(InputError):
        diffuse_intensity(nacl_model, [[0.1, 0.2, 0.3]], 300.0, kind="magnetic")


def test_unstable_model_flags_imaginary_modes():
    """Reversed springs make every non-Gamma mode imaginary: they add nothing, are counted, and
    the result says so."""
    model, _, _ = _fcc_springs()
    unstable = ForceConstants(model.crystal, model.short_cells, -model.short_blocks)
    q = _q_points(6)
    res = diffuse_intensity(unstable, q, 100.0)
    assert res.n_imaginary == 3 * len(q) and np.all(res.intensity == 0)
    assert diffuse_intensity(model, q, 100.0).n_imaginary == 0


@pytest.mark.slow
def test_command_and_library_call_agree(nacl_dir, tmp_path, capsys):
    yaml = str(nacl_dir / "phonopy_nacl.yaml")
    args = ["phonons", "diffuse", yaml, "--origin", "0,0,0.5", "--range", "-1", "1", "-1", "1",
            "--n", "6", "--dw-mesh", "2", "-T", "200", "--out", str(tmp_path / "cli"), "--json"]
    assert main(args) == 0
    cli = json.loads(capsys.readouterr().out)
    r = compute_diffuse(yaml, origin=(0, 0, 0.5), extent=(-1, 1, -1, 1), n=6, dw_mesh=2,
                        temperature=200.0)
    assert to_jsonable(r.to_json()) == {k: v for k, v in cli.items() if k not in ("title", "rows")}
    assert sc.identical(r.data, sc.io.load_hdf5(tmp_path / "cli" / "diffuse.h5"))
    files = r.write(tmp_path / "py")
    assert [f.name for f in files] == ["diffuse.h5", "report.html"]
    assert (tmp_path / "py" / "figures" / "diffuse.png").is_file()
    assert r.to_json()["temperature"]["value"] == 200.0 and r.to_json()["n_imaginary"] == 0
    assert r.to_json()["debye_waller"] is True
