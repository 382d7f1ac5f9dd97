"""`build_world(loaded)`: the one function that turns a validated scenario into a runnable world.

Reads the road GeoJSON, chains each route's roads (checking that they really connect), projects
everything to local metres once, places RSUs (checking they are on the map), sizes the radio
resources from the message size and MCS, and seeds every subsystem from the RNG tree. Problems in
the data are reported as `ScenarioError` with the key path that caused them.

Why one long module: it is the one place where the spec becomes run-time state; each section
(roads, routes, signals, RSUs, radio, fleets) is a short function, and keeping them together keeps
the seeding order of the RNG tree readable in one file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from roadside.network import build_roadside
from roadside.rsu import RsuTable, serving_signal
from sim.core.errors import ScenarioError
from sim.core.geo import LocalProjection
from sim.core.polyline import (
    arc_length_m,
    closest_approach,
    cut,
    distance_to_polyline_m,
    project_to_polyline,
)
from sim.core.rng import RngTree
from sim.core.road import Route, RouteGeometry
from sim.core.signals import SignalTable, StopLines, group_for_heading
from sim.core.world import Participant, World
from sim.radio.channel import ChannelModel
from sim.radio.dcc import ReactiveDcc
from sim.radio.medium import SidelinkMedium
from sim.radio.messages import MsgType
from sim.radio.nodes import VehicleRadio
from sim.radio.phy import gamma_min_db, pssch_prbs_for_payload, resource_grid, subchannels_for_payload
from sim.radio.scheduler import RandomScheduler
from sim.radio.sidelink import SidelinkConfig
from sim.radio.sps import SpsParams, SpsScheduler
from sim.scenario.environment import buildings_from_map
from sim.scenario.fleet_build import (
    build_fleet_plan,
    check_speed_limit_roads,
    road_speed_limits_mps,
)
from sim.scenario.geojson_map import load_geojson
from sim.scenario.loader import LoadedScenario
from sim.scenario.rsu_layout import check_separation, spaced_sites
from sim.scenario.view import view_bounds
from sim.spec.schema import MessagePrioritySpec, ScenarioSpec, SignalSpec
from sim.spec.units import s_to_ms
from vehicles.apps.crossings import Crossings, find_piece_crossings
from vehicles.apps.manager import build_apps
from vehicles.junction_yield import JunctionYields
from vehicles.lanechange import MobilParams
from vehicles.mobility import Mobility
from vehicles.obu import ObuFleet
from vehicles.shared_roads import SharedRoads

#: Consecutive roads of a route must meet within this distance (OSM simplification is ~10 m).
MAX_JOIN_GAP_M = 50.0


def _load_geojson(path: Path, key: str, source: str) -> tuple[dict[str, Any], str]:
    return load_geojson(path, key, source)  # strict and bounded (sim.scenario.geojson_map)


def _coords(feature: Any, i: int, path: Path, kind: str) -> np.ndarray:
    where = f"features[{i}].geometry"
    geom = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geom, dict) or geom.get("type") != kind:
        raise ScenarioError(str(path), where, f"expected a {kind} geometry")
    try:
        c = np.asarray(geom.get("coordinates"), dtype=np.float64)
    except (TypeError, ValueError):
        raise ScenarioError(str(path), f"{where}.coordinates", "expected numbers") from None
    want_dims = 2 if kind == "LineString" else 1
    if c.ndim != want_dims or c.shape[-1] < 2 or (kind == "LineString" and len(c) < 2):
        raise ScenarioError(str(path), f"{where}.coordinates", f"malformed {kind} coordinates")
    lon, lat = c[..., 0], c[..., 1]
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180) or not np.all(np.isfinite(c)):
        raise ScenarioError(
            str(path), f"{where}.coordinates", "longitude must be in [-180, 180], latitude in [-90, 90]"
        )
    return c[..., :2]


def _roads_by_name(data: dict[str, Any], path: Path) -> dict[str, tuple[int, dict[str, Any]]]:
    out = {}
    for i, f in enumerate(data["features"]):
        props = f.get("properties") if isinstance(f, dict) else None
        if isinstance(props, dict) and isinstance(props.get("name"), str):
            geom = f.get("geometry") or {}
            if isinstance(geom, dict) and geom.get("type") == "LineString":
                out[props["name"]] = (i, f)
    return out


def _route_roads(
    spec: ScenarioSpec, r_index: int, roads: dict[str, tuple[int, dict[str, Any]]], path: Path,
    source: str,
) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """Lon/lat polylines and properties of a route's roads, as named in the scenario."""
    route = spec.routes[r_index]
    parts, props = [], []
    for j, name in enumerate(route.roads):
        if name not in roads:
            allowed = ", ".join(sorted(roads)) or "none (no LineString feature has a name)"
            raise ScenarioError(
                source, f"routes[{r_index}].roads[{j}]", f"road {name!r} is not in the map; roads: {allowed}"
            )
        i, feature = roads[name]
        parts.append(_coords(feature, i, path, "LineString"))
        props.append(feature.get("properties", {}))
    return parts, props


