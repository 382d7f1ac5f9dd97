"""EVW, emergency vehicle warning (CSAE 53 day-one, V2V, BSM with emergencyExt).

A BSM from an emergency-class vehicle (ambulance, fire engine, police: `vehicleClass` and the
emergencyExt of the BSM) behind the host on its route within `range_m` asks the host to yield: its
desired speed is capped to `yield_speed_factor` times its desired speed (at least 15 km/h; a host
already that slow is left alone) for `duration_s`, renewed while
the emergency vehicle approaches, so the emergency vehicle closes up and can pass (moving over to
the right needs a lane-change hook in mobility; slowing is what the driving contract carries).
Lead time: time until the emergency vehicle reaches the host at their closing speed.
"""

from __future__ import annotations

import numpy as np

from sim.radio.messages import MsgType
from sim.spec.apps import EvwSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    advise,
    drop_stale,
    first_per_row,
    of_type,
)

#: An EVW advice never asks for less (an urban crawl; the emergency vehicle overtakes).
MIN_YIELD_MPS = 15 / 3.6


class EmergencyVehicleWarning(ReceptionApp[EvwSpec]):
    name = "evw"

    def __init__(self, spec: EvwSpec, step_ms: int, emergency_cls_code: int) -> None:
        """`emergency_cls_code`: the vehicle-class code of emergency vehicles (-1: none exist)."""
        super().__init__(spec, step_ms)
        self.code = emergency_cls_code

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        if self.code < 0:
            return
        rec = of_type(rec, (int(MsgType.BSM),))
        rec = rec.subset(rec.tx_row >= 0)
        if len(rec) == 0:
            return
        t = ctx.table
        rx, tx = rec.rx_row, rec.tx_row
        behind = t["s_m"][rx] - t["s_m"][tx]
        hit = drop_stale(rec, (t["cls"][tx] == self.code) & (t["cls"][rx] != self.code)
                         & (t["route"][tx] == t["route"][rx]) & (behind > 0)
                         & (behind <= self.req.range_m), self.req, self.stats)
        if not hit.any():
            return
        rec, behind = rec.subset(hit), behind[hit]
        k = first_per_row(rec.rx_row, behind)
        rows, tx, at = rec.rx_row[k], rec.tx_row[k], rec.rx_ms[k]
        # A share of the host's desired speed, not of its current one: every BSM (10 Hz) renews
        # the advice, and a share of the current speed would compound to a standstill (a car
        # stopping on a crosswalk to "yield"). Never below MIN_YIELD_MPS: slowing, not stopping.
        speed = np.maximum(self.spec.yield_speed_factor * t["v0_mps"][rows], MIN_YIELD_MPS)
        slower = t["v_mps"][rows] <= speed  # already slow enough for the ambulance to pass
        rows, tx, at, speed, k = rows[~slower], tx[~slower], at[~slower], speed[~slower], k[~slower]
        new = advise(t, rows, at, speed, round(self.spec.duration_s * 1000), self.step_ms)
        closing = np.maximum(t["v_mps"][tx] - t["v_mps"][rows], 0.0)
        with np.errstate(divide="ignore"):
            lead = np.where(closing > 0, behind[k] / np.maximum(closing, 1e-9), np.inf)
        self.stats.record((at - rec.gen_ms[k])[new], lead[new])
