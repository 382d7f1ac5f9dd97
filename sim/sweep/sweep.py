"""Planning and executing a sweep: validate everything up front, skip what is done, run the rest.

Layout of a sweep directory:

    DIR/sweep.json                      what was asked (scenario, points, seeds, overrides)
    DIR/points/<point-id>/point.json    the point's assignment and override strings
    DIR/points/<point-id>/seed-<k>/     an ordinary run directory (summary.json, manifest.json, ...)
    DIR/runs.csv, DIR/results.csv       written by `sim.sweep.results`

Seeds: `seeds` replaces the scenario's own `seed` key, so seed k of every point is comparable
across points (common random numbers) and across scenarios.

Validation happens in the client before any task is submitted: the scenario is loaded once with
the fixed overrides and once with each grid value (not each combination, which could be huge), so
a typo in a key fails in a second with a one-line error. What only the world builder can detect
(e.g. a message too large for the channel) fails in the worker and becomes a failed run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from sim.core.errors import ScenarioError
from sim.io.rundir import write_json
from sim.scenario.loader import SCENARIO_SUFFIXES, find_scenario, load_scenario
from sim.sweep.errors import SweepError
from sim.sweep.grid import SweepPoint, check_unique_ids
from sim.sweep.tasks import SUMMARY, RunRecord, RunTask, failed_record, finished_record, run_point


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: which scenario, which points, which seeds, where the runs go."""

    scenario: str  # built-in name or absolute path, as the workers will load it
    points: tuple[SweepPoint, ...]
    seeds: tuple[int, ...]
    until_s: float | None
    out_dir: Path
    fixed_overrides: tuple[str, ...] = ()

    def run_dir(self, point_id: str, seed: int) -> Path:
        return self.out_dir / "points" / point_id / f"seed-{seed}"

    def task(self, point: SweepPoint, seed: int) -> RunTask:
        return RunTask(self.scenario, self.fixed_overrides + point.overrides, seed, self.until_s,
                       str(self.run_dir(point.point_id, seed)), point.point_id)

    def tasks(self) -> list[RunTask]:
        """Point-major order: all seeds of the first point, then the next point."""
        return [self.task(p, s) for p in self.points for s in self.seeds]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "seeds": list(self.seeds), "until_s": self.until_s,
            "fixed_overrides": list(self.fixed_overrides),
            "points": [_point_json(p) for p in self.points],
        }


def _point_json(p: SweepPoint) -> dict[str, Any]:
    return {"point_id": p.point_id, "assignment": p.values, "overrides": list(p.overrides),
            "labels": dict(p.labels)}


def resolve_scenario(name_or_path: str) -> str:
    """Built-in names stay names (workers find them in their installed package); files become
    absolute paths (workers may have another working directory). Raises `ScenarioError`."""
    path = find_scenario(name_or_path)
    given = Path(name_or_path)
    is_file = given.suffix in SCENARIO_SUFFIXES or given.exists()  # as find_scenario decides
    return str(path.resolve()) if is_file else name_or_path


def validate_overrides(scenario: str, fixed: Sequence[str], override_sets: Iterable[Sequence[str]],
                       until_s: float | None, flag: str = "--grid") -> None:
    """Loads the scenario with the fixed overrides, then with each set; the first problem raises.

    Key-path problems the loader reports under `--set` are relabelled with `flag`, so the message
    names the option the user actually typed.
    """
    load_scenario(scenario, list(fixed), duration_s=until_s)
    for overrides in override_sets:
        try:
            load_scenario(scenario, [*fixed, *overrides], duration_s=until_s)
        except ScenarioError as exc:
            if exc.source == "--set":  # the fixed overrides passed above: the set is at fault
                raise ScenarioError(flag, exc.key_path, exc.message) from None
            raise


