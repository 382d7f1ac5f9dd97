"""Roadside/edge results into summary.json and CSVs: per-hop latency, edge KPIs, faults' effect.

`summary.json` always has `edge` and `roadside` sections (null without a roadside network), and
`messages.latency` gains `e2e` and `hops` per message path, so expectations can say e.g.
`latency.e2e.rsu_edge.p99_ms`, `latency.hops.sensor_edge.edge_queue.p95_ms`, `edge.utilisation`,
`edge.dropped`, `edge.failovers`, `roadside.downlink.spat`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from roadside.network import roadside_of
from sim.io.rundir import write_csv
from sim.metrics.hops import ROWS_HEADER

if TYPE_CHECKING:
    from sim.core.world import World

OUTPUT_FILES = ("latency_per_hop.csv", "edge_nodes.csv")
EDGE_COLUMNS = ["edge", "cores", "tasks", "served", "dropped_queue_full", "dropped_deadline",
                "lost_failure", "rerouted_in", "utilisation", "queue_mean", "queue_max", "down_s"]


def add_roadside_summary(summary: dict[str, Any], world: World, sim_ms: float) -> None:
    rs = roadside_of(world)
    summary["edge"] = None
    summary["roadside"] = None
    if rs is None:
        return
    summary.update(rs.summary(sim_ms))
    latency = summary.setdefault("messages", {}).setdefault("latency", {})
    latency.update(rs.hops.summary())


def write_roadside_outputs(out_dir: Path, world: World, summary: dict[str, Any]) -> list[str]:
    """Writes the CSVs (when there is a roadside network); returns the file names written."""
    rs = roadside_of(world)
    if rs is None:
        return []
    write_csv(out_dir / "latency_per_hop.csv", ROWS_HEADER, rs.hops.rows())
    nodes = (summary.get("edge") or {}).get("nodes", {})
    write_csv(out_dir / "edge_nodes.csv", EDGE_COLUMNS,
              [(name, *(v[k] for k in EDGE_COLUMNS[1:])) for name, v in nodes.items()])
    return list(OUTPUT_FILES)
