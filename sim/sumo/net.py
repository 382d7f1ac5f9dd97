"""A SUMO network (`.net.xml`) as v2xsim roads: edges, junction paths, signal programs, geo-reference.

Parsed with sumolib (never hand-written XML code). What we keep of the net:
- per edge: its lanes (count, width, speed limit, allowed vehicle classes) and its **left
  boundary** in the net's x/y metres. SUMO spreads lanes to the right of the edge geometry and
  numbers them from the right (lane 0 is the kerb lane); v2xsim's routes are the line lanes are
  laid out to the right of, with lane 0 innermost. So the route polyline is the leftmost lane's
  centre shifted left by half its width, and SUMO lane k is our lane `lanes - 1 - k`;
- per pair of consecutive edges: the junction path of their connection (the internal lane, its
  length, shape and speed, which is lower for turns), so routes turn through junctions as SUMO
  vehicles do;
- per traffic light: its program (phases: duration and link state string, offset) and, per link
  index, the incoming edge, so the program can be mapped onto signal groups (sim.sumo.signals);
- the `<location>`: netOffset and projParameter. A geo-referenced net keeps its projection, so
  RSUs and maps given in lon/lat line up (pyproj, as sumolib does); a net without one (netgenerate)
  is placed at `network.origin`.
Everything stays in the net's own x/y frame: our local metres *are* the net's coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.core.errors import ScenarioError
from sim.core.geo import LocalProjection
from sim.core.input_file import MAX_SUMO_BYTES, check_regular_file

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SumoEdge:
    id: str
    name: str  # the street name (`name` attribute), "" if none
    from_node: str
    to_node: str
    lanes: int
    lane_width_m: float
    speed_mps: float  # the fastest lane's limit
    left_xy_m: FloatArray  # (K, 2) left boundary in driving direction, net x/y
    length_m: float
    allowed: frozenset[str]  # vehicle classes allowed on at least one lane
    priority: int


@dataclass(frozen=True)
class SumoLane:
    id: str
    edge: str
    index: int  # 0 = the kerb lane
    width_m: float
    xy_m: FloatArray  # (K, 2) centre line in driving direction


@dataclass(frozen=True)
class JunctionPath:
    """How a vehicle crosses the junction from one edge to the next."""

    via_lane: str  # internal lane id ("" for a direct connection)
    left_xy_m: FloatArray  # (K, 2) left boundary of the internal lane, may be empty
    speed_mps: float
    tls: str  # controlling traffic light ("" for none)
    link_index: int  # the connection's index in that traffic light's state string (-1: none)
    direction: str  # s, l, r, t (turnaround), L, R (partly)


@dataclass(frozen=True)
class TlsPhase:
    duration_s: float
    state: str


@dataclass(frozen=True)
class TlsProgram:
    id: str
    offset_s: float
    phases: tuple[TlsPhase, ...]
    #: link index -> incoming edge id (the approach it controls)
    link_edge: dict[int, str]
    xy_m: tuple[float, float]  # junction centre (mean of the controlled junctions)


@dataclass(frozen=True)
class SumoNet:
    path: Path
    edges: dict[str, SumoEdge]
    paths: dict[tuple[str, str], JunctionPath]
    programs: dict[str, TlsProgram]
    net_offset: tuple[float, float]
    proj_parameter: str  # "!" when the net has no geo-reference
    conv_boundary: tuple[float, float, float, float]
    node_xy_m: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Right of way inside junctions: (internal lane a, internal lane b) where a vehicle on a
    #: must let one on b pass (SUMO's `request` response bits: minor roads, permissive turns).
    yields: frozenset[tuple[str, str]] = frozenset()
    #: For drawing (sim.sumo.streets): every lane of every edge, the junction outlines, and per
    #: signal-controlled connection (from lane id, traffic light id, link index).
    lanes: tuple[SumoLane, ...] = ()
    junction_xy_m: tuple[FloatArray, ...] = ()
    tls_links: tuple[tuple[str, str, int], ...] = ()

    @property
    def georeferenced(self) -> bool:
        return self.proj_parameter not in ("", "!")

    def drivable(self, edge_id: str) -> bool:
        e = self.edges.get(edge_id)
        return e is not None and bool(e.allowed & {"passenger", "bus", "truck", "delivery",
                                                     "emergency", "custom1"})


def offset_left(xy_m: FloatArray, d_m: float) -> FloatArray:
    """The polyline shifted `d_m` to the left of its direction (miter joins, clipped)."""
    xy = np.asarray(xy_m, dtype=np.float64)
    if len(xy) < 2 or d_m == 0.0:
        return xy.copy()
    seg = np.diff(xy, axis=0)
    norm = np.hypot(seg[:, 0], seg[:, 1])
    keep = norm > 1e-9
    if not keep.all():  # repeated vertices have no direction
        xy = np.concatenate([xy[:1], xy[1:][keep]])
        if len(xy) < 2:
            return xy.copy()
        seg = np.diff(xy, axis=0)
        norm = np.hypot(seg[:, 0], seg[:, 1])
    left = np.column_stack([-seg[:, 1], seg[:, 0]]) / norm[:, None]
    n_v = np.empty_like(xy)
    n_v[0], n_v[-1] = left[0], left[-1]
    if len(xy) > 2:
        m = left[:-1] + left[1:]
        m_norm = np.maximum(np.hypot(m[:, 0], m[:, 1]), 1e-9)
        m = m / m_norm[:, None]
        cos_half = np.maximum(np.einsum("ij,ij->i", m, left[1:]), 0.5)  # clip miters at 120 deg
        n_v[1:-1] = m / cos_half[:, None]
    return xy + d_m * n_v


def _shape(lane: Any) -> FloatArray:
    xy = np.asarray(lane.getShape(), dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(xy)):
        raise ValueError(f"lane {lane.getID()!r} has a non-finite shape coordinate")
    return xy


def _finite(value: Any, what: str) -> float:
    """float(value), refusing NaN and infinity (sumolib parses "nan" and "inf" as floats)."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{what} is {value!r}, expected a finite number")
    return v


