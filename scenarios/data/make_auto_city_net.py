"""Generates the Auto City street network and its demand (run from the repo root:
`python scenarios/data/make_auto_city_net.py`). Deterministic: the same input gives the same
bytes; the outputs are committed and `tests/test_auto_city_grid.py` checks that they regenerate.

Input: `auto_city_roads.geojson` (© OpenStreetMap contributors, ODbL 1.0; see README.md), the
lines inside the core of the Auto City district, AREA below (~4.0 x 3.9 km around the FAW plants:
东风大街, 开运街, 飞跃路, 创业大街, 长沈路 and the streets between them), clipped to it.
Outputs:
- `auto_city_grid.net.xml`: netconvert (from the eclipse-sumo wheel) on plain nodes/edges made by
  `sim.sumo.from_lines` (noding, dual carriageways, lanes/speeds by class, traffic lights);
- `auto_city_grid.rou.xml` (off-peak) and `auto_city_grid_peak.rou.xml` (peak hour): SUMO flows,
  routed by duarouter when a scenario loads them;
- `auto_city_grid_buildings.geojson`: ASSUMED building blocks at the four corners of 东风大街 x
  飞跃路 (the source has no footprints), for the grid's NLOS intersection scenario.

Everything below marked ASSUMED is an engineering assumption, not data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sim.core.geo import LocalProjection  # noqa: E402
from sim.sumo.from_lines import ClassRule, RoadLine, lines_to_plain  # noqa: E402
from sim.sumo.plain import netconvert_plain  # noqa: E402

#: The core of the district (lon_min, lat_min, lon_max, lat_max).
AREA = (125.205, 43.835, 125.255, 43.870)

#: ASSUMED per road class (the source has no lanes, speed or one-way tags): lanes per direction
#: and speed limits after CJJ 37-2012 urban road classes (trunk ~ 快速路/主干路 60-80 km/h,
#: primary 主干路 60, secondary 次干路 50, tertiary 支路 40); signals where arterials meet.
RULES = {
    "trunk": ClassRule(lanes=3, speed_kmh=70.0, priority=12, signalised=True),
    "primary": ClassRule(lanes=3, speed_kmh=60.0, priority=10, signalised=True),
    "secondary": ClassRule(lanes=2, speed_kmh=50.0, priority=8, signalised=True),
    "tertiary": ClassRule(lanes=1, speed_kmh=40.0, priority=6, signalised=False),
}

#: ASSUMED fixed-time plans: netconvert's programs (2-4 green phases with left-turn phases where
#: the junction has them) at a 120 s cycle, 3 s yellow.
NETCONVERT = ["--junctions.join", "true", "--junctions.join-dist", "20",
              "--tls.join", "true", "--tls.join-dist", "40",
              "--tls.default-type", "static", "--tls.cycle.time", "120", "--tls.yellow.time", "3",
              "--tls.layout", "opposites", "--keep-edges.components", "1",
              "--roundabouts.guess", "true", "--ramps.guess", "true", "--precision", "2"]

#: ASSUMED traffic generators inside the area (lon, lat): the district's big attractors.
GENERATORS = {
    "faw-plant-gate-north": (125.2245, 43.8560),
    "faw-plant-gate-south": (125.2330, 43.8445),
    "faw-hq": (125.2400, 43.8600),
    "residential-west": (125.2120, 43.8620),
    "residential-east": (125.2500, 43.8420),
}


def _clip(line: np.ndarray) -> list[np.ndarray]:
    """The parts of a lon/lat line inside AREA (cut at its border)."""
    lo, hi = np.array(AREA[:2]), np.array(AREA[2:])
    inside = np.asarray(((line >= lo) & (line <= hi)).all(axis=1), dtype=bool)
    parts: list[list[np.ndarray]] = []
    cur: list[np.ndarray] = []
    for k in range(len(line)):
        if inside[k]:
            if not cur and k > 0:
                cur.append(_border(line[k - 1], line[k], lo, hi))
            cur.append(line[k])
        elif cur:
            cur.append(_border(line[k], line[k - 1], lo, hi))
            parts.append(cur)
            cur = []
    if cur:
        parts.append(cur)
    return [np.array(p) for p in parts if len(p) >= 2]


def _border(outside: np.ndarray, inside: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Where the segment from an inside point to an outside point leaves the box."""
    d = outside - inside
    t = 1.0
    for ax in (0, 1):
        if d[ax] > 0:
            t = min(t, (hi[ax] - inside[ax]) / d[ax])
        elif d[ax] < 0:
            t = min(t, (lo[ax] - inside[ax]) / d[ax])
    return inside + t * d


