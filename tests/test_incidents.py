"""Scripted incidents and the safety KPIs they produce."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from tests.helpers.scenarios import tiny_scenario


def world_with(tmp_path: Path, incidents: list[dict]) -> object:  # type: ignore[type-arg]
    path = tiny_scenario(tmp_path, incidents=incidents, duration_s=40)
    return build_world(load_scenario(str(path), ["routes.0.flow_veh_h_per_lane=0"]))


def test_emergency_stop_halts_the_vehicle_and_followers_stop_behind(tmp_path: Path) -> None:
    w = world_with(tmp_path, [{"kind": "hard-braking", "at_s": 1, "route": "east",
                               "position_m": 1500, "lane": 0}])
    m = w.mobility  # type: ignore[attr-defined]
    m.place_initial()
    m.update_positions()
    for k in range(1, 301):
        m.step(k * 100)
    t = m.table
    halted = np.flatnonzero(t["halt_decel_mps2"] > 0)
    assert len(halted) == 1 and t["v_mps"][halted[0]] == 0.0
    behind = (t["route"] == 0) & (t["lane"] == 0) & (t["s_m"] < t["s_m"][halted[0]])
    assert behind.any()
    assert m.safety.collisions == 0 and m.stats.incidents_applied == 1
    assert m.safety.min_ttc_s < 10.0 and m.safety.hard_braking_events >= 1


def test_stopped_vehicle_drives_off_after_its_duration(tmp_path: Path) -> None:
    w = world_with(tmp_path, [{"kind": "stopped-vehicle", "at_s": 1, "route": "east",
                               "position_m": 800, "lane": 1, "duration_s": 5}])
    m = w.mobility  # type: ignore[attr-defined]
    m.place_initial()
    m.update_positions()
    for k in range(1, 101):
        m.step(k * 100)
    assert (m.table["halt_decel_mps2"] > 0).sum() == 1
    for k in range(101, 301):
        m.step(k * 100)
    assert (m.table["halt_decel_mps2"] > 0).sum() == 0


@pytest.mark.parametrize("incident,key,text", [
    ({"route": "north"}, "incidents[0].route", "no route 'north'"),
    ({"lane": 5}, "incidents[0].lane", "lanes 0..1"),
    ({"position_m": 99_999}, "incidents[0].position_m", "long"),
])
def test_incident_errors(tmp_path: Path, incident: dict, key: str, text: str) -> None:  # type: ignore[type-arg]
    spec = {"kind": "hard-braking", "at_s": 1, "route": "east", "position_m": 100, "lane": 0}
    spec.update(incident)
    with pytest.raises(ScenarioError) as exc:
        world_with(tmp_path, [spec])
    assert key in str(exc.value) and text in str(exc.value)


@pytest.mark.slow
def test_hazard_scenario_reports_safety_kpis(tmp_path: Path) -> None:
    from sim.runner import run_scenario

    out = run_scenario(load_scenario("airport-expressway-hazard", ["output.trace.states=false"],
                                     duration_s=17), tmp_path / "r")
    safety = out.summary["safety"]
    assert safety["incidents"] == 2 and safety["min_ttc_s"] is not None