def _floats(text: str, n: int, what: str) -> list[float]:
    """The `n` comma-separated finite numbers of a `<location>` attribute."""
    parts = text.split(",")
    if len(parts) != n:
        raise ValueError(f"location {what} is {text!r}, expected {n} comma-separated numbers")
    return [_finite(p, f"location {what}") for p in parts]


def read_net(path: Path, source: str, key: str = "network.sumo_net") -> SumoNet:
    """Reads a `.net.xml` with sumolib; problems become a ScenarioError naming `key`."""
    try:
        import sumolib
    except ImportError:
        raise ScenarioError(source, key, "SUMO networks need the sumo extra: "
                            "pip install 'v2xsim[sumo]' (eclipse-sumo, sumolib, libsumo)") from None
    check_regular_file(path, MAX_SUMO_BYTES, source, key)  # no FIFO, device or huge file
    try:
        net = sumolib.net.readNet(str(path), withInternal=True, withPrograms=True)
    except Exception as exc:  # sumolib raises whatever its SAX parser raises
        raise ScenarioError(str(path), "", f"not a readable SUMO network ({exc})") from None
    try:
        return _from_sumolib(net, path)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, ZeroDivisionError) as exc:
        # sumolib keeps attribute text as given: a missing or malformed value surfaces here
        raise ScenarioError(str(path), "", f"not a usable SUMO network ({exc})") from None