def _chain(lines: list[np.ndarray], names: list[str], r_index: int, source: str,
           last_road_m: float | None = None) -> tuple[np.ndarray, list[float]]:
    """Chains road polylines (local metres) through their junctions into one route polyline.

    A junction is where two consecutive roads come closest (it may be mid-road: a cross street
    meets an arterial mid-block); each road is driven from where the previous one joins it to where
    the next one leaves it. The first road starts at its end farther from the first junction, the
    last one runs to its end farther from the last junction. Returns the polyline and the arc
    positions of the junctions along it.
    """
    if len(lines) == 1:
        return lines[0], []
    joins = []
    for j in range(len(lines) - 1):
        s_a, s_b, gap = closest_approach(lines[j], lines[j + 1])
        if gap > MAX_JOIN_GAP_M:
            raise ScenarioError(
                source, f"routes[{r_index}].roads[{j + 1}]",
                f"road {names[j + 1]!r} does not connect to {names[j]!r} "
                f"(closest {gap:.0f} m apart; at most {MAX_JOIN_GAP_M:.0f} m allowed)",
            )
        joins.append((s_a, s_b))
    pieces: list[np.ndarray] = []
    junctions: list[float] = []
    total = 0.0
    for j, line in enumerate(lines):
        length = float(arc_length_m(line)[-1])
        if j > 0:
            entry = joins[j - 1][1]
        else:
            leave = joins[0][0]
            entry = 0.0 if leave > length - leave else length
        if j < len(lines) - 1:
            leave = joins[j][0]
        else:
            leave = 0.0 if entry > length - entry else length
            if last_road_m is not None and len(lines) > 1:
                leave = entry + min(last_road_m, abs(leave - entry)) * np.sign(leave - entry)
        piece = cut(line, entry, leave)
        if pieces:
            total += float(np.hypot(*(piece[0] - pieces[-1][-1])))
        total += float(arc_length_m(piece)[-1])
        pieces.append(piece)
        if j < len(lines) - 1:
            junctions.append(total)
    out = [pieces[0]]
    for piece in pieces[1:]:
        out.append(piece[1:] if np.allclose(piece[0], out[-1][-1]) else piece)
    return np.concatenate(out), junctions


