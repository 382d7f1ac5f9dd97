"""Which numbers a sweep reports per run, and where each comes from.

One table so that the per-run rows, the per-point means/CIs, the benchmark CSV and the plots all
agree on names. Sources: `summary.json` (simulated results, identical for identical inputs),
`manifest.json` (wall-clock timing) and `sweep_cost.json` (what the sweep worker measured around
the run: peak memory, radio link evaluations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kpi:
    name: str  # column stem, unit in the name
    source: str  # "summary", "manifest" or "cost"
    path: str  # dotted path inside that document
    label: str  # for tables and plot axes, with unit


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
)

KPI_BY_NAME = {k.name: k for k in KPIS}


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
