"""Builds mobility's `FleetPlan` from the scenario: service fleets, bus lines (stops checked to lie
on their line), scripted vehicles, ramps and VRU crosswalks. Every data problem is a
`ScenarioError` with the key path that caused it."""

from __future__ import annotations

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.geo import LocalProjection
from sim.core.polyline import project_to_polyline
from sim.core.rng import RngTree
from sim.core.road import RouteGeometry
from sim.core.signals import SignalTable, StopLines
from sim.spec.schema import ScenarioSpec
from vehicles.classes import AUTOMATION_LEVELS, CLASS_BY_CODE, VEHICLE_CLASSES
from vehicles.fleetplan import FleetPlan, ScriptedVehicle
from vehicles.pedestrians import Crosswalks, VruParams, VruProcess
from vehicles.ramps import Ramps
from vehicles.service import LineStops, ServiceParams
from vehicles.shared_roads import SharedRoads


def _route_index(spec: ScenarioSpec, route_id: str, key: str, source: str) -> int:
    ids = [r.id for r in spec.routes]
    if route_id not in ids:
        raise ScenarioError(source, key, f"no route {route_id!r}; routes: {', '.join(ids)}")
    return ids.index(route_id)


def _service(spec: ScenarioSpec, plan: FleetPlan) -> None:
    k = len(CLASS_BY_CODE)
    every, dwell, sd = np.full(k, np.inf), np.zeros(k), np.zeros(k)
    for name, svc in spec.fleet.service.items():
        c = VEHICLE_CLASSES[name].code
        every[c], dwell[c], sd[c] = svc.stop_every_m, svc.dwell_s * 1000, svc.dwell_sd_s * 1000
        plan.service_speed_mps[c] = svc.desired_speed_kmh / 3.6
        if svc.automation is not None:
            plan.service_automation[c] = AUTOMATION_LEVELS.index(svc.automation)
    plan.service = ServiceParams(every, dwell, sd)


def _bus_lines(spec: ScenarioSpec, geometry: RouteGeometry, projection: LocalProjection,
               plan: FleetPlan, source: str) -> None:
    lines, stops_s, routes = [], [], []
    for i, bl in enumerate(spec.bus_lines):
        r = _route_index(spec, bl.route, f"bus_lines[{i}].route", source)
        route = geometry.routes[r]
        for j, stop in enumerate(bl.stops):
            if stop.position_m is not None:
                if stop.position_m > route.length_m:
                    raise ScenarioError(
                        source, f"bus_lines[{i}].stops[{j}].position_m",
                        f"stop at {stop.position_m:.0f} m is off line {bl.id!r}: "
                        f"route {bl.route!r} "
                        f"is {route.length_m:.0f} m long")
                s = stop.position_m
            else:
                assert stop.position is not None
                xy = projection.to_local(np.array([stop.position.lon]),
                                         np.array([stop.position.lat]))
                d, s_arr = project_to_polyline(xy.reshape(1, 2), route.xy_m)
                if d[0] > bl.max_offset_m:
                    raise ScenarioError(
                        source, f"bus_lines[{i}].stops[{j}].position",
                        f"stop is {d[0]:.0f} m from route {bl.route!r}, off line {bl.id!r} "
                        f"(at most max_offset_m = {bl.max_offset_m:.0f} m)")
                s = float(s_arr[0])
            lines.append(i)
            stops_s.append(s)
        routes.append(r)
    order = np.lexsort((np.array(stops_s), np.array(lines, dtype=np.int64)))
    plan.lines = LineStops(
        line=np.array(lines, dtype=np.int64)[order], s_m=np.array(stops_s)[order],
        dwell_ms=np.array([round(b.dwell_s * 1000) for b in spec.bus_lines], dtype=np.int64),
        dwell_sd_ms=np.array([round(b.dwell_sd_s * 1000) for b in spec.bus_lines], dtype=np.int64),
    )
    plan.line_route = np.array(routes, dtype=np.int64)
    plan.line_headway_ms = np.array([round(b.headway_s * 1000) for b in spec.bus_lines], np.int64)
    plan.line_next_ms = np.array([round(b.first_departure_s * 1000) for b in spec.bus_lines],
                                 np.int64)
    plan.line_automation = np.array([AUTOMATION_LEVELS.index(b.automation) for b in spec.bus_lines],
                                    np.int64)


