"""MOBIL lane changing (Kesting, Treiber & Helbing 2007), vectorized over all vehicles.

MOBIL ("minimizing overall braking induced by lane changes") judges a lane by the accelerations
the car-following model would give there, so the IDM's anticipation of gaps and closing speeds
carries over to lane changes without extra parameters. A vehicle c with new leader/follower n in
the target lane and old follower o changes when

* safety: the new follower would not brake harder than b_safe, ã_n >= -b_safe, and neither new
  neighbour overlaps c (bumper gaps >= 0);
* incentive, in the paper's asymmetric form for keep-right traffic (China drives on the right;
  lane 0 is the innermost, fastest lane):
  to the left   ã_c - a_c + p (ã_n - a_n) - a_bias >= Δa_th,
  to the right  ã_c - a_c + p (ã_o - a_o) + a_bias >= Δa_th.
  Moving left to overtake weighs the follower one cuts in front of; moving right weighs the
  follower one makes way for. A slow truck therefore never pulls into the fast lane just to let
  the car behind it pass (the symmetric rule would make it do so), while a car dawdling on the
  left does move right for a faster one. The comparison is >= rather than the paper's > so that
  the defaults a_bias = Δa_th (Treiber's published values) still return a car to the right on an
  empty road, where every acceleration term is exactly zero.

The asymmetric model's ban on passing on the right (its modified a_c) is not modelled. A vehicle
that must leave its lane (`blocked`) skips the incentive and only needs safety; it takes the side
with more room. All accelerations come from `vehicles.idm.idm_acceleration` on actual (not
perceived) gaps.

Neighbours are found without loops: every vehicle gets an exact integer sort code
(route, lane, rank of s), one stable argsort orders all lanes at once (ties in s by row, exactly as
`Mobility.leaders`), and a `searchsorted` of each vehicle's own code moved to the target lane finds
its new leader and follower there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vehicles.idm import idm_acceleration

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Same (route, lane) packing as `vehicles.mobility`; lanes per route stay far below it.
LANE_KEY = 64
#: Decisions: change to lane - 1 (towards the centre line), stay, change to lane + 1.
LEFT, STAY, RIGHT = -1, 0, 1


@dataclass(frozen=True)
class MobilParams:
    """MOBIL parameters (Treiber's published values; Kesting et al. 2007 Table 1 ranges)."""

    politeness: float = 0.3  #: p: weight of the followers' acceleration changes [-]
    threshold_mps2: float = 0.2  #: Δa_th: minimum net gain that makes a change worth it [m/s²]
    safe_decel_mps2: float = 4.0  #: b_safe: the new follower must not brake harder [m/s²]
    bias_right_mps2: float = 0.2  #: a_bias: keep-right bonus (right) / malus (left) [m/s²]
    min_interval_s: float = 3.0  #: a vehicle changes lanes at most once per interval [s]


def _segment_suffix_min(values: FloatArray, group: IntArray) -> FloatArray:
    """out[k] = min(values[k:]) over the run of equal `group` containing k (group sorted).

    Exact: values are replaced by their ranks and each group is shifted into its own integer
    band, so one reversed `np.minimum.accumulate` never carries a minimum across groups.
    """
    if len(values) == 0:
        return values.astype(np.float64)
    uniq, rank = np.unique(values, return_inverse=True)
    _, band = np.unique(group, return_inverse=True)
    m = np.int64(len(uniq))
    packed = band.astype(np.int64).reshape(-1) * m + rank.astype(np.int64).reshape(-1)
    suffix = np.minimum.accumulate(packed[::-1])[::-1]
    return uniq[suffix - band.reshape(-1) * m]


def _idm_behind(
    rows: IntArray, gap_m: FloatArray, lead_v_mps: FloatArray, cols: dict[str, FloatArray]
) -> FloatArray:
    """IDM acceleration of vehicles `rows` (>= 0) at `gap_m` behind a leader driving `lead_v_mps`
    (gap inf = free road, where the closing speed is irrelevant and set to 0 as in `leaders`)."""
    v = cols["v"][rows]
    dv = np.where(np.isfinite(gap_m), v - lead_v_mps, 0.0)
    return idm_acceleration(
        v, cols["v0"][rows], gap_m, dv, cols["T"][rows], cols["a"][rows], cols["b"][rows],
        cols["s0"][rows],
    )


def lane_change_decisions(
    route: ArrayLike,
    lane: ArrayLike,
    s_m: ArrayLike,
    v_mps: ArrayLike,
    length_m: ArrayLike,
    v0_mps: ArrayLike,
    headway_s: ArrayLike,
    a_max_mps2: ArrayLike,
    b_comf_mps2: ArrayLike,
    s0_m: ArrayLike,
    lanes_per_route: ArrayLike,
    last_change_s: ArrayLike,
    now_s: float,
    params: MobilParams,
    blocked: ArrayLike | None = None,
    allowed: ArrayLike | None = None,
    forced: ArrayLike | None = None,
    max_lane: ArrayLike | None = None,
) -> IntArray:
    """Per vehicle: -1 change left (lane - 1), 0 stay, +1 change right (lane + 1).

    Columns are per vehicle (length N); `s_m` is the front bumper's arc position, a vehicle
    occupies [s - length, s]. `lanes_per_route[route]` bounds the target lane to 0..lanes-1 of the
    same route. A vehicle is eligible when `allowed` (default all) and at least `min_interval_s`
    have passed since `last_change_s` (-inf = never), so MOBIL's instantaneous changes cannot
    oscillate step after step. `blocked` vehicles must leave their lane: no incentive, only safety,
    and the side with more room (the smaller of the front and rear bumper gaps) wins, ties right.
    Otherwise, if both sides pass, the larger incentive wins, ties right (keep right).
    `forced` (per vehicle LEFT/RIGHT, 0 = free) is an obligation to that side (merging off an
    acceleration lane, reaching the kerb lane before a stop or an exit): no incentive, only
    safety (for the new follower and for the changer behind its new leader), never the other
    side. `max_lane` (per vehicle) bounds the target lane below the
    route's lane count (main-lane vehicles never enter an acceleration lane).

    Simultaneous changes are resolved in one deterministic, conservative pass over the vehicles
    entering each target lane, ordered by front position (equal fronts: the lower row, i.e. the
    older vehicle, counts as further ahead). Of two entrants that would overlap, only the one
    further ahead changes; the one behind also stays if, behind an entrant that would become its
    new leader, it would have to brake harder than b_safe. A vehicle may thus yield to one that
    itself yields; it simply tries again next step. Vehicles leaving a lane only free room, and
    each entrant was already checked against everybody currently in its target lane, so no two
    vehicles that did not overlap before can overlap after `apply_lane_changes`.
    """
    s = np.asarray(s_m, dtype=np.float64)
    n = len(s)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    route_ = np.asarray(route, dtype=np.int64)
    lane_ = np.asarray(lane, dtype=np.int64)
    v = np.asarray(v_mps, dtype=np.float64)
    rear = s - np.asarray(length_m, dtype=np.float64)
    cols = {
        "v": v,
        "v0": np.asarray(v0_mps, dtype=np.float64),
        "T": np.asarray(headway_s, dtype=np.float64),
        "a": np.asarray(a_max_mps2, dtype=np.float64),
        "b": np.asarray(b_comf_mps2, dtype=np.float64),
        "s0": np.asarray(s0_m, dtype=np.float64),
    }
    n_lanes = np.asarray(lanes_per_route, dtype=np.int64)[route_]
    if max_lane is not None:
        n_lanes = np.minimum(n_lanes, np.asarray(max_lane, dtype=np.int64) + 1)
    forced_ = np.zeros(n, np.int64) if forced is None else np.asarray(forced, dtype=np.int64)
    blocked_ = np.zeros(n, bool) if blocked is None else np.asarray(blocked, dtype=bool)
    eligible = np.ones(n, bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    eligible &= (now_s - np.asarray(last_change_s, dtype=np.float64)) >= params.min_interval_s
    p = params.politeness
    inf = np.inf

    # One exact integer sort code per vehicle: lane key, then rank of s (no float packing).
    _, s_rank = np.unique(s, return_inverse=True)
    s_rank = s_rank.astype(np.int64).reshape(-1)
    m = np.int64(s_rank.max() + 1)
    key = route_ * LANE_KEY + lane_
    code = key * m + s_rank
    order = np.argsort(code, kind="stable")
    code_sorted = code[order]
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    # Lowest rear bumper from each sorted slot to the front of its lane: the room ahead, exact
    # even if the lane already holds overlapping (collided) vehicles.
    min_rear_ahead = _segment_suffix_min(rear[order], key[order])

    # Current lane: leader and follower are the sorted neighbours (as in `Mobility.leaders`).
    nxt, prv = np.minimum(pos + 1, n - 1), np.maximum(pos - 1, 0)
    has_lead = (pos + 1 < n) & (key[order[nxt]] == key)
    lead = np.where(has_lead, order[nxt], 0)
    has_old_f = (pos >= 1) & (key[order[prv]] == key)
    old_f = np.where(has_old_f, order[prv], 0)
    gap_lead = np.where(has_lead, rear[lead] - s, inf)
    acc_c = _idm_behind(np.arange(n), gap_lead, v[lead], cols)
    # Old follower behind us now, and behind our leader once we are gone.
    acc_o = np.where(has_old_f, _idm_behind(old_f, np.where(has_old_f, rear - s[old_f], inf),
                                            v, cols), 0.0)
    gap_o_new = np.where(has_old_f & has_lead, rear[lead] - s[old_f], inf)
    acc_o_new = np.where(has_old_f, _idm_behind(old_f, gap_o_new, v[lead], cols), 0.0)

    passes: dict[int, BoolArray] = {}
    score: dict[int, FloatArray] = {}
    room: dict[int, FloatArray] = {}
    new_lead: dict[int, IntArray] = {}
    for side in (LEFT, RIGHT):
        target = lane_ + side
        valid = (target >= 0) & (target < n_lanes)
        tkey = key + side
        query = tkey * m + s_rank
        idx = np.searchsorted(code_sorted, query, side="right")
        at = np.minimum(idx, n - 1)
        has_nl = (idx < n) & (code_sorted[at] < (tkey + 1) * m)
        nl = np.where(has_nl, order[at], 0)
        fi = np.maximum(idx - 1, 0)
        has_nf = (idx >= 1) & (code_sorted[fi] >= tkey * m)
        nf = np.where(has_nf, order[fi], 0)
        room_front = np.where(has_nl, min_rear_ahead[at] - s, inf)
        room_rear = np.where(has_nf, rear - s[nf], inf)
        fits = (room_front >= 0.0) & (room_rear >= 0.0)
        gap_nl = np.where(has_nl, rear[nl] - s, inf)
        acc_c_new = _idm_behind(np.arange(n), gap_nl, v[nl], cols)
        acc_n_new = np.where(has_nf, _idm_behind(nf, room_rear, v, cols), 0.0)
        gap_n = np.where(has_nf & has_nl, rear[nl] - s[nf], inf)
        acc_n = np.where(has_nf, _idm_behind(nf, gap_n, v[nl], cols), 0.0)
        safe = ~has_nf | (acc_n_new >= -params.safe_decel_mps2)
        # Asymmetric politeness: left weighs the new follower, right the old one (see above).
        others = (acc_n_new - acc_n) if side == LEFT else (acc_o_new - acc_o)
        gain = acc_c_new - acc_c + p * others + side * params.bias_right_mps2
        wants = np.where(forced_ != 0, forced_ == side, blocked_ | (gain >= params.threshold_mps2))
        # An obliged change skips the incentive, so it must also be safe for the changer itself:
        # no harder braking than b_safe behind its new leader (the incentive covers this otherwise).
        own_safe = (forced_ == 0) | (acc_c_new >= -params.safe_decel_mps2)
        passes[side] = eligible & valid & fits & safe & wants & own_safe
        score[side] = gain
        room[side] = np.minimum(room_front, room_rear)
        new_lead[side] = np.where(has_nl, nl, -1)

    both = passes[LEFT] & passes[RIGHT]
    prefer_right = np.where(blocked_, room[RIGHT] >= room[LEFT], score[RIGHT] >= score[LEFT])
    go_right = passes[RIGHT] & (~both | prefer_right)
    go_left = passes[LEFT] & ~go_right
    decision = np.where(go_right, RIGHT, np.where(go_left, LEFT, STAY)).astype(np.int64)
    return _resolve_conflicts(decision, key, s, rear, new_lead, cols, params.safe_decel_mps2)


def _resolve_conflicts(
    decision: IntArray, key: IntArray, s: FloatArray, rear: FloatArray,
    new_lead: dict[int, IntArray], cols: dict[str, FloatArray], safe_decel_mps2: float,
) -> IntArray:
    """Cancels the rear one of any two vehicles entering the same lane that would overlap, or where
    the rear one would brake harder than b_safe behind the other (see `lane_change_decisions`)."""
    movers = np.flatnonzero(decision != STAY)
    if len(movers) < 2:
        return decision
    target = key[movers] + decision[movers]
    # Ascending front position per target lane; equal fronts: the lower row sorts later (ahead).
    ranked = np.lexsort((-movers, s[movers], target))
    k = movers[ranked]
    tk = target[ranked]
    suffix = _segment_suffix_min(rear[k], tk)
    same_next = np.append(tk[1:] == tk[:-1], False)
    rear_ahead = np.where(same_next, np.append(suffix[1:], np.inf), np.inf)
    overlap = rear_ahead < s[k]
    # The nearest entrant ahead becomes the new leader unless the old target-lane leader is nearer.
    j = np.append(k[1:], 0)
    nl = np.where(decision[k] == LEFT, new_lead[LEFT][k], new_lead[RIGHT][k])
    closer = same_next & ((nl < 0) | (s[j] <= s[np.maximum(nl, 0)]))
    acc = _idm_behind(k, np.where(closer, rear[j] - s[k], np.inf), cols["v"][j], cols)
    unsafe = closer & (acc < -safe_decel_mps2)
    out = decision.copy()
    out[k[overlap | unsafe]] = STAY
    return out


def apply_lane_changes(lane: ArrayLike, decision: ArrayLike) -> IntArray:
    """New lane per vehicle: lane + decision (decisions already respect the lane bounds)."""
    return np.asarray(lane, dtype=np.int64) + np.asarray(decision, dtype=np.int64)
