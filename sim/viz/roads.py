"""Static road geometry for drawing: carriageway polygons, edge lines and dashed lane markings.

Routes are polylines of the driving direction with their lanes on the right (see `sim.core.road`),
so a carriageway is the strip between the route line and its offset by `lanes * lane_width_m`.
All of it is computed once per run in world metres; the renderer only transforms and clips it.
Vertex offsets use the miter of the two adjacent segments so lines stay parallel around bends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Lane divider dash and period [m] (GB 5768.3 expressway broken line: 6 m line, 9 m gap).
DASH_M = 6.0
DASH_PERIOD_M = 15.0
#: Miter lengths are capped so that a hairpin does not shoot a spike across the map.
MAX_MITER = 4.0


@dataclass(frozen=True)
class RouteShape:
    """One route as the trace and the world both describe it."""

    xy_m: FloatArray  # (K, 2) polyline in the driving direction
    lanes: int
    lane_width_m: float


@dataclass(frozen=True)
class RoadLayer:
    """Everything needed to draw the roads, in world metres."""

    surfaces: tuple[FloatArray, ...]  # closed polygons, one per route
    centres: tuple[FloatArray, ...]  # the route lines (inner edge: the median side)
    edges: tuple[FloatArray, ...]  # outer edges
    width_m: FloatArray  # carriageway width per route
    dash_a: FloatArray  # (D, 2) dash start points
    dash_b: FloatArray  # (D, 2) dash end points
    bounds_m: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax (inf when empty)


def right_normals(xy_m: FloatArray) -> FloatArray:
    """Per-vertex right-hand unit normals scaled by the miter factor (offset lines stay parallel)."""
    d = np.diff(xy_m, axis=0)
    seg = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    n_seg = np.column_stack([seg[:, 1], -seg[:, 0]])  # (sin h, -cos h): right of travel
    n = np.empty((len(xy_m), 2))
    n[0], n[-1] = n_seg[0], n_seg[-1]
    if len(n_seg) > 1:
        avg = n_seg[:-1] + n_seg[1:]
        norm = np.maximum(np.hypot(avg[:, 0], avg[:, 1]), 1e-9)
        unit = avg / norm[:, None]
        cos_half = np.maximum((unit * n_seg[1:]).sum(axis=1), 1.0 / MAX_MITER)
        n[1:-1] = unit / cos_half[:, None]
    return n


def offset_line(xy_m: FloatArray, offset_m: float) -> FloatArray:
    """The polyline moved `offset_m` to the right of its direction."""
    return xy_m + offset_m * right_normals(xy_m)


def dashes(xy_m: FloatArray, dash_m: float = DASH_M,
           period_m: float = DASH_PERIOD_M) -> tuple[FloatArray, FloatArray]:
    """Start and end points of the dashes of a broken line along a polyline."""
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy_m, axis=0).T))])
    starts = np.arange(0.0, max(s[-1] - dash_m, 0.0), period_m)
    ends = starts + dash_m

    def at(t: FloatArray) -> FloatArray:
        return np.column_stack([np.interp(t, s, xy_m[:, 0]), np.interp(t, s, xy_m[:, 1])])

    return at(starts), at(ends)


def build_road_layer(routes: Sequence[RouteShape], extra_points_m: FloatArray | None = None,
                     ) -> RoadLayer:
    """Precomputes the drawing geometry of `routes`; `extra_points_m` (e.g. RSUs) widen the bounds."""
    surfaces, centres, edges, widths, da, db = [], [], [], [], [], []
    for r in routes:
        xy = np.asarray(r.xy_m, dtype=np.float64)
        width = r.lanes * r.lane_width_m
        outer = offset_line(xy, width)
        surfaces.append(np.concatenate([xy, outer[::-1]]))
        centres.append(xy)
        edges.append(outer)
        widths.append(width)
        for k in range(1, r.lanes):
            a, b = dashes(offset_line(xy, k * r.lane_width_m))
            da.append(a)
            db.append(b)
    pts = [p for p in surfaces]
    if extra_points_m is not None and len(extra_points_m):
        pts.append(np.asarray(extra_points_m, dtype=np.float64).reshape(-1, 2))
    if pts:
        allp = np.concatenate(pts)
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        bounds = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    else:
        bounds = (np.inf, np.inf, -np.inf, -np.inf)
    empty = np.zeros((0, 2))
    return RoadLayer(
        surfaces=tuple(surfaces), centres=tuple(centres), edges=tuple(edges),
        width_m=np.array(widths, dtype=np.float64),
        dash_a=np.concatenate(da) if da else empty, dash_b=np.concatenate(db) if db else empty,
        bounds_m=bounds,
    )
