r"""Force-constant model and batched dynamical matrices.

The dynamical matrix at reduced wave vector q (phases of the cell origins only, the
convention of M. T. Dove, Introduction to Lattice Dynamics (1993), eq. 8.19, and of Euphonic):

.. math::

    D_{k\alpha,k'\beta}(\mathbf q) = \frac{1}{\sqrt{M_k M_{k'}}} \sum_{\mathbf R}
        \Phi_{\alpha\beta}(0k; \mathbf R k') e^{2\pi i \mathbf q\cdot\mathbf R}
        + C^{dd}_{k\alpha,k'\beta}(\mathbf q) / \sqrt{M_k M_{k'}}

Short-range force constants of the supercell are folded onto the primitive cell with the
periodic images of phonopy (``Primitive.get_smallest_vectors``: the shortest vectors between
the atom pair over supercell translations, weight 1/multiplicity each).  For polar crystals
the supercell-periodic part of the dipole-dipole interaction is subtracted from the total
force constants and the Ewald sum C^dd(q) of :mod:`latdyn.phonons.ewald` added at every q
(Gonze and Lee, PRB 55, 10355 (1997), eq. 78).

All q-independent work is done once: the short-range blocks and the real-space Ewald blocks
form one table of cells R (with R and -R paired, so that D = Phi_0 + cos(2 pi q.R) @ (Phi_R +
Phi_-R) + i sin(2 pi q.R) @ (Phi_R - Phi_-R) is two real matrix products over half the
cells); the reciprocal Ewald part is a Gram product over precomputed G-vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..structure import Crystal
from .constants import FC_TO_MEV2
from .ewald import DipoleSum

__all__ = ["ForceConstants", "commensurate_qpoints", "ASR_CHOICES"]

#: Acoustic-sum-rule corrections: 'realspace' (default: every row of the short-range force
#: constants is made to sum to zero through the self term; with the dipole part's own q = 0
#: term the acoustic branches then go linearly to zero, also in polar crystals), 'reciprocal'
#: (the three acoustic eigenvalues of the Gamma-point matrix shifted to zero at every q, the
#: CASTEP/Euphonic scheme; with a large non-analytic term it leaves the LA branch a small gap
#: near Gamma), None (as read).
ASR_CHOICES = ("reciprocal", "realspace", None)

#: q-points per block of dynamical matrices built on the CPU (small enough to stay in cache).
BLOCK = 128


@dataclass
class _Tables:
    """q-independent arrays of D(q) = phi0 + cos(theta) @ s_plus + i sin(theta) @ s_minus,
    theta = 2 pi q.R over the cells R of ``cells_half`` (meV^2, mass-weighted)."""

    phi0: object
    cells_half: object
    s_plus: object
    s_minus: object


def commensurate_qpoints(supercell_matrix) -> np.ndarray:
    """Reduced q-points (in [0, 1)) whose Bloch phases are periodic over the supercell.

    q is commensurate when S q is integer (S: supercell matrix, rows in primitive vectors);
    there are |det S| of them.
    """
    s = np.asarray(supercell_matrix, dtype=float)
    n = int(round(abs(np.linalg.det(s))))
    span = int(np.max(np.abs(s).sum(axis=0)))
    axes = np.arange(-span, span + 1)
    ints = np.stack(np.meshgrid(axes, axes, axes, indexing="ij"), -1).reshape(-1, 3)
    q = ints @ np.linalg.inv(s).T
    q = np.round(q - np.floor(q + 1e-9), 10) % 1.0
    q = np.unique(q, axis=0)
    if len(q) != n:
        raise InputError("could not enumerate the commensurate q-points of the supercell",
                         field="supercell_matrix", value=s.tolist())
    return q


class ForceConstants:
    """Harmonic model of a crystal: force constants folded into a table of cells, optional dipole.

    Build with :func:`latdyn.phonons.load_phonopy` or :meth:`from_supercell`.

    Parameters
    ----------
    crystal: the primitive cell, a :class:`latdyn.structure.Crystal` whose atoms are in the
        order of the force constants (fully occupied).
    cells: (nR, 3) integer cell vectors R (primitive fractional).
    blocks: (nR, 3N, 3N) short-range force constants Phi(0k; R k') in eV/angstrom^2 with the
        image weights included, so that D(q) = sum_R blocks[R] exp(2 pi i q.R) / sqrt(M M').
    dipole: a :class:`DipoleSum` for polar crystals, or None.
    asr: one of :data:`ASR_CHOICES`.
    source: file name for messages.
    """

    def __init__(self, crystal: Crystal, cells, blocks, dipole: DipoleSum | None = None,
                 asr: str | None = "realspace", source: str | None = None) -> None:
        if asr not in ASR_CHOICES:
            raise InputError(f"asr must be one of {ASR_CHOICES}", field="asr", value=asr)
        if not isinstance(crystal, Crystal):
            raise InputError("the crystal of a force-constant model must be a "
                             "latdyn.structure.Crystal", file=source, field="crystal",
                             value=type(crystal).__name__)
        crystal.require_full_occupancy()
        cells = np.asarray(cells, dtype=int)
        blocks = np.asarray(blocks, dtype=float)
        n3 = 3 * crystal.n_atoms
        if cells.ndim != 2 or cells.shape[1] != 3 or blocks.shape != (len(cells), n3, n3):
            raise InputError(f"force-constant blocks must be (nR, {n3}, {n3}) with (nR, 3) cells",
                             file=source, field="force_constants", value=blocks.shape)
        self.crystal = crystal
        self.dipole = dipole
        self.asr = asr
        self.source = source
        #: :class:`~latdyn.phonons.fc_checks.ForceConstantChecks` of the loaded force
        #: constants (set by :func:`~latdyn.phonons.load_phonopy`), or None.
        self.fc_checks = None
        self.short_cells = cells
        self.short_blocks = blocks
        self._build_table()

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_supercell(cls, crystal: Crystal, supercell_matrix, force_constants,
                       s2p, sc_positions, svecs, multi, *, born=None, dielectric=None,
                       nac_factor: float | None = None, asr: str | None = "realspace",
                       ewald_tolerance: float = 1e-13, lambda_scale: float = 1.0,
                       source: str | None = None) -> ForceConstants:
        """Fold compact supercell force constants onto the primitive cell.

        force_constants: (N, Nsc, 3, 3) eV/A^2, rows = primitive atoms in the supercell.
        s2p: (Nsc,) index of the primitive atom each supercell atom maps to.
        sc_positions: (Nsc, 3) supercell atom positions in primitive fractional coordinates.
        svecs, multi: phonopy's shortest vectors (primitive fractional) and (Nsc, N, 2)
            multiplicities/addresses (``Primitive.get_smallest_vectors()``).
        born, dielectric, nac_factor: Born charges (N, 3, 3) e, epsilon_inf (3, 3),
            e^2/(4 pi eps0) in eV A; with them, the dipole part is handled by Ewald sums.
        """
        from .constants import COULOMB_EV_A

        n = crystal.n_atoms
        fc = np.asarray(force_constants, dtype=float)
        nsc = len(s2p)
        if fc.shape != (n, nsc, 3, 3):
            raise InputError(f"force constants must be ({n}, {nsc}, 3, 3) for {n} primitive and "
                             f"{nsc} supercell atoms", file=source, field="force_constants",
                             value=fc.shape)
        s2p = np.asarray(s2p, dtype=int)
        r = crystal.positions
        cell_of = np.rint(np.asarray(sc_positions) - r[s2p])
        if np.max(np.abs(np.asarray(sc_positions) - r[s2p] - cell_of)) > 1e-4:
            raise InputError("supercell atoms are not lattice translates of primitive atoms",
                             file=source, field="supercell")
        dipole = None
        if born is not None and dielectric is not None:
            factor = COULOMB_EV_A if nac_factor is None else float(nac_factor)
            dipole = DipoleSum(crystal.lattice, r, born, dielectric, factor,
                               tolerance=ewald_tolerance, lambda_scale=lambda_scale)
            qc = commensurate_qpoints(supercell_matrix)
            d_dip = dipole.full(qc).reshape(len(qc), n, 3, n, 3)
            ph = np.exp(-2j * np.pi * (qc @ cell_of.T))                      # (nc, Nsc)
            fc_dip = np.einsum("cl,cialb->ilab", ph, d_dip[:, :, :, s2p, :]).real / len(qc)
            fc = fc - fc_dip
        # fold with phonopy's shortest vectors: R = svec - (r_j - r_i)
        multi = np.asarray(multi, dtype=int)
        svecs = np.asarray(svecs, dtype=float)
        rows, cols, blocks_list, cells_list = [], [], [], []
        for i in range(n):
            for l_ in range(nsc):
                j = s2p[l_]
                count, addr = multi[l_, i]
                vecs = svecs[addr:addr + count] - (r[j] - r[i])
                cells_r = np.rint(vecs)
                if np.max(np.abs(vecs - cells_r)) > 1e-4:
                    raise InputError("shortest vectors do not connect lattice sites",
                                     file=source, field="svecs")
                for c in cells_r:
                    rows.append(i)
                    cols.append(j)
                    cells_list.append(c)
                    blocks_list.append(fc[i, l_] / count)
        cells_arr = np.array(cells_list, dtype=int)
        uniq, inv = np.unique(cells_arr, axis=0, return_inverse=True)
        blocks = np.zeros((len(uniq), n, 3, n, 3))
        np.add.at(blocks, (inv.ravel(), np.array(rows), slice(None), np.array(cols), slice(None)),
                  np.array(blocks_list))
        return cls(crystal, uniq, blocks.reshape(len(uniq), 3 * n, 3 * n), dipole=dipole,
                   asr=asr, source=source)

    # --- the q-independent table ------------------------------------------------------------
    def _build_table(self) -> None:
        n = self.crystal.n_atoms
        n3 = 3 * n
        cells, blocks = _symmetric_table(self.short_cells, self.short_blocks.copy())
        if self.asr == "realspace":
            zero = int(np.flatnonzero(np.all(cells == 0, axis=1))[0])
            rowsum = blocks.reshape(len(cells), n, 3, n, 3).sum(axis=(0, 3))   # (n, 3, 3)
            rowsum = 0.5 * (rowsum + rowsum.transpose(0, 2, 1))
            for k in range(n):
                blocks[zero, 3 * k:3 * k + 3, 3 * k:3 * k + 3] -= rowsum[k]
        if self.dipole is not None:
            dcells, dblocks = self.dipole.real_space_blocks()
            cells, blocks = _merge_tables(cells, blocks, dcells, dblocks)
        cells, blocks = _symmetric_table(cells, blocks)
        inv_sqrt_m = np.repeat(1.0 / np.sqrt(self.crystal.masses), 3)
        weight = FC_TO_MEV2 * np.outer(inv_sqrt_m, inv_sqrt_m)
        blocks = blocks * weight
        zero = int(np.flatnonzero(np.all(cells == 0, axis=1))[0])
        half = _positive_half(cells)
        neg = np.array([_index_of(cells, -c) for c in cells[half]], dtype=int)
        self._inv_sqrt_m = 1.0 / np.sqrt(self.crystal.masses)
        self._tables = {"numpy": _Tables(
            phi0=blocks[zero].astype(complex), cells_half=cells[half].astype(float),
            s_plus=(blocks[half] + blocks[neg]).reshape(len(neg), n3 * n3),
            s_minus=(blocks[half] - blocks[neg]).reshape(len(neg), n3 * n3))}
        if self.asr == "reciprocal":
            host = self._tables["numpy"]
            host.phi0 = host.phi0 + _reciprocal_asr(self._raw_dynmat(np.zeros((1, 3)))[0],
                                                    self.crystal.masses)

    @property
    def n_cells(self) -> int:
        """Cells in the Fourier table (R and -R counted once)."""
        return len(self._tables["numpy"].cells_half) * 2 + 1

    def _device_tables(self, xp) -> _Tables:
        """The q-independent table as arrays of module ``xp`` (copied to the device once)."""
        key = xp.__name__
        if key not in self._tables:
            host = self._tables["numpy"]
            self._tables[key] = _Tables(**{f: xp.asarray(getattr(host, f))
                                           for f in _Tables.__dataclass_fields__})
        return self._tables[key]

    @property
    def n_gvectors(self) -> int:
        """G-vectors of the reciprocal Ewald sum (0 for a non-polar model)."""
        return 0 if self.dipole is None else len(self.dipole.gvecs)

    # --- per q ----------------------------------------------------------------------------------
    def _raw_dynmat(self, q_frac, xp=np):
        """D(q) without the LO-TO term, (nq, 3N, 3N) complex meV^2, as arrays of ``xp``; on
        the CPU in blocks of :data:`BLOCK` q-points, whose work stays in cache."""
        n3 = 3 * self.crystal.n_atoms
        t = self._device_tables(xp)
        q = xp.asarray(q_frac, dtype=float)
        d = xp.empty((len(q), n3 * n3), dtype=complex)
        step = BLOCK if xp is np else max(len(q), 1)
        for s0 in range(0, len(q), step):
            theta = (2 * np.pi) * (q[s0:s0 + step] @ t.cells_half.T)
            d.real[s0:s0 + step] = xp.cos(theta) @ t.s_plus
            d.imag[s0:s0 + step] = xp.sin(theta) @ t.s_minus
        d = d.reshape(len(q), n3, n3)
        d += t.phi0
        if self.dipole is not None:
            self.dipole.add_reciprocal(d, q - xp.rint(q), self._inv_sqrt_m, FC_TO_MEV2, xp=xp,
                                       block=BLOCK)
        return d

    def dynamical_matrices(self, q_frac, directions=None, *, xp=np):
        """Mass-weighted dynamical matrices D(q) in meV^2 (eigenvalues are (hbar omega)^2).

        q_frac: (nq, 3) reduced wave vectors.  directions: optional (nq, 3) Cartesian
        directions used at Gamma for the non-analytic (LO-TO) term; rows of zeros or q away
        from Gamma ignore it.  Returns (nq, 3N, 3N) complex, Hermitian, as an array of the
        array module ``xp`` (numpy, or CuPy: see :mod:`latdyn.phonons.backend`).
        """
        q = check_qpoints(q_frac, self.source)
        d = self._raw_dynmat(q, xp)
        if self.dipole is not None and directions is not None:
            dirs = np.asarray(directions, dtype=float)
            if dirs.shape != q.shape:
                raise InputError("directions must have the shape of the q-points",
                                 field="directions", value=dirs.shape)
            at_gamma = np.all(np.abs(q - np.rint(q)) < 1e-10, axis=1) & np.any(dirs != 0, axis=1)
            w = FC_TO_MEV2 * np.outer(np.repeat(self._inv_sqrt_m, 3), np.repeat(self._inv_sqrt_m, 3))
            for iq in np.flatnonzero(at_gamma):
                d[int(iq)] += xp.asarray(w * self.dipole.nonanalytic(dirs[iq]))
        return d

    def dynamical_matrix_gradient(self, q_frac, step: float = 1e-4) -> np.ndarray:
        """dD/dQ_cart by central differences, (nq, 3, 3N, 3N) complex, meV^2 angstrom."""
        q = check_qpoints(q_frac, self.source)
        out = np.empty((len(q), 3) + (3 * self.crystal.n_atoms,) * 2, dtype=complex)
        # reduced step of a Cartesian step along axis a: h_i = step (a_i)_a / 2 pi
        dq_frac = self.crystal.lattice.reduced_q(np.eye(3) * step)
        for a in range(3):
            dq = dq_frac[a]
            out[:, a] = (self._raw_dynmat(q + dq) - self._raw_dynmat(q - dq)) / (2 * step)
        return out


def check_qpoints(q, source=None) -> np.ndarray:
    """(nq, 3) finite float array from any (3,) or (nq, 3) input; InputError otherwise."""
    try:
        arr = np.asarray(q, dtype=float)
    except (TypeError, ValueError):
        raise InputError("q-points must be numbers", file=source, field="qpoints",
                         value=q) from None
    if arr.ndim == 1 and arr.shape == (3,):
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError("q-points must have shape (n, 3)", file=source, field="qpoints",
                         value=arr.shape)
    if not np.all(np.isfinite(arr)):
        raise InputError("q-points must be finite", file=source, field="qpoints",
                         value=arr[~np.isfinite(arr)][0])
    return arr


def _index_of(cells: np.ndarray, c: np.ndarray) -> int:
    hit = np.flatnonzero(np.all(cells == c, axis=1))
    return int(hit[0])


def _merge_tables(c1, b1, c2, b2):
    cells = np.unique(np.vstack([c1, c2]), axis=0)
    lookup = {tuple(c): i for i, c in enumerate(cells)}
    out = np.zeros((len(cells),) + b1.shape[1:])
    out[[lookup[tuple(c)] for c in c1]] += b1
    idx2 = [lookup[tuple(c)] for c in c2]
    np.add.at(out, idx2, b2)
    return cells, out


def _symmetric_table(cells, blocks):
    """Make the cell set closed under R -> -R (missing partners get zero blocks) and
    Hermitise: Phi(R) = Phi(-R)^T, so that D(q) is exactly Hermitian."""
    need = [-c for c in cells if not np.any(np.all(cells == -c, axis=1))]
    if need:
        cells = np.vstack([cells, np.array(need, dtype=int)])
        blocks = np.concatenate([blocks, np.zeros((len(need),) + blocks.shape[1:])])
    if not np.any(np.all(cells == 0, axis=1)):
        cells = np.vstack([cells, np.zeros((1, 3), dtype=int)])
        blocks = np.concatenate([blocks, np.zeros((1,) + blocks.shape[1:])])
    neg = np.array([_index_of(cells, -c) for c in cells])
    blocks = 0.5 * (blocks + blocks[neg].transpose(0, 2, 1))
    return cells, blocks


def _positive_half(cells: np.ndarray) -> np.ndarray:
    """Mask of cells R > 0 in lexicographic order (one of each pair R, -R; excludes 0)."""
    c = cells
    return (c[:, 0] > 0) | ((c[:, 0] == 0) & (c[:, 1] > 0)) | (
        (c[:, 0] == 0) & (c[:, 1] == 0) & (c[:, 2] > 0))


def _reciprocal_asr(d_gamma: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Correction (3N, 3N, mass-weighted, meV^2) that sets the three acoustic eigenvalues at
    Gamma to zero: -sum_ac lambda_ac |e_ac><e_ac|, with the acoustic modes found as those with
    the largest centre-of-mass motion (eigenvectors of the non-mass-weighted matrix).

    The correction is built on the force constants (non-mass-weighted) like the CASTEP/Euphonic
    scheme and returned mass-weighted.
    """
    n = len(masses)
    sqm = np.repeat(np.sqrt(masses), 3)
    raw = d_gamma * np.outer(sqm, sqm)                    # undo mass weighting
    raw = 0.5 * (raw + raw.conj().T)
    evals, evecs = np.linalg.eigh(raw)
    com = np.abs(evecs.reshape(n, 3, -1).sum(axis=0)) ** 2
    com = com.sum(axis=0)
    if np.sum(com > 0.5 * n) < 3:
        raise InputError("cannot find three acoustic modes at Gamma for the acoustic sum rule; "
                         "check the force constants", field="asr", value="reciprocal")
    ac = np.argsort(com)[-3:]
    corr = -np.einsum("k,ik,jk->ij", evals[ac], evecs[:, ac], evecs[:, ac].conj())
    return corr / np.outer(sqm, sqm)
