"""SLW, speed limit warning (CSAE 53 day-one, V2I, RSI traffic sign / MAP lane speed limits).

An RSU within `range_m` broadcasts the speed limit of the roads it covers (MAP links carry
speedLimits, RSI a speed-limit sign). A host driving faster than its route's limit plus
`tolerance_mps` is warned and its desired speed is capped to the limit for `duration_s`
(renewed while messages keep coming). No lead time (there is no conflict to reach).
"""

from __future__ import annotations

import numpy as np

from sim.radio.messages import MsgType
from sim.spec.apps import SlwSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    advise,
    drop_stale,
    first_per_row,
    of_type,
)


class SpeedLimitWarning(ReceptionApp[SlwSpec]):
    name = "slw"

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        rec = of_type(rec, (int(MsgType.MAP), int(MsgType.RSI)))
        rec = rec.subset(rec.tx_rsu >= 0)
        if len(rec) == 0 or ctx.geometry is None or ctx.rsu_xy_m is None:
            return
        t = ctx.table
        rows = rec.rx_row
        rsu = ctx.rsu_xy_m[rec.tx_rsu]
        near = np.hypot(t["x_m"][rows] - rsu[:, 0], t["y_m"][rows] - rsu[:, 1]) <= self.req.range_m
        limit = ctx.geometry.speed_limit_mps[t["route"][rows]]  # type: ignore[attr-defined]
        hit = drop_stale(rec, near, self.req, self.stats) & (
            t["v_mps"][rows] > limit + self.spec.tolerance_mps)
        if not hit.any():
            return
        rec, limit = rec.subset(hit), limit[hit]
        k = first_per_row(rec.rx_row, rec.rx_ms.astype(np.float64))
        rows, at = rec.rx_row[k], rec.rx_ms[k]
        new = advise(t, rows, at, limit[k], round(self.spec.duration_s * 1000), self.step_ms)
        self.stats.record((at - rec.gen_ms[k])[new], None)
