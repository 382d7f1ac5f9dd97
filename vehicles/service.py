"""Kerb-side stops of service fleets, vectorized: smart buses at their line's stops, logistics vans
(deliveries) and sanitation vehicles (sweeping, bin collection) at kerb-side spots.

Every vehicle carries its next stop (`next_stop_s_m`, inf = none) and, while stopped, the end of
its dwell (`dwell_until_ms`). A stop is served from the right (kerb) lane only: within
`KEEP_RIGHT_M` of it the vehicle is made to change right, it then brakes to the stop point as
IDM brakes to a stop line, dwells, and draws its next stop. A stop it cannot serve (not in the
kerb lane, or too late to stop at `MAX_STOP_DECEL_MPS2`) is skipped, as a driver would drive on
to the next one. Bus stops come from the line; the service classes' spots are spaced
exponentially (a Poisson process along the kerb) with the class's mean spacing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vehicles.classes import VEHICLE_CLASSES
from vehicles.idm import idm_acceleration
from vehicles.table import VehicleTable

BUS_CODE = VEHICLE_CLASSES["bus"].code

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Keep to the kerb lane from this far before a stop (about 5 s at 50 km/h plus a lane change).
KEEP_RIGHT_M = 150.0
#: A stop is reached when the front bumper is this close to it and the vehicle (almost) stands.
ARRIVED_M = 1.5
ARRIVED_SPEED_MPS = 0.5
#: A stop needing harder braking than this is skipped (comfortable service braking, ~0.3 g).
MAX_STOP_DECEL_MPS2 = 3.0
#: Shortest dwell drawn (doors open and close, or a bin is emptied).
MIN_DWELL_MS = 1000


@dataclass(frozen=True)
class LineStops:
    """Stops of all bus lines, sorted by (line, s), for one searchsorted per step."""

    line: IntArray
    s_m: FloatArray
    dwell_ms: IntArray  # per line: mean dwell
    dwell_sd_ms: IntArray  # per line
    KEY_M = 1e7

    @property
    def key_m(self) -> FloatArray:
        return self.line * self.KEY_M + self.s_m

    def next_after(self, line: IntArray, s_m: FloatArray) -> FloatArray:
        """Arc position of each vehicle's next stop strictly after s (inf if none or no line)."""
        if len(self.line) == 0:
            return np.full(len(line), np.inf)
        keys = self.key_m
        i = np.searchsorted(keys, line * self.KEY_M + s_m, side="right")
        i_c = np.minimum(i, len(keys) - 1)
        ok = (line >= 0) & (i < len(keys)) & (self.line[i_c] == line)
        return np.where(ok, self.s_m[i_c], np.inf)


@dataclass(frozen=True)
class ServiceParams:
    """Per class code: mean spacing of kerb-side stops (inf: none) and dwell mean/sd."""

    every_m: FloatArray
    dwell_ms: FloatArray
    dwell_sd_ms: FloatArray


@dataclass
class ServiceOutcome:
    a_cap_mps2: FloatArray  # IDM acceleration cap towards / at a stop (inf: unconstrained)
    keep_right: NDArray[np.bool_]
    served: int
    skipped: int
    served_on_line: int = 0  # of `served`, by buses at their line's stops


def first_stops(table_cls: IntArray, line: IntArray, s_m: FloatArray, params: ServiceParams,
                lines: LineStops, rng: np.random.Generator) -> FloatArray:
    """Next stop of newly added vehicles: the line's next stop, or an exponential spacing ahead."""
    every = params.every_m[table_cls]
    draws = rng.exponential(1.0, len(s_m))
    finite = np.isfinite(every)
    random_stop = np.where(finite, s_m + draws * np.where(finite, every, 0.0), np.inf)
    return np.where(line >= 0, lines.next_after(line, s_m), random_stop)


def service_step(t: VehicleTable, now_ms: int, kerb_lane: IntArray, params: ServiceParams,
                 lines: LineStops, rng: np.random.Generator) -> ServiceOutcome:
    """Advances every vehicle's stop state at `now_ms` and returns what car following must obey."""
    n = len(t)
    a_cap = np.full(n, np.inf)
    has = np.isfinite(t["next_stop_s_m"])
    if not has.any():
        return ServiceOutcome(a_cap, np.zeros(n, bool), 0, 0)
    s, v, lane = t["s_m"], t["v_mps"], t["lane"]
    until = t["dwell_until_ms"]
    dwelling = (until >= 0) & (now_ms < until)
    done = (until >= 0) & (now_ms >= until)
    gap = t["next_stop_s_m"] - s
    at_kerb = lane == kerb_lane
    arrive = has & ~dwelling & ~done & at_kerb & (gap <= ARRIVED_M) & (v < ARRIVED_SPEED_MPS)
    passed = has & ~dwelling & ~arrive & (gap < -ARRIVED_M)
    advance = done | passed
    if advance.any():
        rows = np.flatnonzero(advance)
        t["next_stop_s_m"][rows] = first_stops(t["cls"][rows], t["line"][rows], s[rows] + ARRIVED_M,
                                               params, lines, rng)
        t["dwell_until_ms"][rows] = -1
    served_on_line = 0
    if arrive.any():
        rows = np.flatnonzero(arrive)
        on_line = t["line"][rows] >= 0
        # Bus stops: a line's stops served by a bus (a SUMO demand's sweeper has stops too).
        served_on_line = int((on_line & (t["cls"][rows] == BUS_CODE)).sum())
        li = np.maximum(t["line"][rows], 0)
        line_mean = lines.dwell_ms[li] if len(lines.dwell_ms) else 0
        line_sd = lines.dwell_sd_ms[li] if len(lines.dwell_sd_ms) else 0
        mean = np.where(on_line, line_mean, params.dwell_ms[t["cls"][rows]])
        sd = np.where(on_line, line_sd, params.dwell_sd_ms[t["cls"][rows]])
        dwell = np.maximum(mean + sd * rng.standard_normal(len(rows)), MIN_DWELL_MS)
        t["dwell_until_ms"][rows] = now_ms + np.round(dwell).astype(np.int64)
        t["stops_made"][rows] += 1
        t["v_mps"][rows] = 0.0
        dwelling = dwelling | arrive
    gap = t["next_stop_s_m"] - s
    has = np.isfinite(gap)
    needed = v**2 / (2.0 * np.maximum(gap, 0.1))
    target = has & ~dwelling & at_kerb & (gap > -ARRIVED_M) & (needed <= MAX_STOP_DECEL_MPS2)
    if target.any():
        a_stop = idm_acceleration(v, t["v0_mps"], np.maximum(gap, 0.0) + t["s0_m"], v,
                                  t["headway_s"], t["a_max_mps2"], t["b_comf_mps2"], t["s0_m"])
        a_cap = np.where(target, a_stop, a_cap)
    a_cap = np.where(dwelling, -t["b_comf_mps2"], a_cap)
    keep_right = has & ~dwelling & (gap < KEEP_RIGHT_M) & (lane < kerb_lane)
    return ServiceOutcome(a_cap, keep_right, int(arrive.sum()), int(passed.sum()), served_on_line)
