"""The human-driven platoon overrides shared by the V2X warning closed-loop tests."""

from __future__ import annotations

PLATOON = [
    "routes.0.initial_density_veh_km_per_lane=30", "routes.1.initial_density_veh_km_per_lane=0",
    "routes.0.flow_veh_h_per_lane=0", "routes.0.speed_limit_kmh=120",
    "fleet.automation={L0: 1.0}", "fleet.human.time_headway_s=1.4",
    "fleet.human.reaction_time_s=1.0", "fleet.lane_changing.enabled=false",
    "output.trace.states=false",
]