def _rsus(loaded: LoadedScenario, projection: LocalProjection, routes: list[Route],
          hashes: dict[str, str], signals: Sequence[SignalSpec]) -> RsuTable:
    spec = loaded.spec.rsus
    lonlat: list[np.ndarray] = []
    keys: list[str] = []
    if spec.geojson:
        path = loaded.resolve(spec.geojson)
        data, h = _load_geojson(path, "rsus.geojson", loaded.source)
        hashes[spec.geojson] = h
        for i, f in enumerate(data["features"]):
            lonlat.append(_coords(f, i, path, "Point"))
            keys.append(f"rsus.geojson ({Path(spec.geojson).name}) features[{i}]")
    for i, p in enumerate(spec.positions):
        lonlat.append(np.array([p.lon, p.lat]))
        keys.append(f"rsus.positions[{i}]")
    if spec.at_signals:
        for g in signals:
            lonlat.append(np.array([g.position.lon, g.position.lat]))
            keys.append(f"rsus.at_signals (signal {g.id})")
    ll = np.array(lonlat).reshape(-1, 2)
    xy = projection.to_local(ll[:, 0], ll[:, 1]) if len(ll) else np.zeros((0, 2))
    if spec.positions_xy_m:  # the SUMO net's own x/y (the builder's local frame on a SUMO net)
        net_xy = np.array(spec.positions_xy_m, dtype=np.float64).reshape(-1, 2)
        xy = np.concatenate([xy, net_xy])
        ll = np.concatenate([ll, projection.to_wgs84(net_xy[:, 0], net_xy[:, 1]).reshape(-1, 2)])
        keys += [f"rsus.positions_xy_m[{i}]" for i in range(len(net_xy))]
    spaced_xy, spaced_keys = spaced_sites(spec, routes, loaded.source)
    if len(spaced_xy):
        xy = np.concatenate([xy, spaced_xy])
        ll = np.concatenate([ll, projection.to_wgs84(spaced_xy[:, 0], spaced_xy[:, 1]).reshape(-1, 2)])
        keys += spaced_keys
    check_separation(xy, keys, loaded.source)
    if len(xy):
        dist = np.min([distance_to_polyline_m(xy, r.xy_m) for r in routes], axis=0)
        far = np.flatnonzero(dist > spec.max_offset_m)
        if len(far):
            k = int(far[0])
            raise ScenarioError(
                loaded.source, keys[k],
                f"RSU is {dist[k]:.0f} m from the nearest route, outside the map "
                f"(at most rsus.max_offset_m = {spec.max_offset_m:.0f} m)",
            )
    return RsuTable(
        xy_m=xy, lonlat_deg=ll, height_m=spec.height_m, tx_power_dbm=spec.tx_power_dbm,
        antenna_gain_dbi=spec.antenna_gain_dbi, noise_figure_db=spec.noise_figure_db,
    )


def _signals(
    spec: ScenarioSpec, source: str, projection: LocalProjection, geometry: RouteGeometry
) -> tuple[SignalTable | None, StopLines | None]:
    specs = spec.signals
    if not specs:
        return None, None
    xy = projection.to_local(np.array([g.position.lon for g in specs]),
                             np.array([g.position.lat for g in specs]))
    axis = np.zeros(len(specs))
    stops: list[tuple[int, float, int, float]] = []  # route, s, signal, heading
    # One projection per route of every signal (thousands of SUMO routes: S x R calls took
    # seconds); the per-point arithmetic is the same as one call per signal and route.
    n_routes = len(geometry.routes)
    dist = np.empty((len(specs), n_routes))
    arc = np.empty((len(specs), n_routes))
    for r, route in enumerate(geometry.routes):
        dist[:, r], arc[:, r] = project_to_polyline(xy, route.xy_m)
    for i, g in enumerate(specs):
        hits = np.flatnonzero(dist[i] <= g.radius_m)
        if not len(hits):
            raise ScenarioError(
                source, f"signals[{i}].position",
                f"no route passes within {g.radius_m:.0f} m of signal {g.id!r} (nearest "
                f"{float(dist[i].min()):.0f} m); a signal must stand on a road that a route uses",
            )
        stop_s = arc[i, hits] - g.stop_line_offset_m
        _, _, heading = geometry.positions(hits, np.maximum(stop_s, 0.0),
                                           np.zeros(len(hits), np.int64))
        found = [(int(r), float(s), i, float(h)) for r, s, h in zip(hits, stop_s, heading)]
        axis[i] = found[0][3] if g.axis_deg is None else np.pi / 2 - np.radians(g.axis_deg)
        stops += [f for f in found if f[1] >= 0.0]
    n_p = max(len(g.phases) for g in specs)
    shape = (len(specs), n_p)
    group, start, yellow, red, end = (np.zeros(shape, np.int64) for _ in range(5))
    cycle = np.zeros(len(specs), np.int64)
    for i, g in enumerate(specs):
        t = 0
        for k, ph in enumerate(g.phases):
            group[i, k] = 0 if ph.serves == "axis" else 1
            start[i, k] = t
            yellow[i, k] = t + round(ph.green_s * 1000)
            red[i, k] = yellow[i, k] + round(ph.yellow_s * 1000)
            end[i, k] = t = red[i, k] + round(ph.all_red_s * 1000)
        start[i, len(g.phases):] = end[i, len(g.phases):] = t  # padding: never active
        cycle[i] = t
    table = SignalTable(
        ids=tuple(g.id for g in specs), sources=tuple(g.source for g in specs), xy_m=xy,
        axis_rad=axis, offset_ms=np.array([round(g.offset_s * 1000) for g in specs]),
        cycle_ms=cycle, phase_group=group, phase_start_ms=start, phase_yellow_ms=yellow,
        phase_red_ms=red, phase_end_ms=end,
    )
    stops.sort()
    stop_route = np.array([s[0] for s in stops], dtype=np.int64)
    s_m = np.array([s[1] for s in stops])
    signal = np.array([s[2] for s in stops], dtype=np.int64)
    heading = np.array([s[3] for s in stops])
    lines = StopLines(
        route=stop_route, s_m=s_m, signal=signal,
        group=group_for_heading(heading, axis[signal]) if len(stops) else np.empty(0, np.int64),
        key_m=stop_route * StopLines.ROUTE_KEY_M + s_m,
    )
    return table, lines


