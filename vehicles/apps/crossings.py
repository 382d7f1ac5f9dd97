"""Where routes cross (the conflict points a MAP message describes), and a conflict monitor.

The vehicle table moves each route independently, so two vehicles on crossing routes never "see"
each other in car following: this is the blind (NLOS) intersection, or a driver who misjudges a
permitted left turn. The monitor measures what happens there, with or without V2X:
  - a crossing collision: vehicles of both routes inside the conflict zone at once (each pair once);
  - a near miss: post-encroachment time (PET, Allen et al. 1978: time from the first vehicle
    leaving the zone to the second entering it) below `pet_near_miss_s` (1.5 s, the usual
    threshold of serious conflicts in surrogate safety analysis).
Conflict zone of a crossing on route a: the arc interval where a's carriageway centre path lies
within half of b's carriageway width (plus half a vehicle width) of the crossing point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from vehicles.table import VehicleTable

#: Half a car width: a vehicle's body reaches this far into the crossing carriageway.
HALF_VEHICLE_WIDTH_M = 1.0
#: Crossing segments meeting at less than this angle are merges or diverges, not crossings.
MIN_CROSSING_ANGLE_RAD = np.radians(20.0)


@dataclass(frozen=True)
class Crossings:
    """Conflict points, each stored from both sides: entry k is route[k] crossing other[k]."""

    route: NDArray[np.int64]
    other: NDArray[np.int64]
    s_m: NDArray[np.float64]  # arc position of the conflict point on `route`
    other_s_m: NDArray[np.float64]
    half_m: NDArray[np.float64]  # half-length of the conflict zone along `route`
    other_half_m: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.route)

    @staticmethod
    def empty() -> Crossings:
        z = np.empty(0)
        return Crossings(z.astype(np.int64), z.astype(np.int64), z, z, z, z)


def _centre_path(geometry, r: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # type: ignore[no-untyped-def]
    route = geometry.routes[r]
    s = route.cum_s_m
    mid = np.full(len(s), geometry.lanes[r] / 2.0 - 0.5)
    # Vertex headings: positions() uses the segment starting at each vertex.
    x, y, _ = geometry.positions(np.full(len(s), r), np.maximum(s - 1e-6, 0.0), mid)
    return np.column_stack([x, y]), s


def _segment_hits(p: NDArray[np.float64], q: NDArray[np.float64]
                  ) -> list[tuple[int, float, int, float]]:
    """Proper intersections of polylines p and q: (segment i of p, fraction along it, segment j
    of q, fraction along it)."""
    a0, a1 = p[:-1, None, :], p[1:, None, :]
    b0, b1 = q[None, :-1, :], q[None, 1:, :]
    da, db = a1 - a0, b1 - b0
    den = da[..., 0] * db[..., 1] - da[..., 1] * db[..., 0]
    w = b0 - a0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[..., 0] * db[..., 1] - w[..., 1] * db[..., 0]) / den
        u = (w[..., 0] * da[..., 1] - w[..., 1] * da[..., 0]) / den
    ok = (np.abs(den) > 1e-9) & (t >= 0) & (t < 1) & (u >= 0) & (u < 1)
    return [(int(i), float(t[i, j]), int(j), float(u[i, j])) for i, j in zip(*np.nonzero(ok))]


def find_crossings(geometry) -> Crossings:  # type: ignore[no-untyped-def]
    """Every point where the carriageway centre paths of two routes cross at an angle (merges,
    diverges and shared stretches are not crossings). Build-time only."""
    n = len(geometry.routes)
    paths = [_centre_path(geometry, r) for r in range(n)]
    rows: list[tuple[int, int, float, float, float, float]] = []
    for a in range(n):
        for b in range(a + 1, n):
            (pa, sa), (pb, sb) = paths[a], paths[b]
            for i, ta, j, tb in _segment_hits(pa, pb):
                da, db = pa[i + 1] - pa[i], pb[j + 1] - pb[j]
                cos = abs(float(da @ db)) / float(np.linalg.norm(da) * np.linalg.norm(db))
                if np.arccos(min(cos, 1.0)) < MIN_CROSSING_ANGLE_RAD:
                    continue
                s_a = sa[i] + ta * (sa[i + 1] - sa[i])
                s_b = sb[j] + tb * (sb[j + 1] - sb[j])
                half_a = geometry.lanes[b] * geometry.lane_width_m[b] / 2 + HALF_VEHICLE_WIDTH_M
                half_b = geometry.lanes[a] * geometry.lane_width_m[a] / 2 + HALF_VEHICLE_WIDTH_M
                rows.append((a, b, s_a, s_b, half_a, half_b))
                rows.append((b, a, s_b, s_a, half_b, half_a))
    if not rows:
        return Crossings.empty()
    c = np.array(rows, dtype=np.float64)
    return Crossings(c[:, 0].astype(np.int64), c[:, 1].astype(np.int64), c[:, 2], c[:, 3],
                     c[:, 4], c[:, 5])


def zone_times(s_m: NDArray[np.float64], v_mps: NDArray[np.float64], length_m: NDArray[np.float64],
               conflict_s_m: NDArray[np.float64], half_m: NDArray[np.float64],
               min_speed_mps: float = 0.5) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Times at which a vehicle keeping its speed enters (front in) and clears (rear out) a zone;
    entry 0 when already inside, clear < 0 when already past."""
    v = np.maximum(v_mps, min_speed_mps)
    d_in = conflict_s_m - half_m - s_m
    d_out = conflict_s_m + half_m + length_m - s_m
    return np.maximum(d_in, 0.0) / v, d_out / v


