"""Scenario loading: every kind of bad input is one ScenarioError naming file, key path, allowed."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml

from sim.core.errors import ScenarioError
from sim.scenario.build import build_world
from sim.scenario.loader import builtin_names, load_scenario
from sim.spec.schema import ScenarioSpec
from tests.helpers.scenarios import tiny_scenario


def write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:  # type: ignore[type-arg]
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def error_of(*args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as exc:
        loaded = load_scenario(*args, **kwargs)
        build_world(loaded)
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_builtin_scenario_loads_by_name() -> None:
    assert "airport-expressway" in builtin_names()
    spec = load_scenario("airport-expressway").spec
    assert spec.name == "airport-expressway" and spec.routes[0].lanes == 4


def test_missing_file(tmp_path: Path) -> None:
    msg = error_of(str(tmp_path / "nope.yaml"))
    assert "nope.yaml" in msg and "file not found" in msg


def test_unknown_builtin_lists_the_builtins() -> None:
    msg = error_of("airport-expresway")
    assert "airport-expresway" in msg and "airport-expressway" in msg


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nroutes: [\n  - id: a\n", encoding="utf-8")
    msg = error_of(str(p))
    assert "bad.yaml" in msg and "YAML syntax error" in msg and "line" in msg


def test_unknown_key_lists_allowed_keys(tiny: Path) -> None:
    msg = error_of(str(tiny), ["radio.tx_power_dbmm=20"])
    assert "radio.tx_power_dbmm" in msg and "unknown key" in msg and "tx_power_dbm" in msg


def test_unknown_key_inside_a_list_item(tmp_path: Path) -> None:
    p = tiny_scenario(tmp_path)
    data = yaml.safe_load(p.read_text())
    data["routes"][1]["flow_veh_h"] = 5
    msg = error_of(str(write(tmp_path, data)))
    assert "routes[1].flow_veh_h" in msg and "flow_veh_h_per_lane" in msg


def test_wrong_type(tiny: Path) -> None:
    msg = error_of(str(tiny), ["duration_s=soon"])
    assert "duration_s" in msg and "soon" in msg


def test_out_of_range_value(tiny: Path) -> None:
    msg = error_of(str(tiny), ["fleet.v2x_penetration=1.5"])
    assert "fleet.v2x_penetration" in msg and "less than or equal to 1" in msg


def test_literal_choice_lists_allowed(tiny: Path) -> None:
    msg = error_of(str(tiny), ["radio.pathloss=freespace"])
    assert "radio.pathloss" in msg and "tr37885-highway" in msg


def test_lanes_below_one(tiny: Path) -> None:
    msg = error_of(str(tiny), ["routes.0.lanes=0"])
    assert "routes[0].lanes" in msg and "greater than or equal to 1" in msg


def test_missing_required_key(tmp_path: Path) -> None:
    msg = error_of(str(write(tmp_path, {"name": "x", "routes": []})))
    assert "map" in msg and "missing" in msg


def test_broken_geojson(tmp_path: Path) -> None:
    p = tiny_scenario(tmp_path)
    (tmp_path / "road.geojson").write_text("{ not json", encoding="utf-8")
    msg = error_of(str(p))
    assert "road.geojson" in msg and "not valid JSON" in msg


def test_geojson_with_bad_coordinates(tmp_path: Path) -> None:
    p = tiny_scenario(tmp_path)
    g = tmp_path / "road.geojson"
    g.write_text(g.read_text().replace("43.9", "143.9"), encoding="utf-8")
    msg = error_of(str(p))
    assert "features[0].geometry.coordinates" in msg and "latitude" in msg


def test_road_not_in_map_lists_the_roads(tiny: Path) -> None:
    msg = error_of(str(tiny), ["routes.0.roads=[no such road]"])
    assert "routes[0].roads[0]" in msg and "test road" in msg


def test_roads_that_do_not_connect() -> None:
    overrides = ["routes.0.roads=[东风大街 Dongfeng Street, 皓月大路 Haoyue Avenue]"]
    msg = error_of("airport-expressway", overrides)
    assert "routes[0].roads[1]" in msg and "does not connect" in msg


def test_rsu_outside_the_map(tiny: Path) -> None:
    msg = error_of(str(tiny), ["rsus.positions=[{lat: 44.5, lon: 125.5}]"])
    assert "rsus.positions[0]" in msg and "outside the map" in msg


def test_bad_override_syntax(tiny: Path) -> None:
    msg = error_of(str(tiny), ["radio.tx_power_dbm"])
    assert "--set" in msg and "key=value" in msg


def test_message_that_does_not_fit_the_channel(tiny: Path) -> None:
    msg = error_of(str(tiny), ["messages.bsm.size_bytes=1400", "radio.mcs=3"])
    assert "messages.bsm.size_bytes" in msg or "radio" in msg


def test_overrides_seed_and_duration_apply(tiny: Path) -> None:
    spec = load_scenario(str(tiny), ["fleet.v2x_penetration=0.25"], seed=9, duration_s=1.5).spec
    assert spec.fleet.v2x_penetration == 0.25 and spec.seed == 9 and spec.duration_s == 1.5


def test_base_scenario_is_merged(tmp_path: Path) -> None:
    base = tiny_scenario(tmp_path)
    child = write(tmp_path, {"base": base.name, "name": "child", "radio": {"tx_power_dbm": 20}},
                  "child.yaml")
    spec = load_scenario(str(child)).spec
    assert spec.name == "child" and spec.radio.tx_power_dbm == 20 and spec.routes[0].id == "east"


def test_units_are_converted_once_to_si(tiny: Path) -> None:
    spec = load_scenario(str(tiny), ["routes.0.speed_limit_kmh=90"]).spec
    assert spec.routes[0].speed_limit_mps == pytest.approx(25.0)
    assert spec.routes[0].flow_veh_s_per_lane == pytest.approx(600 / 3600)
    world = build_world(load_scenario(str(tiny), ["routes.0.speed_limit_kmh=90"]))
    assert world.geometry.speed_limit_mps[0] == pytest.approx(25.0)
    # The 2 km test road is ~2 km long in local metres.
    assert world.geometry.length_m[0] == pytest.approx(2000.0, rel=0.01)


def test_specs_are_frozen(tiny: Path) -> None:
    spec = load_scenario(str(tiny)).spec
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        spec.seed = 5  # type: ignore[misc]


def test_json_schema_lists_every_top_level_key() -> None:
    schema = ScenarioSpec.model_json_schema()
    assert {"map", "routes", "radio", "fleet", "rsus"} <= set(schema["properties"])


def test_error_messages_read_like_the_scenario(tmp_path: Path) -> None:
    road = tiny_scenario(tmp_path)
    data = yaml.safe_load(road.read_text())
    data["fleet"] = {"automation": {"L5": 1.0}}
    msg = error_of(str(write(tmp_path, data)))
    assert "fleet.automation.L5" in msg and "'L0'" in msg and "[key]" not in msg
    data = yaml.safe_load(road.read_text())
    data["map"] = None
    msg = error_of(str(write(tmp_path, data)))
    assert "map: expected a mapping" in msg and "MapSpec" not in msg
    data = yaml.safe_load(road.read_text())
    data["base"] = "airport-expresway"
    msg = error_of(str(write(tmp_path, data)))
    assert "base" in msg and "built-ins: airport-expressway" in msg
