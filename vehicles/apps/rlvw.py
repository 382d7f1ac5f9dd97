"""RLVW, red-light violation warning (CSAE 53 day-one, V2I, SPAT + MAP).

From SPAT (the phase timing) and MAP (its stop line) the host predicts the colour when it would
reach the stop line at its current speed. If that is red, the stop after its reaction delay now
needs at least `decel_mps2` (the last comfortable moment) and at most `max_decel_mps2`, and the
host is not already braking that hard, it is warned and brakes until it stops or the light turns
green. The driver alone only sees the colour now: at yellow onset a car
in the dilemma zone goes on and may pass on red; SPAT lets it start braking before the yellow.
Lead time: time to reach the stop line at reception.
"""

from __future__ import annotations

import numpy as np

from sim.core.signals import RED
from sim.radio.messages import MsgType
from sim.spec.apps import RlvwSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    brake,
    drop_stale,
    first_per_row,
    of_type,
)
from vehicles.apps.spat import approaching, colors_at, green_window_ms

#: Stop this far before the line.
STOP_MARGIN_M = 1.0


class RedLightViolationWarning(ReceptionApp[RlvwSpec]):
    name = "rlvw"

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        rec = of_type(rec, (int(MsgType.SPAT),))
        rec, sig, group, gap = approaching(ctx, rec, self.req.range_m)
        ok = drop_stale(rec, np.ones(len(rec), bool), self.req, self.stats)
        rec, sig, group, gap = rec.subset(ok), sig[ok], group[ok], gap[ok]
        if len(rec) == 0:
            return
        t = ctx.table
        rows = rec.rx_row
        v = t["v_mps"][rows]
        arrive_s = gap / np.maximum(v, 0.1)
        color = colors_at(ctx.signals, rec.rx_ms + arrive_s * 1000.0, sig, group)  # type: ignore[arg-type]
        tau_s = t["reaction_steps"][rows] * self.step_ms / 1000.0
        left = gap - v * tau_s - STOP_MARGIN_M
        need = v**2 / (2.0 * np.maximum(left, 0.1))
        # Warn at the last comfortable moment (the stop now needs `decel_mps2`) a driver who is not
        # braking enough already: one who will stop on their own (a queue, a red seen in time)
        # gets no warning, and nor does one far back, who has time to see the light.
        braking_mps2 = -t["a_mps2"][rows]
        hit = ((v > 1.0) & (color == RED) & (left > 0) & (need >= self.spec.decel_mps2)
               & (need <= self.spec.max_decel_mps2) & (braking_mps2 < need))
        if not hit.any():
            return
        rec, sig, group = rec.subset(hit), sig[hit], group[hit]
        arrive_s, need = arrive_s[hit], need[hit]
        k = first_per_row(rec.rx_row, arrive_s)
        rows, at = rec.rx_row[k], rec.rx_ms[k]
        decel = np.clip(need[k], self.spec.decel_mps2, self.spec.max_decel_mps2)
        to_green_ms, _ = green_window_ms(ctx.signals, at.astype(np.float64), sig[k], group[k])  # type: ignore[arg-type]
        stop_ms = t["v_mps"][rows] / decel * 1000.0
        dur = np.round(np.minimum(stop_ms, np.maximum(to_green_ms, self.step_ms))).astype(np.int64)
        new = brake(t, rows, at, decel, dur, self.step_ms)
        self.stats.record((at - rec.gen_ms[k])[new], arrive_s[k][new])
