r"""Optional compiled kernels (numba) for densities, currents and the self part on box
reciprocal-lattice q-points.

numba is not a dependency of latdyn (``pip install 'latdyn[fast]'``): :func:`load` returns
None when it cannot be imported, and the numpy kernels of :mod:`latdyn.md.phases` and
:mod:`latdyn.md.engine` take over with the same numbers to rounding.

Phases.  For q = h b1 + k b2 + l b3 the phase of an atom at fractional coordinates s separates,
exp(i q.r) = u1^h u2^k u3^l with u_a = exp(2 pi i s_a).  Per frame and block of atoms
("lanes", contiguous in memory so the loops over them vectorise):

- u_a from the fractional coordinate reduced to |s| <= 1/2: theta = 2 pi s / 8, Taylor series
  of cos and sin to order 15 (truncation below 1e-21), then three complex squarings (rounding
  ~1e-15);
- powers u^n for |n| <= n_max by repeated multiplication (u^-n = conj(u^n));
- per q-point two complex products per atom give e_j(q, t), summed per species into
  rho(q, t) (and with the velocities into the currents j(q, t)) while the block is in cache.

What happens to e_j(q, t) next is the ``mode`` of :func:`sweep`:

- ``MODE_RHO``: nothing else (densities and currents only);
- ``MODE_DIRECT``: the self part by direct sums.  The phases of the block's time origins are
  kept in a ring of ``n_slots`` slots (W // origin_step + 1 suffice for lags 0..W); each
  target frame adds sum_j Re[e_j(q, t) e_j^*(q, t0)] to the sum of lag t - t0 for every
  origin t0 in the ring (cost ~ (W + 1) / origin_step per atom, q-point and frame);
- ``MODE_STORE``: e_j(q, t) is written to a buffer (the FFT self part of
  :mod:`latdyn.md.engine`, or the phases themselves).

:func:`accumulate_spectra` adds the frequency-domain products of the FFT self part (the
derivation is in :mod:`latdyn.md.engine`).

:func:`cell_list` and :func:`pair_histogram` histogram minimum-image pair distances for the
distinct van Hove function (:mod:`latdyn.md.vanhove`) with a cell list: the box is cut into
n_a >= 1 slabs along each cell vector, each at least r_max thick (perpendicular width / n_a),
so a pair closer than r_max lies in the same or adjacent cells along every axis (also for
triclinic boxes) and each atom meets O(density x r_max^3) candidates instead of N.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

__all__ = ["load", "MODE_RHO", "MODE_DIRECT", "MODE_STORE", "MODE_CURRENTS", "GROUP"]

MODE_RHO = 0
MODE_DIRECT = 1
MODE_STORE = 2
MODE_CURRENTS = 3
#: Consecutive frames whose phases are formed together in :func:`sweep_direct` (each origin's
#: phases then come from the L2 cache once per group instead of once per frame).
GROUP = 8
#: Frames x origins of one register tile of the direct self part's matrix products.
TILE = 4
#: Bit flags of the frames of a block.
ORIGIN = 1
TARGET = 2

_COS_C = np.array([(-1.0) ** k / math.factorial(2 * k) for k in range(8)])
_SIN_C = np.array([(-1.0) ** k / math.factorial(2 * k + 1) for k in range(8)])
_TWO_PI_8 = 2.0 * math.pi / 8.0

try:
    import numba
except ImportError:  # numba is optional: the numpy kernels take over
    numba = None


def load():
    """The compiled kernels as a namespace (``sweep``, ``sweep_direct``,
    ``accumulate_spectra``, ``cell_list``, ``pair_histogram``), or None without numba."""
    if numba is None:
        return None
    return SimpleNamespace(sweep=sweep, sweep_direct=sweep_direct,
                           accumulate_spectra=accumulate_spectra, pair_histogram=pair_histogram,
                           cell_list=cell_list)


if numba is not None:
    @numba.njit(fastmath=True, cache=True, nogil=True, inline="always")
    def _powers(x, tr, ti, nm, n_max, cos_c, sin_c):
        """Rows nm + n of (tr, ti) <- Re, Im u^n, n = -n_max .. n_max, u = exp(2 pi i x) per
        lane (x: one coordinate per lane)."""
        lanes = tr.shape[1]
        for j in range(lanes):
            y = x[j]
            y = (y - math.floor(y + 0.5)) * _TWO_PI_8
            y2 = y * y
            c = cos_c[7]
            sn = sin_c[7]
            for m in range(6, -1, -1):
                c = c * y2 + cos_c[m]
                sn = sn * y2 + sin_c[m]
            sn = sn * y
            for _ in range(3):
                c, sn = c * c - sn * sn, 2.0 * c * sn
            tr[nm, j] = 1.0
            ti[nm, j] = 0.0
            tr[nm + 1, j] = c
            ti[nm + 1, j] = sn
            tr[nm - 1, j] = c
            ti[nm - 1, j] = -sn
        for n in range(2, n_max + 1):
            for j in range(lanes):
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

    @numba.njit(fastmath=True, cache=True, nogil=True, inline="always")
    def _phase(t1r, t1i, t2r, t2i, t3r, t3i, h, k, l, zr, zi):
        """zr, zi <- e_j = u1^h u2^k u3^l per lane (table rows h, k, l); returns sum_j e_j."""
        acc_r = 0.0
        acc_i = 0.0
        for j in range(zr.shape[0]):
            ar = t1r[h, j] * t2r[k, j] - t1i[h, j] * t2i[k, j]
            ai = t1r[h, j] * t2i[k, j] + t1i[h, j] * t2r[k, j]
            er = ar * t3r[l, j] - ai * t3i[l, j]
            ei = ar * t3i[l, j] + ai * t3r[l, j]
            zr[j] = er
            zi[j] = ei
            acc_r += er
            acc_i += ei
        return acc_r, acc_i

    @numba.njit(fastmath=True, cache=True, nogil=True)
    def _frame_rho(tab, hkl, nm, zr, zi, rho, sp, f):
        t1r, t1i, t2r, t2i, t3r, t3i = tab
        for iq in range(hkl.shape[0]):
            sr, si = _phase(t1r, t1i, t2r, t2i, t3r, t3i, hkl[iq, 0] + nm, hkl[iq, 1] + nm,
                            hkl[iq, 2] + nm, zr, zi)
            rho[sp, iq, f, 0] += sr
            rho[sp, iq, f, 1] += si

    @numba.njit(fastmath=True, cache=True, nogil=True)
    def _frame_currents(tab, hkl, nm, zr, zi, vc, cur, sp, f):
        t1r, t1i, t2r, t2i, t3r, t3i = tab
        for iq in range(hkl.shape[0]):
            _phase(t1r, t1i, t2r, t2i, t3r, t3i, hkl[iq, 0] + nm, hkl[iq, 1] + nm,
                   hkl[iq, 2] + nm, zr, zi)
            for c in range(3):
                jr = 0.0
                ji = 0.0
                for j in range(zr.shape[0]):
                    jr += vc[c, j] * zr[j]
                    ji += vc[c, j] * zi[j]
                cur[sp, iq, f, c, 0] += jr
                cur[sp, iq, f, c, 1] += ji

    @numba.njit(fastmath=True, cache=True, nogil=True)
    def _frame_store(tab, hkl, nm, zr, zi, rho, sp, f, count, store, row, pos, col0):
        t1r, t1i, t2r, t2i, t3r, t3i = tab
        for iq in range(hkl.shape[0]):
            sr, si = _phase(t1r, t1i, t2r, t2i, t3r, t3i, hkl[iq, 0] + nm, hkl[iq, 1] + nm,
                            hkl[iq, 2] + nm, zr, zi)
            rho[sp, iq, f, 0] += sr
            rho[sp, iq, f, 1] += si
            for j in range(count):
                store[iq, row, pos, col0 + j] = complex(zr[j], zi[j])

    @numba.njit(fastmath=True, cache=True, nogil=True)
    def sweep(r, inv, atoms, vel, blocks, b_lo, b_hi, hkl, n_max, mode, lanes, rho, cur, f_out,
              store, store_row, store_pos, store_base):
        """Run the atom blocks b_lo .. b_hi - 1 through every frame of a block of frames.

        r (n_f, n_a, 3): Cartesian positions (angstrom) and inv the inverse of the box (rows
        are cell vectors), so s = r inv; atoms (n_a,) int64: the atom behind each sorted
        index (species contiguous); vel (n_f, n_a, 3) angstrom/ps, or zero frames for no
        currents; blocks (n_b, 3) int64 rows (first sorted index, end, species) of at most
        ``lanes`` atoms; hkl (n_q, 3) int64; n_max (3,) int64 largest |h|, |k|, |l|.
        Accumulates rho (n_s, n_q, :, 2) (Re, Im; MODE_RHO and MODE_STORE) and cur (n_s, n_q,
        :, 3, 2) (when vel has frames) at frame index f_out + f; MODE_STORE also writes e_j to
        store[q, store_row[f], store_pos[f], sorted index - store_base], MODE_CURRENTS only
        the currents.
        """
        n_frames = r.shape[0]
        with_vel = vel.shape[0] > 0
        nm = max(1, max(n_max[0], max(n_max[1], n_max[2])))     # rows -1, 0, 1 always exist
        tab = (np.zeros((2 * nm + 1, lanes)), np.zeros((2 * nm + 1, lanes)),
               np.zeros((2 * nm + 1, lanes)), np.zeros((2 * nm + 1, lanes)),
               np.zeros((2 * nm + 1, lanes)), np.zeros((2 * nm + 1, lanes)))
        frac = np.zeros((3, lanes))
        zr = np.zeros(lanes)
        zi = np.zeros(lanes)
        vc = np.zeros((3, lanes))
        for b in range(b_lo, b_hi):
            a0 = blocks[b, 0]
            count = blocks[b, 1] - a0
            sp = blocks[b, 2]
            for f in range(n_frames):
                for j in range(lanes):                  # padding lanes repeat the last atom
                    a = atoms[a0 + min(j, count - 1)]
                    x = r[f, a, 0]
                    y = r[f, a, 1]
                    z = r[f, a, 2]
                    for c in range(3):
                        frac[c, j] = x * inv[0, c] + y * inv[1, c] + z * inv[2, c]
                _powers(frac[0], tab[0], tab[1], nm, n_max[0], _COS_C, _SIN_C)
                _powers(frac[1], tab[2], tab[3], nm, n_max[1], _COS_C, _SIN_C)
                _powers(frac[2], tab[4], tab[5], nm, n_max[2], _COS_C, _SIN_C)
                for j in range(count, lanes):           # ... and contribute nothing
                    for row in range(2 * nm + 1):
                        tab[0][row, j] = 0.0
                        tab[1][row, j] = 0.0
                if mode == MODE_RHO:
                    _frame_rho(tab, hkl, nm, zr, zi, rho, sp, f_out + f)
                elif mode == MODE_STORE:
                    _frame_store(tab, hkl, nm, zr, zi, rho, sp, f_out + f, count, store,
                                 store_row[f], store_pos[f], a0 - store_base)
                if with_vel:
                    for j in range(lanes):
                        a = atoms[a0 + min(j, count - 1)]
                        for c in range(3):
                            vc[c, j] = vel[f, a, c]
                    _frame_currents(tab, hkl, nm, zr, zi, vc, cur, sp, f_out + f)

    @numba.njit(fastmath=True, cache=True, nogil=True)
    def sweep_direct(r, inv, atoms, frame_idx, flags, blocks, b_lo, b_hi, hkl, n_max, lanes, rho,
                     fs, n_slots):
        """Densities and the self part by direct sums (MODE_DIRECT of the module docstring).

        Arguments as :func:`sweep`; frame_idx (n_f,) int64 frame numbers, flags (n_f,) uint8
        (ORIGIN, TARGET); fs (n_s, n_q, n_lags) += sum_j Re[e_j(q, t) e_j^*(q, t0)] for every
        ORIGIN frame t0 and TARGET frame t with 0 <= t - t0 < n_lags.  Frames are taken GROUP
        at a time; the ring holds n_slots >= (n_lags - 2 + GROUP) // step + 1 origins.

        Per q-point the products of a group with the open origins are a small matrix product
        P[g, o] = sum_k A[g, k] B[o, k] over k = (Re e_j, Im e_j) of the block's atoms, taken
        in TILE x TILE register tiles (16 sums vectorised along k), then added to the sums of
        their lags.
        """
        n_frames = r.shape[0]
        n_q = hkl.shape[0]
        n_lags = fs.shape[2]
        nm = max(1, max(n_max[0], max(n_max[1], n_max[2])))
        rows = 2 * nm + 1
        t1r = np.zeros((GROUP, rows, lanes))
        t1i = np.zeros((GROUP, rows, lanes))
        t2r = np.zeros((GROUP, rows, lanes))
        t2i = np.zeros((GROUP, rows, lanes))
        t3r = np.zeros((GROUP, rows, lanes))
        t3i = np.zeros((GROUP, rows, lanes))
        frac = np.zeros((3, lanes))
        width = 2 * lanes
        a_rows = np.zeros((GROUP, width))
        ns = max(1, n_slots)
        ring = np.empty((n_q, ns, width))          # only slots written since are read
        ring_f = np.full(ns, -1, dtype=np.int64)
        slot_of = np.zeros(GROUP, dtype=np.int64)
        act = np.zeros(ns + TILE, dtype=np.int64)
        lag_go = np.full((GROUP, ns + TILE), -1, dtype=np.int64)
        tile = np.zeros(TILE * TILE)
        for b in range(b_lo, b_hi):
            a0 = blocks[b, 0]
            count = blocks[b, 1] - a0
            sp = blocks[b, 2]
            ring_f[:] = -1
            next_slot = 0
            for f0 in range(0, n_frames, GROUP):
                n_g = min(GROUP, n_frames - f0)
                for g in range(n_g):
                    f = f0 + g
                    for j in range(lanes):
                        a = atoms[a0 + min(j, count - 1)]
                        x = r[f, a, 0]
                        y = r[f, a, 1]
                        z = r[f, a, 2]
                        for c in range(3):
                            frac[c, j] = x * inv[0, c] + y * inv[1, c] + z * inv[2, c]
                    _powers(frac[0], t1r[g], t1i[g], nm, n_max[0], _COS_C, _SIN_C)
                    _powers(frac[1], t2r[g], t2i[g], nm, n_max[1], _COS_C, _SIN_C)
                    _powers(frac[2], t3r[g], t3i[g], nm, n_max[2], _COS_C, _SIN_C)
                    for j in range(count, lanes):
                        for row in range(rows):
                            t1r[g, row, j] = 0.0
                            t1i[g, row, j] = 0.0
                    slot_of[g] = -1
                    if flags[f] & ORIGIN:
                        slot_of[g] = next_slot
                        ring_f[next_slot] = frame_idx[f]
                        next_slot = (next_slot + 1) % ns
                n_act = 0                         # origins paired with a frame of the group
                for o in range(ns):
                    if ring_f[o] < 0:
                        continue
                    used = False
                    for g in range(GROUP):
                        lag_go[g, n_act] = -1
                        if g < n_g and flags[f0 + g] & TARGET:
                            lag = frame_idx[f0 + g] - ring_f[o]
                            if lag >= 0 and lag < n_lags:
                                lag_go[g, n_act] = lag
                                used = True
                    if used:
                        act[n_act] = o
                        n_act += 1
                n_pad = (n_act + TILE - 1) // TILE * TILE
                for a in range(n_act, n_pad):     # padding of the last tile: no lag
                    act[a] = act[n_act - 1]
                    for g in range(GROUP):
                        lag_go[g, a] = -1
                for iq in range(n_q):
                    h = hkl[iq, 0] + nm
                    k = hkl[iq, 1] + nm
                    l = hkl[iq, 2] + nm
                    for g in range(n_g):
                        sr = 0.0
                        si = 0.0
                        for j in range(lanes):
                            ar = t1r[g, h, j] * t2r[g, k, j] - t1i[g, h, j] * t2i[g, k, j]
                            ai = t1r[g, h, j] * t2i[g, k, j] + t1i[g, h, j] * t2r[g, k, j]
                            er = ar * t3r[g, l, j] - ai * t3i[g, l, j]
                            ei = ar * t3i[g, l, j] + ai * t3r[g, l, j]
                            a_rows[g, j] = er
                            a_rows[g, lanes + j] = ei
                            sr += er
                            si += ei
                        rho[sp, iq, f0 + g, 0] += sr
                        rho[sp, iq, f0 + g, 1] += si
                        s = slot_of[g]
                        if s >= 0:
                            for j in range(width):
                                ring[iq, s, j] = a_rows[g, j]
                    for g0 in range(0, n_g, TILE):
                        g1 = min(g0 + 1, n_g - 1)
                        g2 = min(g0 + 2, n_g - 1)
                        g3 = min(g0 + 3, n_g - 1)
                        for c0 in range(0, n_pad, TILE):
                            o0 = act[c0]
                            o1 = act[c0 + 1]
                            o2 = act[c0 + 2]
                            o3 = act[c0 + 3]
                            d00 = d01 = d02 = d03 = 0.0
                            d10 = d11 = d12 = d13 = 0.0
                            d20 = d21 = d22 = d23 = 0.0
                            d30 = d31 = d32 = d33 = 0.0
                            for j in range(width):
                                x0 = a_rows[g0, j]
                                x1 = a_rows[g1, j]
                                x2 = a_rows[g2, j]
                                x3 = a_rows[g3, j]
                                y0 = ring[iq, o0, j]
                                y1 = ring[iq, o1, j]
                                y2 = ring[iq, o2, j]
                                y3 = ring[iq, o3, j]
                                d00 += x0 * y0
                                d01 += x0 * y1
                                d02 += x0 * y2
                                d03 += x0 * y3
                                d10 += x1 * y0
                                d11 += x1 * y1
                                d12 += x1 * y2
                                d13 += x1 * y3
                                d20 += x2 * y0
                                d21 += x2 * y1
                                d22 += x2 * y2
                                d23 += x2 * y3
                                d30 += x3 * y0
                                d31 += x3 * y1
                                d32 += x3 * y2
                                d33 += x3 * y3
                            tile[0], tile[1], tile[2], tile[3] = d00, d01, d02, d03
                            tile[4], tile[5], tile[6], tile[7] = d10, d11, d12, d13
                            tile[8], tile[9], tile[10], tile[11] = d20, d21, d22, d23
                            tile[12], tile[13], tile[14], tile[15] = d30, d31, d32, d33
                            for u in range(TILE):
                                g = g0 + u
                                if g >= n_g:
                                    break
                                for v in range(TILE):
                                    lag = lag_go[g, c0 + v]
                                    if lag >= 0:
                                        fs[sp, iq, lag] += tile[u * TILE + v]

    @numba.njit(fastmath=True, cache=True, nogil=True)
    def _masked(u, iq, g, step, out):
        """out (n, cols) <- V, the DFT of the series masked to the origins (see below)."""
        n, cols = u.shape[1], u.shape[2]
        shift = n // step
        for w in range(n):
            for j in range(cols):
                out[w, j] = 0.0
        for p in range(step):
            ph = np.exp(2j * np.pi * ((p * g) % step) / step) / step
            for w in range(n):
                src = (w - p * shift) % n
                for j in range(cols):
                    out[w, j] += ph * u[iq, src, j]

    @numba.njit(fastmath=True, cache=True, nogil=True)
    def accumulate_spectra(u_cur, g_cur, u_prev, g_prev, has_prev, n_cols, step, p_out):
        """p_out (n_q, n) += sum over columns of U_k conj(V_k) + (-1)^w U_k conj(V_{k-1}).

        u_cur, u_prev (n_q, n, cols): DFTs (length n along axis 1) of the zero-padded phase
        series of two consecutive segments (U_{k-1} in u_prev, used when has_prev); g_cur,
        g_prev: frame numbers of their first points.  V is the DFT of the series masked to the
        time origins (frame numbers divisible by ``step``, which divides n), from U by
        V(w) = (1/step) sum_p exp(2 pi i p g / step) U(w - p n / step).
        """
        n_q, n, cols = u_cur.shape
        v_cur = np.empty((n, cols), dtype=np.complex128)
        v_prev = np.empty((n, cols), dtype=np.complex128)
        for iq in range(n_q):
            if step == 1:
                for w in range(n):
                    sign = 1.0 - 2.0 * (w & 1)
                    acc_r = 0.0
                    acc_i = 0.0
                    for j in range(n_cols):
                        u = u_cur[iq, w, j]
                        acc_r += u.real * u.real + u.imag * u.imag
                    if has_prev:
                        for j in range(n_cols):
                            u = u_cur[iq, w, j]
                            v = u_prev[iq, w, j]
                            acc_r += sign * (u.real * v.real + u.imag * v.imag)
                            acc_i += sign * (u.imag * v.real - u.real * v.imag)
                    p_out[iq, w] += complex(acc_r, acc_i)
                continue
            _masked(u_cur, iq, g_cur, step, v_cur)
            if has_prev:
                _masked(u_prev, iq, g_prev, step, v_prev)
            for w in range(n):
                sign = 1.0 - 2.0 * (w & 1)
                acc_r = 0.0
                acc_i = 0.0
                for j in range(n_cols):
                    u = u_cur[iq, w, j]
                    v = v_cur[w, j]
                    acc_r += u.real * v.real + u.imag * v.imag
                    acc_i += u.imag * v.real - u.real * v.imag
                if has_prev:
                    for j in range(n_cols):
                        u = u_cur[iq, w, j]
                        v = v_prev[w, j]
                        acc_r += sign * (u.real * v.real + u.imag * v.imag)
                        acc_i += sign * (u.imag * v.real - u.real * v.imag)
                p_out[iq, w] += complex(acc_r, acc_i)

    @numba.njit(cache=True, nogil=True)
    def cell_list(s, n_cells):
        """Sort atoms into cells: s (n, 3) fractional coordinates (any values; wrapped here),
        n_cells (3,) int64.  Returns (cell index per atom, atoms sorted by cell, first position
        of each cell in that order; length n_c + 1)."""
        n = s.shape[0]
        n_tot = n_cells[0] * n_cells[1] * n_cells[2]
        cell = np.empty(n, dtype=np.int64)
        for i in range(n):
            idx = 0
            for a in range(3):
                w = s[i, a] - math.floor(s[i, a])
                c = min(int(w * n_cells[a]), n_cells[a] - 1)
                idx = idx * n_cells[a] + c
            cell[i] = idx
        start = np.zeros(n_tot + 1, dtype=np.int64)
        for i in range(n):
            start[cell[i] + 1] += 1
        for c in range(n_tot):
            start[c + 1] += start[c]
        fill = start[:-1].copy()
        order = np.empty(n, dtype=np.int64)
        for i in range(n):
            order[fill[cell[i]]] = i
            fill[cell[i]] += 1
        return cell, order, start

    @numba.njit(fastmath=False, cache=True, nogil=True)
    def pair_histogram(s0, s1, h, i_lo, i_hi, n_cells, cell0, order1, start1, species, n_s,
                       r_max, n_bins, out):
        """out (n_s, n_s, n_bins) += histogram of |min image(r1_j - r0_i)| < r_max over atoms
        i in [i_lo, i_hi) of frame 0 and j != i of frame 1 (fractional coordinates s0, s1,
        box h with rows the cell vectors; cell0 from :func:`cell_list` of s0, order1 and
        start1 of s1); bins of width r_max / n_bins."""
        width = r_max / n_bins
        r2_max = r_max * r_max
        nx, ny, nz = n_cells[0], n_cells[1], n_cells[2]
        # neighbour offsets along each axis: -1, 0, 1, or every cell once when there are < 3
        offs = np.empty((3, 3), dtype=np.int64)
        n_off = np.empty(3, dtype=np.int64)
        for a in range(3):
            if n_cells[a] >= 3:
                offs[a, 0], offs[a, 1], offs[a, 2] = -1, 0, 1
                n_off[a] = 3
            else:
                for k in range(n_cells[a]):
                    offs[a, k] = k
                n_off[a] = n_cells[a]
        for i in range(i_lo, i_hi):
            c = cell0[i]
            cz = c % nz
            cy = (c // nz) % ny
            cx = c // (ny * nz)
            si = species[i]
            for ix in range(n_off[0]):
                gx = (cx + offs[0, ix]) % nx if nx >= 3 else offs[0, ix]
                for iy in range(n_off[1]):
                    gy = (cy + offs[1, iy]) % ny if ny >= 3 else offs[1, iy]
                    for iz in range(n_off[2]):
                        gz = (cz + offs[2, iz]) % nz if nz >= 3 else offs[2, iz]
                        g = (gx * ny + gy) * nz + gz
                        for p in range(start1[g], start1[g + 1]):
                            j = order1[p]
                            if j == i:
                                continue
                            d0 = s1[j, 0] - s0[i, 0]
                            d1 = s1[j, 1] - s0[i, 1]
                            d2 = s1[j, 2] - s0[i, 2]
                            d0 -= np.round(d0)
                            d1 -= np.round(d1)
                            d2 -= np.round(d2)
                            x = d0 * h[0, 0] + d1 * h[1, 0] + d2 * h[2, 0]
                            y = d0 * h[0, 1] + d1 * h[1, 1] + d2 * h[2, 1]
                            z = d0 * h[0, 2] + d1 * h[1, 2] + d2 * h[2, 2]
                            r2 = x * x + y * y + z * z
                            if r2 < r2_max:
                                k = min(int(math.sqrt(r2) / width), n_bins - 1)
                                out[si, species[j], k] += 1
