"""Monte Carlo check of a disk-chopper spectrometer's energy resolution with true window shapes.

latdyn's analytic resolution treats the moderator pulse and every chopper window as Gaussians
of the right variance.  This script samples neutrons (emission time from a Gaussian pulse of
the file's FWHM, inverse speed uniform over a wide band), weights each by the product of the
*trapezoidal* disk windows (a slot of passage time w/u convolved with the beam passage time
b/u, unit peak), adds the detector path spread, and reports the FWHM of the histogram of the
energy-transfer error next to 2.3548 x its standard deviation and latdyn's two widths (the
second-moment convention, which the standard deviation should match, and the default
facility-calculator convention).

    python tools/resolution_monte_carlo.py LET 3.7 --frequency 240 --mode high_flux [--energy 2.775]

Used for the LET and CNCS rows of docs/instruments.md.  Fermi choppers are not sampled here.
"""

import argparse
import sys

import numpy as np

from latdyn.instruments import FWHM_PER_SIGMA, load_instrument
from latdyn.instruments.choppers import DiskChopper
from latdyn.units import energy_to_velocity


def monte_carlo(name: str, ei: float, energy: float, frequency: float, mode: str | None, n: int,
                seed: int):
    """(histogram FWHM, 2.3548 x weighted std, latdyn second-moment FWHM, latdyn default
    (facility-calculator) FWHM), all meV, at energy transfer ``energy`` (meV)."""
    inst = load_instrument(name)
    chops = inst.choppers(mode)
    if not all(isinstance(c, DiskChopper) for c in chops):
        raise SystemExit(f"{name}: only disk-chopper instruments are sampled")
    rng = np.random.default_rng(seed)
    v0 = float(energy_to_velocity(ei))
    ef = ei - energy
    vf = float(energy_to_velocity(ef))
    sig_m = float(inst.moderator.pulse_fwhm_us(ei)) * 1e-6 / FWHM_PER_SIGMA
    last = max(chops, key=lambda c: c.distance_m)
    band = 4.0 * max(c.opening_fwhm_s(inst._frequency(c, frequency)) for c in chops) / last.distance_m
    tau = rng.normal(0.0, sig_m, n)
    w = rng.uniform(-band, band, n)
    weight = np.ones(n)
    for c in chops:
        t_slot, t_beam = c._times_s(inst._frequency(c, frequency))
        lo, hi = abs(t_slot - t_beam) / 2, (t_slot + t_beam) / 2
        weight *= np.clip((hi - np.abs(tau + c.distance_m * w)) / max(hi - lo, 1e-15), 0.0, 1.0)
    keep = weight > 0
    x2 = inst.sample_detector
    de = (2 * ef * vf / x2) * tau + (2 * ef * vf * inst.moderator_sample / x2 + 2 * ei * v0) * w
    path = np.sqrt(float(inst.detector.path_variance(ef)))
    de = de[keep] + rng.normal(0.0, path, keep.sum()) * 2 * ef / x2
    weight = weight[keep]
    hist, edges = np.histogram(de, bins=400, weights=weight)
    centres = 0.5 * (edges[1:] + edges[:-1])
    above = centres[hist >= hist.max() / 2]
    std = np.sqrt(np.cov(de, aweights=weight))
    moments = float(inst.resolution(energy, ei=ei, frequency=frequency, mode=mode,
                                    convention="second_moment"))
    facility = float(inst.resolution(energy, ei=ei, frequency=frequency, mode=mode))
    return float(above.max() - above.min()), FWHM_PER_SIGMA * float(std), moments, facility


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instrument")
    parser.add_argument("ei", type=float, help="incident energy (meV)")
    parser.add_argument("--frequency", type=float, required=True, help="resolution frequency (Hz)")
    parser.add_argument("--energy", type=float, default=0.0, help="energy transfer (meV)")
    parser.add_argument("--mode", default=None)
    parser.add_argument("-n", type=int, default=6_000_000, help="neutrons sampled")
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    fwhm, std_fwhm, moments, facility = monte_carlo(args.instrument, args.ei, args.energy,
                                                    args.frequency, args.mode, args.n, args.seed)
    print(f"{args.instrument} Ei {args.ei:g} meV, E {args.energy:g} meV, {args.frequency:g} Hz, "
          f"mode {args.mode}: "
          f"Monte Carlo FWHM {fwhm:.4f} meV, 2.3548 std {std_fwhm:.4f} meV, latdyn second moment "
          f"{moments:.4f} meV, latdyn default (facility) {facility:.4f} meV")
    return 0


if __name__ == "__main__":
    sys.exit(main())