def roads() -> list[RoadLine]:
    data = json.loads((HERE / "auto_city_roads.geojson").read_text(encoding="utf-8"))
    out = []
    for f in data["features"]:
        props = f["properties"]
        for part in _clip(np.array(f["geometry"]["coordinates"], dtype=np.float64)):
            out.append(RoadLine(props.get("name") or "", props["highway"], part))
    return out


#: ASSUMED demand. Peak hour: each entry lane carries 300 veh/h into the district. A signalised
#: arterial lane discharges ~1,800 veh/h of green, at g/C ~ 0.45 ~800 veh/h; the district has 20
#: entries (51 entry lanes: where its streets cross the border or end in the source data), and the
#: AM peak does not load all of them to capacity at once: ~38 % of a lane's capacity gives
#: ~15,000 veh/h into 16 km^2, queues that clear within a cycle at most junctions. Off-peak at 40 %
#: of peak (off-peak hours carry ~4 % of daily traffic against ~10 % in the peak hour). Of what
#: enters, 45 % goes to the generators (plant gates x2 weight, HQ and residential blocks x1), the
#: rest through to the other exits; the generators send out 25 % of what they attract. Trucks
#: (logistics) are 8 % of the plant-gate trips. An L4 smart bus line runs the length of 东风大街
#: each way every 3 min, stopping every 600 m.
PEAK_VEH_H_PER_ENTRY_LANE = 300.0
#: ASSUMED local traffic on the streets no through route takes [veh/h at peak], so that every
#: street of the district carries some.
LOCAL_VEH_H = 60.0
OFF_PEAK_SHARE = 0.4
TO_GENERATORS = 0.45
OUTBOUND_SHARE = 0.25
TRUCK_SHARE = 0.08
WEIGHT = {"faw-plant-gate-north": 2.0, "faw-plant-gate-south": 2.0, "faw-hq": 1.0,
          "residential-west": 1.0, "residential-east": 1.0}
BUS_PERIOD_S = 180
BUS_STREET = "东风大街"
BUS_FIRST_STOP_M = 300.0
BUS_STOP_SPACING_M = 600.0  # urban bus stop spacing 500-800 m (GB 50220 / CJJ/T 15)
STOP_SETBACK_M = 30.0
SWEEP_STREET = "创业大街"
SWEEP_PERIOD_S = 600  # a sweeper each way every 10 min
SWEEP_STOP_SPACING_M = 300.0
SWEEP_DWELL_S = 30
SWEEP_SPEED_MPS = 4.2  # ~15 km/h working speed of a road sweeper
#: ASSUMED L4 logistics vans (parts deliveries) per plant gate from each entry [veh/h at peak].
LOGISTICS_VEH_H = 6.0
BUS_DWELL_S = 20
#: A node this close to the network's bounding box is where a street enters or leaves it [m].
BORDER_M = 30.0
HOUR_S = 3600
#: ASSUMED corner blocks at the NLOS junction: the streets whose crossing they surround, how far
#: their fronts stand back from the junction centre along each street's normal (half the width of
#: a dual 3+3-lane arterial with median, ~20 m, plus a ~10 m pavement and forecourt, as along
#: 东风大街's plant frontage) and how deep they reach along the streets.
NLOS_STREETS = ("东风大街", "飞跃路")
BLOCK_SETBACK_M = 30.0
BLOCK_DEPTH_M = 150.0


