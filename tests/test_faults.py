"""Scripted faults: RSU outage, backhaul degradation, edge failure with failover, GNSS error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from roadside.faults import GnssErrors
from roadside.network import roadside_of
from sim.core.engine import Engine
from sim.core.errors import ScenarioError
from sim.core.world import World
from sim.radio.medium import RadioBatch
from sim.runner import run_scenario
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from sim.spec.roadside import GnssErrorFault

NAME = "airport-expressway-edge-failover"


class _Watch:
    def __init__(self) -> None:
        self.rsu_nodes: dict[int, set[int]] = {}
        self.serving: dict[int, np.ndarray] = {}

    def on_start(self, world: World) -> None: ...
    def on_radio_batch(self, world: World, b: RadioBatch) -> None:
        self.rsu_nodes[b.t0_ms] = set(b.node_rsu[b.node_rsu >= 0].tolist())
        assert roadside_of(world) is not None
        self.serving[b.t0_ms] = roadside_of(world).serving_edge.copy()
    def on_step(self, world: World, now_ms: int) -> None: ...
    def on_end(self, world: World, now_ms: int, interrupted: bool) -> None: ...


@pytest.fixture(scope="module")
def run() -> tuple[World, _Watch]:
    world = build_world(load_scenario(NAME, ["output.trace.states=false"], duration_s=4.2))
    w = _Watch()
    Engine(world, [w]).run()
    return world, w


def test_rsu_outage_removes_the_rsu_from_the_air_and_counts_it(run: Any) -> None:
    world, w = run
    assert 12 in w.rsu_nodes[2900] and 12 not in w.rsu_nodes[3000]
    assert 12 not in w.rsu_nodes[4100]
    s = roadside_of(world).summary(4200.0)
    assert s["roadside"]["rsu_outage_s"] == pytest.approx(1.2, abs=0.001)


def test_edge_failure_fails_over_after_detection_to_the_nearest_live_edge(run: Any) -> None:
    world, w = run
    rs = roadside_of(world)
    k7 = [e.name for e in rs.edges].index("mec-k7")
    homed = np.flatnonzero(rs.home_edge == k7)
    assert len(homed) > 0
    # Failure at 2.5 s, detected 300 ms later: RSUs still point at the dead edge until 2.8 s.
    assert (w.serving[2780][homed] == k7).all()
    after = w.serving[2800][homed]
    assert (after != k7).all() and (after >= 0).all()
    d = np.linalg.norm(world.rsus.xy_m[homed][:, None] - rs.edge_xy_m[None], axis=2)
    d[:, k7] = np.inf
    np.testing.assert_array_equal(after, np.argmin(d, axis=1))
    s = rs.summary(4200.0)["edge"]
    assert s["failovers"] == len(homed)
    assert s["nodes"]["mec-k7"]["lost_failure"] > 0  # work in the detection window is lost
    assert s["tasks_rerouted"] > 0


def test_backhaul_spike_shows_in_the_backhaul_hop(run: Any) -> None:
    world, _ = run
    st = roadside_of(world).hops.stats("rsu_edge", "backhaul_up")
    assert st["p50_ms"] <= 2.0 and st["p99_ms"] >= 20.0  # +20 ms on RSUs 0-5 from 3.5 s
    assert roadside_of(world).backhaul.stats["up"].lost > 0


def test_gnss_error_hits_the_configured_share_with_the_configured_sigma() -> None:
    g = GnssErrors([GnssErrorFault(kind="gnss-error", share=0.2, sigma_m=5.0, at_s=1.0, until_s=2.0)], 7)
    vid = np.arange(20_000)
    assert not g(vid, 500).any()  # before the fault
    err = g(vid, 1500)
    hit = np.any(err != 0.0, axis=1)
    assert abs(hit.mean() - 0.2) < 0.015
    assert abs(err[hit].std() - 5.0) < 0.15
    np.testing.assert_array_equal(err, g(vid, 1900))  # same 1 s epoch: the same error
    assert not g(vid, 2000).any()  # recovered


def test_the_fault_scenario_reports_the_effects(tmp_path: Path) -> None:
    out = run_scenario(load_scenario(NAME, ["output.trace.states=false"], duration_s=4.0),
                       tmp_path / "run")
    s = out.summary
    assert s["edge"]["failovers"] >= 1 and s["roadside"]["gnss_degraded_reports"] > 0
    assert s["messages"]["latency"]["e2e"]["sensor_edge"]["samples"] > 0
    assert (tmp_path / "run" / "latency_per_hop.csv").exists()
    assert "latency_per_hop.csv" in out.manifest["outputs"]


@pytest.mark.parametrize("override, key", [
    (["faults=[{kind: edge-failure, edge: nope, at_s: 1}]"], "faults[0].edge"),
    (["faults=[{kind: rsu-outage, rsus: [99], at_s: 1}]"], "faults[0].rsus"),
])
def test_bad_fault_references_are_scenario_errors(override: list[str], key: str) -> None:
    with pytest.raises(ScenarioError) as err:
        build_world(load_scenario(NAME, override))
    assert key in str(err.value)


def test_explicit_rsu_assignment_overrides_the_nearest_edge() -> None:
    nodes = ("edge.nodes=[{id: a, position: {lat: 43.90344, lon: 125.48605}, rsus: %s},"
             " {id: b, position: {lat: 43.95888, lon: 125.64681}}]")
    world = build_world(load_scenario(NAME, [nodes % "[20, 21]", "faults=[]"], duration_s=1.0))
    assert roadside_of(world) is not None
    home = roadside_of(world).home_edge
    assert home[20] == 0 and home[21] == 0  # explicit, although b is nearer
    assert home[19] == 1 and home[0] == 0  # the others: nearest
    with pytest.raises(ScenarioError) as err:
        build_world(load_scenario(NAME, [nodes % "[99]", "faults=[]"]))
    assert "edge.nodes[0].rsus" in str(err.value)
