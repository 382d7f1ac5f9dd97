"""On-board unit: the fleet's equipped vehicles as radio nodes, and when each generates its BSMs.

Each vehicle broadcasts every `period_ms` at its own phase (drawn at spawn), as real OBUs do: the
phases are what spreads the load over the 100 ms and what makes two vehicles' packets meet.
`ObuFleet` is the medium's mobile source (`sim.radio.nodes.MobileSource`): it reads whatever
vehicle table the mobility model keeps, so the radio never sees a car.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from sim.radio.nodes import BsmIntents, MobileNodes
from vehicles.table import VehicleTable


def bsm_generation(
    table: VehicleTable, t0_ms: int, t1_ms: int, period_ms: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(vehicle ids, generation times in ms) of every BSM generated in [t0_ms, t1_ms)."""
    eq = table["equipped"]
    ids = table["id"][eq]
    phase = table["bsm_phase_ms"][eq]
    born = table["spawn_ms"][eq]
    # First generation at or after max(t0, spawn time), on the vehicle's own phase grid.
    start = np.maximum(t0_ms, born)
    first = phase + -(-(start - phase) // period_ms) * period_ms
    out_ids, out_t = [], []
    k = 0
    while True:
        t = first + k * period_ms
        inside = t < t1_ms
        if not inside.any():
            break
        out_ids.append(ids[inside])
        out_t.append(t[inside])
        k += 1
    if not out_ids:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    vid = np.concatenate(out_ids)
    gen = np.concatenate(out_t)
    order = np.lexsort((vid, gen))
    return vid[order], gen[order]


class ObuFleet:
    """The equipped vehicles of a fleet as mobile radio nodes.

    `table` returns the vehicle table at call time (the mobility model may keep it anywhere).
    `hard_braking_event_mps2` is the OBU's threshold for the BSM hard-braking event flag
    (`messages.bsm.hard_braking_event_mps2`): an OBU setting, not a KPI threshold.
    """

    def __init__(self, table: Callable[[], VehicleTable], hard_braking_event_mps2: float) -> None:
        self._table = table
        self.hard_braking_event_mps2 = hard_braking_event_mps2

    def mobile_nodes(self) -> MobileNodes:
        t = self._table()
        eq = t["equipped"]
        heading = t["heading_rad"][eq]
        speed = t["v_mps"][eq]
        return MobileNodes(
            ids=t["id"][eq],
            xy_m=np.column_stack([t["x_m"][eq], t["y_m"][eq]]),
            vel_mps=np.column_stack([speed * np.cos(heading), speed * np.sin(heading)]),
            odometer_m=t["s_m"][eq],
            speed_mps=speed,
        )

    def bsm_intents(self, t0_ms: int, t1_ms: int, period_ms: int) -> BsmIntents:
        t = self._table()
        vid, gen_ms = bsm_generation(t, t0_ms, t1_ms, period_ms)
        return BsmIntents(vid, gen_ms, self.event_flags(t, vid))

    def event_flags(self, table: VehicleTable, vid: NDArray[np.int64]) -> NDArray[np.bool_]:
        """The hard-braking flag of a BSM sent now by each of `vid`: the sender decelerates
        harder than the threshold when the message is generated."""
        rows = table.rows_of(vid)
        return np.asarray(table["a_mps2"][rows] < -self.hard_braking_event_mps2)
