"""FCW, forward collision warning (CSAE 53 day-one, V2V, BSM).

The host vehicle compares its own state with the BSMs of vehicles ahead of it in its lane on the
same route within `range_m`. When the enhanced time-to-collision (the sender braking as its BSM
says, the host keeping its speed) drops below `ttc_warn_s` the driver is warned and, after its
reaction delay, brakes at the deceleration that stops the closing within the gap left after that
delay (at least `decel_mps2`, at most `max_decel_mps2`). A sender two or three vehicles ahead, out
of the driver's sight, counts too: that is what V2X adds over the driver's eyes.

`ttc_warn_s` = 3.0 s: production FCW alerts at TTC about 2.0-2.7 s (NHTSA NCAP FCW test
tolerances); 3 s leaves a human with a ~1 s reaction about 2 s of braking. Lead time: the TTC at
reception.
"""

from __future__ import annotations

import numpy as np

from sim.radio.messages import MsgType
from sim.spec.apps import FcwSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    brake,
    drop_stale,
    first_per_row,
    of_type,
    time_to_collision_s,
)

#: Bumper gap the required deceleration aims to keep (the IDM jam distance of a car, 2 m).
KEEP_GAP_M = 2.0


class ForwardCollisionWarning(ReceptionApp[FcwSpec]):
    name = "fcw"

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        rec = of_type(rec, (int(MsgType.BSM),))
        rec = rec.subset(rec.tx_row >= 0)
        if len(rec) == 0:
            return
        t = ctx.table
        rx, tx = rec.rx_row, rec.tx_row
        ahead = t["s_m"][tx] - t["s_m"][rx]
        same = (t["route"][tx] == t["route"][rx]) & (t["lane"][tx] == t["lane"][rx])
        ok = drop_stale(rec, same & (ahead > 0) & (ahead <= self.req.range_m), self.req, self.stats)
        rec, rx, tx = rec.subset(ok), rx[ok], tx[ok]
        gap = t["s_m"][tx] - t["length_m"][tx] - t["s_m"][rx]
        b_lead = np.maximum(-t["a_mps2"][tx], 0.0)
        ttc = time_to_collision_s(gap, t["v_mps"][rx], t["v_mps"][tx], b_lead)
        hit = (ttc < self.spec.ttc_warn_s) & (gap > 0)
        if not hit.any():
            return
        rec, rx, tx, gap, b_lead, ttc = (rec.subset(hit), rx[hit], tx[hit], gap[hit], b_lead[hit],
                                         ttc[hit])
        k = first_per_row(rx, ttc)  # the most urgent sender per host
        rows, tx, gap, b_lead, ttc, at = rx[k], tx[k], gap[k], b_lead[k], ttc[k], rec.rx_ms[k]
        tau_s = t["reaction_steps"][rows] * self.step_ms / 1000.0
        dv = np.maximum(t["v_mps"][rows] - t["v_mps"][tx], 0.0)
        left = np.maximum(gap - dv * tau_s - 0.5 * b_lead * tau_s**2 - KEEP_GAP_M, 0.5)
        need = b_lead + dv**2 / (2.0 * left)
        # A driver already braking as hard as the situation needs gets no warning (CAMP-style
        # algorithms take the host's own deceleration into account): it would only add a jolt.
        act = -t["a_mps2"][rows] < need
        rows, at, need, ttc, gen = rows[act], at[act], need[act], ttc[act], rec.gen_ms[k][act]
        decel = np.clip(need, self.spec.decel_mps2, self.spec.max_decel_mps2)
        new = brake(t, rows, at, decel, round(self.spec.duration_s * 1000), self.step_ms)
        self.stats.record((at - gen)[new], ttc[new])