def _mobil(spec: ScenarioSpec) -> MobilParams | None:
    lc = spec.fleet.lane_changing
    if not lc.enabled:
        return None
    return MobilParams(politeness=lc.politeness, threshold_mps2=lc.threshold_mps2,
                       safe_decel_mps2=lc.safe_decel_mps2, bias_right_mps2=lc.bias_right_mps2,
                       min_interval_s=lc.min_interval_s)


def _check_incidents(spec: ScenarioSpec, geometry: RouteGeometry, source: str) -> None:
    ids = [r.id for r in spec.routes]
    for i, inc in enumerate(spec.incidents):
        if inc.route not in ids:
            raise ScenarioError(source, f"incidents[{i}].route",
                                f"no route {inc.route!r}; routes: {', '.join(ids)}")
        r = ids.index(inc.route)
        if inc.lane >= geometry.lanes[r]:
            raise ScenarioError(source, f"incidents[{i}].lane",
                                f"route {inc.route!r} has lanes 0..{geometry.lanes[r] - 1}")
        if inc.position_m > geometry.length_m[r]:
            raise ScenarioError(source, f"incidents[{i}].position_m",
                                f"route {inc.route!r} is {geometry.length_m[r]:.0f} m long")


def _radio(spec: ScenarioSpec, rng: RngTree, source: str) -> tuple[SidelinkConfig, int]:
    r = spec.radio
    size = spec.messages.bsm.size_bytes
    try:
        n_sc = resource_grid(r.bandwidth_mhz, r.subchannel_size_prb)
        n_prb = pssch_prbs_for_payload(size, r.mcs)
        l_sub = subchannels_for_payload(size, r.mcs, r.subchannel_size_prb)
    except ValueError as exc:
        raise ScenarioError(source, "radio", str(exc)) from None
    if l_sub > n_sc:
        raise ScenarioError(
            source, "messages.bsm.size_bytes",
            f"a {size} B BSM at MCS {r.mcs} needs {l_sub} subchannels of {r.subchannel_size_prb} PRB "
            f"but the {r.bandwidth_mhz} MHz channel has {n_sc}; lower the size or raise radio.mcs",
        )
    gamma = r.decoding.gamma_min_db
    if gamma is None:
        gamma = float(gamma_min_db(size, n_prb, float(r.bandwidth_mhz)))
    channel = ChannelModel(
        pathloss=r.pathloss, fc_ghz=r.carrier_ghz, shadowing_sigma_db=r.shadowing_sigma_db,
        coherence_ms=s_to_ms(r.shadowing_coherence_s), blocker_height_m=r.blocker_height_m,
        key=rng.key("channel"), shadowing_correlation=r.shadowing_correlation,
        decorrelation_m=r.shadowing_decorrelation_m,
    )
    cfg = SidelinkConfig(
        n_subchannels=n_sc, subchannel_size_prb=r.subchannel_size_prb,
        interference_range_m=r.interference_range_m, decoding_mode=r.decoding.mode,
        gamma_min_db=gamma, bler_curve=r.decoding.bler_curve,
        sensitivity_dbm=r.decoding.sensitivity_dbm, cbr_threshold_dbm=r.cbr_threshold_dbm,
        channel=channel, decode_key=rng.key("decoding"),
        min_sci_sinr_db=r.decoding.min_sci_sinr_db, kernel=r.kernel,
        link_range_m=r.link_range_m,
    )
    return cfg, l_sub


