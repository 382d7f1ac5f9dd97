"""The vehicle table: struct-of-arrays columns, one row per vehicle alive.

A `sim.core.table.ColumnTable` (growable columns, id -> row by `searchsorted`, removal by one
mask); there are no per-vehicle objects in the hot path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.core.table import ColumnTable

if TYPE_CHECKING:
    from sim.core.world import World

#: Column name -> dtype. Everything a vehicle is lives here.
COLUMNS: dict[str, type] = {
    "id": np.int64,
    "cls": np.int8,
    "automation": np.int8,  # 0..4 = L0..L4
    "equipped": np.bool_,  # has a C-V2X on-board unit
    "route": np.int64,
    "lane": np.int64,
    "s_m": np.float64,  # arc position along the route
    "v_mps": np.float64,
    "a_mps2": np.float64,  # acceleration applied in the last step
    "length_m": np.float64,
    "width_m": np.float64,
    "height_m": np.float64,
    "v0_mps": np.float64,  # IDM desired speed
    "headway_s": np.float64,  # IDM time headway T
    "a_max_mps2": np.float64,
    "b_comf_mps2": np.float64,
    "s0_m": np.float64,
    "reaction_steps": np.int64,  # reaction delay in mobility steps
    "bsm_phase_ms": np.int64,  # BSM generation phase within the period
    "x_m": np.float64,
    "y_m": np.float64,
    "heading_rad": np.float64,
    "spawn_ms": np.int64,
    "trip_start_ms": np.int64,  # entered at its route's start then (-1: placed mid-route, no trip)
    "halt_decel_mps2": np.float64,  # > 0: brakes at this rate to a standstill and stays (incidents)
    "last_lane_change_s": np.float64,
    # V2X warnings act on driving through these columns (written by applications, read by mobility):
    "warn_start_ms": np.int64,  # braking warning: precautionary braking from here (after reaction)
    "warn_end_ms": np.int64,  # ... until here
    "warn_decel_mps2": np.float64,  # ... at this rate (> 0)
    "advice_speed_mps": np.float64,  # speed advice (SLW, GLOSA, TJW): desired speed capped to this
    "advice_start_ms": np.int64,  # ... from here (after reaction)
    "advice_end_ms": np.int64,  # ... until here
    # Desired speed and service behaviour (vehicles.service, vehicles.ramps):
    "speed_factor": np.float64,  # desired speed = limit at s x this (driver factor x class factor)
    "v_cap_mps": np.float64,  # ... capped to this (class maximum, service working speed)
    "line": np.int64,  # bus line index (-1: not on a line)
    "next_stop_s_m": np.float64,  # arc position of the next kerb-side stop (inf: none)
    "dwell_until_ms": np.int64,  # stopped at a stop until then (-1: not dwelling)
    "stops_made": np.int64,  # stops served so far
    "exit_s_m": np.float64,  # leaves by an off-ramp at this arc position (inf: drives to the end)
}
#: Columns whose "absent" value is not zero.
DEFAULTS: dict[str, float] = {
    "speed_factor": 1.0, "v_cap_mps": np.inf, "line": -1, "next_stop_s_m": np.inf,
    "dwell_until_ms": -1, "exit_s_m": np.inf, "trip_start_ms": -1,
}


class VehicleTable(ColumnTable):
    """The fleet: `COLUMNS` with their `DEFAULTS`, plus the questions mobility and apps ask."""

    def __init__(self) -> None:
        super().__init__(COLUMNS, DEFAULTS)

    def warned(self, now_ms: int) -> NDArray[np.bool_]:
        return warned(self, now_ms)

    def advised(self, now_ms: int) -> NDArray[np.bool_]:
        return advised(self, now_ms)


def warned(table: ColumnTable, now_ms: int) -> NDArray[np.bool_]:
    """Vehicles whose precautionary braking window (a V2X warning) is open at `now_ms`."""
    return np.asarray((table["warn_start_ms"] <= now_ms) & (now_ms < table["warn_end_ms"]))


def advised(table: ColumnTable, now_ms: int) -> NDArray[np.bool_]:
    """Vehicles following a V2X speed advice at `now_ms`."""
    return np.asarray((table["advice_start_ms"] <= now_ms) & (now_ms < table["advice_end_ms"]))


def vehicles_of(world: World) -> VehicleTable:
    """The world's fleet as a `VehicleTable`: the engine only promises a `ColumnTable`, the apps
    and the roadside need the fleet's columns."""
    table = world.mobility.table
    if not isinstance(table, VehicleTable):
        raise TypeError(f"the mobility model's table is a {type(table).__name__}, not a VehicleTable")
    return table
