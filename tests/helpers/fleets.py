"""Mobility-only worlds built from tiny scenarios, stepped without the radio; the test road's
coordinates, and the signalised crossing used by the VRU tests."""

from __future__ import annotations

from pathlib import Path

from sim.core.world import World
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from tests.helpers.scenarios import tiny_scenario

LAT, LON = 43.9, 125.5
M_PER_DEG_LON = 80_300.0

# A signal 1 km along the test road, and both directions with traffic (the VRU tests).
SIGNAL = {"id": "x", "position": {"lat": LAT, "lon": LON + 1000 / M_PER_DEG_LON}}
ROUTES = [{"id": "east", "roads": ["test road"], "flow_veh_h_per_lane": 700},
          {"id": "west", "roads": ["test road"], "reverse": True, "flow_veh_h_per_lane": 700}]


def world_of(tmp_path: Path, **overrides) -> World:  # type: ignore[no-untyped-def]
    return build_world(load_scenario(str(tiny_scenario(tmp_path, **overrides))))


def run_mobility(world: World, seconds: float, every=None) -> None:  # type: ignore[no-untyped-def]
    m = world.mobility
    m.place_initial()
    m.update_positions()
    for k in range(1, int(seconds * 1000 / world.step_ms) + 1):
        m.step(k * world.step_ms)
        if every is not None:
            every(k * world.step_ms)