def priority_by_type(p: MessagePrioritySpec) -> NDArray[np.int64]:
    """SL priority per `MsgType` code (the medium's look-up for each packet)."""
    by_type = {MsgType.BSM: p.bsm, MsgType.SPAT: p.spat, MsgType.MAP: p.map, MsgType.RSI: p.rsi,
               MsgType.RSM: p.rsm}
    missing = set(MsgType) - set(by_type)
    if missing:  # a new message type must get a priority here
        raise ValueError(f"no SL priority for {sorted(m.name for m in missing)}")
    return np.array([by_type[t] for t in sorted(MsgType)], dtype=np.int64)


def make_scheduler(spec: ScenarioSpec, cfg: SidelinkConfig, rng: RngTree) -> RandomScheduler | SpsScheduler:
    s = spec.radio.scheduler
    gen = rng.generator("scheduling")
    if s.kind == "random":
        return RandomScheduler(s.t1_ms, s.t2_ms, cfg.n_subchannels, gen)
    return SpsScheduler(
        SpsParams(
            n_subchannels=cfg.n_subchannels, t1_ms=s.t1_ms, t2_ms=s.t2_ms, rri_ms=s.rri_ms,
            p_keep=s.p_keep, rsrp_threshold_dbm=s.rsrp_threshold_dbm,
            candidate_fraction=s.candidate_fraction, sensing_window_ms=s.sensing_window_ms,
            rssi_ranking=s.kind == "sps", rsrp_per_re=s.rsrp_measure == "per-re",
            subchannel_size_prb=cfg.subchannel_size_prb, overlap_allowed=s.overlap_allowed,
            latency_budget_ms=s.t2_ms,
            candidate_fraction_by_priority=None if s.candidate_fraction_by_priority is None
            else tuple(s.candidate_fraction_by_priority),
        ),
        gen,
        use_numba=cfg.kernel != "numpy",
    )


def _geojson_routes(loaded: LoadedScenario, hashes: dict[str, str],
                    ) -> tuple[LocalProjection, list[Route], dict[str, Any], Path]:
    """Routes chained from the named roads of the scenario's GeoJSON map."""
    spec = loaded.spec
    source = loaded.source
    assert spec.map is not None
    map_path = loaded.resolve(spec.map.geojson)
    data, map_hash = _load_geojson(map_path, "map.geojson", source)
    hashes[spec.map.geojson] = map_hash
    roads = _roads_by_name(data, map_path)
    check_speed_limit_roads(spec, set(roads), source)

    road_parts = [_route_roads(spec, i, roads, map_path, source) for i in range(len(spec.routes))]
    if spec.map.origin is not None:
        projection = LocalProjection(spec.map.origin.lon, spec.map.origin.lat)
    else:
        allpts = np.concatenate([np.concatenate(p) for p, _ in road_parts])
        lo, hi = allpts.min(axis=0), allpts.max(axis=0)
        projection = LocalProjection(float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2))

    routes = []
    for i, (parts, props) in enumerate(road_parts):
        rs = spec.routes[i]
        lines = [projection.to_local(p[:, 0], p[:, 1]) for p in parts]
        xy, junctions = _chain(lines, list(rs.roads), i, source, rs.last_road_m)
        if rs.reverse:
            length = float(arc_length_m(xy)[-1])
            xy, junctions = xy[::-1], [length - j for j in junctions[::-1]]
            props = props[::-1]
        first = props[0]
        lanes = rs.lanes or int(first.get("lanes_per_direction_assumed", 0) or 0)
        if lanes < 1:
            raise ScenarioError(source, f"routes[{i}].lanes", "must be >= 1 (the map gives no lane count)")
        road_limits = road_speed_limits_mps(
            spec, i, list(rs.roads)[::-1] if rs.reverse else list(rs.roads), props, source)
        limit = rs.speed_limit_mps or (road_limits[0] if road_limits else 0.0)
        if limit <= 0:
            raise ScenarioError(source, f"routes[{i}].speed_limit_kmh", "must be > 0 (the map gives none)")
        routes.append(Route(
            id=rs.id, xy_m=xy, lanes=lanes, lane_width_m=rs.lane_width_m, speed_limit_mps=limit,
            road_names=tuple(rs.roads), sources=tuple(str(p.get("source", "")) for p in props),
            junctions_s_m=tuple(junctions), road_limits_mps=road_limits,
        ))
    return projection, routes, data, map_path


