"""Emergency brake warning closed loop: V2X warnings make a braking platoon safer."""

from __future__ import annotations

from pathlib import Path

from sim.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.conftest import tiny_scenario

PLATOON = [
    "routes.0.initial_density_veh_km_per_lane=30", "routes.1.initial_density_veh_km_per_lane=0",
    "routes.0.flow_veh_h_per_lane=0", "routes.0.speed_limit_kmh=120",
    "fleet.automation={L0: 1.0}", "fleet.human.time_headway_s=1.4",
    "fleet.human.reaction_time_s=1.0", "fleet.lane_changing.enabled=false",
    "output.trace.states=false",
]


def test_ebw_warns_followers_and_raises_the_minimum_ttc(tmp_path: Path) -> None:
    """A human-driven platoon behind an 8 m/s2 emergency stop, with and without EBW."""
    path = tiny_scenario(tmp_path, duration_s=12, incidents=[
        {"kind": "hard-braking", "at_s": 4, "route": "east", "position_m": 1900, "lane": 0,
         "decel_mps2": 8}])
    off = run_scenario(load_scenario(str(path), PLATOON), tmp_path / "off").summary
    on = run_scenario(load_scenario(str(path), PLATOON + ["applications.ebw.enabled=true"]),
                      tmp_path / "on").summary
    assert off["applications"]["ebw"] is None
    ebw = on["applications"]["ebw"]
    assert ebw["warnings"] > 10 and 1.0 <= ebw["mean_latency_ms"] <= 101.0
    assert on["collisions"] <= off["collisions"]
    assert on["safety"]["min_ttc_s"] > off["safety"]["min_ttc_s"] + 0.2
    assert on["safety"]["near_misses"] < off["safety"]["near_misses"]