def plan_sweep(scenario: str, points: Sequence[SweepPoint], seeds: int, until_s: float | None,
               out_dir: Path, fixed_overrides: Sequence[str] = (),
               validate_sets: Iterable[Sequence[str]] | None = None,
               flag: str = "--grid") -> SweepPlan:
    """Checks the arguments and the overrides, and returns the plan (nothing is written yet).

    `validate_sets` are the override sets to try (default: each point's full set); a grid sweep
    passes one set per grid value instead of one per combination.
    """
    if seeds < 1:
        raise SweepError(f"--seeds must be at least 1 (got {seeds})")
    if until_s is not None and until_s <= 0:
        raise SweepError(f"--until must be a positive number of seconds (got {until_s:g})")
    if out_dir.exists() and not out_dir.is_dir():
        raise SweepError(f"--out {out_dir}: exists and is not a directory")
    if not points:
        raise SweepError("no points to run")
    check_unique_ids(points)
    if until_s is not None and any("duration_s" in p.values for p in points):
        raise SweepError("--until fixes every run's duration; drop it to sweep duration_s")
    resolved = resolve_scenario(scenario)
    sets = validate_sets if validate_sets is not None else [p.overrides for p in points]
    validate_overrides(resolved, fixed_overrides, sets, until_s, flag)
    return SweepPlan(resolved, tuple(points), tuple(range(1, seeds + 1)), until_s,
                     out_dir.resolve(), tuple(fixed_overrides))


def write_plan(plan: SweepPlan) -> None:
    """Records what was asked, so a sweep directory explains itself."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    write_json(plan.out_dir / "sweep.json", plan.to_json())
    for p in plan.points:
        d = plan.out_dir / "points" / p.point_id
        d.mkdir(parents=True, exist_ok=True)
        write_json(d / "point.json", _point_json(p))


def _expected_hash(task: RunTask) -> str | None:
    try:
        loaded = load_scenario(task.scenario, list(task.overrides), seed=task.seed,
                               duration_s=task.until_s)
    except ScenarioError:
        return None
    return loaded.scenario_hash()


def already_finished(task: RunTask) -> RunRecord | None:
    """A finished run of exactly this scenario, read back from disk; None if it must run."""
    if not (Path(task.out_dir) / SUMMARY).exists():
        return None
    expected = _expected_hash(task)
    return finished_record(task, expected) if expected is not None else None


def execute(plan: SweepPlan, client: Any | None,
            on_record: Callable[[RunRecord], None] = lambda r: None) -> list[RunRecord]:
    """Runs every (point, seed) not already finished; returns all records in plan order.

    With a Dask `client` the runs are submitted as tasks and collected as they complete; with
    `client=None` they run here, one after the other (the serial reference the tests compare
    against). `on_record` sees each record as it arrives, skipped ones first. On an interrupt the
    pending tasks are cancelled and the exception propagates; finished runs stay on disk.
    """
    order = {(t.point_id, t.seed): i for i, t in enumerate(plan.tasks())}
    records: list[RunRecord] = []
    pending: list[RunTask] = []
    for task in plan.tasks():
        done = already_finished(task)
        if done is not None:
            records.append(done)
            on_record(done)
        else:
            pending.append(task)
    if client is None:
        for task in pending:
            rec = run_point(task)
            records.append(rec)
            on_record(rec)
    else:
        records += _execute_on(client, pending, on_record)
    return sorted(records, key=lambda r: order[(r.point_id, r.seed)])


def _execute_on(client: Any, tasks: list[RunTask],
                on_record: Callable[[RunRecord], None]) -> list[RunRecord]:
    from distributed import as_completed

    tag = uuid4().hex[:8]
    futures = {
        client.submit(run_point, t, key=f"v2xsim-run-{t.point_id}-seed{t.seed}-{tag}", pure=False,
                      retries=0): t
        for t in tasks
    }
    out: list[RunRecord] = []
    try:
        for fut in as_completed(list(futures)):
            try:
                rec = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the run's process died
                rec = failed_record(futures[fut], exc)
            out.append(rec)
            on_record(rec)
    except BaseException:
        client.cancel(list(futures))
        raise
    return out