def _demand(net_path: Path, projection: LocalProjection, level: float) -> str:
    """SUMO flows (from/to edges; duarouter routes them on load) at `level` x the peak."""
    import sumolib

    net = sumolib.net.readNet(str(net_path))
    edges = [e for e in net.getEdges() if e.allows("passenger")]
    # Entries and exits are where streets cross the clipping border or end in the source data.
    # Where a dual carriageway ends both carriageways meet at one node, which then has an edge
    # in and an edge out: "no incoming edge" alone would miss both directions of such a road.
    xmin, ymin, xmax, ymax = net.getBoundary()

    def street_end(node: Any) -> bool:
        """On the border, a dead end, or where a dual carriageway turns back on itself."""
        x, y = node.getCoord()[:2]
        if min(x - xmin, xmax - x, y - ymin, ymax - y) < BORDER_M:
            return True
        ins, outs = node.getIncoming(), node.getOutgoing()
        if not ins or not outs:
            return True
        if len(ins) == 1 and len(outs) == 1:
            a, b = _heading(ins[0], True), _heading(outs[0], False)
            return abs((a - b + 180.0) % 360.0 - 180.0) > 150.0
        return False

    entries = sorted((e for e in edges if street_end(e.getFromNode())), key=lambda e: e.getID())
    exits = sorted((e for e in edges if street_end(e.getToNode())), key=lambda e: e.getID())
    gen: dict[str, Any] = {}
    inner = [e for e in edges if e not in entries and e not in exits and e.getLength() > 60]
    for name, (lon, lat) in GENERATORS.items():
        x, y = net.convertLonLat2XY(lon, lat)
        gen[name] = min(inner, key=lambda e: (_dist(e, x, y), e.getID()))

    def reachable(a: Any, b: Any) -> bool:
        return net.getShortestPath(a, b)[0] is not None

    rows: list[tuple[str, str, str, str, float]] = []  # id, type, from, to, veh/h
    total_w = sum(WEIGHT.values())
    for e in entries:
        inflow = PEAK_VEH_H_PER_ENTRY_LANE * e.getLaneNumber() * level
        through = [x for x in exits if x.getToNode() != e.getFromNode() and reachable(e, x)]
        for x in through:
            rows.append((f"{e.getID()}-to-{x.getID()}", "car", e.getID(), x.getID(),
                         inflow * (1 - TO_GENERATORS) / len(through)))
        for name, g in gen.items():
            if not reachable(e, g):
                continue
            q = inflow * TO_GENERATORS * WEIGHT[name] / total_w
            truck = TRUCK_SHARE if name.startswith("faw-plant") else 0.0
            rows.append((f"{e.getID()}-to-{name}", "car", e.getID(), g.getID(), q * (1 - truck)))
            if truck:
                rows.append((f"{e.getID()}-to-{name}-truck", "truck", e.getID(), g.getID(), q * truck))
                rows.append((f"{e.getID()}-to-{name}-logistics", "logistics", e.getID(),
                             g.getID(), LOGISTICS_VEH_H))  # a delivery schedule: all day
            back = [x for x in exits if reachable(g, x)]
            for x in back:
                rows.append((f"{name}-to-{x.getID()}", "car", g.getID(), x.getID(),
                             q * OUTBOUND_SHARE / len(back)))
    merged: dict[tuple[str, str, str, str], float] = {}
    for fid, vtype, a, b, q in rows:
        key = (fid, vtype, a, b)
        merged[key] = merged.get(key, 0.0) + q
    lines = ['<routes>',
             '    <!-- ASSUMED demand, generated by make_auto_city_net.py (see its docstring) -->',
             '    <vType id="car" vClass="passenger"/>',
             '    <vType id="truck" vClass="truck"/>',
             '    <vType id="bus" vClass="bus">',
             '        <param key="v2xsim.automation" value="L4"/>',
             '    </vType>',
             '    <vType id="logistics" vClass="delivery">',
             '        <param key="v2xsim.automation" value="L4"/>',
             '    </vType>',
             f'    <vType id="sanitation" vClass="delivery" maxSpeed="{SWEEP_SPEED_MPS}">',
             '        <param key="v2xsim.class" value="sanitation"/>',
             '        <param key="v2xsim.automation" value="L4"/>',
             '    </vType>']
    for (fid, vtype, a, b), q in merged.items():
        if q >= 1.0:
            lines.append(f'    <flow id="{fid}" type="{vtype}" begin="0" end="{HOUR_S}" '
                         f'vehsPerHour="{q:.1f}" from="{a}" to="{b}" departLane="best" '
                         f'departSpeed="max"/>')
    lines += _service_flows(net, entries, exits)
    lines += _local_flows(net_path, net, lines + ["</routes>"], entries, exits, level)
    lines.append("</routes>")
    return "\n".join(lines) + "\n"


