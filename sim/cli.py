"""The `v2xsim` command line. The only place that prints, exits, or catches library errors.

Exit codes: 0 ok, 1 expectations failed / run error, 2 bad input (one line, no traceback),
130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM (128 + the signal, as shells report it; the
outputs are still written).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="v2xsim", description="C-V2X discrete-event simulator")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario headless and write a run directory")
    run.add_argument("scenario", help="scenario YAML file or built-in name (see `v2xsim list`)")
    run.add_argument("--out", type=Path, help="run directory (default: runs/NAME-seedN)")
    run.add_argument("--seed", type=int, help="override the scenario seed")
    run.add_argument("--until", type=float, metavar="SECONDS", help="simulated duration")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key, e.g. --set fleet.v2x_penetration=0.5")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--force", action="store_true",
                     help="write into an --out directory that is not empty and not a run directory "
                          "(files of the output names are replaced; nothing is deleted)")
    run.add_argument("--against-sumo", action="store_true",
                     help="also run SUMO itself on the scenario's net and demand and compare trips "
                          "completed and mean trip duration (writes sumo_compare.json)")
    val = sub.add_parser("validate", help="check a scenario file and report the first problem")
    val.add_argument("scenario")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sub.add_parser("list", help="list the built-in scenarios")
    from sim.calibration.cli import add_parser as add_calibrate
    from sim.sweep.cli import add_parsers as add_sweep_parsers
    from sim.viz.cli import add_view_parser

    add_calibrate(sub)
    add_sweep_parsers(sub)  # `sweep` and `bench latency`
    add_view_parser(sub)
    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    exp = sub.add_parser("export", help="write a run or a scenario's roads in SUMO's formats")
    exp.add_argument("format", choices=["fcd", "net"],
                     help="fcd: a run's trace as SUMO floating car data (XML + CSV); "
                          "net: a GeoJSON scenario's roads as a SUMO .net.xml (netconvert)")
    exp.add_argument("source", help="fcd: a run directory (with trace.msgpack); "
                                    "net: a scenario file or built-in name")
    exp.add_argument("--out", type=Path, help="fcd: XML file (default: RUN_DIR/fcd.xml; CSV beside "
                                              "it); net: .net.xml file (default: NAME.net.xml)")
    exp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="net: override a scenario key, as for run")
    return p


def _bad_input(message: str) -> int:
    from sim.core.input_file import printable

    # One line, and nothing from a user's file may drive the terminal (ANSI escapes, bidi).
    print(f"v2xsim: error: {printable(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _fmt(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _range(value: float | None, limit: float) -> str:
    if value is None:
        return "n/a"
    return f">= {value:.0f} m" if value >= limit else f"{value:.0f} m"


def _pir(pir: dict[str, Any]) -> str:
    if not pir["samples"]:
        return "n/a"
    return f"{_fmt(pir['p99_ms'], '', 0)} / {_fmt(pir['max_ms'])} ms"


def _losses(shares: dict[str, float | None]) -> str:
    """Shares of all PRR samples lost to each reason (they add up to 1 - PRR)."""
    names = ("half_duplex", "below_sensitivity", "propagation", "collision")
    if any(shares.get(n) is None for n in names):
        return "n/a"
    return " / ".join(f"{shares[n]:.3f}" for n in names)


def _trips(traffic: dict[str, Any] | None) -> str:
    if not traffic or not traffic["trips_completed"]:
        return "0" if traffic else "n/a"
    return f"{traffic['trips_completed']} ({traffic['mean_trip_duration_s']:.1f} s)"


def _summary_table(summary: dict[str, Any], manifest: dict[str, Any]):  # type: ignore[no-untyped-def]
    from rich.table import Table

    v, m = summary["vehicles"], summary["messages"]
    lat = m["latency"]["bsm"]
    t = Table(title=f"{summary['scenario']}  (seed {summary['seed']})", show_header=True)
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [
        ("simulated time", _fmt(summary["sim_time_s"], " s", 1)),
        ("vehicles simulated", _fmt(v["simulated"])),
        ("vehicles alive (max / mean)", f"{v['alive_max']} / {v['alive_mean']:.0f}"),
        ("trips completed (mean duration)", _trips(summary.get("traffic"))),
        ("V2X-equipped share", _fmt(v["v2x_equipped_share"], "", 2)),
        ("RSUs", _fmt(summary["rsus"])),
        ("BSMs sent", _fmt(m["bsm_transmitted"])),
        ("BSM receptions", _fmt(m["bsm_receptions"])),
    ]
    for key, val in m["prr"].items():
        if key.startswith("at_"):
            rows.append((f"PRR at {key[3:]}", _fmt(val)))
    rows += [
        ("range with PRR >= 0.9", _range(m["prr"]["range_at_0.9_m"], m["prr"]["range_limit_m"])),
        ("latency p50 / p95 / p99",
         " / ".join(_fmt(lat[k], "", 1) for k in ("p50_ms", "p95_ms", "p99_ms")) + " ms"),
        ("inter-reception time p99 / max", _pir(m["pir"])),
        ("packet loss: HD / sens / prop / coll", _losses(m["loss_breakdown"])),
        ("channel busy ratio (mean)", _fmt(m["cbr"]["mean"])),
        ("collisions", _fmt(summary["collisions"])),
        ("wall time", _fmt(manifest["wall_time_s"], " s", 1)),
        ("real-time factor", _fmt(manifest["real_time_factor"], "x", 2)),
    ]
    for name, val in rows:
        t.add_row(name, val)
    return t


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sim.core.errors import V2xSimError
    from sim.io.rundir import check_output_dir, mark_aborted
    from sim.runner import run_scenario
    from sim.scenario.loader import load_scenario

    console = Console(stderr=True)
    try:
        loaded = load_scenario(args.scenario, args.overrides, seed=args.seed, duration_s=args.until)
    except V2xSimError as exc:
        return _bad_input(str(exc))
    spec = loaded.spec
    out = args.out or Path("runs") / f"{spec.name.replace('/', '_')}-seed{spec.seed}"
    try:
        check_output_dir(out, "run", force=args.force)  # never mix run files into the user's
    except V2xSimError as exc:
        return _bad_input(str(exc))
    if args.against_sumo and (spec.network is None or not spec.traffic.sumo_routes):
        return _bad_input(f"{loaded.source}: --against-sumo needs network.sumo_net and "
                          "traffic.sumo_routes (the net and the demand SUMO runs)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _bad_input(f"--out {out}: cannot create the run directory ({exc.strerror})")
    if spec.duration_s <= spec.metrics.warmup_s:
        console.print(
            f"[yellow]warning: the run ({spec.duration_s:g} s) ends within the radio warm-up "
            f"(metrics.warmup_s = {spec.metrics.warmup_s:g} s): no radio statistics[/]"
        )
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(),
        TextColumn("{task.completed:.1f}/{task.total:.1f} s sim"),
        TextColumn("RTF {task.fields[rtf]}"), TextColumn("vehicles {task.fields[alive]}"),
        TimeElapsedColumn(), console=console, disable=args.quiet, transient=False,
    )
    task = progress.add_task(spec.name, total=spec.duration_s, rtf="-", alive=0)
    engines: list[Any] = []

    def on_progress(engine, wall_s: float) -> None:  # type: ignore[no-untyped-def]
        sim_s = engine.now_ms / 1000.0
        rtf = f"{sim_s / wall_s:.1f}x" if wall_s > 0 else "-"
        progress.update(task, completed=sim_s, rtf=rtf, alive=len(engine.world.mobility.table))

    received: list[int] = []  # the first signal decides the exit code (130 or 143)

    def on_sigint(signum, frame):  # type: ignore[no-untyped-def]
        received.append(signum)
        if engines and not engines[0]._stop:
            engines[0].request_stop()  # before printing: a second signal may arrive mid-print
            console.print("[yellow]stopping at the next step; Ctrl-C again to abort[/]")
        else:
            raise KeyboardInterrupt

    # SIGTERM (timeout, schedulers, docker stop) ends a run like the first Ctrl-C: outputs written.
    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_term = signal.signal(signal.SIGTERM, on_sigint)
    try:
        with progress:
            outcome = run_scenario(loaded, out, on_progress=on_progress, engine_hook=engines.append)
    except V2xSimError as exc:
        return _bad_input(str(exc))
    except KeyboardInterrupt:  # the second signal: run_scenario has written what it recorded
        mark_aborted(out)
        console.print(f"run aborted: partial outputs in {out}", markup=False)
        return 128 + received[0] if received else EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
    Console().print(_summary_table(outcome.summary, outcome.manifest))
    if outcome.expectations:
        from sim.metrics.expectations import all_passed, outcomes_table

        Console().print(outcomes_table(outcome.expectations))
    if args.against_sumo and not outcome.summary["interrupted"]:
        try:
            _compare_with_sumo(loaded, outcome.summary, out)
        except V2xSimError as exc:
            return _bad_input(str(exc))
    console.print(f"outputs: {out}")
    if outcome.summary["interrupted"]:
        console.print("[yellow]run interrupted: partial results written[/]")
        return EXIT_TERMINATED if received[:1] == [signal.SIGTERM] else EXIT_INTERRUPTED
    if outcome.expectations and not all_passed(outcome.expectations):
        failed = sum(1 for o in outcome.expectations if not o.passed)
        console.print(f"[red]{failed} expectation(s) failed[/]")
        return EXIT_FAIL
    return EXIT_OK


def _compare_with_sumo(loaded: Any, summary: dict[str, Any], out: Path) -> None:
    """SUMO's own run of the same net and demand next to ours (trips, mean trip duration)."""
    from rich.console import Console
    from rich.table import Table

    from sim.io.rundir import write_json
    from sim.sumo.compare import AGREEMENT_TOLERANCE, run_trip_stats, sumo_trip_stats

    spec = loaded.spec
    ours = run_trip_stats(summary)
    ref = sumo_trip_stats(loaded.resolve(spec.network.sumo_net), loaded.resolve(spec.traffic.sumo_routes),
                          spec.duration_s, spec.step_s, spec.seed, loaded.source)
    d_trips, d_mean = ours.relative_difference(ref)
    table = Table(title="v2xsim internal mobility vs SUMO")
    for col in ("", "v2xsim", "SUMO", "difference"):
        table.add_column(col, justify="right")
    table.add_row("trips completed", str(ours.trips_completed), str(ref.trips_completed),
                  f"{d_trips:.1%}")
    def seconds(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f} s"

    table.add_row("mean trip duration", seconds(ours.mean_trip_duration_s),
                  seconds(ref.mean_trip_duration_s), f"{d_mean:.1%}")
    Console().print(table)
    if ref.programs_made_static:
        Console().print(f"({ref.programs_made_static} actuated traffic light(s) ran fixed-time in "
                        "SUMO too, as v2xsim runs them)")
    agree = d_trips <= AGREEMENT_TOLERANCE and d_mean <= AGREEMENT_TOLERANCE
    write_json(out / "sumo_compare.json", {
        "v2xsim": vars(ours), "sumo": vars(ref), "relative_difference":
            {"trips_completed": round(d_trips, 4), "mean_trip_duration_s": round(d_mean, 4)},
        "tolerance": AGREEMENT_TOLERANCE, "agree": agree})


