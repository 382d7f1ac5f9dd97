"""EBW, emergency brake warning (CSAE 53 day-one, V2V, BSM `events`: hard braking).

A BSM whose event flag says "hard braking" and that a following vehicle decodes (the radio decides:
range, collisions, half-duplex all apply) warns that vehicle if the sender is ahead of it in its
lane within `range_m` (vehicles in other lanes are not in its path: braking them too only
startles their followers) and moves at >= 5 m/s (a flag while creeping in a queue is no
emergency stop), once the enhanced time-to-collision with the braking sender is below
`brake_ttc_s` (8 s: about two human reaction-plus-braking times; farther back the sender's later
BSMs re-evaluate). The warned driver brakes, after its own reaction time (a human's drawn
reaction time; an L3/L4 system's processing delay), hard enough to stop behind where the sender
will stop (at least `decel_mps2`, at most `max_decel_mps2`) for `duration_s` or until stopped;
an open warning is not renewed (renewals chain into a self-sustaining stop wave). Without V2X a
driver reacts only to its direct leader, one reaction time after that leader brakes, so delays
add up down a platoon; the warning reaches every equipped follower within range at once. Lead
time: the enhanced TTC to the braking sender (braking as its BSM says) at reception.
"""

from __future__ import annotations

import numpy as np

from sim.radio.messages import MsgType
from sim.spec.apps import EbwSpec
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
from vehicles.apps.fcw import KEEP_GAP_M

#: A flagged BSM from a vehicle slower than this is a stop-and-go creep, not an emergency stop.
MIN_SENDER_SPEED_MPS = 5.0


class EmergencyBrakeWarning(ReceptionApp[EbwSpec]):
    name = "ebw"

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        rec = of_type(rec, (int(MsgType.BSM),))
        rec = rec.subset(rec.brake_flag & (rec.tx_row >= 0))
        rec = rec.subset(ctx.table["v_mps"][rec.tx_row] >= MIN_SENDER_SPEED_MPS)
        if len(rec) == 0:
            return
        t = ctx.table
        rx, tx = rec.rx_row, rec.tx_row
        ahead = t["s_m"][tx] - t["s_m"][rx]
        same = (t["route"][tx] == t["route"][rx]) & (t["lane"][tx] == t["lane"][rx])
        ok = drop_stale(rec, same & (ahead > 0) & (ahead <= self.req.range_m), self.req, self.stats)
        rec, rx, tx = rec.subset(ok), rx[ok], tx[ok]
        if len(rec) == 0:
            return
        gap = t["s_m"][tx] - t["length_m"][tx] - t["s_m"][rx]
        b_lead = np.maximum(-t["a_mps2"][tx], 0.0)
        lead = time_to_collision_s(gap, t["v_mps"][rx], t["v_mps"][tx], b_lead)
        urgent = lead < self.spec.brake_ttc_s
        if not urgent.any():
            return
        rec, rx, tx, gap, b_lead, lead = (rec.subset(urgent), rx[urgent], tx[urgent], gap[urgent],
                                          b_lead[urgent], lead[urgent])
        k = first_per_row(rx, lead)  # the most urgent sender per host
        rows, tx, at = rx[k], tx[k], rec.rx_ms[k]
        # Brake so as to stop behind where the sender stops (it keeps braking as flagged), the
        # reaction delay gone by: at least `decel_mps2`, at most `max_decel_mps2`.
        v, v_l, b_l = t["v_mps"][rows], t["v_mps"][tx], np.maximum(b_lead[k], 1.0)
        tau_s = t["reaction_steps"][rows] * self.step_ms / 1000.0
        room = gap[k] + v_l**2 / (2.0 * b_l) - v * tau_s - KEEP_GAP_M
        need = v**2 / (2.0 * np.maximum(room, 0.5))
        decel = np.clip(need, self.spec.decel_mps2, self.spec.max_decel_mps2)
        new = brake(t, rows, at, decel, round(self.spec.duration_s * 1000), self.step_ms, extend=False)
        self.stats.record((at - rec.gen_ms[k])[new], lead[k][new])
