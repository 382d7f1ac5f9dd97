"""`v2xsim compare A B`: two designs' outcomes side by side, with the difference and its CI.

A side is a run directory (one seed), a sweep point directory (`points/<id>/`, one run per seed)
or a sweep directory with a single point. With seeds on both sides the difference B - A gets a
95 % confidence interval: paired over the seeds both sides ran (the built-in with/without-V2X
pairs and sweep points share traffic per seed: common random numbers, so the pairing removes the
traffic's variance from the comparison), Welch's otherwise. "significant" means the interval
excludes 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.errors import V2xSimError
from sim.sweep.kpis import KPI_BY_NAME, Kpi, extract_kpis, table_kpis
from sim.sweep.stats import mean_ci, t_quantile

#: The runs of one side, by seed.
Side = dict[int, dict[str, float | int | None]]


class CompareError(V2xSimError):
    """A side that is not a run, a sweep point or a one-point sweep; the message says why."""


@dataclass(frozen=True)
class Row:
    kpi: Kpi
    a: float | None
    a_ci: float | None
    b: float | None
    b_ci: float | None
    diff: float | None
    diff_ci: float | None
    paired: bool
    n_a: int
    n_b: int

    @property
    def significant(self) -> bool | None:
        if self.diff is None or self.diff_ci is None:
            return None
        return abs(self.diff) > self.diff_ci


def _read_json(path: Path) -> dict[str, Any] | None:
    from sim.io.rundir import read_json

    doc = read_json(path)
    return doc if isinstance(doc, dict) else None


def _run(run_dir: Path) -> tuple[int, dict[str, float | int | None]]:
    summary = _read_json(run_dir / "summary.json")
    if summary is None:
        raise CompareError(f"{run_dir}: no readable summary.json (is it a finished run?)")
    seed = summary.get("seed")
    return (int(seed) if isinstance(seed, int) else 0,
            extract_kpis(summary, _read_json(run_dir / "manifest.json"),
                         _read_json(run_dir / "sweep_cost.json")))


def load_side(path: Path) -> Side:
    """Every run of one side, by seed (see the module doc for what a side can be)."""
    p = Path(path)
    if not p.is_dir():
        raise CompareError(f"{p}: not a directory (expected a run directory, a sweep point "
                           "directory points/<id>/ or a sweep directory)")
    if (p / "summary.json").exists():
        seed, kpis = _run(p)
        return {seed: kpis}
    seeds = sorted(d for d in p.glob("seed-*") if (d / "summary.json").exists())
    if seeds:
        return dict(_run(d) for d in seeds)
    points = sorted(d for d in (p / "points").glob("*") if d.is_dir()) if (p / "points").is_dir() \
        else []
    if len(points) == 1:
        return load_side(points[0])
    if points:
        listed = ", ".join(d.name for d in points[:6]) + (" ..." if len(points) > 6 else "")
        raise CompareError(f"{p}: a sweep of {len(points)} points; compare two of them, e.g. "
                           f"{p / 'points' / points[0].name} (points: {listed})")
    raise CompareError(f"{p}: no summary.json, no seed-*/ runs and no points/: not a run or sweep")


def compare(a: Side, b: Side, metrics: Sequence[str] | None = None) -> list[Row]:
    """One row per KPI: each side's mean (+- 95 % CI over its seeds) and B - A with its CI."""
    kpis = ([KPI_BY_NAME[m] for m in metrics] if metrics is not None
            else [k for k in table_kpis([*a.values(), *b.values()]) if k.source == "summary"])
    common = sorted(set(a) & set(b))
    rows = []
    for k in kpis:
        ca = mean_ci(r.get(k.name) for r in a.values())
        cb = mean_ci(r.get(k.name) for r in b.values())
        diff = None if ca.mean is None or cb.mean is None else cb.mean - ca.mean
        diff_ci: float | None = None
        pairs = [(a[s].get(k.name), b[s].get(k.name)) for s in common]
        pairs_ok = [(x, y) for x, y in pairs if _finite(x) and _finite(y)]
        paired = len(pairs_ok) >= 2 and len(pairs_ok) == max(ca.n, cb.n)
        if paired:
            d = mean_ci(float(y) - float(x) for x, y in pairs_ok)  # type: ignore[arg-type]
            diff, diff_ci = d.mean, d.half_width
        elif ca.n >= 2 and cb.n >= 2 and diff is not None:
            diff_ci = _welch_half_width([r.get(k.name) for r in a.values()],
                                        [r.get(k.name) for r in b.values()])
        rows.append(Row(k, ca.mean, ca.half_width, cb.mean, cb.half_width, diff, diff_ci,
                        paired, ca.n, cb.n))
    return rows


def _finite(v: Any) -> bool:
    return v is not None and math.isfinite(float(v))


def _welch_half_width(xs: Sequence[Any], ys: Sequence[Any]) -> float | None:
    x = [float(v) for v in xs if _finite(v)]
    y = [float(v) for v in ys if _finite(v)]
    nx, ny = len(x), len(y)
    mx, my = sum(x) / nx, sum(y) / ny
    vx = sum((v - mx) ** 2 for v in x) / (nx - 1) / nx
    vy = sum((v - my) ** 2 for v in y) / (ny - 1) / ny
    if vx + vy == 0.0:
        return 0.0
    df = (vx + vy) ** 2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    # Integer degrees of freedom, rounded down: the interval is at worst slightly conservative.
    return t_quantile(0.975, max(1, math.floor(df))) * math.sqrt(vx + vy)


def rows_as_json(rows: Sequence[Row]) -> list[Mapping[str, Any]]:
    return [{"kpi": r.kpi.name, "a_mean": r.a, "a_ci95": r.a_ci, "b_mean": r.b, "b_ci95": r.b_ci,
             "diff": r.diff, "diff_ci95": r.diff_ci, "paired": r.paired,
             "significant": r.significant, "n_a": r.n_a, "n_b": r.n_b} for r in rows]


def write_json(path: Path, rows: Sequence[Row], a: Path, b: Path) -> None:
    from sim.io.rundir import write_atomic

    write_atomic(path, json.dumps({"a": str(a), "b": str(b), "rows": rows_as_json(rows)},
                                  indent=2, ensure_ascii=False) + "\n")
