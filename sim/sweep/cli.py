"""The `v2xsim sweep` and `v2xsim bench` subcommands: arguments, progress, tables, exit codes.

This is the only module of the package that prints. Heavy imports (dask, matplotlib, the
simulator) happen inside the commands so `v2xsim --help` stays fast. Exit codes follow `sim.cli`:
0 ok, 1 some run failed, 2 bad input (one line `v2xsim: error: ...`, before any run starts),
130 interrupted (finished runs are kept and tabulated; the same command resumes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.sweep.kpis import APP_NAMES, KPI_BY_NAME

if TYPE_CHECKING:
    from rich.console import Console

    from sim.sweep.sweep import SweepPlan
    from sim.sweep.tasks import RunRecord

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def _add_execution_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--until", type=float, metavar="SECONDS",
                   help="simulated duration of every run (default: the scenario's duration_s)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key in every run, "
                        "e.g. --set output.trace.states=false")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="use a running Dask scheduler (workers need v2xsim installed and the same "
                        "paths) instead of starting a local cluster")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes of the local cluster (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true",
                   help="write into an --out directory that is not empty and not a sweep directory "
                        "(files of the output names are replaced; nothing is deleted)")


def add_parsers(subparsers: Any) -> None:
    """Adds `sweep` and `bench` to the `v2xsim` subcommands (`set_defaults(func=...)` on each)."""
    sw = subparsers.add_parser(
        "sweep", help="run a scenario over a grid of parameter values x seeds on Dask",
        description="Runs the Cartesian product of --grid values x seeds 1..N, each a full run "
                    "into DIR/points/<point-id>/seed-<k>/, and tabulates mean and 95 % CI per "
                    "point in DIR/results.csv (one row per run in DIR/runs.csv). The seed "
                    "replaces the scenario's own seed. Re-running the same command skips finished "
                    "runs.")
    sw.add_argument("scenario", help="scenario YAML file or built-in name")
    sw.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                    help="a scenario key and the values to sweep, e.g. "
                         "--grid radio.tx_power_dbm=20,23; repeat for more keys")
    sw.add_argument("--seeds", type=int, required=True, metavar="N",
                    help="run seeds 1..N at every point (overrides the scenario seed)")
    sw.add_argument("--out", type=Path, required=True, metavar="DIR", help="sweep directory")
    sw.add_argument("--metrics", metavar="NAME,NAME,...",
                    help="columns of the printed table, by KPI name (e.g. collisions,"
                         "safety.min_ttc_s,applications.ebw.lead_time_s.p50; results.csv keeps "
                         "them all). Default: PRR, latency, CBR, RTF, collisions, minimum TTC and "
                         "the warnings and lead time of each enabled application")
    _add_execution_args(sw)
    sw.set_defaults(func=cmd_sweep)

    cmp = subparsers.add_parser(
        "compare", help="two runs, sweep points or one-point sweeps side by side, with B - A",
        description="Prints each outcome of A and B (mean ± 95 % CI over their seeds) and the "
                    "difference B - A with its 95 % CI: paired over common seeds (with/without "
                    "V2X pairs and sweep points share traffic per seed), Welch's otherwise; "
                    "'yes' where the interval excludes 0. A and B: a run directory, a sweep "
                    "point directory (DIR/points/<id>) or a sweep directory with one point.")
    cmp.add_argument("a", type=Path, metavar="A", help="the reference (run, point or sweep dir)")
    cmp.add_argument("b", type=Path, metavar="B", help="the design compared with it")
    cmp.add_argument("--metrics", metavar="NAME,NAME,...",
                     help="KPIs to compare (default: every outcome both sides recorded)")
    cmp.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    cmp.set_defaults(func=cmd_compare)

    bench = subparsers.add_parser("bench", help="benchmarks of the simulated system under load")
    kinds = bench.add_subparsers(dest="bench_kind", required=True)
    lat = kinds.add_parser(
        "latency", help="sweep load on a scenario: latency, PRR, CBR and simulator cost vs load",
        description="Sweeps the load levels of a configuration (sim/sweep/configs/NAME.yaml) on a "
                    "scenario and writes DIR/latency_vs_load.csv and PNG plots with 95 % CIs "
                    "across seeds, plus the sweep tables (results.csv, runs.csv).")
    lat.add_argument("scenario", help="scenario YAML file or built-in name")
    lat.add_argument("--out", type=Path, required=True, metavar="DIR", help="benchmark directory")
    lat.add_argument("--config", default="expressway-load", metavar="NAME",
                     help="shipped configuration name or YAML path (default: expressway-load)")
    lat.add_argument("--seeds", type=int, default=3, metavar="N",
                     help="seeds 1..N per load level (default: 3)")
    _add_execution_args(lat)
    bench.set_defaults(func=cmd_bench)


def _stdout() -> Console:
    """Tables go to stdout; when it is not a terminal (a log file), wide enough not to wrap."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def _bad_input(message: str) -> int:
    print(f"v2xsim: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _check_execution_args(args: argparse.Namespace) -> None:
    from sim.sweep.errors import SweepError

    if args.workers is not None and args.workers < 1:
        raise SweepError(f"--workers must be at least 1 (got {args.workers})")
    if args.workers is not None and args.scheduler:
        raise SweepError("--workers applies to the local cluster only; with --scheduler the "
                         "cluster's own workers are used")


def _progress(console: Console, quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("runs | points {task.fields[points]} | failed {task.fields[failed]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=quiet,
    )


def _run_plan(plan: SweepPlan, args: argparse.Namespace, console: Console,
              title: str) -> tuple[list[RunRecord], bool]:
    """Connects to Dask, records the plan, executes it with a progress bar.

    Returns (records, interrupted). The output directory is checked and the client opened
    before anything is written, so a user's directory or an unreachable scheduler is a clean
    exit-2 error with no sweep directory left behind.
    """
    from sim.io.rundir import check_output_dir
    from sim.sweep.cluster import open_client
    from sim.sweep.sweep import write_plan

    check_output_dir(plan.out_dir, "sweep", force=args.force)
    interrupted = False
    records: list[RunRecord] = []
    try:
        with open_client(args.scheduler, args.workers) as client:
            write_plan(plan)
            interrupted = _execute_with_progress(plan, client, args, console, title, records)
    except KeyboardInterrupt:  # while the cluster was starting or closing
        interrupted = True
    return records, interrupted


def _execute_with_progress(plan: SweepPlan, client: Any, args: argparse.Namespace,
                           console: Console, title: str, records: list[RunRecord]) -> bool:
    from rich.markup import escape

    from sim.sweep.cluster import default_workers, worker_warnings
    from sim.sweep.sweep import execute

    n_runs = len(plan.points) * len(plan.seeds)
    per_point: dict[str, int] = {}
    state = {"points": 0, "failed": 0, "reused": 0}
    progress = _progress(console, args.quiet)
    bar = progress.add_task(title, total=n_runs, points=f"0/{len(plan.points)}", failed=0)

    def on_record(rec: RunRecord) -> None:
        records.append(rec)
        per_point[rec.point_id] = per_point.get(rec.point_id, 0) + 1
        if per_point[rec.point_id] == len(plan.seeds):
            state["points"] += 1
        state["reused"] += rec.skipped
        if not rec.ok:
            state["failed"] += 1
            progress.console.print(f"[red]failed[/] point {rec.point_id} seed {rec.seed}: "
                                   f"{escape(rec.error or 'unknown error')}", soft_wrap=True)
        progress.update(bar, advance=1, points=f"{state['points']}/{len(plan.points)}",
                        failed=state["failed"])

    where = args.scheduler or f"a local cluster of {args.workers or default_workers()} processes"
    points, seeds = _count(len(plan.points), "point"), _count(len(plan.seeds), "seed")
    console.print(f"{title}: {points} x {seeds} = {_count(n_runs, 'run')} on {where} "
                  f"-> {plan.out_dir}")
    for note in worker_warnings(client):
        console.print(f"[yellow]note: {note}[/]")
    interrupted = False
    with progress:
        try:
            execute(plan, client, on_record)
        except KeyboardInterrupt:
            interrupted = True
    if state["reused"]:
        console.print(f"reused {_count(state['reused'], 'finished run')} from {plan.out_dir}")
    return interrupted


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fmt_ci(mean: Any, half: Any, digits: int) -> str:
    if mean is None:
        return "n/a"
    text = f"{mean:.{digits}f}"
    return text if half is None else f"{text} ± {half:.{digits}f}"


def _finish(console: Console, plan: SweepPlan, records: Sequence[RunRecord],
            interrupted: bool) -> int:
    failed = [r for r in records if not r.ok]
    if interrupted:
        console.print(f"[yellow]interrupted: {len(records)} of "
                      f"{len(plan.points) * len(plan.seeds)} runs tabulated in "
                      f"{plan.out_dir / 'results.csv'}; run the same command again to resume[/]",
                      soft_wrap=True)
        return EXIT_INTERRUPTED
    if failed:
        console.print(f"[red]{_count(len(failed), 'run')} failed[/]; see the status and error "
                      f"columns of {plan.out_dir / 'runs.csv'} (tracebacks in each run's "
                      "error.txt)")
        return EXIT_FAIL
    return EXIT_OK


def _n_cell(row: dict[str, Any]) -> str:
    n = str(row["n_seeds"])
    return n + (f" ({row['n_failed']} failed)" if row["n_failed"] else "")


_SWEEP_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("prr_100m", "PRR 100 m", 3), ("prr_300m", "PRR 300 m", 3),
    ("latency_p95_ms", "lat p95 ms", 1), ("cbr_mean", "CBR", 3),
    ("real_time_factor", "RTF", 2),
)


#: Outcome columns of the default table when the runs have them: (name, heading, digits).
_OUTCOME_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("collisions", "collisions", 2), ("applications.crossing.collisions", "crossing coll.", 2),
    ("safety.min_ttc_s", "min TTC s", 2),
    *((k, h, d) for app in APP_NAMES for k, h, d in (
        (f"applications.{app}.warnings", f"{app.upper()} warnings", 1),
        (f"applications.{app}.lead_time_s.p50", f"{app.upper()} lead p50 s", 2))),
)


