r"""Space groups as lists of symmetry operations (R, t) acting on fractional coordinates.

An operation maps x -> R x + t (R integer 3x3, t fractional).  The list includes the
centring translations, so it has as many operations as the general position has sites.
Symbols and Hall symbols are resolved with gemmi's space-group table; an explicit list of
operations (CIF ``_space_group_symop_operation_xyz``) is used as given.

Reciprocal space: F(h R) = F(h) exp(-2 pi i h.t) for h a row of Miller indices, so

* h is **systematically absent** when some operation has h R = h and h.t not an integer;
* the **powder multiplicity** of h is the size of its orbit {h R} U {-h R} (Laue class).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..errors import InputError

__all__ = ["SpaceGroup"]


def _gemmi():
    import gemmi

    return gemmi


class SpaceGroup:
    """Symmetry operations of a space group.

    Parameters
    ----------
    rotations: (n, 3, 3) integer rotation parts.
    translations: (n, 3) fractional translation parts.
    symbol: Hermann-Mauguin symbol for display ('' when unknown); number: IT number or 0.
    """

    def __init__(self, rotations, translations, symbol: str = "", number: int = 0) -> None:
        r = np.asarray(rotations)
        t = np.asarray(translations, dtype=float)
        if r.ndim != 3 or r.shape[1:] != (3, 3) or t.shape != (r.shape[0], 3):
            raise InputError("symmetry operations need rotations (n,3,3) and translations (n,3)",
                             field="operations", value=(r.shape, t.shape))
        if not np.allclose(r, np.round(r)):
            raise InputError("rotation parts must be integer matrices", field="operations")
        self.rotations = np.round(r).astype(int)
        self.translations = np.mod(t, 1.0)
        self.symbol = symbol
        self.number = int(number)

    # --- constructors -----------------------------------------------------------------------
    @classmethod
    def p1(cls) -> SpaceGroup:
        """The trivial group P1 (identity only)."""
        return cls(np.eye(3, dtype=int)[None], np.zeros((1, 3)), "P 1", 1)

    @classmethod
    def _from_gemmi_ops(cls, ops, symbol: str = "", number: int = 0) -> SpaceGroup:
        g = _gemmi()
        den = g.Op.DEN
        rot, tra = [], []
        for op in ops:
            rot.append(np.array(op.rot) // den)
            tra.append(np.array(op.tran, dtype=float) / den)
        if not symbol:
            sg = g.find_spacegroup_by_ops(ops if isinstance(ops, g.GroupOps) else g.GroupOps(list(ops)))
            if sg is not None:
                symbol, number = sg.xhm(), sg.number
        return cls(np.array(rot), np.array(tra), symbol, number)

    @classmethod
    def from_symbol(cls, symbol: str, *, source: str | None = None) -> SpaceGroup:
        """From a Hermann-Mauguin symbol ('Fm-3m', 'F d -3 m:2'), an IT number or a Hall symbol.

        Without a setting suffix gemmi's default setting is used (origin choice 1 for the
        groups with two origins); give ':2' (or a Hall symbol, or the operations) for origin 2.
        """
        g = _gemmi()
        text = str(symbol).strip()
        sg = None
        try:
            sg = g.find_spacegroup_by_name(text)
        except (ValueError, RuntimeError):
            sg = None
        if sg is None and text.isdigit():
            if not 1 <= int(text) <= 230:
                raise InputError("space-group number must be from 1 to 230", file=source,
                                 field="space_group", value=symbol)
            sg = g.find_spacegroup_by_number(int(text))
        if sg is not None:
            return cls._from_gemmi_ops(sg.operations(), sg.xhm(), sg.number)
        try:
            ops = g.symops_from_hall(text)
        except (ValueError, RuntimeError) as exc:
            raise InputError("unknown space-group symbol", file=source, field="space_group",
                             value=symbol) from exc
        return cls._from_gemmi_ops(ops)

    @classmethod
    def from_triplets(cls, triplets, *, source: str | None = None,
                      field: str = "_space_group_symop_operation_xyz") -> SpaceGroup:
        """From coordinate triplets such as 'x,y,z', '-y+1/2,x,z+3/4' (CIF symmetry operations)."""
        g = _gemmi()
        ops = []
        for t in triplets:
            try:
                ops.append(g.Op(str(t).replace(" ", "").lower()))
            except (ValueError, RuntimeError) as exc:
                raise InputError("malformed symmetry operation", file=source, field=field,
                                 value=t) from exc
        if not ops:
            raise InputError("no symmetry operations given", file=source, field=field)
        out = cls._from_gemmi_ops(ops)
        if not out.is_closed():
            raise InputError("symmetry operations do not form a group (not closed under "
                             "composition)", file=source, field=field, value=len(ops))
        return out

    # --- properties -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rotations)

    def is_closed(self, tol: float = 1e-6) -> bool:
        """True when every product of two operations is again an operation (mod lattice)."""
        r = np.einsum("aij,bjk->abik", self.rotations, self.rotations)
        t = np.einsum("aij,bj->abi", self.rotations, self.translations) + self.translations[:, None]
        r = r.reshape(-1, 9)
        t = np.mod(t.reshape(-1, 3), 1.0)
        known_r = self.rotations.reshape(-1, 9)
        same_r = np.all(r[:, None, :] == known_r[None], axis=2)
        dt = t[:, None, :] - self.translations[None]
        same_t = np.all(np.abs(dt - np.round(dt)) < tol, axis=2)
        return bool(np.all(np.any(same_r & same_t, axis=1)))

    @property
    def triplets(self) -> list[str]:
        """The operations as 'x,y,z'-style strings."""
        g = _gemmi()
        den = g.Op.DEN
        out = []
        for r, t in zip(self.rotations, self.translations, strict=True):
            op = g.Op()
            op.rot = (r * den).tolist()
            op.tran = [int(round(v * den)) % den for v in t]
            out.append(op.triplet())
        return out

    @cached_property
    def point_rotations(self) -> np.ndarray:
        """The distinct rotation parts (the point group), shape (m, 3, 3)."""
        return np.unique(self.rotations, axis=0)

    @cached_property
    def laue_rotations(self) -> np.ndarray:
        """The point group with inversion added (the Laue class), shape (m', 3, 3)."""
        return np.unique(np.concatenate([self.point_rotations, -self.point_rotations]), axis=0)

    def apply(self, frac) -> np.ndarray:
        """Images of fractional positions (k, 3) under every operation, (n_ops, k, 3) in [0, 1)."""
        x = np.atleast_2d(np.asarray(frac, dtype=float))
        img = np.einsum("nij,kj->nki", self.rotations, x) + self.translations[:, None, :]
        return np.mod(img, 1.0)

    # --- reciprocal space -------------------------------------------------------------------
    def is_absent(self, hkl) -> np.ndarray:
        """True where reflections (k, 3) are systematically absent (see module docstring)."""
        h = np.atleast_2d(np.asarray(hkl))
        hr = np.einsum("ki,nij->knj", h, self.rotations)
        fixed = np.all(hr == h[:, None, :], axis=2)
        phase = h @ self.translations.T
        shifted = np.abs(phase - np.round(phase)) > 1e-6
        return np.any(fixed & shifted, axis=1)

    def family_key(self, hkl) -> np.ndarray:
        """A representative of each reflection's Laue orbit: its largest member in (h, k, l) order.

        Returns (k, 3) integer indices; reflections with equal keys are symmetry equivalent.
        """
        h = np.atleast_2d(np.asarray(hkl, dtype=int))
        img = np.einsum("ki,nij->knj", h, self.laue_rotations)
        span = int(np.abs(img).max()) + 1 if img.size else 1
        base = 2 * span + 1
        code = ((img[..., 0] + span) * base + (img[..., 1] + span)) * base + (img[..., 2] + span)
        best = np.argmax(code, axis=1)
        return img[np.arange(len(h)), best]

    def __repr__(self) -> str:
        return f"SpaceGroup({self.symbol or '?'!r}, number={self.number}, n_ops={len(self)})"
