r"""Optional compiled kernel for rho(q, t) on box reciprocal-lattice q-points (numba).

numba is not a dependency of latdyn: :func:`load` returns None when it cannot be imported,
and :class:`latdyn.md.phases.PhaseKernel` then uses its numpy kernel, which gives the same
numbers to rounding.  The algorithm is the numpy one (phase separation
exp(i q.r) = u1^h u2^k u3^l with u_a = exp(2 pi i s_a)), fused so that a block of atoms' power
tables stays in the L2 cache and the inner loops over atoms vectorise:

- u_a from the fractional coordinate reduced to |s| <= 1/2: theta = 2 pi s / 8, Taylor series
  of cos and sin to order 15 (truncation below 1e-21), then three complex squarings (rounding
  ~1e-15);
- powers u^n for |n| <= n_max by repeated multiplication (u^-n = conj(u^n));
- per q-point two complex products per atom, summed per species.

Frames are shared among numba's threads.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["load"]

#: Atoms per table block (2 x 3 x (2 n_max + 1) x BLOCK doubles stay in L2 for n_max ~ 30).
BLOCK = 256
#: Atoms per block when the self part is fused (its origin data per block stays in L2).
SELF_BLOCK = 64
#: Consecutive frames that reuse one atom block's origin data.
FRAME_GROUP = 8
_COS_C = np.array([(-1.0) ** k / math.factorial(2 * k) for k in range(8)])
_SIN_C = np.array([(-1.0) ** k / math.factorial(2 * k + 1) for k in range(8)])
_TWO_PI_8 = 2.0 * math.pi / 8.0

try:
    import numba
except ImportError:  # numba is optional: the numpy kernel takes over
    numba = None


def load():
    """The compiled kernel rho_lattice(s, bounds, hkl, n_max, keep, e_out, rho_out), or None
    without numba."""
    if numba is None:
        return None

    def kernel(s, bounds, hkl, n_max, keep, e_out, rho_out, self_part=None):
        """self_part: None, or (origin_r, origin_i, lags, fs_acc) for the fused self part:
        origin phases (slots, n_q, atoms) real and imaginary, lags (frames, slots) int64
        (-1: no pair), fs_acc (n_groups, n_species, n_q, n_lags) float accumulators."""
        n_groups = max(1, min(numba.get_num_threads(), s.shape[0]))
        if self_part is None:
            empty = np.zeros((0, 1, 1))
            self_part = (empty, empty, np.zeros((s.shape[0], 0), dtype=np.int64),
                         np.zeros((n_groups, 1, 1, 1)))
        origin_r, origin_i, lags, fs_acc = self_part
        blk = SELF_BLOCK if lags.shape[1] else BLOCK
        rho_lattice(s, bounds, hkl, n_max, keep, e_out, rho_out, n_groups, _COS_C, _SIN_C,
                    origin_r, origin_i, lags, fs_acc, blk)

    return kernel


if numba is not None:
    @numba.njit(fastmath=True, cache=True, nogil=True)
    def _base(s_col, tr, ti, nm, n_max, count, cos_c, sin_c):
        """Row nm + n of (tr, ti) <- Re, Im u^n for n = -n_max .. n_max."""
        for j in range(count):
            x = s_col[j]
            x = (x - math.floor(x + 0.5)) * _TWO_PI_8
            x2 = x * x
            c = cos_c[7]
            sn = sin_c[7]
            for m in range(6, -1, -1):
                c = c * x2 + cos_c[m]
                sn = sn * x2 + sin_c[m]
            sn = sn * x
            for _ in range(3):
                c, sn = c * c - sn * sn, 2.0 * c * sn
            tr[nm, j] = 1.0
            ti[nm, j] = 0.0
            tr[nm + 1, j] = c
            ti[nm + 1, j] = sn
            tr[nm - 1, j] = c
            ti[nm - 1, j] = -sn
        for n in range(2, n_max + 1):
            for j in range(count):
                pr = tr[nm + n - 1, j]
                pi = ti[nm + n - 1, j]
                ur = tr[nm + 1, j]
                ui = ti[nm + 1, j]
                r = pr * ur - pi * ui
                i = pr * ui + pi * ur
                tr[nm + n, j] = r
                ti[nm + n, j] = i
                tr[nm - n, j] = r
                ti[nm - n, j] = -i

    @numba.njit(parallel=True, fastmath=True, cache=True)
    def rho_lattice(s, bounds, hkl, n_max, keep, e_out, rho_out, n_groups, cos_c, sin_c,
                    origin_r, origin_i, lags, fs_acc, blk):
        """s (frames, atoms, 3) fractional; bounds: species slice edges; hkl (n_q, 3) int;
        n_max (3,) int; rho_out (n_species, n_q, frames) complex, overwritten; e_out
        (n_q, frames * atoms) complex, written when keep; n_groups: frame groups (one per
        thread); cos_c, sin_c: Taylor coefficients; origin_r, origin_i, lags, fs_acc: the fused
        self part sum_j Re[e_j(q, t) e_j*(q, origin)] (see ``load``); blk: atoms per block."""
        n_frames, n_atoms = s.shape[0], s.shape[1]
        n_q = hkl.shape[0]
        n_s = bounds.shape[0] - 1
        nm = max(1, max(n_max[0], max(n_max[1], n_max[2])))   # rows -1, 0, 1 always exist
        for g in numba.prange(n_groups):
            t1r = np.empty((2 * nm + 1, blk))
            t1i = np.empty((2 * nm + 1, blk))
            t2r = np.empty((2 * nm + 1, blk))
            t2i = np.empty((2 * nm + 1, blk))
            t3r = np.empty((2 * nm + 1, blk))
            t3i = np.empty((2 * nm + 1, blk))
            col = np.empty(blk)
            sr = np.empty(blk)
            si = np.empty(blk)
            n_slots = lags.shape[1]
            fa = g * n_frames // n_groups
            fb = (g + 1) * n_frames // n_groups
            # groups of consecutive frames share each atom block's origin data (cache reuse)
            for f0 in range(fa, fb, FRAME_GROUP):
                f1 = min(f0 + FRAME_GROUP, fb)
                for f in range(f0, f1):
                    for sp in range(n_s):
                        for iq in range(n_q):
                            rho_out[sp, iq, f] = 0.0
                for sp in range(n_s):
                    for a0 in range(bounds[sp], bounds[sp + 1], blk):
                        count = min(blk, bounds[sp + 1] - a0)
                        for f in range(f0, f1):
                            for j in range(count):
                                col[j] = s[f, a0 + j, 0]
                            _base(col, t1r, t1i, nm, n_max[0], count, cos_c, sin_c)
                            for j in range(count):
                                col[j] = s[f, a0 + j, 1]
                            _base(col, t2r, t2i, nm, n_max[1], count, cos_c, sin_c)
                            for j in range(count):
                                col[j] = s[f, a0 + j, 2]
                            _base(col, t3r, t3i, nm, n_max[2], count, cos_c, sin_c)
                            base = f * n_atoms + a0
                            for iq in range(n_q):
                                h = hkl[iq, 0] + nm
                                k = hkl[iq, 1] + nm
                                l = hkl[iq, 2] + nm
                                acc_r = 0.0
                                acc_i = 0.0
                                if keep or n_slots > 0:
                                    for j in range(count):
                                        ar = t1r[h, j] * t2r[k, j] - t1i[h, j] * t2i[k, j]
                                        ai = t1r[h, j] * t2i[k, j] + t1i[h, j] * t2r[k, j]
                                        er = ar * t3r[l, j] - ai * t3i[l, j]
                                        ei = ar * t3i[l, j] + ai * t3r[l, j]
                                        acc_r += er
                                        acc_i += ei
                                        sr[j] = er
                                        si[j] = ei
                                    if keep:
                                        for j in range(count):
                                            e_out[iq, base + j] = complex(sr[j], si[j])
                                    for o in range(n_slots):
                                        lag = lags[f, o]
                                        if lag < 0:
                                            continue
                                        dot = 0.0
                                        for j in range(count):
                                            dot += sr[j] * origin_r[o, iq, a0 + j] \
                                                + si[j] * origin_i[o, iq, a0 + j]
                                        fs_acc[g, sp, iq, lag] += dot
                                else:
                                    for j in range(count):
                                        ar = t1r[h, j] * t2r[k, j] - t1i[h, j] * t2i[k, j]
                                        ai = t1r[h, j] * t2i[k, j] + t1i[h, j] * t2r[k, j]
                                        acc_r += ar * t3r[l, j] - ai * t3i[l, j]
                                        acc_i += ar * t3i[l, j] + ai * t3r[l, j]
                                rho_out[sp, iq, f] += complex(acc_r, acc_i)
