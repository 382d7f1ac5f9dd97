"""`build_world(loaded)`: the one function that turns a validated scenario into a runnable world.

Reads the road GeoJSON, chains each route's roads (checking that they really connect), projects
everything to local metres once, places RSUs (checking they are on the map), sizes the radio
resources from the message size and MCS, and seeds every subsystem from the RNG tree. Problems in
the data are reported as `ScenarioError` with the key path that caused them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from roadside.rsu import RsuTable
from sim.core.errors import ScenarioError
from sim.core.rng import RngTree
from sim.core.road import Route, RouteGeometry
from sim.core.units import s_to_ms
from sim.radio.channel import ChannelModel
from sim.radio.medium import SidelinkMedium, VehicleRadio
from sim.radio.phy import gamma_min_db, pssch_prbs_for_payload, resource_grid, subchannels_for_payload
from sim.radio.scheduler import RandomScheduler
from sim.radio.sidelink import SidelinkConfig
from sim.radio.sps import SpsParams, SpsScheduler
from sim.scenario.geo import LocalProjection
from sim.scenario.loader import LoadedScenario
from sim.scenario.schema import ScenarioSpec
from vehicles.mobility import Mobility

#: Consecutive roads of a route must meet within this distance (OSM simplification is ~10 m).
MAX_JOIN_GAP_M = 50.0


@dataclass
class World:
    spec: ScenarioSpec
    loaded: LoadedScenario
    projection: LocalProjection
    geometry: RouteGeometry
    mobility: Mobility
    rsus: RsuTable
    medium: SidelinkMedium
    rng: RngTree
    step_ms: int
    duration_ms: int
    radio_batch_ms: int
    data_hashes: dict[str, str] = field(default_factory=dict)


def _load_geojson(path: Path, key: str, source: str) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(source, key, f"cannot read {path.name} ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ScenarioError(str(path), "type", "expected a GeoJSON FeatureCollection")
    if not isinstance(data.get("features"), list):
        raise ScenarioError(str(path), "features", "expected a list of features")
    return data, hashlib.sha256(raw).hexdigest()


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


def _chain_route(
    spec: ScenarioSpec, r_index: int, roads: dict[str, tuple[int, dict[str, Any]]], path: Path,
    projection: LocalProjection | None, source: str,
) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """Lon/lat polylines of a route's roads, each oriented to continue from the previous one."""
    route = spec.routes[r_index]
    parts, props = [], []
    for j, name in enumerate(route.roads):
        if name not in roads:
            allowed = ", ".join(sorted(roads))
            raise ScenarioError(
                source, f"routes[{r_index}].roads[{j}]", f"road {name!r} is not in the map; roads: {allowed}"
            )
        i, feature = roads[name]
        parts.append(_coords(feature, i, path, "LineString"))
        props.append(feature.get("properties", {}))
    if len(parts) > 1:
        proj = projection or LocalProjection(float(parts[0][0, 0]), float(parts[0][0, 1]))
        xy = [proj.to_local(p[:, 0], p[:, 1]) for p in parts]
        # Orient the first road towards the second, then each next road away from the previous end.
        ends0 = [xy[0][0], xy[0][-1]]
        d_first = [min(np.hypot(*(e - xy[1][0])), np.hypot(*(e - xy[1][-1]))) for e in ends0]
        if d_first[0] < d_first[1]:
            parts[0], xy[0] = parts[0][::-1], xy[0][::-1]
        for j in range(1, len(parts)):
            end = xy[j - 1][-1]
            gap_start, gap_end = np.hypot(*(xy[j][0] - end)), np.hypot(*(xy[j][-1] - end))
            if gap_end < gap_start:
                parts[j], xy[j] = parts[j][::-1], xy[j][::-1]
            gap = min(gap_start, gap_end)
            if gap > MAX_JOIN_GAP_M:
                raise ScenarioError(
                    source,
                    f"routes[{r_index}].roads[{j}]",
                    f"road {route.roads[j]!r} does not connect to {route.roads[j - 1]!r} "
                    f"(gap {gap:.0f} m; at most {MAX_JOIN_GAP_M:.0f} m allowed)",
                )
    if route.reverse:
        parts = [p[::-1] for p in parts[::-1]]
        props = props[::-1]
    return parts, props


