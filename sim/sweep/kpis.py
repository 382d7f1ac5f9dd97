"""Which numbers a sweep reports per run, and where each comes from.

One table so that the per-run rows, the per-point means/CIs, the benchmark CSV and the plots all
agree on names. Sources: `summary.json` (simulated results, identical for identical inputs),
`manifest.json` (wall-clock timing) and `sweep_cost.json` (what the sweep worker measured around
the run: peak memory, radio link evaluations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kpi:
    name: str  # column stem, unit in the name
    source: str  # "summary", "manifest" or "cost"
    path: str  # dotted path inside that document
    label: str  # for tables and plot axes, with unit
    #: An outcome only some scenarios have (an application's warnings): its column appears when
    #: a run of the table has a value.
    optional: bool = False


#: The applications whose outcomes a table can carry (vehicles.apps.manager.APP_NAMES).
APP_NAMES = ("ebw", "fcw", "icw", "rlvw", "vrucw", "evw", "slw", "tjw", "glosa")

#: Safety and service outcomes, named after their summary.json keys (`--metrics` takes them).
OUTCOME_KPIS: tuple[Kpi, ...] = (
    Kpi("safety.near_misses", "summary", "safety.near_misses", "near misses (TTC < 1.5 s)"),
    Kpi("safety.min_ttc_s", "summary", "safety.min_ttc_s", "minimum TTC (s)"),
    Kpi("safety.hard_braking_events", "summary", "safety.hard_braking_events",
        "hard-braking events"),
    Kpi("red_light_violations", "summary", "red_light_violations", "red-light violations"),
    Kpi("applications.crossing.collisions", "summary", "applications.crossing.collisions",
        "crossing collisions", optional=True),
    Kpi("applications.crossing.near_misses", "summary", "applications.crossing.near_misses",
        "crossing near misses (PET)", optional=True),
    Kpi("applications.warnings_total", "summary", "applications.warnings_total",
        "warnings (all applications)"),
    *(k for app in APP_NAMES for k in (
        Kpi(f"applications.{app}.warnings", "summary", f"applications.{app}.warnings",
            f"{app.upper()} warnings", optional=True),
        Kpi(f"applications.{app}.lead_time_s.p5", "summary", f"applications.{app}.lead_time_s.p5",
            f"{app.upper()} lead time p5 (s)", optional=True),
        Kpi(f"applications.{app}.lead_time_s.p50", "summary",
            f"applications.{app}.lead_time_s.p50", f"{app.upper()} lead time p50 (s)",
            optional=True),
        Kpi(f"applications.{app}.mean_latency_ms", "summary",
            f"applications.{app}.mean_latency_ms", f"{app.upper()} warning latency mean (ms)",
            optional=True))),
)

KPIS: tuple[Kpi, ...] = (
    Kpi("prr_100m", "summary", "messages.prr.at_100m", "PRR at 100 m"),
    Kpi("prr_300m", "summary", "messages.prr.at_300m", "PRR at 300 m"),
    Kpi("latency_p50_ms", "summary", "messages.latency.bsm.p50_ms", "BSM latency p50 (ms)"),
    Kpi("latency_p95_ms", "summary", "messages.latency.bsm.p95_ms", "BSM latency p95 (ms)"),
    Kpi("latency_p99_ms", "summary", "messages.latency.bsm.p99_ms", "BSM latency p99 (ms)"),
    Kpi("cbr_mean", "summary", "messages.cbr.mean", "channel busy ratio (mean)"),
    Kpi("collisions", "summary", "collisions", "collisions"),
    Kpi("vehicles_simulated", "summary", "vehicles.simulated", "vehicles simulated"),
    Kpi("real_time_factor", "manifest", "real_time_factor", "real-time factor (sim s / wall s)"),
    Kpi("wall_time_s", "manifest", "wall_time_s", "wall time (s)"),
    Kpi("peak_rss_mb", "cost", "peak_rss_mb", "peak RSS (MB)"),
    Kpi("link_evals_per_s", "cost", "link_evals_per_s", "link evaluations per wall second"),
    *OUTCOME_KPIS,
)

KPI_BY_NAME = {k.name: k for k in KPIS}


def table_kpis(kpis_per_run: Sequence[Mapping[str, Any]]) -> list[Kpi]:
    """The KPIs a table of these runs carries: every always-present one, and each optional one
    that at least one run has (a disabled application's columns would be empty)."""
    return [k for k in KPIS if not k.optional
            or any(r.get(k.name) is not None for r in kpis_per_run)]


def _get(doc: Mapping[str, Any] | None, dotted: str) -> float | int | None:
    node: Any = doc
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        return None
    if isinstance(node, float) and not math.isfinite(node):
        return None
    return node  # ints stay ints (counts), so the per-run table shows 3, not 3.000000


def extract_kpis(summary: Mapping[str, Any] | None, manifest: Mapping[str, Any] | None,
                 cost: Mapping[str, Any] | None) -> dict[str, float | int | None]:
    """Every KPI of one run; None where the run has no such number (e.g. no samples at 300 m)."""
    docs = {"summary": summary, "manifest": manifest, "cost": cost}
    return {k.name: _get(docs[k.source], k.path) for k in KPIS}
