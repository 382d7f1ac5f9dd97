"""Road geometry in local metres: routes as polylines with arc length, lanes to the right.

Vehicles live in route coordinates (route, arc position s, lane); `positions` maps whole columns of
them to x/y/heading at once. China drives on the right, so lane 0 is the innermost lane (next to
the centre line) and higher lanes lie further to the right of the direction of travel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Route:
    """One driving direction along chained road polylines."""

    id: str
    xy_m: FloatArray  # (K, 2) polyline vertices, local east/north metres
    lanes: int
    lane_width_m: float
    speed_limit_mps: float
    road_names: tuple[str, ...]
    sources: tuple[str, ...]  # provenance of each road: osm / synthetic / extrapolated
    junctions_s_m: tuple[float, ...] = ()  # where the route passes from one road to the next
    #: Speed limit per road: the limit of road k applies from junction k-1 (0 for the first road)
    #: on; empty = `speed_limit_mps` everywhere.
    road_limits_mps: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.xy_m.ndim != 2 or self.xy_m.shape[0] < 2:
            raise ValueError(f"route {self.id}: needs at least two vertices")

    @property
    def cum_s_m(self) -> FloatArray:
        seg = np.hypot(*np.diff(self.xy_m, axis=0).T)
        return np.concatenate([[0.0], np.cumsum(seg)])

    @property
    def length_m(self) -> float:
        return float(self.cum_s_m[-1])


class RouteGeometry:
    """Precomputed arrays for vectorized (route, s, lane) -> (x, y, heading) over many routes."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self.length_m = np.array([r.length_m for r in routes])
        self.lane_width_m = np.array([r.lane_width_m for r in routes])
        self.lanes = np.array([r.lanes for r in routes], dtype=np.int64)
        self.speed_limit_mps = np.array([r.speed_limit_mps for r in routes])
        #: Piecewise-constant limits in the global arc coordinate (one searchsorted for all).
        lim_key, lim_v = [], []
        # Concatenate all polylines; each route's arc length is offset so one searchsorted serves all.
        offsets, xs, ys, ss, headings = [], [], [], [], []
        base = 0.0
        for r in routes:
            s = r.cum_s_m
            d = np.diff(r.xy_m, axis=0)
            offsets.append(base)
            xs.append(r.xy_m[:, 0])
            ys.append(r.xy_m[:, 1])
            ss.append(s + base)
            headings.append(np.append(np.arctan2(d[:, 1], d[:, 0]), np.arctan2(d[-1, 1], d[-1, 0])))
            limits = r.road_limits_mps or (r.speed_limit_mps,)
            starts = (0.0, *r.junctions_s_m)[: len(limits)] if r.road_limits_mps else (0.0,)
            lim_key += [base + st for st in starts]
            lim_v += list(limits)
            base += s[-1] + 1.0  # a 1 m gap keeps routes apart in the global arc coordinate
        self._offset = np.array(offsets)
        #: Start of each route in the global arc coordinate (routes laid end to end, 1 m apart).
        self.offset_m = self._offset
        self._x = np.concatenate(xs)
        self._y = np.concatenate(ys)
        self._s = np.concatenate(ss)
        self._heading = np.concatenate(headings)
        self._limit_key = np.array(lim_key)
        self._limit_mps = np.array(lim_v)

    def limit_at(self, route: NDArray[np.int64], s_m: FloatArray) -> FloatArray:
        """Speed limit in force at arc position s of each route (per road, vectorized)."""
        s = np.clip(s_m, 0.0, self.length_m[route]) + self._offset[route]
        i = np.searchsorted(self._limit_key, s, side="right") - 1
        return self._limit_mps[np.clip(i, 0, len(self._limit_mps) - 1)]

    def positions(
        self, route: NDArray[np.int64], s_m: FloatArray, lane: NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """x_m, y_m, heading_rad of vehicles at (route, s, lane); s is clipped to the route."""
        s = np.clip(s_m, 0.0, self.length_m[route]) + self._offset[route]
        i = np.clip(np.searchsorted(self._s, s, side="right") - 1, 0, len(self._s) - 2)
        seg_len = np.maximum(self._s[i + 1] - self._s[i], 1e-9)
        frac = np.clip((s - self._s[i]) / seg_len, 0.0, 1.0)
        x = self._x[i] + frac * (self._x[i + 1] - self._x[i])
        y = self._y[i] + frac * (self._y[i + 1] - self._y[i])
        heading = self._heading[i]
        offset = (lane + 0.5) * self.lane_width_m[route]
        # Right-hand normal of the direction of travel is (sin h, -cos h).
        return x + offset * np.sin(heading), y - offset * np.cos(heading), heading
