r"""Dipole-dipole (long-range) part of the dynamical matrix of a polar crystal by an Ewald sum.

X. Gonze and C. Lee, Phys. Rev. B 55, 10355 (1997), eqs. (71)-(75), (60).  With Born charges
Z*_k (e, ``Z[k, beta, alpha]``: field direction beta, displacement alpha, the phonopy/BORN
convention), the high-frequency dielectric tensor epsilon and the cell volume Omega,

.. math::

    C^{dd}_{k\alpha,k'\alpha'}(\mathbf q) = \sum_{\beta\beta'} Z^*_{k,\beta\alpha}
        Z^*_{k',\beta'\alpha'} \left[\bar C^{rec}_{kk',\beta\beta'}(\mathbf q)
        - \bar C^{real}_{kk',\beta\beta'}(\mathbf q)\right]
        - \delta_{kk'} \sum_{k''} Z^*_k [\bar C^{rec} - \bar C^{real}]_{kk''}(0) Z^*_{k''}

.. math::

    \bar C^{rec}_{kk'}(\mathbf q) = \frac{4\pi}{\Omega} \sum_{\mathbf K=\mathbf q+\mathbf G\neq 0}
        \frac{\mathbf K \mathbf K^T}{\mathbf K\cdot\epsilon\cdot\mathbf K}
        e^{-\mathbf K\cdot\epsilon\cdot\mathbf K/4\Lambda^2} e^{i\mathbf K\cdot(\mathbf r_k-\mathbf r_{k'})}

.. math::

    \bar C^{real}_{kk'}(\mathbf q) = \frac{\Lambda^3}{\sqrt{\det\epsilon}} \sum_{\mathbf R}
        H(\Lambda \boldsymbol\Delta) e^{i\mathbf q\cdot\mathbf R},\quad
        \boldsymbol\Delta = \mathbf r_k-\mathbf r_{k'}-\mathbf R,\
        \boldsymbol\delta = \epsilon^{-1}\boldsymbol\Delta,\ D^2 = \boldsymbol\delta\cdot\boldsymbol\Delta,

.. math::

    H_{\beta\beta'} = \left[\frac{3\,\mathrm{erfc}(y)}{y^5} + \frac{2e^{-y^2}}{\sqrt\pi y^2}
        \left(\frac{3}{y^2}+2\right)\right]\Lambda^2\delta_\beta\delta_{\beta'} -
        \left[\frac{\mathrm{erfc}(y)}{y^3} + \frac{2e^{-y^2}}{\sqrt\pi y^2}\right]
        (\epsilon^{-1})_{\beta\beta'},\quad y = \Lambda D

in the convention D(q) = sum_R Phi(0k; Rk') exp(+i q.R) (phases of the cell origins only).
Everything is multiplied by e^2/(4 pi epsilon_0) (eV angstrom) so that the result is in
eV/angstrom^2 like the force constants.  The G = 0 term is left out at q = 0; the
non-analytic limit along a direction (LO-TO splitting, eq. 60 of Gonze and Lee) is
:meth:`DipoleSum.nonanalytic`.

Speed: the q-independent real-space part is returned as force-constant-like blocks that the
caller merges with the short-range force constants (one matrix product over cells for all q);
the reciprocal part is one matrix product of the q-dependent K K^T weights with the
q-independent phases exp(i G.(r_k - r_k')) of the distinct pair vectors, batched over q.  The
Ewald parameter Lambda balances the number of G-vectors against the number of cells.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc

from ..errors import InputError
from ..structure import Lattice

__all__ = ["DipoleSum"]


class DipoleSum:
    """Ewald sum of the dipole-dipole interaction of a crystal (Gonze and Lee 1997).

    Parameters
    ----------
    cell: the :class:`latdyn.structure.Lattice` (or its (3, 3) matrix, rows in angstrom).
    positions: (N, 3) fractional atomic positions.
    born: (N, 3, 3) Born effective charges, e (phonopy convention, see module docstring).
    dielectric: (3, 3) high-frequency relative permittivity epsilon_infinity.
    factor: e^2 / (4 pi epsilon_0) in eV angstrom (from the input file or scipy.constants).
    tolerance: relative size of the last terms kept in the real and reciprocal sums.
    lambda_scale: multiplies the default Ewald parameter (speed knob; results do not change).
    """

    def __init__(self, cell, positions, born, dielectric, factor: float,
                 tolerance: float = 1e-13, lambda_scale: float = 1.0) -> None:
        self.lattice = cell if isinstance(cell, Lattice) else Lattice.from_matrix(cell)
        self.cell = self.lattice.matrix
        self.positions = np.asarray(positions, dtype=float)
        self.born = np.asarray(born, dtype=float)
        self.dielectric = np.asarray(dielectric, dtype=float)
        n = len(self.positions)
        if self.born.shape != (n, 3, 3):
            raise InputError(f"Born charges must have shape ({n}, 3, 3)", field="born",
                             value=self.born.shape)
        if self.dielectric.shape != (3, 3):
            raise InputError("dielectric tensor must be 3x3", field="dielectric",
                             value=self.dielectric.shape)
        eps_eig = np.linalg.eigvalsh(0.5 * (self.dielectric + self.dielectric.T))
        if np.any(eps_eig <= 0):
            raise InputError("dielectric tensor must be positive definite", field="dielectric",
                             value=eps_eig.tolist())
        if not (tolerance > 0 and tolerance < 1e-3):
            raise InputError("Ewald tolerance must be in (0, 1e-3)", field="tolerance",
                             value=tolerance)
        self.n_atoms = n
        self.factor = float(factor)
        self.volume = self.lattice.volume
        self.recip = self.lattice.reciprocal_matrix
        self.r_cart = self.positions @ self.cell
        self.eps_inv = np.linalg.inv(self.dielectric)
        self.det_eps = float(np.linalg.det(self.dielectric))
        self._eps_min, self._eps_max = float(eps_eig.min()), float(eps_eig.max())
        # Balance: G-vectors inside K^2 < 4 L^2 x_max and cells inside L D < y_max.
        self.x_max = -np.log(tolerance)
        self.y_max = float(np.sqrt(self.x_max))
        self.lam = lambda_scale * 1.6 * self.det_eps ** (1 / 6) / self.volume ** (1 / 3)
        self.gvecs = self._gvectors()
        self.cells, self._real_blocks = self._real_space()
        self.q0 = self._q0_term()

    # --- set-up -------------------------------------------------------------------------------
    def _gvectors(self) -> np.ndarray:
        """Cartesian G (1/angstrom) with K = q + G inside the cutoff for any reduced q."""
        k_max = 2 * self.lam * np.sqrt(self.x_max / self._eps_min)
        corners = np.array([[a, b, c] for a in (-.5, .5) for b in (-.5, .5) for c in (-.5, .5)])
        q_max = np.max(np.linalg.norm(corners @ self.recip, axis=1))
        g_max = k_max + q_max
        # planes of the reciprocal lattice are spaced 2 pi / |a_i|
        n = np.ceil(g_max * np.linalg.norm(self.cell, axis=1) / (2 * np.pi)).astype(int)
        hkl = _grid(n)
        g = hkl @ self.recip
        keep = np.linalg.norm(g, axis=1) <= g_max
        return g[keep]

    def _real_space(self) -> tuple[np.ndarray, np.ndarray]:
        """Cells R and the q-independent blocks -Z^T Cbar^real(R) Z (eV/A^2), (nR, N, 3, N, 3)."""
        lam = self.lam
        d_max = self.y_max / lam * np.sqrt(self._eps_max)
        spread = np.max(np.linalg.norm(self.r_cart[:, None] - self.r_cart[None], axis=-1))
        # distance between lattice planes: 1/|b_i| (b without 2 pi) per axis
        plane = self.lattice.plane_spacings()
        n = np.ceil((d_max + spread) / plane).astype(int)
        cells = _grid(n)
        delta_ij = self.r_cart[:, None, :] - self.r_cart[None, :, :]            # (N, N, 3)
        big = delta_ij[None] - (cells @ self.cell)[:, None, None, :]            # (nR, N, N, 3)
        dvec = big @ self.eps_inv.T                                             # delta = eps^-1 Delta
        d2 = np.einsum("rija,rija->rij", dvec, big)
        y2 = d2 * lam**2
        keep_cell = np.any(y2 <= self.y_max**2, axis=(1, 2))
        cells, big, dvec, y2 = cells[keep_cell], big[keep_cell], dvec[keep_cell], y2[keep_cell]
        zero = np.all(cells == 0, axis=1)
        self_pair = np.zeros_like(y2, dtype=bool)
        self_pair[zero] = np.eye(self.n_atoms, dtype=bool)
        far = y2 > self.y_max**2
        use = ~self_pair & ~far
        y2s = np.where(use, y2, 1.0)
        y = np.sqrt(y2s)
        exp_term = 2 * np.exp(-y2s) / (np.sqrt(np.pi) * y2s)
        erfc_term = erfc(y) / (y * y2s)
        f1 = np.where(use, lam**2 * (3 * erfc_term / y2s + exp_term * (3 / y2s + 2)), 0.0)
        f2 = np.where(use, erfc_term + exp_term, 0.0)
        h = (f1[..., None, None] * dvec[..., :, None] * dvec[..., None, :]
             - f2[..., None, None] * self.eps_inv)                               # (nR, N, N, 3, 3)
        h *= lam**3 / np.sqrt(self.det_eps)
        blocks = -self.factor * np.einsum("icx,rijcd,jdy->rixjy", self.born, h, self.born,
                                          optimize=True)
        return cells, blocks

    def _recip_cbar(self, q_frac: np.ndarray, drop_zero: bool) -> np.ndarray:
        """Reciprocal sum Z^T Cbar^rec Z (eV/A^2): (nq, N, 3, N, 3) complex, q as given."""
        n = self.n_atoms
        return self._reciprocal(q_frac, np.ones(n), drop_zero).reshape(len(q_frac), n, 3, n, 3)

    def _q0_term(self) -> np.ndarray:
        """sum_k' Z_k^T [Cbar^rec - Cbar^real]_{kk'}(q=0) Z_k', symmetrised: (N, 3, 3) eV/A^2."""
        rec = self._recip_cbar(np.zeros((1, 3)), drop_zero=True)[0].real
        real = -self._real_blocks.sum(axis=0)          # blocks carry the minus sign
        total = (rec - real).sum(axis=2)                # sum over k'
        return 0.5 * (total + total.transpose(0, 2, 1))

    # --- per q -------------------------------------------------------------------------------
    def _pair_classes(self) -> None:
        """Group atom pairs by r_k - r_k' modulo the lattice: the G-sum depends only on that."""
        dfrac = self.positions[:, None, :] - self.positions[None, :, :]
        key = np.round(dfrac - np.floor(dfrac + 1e-8), 6) % 1.0
        uniq, inv = np.unique(key.reshape(-1, 3), axis=0, return_inverse=True)
        pg = np.exp(1j * (self.gvecs @ (uniq @ self.cell).T))                  # (nG, ncls)
        self._arrays = {"numpy": {
            "cls": inv.reshape(self.n_atoms, self.n_atoms), "dr": dfrac @ self.cell,
            "pg_re": np.ascontiguousarray(pg.real), "pg_im": np.ascontiguousarray(pg.imag),
            "gvecs": self.gvecs, "recip": self.recip, "dielectric": self.dielectric,
            "nine": np.array(_NINE)}}

    def _device_arrays(self, xp) -> dict:
        """The q-independent arrays of :meth:`_reciprocal` in array module ``xp`` (cached)."""
        if not hasattr(self, "_arrays"):
            self._pair_classes()
        key = xp.__name__
        if key not in self._arrays:
            self._arrays[key] = {k: xp.asarray(v) for k, v in self._arrays["numpy"].items()}
        return self._arrays[key]

    def _reciprocal(self, q_frac, inv_sqrt_mass: np.ndarray, drop_zero: bool = True, xp=np):
        r"""sum_G w(K) (Z_k^T K)(Z_k'^T K)^T e^{iK.(r_k - r_k')}, (nq, 3N, 3N), mass-weighted.

        Split e^{iK.dr} = e^{iq.dr} e^{iG.dr}: the G-sum S_c(q) = sum_G w(K) K K^T e^{iG.dr_c}
        over the classes c of pair vectors is one real-by-complex matrix product with the
        q-independent phases e^{iG.dr_c}; Born charges and masses enter per pair afterwards.
        ``q_frac`` and the result are arrays of the array module ``xp`` (numpy or CuPy).
        """
        t = self._device_arrays(xp)
        n = self.n_atoms
        nq = len(q_frac)
        qc = q_frac @ t["recip"]
        k = qc[:, None, :] + t["gvecs"][None]                                  # (nq, nG, 3)
        kek = xp.einsum("qga,qga->qg", k @ t["dielectric"], k)
        zero = kek < 1e-12
        safe = xp.where(zero, 1.0, kek)
        w = xp.exp(-safe / (4 * self.lam**2)) / safe
        if drop_zero:
            w[zero] = 0.0
        w *= 4 * np.pi * self.factor / self.volume
        kk = xp.empty((nq, 6, k.shape[1]))
        for m, (a, b) in enumerate(_SIX):
            xp.multiply(k[..., a], k[..., b], out=kk[:, m])
            kk[:, m] *= w
        kk = kk.reshape(nq * 6, -1)
        s = xp.empty((nq * 6, t["pg_re"].shape[1]), dtype=complex)
        s.real = kk @ t["pg_re"]
        s.imag = kk @ t["pg_im"]
        s = s.reshape(nq, 6, -1)[:, :, t["cls"]]                               # (nq, 6, N, N)
        s *= xp.exp(1j * xp.einsum("qa,ija->qij", qc, t["dr"]))[:, None]
        s9 = s[:, t["nine"]].reshape(nq, 9, n * n).transpose(2, 1, 0)          # (N^2, 9, nq)
        zz = np.einsum("ica,jdb->ijabcd", self.born * inv_sqrt_mass[:, None, None],
                       self.born * inv_sqrt_mass[:, None, None]).reshape(n * n, 9, 9)
        d = xp.matmul(xp.asarray(zz), s9)                                      # (N^2, 9, nq)
        d = d.reshape(n, n, 3, 3, nq).transpose(4, 0, 2, 1, 3)
        return d.reshape(nq, 3 * n, 3 * n)

    def reciprocal(self, q_frac, inv_sqrt_mass: np.ndarray, *, xp=np):
        """Mass-weighted reciprocal part, (nq, 3N, 3N) complex, eV/(A^2 amu); q reduced, an
        array of the array module ``xp`` like the result."""
        return self._reciprocal(xp.asarray(q_frac, dtype=float), inv_sqrt_mass, xp=xp)

    def real_space_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """Cells (nR, 3) and blocks (nR, 3N, 3N) in eV/A^2 of the real-space and q=0 terms.

        Their Fourier sum sum_R exp(2 pi i q.R) B(R) plus :meth:`reciprocal` is C^dd(q).
        """
        n3 = 3 * self.n_atoms
        blocks = self._real_blocks.reshape(len(self.cells), n3, n3).copy()
        zero = int(np.flatnonzero(np.all(self.cells == 0, axis=1))[0])
        for k in range(self.n_atoms):
            blocks[zero, 3 * k:3 * k + 3, 3 * k:3 * k + 3] -= self.q0[k]
        return self.cells, blocks

    def full(self, q_frac: np.ndarray) -> np.ndarray:
        """C^dd(q) without mass weighting, (nq, 3N, 3N) complex, eV/A^2 (few q, e.g. a mesh)."""
        q_frac = np.atleast_2d(np.asarray(q_frac, dtype=float))
        q_red = q_frac - np.rint(q_frac)
        rec = self.reciprocal(q_red, np.ones(self.n_atoms))
        cells, blocks = self.real_space_blocks()
        phases = np.exp(2j * np.pi * (q_red @ cells.T))
        return rec + np.einsum("qr,rab->qab", phases, blocks)

    def nonanalytic(self, direction_cart: np.ndarray) -> np.ndarray:
        r"""Non-analytic term at q -> 0 along a direction (Gonze and Lee eq. 60), eV/A^2.

        (4 pi / Omega) (q.Z_k)_a (q.Z_k')_b / (q.eps.q) e^2/(4 pi eps0); (3N, 3N) real.
        Returns zeros for a zero direction.
        """
        q = np.asarray(direction_cart, dtype=float)
        if not np.any(q):
            return np.zeros((3 * self.n_atoms, 3 * self.n_atoms))
        qz = np.einsum("c,kca->ka", q, self.born).reshape(-1)
        return 4 * np.pi * self.factor / self.volume * np.outer(qz, qz) / (q @ self.dielectric @ q)


#: Components (a, b) of the symmetric K K^T kept, and the 3x3 layout built from them.
_SIX = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
_NINE = [0, 3, 4, 3, 1, 5, 4, 5, 2]


def _grid(n) -> np.ndarray:
    """All integer triples with |h_i| <= n_i, (M, 3)."""
    axes = [np.arange(-int(m), int(m) + 1) for m in n]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