def _local_flows(net_path: Path, net: Any, routes_xml: list[str], entries: list[Any],
                 exits: list[Any], level: float) -> list[str]:
    """Streets that no fastest route of the flows above takes (duarouter decides) still carry
    local traffic: LOCAL_VEH_H x level via each of them, from the entry nearest to it (by
    travel time) to the exit nearest from it."""
    import tempfile

    import sumolib

    from sim.sumo.tools import run_tool

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.rou.xml", Path(tmp) / "out.rou.xml"
        src.write_text("\n".join(routes_xml) + "\n", encoding="utf-8")
        proc = run_tool("duarouter", ["-n", str(net_path), "--route-files", str(src), "-o",
                                      str(out), "--no-step-log", "--no-warnings", "--seed", "1",
                                      "--alternatives-output", str(Path(tmp) / "alt.rou.xml")])
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        used = {e for r in sumolib.xml.parse(str(out), ["route"]) if r.hasAttribute("edges")
                for e in r.edges.split()}
    out_lines = []
    for e in sorted((e for e in net.getEdges() if e.allows("passenger")), key=lambda e: e.getID()):
        if e.getID() in used:
            continue
        into = [(net.getShortestPath(a, e)[1], a.getID(), a) for a in entries if a is not e]
        out_of = [(net.getShortestPath(e, x)[1], x.getID(), x) for x in exits if x is not e]
        into = [p for p in into if p[0] < float("inf")]
        out_of = [p for p in out_of if p[0] < float("inf")]
        if not into or not out_of:
            continue
        a, x = min(into, key=lambda p: p[:2])[2], min(out_of, key=lambda p: p[:2])[2]
        out_lines.append(f'    <flow id="local-via-{e.getID()}" type="car" begin="0" end="{HOUR_S}" '
                         f'vehsPerHour="{LOCAL_VEH_H * level:.1f}" from="{a.getID()}" '
                         f'to="{x.getID()}" via="{e.getID()}" departLane="best" '
                         f'departSpeed="max"/>')
    return out_lines


def _dist(edge: Any, x: float, y: float) -> float:
    sx, sy = np.array(edge.getShape()).mean(axis=0)
    return float(np.hypot(sx - x, sy - y))


def _heading(edge: Any, at_end: bool) -> float:
    """Direction of travel [deg] at the end (or start) of an edge."""
    shape = np.asarray(edge.getShape())[:, :2]
    d = shape[-1] - shape[-2] if at_end else shape[1] - shape[0]
    return float(np.degrees(np.arctan2(d[1], d[0])))


def _street_runs(net: Any, entries: list[Any], exits: list[Any], street: str,
                 vclass: str) -> list[list[Any]]:
    """The two longest runs along one street (one each way, as a rule): from a place where it
    enters the area to the farthest place it leaves it, every edge on the street itself."""
    ins = [e for e in entries if e.getName().startswith(street)]
    outs = [e for e in exits if e.getName().startswith(street)]
    found = []
    for start in ins:
        best = None
        for x in outs:
            path, cost = net.getShortestPath(start, x, vClass=vclass)
            if path and all(e.getName().startswith(street) for e in path) and (
                    best is None or cost > best[1]):
                best = (path, cost)
        if best is not None:
            found.append(best)
    return [p for p, _ in sorted(found, key=lambda p: (-p[1], p[0][0].getID()))[:2]]


def _stops(path: list[Any], first_m: float, every_m: float, dwell_s: int, street: str,
           ) -> tuple[list[str], list[str]]:
    """Kerb-lane `<stop>`s along `path`, the first after `first_m`, then every `every_m`, kept
    STOP_SETBACK_M from either end of an edge (off the junctions); and their names (street and
    distance along the run). ASSUMED positions: the source has no stops."""
    stops, names = [], []
    travelled, target = 0.0, first_m
    for e in path:
        length = e.getLength()
        while travelled + length > target:
            pos = min(max(target - travelled, STOP_SETBACK_M), length - STOP_SETBACK_M)
            if pos < STOP_SETBACK_M:
                break  # a short edge: the stop moves on to the next one
            names.append(f"{street} {target / 1000:.1f} km")
            stops.append(f'        <stop lane="{e.getID()}_0" endPos="{pos:.1f}" '
                         f'duration="{dwell_s}"/>')
            target += every_m
        travelled += length
    return stops, names


