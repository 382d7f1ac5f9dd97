"""The latency-under-load benchmark: a bench configuration swept with the sweep machinery.

It adds nothing to how runs are executed (same tasks, same Dask cluster, same resume); what it adds
is the configuration's load axis: points carry a numeric `load` and a `series` name, and the result
is `latency_vs_load.csv`, sorted by series then load, holding for every KPI (including the
simulator's own cost: real-time factor, wall time, peak RSS, link evaluations per second) the mean
and the 95 % CI half-width across seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.core.errors import ScenarioError
from sim.sweep.config import BenchConfig
from sim.sweep.errors import SweepError
from sim.sweep.results import Row, point_rows, write_rows
from sim.sweep.sweep import SweepPlan, plan_sweep, resolve_scenario, validate_overrides
from sim.sweep.tasks import RunRecord

CSV_NAME = "latency_vs_load.csv"


def plan_latency(scenario: str, config: BenchConfig, seeds: int, until_s: float | None,
                 out_dir: Path, extra_overrides: Sequence[str] = ()) -> SweepPlan:
    """Validates every point of `config` against `scenario`; errors name the config entry."""
    fixed = (*config.fixed_overrides, *extra_overrides)
    resolved = resolve_scenario(scenario)
    validate_overrides(resolved, fixed, [], until_s)  # the scenario and the fixed overrides
    for i, p in enumerate(config.points):
        try:
            validate_overrides(resolved, fixed, [p.overrides], until_s, flag=config.source)
        except ScenarioError as exc:
            labels = dict(p.labels)
            what = f"load {labels['load']}" + (f", {labels['series']}" if labels["series"] else "")
            raise SweepError(f"{config.source}: point {i + 1} ({what}): {exc}") from None
    return plan_sweep(scenario, config.points, seeds, until_s, out_dir, fixed, validate_sets=[])


def latency_rows(plan: SweepPlan, records: Sequence[RunRecord]) -> list[Row]:
    """Per-point rows with `series` and `load` first, sorted by series (config order) then load."""
    rows = point_rows(plan, records)
    series_order: dict[str, int] = {}
    for r in rows:
        series_order.setdefault(str(r.get("series", "")), len(series_order))
    first = ("series", "load")
    ordered = [{k: r.get(k) for k in first} | {k: v for k, v in r.items() if k not in first}
               for r in rows]
    return sorted(ordered, key=lambda r: (series_order[str(r["series"])], float(r["load"])))


def write_latency_csv(out_dir: Path, rows: Sequence[Row]) -> Path:
    path = out_dir / CSV_NAME
    write_rows(path, rows)
    return path