@dataclass
class CrossingStats:
    collisions: int = 0
    near_misses: int = 0
    min_pet_s: float = float("inf")


@dataclass
class CrossingMonitor:
    crossings: Crossings
    pet_near_miss_s: float = 1.5
    stats: CrossingStats = field(default_factory=CrossingStats)
    #: (crossing, side) -> ids inside the zone, and the last time that side was occupied.
    _inside: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    _last_ms: dict[tuple[int, int], int] = field(default_factory=dict)
    _colliding: set[tuple[int, int, int]] = field(default_factory=set)

    def on_step(self, table: VehicleTable, now_ms: int) -> None:
        """Counts collisions and PET near misses on the state at `now_ms` (once per step)."""
        c = self.crossings
        ids = table["id"]
        current: set[tuple[int, int, int]] = set()
        for k in range(len(c)):
            if c.route[k] > c.other[k]:
                continue  # each crossing once, from its lower route
            occ = []
            for r, s_c, h in ((c.route[k], c.s_m[k], c.half_m[k]),
                              (c.other[k], c.other_s_m[k], c.other_half_m[k])):
                on = (table["route"] == r) & (table["s_m"] >= s_c - h) & (
                    table["s_m"] - table["length_m"] <= s_c + h)
                occ.append({int(i) for i in ids[on]})
            for a in occ[0]:
                for b in occ[1]:
                    current.add((k, a, b))
            for side in (0, 1):
                entered = occ[side] - self._inside.get((k, side), set())
                other_last = self._last_ms.get((k, 1 - side))
                if entered and not occ[1 - side] and other_last is not None:
                    pet_s = (now_ms - other_last) / 1000.0
                    self.stats.min_pet_s = min(self.stats.min_pet_s, pet_s)
                    if pet_s < self.pet_near_miss_s:
                        self.stats.near_misses += 1
            for side in (0, 1):
                self._inside[(k, side)] = occ[side]
                if occ[side]:
                    self._last_ms[(k, side)] = now_ms
        self.stats.collisions += len(current - self._colliding)
        self._colliding = current

    def summary(self) -> dict[str, object]:
        return {
            "conflict_points": int((self.crossings.route < self.crossings.other).sum()),
            "collisions": self.stats.collisions,
            "near_misses": self.stats.near_misses,
            "min_pet_s": None if self.stats.min_pet_s == float("inf")
            else round(self.stats.min_pet_s, 3),
        }