def _cmd_export(args: argparse.Namespace) -> int:
    if args.format == "net":
        return _cmd_export_net(args)
    from sim.io.fcd import export_fcd
    from sim.io.trace import TraceFormatError

    run_dir = Path(args.source)
    trace = run_dir / "trace.msgpack"
    if not trace.is_file():
        return _bad_input(f"{run_dir}: no trace.msgpack (not a run directory?)")
    xml = args.out or run_dir / "fcd.xml"
    try:
        n = export_fcd(trace, xml, xml.with_suffix(".csv"))
    except TraceFormatError as exc:  # its message names the trace and the byte offset
        return _bad_input(str(exc))
    except OSError as exc:
        return _bad_input(f"{exc.filename or xml}: cannot read or write ({exc.strerror})")
    if n == 0:
        return _bad_input(f"{trace}: no vehicle states in the trace (was output.trace.states off?)")
    print(f"{n} vehicle records -> {xml} and {xml.with_suffix('.csv')}")
    return EXIT_OK


def _cmd_export_net(args: argparse.Namespace) -> int:
    from sim.core.errors import V2xSimError
    from sim.scenario.loader import load_scenario
    from sim.scenario.net_export import export_net
    from sim.sumo.tools import SumoUnavailable

    try:
        loaded = load_scenario(args.source, args.set)
        out = args.out or Path(f"{loaded.spec.name}.net.xml")
        result = export_net(loaded, out)
    except V2xSimError as exc:
        return _bad_input(str(exc))
    except SumoUnavailable as exc:
        return _bad_input(f"{args.source}: {exc}")
    except OSError as exc:
        return _bad_input(f"{args.out}: cannot write ({exc.strerror})")
    print(f"{result.nodes} nodes, {result.edges} edges, {result.traffic_lights} traffic lights "
          f"-> {out} (open it with sumo-gui or netedit)")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.core.errors import V2xSimError
    from sim.scenario.build import build_world
    from sim.scenario.loader import load_scenario

    try:
        loaded = load_scenario(args.scenario, args.overrides)
        world = build_world(loaded)
    except V2xSimError as exc:
        return _bad_input(str(exc))
    routes = ", ".join(f"{r.id} ({r.length_m / 1000:.1f} km, {r.lanes} lanes)"
                       for r in world.geometry.routes)
    print(f"{loaded.source}: ok: {world.spec.name}; routes: {routes}; RSUs: {len(world.rsus)}")
    return EXIT_OK


