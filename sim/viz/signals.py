"""Static signal geometry for drawing: intersection positions, axes, provenance and stop lines.

Built once per run, in world metres, like the road layer: live from the world's `SignalTable` and
`StopLines`; in a replay from the trace's "signals" frame, where the stop lines are not recorded
and are re-derived the way the scenario builder places them (every route passing within
`STOP_RADIUS_M` of a signal gets a line `STOP_OFFSET_M` before its nearest point to it). The colour
of each approach group at an instant is not here: it is per-Scene state (`Scene.signal_state`).
No pygame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.polyline import arc_length_m, project_to_polyline
from sim.core.signals import GREEN, RED, YELLOW, group_for_heading
from sim.viz.roads import RouteShape

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The scenario defaults (`SignalSpec.radius_m`, `stop_line_offset_m`), for replays.
STOP_RADIUS_M = 30.0
STOP_OFFSET_M = 15.0

COLOUR_NAMES = {GREEN: "green", YELLOW: "yellow", RED: "red"}


@dataclass(frozen=True)
class SignalLayer:
    ids: tuple[str, ...]
    xy_m: FloatArray  # (S, 2) intersection centres
    axis_rad: FloatArray  # (S,) direction of the axis group, from +x, counter-clockwise
    synthetic: NDArray[np.bool_]  # (S,) not in the source data
    stop_a_m: FloatArray  # (L, 2) stop line ends on the route line (the median side)
    stop_b_m: FloatArray  # (L, 2) and at the kerb
    stop_signal: IntArray  # (L,) the signal each line belongs to
    stop_group: IntArray  # (L,) the approach group it obeys (GROUP_AXIS / GROUP_CROSS)

    def __len__(self) -> int:
        return len(self.ids)

    def head_xy_m(self, offset_m: float) -> FloatArray:
        """(S, 4, 2) head positions `offset_m` from the centre: axis +, axis -, cross +, cross -."""
        c, s = np.cos(self.axis_rad), np.sin(self.axis_rad)
        u = np.stack([np.column_stack([c, s]), np.column_stack([-c, -s]),
                      np.column_stack([-s, c]), np.column_stack([s, -c])], axis=1)
        return self.xy_m[:, None, :] + offset_m * u


def build_signal_layer(ids: Sequence[str], xy_m: FloatArray, axis_rad: FloatArray,
                       synthetic: NDArray[np.bool_], routes: Sequence[RouteShape],
                       stop_route: IntArray, stop_s_m: FloatArray,
                       stop_signal: IntArray) -> SignalLayer:
    """The layer, with stop lines at arc positions `stop_s_m` along routes `stop_route`, drawn
    across the route's carriageway (from its line to its kerb, the lanes being on the right)."""
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    axis = np.asarray(axis_rad, dtype=np.float64).reshape(-1)
    n = len(stop_route)
    a, b = np.zeros((n, 2)), np.zeros((n, 2))
    heading = np.zeros(n)
    for k, (r, s) in enumerate(zip(np.asarray(stop_route).tolist(),
                                   np.asarray(stop_s_m, dtype=np.float64).tolist())):
        shape = routes[r]
        line = np.asarray(shape.xy_m, dtype=np.float64)
        cum = arc_length_m(line)
        i = int(np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(line) - 2))
        d = line[i + 1] - line[i]
        seg = max(float(np.hypot(*d)), 1e-9)
        t = d / seg
        p = line[i] + t * min(max(s - cum[i], 0.0), seg)
        a[k] = p
        b[k] = p + np.array([t[1], -t[0]]) * shape.lanes * shape.lane_width_m
        heading[k] = np.arctan2(t[1], t[0])
    signal = np.asarray(stop_signal, dtype=np.int64).reshape(-1)
    group = (group_for_heading(heading, axis[signal]).astype(np.int64) if n
             else np.zeros(0, np.int64))
    return SignalLayer(
        ids=tuple(str(i) for i in ids), xy_m=xy, axis_rad=axis,
        synthetic=np.asarray(synthetic, dtype=bool).reshape(-1), stop_a_m=a, stop_b_m=b,
        stop_signal=signal, stop_group=group,
    )


def approximate_stop_lines(xy_m: FloatArray, routes: Sequence[RouteShape],
                           radius_m: float = STOP_RADIUS_M, offset_m: float = STOP_OFFSET_M,
                           ) -> tuple[IntArray, FloatArray, IntArray]:
    """(route, s, signal) of the stop lines the builder would place with default settings."""
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    route, s_m, signal = [], [], []
    if len(xy):
        for r, shape in enumerate(routes):
            line = np.asarray(shape.xy_m, dtype=np.float64)
            if len(line) < 2:
                continue
            d, s = project_to_polyline(xy, line)
            for i in np.flatnonzero((d <= radius_m) & (s - offset_m >= 0.0)).tolist():
                route.append(r)
                s_m.append(float(s[i]) - offset_m)
                signal.append(i)
    return (np.array(route, dtype=np.int64), np.array(s_m, dtype=np.float64),
            np.array(signal, dtype=np.int64))
