"""TJW, traffic jam warning (CSAE 53 day-one, efficiency; BSM here, RSI/RSM from the roadside).

BSMs from vehicles on the host's route that crawl (below `jam_speed_mps`) further ahead than the
driver can see (`sight_m`) but within `range_m` reveal a queue beyond the bend or the crest. The
host, if faster than `approach_speed_mps`, gets a speed advice of that approach speed (never below
the jam speed) for `duration_s`, renewed while the queue is reported: it slows early and gently
instead of braking hard at the tail. CSAE 53 allows TJW <= 500 ms latency. Lead time: time to
reach the queue tail at the current closing speed.
"""

from __future__ import annotations

import numpy as np

from sim.radio.messages import MsgType
from sim.spec.apps import TjwSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    advise,
    drop_stale,
    first_per_row,
    of_type,
)


class TrafficJamWarning(ReceptionApp[TjwSpec]):
    name = "tjw"

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        rec = of_type(rec, (int(MsgType.BSM),))
        rec = rec.subset(rec.tx_row >= 0)
        if len(rec) == 0:
            return
        t = ctx.table
        rx, tx = rec.rx_row, rec.tx_row
        ahead = t["s_m"][tx] - t["s_m"][rx]
        relevant = ((t["route"][tx] == t["route"][rx]) & (ahead > self.spec.sight_m)
                    & (ahead <= self.req.range_m))
        hit = drop_stale(rec, relevant, self.req, self.stats) & (
            t["v_mps"][tx] < self.spec.jam_speed_mps) & (t["v_mps"][rx] > self.spec.approach_speed_mps)
        if not hit.any():
            return
        rec, ahead = rec.subset(hit), ahead[hit]
        k = first_per_row(rec.rx_row, ahead)  # the nearest queue
        rows, tx, at, ahead = rec.rx_row[k], rec.tx_row[k], rec.rx_ms[k], ahead[k]
        speed = np.maximum(self.spec.approach_speed_mps, self.spec.jam_speed_mps)
        new = advise(t, rows, at, speed, round(self.spec.duration_s * 1000), self.step_ms)
        lead = ahead / np.maximum(t["v_mps"][rows] - t["v_mps"][tx], 0.1)
        self.stats.record((at - rec.gen_ms[k])[new], lead[new])
