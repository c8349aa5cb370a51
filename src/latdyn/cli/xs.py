"""``latdyn xs FORMULA``: neutron cross sections of a composition, per nuclide and in total."""

from __future__ import annotations

import argparse

from ..scattering.table_names import TABLES
from .options import add_common
from .output import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "xs", help="neutron cross sections and sigma/M weights of a chemical formula",
        description="Scattering lengths and cross sections per nuclide, per formula unit and "
                    "per atom (Sears 1992 by default). Isotopes: 7Li3N, ND4I, Li3(15N).")
    p.add_argument("formula", help="chemical formula, e.g. Ag8SnSe6, NH4I, 7Li3N")
    p.add_argument("--wavelength", type=float, default=None, metavar="A",
                   help="neutron wavelength in angstrom for the absorption (default 1.798, 2200 m/s)")
    p.add_argument("--table", choices=TABLES, default="sears",
                   help="scattering table: sears (Sears 1992, default) or rauch (Rauch-Waschkowski 2003)")
    p.add_argument("--xray-q", type=float, default=None, metavar="Q",
                   help="also tabulate the X-ray amplitude r_e f0(|Q|) in fm at this |Q| (1/angstrom)")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..scattering import LAMBDA_2200, R_ELECTRON_FM, Composition, xray_form_factor

    comp = Composition(args.formula, table=args.table)
    rows = comp.table_rows(args.wavelength)
    if args.xray_q is not None:
        for row in rows:
            f0 = xray_form_factor(row["nuclide"], args.xray_q)
            row["xray_f0_e"] = f0
            row["xray_r_e_f0_fm"] = R_ELECTRON_FM * f0
    per_atom = comp.per_atom(args.wavelength)
    extra = {
        "formula": args.formula,
        "table": args.table,
        "wavelength_A": args.wavelength if args.wavelength is not None else LAMBDA_2200,
        "mass_amu": comp.mass,
        "atoms_per_formula_unit": comp.n_atoms,
        "sigma_coh_b": comp.sigma_coh,
        "sigma_inc_b": comp.sigma_inc,
        "sigma_abs_b": comp.sigma_abs(args.wavelength),
        "sigma_total_b": comp.sigma_total(args.wavelength),
        "per_atom_b": per_atom,
    }
    source = "Sears 1992" if args.table == "sears" else "Rauch-Waschkowski 2003"
    title = f"{args.formula}: neutron cross sections ({source})"
    if args.json:
        emit(rows, as_json=True, title=title, extra=extra)
    else:
        shown = {k: v for k, v in extra.items() if k != "per_atom_b"}
        shown.update({f"{k}_per_atom_b": v for k, v in per_atom.items()})
        emit(rows, as_json=False, title=title, extra=shown)
    return 0
