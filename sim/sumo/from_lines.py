"""Road centre lines (OSM-derived GeoJSON LineStrings) -> SUMO plain nodes and edges.

OSM-derived line files are not a network: lines cross without a shared vertex, a side street
stops a few metres short of the arterial it joins (the lines were simplified to ~10 m), and a dual
carriageway is two separate lines with no direction attribute. This module makes the topology
that netconvert needs, by rules that are stated here and in the data's README:

- noding: every proper crossing of two lines of different names is a node on both; a line end
  within `SNAP_M` of another line is moved onto it and becomes a node there (a T-junction;
  never onto the middle of a line of the same name, which is the other carriageway across the
  median); points closer than `MERGE_M` are one node;
- direction: a line is one carriageway of a dual road (so one-way, in its drawn direction, as
  OSM draws one-way ways) when at least half of its length runs within 6-45 m of another line
  of the same class going the opposite way; every other line is a two-way road (two edges);
- lanes and speed per direction come from the road class (`ClassRule`, assumed);
- a node where two named roads meet, roads leave in at least three directions (30 deg apart:
  the two carriageways of a dual road leave in one direction) and all of them are of a
  signalised class is a traffic light (its program is netconvert's fixed-time plan); unnamed
  links (median openings, slip roads) get none.
netconvert then joins the node clusters of dual-carriageway crossings into one junction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.geo import LocalProjection
from sim.core.polyline import arc_length_m, cut, project_to_polyline
from sim.sumo.plain import PlainEdge, PlainNode

FloatArray = NDArray[np.float64]

SNAP_M = 15.0
MERGE_M = 2.0
DUAL_MIN_M, DUAL_MAX_M = 6.0, 45.0
MIN_EDGE_M = 1.0


@dataclass(frozen=True)
class ClassRule:
    lanes: int  # per direction
    speed_kmh: float
    priority: int
    signalised: bool  # junctions among roads of such classes get traffic lights


@dataclass(frozen=True)
class RoadLine:
    name: str  # "" when unnamed
    road_class: str
    lonlat: FloatArray  # (K, 2)


@dataclass(frozen=True)
class PlainNet:
    nodes: list[PlainNode]
    edges: list[PlainEdge]
    one_way_lines: int
    two_way_lines: int


def _segment_hits(a0: FloatArray, a1: FloatArray, b0: FloatArray, b1: FloatArray
                  ) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray, FloatArray]:
    """Proper crossings between segment sets A (M) and B (N): index pairs and fractions."""
    da, db = a1 - a0, b1 - b0
    den = da[:, None, 0] * db[None, :, 1] - da[:, None, 1] * db[None, :, 0]
    w = b0[None, :, :] - a0[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[..., 0] * db[None, :, 1] - w[..., 1] * db[None, :, 0]) / den
        u = (w[..., 0] * da[:, None, 1] - w[..., 1] * da[:, None, 0]) / den
    ok = (np.abs(den) > 1e-9) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    i, j = np.nonzero(ok)
    return i, j, t[i, j], u[i, j]


def _distinct(shape: FloatArray, min_m: float = 0.1) -> FloatArray:
    """The shape without (near-)repeated points, its ends kept: a repeated point gives no
    direction to leave a node in."""
    pts = [shape[0]]
    for p in shape[1:-1]:
        if np.hypot(*(p - pts[-1])) > min_m and np.hypot(*(p - shape[-1])) > min_m:
            pts.append(p)
    if np.hypot(*(shape[-1] - pts[-1])) > min_m:
        pts.append(shape[-1])
    return np.array(pts)


def _directions(bearings_rad: list[float], apart_rad: float = np.radians(30.0)) -> int:
    """How many distinct directions (clusters at least `apart_rad` apart) roads leave a node in."""
    if not bearings_rad:
        return 0
    b = np.sort(np.mod(bearings_rad, 2 * np.pi))
    gaps = np.diff(np.concatenate([b, [b[0] + 2 * np.pi]]))
    return max(1, int((gaps >= apart_rad).sum()))


def _is_dual(k: int, lines: Sequence[FloatArray], classes: Sequence[str]) -> bool:
    """Half of line k's length has an opposite-direction line of its class 6-45 m beside it."""
    line = lines[k]
    s = arc_length_m(line)
    if s[-1] < 2 * DUAL_MIN_M:
        return False
    samples = np.linspace(0.0, s[-1], max(3, int(s[-1] // 20.0)))
    pts = np.column_stack([np.interp(samples, s, line[:, 0]), np.interp(samples, s, line[:, 1])])
    seg = np.clip(np.searchsorted(s, samples, side="right") - 1, 0, len(line) - 2)
    d = line[seg + 1] - line[seg]
    d /= np.maximum(np.hypot(*d.T), 1e-9)[:, None]
    covered = np.zeros(len(pts), bool)
    lo, hi = pts.min(axis=0) - DUAL_MAX_M, pts.max(axis=0) + DUAL_MAX_M
    for q, other in enumerate(lines):
        if q == k or classes[q] != classes[k]:
            continue
        if (other.max(axis=0) < lo).any() or (other.min(axis=0) > hi).any():
            continue
        dist, so = project_to_polyline(pts, other)
        so_all = arc_length_m(other)
        oseg = np.clip(np.searchsorted(so_all, so, side="right") - 1, 0, len(other) - 2)
        od = other[oseg + 1] - other[oseg]
        od /= np.maximum(np.hypot(*od.T), 1e-9)[:, None]
        covered |= (dist >= DUAL_MIN_M) & (dist <= DUAL_MAX_M) & ((d * od).sum(axis=1) < -0.9)
    return bool(covered.mean() >= 0.5)


def lines_to_plain(roads: Sequence[RoadLine], rules: Mapping[str, ClassRule],
                   projection: LocalProjection) -> PlainNet:
    """Plain nodes and edges for netconvert from road centre lines (rules in the module doc)."""
    lines = [projection.to_local(r.lonlat[:, 0], r.lonlat[:, 1]) for r in roads]
    classes = [r.road_class for r in roads]
    cuts: list[list[float]] = [[0.0, float(arc_length_m(ln)[-1])] for ln in lines]
    # Proper crossings, all pairs of segments at once (chunked by line).
    seg_line = np.concatenate([np.full(len(ln) - 1, k) for k, ln in enumerate(lines)])
    seg_a = np.concatenate([ln[:-1] for ln in lines])
    seg_b = np.concatenate([ln[1:] for ln in lines])
    seg_s0 = np.concatenate([arc_length_m(ln)[:-1] for ln in lines])
    seg_len = np.hypot(*(seg_b - seg_a).T)
    for k in range(len(lines)):
        mine = np.flatnonzero(seg_line == k)
        later = np.flatnonzero(seg_line > k)
        i, j, t, u = _segment_hits(seg_a[mine], seg_b[mine], seg_a[later], seg_b[later])
        for a, b, ta, ub in zip(mine[i], later[j], t, u):
            q = int(seg_line[b])
            if roads[k].name and roads[q].name == roads[k].name:
                continue  # a road's two carriageways touching (simplified lines) is no junction
            cuts[k].append(float(seg_s0[a] + ta * seg_len[a]))
            cuts[q].append(float(seg_s0[b] + ub * seg_len[b]))
    # T-junctions: a line end close to another line moves onto it.
    box_lo = np.array([ln.min(axis=0) for ln in lines]) - SNAP_M
    box_hi = np.array([ln.max(axis=0) for ln in lines]) + SNAP_M
    for k, ln in enumerate(lines):
        for end in (0, -1):
            p = ln[end][None, :]
            best = (SNAP_M, -1, 0.0)
            near = np.flatnonzero((box_lo <= p).all(axis=1) & (box_hi >= p).all(axis=1))
            for qi in near:
                q = int(qi)
                other = lines[q]
                if q == k:
                    continue
                d_q, s_q = project_to_polyline(p, other)
                if (roads[q].name and roads[q].name == roads[k].name
                        and MERGE_M < s_q[0] < arc_length_m(other)[-1] - MERGE_M):
                    continue  # the other carriageway of its own road, across the median
                if d_q[0] < best[0]:
                    best = (float(d_q[0]), q, float(s_q[0]))
            if best[1] >= 0 and best[0] > 1e-6:
                _, q_best, s_best = best
                other_s = arc_length_m(lines[q_best])
                ln[end] = [np.interp(s_best, other_s, lines[q_best][:, 0]),
                           np.interp(s_best, other_s, lines[q_best][:, 1])]
                cuts[q_best].append(s_best)
                cuts[k][0 if end == 0 else 1] = 0.0 if end == 0 else float(arc_length_m(ln)[-1])
    # Nodes: every cut point, merged within MERGE_M (first come, in line order: reproducible).
    points: list[FloatArray] = []
    node_of: list[list[int]] = []
    for k, ln in enumerate(lines):
        s_all = arc_length_m(ln)
        ids = []
        for s in sorted(set(round(c, 3) for c in cuts[k])):
            p = np.array([np.interp(s, s_all, ln[:, 0]), np.interp(s, s_all, ln[:, 1])])
            if points:
                d = np.hypot(*(np.array(points) - p).T)
                if d.min() <= MERGE_M:
                    ids.append(int(d.argmin()))
                    continue
            points.append(p)
            ids.append(len(points) - 1)
        node_of.append(ids)
    one_way = [_is_dual(k, lines, classes) for k in range(len(lines))]
    xy = np.array(points)
    lonlat = projection.to_wgs84(xy[:, 0], xy[:, 1])
    bearings_at: list[list[float]] = [[] for _ in points]
    names_at: list[set[str]] = [set() for _ in points]
    classes_at: list[set[str]] = [set() for _ in points]
    edges: list[PlainEdge] = []
    seen: set[tuple[int, int]] = set()
    for k, ln in enumerate(lines):
        rule = rules[classes[k]]
        s_all = arc_length_m(ln)
        cut_s = sorted(set(round(c, 3) for c in cuts[k]))
        for (s0, a), (s1, b) in zip(zip(cut_s, node_of[k]), list(zip(cut_s, node_of[k]))[1:]):
            if a == b or s1 - s0 < MIN_EDGE_M:
                continue
            shape = cut(ln, s0, s1)
            shape[0], shape[-1] = xy[a], xy[b]
            shape = _distinct(shape)
            if len(shape) < 2:
                continue
            for node, away in ((a, shape[1] - shape[0]), (b, shape[-2] - shape[-1])):
                bearings_at[node].append(float(np.arctan2(away[1], away[0])))
                if roads[k].name:
                    names_at[node].add(roads[k].name)
                classes_at[node].add(classes[k])
            dirs = [(a, b, shape)] + ([] if one_way[k] else [(b, a, shape[::-1])])
            for f, to, shp in dirs:
                if (f, to) in seen:
                    continue
                seen.add((f, to))
                edges.append(PlainEdge(
                    id=f"{'-' if f == b and not one_way[k] else ''}l{k}.{len(edges)}",
                    from_node=f"n{f}", to_node=f"n{to}",
                    lonlat_shape=projection.to_wgs84(shp[:, 0], shp[:, 1]), lanes=rule.lanes,
                    speed_mps=rule.speed_kmh / 3.6, name=roads[k].name, priority=rule.priority))
    nodes = []
    for n, (lon, lat) in enumerate(lonlat):
        tls = (_directions(bearings_at[n]) >= 3 and len(names_at[n]) >= 2
               and all(rules[c].signalised for c in classes_at[n]))
        nodes.append(PlainNode(f"n{n}", float(lon), float(lat), "traffic_light" if tls else "priority"))
    return PlainNet(nodes, edges, sum(one_way), len(one_way) - sum(one_way))