def _scripted(spec: ScenarioSpec, geometry: RouteGeometry, plan: FleetPlan, source: str) -> None:
    for i, v in enumerate(spec.vehicles):
        r = _route_index(spec, v.route, f"vehicles[{i}].route", source)
        if v.lane >= geometry.lanes[r]:
            raise ScenarioError(source, f"vehicles[{i}].lane",
                                f"route {v.route!r} has lanes 0..{geometry.lanes[r] - 1}")
        if v.position_m > geometry.length_m[r]:
            raise ScenarioError(source, f"vehicles[{i}].position_m",
                                f"route {v.route!r} is {geometry.length_m[r]:.0f} m long")
        plan.scripted.append(ScriptedVehicle(
            at_ms=round(v.at_s * 1000), route=r, s_m=v.position_m, lane=v.lane,
            v_mps=None if v.speed_kmh is None else v.speed_kmh / 3.6,
            cls=VEHICLE_CLASSES[v.vehicle_class].code,
            automation=AUTOMATION_LEVELS.index(v.automation), equipped=v.equipped))


def _ramps(spec: ScenarioSpec, geometry: RouteGeometry, plan: FleetPlan, source: str) -> None:
    on: list[tuple[int, float, float, float]] = []
    off: list[tuple[int, float, float, float]] = []
    for i, rs in enumerate(spec.routes):
        length = float(geometry.length_m[i])
        spans: list[tuple[float, float]] = []
        for j, ramp in enumerate(rs.ramps):
            end = ramp.position_m + (ramp.length_m if ramp.kind == "on-ramp" else 0.0)
            if end > length:
                raise ScenarioError(source, f"routes[{i}].ramps[{j}].position_m",
                                    f"the ramp ends at {end:.0f} m, beyond route {rs.id!r} "
                                    f"({length:.0f} m long)")
            if ramp.kind == "on-ramp":
                if any(a < end and ramp.position_m < b for a, b in spans):
                    raise ScenarioError(source, f"routes[{i}].ramps[{j}]",
                                        "acceleration lanes of one route must not overlap")
                spans.append((ramp.position_m, end))
                on.append((i, ramp.position_m, end, ramp.flow_veh_h / 3600.0))
            else:
                off.append((i, ramp.position_m, ramp.share, ramp.prepare_m))
    on.sort()
    off.sort()

    def col(rows: list[tuple[int, float, float, float]], k: int,
            dtype: type = np.float64) -> np.ndarray:
        return np.array([row[k] for row in rows], dtype=dtype)

    plan.ramps = Ramps(col(on, 0, np.int64), col(on, 1), col(on, 2), col(on, 3),
                       col(off, 0, np.int64), col(off, 1), col(off, 2), col(off, 3))


#: Crosswalks of routes through one approach closer than this along it are one crosswalk [m].
CROSSWALK_MERGE_M = 3.0
#: On a SUMO net, crosswalks only where the approach edge is at least this long [m].
MIN_APPROACH_M = 20.0


