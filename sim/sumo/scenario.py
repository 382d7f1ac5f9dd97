"""A scenario on a SUMO network: routes, signals and (optionally) the demand, as builder inputs.

Called by `sim.scenario.build` when the scenario names `network.sumo_net`. Routes in `routes:`
list SUMO edge ids as their roads; each distinct edge list of the SUMO demand becomes one more
route (`sumo:<n>`), each SUMO vehicle a scripted vehicle on it, with the scenario's automation
shares and V2X penetration drawn per vehicle from the run's RNG tree (stream `sumo-demand`).
Traffic lights become signals (sim.sumo.signals) on the routes that pass them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.input_file import MAX_SUMO_BYTES, check_regular_file
from sim.core.road import Route
from sim.spec.schema import LatLon, PhaseSpec, RouteSpec, ScenarioSpec, SignalSpec, VehicleSpec
from sim.sumo.demand import Trip, TripStop, read_demand
from sim.sumo.net import NetProjection, SumoNet, read_net
from sim.sumo.routes import route_from_edges
from sim.sumo.signals import signal_plan
from vehicles.fleetplan import FleetPlan
from vehicles.service import LineStops


@dataclass(frozen=True)
class DemandLine:
    """Trips of the SUMO demand that share a route and its `<stop>`s (a bus line): where they
    stop (arc positions on the route) and for how long (the mean of the stops' durations)."""

    route: int
    s_m: tuple[float, ...]
    dwell_s: float


@dataclass(frozen=True)
class SumoInputs:
    net: SumoNet
    projection: NetProjection
    routes: list[Route]
    #: The scenario as the builder sees it: routes, scripted vehicles and signals completed from
    #: the SUMO files (the run's own spec stays as written).
    spec: ScenarioSpec
    trips: list[Trip]
    #: The demand's stopping lines, and per trip its line (-1: none).
    lines: list[DemandLine] = field(default_factory=list)
    trip_line: list[int] = field(default_factory=list)


def import_sumo(spec: ScenarioSpec, resolve: Callable[[str], Path], source: str,
                hashes: dict[str, str], demand_rng: np.random.Generator,
                file_hash: Callable[[Path], str]) -> SumoInputs:
    assert spec.network is not None
    net_path = resolve(spec.network.sumo_net)
    net = read_net(net_path, source)
    hashes[spec.network.sumo_net] = file_hash(net_path)
    origin = spec.network.origin
    projection = NetProjection(net, None if origin is None else (origin.lon, origin.lat))

    route_specs = list(spec.routes)
    routes = [route_from_edges(net, rs.id, rs.roads, source, f"routes[{i}].roads",
                               None) for i, rs in enumerate(route_specs)]
    routes = [r if rs.lanes is None else _with_lanes(r, rs.lanes)
              for r, rs in zip(routes, route_specs)]
    trips: list[Trip] = []
    by_edges: dict[tuple[str, ...], int] = {}
    vehicles = list(spec.vehicles)
    if spec.traffic.sumo_routes:
        rou_path = resolve(spec.traffic.sumo_routes)
        check_regular_file(rou_path, MAX_SUMO_BYTES, source, "traffic.sumo_routes")
        hashes[spec.traffic.sumo_routes] = file_hash(rou_path)
        trips = read_demand(net_path, rou_path, source, "traffic.sumo_routes", spec.seed,
                            spec.traffic.depart_until_s)
        for tr in trips:
            if tr.edges not in by_edges:
                by_edges[tr.edges] = len(route_specs)
                rid = f"sumo:{len(by_edges) - 1}"
                route_specs.append(RouteSpec(id=rid, roads=list(tr.edges)))
                routes.append(route_from_edges(net, rid, tr.edges, str(rou_path),
                                               f"vehicle {tr.id!r} route"))
        vehicles += _vehicles(spec, trips, by_edges, routes, route_specs, demand_rng)
    signals = list(spec.signals)
    for i, tls in enumerate(spec.network.signals_off):
        if tls not in net.programs:
            known = ", ".join(sorted(net.programs)) or "none"
            raise ScenarioError(source, f"network.signals_off[{i}]",
                                f"{tls!r} is no traffic light of the net (it has: {known})")
    if spec.network.signals:
        used = {e for r in routes for e in r.road_names}
        for prog in net.programs.values():
            if not used & set(prog.link_edge.values()) or prog.id in spec.network.signals_off:
                continue  # no route passes this light, or it is switched off
            plan = signal_plan(net, prog)
            if not plan:
                continue
            xy = plan.pop("xy_m")
            lon, lat = projection.to_wgs84(np.array(xy[0]), np.array(xy[1]))  # type: ignore[index]
            phases = [PhaseSpec(serves=ph["serves"], green_s=float(ph["green_s"]),  # type: ignore[arg-type]
                                yellow_s=min(float(ph["yellow_s"]), 10.0),  # type: ignore[arg-type]
                                all_red_s=min(float(ph["all_red_s"]), 10.0))  # type: ignore[arg-type]
                      for ph in plan["phases"]]  # type: ignore[attr-defined]
            signals.append(SignalSpec(
                id=f"tls:{prog.id}", position=LatLon(lat=float(lat), lon=float(lon)),
                source="evidenced", axis_deg=float(plan["axis_deg"]),  # type: ignore[arg-type]
                offset_s=float(plan["offset_s"]), phases=phases,  # type: ignore[arg-type]
                radius_m=float(plan["radius_m"]),  # type: ignore[arg-type]
                stop_line_offset_m=float(plan["stop_line_offset_m"])))  # type: ignore[arg-type]
    eff = spec.model_copy(update={"routes": route_specs, "vehicles": vehicles,
                                  "signals": signals})
    lines, trip_line = _demand_lines(trips, by_edges, routes)
    return SumoInputs(net=net, projection=projection, routes=routes, spec=eff, trips=trips,
                      lines=lines, trip_line=trip_line)


def _demand_lines(trips: list[Trip], by_edges: dict[tuple[str, ...], int], routes: list[Route],
                  ) -> tuple[list[DemandLine], list[int]]:
    """Groups the trips that stop by (route, stops); a stop's arc position is its edge's start on
    the route plus its end position (negative: from the edge's end), clipped to the edge."""
    index: dict[tuple[int, tuple[TripStop, ...]], int] = {}
    lines: list[DemandLine] = []
    trip_line = []
    for tr in trips:
        if not tr.stops:
            trip_line.append(-1)
            continue
        r = by_edges[tr.edges]
        key = (r, tr.stops)
        if key not in index:
            route = routes[r]
            bounds = (0.0, *route.junctions_s_m, route.length_m)
            s_m, j = [], 0
            for st in tr.stops:
                while j < len(route.road_names) and route.road_names[j] != st.edge:
                    j += 1
                if j == len(route.road_names):
                    break  # SUMO would refuse a stop off the route; so do we, silently
                length = bounds[j + 1] - bounds[j]
                pos = st.end_pos_m if st.end_pos_m >= 0 else length + st.end_pos_m
                s_m.append(bounds[j] + min(max(pos, 0.0), length))
            index[key] = len(lines)
            lines.append(DemandLine(route=r, s_m=tuple(s_m),
                                    dwell_s=float(np.mean([st.duration_s for st in tr.stops]))))
        trip_line.append(index[key])
    return lines, trip_line


def _with_lanes(route: Route, lanes: int) -> Route:
    return replace(route, lanes=lanes)


def _vehicles(spec: ScenarioSpec, trips: list[Trip], by_edges: dict[tuple[str, ...], int],
              routes: list[Route], route_specs: list[RouteSpec],
              rng: np.random.Generator) -> list[VehicleSpec]:
    """Scripted vehicles for the SUMO trips, with automation and V2X drawn from the fleet spec."""
    levels = list(spec.fleet.automation)
    shares = np.array([spec.fleet.automation[k] for k in levels], dtype=np.float64)
    shares = shares / shares.sum()
    n = len(trips)
    level_idx = rng.choice(len(levels), size=n, p=shares) if n else np.empty(0, np.int64)
    equipped = rng.random(n) < spec.fleet.v2x_penetration
    out = []
    for k, tr in enumerate(trips):
        r = by_edges[tr.edges]
        lanes = routes[r].lanes
        lane = lanes - 1 if tr.depart_lane is None else lanes - 1 - min(tr.depart_lane, lanes - 1)
        out.append(VehicleSpec(
            vehicle_class=tr.vehicle_class,  # type: ignore[arg-type]
            route=route_specs[r].id, at_s=float(tr.depart_s),
            position_m=float(max(tr.depart_pos_m, 0.0)), lane=int(lane),
            speed_kmh=None if tr.depart_speed_mps is None else float(tr.depart_speed_mps * 3.6),
            automation=tr.automation or levels[int(level_idx[k])],  # type: ignore[arg-type]
            equipped=bool(equipped[k])))
    return out


#: Lines of the demand never depart by headway (their trips are the SUMO demand's).
_NEVER_MS = np.iinfo(np.int64).max // 2


def add_demand_lines(plan: FleetPlan, sumo: SumoInputs, n_user: int) -> None:
    """Appends the demand's stopping lines to `plan` (after the scenario's `bus_lines`) and gives
    each stopping trip's scripted vehicle its line, so the internal mobility serves the stops
    as it serves a bus line's (SUMO serves them itself from its demand)."""
    if not sumo.lines:
        return
    base = len(plan.line_route)
    old = plan.lines
    line = np.concatenate([old.line, *[np.full(len(ln.s_m), base + k, np.int64)
                                       for k, ln in enumerate(sumo.lines)]])
    s_m = np.concatenate([old.s_m, *[np.array(ln.s_m, dtype=np.float64) for ln in sumo.lines]])
    order = np.lexsort((s_m, line))
    plan.lines = LineStops(
        line=line[order], s_m=s_m[order],
        dwell_ms=np.concatenate([old.dwell_ms, [round(ln.dwell_s * 1000) for ln in sumo.lines]]
                                ).astype(np.int64),
        dwell_sd_ms=np.concatenate([old.dwell_sd_ms, np.zeros(len(sumo.lines))]).astype(np.int64))
    n = len(sumo.lines)
    plan.line_route = np.concatenate([plan.line_route, [ln.route for ln in sumo.lines]]
                                     ).astype(np.int64)
    plan.line_headway_ms = np.concatenate([plan.line_headway_ms, np.zeros(n)]).astype(np.int64)
    plan.line_next_ms = np.concatenate([plan.line_next_ms, np.full(n, _NEVER_MS)]).astype(np.int64)
    plan.line_automation = np.concatenate([plan.line_automation, np.zeros(n)]).astype(np.int64)
    for k, ln in enumerate(sumo.trip_line):
        if ln >= 0:
            plan.scripted[n_user + k] = replace(plan.scripted[n_user + k], line=base + ln)