def parse_metrics(text: str | None) -> list[str] | None:
    """`--metrics a,b,c` -> KPI names (None: the default columns); an unknown name is bad input
    that lists the closest names."""
    if text is None:
        return None
    import difflib

    from sim.core.errors import V2xSimError

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise V2xSimError("--metrics: expected one or more KPI names separated by commas")
    for n in names:
        if n not in KPI_BY_NAME:
            close = difflib.get_close_matches(n, list(KPI_BY_NAME), n=4, cutoff=0.4)
            hint = f"closest: {', '.join(close)}" if close else \
                f"e.g. {', '.join(list(KPI_BY_NAME)[:6])}"
            raise V2xSimError(f"--metrics {n!r}: no such KPI ({hint}; all of them: "
                              "README, Sweeps)")
    return names


def _table_columns(rows: Sequence[dict[str, Any]],
                   metrics: list[str] | None) -> list[tuple[str, str, int]]:
    if metrics is not None:
        return [(m, m, 3) for m in metrics]
    present = [c for c in _OUTCOME_COLUMNS if any(r.get(f"{c[0]}_mean") is not None for r in rows)]
    return [*_SWEEP_COLUMNS, *present]


def _sweep_table(plan: SweepPlan, rows: Sequence[dict[str, Any]],
                 metrics: list[str] | None = None) -> Any:
    from rich.table import Table

    keys = [k for k, _ in plan.points[0].assignment] if plan.points else []
    columns = _table_columns(rows, metrics)
    t = Table(title=f"sweep results (mean ± 95 % CI over seeds 1..{len(plan.seeds)})")
    t.add_column("point")
    for k in keys:
        t.add_column(k.rsplit(".", 1)[-1], justify="right")
    t.add_column("n", justify="right")
    for _, label, _ in columns:
        t.add_column(label, justify="right")
    for r in rows:
        cells = [r["point_id"], *(str(r.get(k)) for k in keys), _n_cell(r)]
        cells += [_fmt_ci(r.get(f"{k}_mean"), r.get(f"{k}_ci95"), d) for k, _, d in columns]
        t.add_row(*cells, style="red" if r["status"] != "ok" else None)
    return t


