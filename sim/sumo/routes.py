"""Routes through a SUMO network: a list of edges becomes one v2xsim `Route`.

The route polyline runs along the left boundary of each edge and through the junction along the
internal lane of the connection (its shape and its speed, which is lower for turns), so the route
is as long as SUMO's path and slows where SUMO's vehicles slow. Per-piece speed limits use
`Route.road_limits_mps`. The route keeps the smallest lane count along it (a SUMO route may pass
edges with fewer lanes; vehicles must not drive side by side where the road narrows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.polyline import arc_length_m
from sim.core.road import Route
from sim.sumo.net import SumoNet


def route_from_edges(net: SumoNet, route_id: str, edges: Sequence[str], source: str,
                     key: str, lane_width_m: float | None = None) -> Route:
    """The route through `edges` (in driving order). Raises ScenarioError naming `key` for an
    unknown edge or two consecutive edges the net does not connect."""
    if not edges:
        raise ScenarioError(source, key, "a route needs at least one edge")
    pieces: list[np.ndarray] = []
    names: list[str] = []
    limits: list[float] = []
    for j, eid in enumerate(edges):
        e = net.edges.get(eid)
        if e is None:
            close = ", ".join(sorted(net.edges)[:8])
            raise ScenarioError(source, f"{key}[{j}]", f"edge {eid!r} is not in the network "
                                f"({net.path.name}; edges include {close}, ...)")
        if j > 0:
            prev = edges[j - 1]
            path = net.paths.get((prev, eid))
            if path is None:
                succ = sorted(b for (a, b) in net.paths if a == prev)
                raise ScenarioError(source, f"{key}[{j}]", f"edge {eid!r} does not follow {prev!r} "
                                    f"in the network (it continues to: {', '.join(succ) or 'none'})")
            if len(path.left_xy_m) >= 2:
                pieces.append(path.left_xy_m)
                names.append(path.via_lane)
                limits.append(path.speed_mps)
        pieces.append(e.left_xy_m)
        names.append(eid)
        limits.append(e.speed_mps)
    xy_parts = [pieces[0]]
    starts = [0.0]
    total = float(arc_length_m(pieces[0])[-1])
    for p in pieces[1:]:
        gap = float(np.hypot(*(p[0] - xy_parts[-1][-1])))
        keep = p[1:] if gap < 1e-6 else p
        starts.append(total + gap)
        total += gap + float(arc_length_m(p)[-1])
        xy_parts.append(keep)
    xy = np.concatenate(xy_parts)
    seg = np.hypot(*np.diff(xy, axis=0).T)
    xy = np.concatenate([xy[:1], xy[1:][seg > 1e-6]])  # no zero-length segments
    lanes = min(net.edges[e].lanes for e in edges)
    width = lane_width_m or float(net.edges[edges[0]].lane_width_m)
    return Route(
        id=route_id, xy_m=xy, lanes=lanes, lane_width_m=width, speed_limit_mps=limits[0],
        road_names=tuple(names), sources=tuple("sumo" for _ in names),
        junctions_s_m=tuple(starts[1:]), road_limits_mps=tuple(limits),
    )
