"""Conflict points as the vehicles' routes meet them, for look-ups in the (route, s) frame.

`Crossings` are stored per pair of *pieces*: on a GeoJSON map a piece is a whole route, on a
SUMO network an edge or a junction lane that many routes share. A driver (and ICW) needs them per
route: where along my route is the conflict point, and where along the other vehicle's route is
its side of it. `RouteConflicts` holds both:
- sides: every (route, arc position on it, crossing row) where a route drives the piece of a
  crossing, sorted by (route, s), so the conflict points ahead of a vehicle are one searchsorted;
- piece starts: per (route, piece) the arc position where the route enters that piece, so the
  other vehicle's side of a crossing is one searchsorted too.
Rows of a crossing come in mirrored pairs (2i: piece a crossing b, 2i+1: b crossing a), as
`find_crossings` and `find_piece_crossings` store them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vehicles.apps.crossings import Crossings
from vehicles.shared_roads import KEY_M, SharedRoads, Sides, expand_ranges, piece_sides

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Spacing of the integer codes (route, piece) and (route, route): more than any net has.
_CODE = 1 << 24


@dataclass(frozen=True)
class RouteConflicts:
    """The conflict points of `crossings` per route (see the module doc)."""

    crossings: Crossings
    sides: Sides
    #: Sorted codes route * _CODE + piece, and the arc position where the route enters it.
    piece_code: IntArray
    piece_start_m: FloatArray
    #: Sorted codes host route * _CODE + other route of the route pairs that cross somewhere.
    pair_code: IntArray

    @staticmethod
    def build(crossings: Crossings, shared: SharedRoads | None = None) -> RouteConflicts:
        """Per route conflicts of a GeoJSON map (`shared` None: the pieces are the routes) or of
        a SUMO network's pieces."""
        c = crossings
        if shared is None:
            o = np.lexsort((c.s_m, c.route))
            sides = Sides(c.route[o], c.s_m[o], c.half_m[o], o.astype(np.int64))
            routes = np.unique(np.concatenate([c.route, c.other]))
            piece_code = routes * _CODE + routes
            piece_start = np.zeros(len(routes))
        else:
            geometry = shared.geo
            sides = piece_sides(shared, geometry, c.route, c.s_m, c.half_m)
            # A route that drives a piece twice meets it first at its first entry.
            piece_code, first = np.unique(shared.route * _CODE + shared.key, return_index=True)
            piece_start = shared.start_m[first] - geometry.offset_m[shared.route[first]]
        # Route pairs: the routes of side k (host) times the routes of its mirror k ^ 1 (other).
        by_row = np.argsort(sides.row, kind="stable")
        row_sorted = sides.row[by_row]
        mirror = sides.row ^ 1
        lo = np.searchsorted(row_sorted, mirror, side="left")
        hi = np.searchsorted(row_sorted, mirror, side="right")
        host, idx = expand_ranges(lo, hi - lo)
        other_route = sides.route[by_row[idx]]
        pair_code = np.unique(sides.route[host] * _CODE + other_route)
        return RouteConflicts(c, sides, piece_code, piece_start, pair_code)

    def crossing_pair(self, host_route: IntArray, other_route: IntArray) -> NDArray[np.bool_]:
        """Whether the two routes cross anywhere (a BSM from the other matters to ICW)."""
        return _isin_sorted(host_route * _CODE + other_route, self.pair_code)

    def other_side_s_m(self, other_route: IntArray, row: IntArray) -> tuple[FloatArray,
                                                                              NDArray[np.bool_]]:
        """Arc position on `other_route` of the far side of crossing `row` (the mirror row's
        piece), and whether that route drives the piece at all."""
        c = self.crossings
        code = other_route * _CODE + c.other[row]
        found = _isin_sorted(code, self.piece_code)
        i = np.minimum(np.searchsorted(self.piece_code, code), max(len(self.piece_code) - 1, 0))
        start = self.piece_start_m[i] if len(self.piece_code) else np.zeros(len(code))
        return start + c.other_s_m[row], found

    def ahead(self, route: IntArray, s_m: FloatArray, reach_m: FloatArray
              ) -> tuple[IntArray, IntArray]:
        """(query index, side index) of the conflict points whose zone begins ahead of each
        query's front (route, s) and within `reach_m` of it."""
        sd = self.sides
        if len(sd.row) == 0 or len(route) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        half_max = float(sd.half_m.max())
        key = sd.key
        lo = np.searchsorted(key, route * KEY_M + s_m, side="left")
        hi = np.searchsorted(key, route * KEY_M + s_m + reach_m + half_max, side="right")
        q, idx = expand_ranges(lo, np.maximum(hi - lo, 0))
        d_in = sd.s_m[idx] - sd.half_m[idx] - s_m[q]
        ok = (sd.route[idx] == route[q]) & (d_in > 0) & (d_in <= reach_m[q])
        return q[ok], idx[ok]


def _isin_sorted(values: IntArray, sorted_codes: IntArray) -> NDArray[np.bool_]:
    if len(sorted_codes) == 0:
        return np.zeros(len(values), bool)
    i = np.minimum(np.searchsorted(sorted_codes, values), len(sorted_codes) - 1)
    return sorted_codes[i] == values
