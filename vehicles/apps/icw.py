"""ICW, intersection collision warning (CSAE 53 day-one, V2V, BSM + MAP).

The host knows from MAP where its route crosses others (`Crossings`). For each BSM from a vehicle
on a crossing route, within `range_m` (CSAE 53: >= 150 m for ICW), both are projected at constant
speed onto the conflict zone: if their occupancy intervals overlap (within `margin_s`) and the host
would enter within `warn_time_s`, the later of the two is warned (the earlier one goes on: warning
both would stop both) and, after its reaction delay, brakes to stop before the zone (at least
`decel_mps2`, at most `max_decel_mps2`) until the other has cleared it. Lead time: the host's
time to enter the conflict zone at reception.
"""

from __future__ import annotations

import numpy as np

from sim.radio.messages import MsgType
from sim.spec.apps import IcwSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    brake,
    drop_stale,
    first_per_row,
    hold,
    of_type,
)
from vehicles.apps.crossings import Crossings, zone_times

#: Below this speed a host is waiting at (or creeping towards) the zone and will accelerate.
SLOW_MPS = 2.0


def start_times(s_m: np.ndarray, v_mps: np.ndarray, a_mps2: np.ndarray, length_m: np.ndarray,
                conflict_s_m: float, half_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Entry and clearing times of a vehicle accelerating at `a_mps2` from `v_mps`:
    d = v t + a t^2 / 2, solved for t (entry 0 when already inside)."""
    a = np.maximum(a_mps2, 0.1)
    d_in = np.maximum(conflict_s_m - half_m - s_m, 0.0)
    d_out = np.maximum(conflict_s_m + half_m + length_m - s_m, 0.0)
    t_in = (np.sqrt(v_mps**2 + 2.0 * a * d_in) - v_mps) / a
    t_out = (np.sqrt(v_mps**2 + 2.0 * a * d_out) - v_mps) / a
    return t_in, t_out


class IntersectionCollisionWarning(ReceptionApp[IcwSpec]):
    name = "icw"

    def __init__(self, spec: IcwSpec, step_ms: int, crossings: Crossings) -> None:
        super().__init__(spec, step_ms)
        self.crossings = crossings

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        c = self.crossings
        if len(c) == 0:
            return
        rec = of_type(rec, (int(MsgType.BSM),))
        rec = rec.subset(rec.tx_row >= 0)
        if len(rec) == 0:
            return
        t = ctx.table
        dist = np.hypot(t["x_m"][rec.tx_row] - t["x_m"][rec.rx_row],
                        t["y_m"][rec.tx_row] - t["y_m"][rec.rx_row])
        crossing = np.isin(t["route"][rec.tx_row] * 100_000 + t["route"][rec.rx_row],
                           c.other * 100_000 + c.route)
        near = crossing & (dist <= self.req.range_m)
        rec = rec.subset(drop_stale(rec, near, self.req, self.stats))
        rx, tx = rec.rx_row, rec.tx_row
        hits: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for k in range(len(c)):  # a handful of conflict points
            sel = np.flatnonzero((t["route"][rx] == c.route[k]) & (t["route"][tx] == c.other[k]))
            if len(sel) == 0:
                continue
            r, o = rx[sel], tx[sel]
            in_r, out_r = zone_times(t["s_m"][r], t["v_mps"][r], t["length_m"][r], c.s_m[k],
                                     c.half_m[k])
            # A host waiting or creeping at the zone will accelerate into it: its entry and
            # clearing times from its own acceleration, not from its (near zero) speed.
            slow = t["v_mps"][r] < SLOW_MPS
            if slow.any():
                in_r[slow], out_r[slow] = start_times(
                    t["s_m"][r][slow], t["v_mps"][r][slow], t["a_max_mps2"][r][slow],
                    t["length_m"][r][slow], c.s_m[k], c.half_m[k])
            in_o, out_o = zone_times(t["s_m"][o], t["v_mps"][o], t["length_m"][o], c.other_s_m[k],
                                     c.other_half_m[k])
            d_in = c.s_m[k] - c.half_m[k] - t["s_m"][r]
            later = (in_r > in_o) | ((in_r == in_o) & (t["id"][r] > t["id"][o]))
            overlap = (in_r < out_o + self.spec.margin_s) & (in_o < out_r + self.spec.margin_s)
            hit = (d_in > 0) & (out_o > 0) & later & overlap & (in_r <= self.spec.warn_time_s)
            if hit.any():
                hits.append((sel[hit], in_r[hit], out_o[hit], d_in[hit]))
        if not hits:
            return
        sel = np.concatenate([h[0] for h in hits])
        lead, clear_s, d_in = (np.concatenate([h[i] for h in hits]) for i in (1, 2, 3))
        first = first_per_row(rx[sel], lead)
        rows, lead, clear_s, d_in = rx[sel][first], lead[first], clear_s[first], d_in[first]
        at, gen = rec.rx_ms[sel][first], rec.gen_ms[sel][first]
        v = t["v_mps"][rows]
        tau_s = t["reaction_steps"][rows] * self.step_ms / 1000.0
        need = v**2 / (2.0 * np.maximum(d_in - v * tau_s - 1.0, 0.5))
        decel = np.clip(need, self.spec.decel_mps2, self.spec.max_decel_mps2)
        hold_s = np.maximum(v / decel, clear_s + self.spec.margin_s)
        hold_ms = np.round(hold_s * 1000).astype(np.int64)
        slow = v < SLOW_MPS
        new = np.zeros(len(rows), bool)
        fast = ~slow
        new[fast] = brake(t, rows[fast], at[fast], decel[fast], hold_ms[fast], self.step_ms)
        new[slow] = hold(t, rows[slow], at[slow], hold_ms[slow], self.step_ms)
        self.stats.record((at - gen)[new], lead[new])
