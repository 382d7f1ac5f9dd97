"""What RSUs put on the air: periodic SPAT/MAP, and RSI broadcasts repeated while valid.

Periodic streams run on a per-RSU phase (a keyed draw), as OBUs do for BSMs, so RSUs do not all
generate in the same millisecond. RSI broadcasts are rows (event, RSU) with a next transmission
time, a period and a validity end: scripted events (hazard, speed limit, work zone) from the
scenario, and collision-risk alerts issued by the edge (refreshed by each new assessment).
Rates and sizes: docs/radio-model.md §4.1 (SPAT 10 Hz, MAP 1 Hz, RSI 1-10 Hz while valid).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.core.table import ColumnTable

IntArray = NDArray[np.int64]
_ROW_COLUMNS = ("id", "event", "rsu", "next_ms", "until_ms", "period_ms", "origin_ms", "path",
                "key", "sent_origin_ms", "arrived_ms")

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


class RsiTable:
    """RSI events (what is announced) and broadcast rows (which RSU repeats it, when).

    Rows live in a `sim.core.table.ColumnTable`; a row without a key whose validity ended can
    never go out again and is dropped (keyed rows stay: a new confirmation restarts them)."""

    def __init__(self) -> None:
        # events
        self.kind: list[str] = []
        self.xy_m: list[tuple[float, float]] = []
        self.radius_m: list[float] = []
        self.speed_limit_mps: list[float] = []  # NaN if none
        # broadcast rows: key is (rsu, hazard) or -1; origin_ms -1 means the generation time;
        # arrived_ms is the latest confirmation
        self.rows = ColumnTable({name: np.int64 for name in _ROW_COLUMNS})

    def add_event(self, kind: str, xy: tuple[float, float], radius_m: float,
                  speed_limit_mps: float = float("nan")) -> int:
        self.kind.append(kind)
        self.xy_m.append(xy)
        self.radius_m.append(radius_m)
        self.speed_limit_mps.append(speed_limit_mps)
        return len(self.kind) - 1

    def add_rows(self, event: int, rsu: IntArray, start_ms: int, until_ms: int, period_ms: int,
                 origin_ms: int, path: int, key: int = -1) -> None:
        self.rows.append(len(rsu), event=event, rsu=rsu, next_ms=start_ms, until_ms=until_ms,
                         period_ms=period_ms, origin_ms=origin_ms, path=path, key=key,
                         sent_origin_ms=-2, arrived_ms=start_ms)

    def confirm(self, key: int, rsu: int, at_ms: int, valid_ms: int, origin_ms: int) -> bool:
        """Refreshes the row with `key`; False if there is none (the caller adds one)."""
        r = self.rows
        hit = np.flatnonzero(r["key"] == key)
        if not len(hit):
            return False
        i = int(hit[0])
        next_ms, until, origin = r["next_ms"], r["until_ms"], r["origin_ms"]
        if next_ms[i] > until[i]:  # expired: restart now
            next_ms[i] = at_ms
        until[i] = max(int(until[i]), at_ms + valid_ms)
        if origin_ms > origin[i]:  # newer information goes out at once (event-triggered,
            origin[i] = origin_ms   # as a DENM update); repetitions continue from it. Waiting
            r["arrived_ms"][i] = at_ms  # for the old repeat timer would phase-lock the refresh
            next_ms[i] = at_ms      # to the 10 Hz BSMs and add up to a period of hold.
        return True

    def due(self, t1_ms: int, repeat_path: int) -> tuple[IntArray, ...]:
        """(event, rsu, gen_ms, origin_ms, path, hold_ms) of transmissions before t1 (hold: how long
        the RSU kept the information before this transmission); advances the rows.
        A transmission that carries no newer information than the row's previous one (an edge
        alert repeated while valid) gets `repeat_path`: it counts for age, not for latency."""
        r = self.rows
        done = (r["key"] < 0) & (r["next_ms"] > r["until_ms"])
        if done.any():
            r.keep(~done)
        out: list[tuple[IntArray, ...]] = []
        next_ms, until, origin = r["next_ms"], r["until_ms"], r["origin_ms"]
        sent = r["sent_origin_ms"]
        while True:
            m = (next_ms < t1_ms) & (next_ms <= until)
            if not m.any():
                break
            gen = next_ms[m]
            orig = np.where(origin[m] < 0, gen, origin[m])
            stale = (origin[m] >= 0) & (origin[m] <= sent[m])
            out.append((r["event"][m], r["rsu"][m], gen, orig,
                        np.where(stale, repeat_path, r["path"][m]),
                        np.maximum(gen - r["arrived_ms"][m], 0)))
            sent[m] = origin[m]
            next_ms[m] += r["period_ms"][m]
        if not out:
            e = np.empty(0, np.int64)
            return e, e, e, e, e, e
        return tuple(np.concatenate([o[j] for o in out]) for j in range(6))
