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
the reciprocal part is one matrix product of the q-dependent weights w(q + G) with a fixed
table of G-vector powers times the phases exp(i G.(r_k - r_k')) of the distinct pair vectors
(:meth:`DipoleSum.add_reciprocal`), batched over small blocks of q.  The Ewald parameter Lambda
balances the number of G-vectors against the number of cells.
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
        The default balances the work of the real-space table against that of the G-sum
        (:meth:`_balanced_lambda`).
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
        base = 1.6 * self.det_eps ** (1 / 6) / self.volume ** (1 / 3)
        self.lam = lambda_scale * self._balanced_lambda(base)
        self.gvecs = self._gvectors()
        self.cells, self._real_blocks = self._real_space()
        self.q0 = self._q0_term()

    # --- set-up -------------------------------------------------------------------------------
    def _g_max(self, lam: float) -> float:
        """Largest |G| (1/angstrom) needed: K = q + G inside K.eps.K < 4 Lambda^2 x_max for
        any reduced q."""
        k_max = 2 * lam * np.sqrt(self.x_max / self._eps_min)
        corners = np.array([[a, b, c] for a in (-.5, .5) for b in (-.5, .5) for c in (-.5, .5)])
        return float(k_max + np.max(np.linalg.norm(corners @ self.recip, axis=1)))

    def _g_grid(self, lam: float) -> np.ndarray:
        """Cartesian G (1/angstrom) of the box of reciprocal-lattice points holding |G| <= g_max."""
        # planes of the reciprocal lattice are spaced 2 pi / |a_i|
        n = np.ceil(self._g_max(lam) * np.linalg.norm(self.cell, axis=1) / (2 * np.pi)).astype(int)
        return _grid(n) @ self.recip

    def _gvectors(self) -> np.ndarray:
        """Cartesian G (1/angstrom) with K = q + G inside the cutoff for any reduced q."""
        g = self._g_grid(self.lam)
        return g[np.linalg.norm(g, axis=1) <= self._g_max(self.lam)]

    def _cell_grid(self, lam: float):
        """Cells R of the box holding every pair within the real-space cutoff at ``lam``, with
        Delta = r_k - r_k' - R (nR, N, N, 3), delta = eps^-1 Delta and D^2 = delta.Delta."""
        d_max = self.y_max / lam * np.sqrt(self._eps_max)
        spread = np.max(np.linalg.norm(self.r_cart[:, None] - self.r_cart[None], axis=-1))
        n = np.ceil((d_max + spread) / self.lattice.plane_spacings()).astype(int)
        cells = _grid(n)
        delta_ij = self.r_cart[:, None, :] - self.r_cart[None, :, :]            # (N, N, 3)
        big = delta_ij[None] - (cells @ self.cell)[:, None, None, :]            # (nR, N, N, 3)
        dvec = big @ self.eps_inv.T                                             # delta = eps^-1 Delta
        return cells, big, dvec, np.einsum("rija,rija->rij", dvec, big)

    def _balanced_lambda(self, base: float) -> float:
        """The Ewald parameter among 0.8-2 x ``base`` with the least estimated work per q:
        per pair of cells (R, -R) of the real-space table 2 (3N)^2 multiply-adds and as much
        again for the cosines, sines and sums
        (:meth:`latdyn.phonons.ForceConstants.dynamical_matrices`), against one per column of
        the G-table (:meth:`_table_columns`) per G-vector, plus about 66 for K.eps.K and the
        exponential, in :meth:`add_reciprocal` (weights measured on the CPU).  The result does
        not depend on it beyond the tolerance."""
        lams = base * np.linspace(0.8, 2.0, 13)
        _, _, _, d2 = self._cell_grid(float(lams.min()))
        d_min = np.sqrt(np.maximum(d2.min(axis=(1, 2)), 0.0))                 # per cell
        half_cells = np.array([(np.count_nonzero(lam * d_min <= self.y_max) - 1) / 2
                               for lam in lams])
        g_norm = np.linalg.norm(self._g_grid(float(lams.max())), axis=1)
        n_g = np.array([np.count_nonzero(g_norm <= self._g_max(lam)) for lam in lams])
        work = half_cells * 4 * (3 * self.n_atoms) ** 2 + n_g * (self._table_columns() + 66)
        return float(lams[np.argmin(work)])

    def _real_space(self) -> tuple[np.ndarray, np.ndarray]:
        """Cells R and the q-independent blocks -Z^T Cbar^real(R) Z (eV/A^2), (nR, N, 3, N, 3)."""
        lam = self.lam
        cells, big, dvec, d2 = self._cell_grid(lam)
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

    def _q0_term(self) -> np.ndarray:
        """sum_k' Z_k^T [Cbar^rec - Cbar^real]_{kk'}(q=0) Z_k', symmetrised: (N, 3, 3) eV/A^2."""
        rec = self._recip_cbar(np.zeros((1, 3)))[0].real
        real = -self._real_blocks.sum(axis=0)          # blocks carry the minus sign
        total = (rec - real).sum(axis=2)                # sum over k'
        return 0.5 * (total + total.transpose(0, 2, 1))

    # --- per q -------------------------------------------------------------------------------
    def _pair_classes(self) -> None:
        r"""The q-independent tables of :meth:`add_reciprocal`.

        Atom pairs are grouped by r_k - r_k' modulo the lattice (classes c): the G-sum depends
        only on that.  With K = q + G, K_a K_b = q_a q_b + q_a G_b + G_a q_b + G_a G_b and
        K.eps.K = q.eps.q + 2 q.eps.G + G.eps.G, so all G-sums are one matrix product of the
        q-dependent weights w(K) (nq, nG) with the fixed real table g_j(G) cos(G.dr_c),
        g_j(G) sin(G.dr_c), g = (1, G_x, G_y, G_z, G_xG_x, G_yG_y, G_zG_z, G_xG_y, G_xG_z,
        G_yG_z).  A class and its inverse (dr -> -dr) share their columns (the sine changes
        sign); a class that is its own inverse (2 dr a lattice vector, sin(G.dr) = 0) has none
        for the sine.  The last 10 columns are zeros: the sine part of those classes.
        """
        n = self.n_atoms
        uniq, inv, neg = self._pair_class_keys()
        idx = np.arange(len(uniq))
        rep = np.minimum(idx, neg)                                           # of each pair c, -c
        reps = np.unique(rep)
        odd = reps[neg[reps] != reps]                                        # with a sine part
        cos_of = np.searchsorted(reps, rep)
        sine_of = np.where(np.isin(rep, odd), np.searchsorted(odd, rep), len(odd))
        sign = np.where(idx == rep, 1.0, -1.0)
        g = self.gvecs
        a, b = np.array(_SIX).T
        eps = 0.5 * (self.dielectric + self.dielectric.T)
        powers = np.concatenate([np.ones((len(g), 1)), g, g[:, a] * g[:, b]], axis=1)
        arg = g @ (uniq @ self.cell).T                                       # (nG, ncls)
        table = np.concatenate([(np.cos(arg[:, reps])[:, :, None] * powers[:, None]).reshape(len(g), -1),
                                (np.sin(arg[:, odd])[:, :, None] * powers[:, None]).reshape(len(g), -1),
                                np.zeros((len(g), 10))], axis=1)
        # Born charges on the 6 independent entries of the symmetric K K^T:
        # D_xy = sum_cd Z_cx Z'_dy S_cd = sum_{c<=d} (Z_cx Z'_dy + [c != d] Z_dx Z'_cy) S_cd
        zz = np.einsum("icx,jdy->ijcdxy", self.born, self.born).reshape(n * n, 3, 3, 9)
        zz6 = np.stack([zz[:, c, d] + (zz[:, d, c] if c != d else 0.0) for c, d in _SIX], axis=1)
        self._arrays = {"numpy": {
            "table": np.ascontiguousarray(table), "n_cos": np.array(len(reps)),
            "cos_of": cos_of, "sine_of": sine_of, "sign": sign[:, None],
            "eg": g @ eps, "geg": np.einsum("ga,ab,gb->g", g, eps, g), "eps": eps,
            "cls": inv, "r": self.r_cart,
            "recip": np.array(self.recip), "zz6": zz6.astype(complex), "a": a, "b": b}}

    def _pair_class_keys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct r_k - r_k' modulo the lattice (fractional, (ncls, 3)), the class of
        each pair (k, k') in row-major order (N^2,) and the class of -dr of each class."""
        dfrac = self.positions[:, None, :] - self.positions[None, :, :]
        key = np.round(dfrac - np.floor(dfrac + 1e-8), 6) % 1.0
        uniq, inv = np.unique(key.reshape(-1, 3), axis=0, return_inverse=True)
        diff = uniq[:, None, :] + uniq[None, :, :]
        neg = np.argmax(np.all(np.abs(diff - np.rint(diff)) < 1e-5, axis=2), axis=1)
        return uniq, inv.reshape(-1), neg

    def _table_columns(self) -> int:
        """Columns of the G-table: 10 per class pair (c, -c) and per class with a sine part,
        and 10 zeros."""
        _, _, neg = self._pair_class_keys()
        idx = np.arange(len(neg))
        return 10 * (np.count_nonzero(idx <= neg) + np.count_nonzero(idx < neg) + 1)

    def _device_arrays(self, xp) -> dict:
        """The q-independent arrays of :meth:`add_reciprocal` in array module ``xp`` (cached)."""
        if not hasattr(self, "_arrays"):
            self._pair_classes()
        key = xp.__name__
        if key not in self._arrays:
            self._arrays[key] = {k: xp.asarray(v) for k, v in self._arrays["numpy"].items()}
        return self._arrays[key]

    def add_reciprocal(self, d, q_frac, inv_sqrt_mass: np.ndarray, scale: float = 1.0, *,
                       xp=np, block: int = 128) -> None:
        r"""d += scale * sum_{G, K=q+G != 0} w(K) (Z_k^T K)(Z_k'^T K)^T e^{iK.(r_k - r_k')} /
        sqrt(M_k M_k'), in place; d (nq, 3N, 3N) complex, q reduced (nq, 3), both arrays of
        the array module ``xp`` (numpy or CuPy); w(K) = (4 pi / Omega) e^2/(4 pi eps0)
        exp(-K.eps.K / 4 Lambda^2) / K.eps.K.

        Per block of ``block`` q-points (small blocks keep the work in cache; one block with
        another array module): the weights w (nq, nG); the G-sums of the classes of pair
        vectors, S_c = sum_G w K K^T e^{iG.dr_c}, from one matrix product with the table of
        :meth:`_pair_classes`; per pair the phase e^{iq.(r_k - r_k')}; the Born charges and
        masses as one batched product over pairs.  A short last block is padded to a multiple
        of ``block`` rows, so that every q-point is computed by the same BLAS kernel and the
        result for a q-point does not depend on the others of its batch (to the last bit).
        """
        t = self._device_arrays(xp)
        n = self.n_atoms
        n_cos = int(self._arrays["numpy"]["n_cos"])
        weight = xp.asarray((np.outer(inv_sqrt_mass, inv_sqrt_mass) * scale).reshape(-1, 1, 1))
        zz6 = t["zz6"] * weight                                              # (N^2, 6, 9)
        pref = 4 * np.pi * self.factor / self.volume
        a, b = t["a"], t["b"]
        blocks = d.reshape(len(d), n, 3, n, 3)                               # a view of d
        if xp is not np:
            block *= max(1, -(-len(d) // block))
        for s0 in range(0, len(d), block):
            q = q_frac[s0:s0 + block]
            used = len(q)
            if used < block:
                q = xp.concatenate([q, xp.zeros((block - used, 3))])
            nq = block
            qc = q @ t["recip"]                                              # (nq, 3)
            kek = (2.0 * qc) @ t["eg"].T                                     # (nq, nG)
            kek += t["geg"]
            kek += xp.sum((qc @ t["eps"]) * qc, axis=1)[:, None]
            zero = kek < 1e-12                                               # G = 0 at q = 0
            kek[zero] = 1.0
            w = xp.exp(kek * (-0.25 / self.lam**2))
            w /= kek
            w[zero] = 0.0
            w *= pref
            m = w @ t["table"]
            cos = m[:, :10 * n_cos].reshape(nq, n_cos, 10)
            sine = m[:, 10 * n_cos:].reshape(nq, -1, 10)
            m = cos[:, t["cos_of"]] + 1j * (t["sign"] * sine[:, t["sine_of"]])  # (nq, ncls, 10)
            s6 = m[:, :, 4:10] + qc[:, None, a] * m[:, :, 1 + b]
            s6 += qc[:, None, b] * m[:, :, 1 + a]
            s6 += (qc[:, a] * qc[:, b])[:, None, :] * m[:, :, 0:1]           # (nq, ncls, 6)
            pairs = s6[:, t["cls"]].reshape(nq, n, n, 6)                     # (nq, N, N, 6)
            phase = xp.exp(1j * (qc @ t["r"].T))                             # e^{iq.r_k}
            pairs *= (phase[:, :, None] * phase.conj()[:, None, :])[..., None]
            pairs = pairs.reshape(nq, n * n, 6)
            out = xp.matmul(pairs.transpose(1, 0, 2), zz6)                   # (N^2, nq, 9)
            blocks[s0:s0 + used] += out.reshape(n, n, nq, 3, 3)[:, :, :used].transpose(2, 0, 3, 1, 4)

    def _recip_cbar(self, q_frac: np.ndarray) -> np.ndarray:
        """Reciprocal sum Z^T Cbar^rec Z (eV/A^2): (nq, N, 3, N, 3) complex, q as given."""
        n = self.n_atoms
        return self.reciprocal(q_frac, np.ones(n)).reshape(len(q_frac), n, 3, n, 3)

    def reciprocal(self, q_frac, inv_sqrt_mass: np.ndarray, *, xp=np):
        """Mass-weighted reciprocal part, (nq, 3N, 3N) complex, eV/(A^2 amu); q reduced, an
        array of the array module ``xp`` like the result (:meth:`add_reciprocal`)."""
        q = xp.asarray(q_frac, dtype=float)
        n3 = 3 * self.n_atoms
        d = xp.zeros((len(q), n3, n3), dtype=complex)
        self.add_reciprocal(d, q, inv_sqrt_mass, xp=xp)
        return d

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


#: Components (a, b) of the symmetric K K^T kept.
_SIX = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def _grid(n) -> np.ndarray:
    """All integer triples with |h_i| <= n_i, (M, 3)."""
    axes = [np.arange(-int(m), int(m) + 1) for m in n]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
