"""Traffic-safety KPIs of a run: collisions, near misses and minimum TTC, hard braking, red lights.

A recorder, not a driving rule: the mobility model calls it with what it computed anyway (each
vehicle's leader, gap and closing speed, the accelerations it applied, who crossed a stop line on
red), and nothing the recorder holds feeds back into the traffic. So a KPI threshold
(`metrics.near_miss_ttc_s`, `metrics.hard_braking_mps2`) can change without changing the run.

Counting rules (surrogate safety measures as in the FHWA SSAM report, 2008):
- a **collision** is a follower/leader pair whose bumpers overlap, counted once when it begins;
  collisions always count (also before `from_ms`);
- a **near miss** is a closing pair entering TTC = gap / closing speed < the threshold, once per
  episode; `min_ttc_s` is the smallest TTC of any closing pair;
- a **hard-braking event** is a vehicle whose applied deceleration crosses the threshold
  (entering it, not every step it stays there); scripted halts (incidents) are excluded;
- a **red-light violation** is a vehicle whose front crossed its stop line while the signal was
  red; vehicles that may pass on duty (emergency) count as `emergency_red_passes` instead.
Everything but collisions starts at `from_ms`, after the t = 0 placement has settled.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class SafetyRecorder:
    def __init__(self, near_miss_ttc_s: float = 1.5, hard_braking_mps2: float = 4.0,
                 from_ms: int = 0) -> None:
        self.near_miss_ttc_s = near_miss_ttc_s
        self.hard_braking_mps2 = hard_braking_mps2
        self.from_ms = from_ms
        self.collisions = 0
        self.near_misses = 0
        self.min_ttc_s = float("inf")
        self.hard_braking_events = 0
        self.red_light_violations = 0
        self.emergency_red_passes = 0
        self._near: set[tuple[int, int]] = set()
        self._colliding: set[tuple[int, int]] = set()

    def on_pairs(self, ids: NDArray[np.int64], leader: NDArray[np.int64],
                 gap_m: NDArray[np.float64], closing_mps: NDArray[np.float64],
                 now_ms: int) -> None:
        """Follower/leader pairs of one step (`leader` is a row index, -1 for none; `gap_m` is
        bumper to bumper, negative when they overlap)."""
        hit = np.flatnonzero(gap_m < 0.0)
        current = {(int(ids[i]), int(ids[leader[i]])) for i in hit}
        self.collisions += len(current - self._colliding)
        self._colliding = current
        closing = (leader >= 0) & (closing_mps > 0.0) & (gap_m > 0.0)
        if not closing.any() or now_ms < self.from_ms:
            self._near = set()
            return
        ttc = gap_m[closing] / closing_mps[closing]
        self.min_ttc_s = min(self.min_ttc_s, float(ttc.min()))
        rows = np.flatnonzero(closing)[ttc < self.near_miss_ttc_s]
        near = {(int(ids[i]), int(ids[leader[i]])) for i in rows}
        self.near_misses += len(near - self._near)
        self._near = near

    def on_braking(self, applied_mps2: NDArray[np.float64], previous_mps2: NDArray[np.float64],
                   scripted: NDArray[np.bool_], now_ms: int) -> None:
        """Accelerations applied this step against the last step's (`scripted`: incident halts)."""
        if now_ms < self.from_ms:
            return
        hard = -self.hard_braking_mps2
        self.hard_braking_events += int(
            ((applied_mps2 < hard) & (previous_mps2 >= hard) & ~scripted).sum())

    def on_red_crossings(self, on_red: NDArray[np.bool_], exempt: NDArray[np.bool_],
                         now_ms: int) -> None:
        """Vehicles that crossed a stop line on red this step (`exempt`: may pass on duty)."""
        if now_ms < self.from_ms:
            return
        self.red_light_violations += int((on_red & ~exempt).sum())
        self.emergency_red_passes += int((on_red & exempt).sum())

    @property
    def min_ttc_or_none_s(self) -> float | None:
        return None if self.min_ttc_s == float("inf") else self.min_ttc_s
