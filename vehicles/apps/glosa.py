"""GLOSA, green light optimal speed advisory (CSAE 53 day-one, V2I efficiency, SPAT + MAP).

If at its current speed the host would reach the stop line when the approach is not green, SPAT
gives it the start of the next green; the speed that covers the distance in exactly that time,
if it lies between `min_speed_mps` and the current speed, is advised (the desired speed is capped;
IDM approaches it smoothly), so the vehicle rolls up on green instead of stopping and starting.
The advice is renewed by each SPAT (10 Hz) and lapses after `duration_s` without one. Lead time:
time until the green starts.
"""

from __future__ import annotations

import numpy as np

from sim.core.signals import GREEN
from sim.radio.messages import MsgType
from sim.spec.apps import GlosaSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    advise,
    drop_stale,
    first_per_row,
    of_type,
)
from vehicles.apps.spat import approaching, colors_at, green_window_ms


class Glosa(ReceptionApp[GlosaSpec]):
    name = "glosa"

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        rec = of_type(rec, (int(MsgType.SPAT),))
        rec, sig, group, gap = approaching(ctx, rec, self.req.range_m)
        ok = drop_stale(rec, np.ones(len(rec), bool), self.req, self.stats)
        rec, sig, group, gap = rec.subset(ok), sig[ok], group[ok], gap[ok]
        if len(rec) == 0:
            return
        t = ctx.table
        v = t["v_mps"][rec.rx_row]
        at = rec.rx_ms.astype(np.float64)
        arrive_ms = at + gap / np.maximum(v, 0.1) * 1000.0
        color = colors_at(ctx.signals, arrive_ms, sig, group)  # type: ignore[arg-type]
        to_green_ms, _ = green_window_ms(ctx.signals, at, sig, group)  # type: ignore[arg-type]
        with np.errstate(divide="ignore"):
            v_adv = gap / np.maximum(to_green_ms / 1000.0, 1e-3)
        hit = (color != GREEN) & (v_adv >= self.spec.min_speed_mps) & (v_adv < v) & (to_green_ms > 0)
        if not hit.any():
            return
        rec, v_adv, to_green_ms = rec.subset(hit), v_adv[hit], to_green_ms[hit]
        k = first_per_row(rec.rx_row, -v_adv)
        rows, at_k = rec.rx_row[k], rec.rx_ms[k]
        new = advise(t, rows, at_k, v_adv[k], round(self.spec.duration_s * 1000), self.step_ms)
        self.stats.record((at_k - rec.gen_ms[k])[new], to_green_ms[k][new] / 1000.0)
