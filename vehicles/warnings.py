"""Emergency brake warning (EBW, CSAE 53 day-one application), closed loop with driving.

A BSM whose event flag says "hard braking" and that a following vehicle decodes (the radio decides:
range, collisions, half-duplex all apply) warns that vehicle if the sender is ahead of it on the
same route within `range_m`. The warned driver starts a precautionary braking at `decel_mps2`
after its own reaction time (a human's drawn reaction time; an L3/L4 system's processing delay)
and keeps it for `duration_s`. Without V2X a driver reacts only to its direct leader, one
reaction time after that leader brakes, so delays add up down a platoon; the warning reaches
every equipped follower within range at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.radio.medium import RadioBatch
from vehicles.table import VehicleTable


@dataclass(frozen=True)
class EbwParams:
    range_m: float = 300.0
    decel_mps2: float = 3.0
    duration_s: float = 2.0


@dataclass
class EbwStats:
    warnings: int = 0  # vehicles warned (a vehicle already warned is not counted again)
    warning_latency_ms_sum: float = 0.0  # BSM generation -> reception, over those warnings


class EmergencyBrakeWarning:
    def __init__(self, params: EbwParams, step_ms: int) -> None:
        self.p = params
        self.step_ms = step_ms
        self.stats = EbwStats()

    def on_batch(self, batch: RadioBatch, table: VehicleTable) -> None:
        links = batch.result.links
        if len(links.tx) == 0 or not batch.tx_brake_flag.any():
            return
        rx_vid = batch.node_vehicle_id[links.rx]
        heard = links.success & (rx_vid >= 0) & batch.tx_brake_flag[links.tx]
        if not heard.any():
            return
        t_idx = links.tx[heard]
        rx_rows = table.rows_of(rx_vid[heard])
        tx_rows = table.rows_of(batch.tx_vehicle_id[t_idx])
        ok = (rx_rows >= 0) & (tx_rows >= 0)
        rx_rows, tx_rows, t_idx = rx_rows[ok], tx_rows[ok], t_idx[ok]
        ahead = table["s_m"][tx_rows] - table["s_m"][rx_rows]
        relevant = (table["route"][tx_rows] == table["route"][rx_rows]) & (ahead > 0) & (
            ahead <= self.p.range_m
        )
        rx_rows, t_idx = rx_rows[relevant], t_idx[relevant]
        if len(rx_rows) == 0:
            return
        rx_ms = batch.tx.subframe_ms[t_idx] + 1
        # Earliest useful reception per vehicle; vehicles with a warning still active keep it.
        order = np.lexsort((rx_ms, rx_rows))
        first = np.ones(len(order), bool)
        first[1:] = rx_rows[order][1:] != rx_rows[order][:-1]
        rows, at_ms, t_first = rx_rows[order][first], rx_ms[order][first], t_idx[order][first]
        fresh = table["warn_end_ms"][rows] <= at_ms
        rows, at_ms, t_first = rows[fresh], at_ms[fresh], t_first[fresh]
        start = at_ms + table["reaction_steps"][rows] * self.step_ms
        table["warn_start_ms"][rows] = start
        table["warn_end_ms"][rows] = start + round(self.p.duration_s * 1000)
        table["warn_decel_mps2"][rows] = self.p.decel_mps2
        self.stats.warnings += len(rows)
        self.stats.warning_latency_ms_sum += float((at_ms - batch.tx.gen_ms[t_first]).sum())
