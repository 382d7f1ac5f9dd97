"""A GeoJSON scenario's roads as a SUMO `.net.xml` (`v2xsim export net`), for sumo-gui and netedit.

Every route becomes a chain of one-way SUMO edges (a two-way road is two routes, so two edges,
which is how SUMO draws a two-way road too). Nodes stand where a route passes from one road to the
next, where two routes cross, and at route ends; points closer than `NODE_MERGE_M` are one node,
and every route is cut at every node that lies on it, so stretches that several routes share
become the same edges (written once). Lanes, speed limits and road names are the routes' own;
nodes within `SIGNAL_RADIUS_M` of a scenario signal are SUMO traffic lights (with netconvert's
default fixed-time program: our phase plans are not carried over). netconvert computes junction
shapes, connections and right of way from plain XML (`sim.sumo.plain`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.polyline import arc_length_m, cut, project_to_polyline
from sim.scenario.build import geojson_routes
from sim.scenario.loader import LoadedScenario
from sim.sumo.plain import NetconvertError, PlainEdge, PlainNode, netconvert_plain
from vehicles.apps.crossings import crossing_points

NODE_MERGE_M = 3.0
SIGNAL_RADIUS_M = 30.0
MIN_EDGE_M = 0.5


@dataclass(frozen=True)
class NetExport:
    nodes: int
    edges: int
    traffic_lights: int


def _cluster(points: np.ndarray, radius_m: float) -> np.ndarray:
    """Representative points: each point joins the first earlier representative within radius."""
    reps: list[np.ndarray] = []
    for p in points:
        if not reps or np.hypot(*(np.array(reps) - p).T).min() > radius_m:
            reps.append(p)
    return np.array(reps)


def export_net(loaded: LoadedScenario, out: Path) -> NetExport:
    """Writes the scenario's roads to `out` (.net.xml). Raises ScenarioError for a scenario that
    already runs on a SUMO net, NetconvertError when netconvert refuses the result."""
    if loaded.spec.network is not None:
        raise ScenarioError(loaded.source, "network.sumo_net",
                            "this scenario already runs on a SUMO net; open that file in netedit")
    projection, routes = geojson_routes(loaded)
    cum = [arc_length_m(r.xy_m) for r in routes]
    candidates = []
    for r, route in enumerate(routes):
        s = [0.0, float(cum[r][-1]), *route.junctions_s_m]
        for q in range(r + 1, len(routes)):
            s += [a for a, _ in crossing_points((route.xy_m, cum[r]), (routes[q].xy_m, cum[q]))]
        candidates += [(np.interp(v, cum[r], route.xy_m[:, 0]), np.interp(v, cum[r], route.xy_m[:, 1]))
                       for v in s]
    nodes_xy = _cluster(np.array(candidates), NODE_MERGE_M)
    lonlat = projection.to_wgs84(nodes_xy[:, 0], nodes_xy[:, 1])
    signal_xy = (projection.to_local(np.array([g.position.lon for g in loaded.spec.signals]),
                                     np.array([g.position.lat for g in loaded.spec.signals]))
                 if loaded.spec.signals else np.zeros((0, 2)))
    is_tls = np.zeros(len(nodes_xy), bool)
    for sxy in signal_xy:
        d = np.hypot(*(nodes_xy - sxy).T)
        if d.min() <= SIGNAL_RADIUS_M:
            is_tls[int(d.argmin())] = True
    edges: dict[tuple[int, int], PlainEdge] = {}
    for route in routes:
        d, s_on = project_to_polyline(nodes_xy, route.xy_m)
        on = np.flatnonzero(d <= NODE_MERGE_M)
        order = on[np.argsort(s_on[on], kind="stable")]
        bounds = np.array([0.0, *route.junctions_s_m])
        for a, b in zip(order, order[1:]):
            s0, s1 = float(s_on[a]), float(s_on[b])
            if s1 - s0 < MIN_EDGE_M or (a, b) in edges:
                continue
            piece = int(np.searchsorted(bounds, (s0 + s1) / 2, side="right")) - 1
            limit = (route.road_limits_mps[piece] if route.road_limits_mps
                     else route.speed_limit_mps)
            shape = cut(route.xy_m, s0, s1)
            shape[0], shape[-1] = nodes_xy[a], nodes_xy[b]
            edges[(a, b)] = PlainEdge(
                id=f"{route.id}.{len(edges)}", from_node=f"n{a}", to_node=f"n{b}",
                lonlat_shape=projection.to_wgs84(shape[:, 0], shape[:, 1]), lanes=route.lanes,
                speed_mps=limit, name=route.road_names[piece])
    nodes = [PlainNode(f"n{i}", float(lon), float(lat), "traffic_light" if is_tls[i] else "priority")
             for i, (lon, lat) in enumerate(lonlat)]
    try:
        netconvert_plain(nodes, list(edges.values()), out)
    except NetconvertError as exc:
        raise ScenarioError(loaded.source, "routes", f"netconvert refused the roads: {exc}") from None
    return NetExport(len(nodes), len(edges), int(is_tls.sum()))
