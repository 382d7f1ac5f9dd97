"""From run records to tables: one row per (point, seed) and one row per point with mean +- 95 % CI.

`runs.csv` keeps every run (status, error, every KPI) so nothing is hidden by averaging;
`results.csv` has, per point, the labels and grid values, how many seeds succeeded and failed, and
for each KPI `<kpi>_mean` and `<kpi>_ci95` (Student-t half-width across the successful seeds; empty
with a single seed). `results.parquet` holds the same table when pyarrow is importable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.io.rundir import write_csv
from sim.sweep.grid import SweepPoint
from sim.sweep.kpis import table_kpis
from sim.sweep.stats import mean_ci
from sim.sweep.sweep import SweepPlan
from sim.sweep.tasks import RunRecord

Row = dict[str, Any]


def _point_columns(points: Sequence[SweepPoint]) -> tuple[list[str], list[str]]:
    labels: list[str] = []
    keys: list[str] = []
    for p in points:
        labels += [k for k, _ in p.labels if k not in labels]
        keys += [k for k, _ in p.assignment if k not in keys]
    return labels, keys


def run_rows(plan: SweepPlan, records: Sequence[RunRecord]) -> list[Row]:
    """One row per (point, seed), in plan order."""
    by_id = {p.point_id: p for p in plan.points}
    labels, keys = _point_columns(plan.points)
    order = {(t.point_id, t.seed): i for i, t in enumerate(plan.tasks())}
    kpis = table_kpis([r.kpis for r in records])
    rows = []
    for r in sorted(records, key=lambda r: order[(r.point_id, r.seed)]):
        p = by_id[r.point_id]
        row: Row = {"point_id": r.point_id, "seed": r.seed}
        row |= {k: dict(p.labels).get(k) for k in labels}
        row |= {k: p.values.get(k) for k in keys}
        row |= {"status": r.status, "error": r.error, "reused": r.skipped}
        row |= {k.name: r.kpis.get(k.name) for k in kpis}
        row |= {"worker": r.worker, "run_dir": os.path.relpath(r.out_dir, plan.out_dir)}
        rows.append(row)
    return rows


def point_rows(plan: SweepPlan, records: Sequence[RunRecord]) -> list[Row]:
    """One row per point: labels, grid values, n_seeds (successful), n_failed, KPI mean and CI."""
    labels, keys = _point_columns(plan.points)
    kpis = table_kpis([r.kpis for r in records])
    rows = []
    for p in plan.points:
        mine = [r for r in records if r.point_id == p.point_id]
        ok = [r for r in mine if r.ok]
        failed = [r for r in mine if not r.ok]
        if failed:
            status = "failed" if not ok else "partial"
        else:
            status = "ok" if len(mine) == len(plan.seeds) else "incomplete"
        row: Row = {"point_id": p.point_id}
        row |= {k: dict(p.labels).get(k) for k in labels}
        row |= {k: p.values.get(k) for k in keys}
        row |= {"n_seeds": len(ok), "n_failed": len(failed), "status": status,
                "error": failed[0].error if failed else None}
        for k in kpis:
            ci = mean_ci(r.kpis.get(k.name) for r in ok)
            row[f"{k.name}_mean"] = ci.mean
            row[f"{k.name}_ci95"] = ci.half_width
        rows.append(row)
    return rows


def write_rows(path: Path, rows: Sequence[Row]) -> None:
    """CSV through the atomic run-directory writer; columns in first-seen order."""
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    write_csv(path, header, ([_cell(row.get(k)) for k in header] for row in rows))


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, dict)):
        from sim.sweep.grid import format_value

        return format_value(v)
    return v


def write_parquet(path: Path, rows: Sequence[Row]) -> bool:
    """Writes a Parquet copy when pyarrow is importable; returns whether it did."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    cols: dict[str, list[Any]] = {}
    for row in rows:
        for k in row:
            cols.setdefault(k, [])
    for row in rows:
        for k, col in cols.items():
            v = row.get(k)
            col.append(_cell(v) if isinstance(v, (list, dict)) else v)
    table = pa.table({k: _arrow_column(pa, k, v) for k, v in cols.items()})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return True


_TEXT_COLUMNS = {"point_id", "series", "status", "error", "worker", "run_dir"}


def _arrow_column(pa: Any, name: str, values: list[Any]) -> Any:
    """Typed columns: all-missing KPIs stay float64 (not Arrow's null type), text stays text, and
    grid values that mix ints and floats (or strings) are widened rather than rejected."""
    if all(v is None for v in values):
        return pa.array(values, type=pa.string() if name in _TEXT_COLUMNS else pa.float64())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {int, float}:
            return pa.array([None if v is None else float(v) for v in values])
        return pa.array([None if v is None else str(v) for v in values])


def write_tables(plan: SweepPlan, records: Sequence[RunRecord]) -> list[Path]:
    """`runs.csv`, `results.csv` and (with pyarrow) `results.parquet` in the sweep directory."""
    out = plan.out_dir
    out.mkdir(parents=True, exist_ok=True)
    written = []
    write_rows(out / "runs.csv", run_rows(plan, records))
    written.append(out / "runs.csv")
    points = point_rows(plan, records)
    write_rows(out / "results.csv", points)
    written.append(out / "results.csv")
    if write_parquet(out / "results.parquet", points):
        written.append(out / "results.parquet")
    return written
