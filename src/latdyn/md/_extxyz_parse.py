r"""A compiled (numba) parser of extended-XYZ atom lines, for :mod:`latdyn.md.extxyz`.

:func:`parse_frames` walks the bytes of consecutive frames (atom count line, comment line, N
atom lines) and writes the wanted columns of every kept frame as doubles.  Numbers are parsed
exactly as Python's ``float`` does (correct rounding) on the fast path of Clinger's method
(Clinger, PLDI 1990): a decimal number with at most 19 digits whose integer
mantissa M is at most 2^53 and whose decimal exponent E has |E| <= 22 is M x 10^E or
M / 10^-E, one IEEE operation on two exact doubles, hence correctly rounded (the function is
compiled without fast-math so that the division stays a division).  Any other token (more
digits, larger exponents, 'nan', 'inf') stops the parser with a status that sends the frame
to the exact reader of :mod:`latdyn.md.extxyz` (``numpy.loadtxt``), as do a species that
differs from frame 0 and a malformed line, so that errors keep their messages.

numba is optional (``latdyn[fast]``): :func:`load` returns None without it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

__all__ = ["load", "OK", "NEED_MORE", "EXACT_READER"]

#: Statuses of :func:`parse_frames`.
OK = 0
NEED_MORE = 1          # the buffer ended inside a frame
EXACT_READER = 2       # the frame must go through the exact (numpy.loadtxt) reader

_POW10 = np.array([10.0 ** k for k in range(23)])
_MANTISSA_MAX = 1 << 53

try:
    import numba
except ImportError:  # numba is optional: extxyz.py reads with numpy.loadtxt
    numba = None


def load():
    """The parser as a namespace (``parse_frames``), or None without numba."""
    if numba is None:
        return None
    return SimpleNamespace(parse_frames=parse_frames)


if numba is not None:
    @numba.njit(cache=True, nogil=True)
    def _skip_line(buf, i, end):
        """Index after the next newline from i, or -1 when the buffer ends first."""
        while i < end:
            if buf[i] == 10:
                return i + 1
            i += 1
        return -1

    @numba.njit(cache=True, nogil=True)
    def _number(buf, i, end):
        """(value, index after the token, ok) for the decimal number starting at i (after
        blanks); ok is False when the fast exact path does not apply."""
        neg = False
        c = buf[i]
        if c == 45 or c == 43:                      # '-' or '+'
            neg = c == 45
            i += 1
        mant = np.uint64(0)
        start = i
        while i < end and 48 <= buf[i] <= 57:
            mant = mant * np.uint64(10) + np.uint64(buf[i] - 48)
            i += 1
        digits = i - start
        exp10 = 0
        if i < end and buf[i] == 46:                # '.'
            i += 1
            frac = i
            while i < end and 48 <= buf[i] <= 57:
                mant = mant * np.uint64(10) + np.uint64(buf[i] - 48)
                i += 1
            exp10 = frac - i
            digits += i - frac
        if digits > 19:                             # the mantissa may have wrapped
            return 0.0, i, False
        seen = digits > 0
        if not seen:
            return 0.0, i, False
        if i < end and (buf[i] == 101 or buf[i] == 69):     # 'e' or 'E'
            i += 1
            eneg = False
            if i < end and (buf[i] == 45 or buf[i] == 43):
                eneg = buf[i] == 45
                i += 1
            e = 0
            n_e = 0
            while i < end and 48 <= buf[i] <= 57:
                e = e * 10 + (buf[i] - 48)
                n_e += 1
                if e > 10000:
                    return 0.0, i, False
                i += 1
            if n_e == 0:
                return 0.0, i, False
            exp10 += -e if eneg else e
        if i < end and not (buf[i] == 32 or buf[i] == 9 or buf[i] == 10 or buf[i] == 13):
            return 0.0, i, False
        if mant > np.uint64(_MANTISSA_MAX) or exp10 > 22 or exp10 < -22:
            if mant == 0:
                return -0.0 if neg else 0.0, i, True
            return 0.0, i, False
        value = float(mant)
        if exp10 >= 0:
            value = value * _POW10[exp10]
        else:
            value = value / _POW10[-exp10]
        return (-value if neg else value), i, True

    @numba.njit(cache=True, nogil=True)
    def parse_frames(buf, start, end, at_eof, n_atoms, slot, n_cols, species, species_start,
                     raw_first, step, out, comments, max_keep):
        """Parse frames from byte ``start`` of ``buf`` (uint8) up to ``end``.

        n_atoms: atoms per frame; slot (n_cols,) int64: output column of each file column
        (-1: skipped; column 0, the species, is compared with frame 0 instead); species: the
        species tokens of frame 0 as bytes, atom a at species[species_start[a]:
        species_start[a + 1]]; raw_first: raw index of the frame at ``start``, kept when
        divisible by ``step``; out (max_keep, n_atoms, n_out): values of kept frames;
        comments (max_keep, 2): byte range of each kept frame's comment line.

        Returns (kept frames written, byte after the last whole frame parsed, frames parsed,
        status): OK after max_keep kept frames or at ``end`` when ``at_eof``; NEED_MORE when
        the buffer ends inside a frame; EXACT_READER when the next frame needs the exact
        reader (it is not counted and the byte position is its start).
        """
        i = start
        kept = 0
        n_raw = 0
        while kept < max_keep:
            if i >= end:
                return kept, i, n_raw, OK if at_eof else NEED_MORE
            frame_start = i
            keep = (raw_first + n_raw) % step == 0
            # the atom count line
            j = i
            while j < end and (buf[j] == 32 or buf[j] == 9):
                j += 1
            count = 0
            n_d = 0
            while j < end and 48 <= buf[j] <= 57:
                count = count * 10 + (buf[j] - 48)
                n_d += 1
                j += 1
            line_end = _skip_line(buf, j, end)
            if line_end < 0:
                return kept, frame_start, n_raw, OK if at_eof and n_d == 0 else \
                    (EXACT_READER if at_eof else NEED_MORE)
            if n_d == 0 or count != n_atoms:
                return kept, frame_start, n_raw, EXACT_READER
            c0 = line_end
            c1 = _skip_line(buf, c0, end)
            if c1 < 0:
                return kept, frame_start, n_raw, EXACT_READER if at_eof else NEED_MORE
            i = c1
            for a in range(n_atoms):
                if keep:
                    while i < end and (buf[i] == 32 or buf[i] == 9):
                        i += 1
                    s0 = species_start[a]
                    s1 = species_start[a + 1]
                    for k in range(s1 - s0):
                        if i + k >= end or buf[i + k] != species[s0 + k]:
                            if i + k >= end and not at_eof:
                                return kept, frame_start, n_raw, NEED_MORE
                            return kept, frame_start, n_raw, EXACT_READER
                    i += s1 - s0
                    if i < end and not (buf[i] == 32 or buf[i] == 9):
                        return kept, frame_start, n_raw, EXACT_READER
                    for col in range(1, n_cols):
                        while i < end and (buf[i] == 32 or buf[i] == 9):
                            i += 1
                        if i >= end:
                            return kept, frame_start, n_raw, \
                                EXACT_READER if at_eof else NEED_MORE
                        if buf[i] == 10 or buf[i] == 13:
                            return kept, frame_start, n_raw, EXACT_READER
                        if slot[col] >= 0:
                            value, i, ok = _number(buf, i, end)
                            if i >= end and not at_eof:        # the token may go on
                                return kept, frame_start, n_raw, NEED_MORE
                            if not ok:
                                return kept, frame_start, n_raw, EXACT_READER
                            out[kept, a, slot[col]] = value
                        else:
                            while i < end and not (buf[i] == 32 or buf[i] == 9 or buf[i] == 10
                                                   or buf[i] == 13):
                                i += 1
                nxt = _skip_line(buf, i, end)
                if nxt < 0:
                    if at_eof and a == n_atoms - 1:
                        i = end                     # last line of the file without a newline
                        continue
                    return kept, frame_start, n_raw, EXACT_READER if at_eof else NEED_MORE
                i = nxt
            if keep:
                comments[kept, 0] = c0
                comments[kept, 1] = c1
                kept += 1
            n_raw += 1
        return kept, i, n_raw, OK
