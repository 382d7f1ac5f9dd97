"""VRUs crossing at signals: their table, walk phases, jaywalking, vehicles yielding, conflicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.core.signals import GREEN, RED
from sim.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.helpers.fleets import ROUTES, SIGNAL, run_mobility, world_of
from tests.helpers.scenarios import tiny_scenario
from vehicles.pedestrians import COLUMNS, CROSSING, PedestrianTable


def test_world_pedestrians_is_none_without_vrus(tmp_path: Path) -> None:
    assert world_of(tmp_path).pedestrians is None


def test_table_has_the_contract_columns(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=ROUTES, signals=[SIGNAL], pedestrians={})
    assert isinstance(world.pedestrians, PedestrianTable)
    for name in ("id", "kind", "x_m", "y_m", "vx_mps", "vy_mps", "signal", "state"):
        assert name in COLUMNS


def test_compliant_vrus_cross_only_in_their_walk_phase_and_are_not_hit(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=ROUTES, signals=[SIGNAL],
                     pedestrians={"arrivals_per_h": 900, "violation_share": 0.0})
    vru = world.mobility.plan.vru
    assert vru is not None and world.pedestrians is vru.table
    t = vru.table
    starts_outside_walk = []
    crossing_before: set[int] = set()
    positions_ok = []

    def watch(now: int) -> None:
        nonlocal crossing_before
        crossing = set(t["id"][t["state"] == CROSSING].tolist())
        walk = vru.walk_phase(now)
        new = np.isin(t["id"], list(crossing - crossing_before))
        starts_outside_walk.extend(t["id"][new & ~walk[t["crosswalk"]]].tolist())
        crossing_before = crossing
        # Positions follow their crosswalk straight across the east-west road (north-south).
        cw = vru.crosswalks
        on_line = np.abs(t["x_m"] - cw.origin_xy_m[t["crosswalk"], 0]) < 1e-6
        across = np.abs(t["y_m"] - cw.origin_xy_m[t["crosswalk"], 1])
        near = across <= cw.width_m[t["crosswalk"]] + 3.0
        positions_ok.append(bool(np.all(on_line & near)))

    run_mobility(world, 180, watch)
    assert starts_outside_walk == [] and all(positions_ok)
    assert vru.stats.crossed > 10 and vru.stats.violations == 0
    assert vru.stats.collisions == 0 and world.mobility.safety.collisions == 0


def test_walk_phase_is_red_for_the_crossed_approach(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=ROUTES, signals=[SIGNAL], pedestrians={})
    vru = world.mobility.plan.vru
    assert vru is not None
    c = vru.crosswalks
    for now in range(0, 120_000, 1000):
        walk = vru.walk_phase(now)
        own = world.signals.colors(now, c.signal, c.group)  # type: ignore[union-attr]
        assert np.all(~walk | (own == RED))
        assert np.all(walk == ((own == RED) & (world.signals.colors(  # type: ignore[union-attr]
            now, c.signal, 1 - c.group) == GREEN)))


def test_jaywalkers_cross_on_red_and_vehicles_yield(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=ROUTES, signals=[SIGNAL],
                     pedestrians={"arrivals_per_h": 900, "violation_share": 1.0})
    run_mobility(world, 60)  # the axis group (these routes) is green: no walk phase yet
    vru = world.mobility.plan.vru
    assert vru is not None
    assert vru.stats.violations > 5 and world.mobility.stats.vru_yields > 0
    assert world.mobility.safety.collisions == 0


def test_summary_reports_vru_safety(tmp_path: Path) -> None:
    path = tiny_scenario(tmp_path, routes=ROUTES, signals=[SIGNAL], duration_s=20,
                         pedestrians={"arrivals_per_h": 600, "violation_share": 0.5})
    out = run_scenario(load_scenario(str(path), ["output.trace.states=false"]), tmp_path / "run")
    safety = out.summary["safety"]
    assert safety["vru"]["arrived"] > 0 and "vru_conflicts" in safety
    assert safety["vru_collisions"] >= 0


def test_pedestrians_need_signals_and_known_ids(tmp_path: Path) -> None:
    for extra, key in (({"pedestrians": {}}, "pedestrians"),
                       ({"signals": [SIGNAL], "pedestrians": {"signals": ["nope"]}},
                        "pedestrians.signals[0]")):
        with pytest.raises(ScenarioError) as exc:
            world_of(tmp_path, **extra)
        assert key in str(exc.value) and "\n" not in str(exc.value)
