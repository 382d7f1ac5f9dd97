"""Where routes cross (the conflict points a MAP message describes), and a conflict monitor.

The vehicle table moves each route independently, so two vehicles on crossing routes never "see"
each other in car following: this is the blind (NLOS) intersection, or a driver who misjudges a
permitted left turn. The monitor measures what happens there, with or without V2X:
  - a crossing collision: vehicles of both routes inside the conflict zone at once whose bodies
    touch (oriented boxes from the front bumper back, separating-axis test) at a crossing angle
    (>= 20 degrees between the headings; each pair once): the zone is a lane-wide area, and two
    vehicles can be in it at once a metre apart, as a left turner waiting inside a junction is
    while the oncoming stream passes; side by side at a shallow angle, bodies touch where a SUMO
    net's junction lanes run closer than a car's width (joined clusters), which is no crossing;
  - a near miss: post-encroachment time (PET, Allen et al. 1978: time from the first vehicle
    leaving the zone to the second entering it) below `pet_near_miss_s` (1.5 s, the usual
    threshold of serious conflicts in surrogate safety analysis).
Conflict zone of a crossing on route a: the arc interval where a's carriageway centre path lies
within half of b's carriageway width (plus half a vehicle width) of the crossing point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from vehicles.shared_roads import expand_ranges
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


def crossing_points(a: tuple[NDArray[np.float64], NDArray[np.float64]],
                     b: tuple[NDArray[np.float64], NDArray[np.float64]]
                     ) -> list[tuple[float, float]]:
    """Arc positions (on a, on b) where two (polyline, arc length) paths cross at an angle of at
    least MIN_CROSSING_ANGLE_RAD (shallower meetings are merges or diverges)."""
    (pa, sa), (pb, sb) = a, b
    out = []
    for i, ta, j, tb in _segment_hits(pa, pb):
        da, db = pa[i + 1] - pa[i], pb[j + 1] - pb[j]
        cos = abs(float(da @ db)) / float(np.linalg.norm(da) * np.linalg.norm(db))
        if np.arccos(min(cos, 1.0)) < MIN_CROSSING_ANGLE_RAD:
            continue
        out.append((float(sa[i] + ta * (sa[i + 1] - sa[i])), float(sb[j] + tb * (sb[j + 1] - sb[j]))))
    return out


def find_crossings(geometry) -> Crossings:  # type: ignore[no-untyped-def]
    """Every point where the carriageway centre paths of two routes cross at an angle (merges,
    diverges and shared stretches are not crossings). Build-time only."""
    n = len(geometry.routes)
    paths = [_centre_path(geometry, r) for r in range(n)]
    rows: list[tuple[int, int, float, float, float, float]] = []
    for a in range(n):
        for b in range(a + 1, n):
            for s_a, s_b in crossing_points(paths[a], paths[b]):
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


def bodies_overlap(t: VehicleTable, a: NDArray[np.int64], b: NDArray[np.int64]
                   ) -> NDArray[np.bool_]:
    """Whether the bodies of vehicles a[i] and b[i] overlap: oriented rectangles (length x
    width, front bumper at (x, y), along the heading), separating-axis test on the four edge
    normals."""
    h = t["heading_rad"]
    ux, uy = np.cos(h), np.sin(h)
    half_l, half_w = t["length_m"] / 2.0, t["width_m"] / 2.0
    cx, cy = t["x_m"] - ux * half_l, t["y_m"] - uy * half_l
    dx, dy = cx[b] - cx[a], cy[b] - cy[a]
    sep = np.zeros(len(a), bool)
    for axis_of, along in ((a, True), (a, False), (b, True), (b, False)):
        # Unit axis: the heading of one box, or its normal.
        nx, ny = (ux[axis_of], uy[axis_of]) if along else (-uy[axis_of], ux[axis_of])
        reach = np.zeros(len(a))
        for r in (a, b):
            reach += (half_l[r] * np.abs(ux[r] * nx + uy[r] * ny)
                      + half_w[r] * np.abs(-uy[r] * nx + ux[r] * ny))
        sep |= np.abs(dx * nx + dy * ny) > reach
    return ~sep


def crossing_angle(t: VehicleTable, a: NDArray[np.int64], b: NDArray[np.int64]
                   ) -> NDArray[np.bool_]:
    """Whether vehicles a[i] and b[i] head across each other (at least MIN_CROSSING_ANGLE_RAD
    apart, either way round): two bodies side by side at a shallow angle are where a net's
    junction lanes run closer than a car's width (joined junction clusters), not a crossing."""
    d = np.abs(np.angle(np.exp(1j * (t["heading_rad"][a] - t["heading_rad"][b]))))
    return (d >= MIN_CROSSING_ANGLE_RAD) & (d <= np.pi - MIN_CROSSING_ANGLE_RAD)