def cmd_sweep(args: argparse.Namespace) -> int:
    """`v2xsim sweep`: validate, run on Dask, write runs.csv and results.csv."""
    from rich.console import Console

    from sim.core.errors import V2xSimError
    from sim.sweep.grid import expand_grid, parse_grid
    from sim.sweep.results import point_rows, write_tables
    from sim.sweep.sweep import plan_sweep

    console = Console(stderr=True)
    try:
        _check_execution_args(args)
        metrics = parse_metrics(args.metrics)
        axes = parse_grid(args.grid)
        points = expand_grid(axes)
        one_per_value = [[ov] for axis in axes for ov in axis.overrides()]
        plan = plan_sweep(args.scenario, points, args.seeds, args.until, args.out,
                          args.overrides, validate_sets=one_per_value)
        records, interrupted = _run_plan(plan, args, console, "sweep")
    except V2xSimError as exc:
        return _bad_input(str(exc))
    paths = write_tables(plan, records)
    if not interrupted:  # interrupted: one line, from _finish
        _stdout().print(_sweep_table(plan, point_rows(plan, records), metrics))
        console.print("tables: " + ", ".join(str(p) for p in paths))
    return _finish(console, plan, records, interrupted)


_BENCH_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("latency_p50_ms", "p50 ms", 1), ("latency_p95_ms", "p95 ms", 1),
    ("latency_p99_ms", "p99 ms", 1), ("prr_100m", "PRR 100 m", 3), ("prr_300m", "PRR 300 m", 3),
    ("cbr_mean", "CBR", 3), ("vehicles_simulated", "vehicles", 0), ("real_time_factor", "RTF", 2),
    ("wall_time_s", "wall s", 1), ("peak_rss_mb", "RSS MB", 0),
    ("link_evals_per_s", "Mlinks/s", 2),
)