def _polyline(parts: list[np.ndarray]) -> np.ndarray:
    out = [parts[0]]
    for p in parts[1:]:
        out.append(p[1:] if np.allclose(p[0], out[-1][-1]) else p)
    return np.concatenate(out)


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    a, b = line[:-1], line[1:]
    ab = b - a
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1)).min(axis=1)


def _rsus(loaded: LoadedScenario, projection: LocalProjection, routes: list[Route],
          hashes: dict[str, str]) -> RsuTable:
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
    ll = np.array(lonlat).reshape(-1, 2)
    xy = projection.to_local(ll[:, 0], ll[:, 1]) if len(ll) else np.zeros((0, 2))
    if len(xy):
        dist = np.min([_distance_to_polyline(xy, r.xy_m) for r in routes], axis=0)
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
        key=rng.key("channel"),
    )
    cfg = SidelinkConfig(
        n_subchannels=n_sc, subchannel_size_prb=r.subchannel_size_prb,
        interference_range_m=r.interference_range_m, decoding_mode=r.decoding.mode,
        gamma_min_db=gamma, bler_curve=r.decoding.bler_curve,
        sensitivity_dbm=r.decoding.sensitivity_dbm, cbr_threshold_dbm=r.cbr_threshold_dbm,
        channel=channel, decode_key=rng.key("decoding"),
        min_sci_sinr_db=r.decoding.min_sci_sinr_db,
    )
    return cfg, l_sub


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
        ),
        gen,
    )


def build_world(loaded: LoadedScenario) -> World:
    spec = loaded.spec
    source = loaded.source
    map_path = loaded.resolve(spec.map.geojson)
    data, map_hash = _load_geojson(map_path, "map.geojson", source)
    hashes = {spec.map.geojson: map_hash}
    roads = _roads_by_name(data, map_path)

    lonlat_parts = [_chain_route(spec, i, roads, map_path, None, source) for i in range(len(spec.routes))]
    if spec.map.origin is not None:
        projection = LocalProjection(spec.map.origin.lon, spec.map.origin.lat)
    else:
        allpts = np.concatenate([np.concatenate(p) for p, _ in lonlat_parts])
        lo, hi = allpts.min(axis=0), allpts.max(axis=0)
        projection = LocalProjection(float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2))

    routes = []
    for i, (parts, props) in enumerate(lonlat_parts):
        rs = spec.routes[i]
        ll = _polyline(parts)
        first = props[0]
        lanes = rs.lanes or int(first.get("lanes_per_direction_assumed", 0) or 0)
        if lanes < 1:
            raise ScenarioError(source, f"routes[{i}].lanes", "must be >= 1 (the map gives no lane count)")
        limit = rs.speed_limit_mps or float(first.get("speed_limit_kmh_assumed", 0) or 0) / 3.6
        if limit <= 0:
            raise ScenarioError(source, f"routes[{i}].speed_limit_kmh", "must be > 0 (the map gives none)")
        routes.append(Route(
            id=rs.id, xy_m=projection.to_local(ll[:, 0], ll[:, 1]), lanes=lanes,
            lane_width_m=rs.lane_width_m, speed_limit_mps=limit,
            road_names=tuple(rs.roads), sources=tuple(str(p.get("source", "")) for p in props),
        ))
    geometry = RouteGeometry(routes)
    rng = RngTree(spec.seed)
    rsus = _rsus(loaded, projection, routes, hashes)
    cfg, l_sub = _radio(spec, rng, source)
    step_ms = s_to_ms(spec.step_s)
    bsm_period_ms = max(1, s_to_ms(1.0 / spec.messages.bsm.rate_hz))
    mobility = Mobility(geometry, list(spec.routes), spec.fleet, bsm_period_ms, step_ms,
                        rng.generator("traffic"))
    r = spec.radio
    medium = SidelinkMedium(
        cfg,
        make_scheduler(spec, cfg, rng),
        VehicleRadio(r.tx_power_dbm, r.antenna_gain_dbi, r.antenna_height_m, r.noise_figure_db),
        bsm_period_ms, l_sub,
    )
    return World(
        spec=spec, loaded=loaded, projection=projection, geometry=geometry, mobility=mobility,
        rsus=rsus, medium=medium, rng=rng, step_ms=step_ms, duration_ms=s_to_ms(spec.duration_s),
        radio_batch_ms=spec.radio.batch_ms,
        data_hashes=hashes,
    )
