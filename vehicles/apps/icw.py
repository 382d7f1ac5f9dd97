"""ICW, intersection collision warning (CSAE 53 day-one, V2V, BSM + MAP).

The host knows from MAP where its route crosses others (`Crossings`). For each BSM from a vehicle
on a crossing route, within `range_m` (CSAE 53: >= 150 m for ICW), both are projected at constant
speed onto the conflict zone: if their occupancy intervals overlap (within `margin_s`) and the host
would enter within `warn_time_s`, the later of the two is warned (the earlier one goes on: warning
both would stop both) and, after its reaction delay, brakes to stop before the zone (at least
`decel_mps2`, at most `max_decel_mps2`) until the other has cleared it. Lead time: the host's
time to enter the conflict zone at reception.

On a SUMO network the conflict points are where junction lanes (and edges) cross, found once per
pair of pieces; `RouteConflicts` places them on every route that drives those pieces, so one
searchsorted finds the points ahead of each host within what it can reach in `warn_time_s`.
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
from vehicles.apps.route_conflicts import RouteConflicts
from vehicles.shared_roads import SharedRoads

#: Below this speed a host is waiting at (or creeping towards) the zone and will accelerate.
SLOW_MPS = 2.0


def start_times(s_m: np.ndarray, v_mps: np.ndarray, a_mps2: np.ndarray, length_m: np.ndarray,
                conflict_s_m: np.ndarray | float, half_m: np.ndarray | float
                ) -> tuple[np.ndarray, np.ndarray]:
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

    def __init__(self, spec: IcwSpec, step_ms: int, crossings: Crossings,
                 shared: SharedRoads | None = None) -> None:
        """`shared`: the pieces of a SUMO network's routes (its crossings are between pieces)."""
        super().__init__(spec, step_ms)
        self.crossings = crossings
        self.conflicts = RouteConflicts.build(crossings, shared)

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        c, cf = self.crossings, self.conflicts
        if len(c) == 0:
            return
        rec = of_type(rec, (int(MsgType.BSM),))
        rec = rec.subset(rec.tx_row >= 0)
        if len(rec) == 0:
            return
        t = ctx.table
        dist = np.hypot(t["x_m"][rec.tx_row] - t["x_m"][rec.rx_row],
                        t["y_m"][rec.tx_row] - t["y_m"][rec.rx_row])
        crossing = cf.crossing_pair(t["route"][rec.rx_row], t["route"][rec.tx_row])
        near = crossing & (dist <= self.req.range_m)
        rec = rec.subset(drop_stale(rec, near, self.req, self.stats))
        rx, tx = rec.rx_row, rec.tx_row
        # Conflict points ahead of each host that it could enter within warn_time_s: at its
        # speed (at least 0.5 m/s, as zone_times) or accelerating from it (start_times).
        warn_s = self.spec.warn_time_s
        v_rx = t["v_mps"][rx]
        reach_m = warn_s * np.maximum(v_rx, 0.5) + 0.5 * np.maximum(t["a_max_mps2"][rx], 0.1) * warn_s**2
        q, side = cf.ahead(t["route"][rx], t["s_m"][rx], reach_m)
        k = cf.sides.row[side]
        o_s, drives = cf.other_side_s_m(t["route"][tx[q]], k)
        q, side, k, o_s = q[drives], side[drives], k[drives], o_s[drives]
        if len(q) == 0:
            return
        # Pairs in (conflict point, reception) order: ties in lead time go to the first.
        order = np.lexsort((q, k))
        q, side, k, o_s = q[order], side[order], k[order], o_s[order]
        r, o = rx[q], tx[q]
        s_r, half_r = cf.sides.s_m[side], cf.sides.half_m[side]
        in_r, out_r = zone_times(t["s_m"][r], t["v_mps"][r], t["length_m"][r], s_r, half_r)
        # A host waiting or creeping at the zone will accelerate into it: its entry and clearing
        # times from its own acceleration, not from its (near zero) speed.
        slow = t["v_mps"][r] < SLOW_MPS
        if slow.any():
            in_r[slow], out_r[slow] = start_times(
                t["s_m"][r][slow], t["v_mps"][r][slow], t["a_max_mps2"][r][slow],
                t["length_m"][r][slow], s_r[slow], half_r[slow])
        in_o, out_o = zone_times(t["s_m"][o], t["v_mps"][o], t["length_m"][o], o_s,
                                 c.other_half_m[k])
        d_in = s_r - half_r - t["s_m"][r]
        later = (in_r > in_o) | ((in_r == in_o) & (t["id"][r] > t["id"][o]))
        overlap = (in_r < out_o + self.spec.margin_s) & (in_o < out_r + self.spec.margin_s)
        hit = (d_in > 0) & (out_o > 0) & later & overlap & (in_r <= warn_s)
        if not hit.any():
            return
        sel = q[hit]
        lead, clear_s, d_in = in_r[hit], out_o[hit], d_in[hit]
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