def _bench_table(title: str, load_label: str, rows: Sequence[dict[str, Any]]) -> Any:
    from rich.table import Table

    t = Table(title=title)
    t.add_column("series")
    t.add_column(load_label, justify="right")
    t.add_column("n", justify="right")
    for _, label, _ in _BENCH_COLUMNS:
        t.add_column(label, justify="right")
    for r in rows:
        cells = [str(r.get("series") or ""), f"{r['load']:g}", _n_cell(r)]
        for k, _, d in _BENCH_COLUMNS:
            mean, half = r.get(f"{k}_mean"), r.get(f"{k}_ci95")
            if k == "link_evals_per_s" and mean is not None:
                mean, half = mean / 1e6, (None if half is None else half / 1e6)
            cells.append(_fmt_ci(mean, half, d))
        t.add_row(*cells, style="red" if r["status"] != "ok" else None)
    return t


def cmd_bench(args: argparse.Namespace) -> int:
    """`v2xsim bench latency`: a configuration's load levels x seeds, then CSV, plots, table."""
    from rich.console import Console

    from sim.core.errors import V2xSimError
    from sim.scenario.loader import load_scenario
    from sim.sweep.config import load_config
    from sim.sweep.latency import latency_rows, plan_latency, write_latency_csv
    from sim.sweep.plots import plot_all
    from sim.sweep.results import write_tables

    console = Console(stderr=True)
    try:
        _check_execution_args(args)
        config = load_config(args.config)
        plan = plan_latency(args.scenario, config, args.seeds, args.until, args.out, args.overrides)
        spec = load_scenario(plan.scenario, list(plan.fixed_overrides), duration_s=args.until).spec
        if config.scenario and config.scenario != spec.name:
            console.print(f"[yellow]note: configuration {config.name} was written for "
                          f"{config.scenario}; running it on {spec.name}[/]")
        records, interrupted = _run_plan(plan, args, console, f"bench latency {config.name}")
    except V2xSimError as exc:
        return _bad_input(str(exc))
    write_tables(plan, records)
    rows = latency_rows(plan, records)
    csv_path = write_latency_csv(plan.out_dir, rows)
    until = f"{args.until:g} s" if args.until else f"{spec.duration_s:g} s"
    title = f"{spec.name}, {config.name} ({until} simulated per run)"
    pngs = plot_all(rows, plan.out_dir, load_label=config.load_label, title=title,
                    n_seeds=len(plan.seeds))
    _stdout().print(_bench_table(f"{title}: mean ± 95 % CI over {len(plan.seeds)} seeds",
                             config.load_label, rows))
    console.print(f"table: {csv_path}")
    console.print("plots: " + ", ".join(p.name for p in pngs))
    return _finish(console, plan, records, interrupted)


