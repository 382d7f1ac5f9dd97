"""Service fleets, bus lines, emergency vehicles, ramps and per-road speed limits (mobility only:
worlds are built from tiny scenarios and stepped without the radio)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.core.errors import ScenarioError
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from tests.helpers.fleets import LAT, LON, M_PER_DEG_LON, run_mobility, world_of
from tests.helpers.scenarios import tiny_scenario
from vehicles.classes import CLASS_BY_CODE, EMERGENCY, VEHICLE_CLASSES


def error_of(tmp_path: Path, **overrides) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as exc:
        world_of(tmp_path, **overrides)
    assert "\n" not in str(exc.value)
    return str(exc.value)


EMPTY_ROUTES = [{"id": "east", "roads": ["test road"]},
                {"id": "west", "roads": ["test road"], "reverse": True}]


def test_class_names_and_codes_are_the_documented_contract() -> None:
    names = {c.code: c.name for c in CLASS_BY_CODE.values()}
    assert names == {0: "car", 1: "bus", 2: "truck", 3: "logistics", 4: "sanitation",
                     5: "emergency"}
    assert VEHICLE_CLASSES["emergency"].code == EMERGENCY
    assert VEHICLE_CLASSES["emergency"].ignores_signals
    assert not any(c.ignores_signals for n, c in VEHICLE_CLASSES.items() if n != "emergency")


def test_bus_dwells_at_its_stops_in_the_kerb_lane(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=EMPTY_ROUTES, bus_lines=[{
        "id": "b", "route": "west", "headway_s": 600, "dwell_s": 10, "dwell_sd_s": 0,
        "stops": [{"position_m": 150}, {"position_m": 600}]}])
    t = world.mobility.table
    seen: list[tuple[int, float, float, int]] = []
    run_mobility(world, 90, lambda now: seen.append((now, float(t["s_m"][0]), float(t["v_mps"][0]),
                                                    int(t["lane"][0]))))
    assert world.mobility.stats.bus_stops == 2 and t["stops_made"][0] == 2
    assert int(t["cls"][0]) == VEHICLE_CLASSES["bus"].code and t["line"][0] == 0
    stopped = [(now, s) for now, s, v, _ in seen if v == 0.0]
    at_first = [now for now, s in stopped if abs(s - 150) <= 1.5]
    at_second = [now for now, s in stopped if abs(s - 600) <= 1.5]
    # 10 s standing at each stop (100 steps of 0.1 s; the braking may add a step), kerb lane.
    assert 100 <= len(at_first) <= 102 and 100 <= len(at_second) <= 102
    assert {lane for *_, lane in seen} == {1}


def test_buses_leave_at_the_line_headway(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=EMPTY_ROUTES, bus_lines=[{
        "id": "b", "route": "east", "headway_s": 20, "first_departure_s": 5,
        "stops": [{"position_m": 1900}]}])
    spawns: list[int] = []
    t = world.mobility.table
    run_mobility(world, 50, lambda now: spawns.extend(t["spawn_ms"][t["spawn_ms"] == now].tolist()))
    assert spawns == [5000, 25000, 45000]


@pytest.mark.parametrize("stop, key, words", [
    ({"position_m": 2500}, "bus_lines[0].stops[1].position_m", "off line 'b'"),
    ({"position": {"lat": LAT + 0.002, "lon": LON + 0.005}}, "bus_lines[0].stops[1].position",
     "from route 'east', off line 'b'"),
])
def test_bus_stop_off_its_line_is_one_line_error(
    tmp_path: Path, stop: dict, key: str, words: str,  # type: ignore[type-arg]
) -> None:
    msg = error_of(tmp_path, bus_lines=[{"id": "b", "route": "east",
                                         "stops": [{"position_m": 100}, stop]}])
    assert key in msg and words in msg


def test_bus_stop_off_line_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_scenario(tmp_path, bus_lines=[{"id": "b", "route": "east",
                                               "stops": [{"position_m": 9000}]}])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "bus_lines[0].stops[0].position_m" in err and len(err.splitlines()) == 1


def test_bus_line_on_unknown_route(tmp_path: Path) -> None:
    msg = error_of(tmp_path, bus_lines=[{"id": "b", "route": "north",
                                         "stops": [{"position_m": 1}]}])
    assert "bus_lines[0].route" in msg and "east, west" in msg


def test_sanitation_works_slowly_automated_and_stops_at_the_kerb(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=[{"id": "east", "roads": ["test road"],
                                        "initial_density_veh_km_per_lane": 10}],
                     fleet={"classes": {"sanitation": 1.0},
                            "service": {"sanitation": {"desired_speed_kmh": 12, "stop_every_m": 60,
                                                       "dwell_s": 5}}})
    run_mobility(world, 60)
    t, st = world.mobility.table, world.mobility.stats
    assert len(t) > 0 and np.all(t["automation"] == 4)
    assert np.all(t["v0_mps"] <= 12 / 3.6 + 1e-9) and np.all(t["v_mps"] <= 12 / 3.6 + 0.05)
    assert st.service_stops > 5 and world.mobility.safety.collisions == 0
    dwelling = (t["dwell_until_ms"] >= 0)
    assert np.all(t["v_mps"][dwelling] == 0.0) and np.all(t["lane"][dwelling] == 1)


def test_emergency_vehicle_passes_red_others_stop(tmp_path: Path) -> None:
    # Signal 1 km along the road; the axis group is red from 60 s; both vehicles arrive later.
    signal = {"id": "x", "position": {"lat": LAT, "lon": LON + 1000 / M_PER_DEG_LON},
              "offset_s": 0, "phases": [{"serves": "axis", "green_s": 1},
                                        {"serves": "cross", "green_s": 120}]}
    world = world_of(tmp_path, routes=EMPTY_ROUTES, signals=[signal], vehicles=[
        {"vehicle_class": "emergency", "route": "east", "at_s": 10, "lane": 0, "speed_kmh": 60},
        {"vehicle_class": "car", "route": "east", "at_s": 10, "lane": 1, "speed_kmh": 60}])
    run_mobility(world, 70)
    t = world.mobility.table
    assert world.mobility.safety.emergency_red_passes == 1 and world.mobility.safety.red_light_violations == 0
    car = t["cls"] == VEHICLE_CLASSES["car"].code
    assert car.sum() == 1 and t["s_m"][car][0] < 1000 and t["v_mps"][car][0] < 0.1
    amb = t["cls"] == EMERGENCY
    assert not amb.any() or t["s_m"][amb][0] > 1000
    # On duty it drives above the limit (class limit factor 1.2).
    assert VEHICLE_CLASSES["emergency"].limit_factor == 1.2


def test_on_ramp_vehicles_merge_before_the_lane_ends(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=[{"id": "east", "roads": ["test road"],
                                        "flow_veh_h_per_lane": 600,
                                        "ramps": [{"kind": "on-ramp", "position_m": 500,
                                                   "length_m": 230, "flow_veh_h": 900}]}])
    t = world.mobility.table
    beyond: list[float] = []
    on_ramp: list[int] = []

    def watch(now: int) -> None:
        accel = t["lane"] == 2
        on_ramp.append(int(accel.sum()))
        beyond.extend(t["s_m"][accel][t["s_m"][accel] > 730.5].tolist())

    run_mobility(world, 120, watch)
    assert max(on_ramp) >= 1 and beyond == []  # nobody drives past the end of the lane
    assert world.mobility.safety.collisions == 0
    ramp_entries = world.mobility.stats.entered
    assert ramp_entries > 0 and t["lane"].max() <= 2


def test_off_ramp_share_leaves_from_the_right_lane(tmp_path: Path) -> None:
    world = world_of(tmp_path, routes=[{"id": "east", "roads": ["test road"],
                                        "flow_veh_h_per_lane": 900,
                                        "ramps": [{"kind": "off-ramp", "position_m": 1500,
                                                   "share": 0.5, "prepare_m": 1000}]}])
    run_mobility(world, 150)
    st = world.mobility.stats
    assert st.ramp_exits > 10 and st.missed_exits <= st.ramp_exits // 5
    share = st.ramp_exits / (st.ramp_exits + st.missed_exits + (st.exited - st.ramp_exits))
    assert 0.3 < share < 0.7


@pytest.mark.parametrize("ramp, key", [
    ({"kind": "on-ramp", "position_m": 1900, "length_m": 230}, "routes[0].ramps[0].position_m"),
    ({"kind": "off-ramp", "position_m": 2500}, "routes[0].ramps[0].position_m"),
])
def test_ramp_beyond_the_route_is_an_error(
    tmp_path: Path, ramp: dict, key: str,  # type: ignore[type-arg]
) -> None:
    msg = error_of(tmp_path, routes=[{"id": "east", "roads": ["test road"], "ramps": [ramp]}])
    assert key in msg and "beyond route 'east'" in msg


def two_road_map(tmp_path: Path) -> Path:
    dlon = 1000 / M_PER_DEG_LON

    def road(name: str, lon0: float, kmh: float) -> dict:  # type: ignore[type-arg]
        return {"type": "Feature", "properties": {"name": name, "lanes_per_direction_assumed": 1,
                                                  "speed_limit_kmh_assumed": kmh},
                "geometry": {"type": "LineString",
                             "coordinates": [[lon0, LAT], [lon0 + dlon, LAT]]}}

    data = {"type": "FeatureCollection",
            "features": [road("fast road", LON, 100), road("slow road", LON + dlon, 50)]}
    (tmp_path / "road.geojson").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path / "road.geojson"


def test_speed_limits_per_road(tmp_path: Path) -> None:
    spec = {"name": "two", "duration_s": 1, "map": {"geojson": "road.geojson"},
            "routes": [{"id": "r", "roads": ["fast road", "slow road"],
                        "flow_veh_h_per_lane": 600}],
            "fleet": {"human": {"reaction_time_s": 0.9, "time_headway_s": 1.5}}}
    two_road_map(tmp_path)
    path = tmp_path / "two.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    world = build_world(load_scenario(str(path)))
    limit = world.geometry.limit_at(np.array([0, 0]), np.array([500.0, 1500.0]))
    assert limit == pytest.approx([100 / 3.6, 50 / 3.6])
    t = world.mobility.table
    run_mobility(world, 120)
    late = t["s_m"] > 1300
    assert late.any() and np.all(t["v_mps"][late] <= 50 / 3.6 + 0.2)
    assert world.mobility.safety.collisions == 0
    # A per-road override replaces the map's value; a route-level limit overrides both.
    override = {**spec["map"], "speed_limits_kmh": {"slow road": 70}}
    path.write_text(json.dumps({**spec, "map": override}), encoding="utf-8")
    world = build_world(load_scenario(str(path)))
    assert world.geometry.limit_at(np.array([0]), np.array([1500.0]))[0] == pytest.approx(70 / 3.6)
    unknown = {**spec["map"], "speed_limits_kmh": {"no road": 70}}
    path.write_text(json.dumps({**spec, "map": unknown}), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"map\.speed_limits_kmh\.no road"):
        build_world(load_scenario(str(path)))


def test_scripted_vehicle_checks(tmp_path: Path) -> None:
    msg = error_of(tmp_path, vehicles=[{"route": "east", "lane": 5}])
    assert "vehicles[0].lane" in msg
    msg = error_of(tmp_path, vehicles=[{"route": "east", "position_m": 5000}])
    assert "vehicles[0].position_m" in msg