def _cmd_list() -> int:
    from sim.scenario.loader import builtin_names, load_scenario

    for name in builtin_names():
        spec = load_scenario(name).spec
        first = spec.description.strip().splitlines()[0] if spec.description.strip() else ""
        print(f"{name:32s} {first}")
    return EXIT_OK


def _cmd_schema() -> int:
    from sim.spec.schema import ScenarioSpec

    print(json.dumps(ScenarioSpec.model_json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C outside a run's own handling (loading, a sweep starting)
        print("v2xsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    from sim.radio import threads

    try:
        threads.threads()  # V2XSIM_THREADS, read once, checked before any work
    except ValueError as exc:
        return _bad_input(str(exc))
    if args.command == "run":
        return _cmd_run(args)
    if args.command == "validate":
        return _cmd_validate(args)
    if args.command == "export":
        return _cmd_export(args)
    if args.command == "view":
        from sim.viz.cli import cmd_view

        return cmd_view(args)
    if args.command in ("sweep", "bench", "compare"):
        return int(args.func(args))  # sim.sweep.cli.cmd_sweep / cmd_bench / cmd_compare
    if args.command == "calibrate":
        from sim.calibration.cli import cmd_calibrate

        return cmd_calibrate(args)
    try:
        return _cmd_list() if args.command == "list" else _cmd_schema()
    except BrokenPipeError:  # `v2xsim list | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
