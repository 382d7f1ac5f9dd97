"""Drawing geometry of a `StreetMap`: carriageway and junction polygons, kerbs, lane dividers,
stop bars and street-name anchors, in world metres, computed once per run.

Per edge the carriageway runs from the right boundary of its kerb lane to the left boundary of
its median-side lane (SUMO numbers lanes from the kerb). Lane dividers are broken lines between
neighbouring lanes; each signal-controlled connection gets a bar across the end of its lane (a
lane with several connections is split between them, as SUMO draws it). Every polygon and line
carries its bounding box so the renderer culls off-screen geometry with one array comparison.
No pygame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.polyline import arc_length_m
from sim.core.streets import StreetMap
from sim.viz.roads import dashes, offset_line

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Stop bars are drawn this far back from the lane end [m] (SUMO paints them at the end).
STOP_BAR_SETBACK_M = 0.5


@dataclass(frozen=True)
class StreetLayer:
    surfaces: tuple[FloatArray, ...]  # edge carriageways, then junction areas
    surface_bbox: FloatArray  # (P, 4) xmin, ymin, xmax, ymax
    n_edges: int  # surfaces[:n_edges] are edges
    centres: tuple[FloatArray, ...]  # per edge: the line between its two boundaries
    width_m: FloatArray  # per edge: carriageway width
    kerbs: tuple[FloatArray, ...]  # per edge: right (kerb) boundary
    medians: tuple[FloatArray, ...]  # per edge: left (median-side) boundary
    dash_a: FloatArray  # (D, 2) lane divider dashes
    dash_b: FloatArray
    stop_a: FloatArray  # (B, 2) stop bar ends
    stop_b: FloatArray
    stop_signal: IntArray  # (B,)
    stop_group: IntArray  # (B,)
    names: tuple[str, ...]  # per edge
    label_xy_m: FloatArray  # (E, 2) edge midpoint (along its centre line)
    label_angle_rad: FloatArray  # (E,) direction there, from +x counter-clockwise
    length_m: FloatArray  # (E,)
    signal_names: tuple[str, ...]
    bounds_m: tuple[float, float, float, float]

    def __len__(self) -> int:
        return self.n_edges


def _bbox(poly: FloatArray) -> list[float]:
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    return [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]


def _midpoint(xy: FloatArray) -> tuple[FloatArray, float, float]:
    s = arc_length_m(xy)
    half = s[-1] / 2.0
    i = int(np.clip(np.searchsorted(s, half, side="right") - 1, 0, len(xy) - 2))
    d = xy[i + 1] - xy[i]
    t = (half - s[i]) / max(float(s[i + 1] - s[i]), 1e-9)
    return xy[i] + t * d, float(np.arctan2(d[1], d[0])), float(s[-1])


def build_street_layer(streets: StreetMap) -> StreetLayer:
    """Precomputes everything the renderer draws of `streets`."""
    by_edge: list[list[int]] = [[] for _ in range(streets.n_edges)]
    for i, e in enumerate(streets.lane_edge.tolist()):
        by_edge[e].append(i)
    surfaces, centres, widths, kerbs, medians = [], [], [], [], []
    da, db = [], []
    lxy, lang, llen = [], [], []
    right_of: dict[int, FloatArray] = {}
    for lanes in by_edge:
        lanes.sort(key=lambda i: int(streets.lane_index[i]))
        xy = [np.asarray(streets.lane_xy_m[i], dtype=np.float64) for i in lanes]
        w = [float(streets.lane_width_m[i]) for i in lanes]
        kerb = offset_line(xy[0], w[0] / 2.0)
        median = offset_line(xy[-1], -w[-1] / 2.0)
        for k, i in enumerate(lanes):
            right_of[i] = offset_line(xy[k], w[k] / 2.0)
            if k > 0:
                dash_start, dash_end = dashes(right_of[i])
                da.append(dash_start)
                db.append(dash_end)
        surfaces.append(np.concatenate([kerb, median[::-1]]))
        kerbs.append(kerb)
        medians.append(median)
        centre = xy[len(xy) // 2] if len(xy) % 2 else (
            offset_line(xy[len(xy) // 2], w[len(xy) // 2] / 2.0))
        centres.append(centre)
        widths.append(sum(w))
        mid, angle, length = _midpoint(centre)
        lxy.append(mid)
        lang.append(angle)
        llen.append(length)
    n_edges = len(surfaces)
    surfaces += [np.asarray(j, dtype=np.float64) for j in streets.junction_xy_m]
    # Stop bars: per lane, its connections side by side from the kerb to the median.
    per_lane: dict[int, list[int]] = {}
    for b, lane in enumerate(streets.stop_lane.tolist()):
        per_lane.setdefault(lane, []).append(b)
    n_b = len(streets.stop_lane)
    sa, sb = np.zeros((n_b, 2)), np.zeros((n_b, 2))
    for lane, bars in per_lane.items():
        line = np.asarray(streets.lane_xy_m[lane], dtype=np.float64)
        lane_w = float(streets.lane_width_m[lane])
        d = line[-1] - line[-2]
        t = d / max(float(np.hypot(*d)), 1e-9)
        right = np.array([t[1], -t[0]])
        end = line[-1] - STOP_BAR_SETBACK_M * t
        m = len(bars)
        for k, bar in enumerate(bars):
            sa[bar] = end + right * lane_w * (0.5 - k / m)
            sb[bar] = end + right * lane_w * (0.5 - (k + 1) / m)
    bounds = streets.bounds_m()
    empty = np.zeros((0, 2))
    return StreetLayer(
        surfaces=tuple(surfaces),
        surface_bbox=np.array([_bbox(p) for p in surfaces], dtype=np.float64).reshape(-1, 4),
        n_edges=n_edges, centres=tuple(centres), width_m=np.array(widths, dtype=np.float64),
        kerbs=tuple(kerbs), medians=tuple(medians),
        dash_a=np.concatenate(da) if da else empty, dash_b=np.concatenate(db) if db else empty,
        stop_a=sa, stop_b=sb, stop_signal=streets.stop_signal.copy(),
        stop_group=streets.stop_group.copy(), names=streets.edge_names,
        label_xy_m=np.array(lxy, dtype=np.float64).reshape(-1, 2),
        label_angle_rad=np.array(lang, dtype=np.float64), length_m=np.array(llen, dtype=np.float64),
        signal_names=streets.signal_names, bounds_m=bounds,
    )