#: How many crossing collisions the summary lists one by one (the count has no limit).
MAX_LISTED_COLLISIONS = 100


@dataclass
class CrossingStats:
    collisions: int = 0
    near_misses: int = 0
    min_pet_s: float = float("inf")
    #: The first MAX_LISTED_COLLISIONS collisions: when, where and who (whether V2X-equipped), so
    #: that a with/without-V2X pair can be read crash by crash.
    events: list[dict[str, object]] = field(default_factory=list)


def zone_occupants(table: VehicleTable, route: NDArray[np.int64], s_m: NDArray[np.float64],
                   half_m: NDArray[np.float64],
                   frame: tuple[NDArray[np.int64], NDArray[np.float64]] | None = None
                   ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(zone index, vehicle row) of every vehicle whose body [s - length, s] overlaps a zone
    [s_m - half, s_m + half] on its route. One searchsorted over the zones sorted by (route,
    start) finds each vehicle's candidates: zones whose start lies at most the longest zone plus
    the vehicle's length behind its front; the exact overlap test then filters them."""
    n = len(table)
    if n == 0 or len(route) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    lo_z = s_m - half_m
    span = float((2.0 * half_m).max())
    order = np.lexsort((lo_z, route))
    z_route, z_lo = route[order], lo_z[order]
    v_route, v_s = frame if frame is not None else (table["route"], table["s_m"])
    v_len = table["length_m"]
    # Candidate range per vehicle in the (route, zone start) order.
    first = _searchsorted2(z_route, z_lo, v_route, v_s - v_len - span, "left")
    last = _searchsorted2(z_route, z_lo, v_route, v_s, "right")
    count = np.maximum(last - first, 0)
    rows, idx = expand_ranges(first, count)
    zone = order[idx]
    inside = (v_s[rows] >= s_m[zone] - half_m[zone]) & (v_s[rows] - v_len[rows] <= s_m[zone] + half_m[zone])
    return zone[inside], rows[inside]


#: Spacing of routes in the combined (route, arc position) key: longer than any route, and the
#: arc positions searched (front minus length and zone span) never reach below -_ROUTE_KEY_M / 2.
_ROUTE_KEY_M = float(2**21)


def _searchsorted2(key_a: NDArray[np.int64], key_b: NDArray[np.float64], q_a: NDArray[np.int64],
                   q_b: NDArray[np.float64], side: str) -> NDArray[np.int64]:
    """searchsorted over rows sorted by (key_a, key_b), for queries (q_a, q_b): one search on the
    combined key route * _ROUTE_KEY_M + s (exact in float64 for routes < 1,000 km)."""
    keys = key_a * _ROUTE_KEY_M + key_b
    return np.searchsorted(keys, q_a * _ROUTE_KEY_M + q_b, side=side)  # type: ignore[call-overload]


@dataclass
class CrossingMonitor:
    crossings: Crossings
    pet_near_miss_s: float = 1.5
    stats: CrossingStats = field(default_factory=CrossingStats)
    #: Occupancy of the previous step as sorted codes (zone side * id span + vehicle id), and the
    #: last time each side (2k: crossing k on its lower route, 2k+1: the other) was occupied.
    _prev_codes: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    _last_ms: NDArray[np.int64] | None = None
    _colliding: set[tuple[int, int, int]] = field(default_factory=set)
    #: (route, s) of the vehicles in the crossings' frame; None: the vehicle table's own. On a
    #: SUMO network crossings are between pieces of road (SharedRoads.lane_change_frame).
    frame: Callable[[VehicleTable], tuple[NDArray[np.int64], NDArray[np.float64]]] | None = None

    def on_step(self, table: VehicleTable, now_ms: int) -> None:
        """Counts collisions and PET near misses on the state at `now_ms` (once per step)."""
        c = self.crossings
        lower = np.flatnonzero(c.route < c.other)  # each crossing once, from its lower route
        n_sides = 2 * len(lower)
        if self._last_ms is None:
            self._last_ms = np.full(n_sides, -1, dtype=np.int64)
        # Side 2j: route[k] at s_m[k]; side 2j+1: other[k] at other_s_m[k] (k = lower[j]).
        side_route = np.column_stack([c.route[lower], c.other[lower]]).reshape(-1)
        side_s = np.column_stack([c.s_m[lower], c.other_s_m[lower]]).reshape(-1)
        side_h = np.column_stack([c.half_m[lower], c.other_half_m[lower]]).reshape(-1)
        frame = self.frame(table) if self.frame is not None and len(table) else None
        side, row = zone_occupants(table, side_route, side_s, side_h, frame)
        ids = table["id"]
        span = np.int64(1 << 32)  # vehicle ids stay below it
        codes = np.unique(side * span + ids[row])
        occupied = np.zeros(n_sides, dtype=bool)
        occupied[codes // span] = True
        entered = np.zeros(n_sides, dtype=bool)
        new = codes[~np.isin(codes, self._prev_codes, assume_unique=True)]
        entered[new // span] = True
        partner = np.arange(n_sides) ^ 1
        pet = entered & ~occupied[partner] & (self._last_ms[partner] >= 0)
        if pet.any():
            pet_s = (now_ms - self._last_ms[partner][pet]) / 1000.0
            self.stats.min_pet_s = min(self.stats.min_pet_s, float(pet_s.min()))
            self.stats.near_misses += int((pet_s < self.pet_near_miss_s).sum())
        self._last_ms[occupied] = now_ms
        # Collisions: both sides of a crossing occupied at once by vehicles whose bodies touch
        # (few crossings and occupants at once: a short loop).
        current: set[tuple[int, int, int]] = set()
        both = np.flatnonzero(occupied[0::2] & occupied[1::2])
        row_of = dict(zip(ids[row].tolist(), row.tolist())) if len(both) else {}
        for j in both:
            a_ids = codes[codes // span == 2 * j] % span
            b_ids = codes[codes // span == 2 * j + 1] % span
            pa, pb = np.repeat(a_ids, len(b_ids)), np.tile(b_ids, len(a_ids))
            ra = np.array([row_of[int(i)] for i in pa], dtype=np.int64)
            rb = np.array([row_of[int(i)] for i in pb], dtype=np.int64)
            touch = bodies_overlap(table, ra, rb) & crossing_angle(table, ra, rb)
            k = int(lower[j])
            current.update((k, int(a), int(b)) for a, b in zip(pa[touch], pb[touch]))
        fresh = sorted(current - self._colliding)
        self.stats.collisions += len(fresh)
        for _k, a, b in fresh[:max(MAX_LISTED_COLLISIONS - len(self.stats.events), 0)]:
            ra, rb = row_of[a], row_of[b]
            self.stats.events.append({
                "t_s": round(now_ms / 1000.0, 3),
                "x_m": round(float(table["x_m"][ra] + table["x_m"][rb]) / 2.0, 1),
                "y_m": round(float(table["y_m"][ra] + table["y_m"][rb]) / 2.0, 1),
                "vehicle_ids": [a, b],
                "equipped": [bool(table["equipped"][ra]), bool(table["equipped"][rb])]})
        self._colliding = current
        self._prev_codes = codes

    def summary(self) -> dict[str, object]:
        return {
            "conflict_points": int((self.crossings.route < self.crossings.other).sum()),
            "collisions": self.stats.collisions,
            "near_misses": self.stats.near_misses,
            "min_pet_s": None if self.stats.min_pet_s == float("inf")
            else round(self.stats.min_pet_s, 3),
            "collision_events": list(self.stats.events),
        }


def _junction_of(piece: str) -> str | None:
    """The junction of a SUMO junction lane (":<junction>_<link>_<lane>"); None for an edge."""
    if not piece.startswith(":"):
        return None
    parts = piece[1:].rsplit("_", 2)
    return parts[0] if len(parts) == 3 else None


def find_piece_crossings(geometry, shared) -> Crossings:  # type: ignore[no-untyped-def]
    """Crossings between the junction lanes of one junction of a SUMO network, in the piece
    frame of `shared` (a `vehicles.shared_roads.SharedRoads`): each crossing once per piece pair,
    however many routes use the pieces, so the cost follows the net, not the demand. Pieces that
    follow each other, merge into the same piece or leave the same piece are not crossings.
    Candidate pairs are those whose bounding boxes overlap (one vectorized test)."""
    first: dict[int, int] = {}
    for p, k in enumerate(shared.key):
        first.setdefault(int(k), p)
    keys = sorted(first)
    nxt: dict[int, set[int]] = {k: set() for k in keys}
    prv: dict[int, set[int]] = {k: set() for k in keys}
    for p in range(len(shared.key) - 1):
        if shared.route[p] == shared.route[p + 1]:
            a, b = int(shared.key[p]), int(shared.key[p + 1])
            nxt[a].add(b)
            prv[b].add(a)
    paths, lo, hi = [], [], []
    for k in keys:
        p = first[k]
        r = int(shared.route[p])
        s0 = shared.start_m[p] - geometry.offset_m[r]
        s = np.linspace(s0, s0 + shared.length_m[p], max(2, int(shared.length_m[p] // 5.0) + 2))
        mid = np.full(len(s), geometry.lanes[r] / 2.0 - 0.5)
        x, y, _ = geometry.positions(np.full(len(s), r), s, mid)
        xy = np.column_stack([x, y])
        paths.append((xy, s - s0))
        lo.append(xy.min(axis=0))
        hi.append(xy.max(axis=0))
    lo_a, hi_a = np.array(lo).reshape(-1, 2), np.array(hi).reshape(-1, 2)
    overlap = ((lo_a[:, None, 0] <= hi_a[None, :, 0]) & (lo_a[None, :, 0] <= hi_a[:, None, 0])
               & (lo_a[:, None, 1] <= hi_a[None, :, 1]) & (lo_a[None, :, 1] <= hi_a[:, None, 1]))
    width = float(np.median(geometry.lane_width_m)) if len(geometry.lane_width_m) else 3.2
    half = shared.lanes_of_key * width / 2.0 + HALF_VEHICLE_WIDTH_M
    rows: list[tuple[int, int, float, float, float, float]] = []
    junction = [_junction_of(shared.names[k]) for k in keys]
    for i, j in zip(*np.nonzero(np.triu(overlap, 1))):
        a, b = keys[i], keys[j]
        if junction[i] is None or junction[i] != junction[j]:
            continue  # edges that cross without a junction are grade separated (bridge, tunnel)
        if b in nxt[a] or a in nxt[b] or nxt[a] & nxt[b] or prv[a] & prv[b]:
            continue
        for s_a, s_b in crossing_points(paths[i], paths[j]):
            rows.append((a, b, s_a, s_b, float(half[b]), float(half[a])))
            rows.append((b, a, s_b, s_a, float(half[a]), float(half[b])))
    if not rows:
        return Crossings.empty()
    c = np.array(rows, dtype=np.float64)
    return Crossings(c[:, 0].astype(np.int64), c[:, 1].astype(np.int64), c[:, 2], c[:, 3],
                     c[:, 4], c[:, 5])