def _service_flows(net: Any, entries: list[Any], exits: list[Any]) -> list[str]:
    """The demonstrations of the plan on these streets: the L4 smart bus along 东风大街 (both
    ways, a stop every 600 m), the L4 sanitation sweeper along 创业大街 (working speed, a
    bin/sweep stop every 300 m), and L4 logistics vans to the plant gates (in `_demand`)."""
    out = []
    runs = [("smart-bus", "bus", BUS_STREET, BUS_PERIOD_S, BUS_FIRST_STOP_M, BUS_STOP_SPACING_M,
             BUS_DWELL_S, "bus"),
            ("sanitation", "sanitation", SWEEP_STREET, SWEEP_PERIOD_S, SWEEP_STOP_SPACING_M,
             SWEEP_STOP_SPACING_M, SWEEP_DWELL_S, "delivery")]
    for fid, vtype, street, period, first, every, dwell, vclass in runs:
        for k, path in enumerate(_street_runs(net, entries, exits, street, vclass)):
            stops, names = _stops(path, first, every, dwell, street)
            out.append(f"    <!-- {fid} {k}: {len(stops)} stops ({', '.join(names)}); ASSUMED "
                       f"positions -->")
            out.append(f'    <flow id="{fid}-{k}" type="{vtype}" begin="{k * 60}" end="{HOUR_S}" '
                       f'period="{period}" departLane="best" departSpeed="max">')
            out.append(f'        <route edges="{" ".join(e.getID() for e in path)}"/>')
            out += stops
            out.append("    </flow>")
    return out


def _corner_blocks(net_path: Path) -> str:
    """Four assumed blocks (GeoJSON Polygons with properties.building) around the signalised
    junction where the NLOS_STREETS cross: parallelograms with their sides along the two streets,
    fronts BLOCK_SETBACK_M from each street's centre line, BLOCK_DEPTH_M deep."""
    import sumolib

    net = sumolib.net.readNet(str(net_path))
    node = next(n for n in sorted(net.getNodes(), key=lambda n: n.getID())
                if n.getType() == "traffic_light"
                and all(any(e.getName().startswith(s) for e in n.getIncoming()) for s in NLOS_STREETS))
    centre = np.array(node.getCoord()[:2])
    axes = []
    for street in NLOS_STREETS:  # the street's direction: its longest edge into the junction
        e = max((e for e in node.getIncoming() if e.getName().startswith(street)),
                key=lambda e: (e.getLength(), e.getID()))
        a = np.radians(_heading(e, True))
        axes.append(np.array([np.cos(a), np.sin(a)]))
    u, v = axes
    sin_uv = abs(u[0] * v[1] - u[1] * v[0])  # a point b*v off the u street is b*sin_uv from it
    near, far = BLOCK_SETBACK_M / sin_uv, (BLOCK_SETBACK_M + BLOCK_DEPTH_M) / sin_uv
    features = []
    for i, (su, sv) in enumerate(((1, 1), (-1, 1), (-1, -1), (1, -1))):
        corners = [centre + su * a * u + sv * b * v
                   for a, b in ((near, near), (far, near), (far, far), (near, far))]
        ring = [list(net.convertXY2LonLat(float(x), float(y))) for x, y in corners]
        ring = [[round(lon, 7), round(lat, 7)] for lon, lat in ring + ring[:1]]
        features.append({"type": "Feature", "properties": {
            "id": f"assumed-block-{i + 1}", "building": True, "source": "assumed",
            "note": f"ASSUMED corner block at {' x '.join(NLOS_STREETS)}, not a surveyed footprint"},
            "geometry": {"type": "Polygon", "coordinates": [ring]}})
    data = {"type": "FeatureCollection", "name": "auto_city_grid_buildings",
            "metadata": {"source": "generated by make_auto_city_net.py from auto_city_grid.net.xml",
                         "attribution": "street geometry © OpenStreetMap contributors, ODbL 1.0"},
            "features": features}
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def main(out_dir: Path = HERE) -> None:
    projection = LocalProjection((AREA[0] + AREA[2]) / 2, (AREA[1] + AREA[3]) / 2)
    net = lines_to_plain(roads(), RULES, projection)
    out = out_dir / "auto_city_grid.net.xml"
    netconvert_plain(net.nodes, net.edges, out, NETCONVERT)
    print(f"{len(net.nodes)} nodes, {len(net.edges)} edges ({net.one_way_lines} one-way lines, "
          f"{net.two_way_lines} two-way) -> {out.name}")
    for name, level in (("auto_city_grid.rou.xml", OFF_PEAK_SHARE), ("auto_city_grid_peak.rou.xml", 1.0)):
        (out_dir / name).write_text(_demand(out, projection, level), encoding="utf-8")
        print(f"demand at {level:.0%} of the peak -> {name}")
    (out_dir / "auto_city_grid_buildings.geojson").write_text(_corner_blocks(out), encoding="utf-8")
    print("assumed corner blocks -> auto_city_grid_buildings.geojson")


if __name__ == "__main__":
    main()
