"""`v2xsim calibrate`: reproduce published evaluation set-ups and compare with the analytical model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np


def add_parser(sub: Any) -> None:
    cal = sub.add_parser("calibrate", help="reproduce GM-2019 / TR 36.885 set-ups (PRR vs distance)")
    which = cal.add_subparsers(dest="setup", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter
    gm = which.add_parser("gm2019", help="Gonzalez-Martin et al. IEEE TVT 2019 Mode 4 highway",
                          formatter_class=fmt)
    gm.add_argument("--beta", type=float, default=0.1,
                    help="vehicle density, veh/m, within 0.01-0.5 (the paper: 0.1-0.3)")
    gm.add_argument("--rate-hz", type=float, default=10.0, choices=[10.0, 20.0],
                    help="BSM rate")
    gm.add_argument("--tx-power-dbm", type=float, default=20.0, help="within -10-33 dBm")
    gm.add_argument("--subchannels", type=int, default=4, choices=[2, 4],
                    help="subchannels per 10 MHz channel")
    hw = which.add_parser("3gpp-highway", help="TR 36.885 freeway: 3+3 lanes, 2 km wrap-around",
                          formatter_class=fmt)
    hw.add_argument("--speed-kmh", type=float, default=140.0,
                    help=f"vehicle speed, within {MIN_SPEED_KMH:g}-{MAX_SPEED_KMH:g} km/h")
    for p in (gm, hw):
        p.add_argument("--out", type=Path, required=True, help="output directory")
        p.add_argument("--duration-s", type=float, default=12.0,
                       help=f"simulated time, > 2 and <= {MAX_DURATION_S:g} s (2 s warm-up)")
        p.add_argument("--seed", type=int, default=1, help="random seed, >= 0")


#: Limits of the command-line values (the set-ups are defined for moving freeway traffic).
MIN_SPEED_KMH, MAX_SPEED_KMH = 10.0, 250.0
MAX_DURATION_S = 3600.0


def _bad_argument(args: argparse.Namespace) -> str | None:
    """The first invalid argument as "--flag: what is wrong", or None. NaN fails every range."""
    if not 2.0 < args.duration_s <= MAX_DURATION_S:
        return (f"--duration-s: {args.duration_s:g} is not within (2, {MAX_DURATION_S:g}] s "
                "(the first 2 s are warm-up)")
    if args.seed < 0:
        return f"--seed: {args.seed} is negative; seeds are integers >= 0"
    if args.setup == "gm2019":
        if not -10.0 <= args.tx_power_dbm <= 33.0:
            return f"--tx-power-dbm: {args.tx_power_dbm:g} is not within [-10, 33] dBm"
        if not 0.01 <= args.beta <= 0.5:
            return f"--beta: {args.beta:g} is not within [0.01, 0.5] veh/m"
    elif not MIN_SPEED_KMH <= args.speed_kmh <= MAX_SPEED_KMH:
        return (f"--speed-kmh: {args.speed_kmh:g} is not within "
                f"[{MIN_SPEED_KMH:g}, {MAX_SPEED_KMH:g}] km/h")
    if args.out.exists() and not args.out.is_dir():
        return f"--out {args.out}: exists and is not a directory"
    return None


def cmd_calibrate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from sim.calibration.layouts import gm2019_world, tr36885_highway_world
    from sim.calibration.run import gm2019_analytical, simulate, write_outputs

    problem = _bad_argument(args)
    if problem is None:  # the output directory too, before the run
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = f"--out {args.out}: cannot create the directory ({exc.strerror})"
    if problem is not None:  # checked before the run, so a typo never costs a simulation
        print(f"v2xsim: error: {problem}", file=sys.stderr)
        return 2
    if args.setup == "gm2019":
        world = gm2019_world(args.beta, args.rate_hz, args.tx_power_dbm, args.subchannels, args.seed)
    else:
        world = tr36885_highway_world(args.speed_kmh, args.seed)
    result = simulate(world, args.duration_s)
    analytical = None
    if args.setup == "gm2019":
        analytical = gm2019_analytical(args.beta, args.rate_hz, args.tx_power_dbm,
                                       args.subchannels, result.distance_m)
    summary = write_outputs(args.out, result, analytical, world.description,
                            {"duration_s": args.duration_s, "seed": args.seed,
                             "vehicles": len(world.table)})
    table = Table(title=world.description)
    table.add_column("distance (m)", justify="right")
    table.add_column("PRR sim", justify="right")
    if analytical is not None:
        table.add_column("PRR analytical", justify="right")
    for i in range(0, len(result.prr), 5):
        row = [f"{result.distance_m[i] - 10:.0f}", f"{result.prr[i]:.3f}"]
        if analytical is not None:
            row.append(f"{analytical[i]:.3f}")
        table.add_row(*row)
    console = Console()
    console.print(table)
    if analytical is not None:
        console.print(f"max |sim - analytical| = {summary['max_abs_deviation']:.3f}, "
                      f"mean = {summary['mean_abs_deviation']:.3f}")
    console.print(f"half-duplex loss {summary['half_duplex_loss']:.4f}; outputs: {args.out}")
    return 0 if np.isfinite(result.prr).any() else 1