def main(argv: list[str] | None = None, prog: str = "v2xsim") -> int:
    """A stand-alone entry (`python -m sim.sweep.cli ...`) until `sim.cli` wires the commands."""
    parser = argparse.ArgumentParser(prog=prog)
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())


def _fmt_num(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, int) or float(v).is_integer() and abs(float(v)) >= 10:
        return f"{v:.0f}"
    return f"{v:.{digits}g}" if abs(float(v)) < 1e-3 and v != 0 else f"{v:.{digits}f}"


def _pm(mean: Any, half: Any) -> str:
    text = _fmt_num(mean)
    return text if half is None or mean is None else f"{text} ± {_fmt_num(half)}"


def cmd_compare(args: argparse.Namespace) -> int:
    """`v2xsim compare A B`: outcomes side by side with the difference and its CI."""
    from rich.table import Table

    from sim.core.errors import V2xSimError
    from sim.sweep.compare import compare, load_side, write_json

    try:
        metrics = parse_metrics(args.metrics)
        a, b = load_side(args.a), load_side(args.b)
        rows = compare(a, b, metrics)
        if args.json is not None:
            write_json(args.json, rows, args.a, args.b)
    except V2xSimError as exc:
        return _bad_input(str(exc))
    except OSError as exc:
        return _bad_input(f"{exc.filename}: {exc.strerror}")
    paired = any(r.paired for r in rows)
    how = ("paired over common seeds" if paired else "Welch" if min(len(a), len(b)) >= 2
           else "no CI with one seed a side (sweep --seeds N for one)")
    t = Table(title=f"A = {args.a} ({len(a)} seed{'s' if len(a) != 1 else ''})  vs  "
                    f"B = {args.b} ({len(b)} seed{'s' if len(b) != 1 else ''}); "
                    f"B - A: {how}, 95 % CI")
    for col, just in (("KPI", "left"), ("A", "right"), ("B", "right"), ("B - A", "right"),
                      ("significant", "center")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        sig = r.significant
        t.add_row(r.kpi.name, _pm(r.a, r.a_ci), _pm(r.b, r.b_ci), _pm(r.diff, r.diff_ci),
                  "n/a" if sig is None else ("yes" if sig else "no"),
                  style="bold" if sig else None)
    _stdout().print(t)
    return EXIT_OK
