"""Vehicles on different routes that drive the same road: leaders, merges and room to enter.

Within one route, the leader of a vehicle is the next vehicle ahead in its (route, lane). On a
SUMO network every vehicle of the demand has its own route, and many routes run over the same
edges and junction lanes: a vehicle must also follow the vehicles of *other* routes on the piece
of road it is on, and the ones it will meet on the next pieces of its own route, where routes
merge. This module finds those leaders for all vehicles at once.

Pieces. A route is a chain of pieces (an edge, or the internal lane a connection takes through a
junction), named as in the net, so the same name on two routes is the same directed piece of road
and lane k of it (counted from the inner edge of the road, as the route polylines are) is the same
physical lane. Each vehicle is located on its piece with one searchsorted: (piece key, lane, local
position). A vehicle within `lookahead_m` of the end of its piece is also entered, at a negative
position (minus its distance), on the next one or two pieces of its route.

One lexsort over (key, lane, position) then orders, on every piece and lane, the vehicles on it
by position and, behind them, the ones approaching it by their distance to its start. The next
entry in that order is a leader candidate:
- both on the piece, or the follower approaching and the leader on it: a *physical* leader along
  the follower's own path (gap = difference of positions minus the leader's length);
- both approaching (from different pieces where routes merge): a *virtual* leader, first come
  first served: the one closer to the merge goes first and the other follows it through the merge,
  as a zip. Virtual gaps steer car following only; they are not pairs on one road, so they feed no
  safety KPI (no collision, TTC or near miss between vehicles that are still on different roads).
The closest candidate wins (together with the same-route leader the caller already has).

Not modelled: crossing conflicts inside a junction (foe links that cross rather than merge) and
right-of-way rules beyond first come first served; at signalised junctions the signals keep
crossing flows apart, at priority junctions the minor road does not yield.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.road import RouteGeometry

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: (piece key, lane) packing; lanes stay far below it.
_LANE_KEY = 64
#: Pieces of the own route ahead on which a vehicle is entered as approaching.
_PIECES_AHEAD = 2
#: How far past an entry point the room check looks for the vehicle ahead [m].
ROOM_LOOK_M = 100.0
#: Route spacing of the combined (route, s) key (exact in float64 for routes < 1,000 km).
KEY_M = float(2**21)


@dataclass(frozen=True)
class Leaders:
    """Per vehicle: leader row (-1 none), bumper gap along its path, and whether the pair is on
    one road (False for a virtual leader at a merge)."""

    leader: IntArray
    gap_m: FloatArray
    physical: NDArray[np.bool_]


class SharedRoads:
    """The pieces of every route, keyed by name, for vectorized cross-route look-ups."""

    def __init__(self, geometry: RouteGeometry) -> None:
        self.geo = geometry
        key_of: dict[str, int] = {}
        start, length, key, route = [], [], [], []
        for r, rt in enumerate(geometry.routes):
            bounds = (0.0, *rt.junctions_s_m, rt.length_m)
            for j, name in enumerate(rt.road_names):
                s0, s1 = bounds[j], bounds[j + 1]
                start.append(float(geometry.offset_m[r] + s0))
                length.append(max(s1 - s0, 0.0))
                key.append(key_of.setdefault(name, len(key_of)))
                route.append(r)
        self.n_keys = len(key_of)
        #: Piece name (SUMO edge or junction lane id) of each key.
        self.names = sorted(key_of, key=key_of.__getitem__)
        #: Global arc coordinate of each piece start (sorted: routes are laid out in order).
        self.start_m = np.array(start)
        self.length_m = np.array(length)
        self.key = np.array(key, dtype=np.int64)
        self.route = np.array(route, dtype=np.int64)
        #: Widest lane count any route uses on each key (bounds lane changes per piece).
        self.lanes_of_key = np.zeros(self.n_keys, dtype=np.int64)
        np.maximum.at(self.lanes_of_key, self.key, geometry.lanes[self.route])
        #: Per key: an internal lane of a junction (SUMO names them ":<junction>_...").
        self.junction_key = np.array([n.startswith(":") for n in self.names], dtype=bool)

    @staticmethod
    def of(geometry: RouteGeometry) -> SharedRoads | None:
        """For a geometry whose routes come from a SUMO net (directed pieces with unique names);
        None otherwise: GeoJSON road names are not directed, so routes never share pieces."""
        if not geometry.routes or any(set(r.sources) != {"sumo"} for r in geometry.routes):
            return None
        return SharedRoads(geometry)

    def locate(self, route: IntArray, s_m: FloatArray) -> tuple[IntArray, FloatArray]:
        """Global piece index and position on that piece of vehicles at (route, s)."""
        g = np.clip(s_m, 0.0, self.geo.length_m[route]) + self.geo.offset_m[route]
        p = np.clip(np.searchsorted(self.start_m, g, side="right") - 1, 0, len(self.start_m) - 1)
        return p, s_m - (self.start_m[p] - self.geo.offset_m[route])

    def entries(self, route: IntArray, s_m: FloatArray, lane: IntArray, v_mps: FloatArray,
                hold_m: FloatArray | None = None) -> tuple[IntArray, IntArray, FloatArray]:
        """(vehicle row, key*_LANE_KEY+lane, position) of every on-piece and approach entry.
        `hold_m`: distance to a stop line the vehicle must stop at (red or yellow; inf: none);
        a vehicle is not entered on pieces beyond it, so that a vehicle waiting at a red light is
        nobody's virtual leader in the merge it will only reach on its green."""
        n = len(route)
        p, s_loc = self.locate(route, s_m)
        rows = [np.arange(n)]
        keys = [self.key[p] * _LANE_KEY + lane]
        pos = [s_loc]
        dist = self.length_m[p] - s_loc
        reach = lookahead_m(v_mps)
        nxt = p.copy()
        for _ in range(_PIECES_AHEAD):
            nxt = nxt + 1
            ok = (nxt < len(self.key)) & (dist < reach)
            if hold_m is not None:
                ok &= dist + 0.5 < hold_m
            ok[ok] &= self.route[nxt[ok]] == route[ok]
            if not ok.any():
                break
            idx = np.flatnonzero(ok)
            rows.append(idx)
            keys.append(self.key[nxt[idx]] * _LANE_KEY + lane[idx])
            pos.append(-dist[idx])
            dist = np.where(ok, dist + self.length_m[np.minimum(nxt, len(self.key) - 1)], np.inf)
        return np.concatenate(rows), np.concatenate(keys), np.concatenate(pos)

    def leaders(self, route: IntArray, s_m: FloatArray, lane: IntArray, v_mps: FloatArray,
                length_m: FloatArray, hold_m: FloatArray | None = None) -> Leaders:
        """The nearest leader of each vehicle over its piece and the next pieces of its route."""
        n = len(route)
        out = Leaders(np.full(n, -1, dtype=np.int64), np.full(n, np.inf), np.zeros(n, bool))
        if n < 2:
            return out
        row, key, pos = self.entries(route, s_m, lane, v_mps, hold_m)
        here = key[:n]  # the first n entries are the on-piece ones, in row order
        o = np.lexsort((row, pos, key))  # ties in position by row: deterministic
        row, key, pos = row[o], key[o], pos[o]
        same = key[1:] == key[:-1]
        f, ld = row[:-1][same], row[1:][same]
        gap = pos[1:][same] - pos[:-1][same] - length_m[ld]
        # On one road: the leader is on the piece, or both are still on the same piece and lane.
        physical = (pos[1:][same] >= 0.0) | (here[f] == here[ld])
        # The closest candidate per follower: sort by (follower, gap) and keep the first.
        o = np.lexsort((gap, f))
        f, ld, gap, physical = f[o], ld[o], gap[o], physical[o]
        first = np.ones(len(f), bool)
        first[1:] = f[1:] != f[:-1]
        out.leader[f[first]] = ld[first]
        out.gap_m[f[first]] = gap[first]
        out.physical[f[first]] = physical[first]
        return out

    def key_at(self, route: int, s_m: float) -> int:
        """Piece key at arc position s of a route."""
        p, _ = self.locate(np.array([route]), np.array([s_m]))
        return int(self.key[p[0]])

    def room_ahead_m(self, route: int, s_m: float, lane: int,
                     entries: tuple[IntArray, IntArray, FloatArray] | None,
                     v_mps: FloatArray, length_m: FloatArray) -> tuple[float, int]:
        """Free space ahead of a vehicle about to enter at (route, s, lane), and the row of the
        vehicle that bounds it (-1: none), from this step's `entries` of the vehicles on the road.
        A vehicle approaching the entry from behind, on any route, within two seconds of it
        blocks the entry (-inf), as SUMO does not insert in front of it either."""
        if entries is None:
            return np.inf, -1
        row, key, pos = entries
        p_new, s_new = self.locate(np.array([route]), np.array([s_m]))
        here = key == int(self.key[p_new[0]]) * _LANE_KEY + lane
        s0 = float(s_new[0])
        behind = here & (pos < s0) & (s0 - pos < 2.0 * v_mps[row] + 2.0)
        if behind.any():
            return -np.inf, int(row[np.flatnonzero(behind)[0]])
        # Ahead: on this piece, then on the next pieces of the route within ROOM_LOOK_M (an entry
        # edge can be a few metres long: the vehicle ahead may be on the junction lane or the edge
        # after it, its tail still over the entry).
        best_gap, best_row = np.inf, -1
        p, dist = int(p_new[0]), -s0
        while True:
            on = np.flatnonzero((key == int(self.key[p]) * _LANE_KEY + lane) & (pos >= 0.0)
                                & (pos >= -dist))
            if len(on):
                gaps = dist + pos[on] - length_m[row[on]]
                k = int(np.argmin(gaps))
                if gaps[k] < best_gap:
                    best_gap, best_row = float(gaps[k]), int(row[on[k]])
            dist += float(self.length_m[p])
            p += 1
            if (dist > ROOM_LOOK_M or p >= len(self.key) or self.route[p] != route
                    or best_row >= 0):
                return best_gap, best_row

    def lane_change_frame(self, route: IntArray, s_m: FloatArray) -> tuple[IntArray, FloatArray]:
        """(piece key, position on it) to run lane changes per physical piece, not per route."""
        p, s_loc = self.locate(route, s_m)
        return self.key[p], s_loc

    def approach_frame(self, route: IntArray, s_m: FloatArray) -> tuple[IntArray, FloatArray]:
        """(piece key, position) in the frame of the approach: on a junction lane, the edge that
        leads into it, with the position counted on past that edge's end, so that every route
        through one approach sees one crosswalk just past its stop line at one position."""
        p, s_loc = self.locate(route, s_m)
        prev = np.maximum(p - 1, 0)
        inside = self.junction_key[self.key[p]] & (p > 0) & (self.route[prev] == route)
        return (np.where(inside, self.key[prev], self.key[p]),
                np.where(inside, s_loc + self.length_m[prev], s_loc))

    def piece_frame(self, route: IntArray, s_m: FloatArray
                    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """`lane_change_frame` plus the distance to the end of the piece, from one look-up."""
        p, s_loc = self.locate(route, s_m)
        return self.key[p], s_loc, self.length_m[p] - s_loc


@dataclass(frozen=True)
class Sides:
    """Conflict points per route that drives them, sorted by (route, s)."""

    route: IntArray
    s_m: FloatArray  # arc position of the conflict point on that route
    half_m: FloatArray  # half length of the conflict zone along that route
    row: IntArray  # the crossing row (index into `Crossings`, or into the caller's subset)

    @property
    def key(self) -> FloatArray:
        return self.route * KEY_M + self.s_m


def piece_sides(shared: SharedRoads, geometry: RouteGeometry, piece_key: IntArray, s_m: FloatArray,
                half_m: FloatArray) -> Sides:
    """Each conflict point (on piece `piece_key[i]` at `s_m[i]` along it) on every route that
    drives that piece. One stable sort of the pieces by key and a searchsorted per point, not a
    (points x pieces) comparison: a city net has thousands of both."""
    order = np.argsort(shared.key, kind="stable")
    keys = shared.key[order]
    lo = np.searchsorted(keys, piece_key, side="left")
    hi = np.searchsorted(keys, piece_key, side="right")
    rows, idx = expand_ranges(lo, hi - lo)
    pieces = order[idx]
    route = shared.route[pieces]
    s = shared.start_m[pieces] - geometry.offset_m[route] + s_m[rows]
    o = np.lexsort((s, route))
    return Sides(route[o], s[o], half_m[rows][o], rows[o].astype(np.int64))


def lookahead_m(v_mps: FloatArray) -> FloatArray:
    """How far ahead a driver takes the vehicles of merging roads into account: three seconds of
    travel plus a comfortable (2 m/s2) stop, at least 30 m."""
    return np.maximum(30.0, 3.0 * v_mps + v_mps**2 / 4.0)


def expand_ranges(first: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """For query k with candidates first[k] .. first[k] + count[k] - 1 (sorted-array ranges from
    two searchsorted calls): (query of each candidate, candidate index), without a Python loop."""
    rows = np.repeat(np.arange(len(first)), count)
    idx = np.repeat(first, count) + (np.arange(int(count.sum()))
                                     - np.repeat(np.cumsum(count) - count, count))
    return rows, idx

