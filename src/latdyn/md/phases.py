r"""Per-atom phase factors e_j(q, t) = exp(i q . r_j(t)) and densities rho(q, t), fast.

The density of species alpha at wave vector q (1/angstrom) is

.. math:: \rho_\alpha(\mathbf q, t) = \sum_{j \in \alpha} e^{i \mathbf q \cdot \mathbf r_j(t)}

(Hansen and McDonald, *Theory of Simple Liquids*, 4th ed., ch. 7).  Evaluating one complex
exponential per atom and q-point costs about 28 ns with numpy here.  For q-points of the box's
reciprocal lattice, :math:`\mathbf q = h\,\mathbf b_1 + k\,\mathbf b_2 + l\,\mathbf b_3` with
integers (h, k, l), the phase separates in the fractional coordinates s of the atom:

.. math:: e^{i \mathbf q\cdot\mathbf r} = u_1^h\,u_2^k\,u_3^l,\qquad u_a = e^{2\pi i s_a}

so three exponentials per atom and frame, a table of integer powers built by repeated complex
multiplication (rounding error grows as |h| times the machine epsilon, about 1e-14 at |h| = 50)
and two complex products per atom and q-point give every phase.  Off-lattice q-points fall
back to cos and sin of the phase matrix computed as a real matrix product.

Work is split over q-point blocks that run in threads (numpy releases the GIL inside its
loops), and the array module can be CuPy (``backend='cupy'``, extra ``latdyn[gpu]``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import DependencyError, InputError
from ..structure import Lattice

__all__ = ["PhaseKernel", "miller_indices", "array_module"]

#: Largest distance of h, k, l from integers for a q-point to count as on the box lattice.
MILLER_TOLERANCE = 1e-6


def array_module(backend: str):
    """numpy for 'numpy', CuPy for 'cupy' (a DependencyError naming the extra when absent)."""
    if backend == "numpy":
        return np
    if backend == "cupy":
        try:
            import cupy
        except ImportError as exc:
            raise DependencyError("the CuPy backend needs CuPy: pip install 'latdyn[gpu]'",
                                  field="backend", value=backend) from exc
        return cupy
    raise InputError("unknown backend; use 'numpy' or 'cupy'", field="backend", value=backend)


def miller_indices(q_points, cell) -> tuple[np.ndarray, bool]:
    """Real-valued (h, k, l) = q . a_i / 2 pi of Cartesian q-points (1/angstrom) for a box whose
    rows are a_i (angstrom), and whether all are integers within MILLER_TOLERANCE."""
    m = Lattice.from_matrix(cell).reduced_q(q_points)
    return m, bool(np.all(np.abs(m - np.round(m)) < MILLER_TOLERANCE))


class PhaseKernel:
    """Evaluates e_j(q, t) for a fixed set of q-points and box.

    Parameters
    ----------
    q_points: (n_q, 3) Cartesian wave vectors, 1/angstrom.
    cell: 3x3 box, rows are cell vectors, angstrom.
    threads: number of threads (default: 2).
    backend: 'numpy' or 'cupy'.
    accelerator: 'auto' (the compiled numba kernel of :mod:`latdyn.md._numba_kernel` for
        lattice q-points when numba is importable, numpy otherwise), 'numba' or 'numpy'.
    """

    def __init__(self, q_points, cell, threads: int = 2, backend: str = "numpy",
                 accelerator: str = "auto"):
        self.q = np.asarray(q_points, dtype=float)
        if self.q.ndim != 2 or self.q.shape[1] != 3 or not np.all(np.isfinite(self.q)):
            raise InputError("q-points must be a finite (n, 3) array", field="q_points",
                             value=self.q.shape)
        self.cell = np.asarray(cell, dtype=float)
        self.inv_cell = np.linalg.inv(self.cell)
        m, self.on_lattice = miller_indices(self.q, self.cell)
        self.hkl = np.round(m).astype(int)
        self.threads = max(1, int(threads))
        self.xp = array_module(backend)
        self._buffers: dict[str, object] = {}
        self._pool: ThreadPoolExecutor | None = None
        if accelerator not in ("auto", "numba", "numpy"):
            raise InputError("unknown accelerator; use 'auto', 'numba' or 'numpy'",
                             field="accelerator", value=accelerator)
        #: The compiled kernels (:func:`latdyn.md._numba_kernel.load`) or None.
        self.compiled_kernels = None
        if accelerator != "numpy" and self.on_lattice and self.xp is np:
            from . import _numba_kernel

            self.compiled_kernels = _numba_kernel.load()
        if accelerator == "numba" and self.compiled_kernels is None:
            raise DependencyError("the compiled kernel needs numba (pip install 'latdyn[fast]') "
                                  "and q-points on the box reciprocal lattice with the numpy "
                                  "backend",
                                  field="accelerator", value=accelerator)
        #: The integers h, k, l that the q-points need on each axis.
        self.needed = [set(np.unique(self.hkl[:, a]).tolist()) for a in range(3)]

    @property
    def n_q(self) -> int:
        return self.q.shape[0]

    #: Points (atoms x frames) per table block: the power tables of a block stay in cache.
    BLOCK_POINTS = 16384

    def _buffer(self, name: str, shape: tuple[int, ...]):
        """A reusable work array (fresh allocations of this size cost page faults every chunk)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = self.xp.empty(shape, dtype=complex)
            self._buffers[name] = buf
        return buf

    def close(self) -> None:
        """Stop the worker threads (also done when the kernel is garbage collected)."""
        pool = getattr(self, "_pool", None)     # absent when __init__ failed
        if pool is not None:
            pool.shutdown(wait=False)
            self._pool = None

    def release(self) -> None:
        """Free the work arrays (they are allocated again when needed)."""
        self._buffers.clear()

    def __del__(self):
        self.close()

    @property
    def compiled(self) -> bool:
        """Whether the compiled (numba) kernel is in use."""
        return self.compiled_kernels is not None

    def evaluate(self, positions, slices: list[slice], keep_phases: bool = False):
        """rho_alpha(q, t) for positions (n_frames, n_atoms, 3) angstrom whose species occupy
        the contiguous atom ``slices``: complex (n_species, n_q, n_frames); with
        ``keep_phases`` also e_j(q, t), complex (n_q, n_frames, n_atoms), else None.

        The phases array is a work buffer, overwritten by the next call.  Threads share the
        frames (numpy) or the atoms (compiled kernel); each works through blocks of atom
        positions that stay in cache while the species sums are taken.
        """
        pos = np.asarray(positions, dtype=float)
        nf, na = pos.shape[:2]
        xp = self.xp
        if self.compiled_kernels is not None:
            return self._evaluate_compiled(pos, slices, keep_phases)
        starts_of = np.array([sl.start for sl in slices])
        if np.any(np.diff(starts_of) <= 0) or starts_of[0] != 0 or slices[-1].stop != na:
            raise InputError("species slices must tile the atoms in order", field="slices",
                             value=[(sl.start, sl.stop) for sl in slices])
        if xp is np:
            summer = starts_of          # np.add.reduceat: no BLAS threads inside our threads
        else:
            summer = np.zeros((na, len(slices)), dtype=complex)
            for k, sl in enumerate(slices):
                summer[sl, k] = 1.0
            summer = xp.asarray(summer)
        rho = xp.empty((len(slices), self.n_q, nf), dtype=complex)
        out = self._buffer("out", (self.n_q, nf * na)) if keep_phases else None
        flat = pos.reshape(-1, 3)
        frames_per_block = max(1, self.BLOCK_POINTS // max(na, 1))
        starts = list(range(0, nf, frames_per_block))
        n_workers = min(self.threads, len(starts)) if xp is np else 1
        groups = [starts[i::n_workers] for i in range(n_workers)]

        def work(worker: int) -> None:
            for f0 in groups[worker]:
                f1 = min(f0 + frames_per_block, nf)
                a, b = f0 * na, f1 * na
                pts = xp.asarray(flat[a:b])
                target = out[:, a:b] if keep_phases else None
                if self.on_lattice:
                    self._lattice_block(self._power_tables(pts, worker), target, summer,
                                        rho[:, :, f0:f1], worker)
                else:
                    self._direct_block(pts, target, summer, rho[:, :, f0:f1])

        if n_workers == 1:
            work(0)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads)
            list(self._pool.map(work, range(n_workers)))
        return rho, (out.reshape(self.n_q, nf, na) if keep_phases else None)

    def _evaluate_compiled(self, pos: np.ndarray, slices: list[slice], keep_phases: bool):
        from ._numba_kernel import MODE_RHO, MODE_STORE

        nf, na = pos.shape[:2]
        r = np.ascontiguousarray(pos)
        lanes = 64
        rows = []
        for sp, sl in enumerate(slices):
            for a0 in range(sl.start, sl.stop, lanes):
                rows.append((a0, min(a0 + lanes, sl.stop), sp))
        blocks = np.array(rows, dtype=np.int64).reshape(-1, 3)
        hkl = self.hkl.astype(np.int64)
        n_max = np.abs(hkl).max(axis=0).astype(np.int64)
        out = self._buffer("out", (self.n_q, 1, nf, na)) if keep_phases else \
            np.zeros((1, 1, 1, 1), dtype=complex)
        frames = np.arange(nf, dtype=np.int64)
        n_tasks = max(1, min(self.threads, len(blocks)))

        def work(t):
            rho = np.zeros((len(slices), self.n_q, nf, 2))
            lo, hi = t * len(blocks) // n_tasks, (t + 1) * len(blocks) // n_tasks
            self.compiled_kernels.sweep(
                r, self.inv_cell, np.arange(na, dtype=np.int64), np.zeros((0, na, 3)), blocks,
                lo, hi, hkl, n_max, MODE_STORE if keep_phases else MODE_RHO, lanes, rho,
                np.zeros((1, 1, 1, 1, 1)), 0, out, np.zeros(nf, dtype=np.int64), frames, 0)
            return rho

        if n_tasks == 1:
            parts = [work(0)]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads)
            parts = list(self._pool.map(work, range(n_tasks)))
        rho = sum(parts)
        rho = rho[..., 0] + 1j * rho[..., 1]
        return rho, (out.reshape(self.n_q, nf, na) if keep_phases else None)

    def phases(self, positions) -> np.ndarray:
        """e_j(q, t) for positions (n_frames, n_atoms, 3) angstrom: complex (n_q, n_frames, n_atoms)
        (a work buffer, overwritten by the next call)."""
        n_atoms = np.shape(positions)[1]
        return self.evaluate(positions, [slice(0, n_atoms)], keep_phases=True)[1]

    def _power_tables(self, pts, worker: int):
        """Rows u_a^n for the integers n that the q-points need on axis a: (table, row of n)."""
        xp = self.xp
        s = pts @ xp.asarray(self.inv_cell)
        tables = []
        for axis in range(3):
            needed = self.needed[axis]
            n_max = max(abs(n) for n in needed)
            rows = {n: i for i, n in enumerate(sorted(needed | {1}))}
            table = self._buffer(f"table{axis}.{worker}", (len(rows), pts.shape[0]))
            u = table[rows[1]]
            xp.exp(2j * np.pi * s[:, axis], out=u)
            if 0 in rows:
                table[rows[0]] = 1.0
            power = u
            for n in range(2, n_max + 1):
                target = table[rows[n]] if n in rows else \
                    self._buffer(f"pow{n % 2}.{worker}", u.shape)
                xp.multiply(power, u, out=target)
                power = target
                if -n in rows:
                    xp.conj(power, out=table[rows[-n]])
            if -1 in rows:
                xp.conj(u, out=table[rows[-1]])
            tables.append((table, rows))
        return tables

    def _species_sums(self, e2d, summer):
        """Sums of (..., n_atoms) rows over the species slices -> (..., n_species)."""
        if self.xp is np:
            return np.add.reduceat(e2d, summer, axis=-1)
        return e2d @ summer

    def _lattice_block(self, tables, out, summer, rho, worker: int) -> None:
        xp = self.xp
        (t1, r1), (t2, r2), (t3, r3) = tables
        n_frames = rho.shape[2]
        scratch = self._buffer(f"row.{worker}", (t1.shape[1],)) if out is None else None
        for i, (h, k, l) in enumerate(self.hkl.tolist()):
            row = scratch if out is None else out[i]
            xp.multiply(t1[r1[h]], t2[r2[k]], out=row)
            if l:
                row *= t3[r3[l]]
            rho[:, i, :] = self._species_sums(row.reshape(n_frames, -1), summer).T

    def _direct_block(self, pts, out, summer, rho) -> None:
        xp = self.xp
        phase = xp.asarray(self.q) @ pts.T
        e = xp.cos(phase) + 1j * xp.sin(phase)
        if out is not None:
            out[...] = e
        n_frames = rho.shape[2]
        rho[...] = self._species_sums(e.reshape(self.n_q * n_frames, -1), summer).reshape(
            self.n_q, n_frames, -1).transpose(2, 0, 1)

    def currents(self, e: np.ndarray, velocities, slices: list[slice]) -> np.ndarray:
        r"""j_alpha(q, t) = \sum_{j in alpha} v_j(t) e_j(q, t): (n_species, n_q, n_frames, 3)."""
        xp = self.xp
        v = xp.asarray(np.asarray(velocities, dtype=float))
        out = []
        for s in slices:
            # (frames, q, atoms) @ (frames, atoms, 3) -> (frames, q, 3)
            j = xp.matmul(e[:, :, s].transpose(1, 0, 2), v[:, s, :].astype(complex))
            out.append(j.transpose(1, 0, 2))
        return xp.stack(out)
