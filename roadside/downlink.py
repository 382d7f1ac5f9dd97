"""What RSUs put on the air: periodic SPAT/MAP, and RSI broadcasts repeated while valid.

Periodic streams run on a per-RSU phase (a keyed draw), as OBUs do for BSMs, so RSUs do not all
generate in the same millisecond. RSI broadcasts are rows (event, RSU) with a next transmission
time, a period and a validity end: scripted events (hazard, speed limit, work zone) from the
scenario, and collision-risk alerts issued by the edge (refreshed by each new assessment).
Rates and sizes: RADIO_MODEL.md §4.1 (SPAT 10 Hz, MAP 1 Hz, RSI 1-10 Hz while valid).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]

RSI_KINDS = ("hazard", "speed-limit", "work-zone", "collision-risk")


def periodic_times(phase_ms: IntArray, period_ms: int, t0_ms: int, t1_ms: int) -> tuple[IntArray, IntArray]:
    """(source index, time) of every occurrence of phase + k period in [t0, t1), time-ordered."""
    idx, out = [], []
    first = phase_ms + -(-(t0_ms - phase_ms) // period_ms) * period_ms
    k = 0
    while True:
        t = first + k * period_ms
        inside = t < t1_ms
        if not inside.any():
            break
        idx.append(np.flatnonzero(inside))
        out.append(t[inside])
        k += 1
    if not idx:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    i, t = np.concatenate(idx), np.concatenate(out)
    order = np.lexsort((i, t))
    return i[order], t[order]


@dataclass
class RsiTable:
    """RSI events (what is announced) and broadcast rows (which RSU repeats it, when)."""

    # events
    kind: list[str] = field(default_factory=list)
    xy_m: list[tuple[float, float]] = field(default_factory=list)
    radius_m: list[float] = field(default_factory=list)
    speed_limit_mps: list[float] = field(default_factory=list)  # NaN if none
    # broadcast rows
    event: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    rsu: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    next_ms: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    until_ms: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    period_ms: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    origin_ms: IntArray = field(default_factory=lambda: np.empty(0, np.int64))  # -1: gen time
    path: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    key: IntArray = field(default_factory=lambda: np.empty(0, np.int64))  # (rsu, hazard) or -1
    sent_origin_ms: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    arrived_ms: IntArray = field(default_factory=lambda: np.empty(0, np.int64))  # latest confirmation

    def add_event(self, kind: str, xy: tuple[float, float], radius_m: float,
                  speed_limit_mps: float = float("nan")) -> int:
        self.kind.append(kind)
        self.xy_m.append(xy)
        self.radius_m.append(radius_m)
        self.speed_limit_mps.append(speed_limit_mps)
        return len(self.kind) - 1

    def add_rows(self, event: int, rsu: IntArray, start_ms: int, until_ms: int, period_ms: int,
                 origin_ms: int, path: int, key: int = -1) -> None:
        n = len(rsu)
        for name, val in (("event", event), ("rsu", rsu), ("next_ms", start_ms),
                          ("until_ms", until_ms), ("period_ms", period_ms),
                          ("origin_ms", origin_ms), ("path", path), ("key", key),
                          ("sent_origin_ms", -2), ("arrived_ms", start_ms)):
            col = np.broadcast_to(np.asarray(val, dtype=np.int64), (n,))
            setattr(self, name, np.concatenate([getattr(self, name), col]))

    def confirm(self, key: int, rsu: int, at_ms: int, valid_ms: int, origin_ms: int) -> bool:
        """Refreshes the row with `key`; False if there is none (the caller adds one)."""
        hit = np.flatnonzero(self.key == key)
        if not len(hit):
            return False
        i = int(hit[0])
        if self.next_ms[i] > self.until_ms[i]:  # expired: restart now
            self.next_ms[i] = at_ms
        self.until_ms[i] = max(int(self.until_ms[i]), at_ms + valid_ms)
        if origin_ms > self.origin_ms[i]:  # newer information goes out at once (event-triggered,
            self.origin_ms[i] = origin_ms   # as a DENM update); repetitions continue from it. Waiting
            self.arrived_ms[i] = at_ms      # for the old repeat timer would phase-lock the refresh
            self.next_ms[i] = at_ms         # to the 10 Hz BSMs and add up to a period of hold.
        return True

    def due(self, t1_ms: int, repeat_path: int) -> tuple[IntArray, ...]:
        """(event, rsu, gen_ms, origin_ms, path, hold_ms) of transmissions before t1 (hold: how long
        the RSU kept the information before this transmission); advances the rows.
        A transmission that carries no newer information than the row's previous one (an edge
        alert repeated while valid) gets `repeat_path`: it counts for age, not for latency."""
        out: list[tuple[IntArray, ...]] = []
        while True:
            m = (self.next_ms < t1_ms) & (self.next_ms <= self.until_ms)
            if not m.any():
                break
            gen = self.next_ms[m]
            origin = np.where(self.origin_ms[m] < 0, gen, self.origin_ms[m])
            stale = (self.origin_ms[m] >= 0) & (self.origin_ms[m] <= self.sent_origin_ms[m])
            out.append((self.event[m], self.rsu[m], gen, origin,
                        np.where(stale, repeat_path, self.path[m]),
                        np.maximum(gen - self.arrived_ms[m], 0)))
            self.sent_origin_ms[m] = self.origin_ms[m]
            self.next_ms[m] += self.period_ms[m]
        if not out:
            e = np.empty(0, np.int64)
            return e, e, e, e, e, e
        return tuple(np.concatenate([o[j] for o in out]) for j in range(6))