def _from_sumolib(net: Any, path: Path) -> SumoNet:
    edges: dict[str, SumoEdge] = {}
    for e in net.getEdges(withInternal=False):
        lanes = e.getLanes()
        if not lanes:
            continue
        left = lanes[-1]  # the highest index is the leftmost lane
        width = float(left.getWidth())
        edges[e.getID()] = SumoEdge(
            id=e.getID(), name=str(e.getName() or ""), from_node=e.getFromNode().getID(),
            to_node=e.getToNode().getID(), lanes=len(lanes),
            lane_width_m=float(np.mean([_finite(ln.getWidth(), f"lane {ln.getID()!r} width")
                                        for ln in lanes])),
            speed_mps=max(_finite(ln.getSpeed(), f"lane {ln.getID()!r} speed") for ln in lanes),
            left_xy_m=offset_left(_shape(left), width / 2.0),
            length_m=_finite(e.getLength(), f"edge {e.getID()!r} length"),
            allowed=frozenset(c for ln in lanes for c in _allowed(ln)),
            priority=int(e.getPriority()),
        )
    paths: dict[tuple[str, str], JunctionPath] = {}
    links: set[tuple[str, str, int]] = set()  # signal-controlled connections, for drawing
    for e in net.getEdges(withInternal=False):
        for to_edge, conns in e.getOutgoing().items():
            links.update((c.getFromLane().getID(), str(c.getTLSID()), int(c.getTLLinkIndex()))
                         for c in conns if c.getTLSID() and c.getTLLinkIndex() >= 0)
            # The connection from the leftmost lane that has one: our route runs along the left.
            c = max(conns, key=lambda c: c.getFromLane().getIndex())
            via_id = c.getViaLaneID() or ""
            if via_id:
                via = net.getLane(via_id)
                via_xy = offset_left(_shape(via), _finite(via.getWidth(), f"lane {via_id!r} width") / 2.0)
                speed = _finite(via.getSpeed(), f"lane {via_id!r} speed")
            else:
                via_xy, speed = np.empty((0, 2)), float(to_edge.getSpeed())
            paths[(e.getID(), to_edge.getID())] = JunctionPath(
                via_lane=via_id, left_xy_m=via_xy, speed_mps=speed, tls=c.getTLSID() or "",
                link_index=int(c.getTLLinkIndex()), direction=str(c.getDirection()))
    lanes = tuple(SumoLane(id=ln.getID(), edge=e.getID(), index=int(ln.getIndex()),
                           width_m=float(ln.getWidth()), xy_m=_shape(ln))
                  for e in net.getEdges(withInternal=False) if e.getID() in edges
                  for ln in e.getLanes())
    tls_links = tuple(sorted(links))
    junctions = tuple(np.array([p[:2] for p in n.getShape()], dtype=np.float64)
                      for n in net.getNodes()
                      if n.getType() != "internal" and len(n.getShape()) >= 3)
    programs: dict[str, TlsProgram] = {}
    for tls in net.getTrafficLights():
        progs = tls.getPrograms()
        if not progs:
            continue
        prog = progs.get("0") or progs[sorted(progs)[0]]
        link_edge = {int(i): links[0][0].getEdge().getID() for i, links in tls.getLinks().items()
                     if links}
        nodes = [n.getCoord() for n in tls.getNodes()] if hasattr(tls, "getNodes") else []
        if not nodes:
            ends = [edges[eid].left_xy_m[-1] for eid in link_edge.values() if eid in edges]
            nodes = ends or [(0.0, 0.0)]
        cx, cy = np.mean(np.asarray(nodes, dtype=np.float64)[:, :2], axis=0)
        programs[tls.getID()] = TlsProgram(
            id=tls.getID(), offset_s=_finite(prog.getOffset() or 0.0, f"tlLogic {tls.getID()!r} offset"),
            phases=tuple(TlsPhase(_finite(p.duration, f"tlLogic {tls.getID()!r} phase duration"),
                                  str(p.state)) for p in prog.getPhases()),
            link_edge=link_edge, xy_m=(float(cx), float(cy)))
    loc = getattr(net, "_location", {}) or {}
    off = _floats(str(loc.get("netOffset", "0,0")), 2, "netOffset")
    conv = _floats(str(loc.get("convBoundary", "0,0,0,0")), 4, "convBoundary")
    nodes_xy = {n.getID(): tuple(_finite(v, f"junction {n.getID()!r} position")
                                 for v in n.getCoord()[:2]) for n in net.getNodes()}
    return SumoNet(path=path, edges=edges, paths=paths, programs=programs,
                   net_offset=(off[0], off[1]), proj_parameter=str(loc.get("projParameter", "!")),
                   conv_boundary=(conv[0], conv[1], conv[2], conv[3]),
                   node_xy_m=nodes_xy, yields=_yields(net),  # type: ignore[arg-type]
                   lanes=lanes, junction_xy_m=junctions, tls_links=tls_links)


