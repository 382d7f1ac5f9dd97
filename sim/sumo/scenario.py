"""A scenario on a SUMO network: routes, signals and (optionally) the demand, as builder inputs.

Called by `sim.scenario.build` when the scenario names `network.sumo_net`. Routes in `routes:`
list SUMO edge ids as their roads; each distinct edge list of the SUMO demand becomes one more
route (`sumo:<n>`), each SUMO vehicle a scripted vehicle on it, with the scenario's automation
shares and V2X penetration drawn per vehicle from the run's RNG tree (stream `sumo-demand`).
Traffic lights become signals (sim.sumo.signals) on the routes that pass them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.road import Route
from sim.spec.schema import LatLon, PhaseSpec, RouteSpec, ScenarioSpec, SignalSpec, VehicleSpec
from sim.sumo.demand import Trip, read_demand
from sim.sumo.net import NetProjection, SumoNet, read_net
from sim.sumo.routes import route_from_edges
from sim.sumo.signals import signal_plan


@dataclass(frozen=True)
class SumoInputs:
    net: SumoNet
    projection: NetProjection
    routes: list[Route]
    #: The scenario as the builder sees it: routes, scripted vehicles and signals completed from
    #: the SUMO files (the run's own spec stays as written).
    spec: ScenarioSpec
    trips: list[Trip]


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
    vehicles = list(spec.vehicles)
    if spec.traffic.sumo_routes:
        rou_path = resolve(spec.traffic.sumo_routes)
        if not rou_path.is_file():
            raise ScenarioError(source, "traffic.sumo_routes", f"{rou_path} is not a file")
        hashes[spec.traffic.sumo_routes] = file_hash(rou_path)
        trips = read_demand(net_path, rou_path, source, "traffic.sumo_routes", spec.seed,
                            spec.traffic.depart_until_s)
        by_edges: dict[tuple[str, ...], int] = {}
        for tr in trips:
            if tr.edges not in by_edges:
                by_edges[tr.edges] = len(route_specs)
                rid = f"sumo:{len(by_edges) - 1}"
                route_specs.append(RouteSpec(id=rid, roads=list(tr.edges)))
                routes.append(route_from_edges(net, rid, tr.edges, str(rou_path),
                                               f"vehicle {tr.id!r} route"))
        vehicles += _vehicles(spec, trips, by_edges, routes, route_specs, demand_rng)
    signals = list(spec.signals)
    if spec.network.signals:
        used = {e for r in routes for e in r.road_names}
        for prog in net.programs.values():
            if not used & set(prog.link_edge.values()):
                continue  # no route passes this light
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
    return SumoInputs(net=net, projection=projection, routes=routes, spec=eff, trips=trips)


def _with_lanes(route: Route, lanes: int) -> Route:
    from dataclasses import replace

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
            automation=levels[int(level_idx[k])],  # type: ignore[arg-type]
            equipped=bool(equipped[k])))
    return out