def _crosswalks(spec: ScenarioSpec, geometry: RouteGeometry, signals: SignalTable | None,
                stop_lines: StopLines | None, plan: FleetPlan, rng: RngTree, source: str) -> None:
    ped = spec.pedestrians
    if ped is None:
        return
    if signals is None or stop_lines is None:
        raise ScenarioError(source, "pedestrians",
                            "VRUs cross at signals, but the scenario has none")
    chosen = set(range(len(signals)))
    if ped.signals is not None:
        chosen = set()
        for k, sid in enumerate(ped.signals):
            if sid not in signals.ids:
                raise ScenarioError(source, f"pedestrians.signals[{k}]",
                                    f"no signal {sid!r}; signals: {', '.join(signals.ids)}")
            chosen.add(signals.ids.index(sid))
    sel = np.array([int(g) in chosen for g in stop_lines.signal], dtype=bool)
    route = stop_lines.route[sel]
    s_cw = stop_lines.s_m[sel] + ped.crosswalk_offset_m
    inside = s_cw < geometry.length_m[route]
    route, s_cw = route[inside], s_cw[inside]
    signal, group = stop_lines.signal[sel][inside], stop_lines.group[sel][inside]
    shared = SharedRoads.of(geometry)
    if shared is not None:
        # A SUMO net: routes share approaches, so one crosswalk per (approach piece, signal), in
        # the approach frame every route through it uses; its geometry from the first route.
        # The frame of the stop line's own approach edge (a point just before it), whatever
        # the junction lane after it: some are shorter than the crosswalk offset.
        frame, s_frame = shared.approach_frame(route, s_cw - ped.crosswalk_offset_m - 0.01)
        s_frame = s_frame + ped.crosswalk_offset_m + 0.01
        # Stop lines at the end of a link inside a joined junction cluster (a few metres long)
        # have no kerb to cross from: crosswalks are at the cluster's outer approaches.
        outer = s_frame - ped.crosswalk_offset_m >= MIN_APPROACH_M
        route, s_cw, signal, group = route[outer], s_cw[outer], signal[outer], group[outer]
        frame, s_frame = frame[outer], s_frame[outer]
        # One kerb, many routes: along each (approach, signal), positions closer than
        # CROSSWALK_MERGE_M to the previous one belong to the same crosswalk (the first route's).
        o = np.lexsort((np.arange(len(frame)), s_frame, signal, frame))
        new = np.ones(len(o), bool)
        new[1:] = ((frame[o][1:] != frame[o][:-1]) | (signal[o][1:] != signal[o][:-1])
                   | (np.diff(s_frame[o]) > CROSSWALK_MERGE_M))
        first = o[new]
        order = first[np.lexsort((s_frame[first], frame[first]))]
        route, s_cw, signal, group = route[order], s_cw[order], signal[order], group[order]
        key, s_key = frame[order], s_frame[order]
        lanes = shared.lanes_of_key[key]
    x, y, h = geometry.positions(route, s_cw, np.zeros(len(route), np.int64))
    w = geometry.lane_width_m[route]
    origin = np.column_stack([x - 0.5 * w * np.sin(h), y + 0.5 * w * np.cos(h)])
    if shared is None:
        crosswalks = Crosswalks(
            route=route, s_m=s_cw, signal=signal, group=group, origin_xy_m=origin,
            heading_rad=h, width_m=geometry.lanes[route] * w, lane_width_m=w,
        )
    else:
        crosswalks = Crosswalks(
            route=key, s_m=s_key, signal=signal, group=group, origin_xy_m=origin, heading_rad=h,
            width_m=lanes * w, lane_width_m=w, other_group=np.full(len(key), -1, np.int64),
        )
    params = VruParams(
        arrivals_per_s=ped.arrivals_per_h / 3600.0, cyclist_share=ped.cyclist_share,
        violation_share=ped.violation_share, walk_speed_mps=ped.walk_speed_mps,
        walk_speed_sd_mps=ped.walk_speed_sd_mps, cycle_speed_mps=ped.cycle_speed_mps,
        cycle_speed_sd_mps=ped.cycle_speed_sd_mps, sidewalk_m=ped.sidewalk_m,
        accepted_gap_s=ped.accepted_gap_s,
    )
    plan.crosswalks = crosswalks
    plan.vru = VruProcess(crosswalks, signals, params, rng.generator("pedestrians"))


def build_fleet_plan(spec: ScenarioSpec, geometry: RouteGeometry, projection: LocalProjection,
                     signals: SignalTable | None, stop_lines: StopLines | None, rng: RngTree,
                     source: str) -> FleetPlan:
    plan = FleetPlan()
    _service(spec, plan)
    _bus_lines(spec, geometry, projection, plan, source)
    _scripted(spec, geometry, plan, source)
    _ramps(spec, geometry, plan, source)
    _crosswalks(spec, geometry, signals, stop_lines, plan, rng, source)
    return plan


def road_speed_limits_mps(spec: ScenarioSpec, r_index: int, names: list[str],
                          props: list[dict], source: str) -> tuple[float, ...]:
    """Per-road limits of a route in driving order: map.speed_limits_kmh overrides, else the
    road's speed_limit_kmh_assumed; () when the route sets its own speed_limit_kmh."""
    if spec.routes[r_index].speed_limit_kmh is not None:
        return ()
    overrides = spec.map.speed_limits_kmh if spec.map is not None else {}
    out = []
    for name, p in zip(names, props):
        kmh = overrides.get(name) or float(p.get("speed_limit_kmh_assumed", 0) or 0)
        if kmh <= 0:
            raise ScenarioError(source, f"routes[{r_index}].speed_limit_kmh",
                                f"must be > 0 (the map gives none for road {name!r})")
        out.append(kmh / 3.6)
    return tuple(out)


def check_speed_limit_roads(spec: ScenarioSpec, road_names: set[str], source: str) -> None:
    for name in (spec.map.speed_limits_kmh if spec.map is not None else {}):
        if name not in road_names:
            raise ScenarioError(source, f"map.speed_limits_kmh.{name}",
                                f"road {name!r} is not in the map")