def _junction_yields(net: Any, geometry: RouteGeometry, shared: SharedRoads,
                     c: Crossings) -> JunctionYields:
    """Where junction lanes of a SUMO net cross (`c`) and SUMO's request table says who gives
    way."""
    names = shared.names
    minor = np.array([(names[int(a)], names[int(b)]) in net.yields
                      for a, b in zip(c.route, c.other)], dtype=bool)
    return JunctionYields(geometry, shared, c.route[minor], c.s_m[minor], c.half_m[minor],
                          c.other[minor], c.other_s_m[minor], c.other_half_m[minor])


def geojson_routes(loaded: LoadedScenario) -> tuple[LocalProjection, list[Route]]:
    """The routes of a GeoJSON scenario and its projection, as the world is built with them."""
    projection, routes, _, _ = _geojson_routes(loaded, {})
    return projection, routes


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_world(loaded: LoadedScenario) -> World:
    source = loaded.source
    hashes: dict[str, str] = {}
    data: dict[str, Any] | None = None
    map_path: Path | None = None
    if loaded.spec.network is not None:
        from sim.sumo.scenario import import_sumo

        sumo = import_sumo(loaded.spec, loaded.resolve, source, hashes,
                           RngTree(loaded.spec.seed).generator("sumo-demand"), _file_sha256)
        projection: Any = sumo.projection
        routes = sumo.routes
        spec = sumo.spec  # routes, vehicles and signals completed from the SUMO files
        if (not sumo.net.georeferenced and spec.network is not None and spec.network.origin is None
                and (spec.rsus.positions or spec.rsus.geojson)):
            raise ScenarioError(
                source, "rsus.positions" if spec.rsus.positions else "rsus.geojson",
                f"the net {Path(spec.network.sumo_net).name} has no geo-reference, so RSUs in "
                "lon/lat cannot be placed on it: give them in the net's x/y (rsus.positions_xy_m) "
                "or say where the net lies (network.origin: {lat: ..., lon: ...})")
        if spec.map is not None:
            map_path = loaded.resolve(spec.map.geojson)
            data, hashes[spec.map.geojson] = _load_geojson(map_path, "map.geojson", source)
    else:
        spec = loaded.spec
        projection, routes, data, map_path = _geojson_routes(loaded, hashes)
    geometry = RouteGeometry(routes)
    rng = RngTree(spec.seed)
    rsus = _rsus(loaded, projection, routes, hashes, spec.signals)
    cfg, l_sub = _radio(spec, rng, source)
    buildings = (None if data is None or map_path is None else
                 buildings_from_map(spec, data, map_path, projection, rng, source))
    cfg = replace(cfg, buildings=buildings)
    step_ms = s_to_ms(spec.step_s)
    bsm_period_ms = max(1, s_to_ms(1.0 / spec.messages.bsm.rate_hz))
    signals, stop_lines = _signals(spec, source, projection, geometry)
    if loaded.spec.network is not None and signals is not None:  # SUMO's per-link programs
        from sim.sumo.signals import exact_signals

        signals, stop_lines = exact_signals(sumo.net, routes, signals, source)
    rsus = replace(rsus, signal_idx=serving_signal(
        rsus.xy_m.reshape(-1, 2), signals.xy_m if signals is not None else np.zeros((0, 2))))
    _check_incidents(spec, geometry, source)
    plan = build_fleet_plan(spec, geometry, projection, signals, stop_lines, rng, source)
    if loaded.spec.network is not None:  # the SUMO demand enters as SUMO inserts: when there is room
        from sim.sumo.scenario import add_demand_lines

        n_user = len(loaded.spec.vehicles)
        plan.scripted[n_user:] = [replace(v, wait_for_room=True) for v in plan.scripted[n_user:]]
        add_demand_lines(plan, sumo, n_user)
    mobility_args = (geometry, list(spec.routes), spec.fleet, bsm_period_ms, step_ms,
                     rng.generator("traffic"), signals, stop_lines, list(spec.incidents),
                     spec.metrics.near_miss_ttc_s, spec.metrics.hard_braking_mps2,
                     _mobil(spec), s_to_ms(spec.metrics.warmup_s),
                     spec.applications.ebw.decel_mps2, plan)
    mobility: Mobility
    if spec.mobility.engine == "sumo":  # SUMO moves the vehicles (libsumo, lock-step)
        from sim.sumo.cosim import SumoMobility

        assert spec.network is not None and spec.traffic.sumo_routes is not None
        mobility = SumoMobility(
            *mobility_args, net_path=loaded.resolve(spec.network.sumo_net),
            routes_path=loaded.resolve(spec.traffic.sumo_routes),
            sumo_seed=int(rng.generator("sumo-engine").integers(1, 2**31 - 1)),
            trip_ids=[tr.id for tr in sumo.trips], source=source,
            signals_off=tuple(spec.network.signals_off),
            misses_priority=(spec.fleet.human.misses_priority_share,
                             spec.fleet.automated.misses_priority_share,
                             rng.key("misses-priority")))
    else:
        mobility = Mobility(*mobility_args)
    streets = None
    if loaded.spec.network is not None:
        from sim.sumo.streets import street_map

        streets = street_map(sumo.net, signals, source)
    # On a SUMO net: where pieces of road cross, found once for the apps and junction priority.
    shared = mobility.shared if loaded.spec.network is not None else None
    piece_crossings = find_piece_crossings(geometry, shared) if shared is not None else None
    if shared is not None and piece_crossings is not None and spec.mobility.engine != "sumo":
        mobility.junction_yields = _junction_yields(sumo.net, geometry, shared, piece_crossings)
        mobility.junction_yields.misses = (spec.fleet.human.misses_priority_share,
                                           spec.fleet.automated.misses_priority_share,
                                           rng.key("misses-priority"))
    r = spec.radio
    medium = SidelinkMedium(
        cfg,
        make_scheduler(spec, cfg, rng),
        VehicleRadio(r.tx_power_dbm, r.antenna_gain_dbi, r.antenna_height_m, r.noise_figure_db),
        bsm_period_ms, l_sub,
        lambda b: subchannels_for_payload(b, r.mcs, r.subchannel_size_prb),
        dcc=ReactiveDcc(r.batch_ms) if r.congestion.kind == "etsi-reactive" else None,
        priority_by_type=priority_by_type(r.scheduler.priorities),
    )
    medium.attach(ObuFleet(lambda: mobility.table, spec.messages.bsm.hard_braking_event_mps2),
                  rsus)
    apps = build_apps(spec.applications, step_ms, geometry, piece_crossings)
    roadside = build_roadside(spec, rsus, projection, medium, rng, source,
                              s_to_ms(spec.metrics.warmup_s))
    participants: list[Participant] = [roadside] if roadside is not None else []
    participants.append(apps)
    return World(
        spec=spec, geometry=geometry, mobility=mobility, rsus=rsus, medium=medium, rng=rng,
        signals=signals, stop_lines=stop_lines, step_ms=step_ms,
        duration_ms=s_to_ms(spec.duration_s), radio_batch_ms=spec.radio.batch_ms,
        participants=participants, data_hashes=hashes, streets=streets,
        view_bounds_m=view_bounds(spec, source, projection, geometry, signals, rsus.xy_m,
                                  sumo.net if loaded.spec.network is not None else None),
    )