def _yields(net: Any) -> frozenset[tuple[str, str]]:
    """(via lane a, via lane b) pairs where the connection through a gives way to the one
    through b, from each junction's request table (sumolib keeps its `prohibits` strings: bit j
    of row i, counted from the right, says link j has priority over link i)."""
    out: set[tuple[str, str]] = set()
    for node in net.getNodes():
        prohibits = getattr(node, "_prohibits", None) or {}
        if not prohibits:
            continue
        via: dict[int, str] = {}
        index = 0
        for lane_id in node._incLanes:  # the order of the junction's link indices
            edge_id, _, k = lane_id.rpartition("_")
            edge = next((e for e in node.getIncoming() if e.getID() == edge_id), None)
            if edge is None or not k.isdigit():
                continue
            for conn in edge.getLane(int(k)).getOutgoing():
                to_fn = conn.getToLane().getEdge().getFunction()
                from_fn = conn.getFromLane().getEdge().getFunction()
                if to_fn == "walkingarea" or (from_fn == "walkingarea" and to_fn != "crossing"):
                    continue
                if conn.getViaLaneID():
                    via[index] = conn.getViaLaneID()
                index += 1
        for i, lane_i in via.items():
            bits = str(prohibits.get(i, ""))
            for j, lane_j in via.items():
                if j != i and j < len(bits) and bits[-(j + 1)] == "1":
                    out.add((lane_i, lane_j))
    return frozenset(out)


def _allowed(lane: Any) -> list[str]:
    classes = ("passenger", "bus", "truck", "delivery", "emergency", "bicycle", "pedestrian",
               "custom1")
    return [c for c in classes if lane.allows(c)]


class NetProjection:
    """WGS84 lon/lat <-> the net's x/y metres.

    Geo-referenced nets use their own projection (`projParameter`, via pyproj, as sumolib does):
    x/y = proj(lon, lat) + netOffset. Nets without one are laid on the local tangent plane at
    `origin` (lon, lat), with the net's (0, 0) at the origin.
    """

    def __init__(self, net: SumoNet, origin_lonlat: tuple[float, float] | None) -> None:
        self.net = net
        self._proj: Any = None
        self._plane: LocalProjection | None = None
        if net.georeferenced:
            import pyproj

            self._proj = pyproj.Proj(net.proj_parameter)
        else:
            lon, lat = origin_lonlat if origin_lonlat is not None else (125.2235, 43.8320)
            self._plane = LocalProjection(lon, lat)

    @property
    def origin_lon_deg(self) -> float:
        return float(self.to_wgs84(np.array(0.0), np.array(0.0))[0])

    @property
    def origin_lat_deg(self) -> float:
        return float(self.to_wgs84(np.array(0.0), np.array(0.0))[1])

    def to_local(self, lon_deg: Any, lat_deg: Any) -> FloatArray:
        lon = np.asarray(lon_deg, dtype=np.float64)
        lat = np.asarray(lat_deg, dtype=np.float64)
        if self._plane is not None:
            return self._plane.to_local(lon, lat)
        x, y = self._proj(lon, lat)
        return np.stack([np.asarray(x) + self.net.net_offset[0],
                         np.asarray(y) + self.net.net_offset[1]], axis=-1)

    def to_wgs84(self, east_m: Any, north_m: Any) -> FloatArray:
        x = np.asarray(east_m, dtype=np.float64)
        y = np.asarray(north_m, dtype=np.float64)
        if self._plane is not None:
            return self._plane.to_wgs84(x, y)
        lon, lat = self._proj(x - self.net.net_offset[0], y - self.net.net_offset[1], inverse=True)
        return np.stack([np.asarray(lon), np.asarray(lat)], axis=-1)


def heading_rad(xy_m: FloatArray, at_end: bool) -> float:
    """Direction of travel (math angle, rad) at the start or the end of a polyline."""
    d = xy_m[-1] - xy_m[-2] if at_end else xy_m[1] - xy_m[0]
    return math.atan2(float(d[1]), float(d[0]))
