"""Fuzzing the readers of user input files (#20): scenario YAML (every shipped scenario mutated,
`base:` chains, data paths), GeoJSON maps, encodings and SUMO `.net.xml` / `.rou.xml`.

The property, for every input: `v2xsim validate` (load + build the world) succeeds, or exits 2
with one printable `v2xsim: error: ...` line; never a traceback, a hang or a memory blow-up
(tests.helpers.fuzz). Short and reproducible by default; `pytest --fuzz-long` runs 100x the
examples with fresh randomness. Every input found failing is kept in tests/data/fuzz_regressions
and replayed by `test_regression_case`, which also says it must be refused.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.scenario.loader import builtin_names
from tests.helpers.fuzz import assert_clean, budget, run_cli
from tests.helpers.scenarios import ROOT, straight_road_geojson, tiny_scenario

REGRESSIONS = Path(__file__).parent / "data" / "fuzz_regressions"
SUMO_SCENARIOS = ("auto-city-grid", "auto-city-grid-peak", "auto-city-grid-services")
#: Built-ins on GeoJSON maps: their validate is milliseconds, so they take the bulk of the fuzzing.
GEOJSON_SCENARIOS = tuple(n for n in builtin_names() if n not in SUMO_SCENARIOS)


def validate(path: Path | str, *extra: str, timeout_s: int = 30) -> tuple[int, str]:
    argv = ["validate", str(path), *extra]
    code, err = run_cli(argv, timeout_s)
    assert_clean(code, err, argv)
    return code, err


# --- hostile values ---------------------------------------------------------------------------

HOSTILE_STRINGS = ["", " ", "x" * 300, "\x1b[31mred\x1b[0m", "a\u202eb", "\x00", "a\nb", "\ufeff",
                   "../" * 20 + "etc/passwd", "/dev/zero", "~", "%s%n", "创业大街", "None", "car",
                   "sps-nr", "rsu-outage", "on-ramp", "internal", "sumo", "hazard"]
HOSTILE_NUMBERS = [math.nan, math.inf, -math.inf, -1, 0, 1, 0.5, -0.0, 10**30, -(10**30), 1e308,
                   5e-324, 2**63, 3600.0, 1e9]
hostile_scalar = st.one_of(
    st.sampled_from(HOSTILE_STRINGS), st.sampled_from(HOSTILE_NUMBERS), st.none(), st.booleans(),
    st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
)
hostile_value = st.one_of(
    hostile_scalar, st.lists(hostile_scalar, max_size=3),
    st.dictionaries(st.sampled_from(["id", "kind", "at_s", "until_s", "x"]), hostile_scalar,
                    max_size=3),
    st.just([[[[]]]]), st.just({}), st.just([]),
)


@pytest.fixture(scope="module")
def scenario_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped scenarios (with their data), so mutated files sit where their
    relative `base:` and data paths resolve; plus a FIFO, a symlink loop and a link to a dir."""
    root = tmp_path_factory.mktemp("scenarios") / "scenarios"
    shutil.copytree(ROOT / "scenarios", root, ignore=shutil.ignore_patterns("__pycache__"))
    os.mkfifo(root / "fifo.yaml")
    (root / "loop_a.yaml").symlink_to(root / "loop_b.yaml")
    (root / "loop_b.yaml").symlink_to(root / "loop_a.yaml")
    (root / "dir_link.yaml").symlink_to(root / "data")
    return root


def hostile_paths(root: Path) -> list[str]:
    """Paths a scenario may name that are not a readable file of the right kind."""
    return ["/dev/zero", "/dev/urandom", "/dev/null", str(root / "fifo.yaml"), ".", "..", "data",
            "data/", "loop_a.yaml", "dir_link.yaml", "nope.yaml", "a\x00b.yaml", "a" * 300,
            "/" + "a/" * 3000, "../" * 50, str(root / "auto-city-loop.yaml"),
            "../scenarios/auto-city-loop.yaml", "data/auto_city_grid.net.xml",
            "data/changchun_roads.geojson", "auto-city-loop", "/etc/passwd", "/proc/self/mem",
            "/proc/self/fd/0", ""]


def _children(node: Any) -> list[tuple[Any, Any]]:
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list):
        return list(enumerate(node))
    return []


@st.composite
def mutated_scenario(draw: st.DrawFn, names: tuple[str, ...], root: Path
                     ) -> tuple[str, dict[str, Any]]:
    """A shipped scenario's YAML with 1-3 mutations at random key paths: a hostile value, a
    deleted key, an unknown key, a hostile `base:` or data path."""
    name = draw(st.sampled_from(names))
    data = yaml.safe_load((root / f"{name}.yaml").read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        parent: Any = data
        key: Any = None
        for _depth in range(draw(st.integers(0, 5))):  # walk down a random existing path
            kids = _children(parent if key is None else parent[key])
            if not kids:
                break
            nxt = draw(st.sampled_from([k for k, _ in kids]))
            if key is not None:
                parent = parent[key]
            key = nxt
        op = draw(st.sampled_from(["value", "value", "delete", "unknown", "base", "path"]))
        if key is None or op == "unknown":
            target = parent if key is None else parent[key]
            if isinstance(target, dict):
                target[draw(st.sampled_from(["bogus", "Name", "seed ", "\x1b[2J"]))] = 1
            continue
        if op == "value":
            parent[key] = draw(hostile_value)
        elif op == "delete":
            del parent[key]
        elif op == "base":
            data["base"] = draw(st.sampled_from(hostile_paths(root) + [f"{name}.yaml"]))
        else:
            section = draw(st.sampled_from([("map", "geojson"), ("rsus", "geojson"),
                                            ("network", "sumo_net"),
                                            ("traffic", "sumo_routes")]))
            if isinstance(data.get(section[0]), dict):
                data[section[0]][section[1]] = draw(st.sampled_from(hostile_paths(root)))
    return name, data


def _write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- scenario files ------------------------------------------------------------------------------

@given(data=st.data())
@budget(60)
def test_mutated_shipped_scenarios(scenario_tree: Path, data: st.DataObject) -> None:
    name, mutated = data.draw(mutated_scenario(GEOJSON_SCENARIOS, scenario_tree))
    # next to the original, where its relative base and data paths resolve
    validate(_write_yaml((scenario_tree / name).parent / "fuzz.yaml", mutated))


@given(data=st.data())
@budget(3)
def test_mutated_sumo_scenarios(scenario_tree: Path, data: st.DataObject) -> None:
    """The SUMO built-ins take seconds each (duarouter): few examples in the short budget."""
    pytest.importorskip("sumo")
    _, mutated = data.draw(mutated_scenario(SUMO_SCENARIOS, scenario_tree))
    validate(_write_yaml(scenario_tree / "fuzz_sumo.yaml", mutated), timeout_s=120)


@given(data=st.data())
@budget(40)
def test_set_overrides(data: st.DataObject) -> None:
    """--set KEY=VALUE with hostile keys and YAML values (they skip the file reader)."""
    key = data.draw(st.sampled_from([
        "name", "seed", "duration_s", "step_s", "routes.0.lanes", "radio.decoding.gamma_min_db",
        "metrics.prr_report_distances_m", "faults", "base", "routes.0", "routes.99.id", "x.y.z",
        "expect.prr.at_300m", "rsus.positions", "map.geojson", "..", "a..b", "routes",
    ]))
    value = data.draw(st.one_of(
        st.sampled_from([".nan", ".inf", "-.inf", "[", "{a: [1, 2}", "&a [*a]", "? [a]\n: 1",
                         "[" * 200 + "]" * 200, "!!python/object:os.system ls", "\x1b[31m",
                         "[{kind: gnss-error, share: 0.5, sigma_m: 3, at_s: 10, until_s: 5}]",
                         "[{kind: rsu-outage, rsus: [0], at_s: 5, until_s: 1}]"]),
        st.text(max_size=20)))
    validate("auto-city-loop", "--set", f"{key}={value}")


BOMS = {"utf-8": b"", "utf-8-sig": b"", "utf-16": b"", "utf-16-le": b"", "utf-16-be": b"",
        "utf-32": b"", "utf-32-le": codecs.BOM_UTF32_LE, "latin-1": b"", "cp1252": b"",
        "gb18030": b"", "shift_jis": b""}


@given(encoding=st.sampled_from(sorted(BOMS)), cut=st.integers(0, 10_000),
       flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
       name=st.sampled_from(GEOJSON_SCENARIOS))
@budget(40)
def test_encodings_truncation_and_bit_flips(scenario_tree: Path, encoding: str, cut: int,
                                           flips: list[tuple[int, int]], name: str) -> None:
    """A shipped scenario saved in another encoding, cut short, bytes flipped: read or refused
    with the encoding's name or the byte offset, never a UnicodeDecodeError."""
    text = (scenario_tree / f"{name}.yaml").read_text(encoding="utf-8")
    raw = bytearray(BOMS[encoding] + text.encode(encoding, errors="replace"))
    if cut < len(raw) and cut % 3 == 0:
        del raw[cut:]
    for at, byte in flips:
        if at < len(raw):
            raw[at] = byte
    path = scenario_tree / "fuzz_enc.yaml"
    path.write_bytes(bytes(raw))
    validate(path)


def test_utf16_and_utf32_with_bom_are_read(scenario_tree: Path) -> None:
    text = (scenario_tree / "auto-city-loop.yaml").read_text(encoding="utf-8")
    for encoding in ("utf-8-sig", "utf-16", "utf-32"):
        path = scenario_tree / f"enc-{encoding}.yaml"
        path.write_bytes(text.encode(encoding))
        assert validate(path)[0] == 0, encoding


@pytest.mark.parametrize("raw, says", [
    ("name: caf\xe9\n".encode("latin-1"), "byte 0xe9 at byte offset 9"),
    ("name: x\n".encode("utf-16-le"), "NUL byte at byte offset 1"),
    (codecs.BOM_UTF16_LE + b"\x00\xd8", "not valid UTF-16"),  # a lone surrogate
])
def test_undecodable_files_name_the_encoding_or_offset(tmp_path: Path, raw: bytes,
                                                       says: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(raw)
    code, err = validate(path)
    assert code == 2 and says in err, err


# --- paths that are not regular files -----------------------------------------------------------

@pytest.mark.parametrize("kind", ["argument", "base", "map"])
def test_hostile_paths(scenario_tree: Path, kind: str) -> None:
    """Every hostile path, as the scenario argument, as `base:` and as the map: one line each,
    within the time limit (a FIFO or /dev/zero once blocked or read forever)."""
    for p in hostile_paths(scenario_tree):
        if kind == "argument":
            code, err = validate(p if p.startswith("/") or not p else scenario_tree / p)
        else:
            data = yaml.safe_load((scenario_tree / "auto-city-loop.yaml").read_text("utf-8"))
            if kind == "base":
                data["base"] = p
            else:
                data["map"]["geojson"] = p
            code, err = validate(_write_yaml(scenario_tree / "fuzz_path.yaml", data))
        if p not in ("auto-city-loop", "../scenarios/auto-city-loop.yaml",
                     str(scenario_tree / "auto-city-loop.yaml"), "data/changchun_roads.geojson"):
            assert code == 2, (kind, p, err)


def test_base_loops_and_chains(scenario_tree: Path) -> None:
    _write_yaml(scenario_tree / "ping.yaml", {"base": "pong.yaml"})
    _write_yaml(scenario_tree / "pong.yaml", {"base": "ping.yaml"})
    code, err = validate(scenario_tree / "ping.yaml")
    assert code == 2 and "circular" in err, err
    for i in range(40):
        _write_yaml(scenario_tree / f"chain{i}.yaml",
                    {"base": f"chain{i + 1}.yaml" if i < 39 else "auto-city-loop.yaml"})
    code, err = validate(scenario_tree / "chain0.yaml")
    assert code == 2 and "'base' files chained" in err, err


def test_unreadable_file(tmp_path: Path) -> None:
    path = tiny_scenario(tmp_path)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not apply")
        code, err = validate(path)
        assert code == 2 and "permission denied" in err, err
    finally:
        path.chmod(0o644)


def test_big_yaml_list_is_refused_fast(tmp_path: Path) -> None:
    """A 50 MB YAML list took over a minute: refused by size, and the largest file allowed is
    read within seconds."""
    big = tmp_path / "big.yaml"
    big.write_text("routes:\n" + "- 1\n" * (50 * 1024 * 1024 // 4))
    code, err = validate(big, timeout_s=5)
    assert code == 2 and "larger than the 1 MiB" in err, err
    near = tmp_path / "near.yaml"
    near.write_text("name: near\nroutes:\n" + "- 1\n" * (1024 * 1024 // 4 - 8))
    code, err = validate(near, timeout_s=10)
    assert code == 2 and "routes" in err, err


# --- GeoJSON maps -------------------------------------------------------------------------------

def _road_map(tmp_path: Path) -> dict[str, Any]:
    return json.loads(straight_road_geojson(tmp_path / "road.geojson").read_text("utf-8"))


def _validate_map(tmp_path: Path, map_text: str | bytes, *extra: str) -> tuple[int, str]:
    tiny = tiny_scenario(tmp_path)  # rewrites road.geojson: write the map after it
    path = tmp_path / "road.geojson"
    path.write_bytes(map_text.encode("utf-8") if isinstance(map_text, str) else map_text)
    return validate(tiny, *extra)


PROPERTY_KEYS = ["name", "lanes_per_direction_assumed", "speed_limit_kmh_assumed", "source",
                 "building"]
coords = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-400, 400),
    st.sampled_from([125.5, 43.9, 125.52, 180.0, -90.0, 1e308, "1", None, True, [1, 2]]))


@given(data=st.data())
@budget(60)
def test_mutated_geojson_maps(tmp_path: Path, data: st.DataObject) -> None:
    doc = _road_map(tmp_path)
    feature = doc["features"][0]
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["prop", "prop", "coords", "vertex", "geometry",
                                        "feature", "top"]))
        props, geom = feature.get("properties"), feature.get("geometry")
        if op == "prop" and isinstance(props, dict):
            props[data.draw(st.sampled_from(PROPERTY_KEYS))] = data.draw(hostile_value)
        elif op == "coords" and isinstance(geom, dict):
            geom["coordinates"] = data.draw(st.one_of(
                st.lists(st.lists(coords, max_size=4), max_size=4), hostile_value))
        elif op == "vertex" and isinstance(geom, dict) and isinstance(geom.get("coordinates"),
                                                                      list):
            line = geom["coordinates"]
            if line:
                line[data.draw(st.integers(0, len(line) - 1))] = data.draw(
                    st.lists(coords, min_size=0, max_size=3))
        elif op == "geometry":
            old = geom.get("coordinates") if isinstance(geom, dict) else None
            feature["geometry"] = data.draw(st.one_of(hostile_value, st.fixed_dictionaries({
                "type": st.sampled_from(["Point", "Polygon", "MultiLineString", "LineString",
                                         "MultiPolygon", "GeometryCollection"]),
                "coordinates": st.just(old)})))
        elif op == "feature":
            doc["features"].append(data.draw(hostile_value))
        else:
            doc[data.draw(st.sampled_from(["type", "features", "crs"]))] = data.draw(hostile_value)
    _validate_map(tmp_path, json.dumps(doc, allow_nan=True))  # NaN/Infinity literals too


@given(text=st.text(alphabet="[]{}\",:0123456789.-eE truefalsn\\", max_size=200),
       deep=st.integers(0, 5000))
@budget(30)
def test_geojson_syntax_and_depth(tmp_path: Path, text: str, deep: int) -> None:
    _validate_map(tmp_path, "[" * deep + text + "]" * deep)


@pytest.mark.parametrize("coordinates, says", [
    ([], "malformed LineString"),
    ([[125.5, 43.9]], "malformed LineString"),
    ([[125.5, 43.9]] * 1_000_000, "1,000,000 vertices"),
    ([[125.5, 43.9], [125.52, 43.9]] * 1001, "2,002 vertices"),
])
def test_degenerate_and_huge_lines(tmp_path: Path, coordinates: list[Any], says: str) -> None:
    doc = _road_map(tmp_path)
    doc["features"][0]["geometry"]["coordinates"] = coordinates
    code, err = _validate_map(tmp_path, json.dumps(doc))
    assert code == 2 and says in err, err


@pytest.mark.parametrize("key, value, says", [
    ("lanes_per_direction_assumed", "four", "lanes_per_direction_assumed"),
    ("lanes_per_direction_assumed", 2.5, "whole number"),
    ("speed_limit_kmh_assumed", "fast", "speed_limit_kmh_assumed"),
    ("speed_limit_kmh_assumed", "NaN", "speed_limit_kmh_assumed"),
    ("name", ["test road"], "properties.name"),
])
def test_property_types(tmp_path: Path, key: str, value: Any, says: str) -> None:
    doc = _road_map(tmp_path)
    doc["features"][0]["properties"][key] = value
    code, err = _validate_map(tmp_path, json.dumps(doc))
    assert code == 2 and says in err and "features[0].properties" in err, err


def test_nan_literals_in_a_map_are_refused(tmp_path: Path) -> None:
    doc = _road_map(tmp_path)
    doc["features"][0]["properties"]["speed_limit_kmh_assumed"] = math.nan
    code, err = _validate_map(tmp_path, json.dumps(doc))
    assert code == 2 and "NaN is not a number in JSON" in err, err
    doc["features"][0]["properties"]["speed_limit_kmh_assumed"] = 80
    doc["features"][0]["geometry"]["coordinates"][0][0] = math.inf
    code, err = _validate_map(tmp_path, json.dumps(doc))
    assert code == 2 and "Infinity" in err, err


# --- SUMO inputs --------------------------------------------------------------------------------

GRID_TRIPS = """<routes>
  <vType id="car" vClass="passenger"/>
  <trip id="t0" type="car" depart="0" from="A0A1" to="A2B2"/>
  <flow id="f" type="car" begin="0" end="20" period="5" from="A0A1" to="A1B1"/>
</routes>
"""


@pytest.fixture(scope="module")
def sumo_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A netgenerate 3x3 grid with a trip and a flow: the SUMO inputs the fuzzer mutates."""
    pytest.importorskip("sumo", reason="the v2xsim[sumo] extra is not installed")
    from sim.sumo.tools import run_tool

    d = tmp_path_factory.mktemp("sumo")
    proc = run_tool("netgenerate", ["--grid", "--grid.number", "3", "--grid.length", "200",
                                    "--tls.guess", "true", "-o", str(d / "grid.net.xml")])
    assert proc.returncode == 0, proc.stderr
    (d / "trips.rou.xml").write_text(GRID_TRIPS)
    _write_yaml(d / "s.yaml", {"name": "grid", "duration_s": 30.0, "seed": 3,
                               "network": {"sumo_net": "net.xml"},
                               "traffic": {"sumo_routes": "rou.xml"}})
    assert validate_sumo(d, (d / "grid.net.xml").read_bytes(), GRID_TRIPS.encode())[0] == 0
    return d


def validate_sumo(d: Path, net: bytes, rou: bytes) -> tuple[int, str]:
    (d / "net.xml").write_bytes(net)
    (d / "rou.xml").write_bytes(rou)
    return validate(d / "s.yaml", timeout_s=60)


ATTR = re.compile(rb'(\w+)="([^"]*)"')
XML_VALUES = [b"nan", b"inf", b"-inf", b"-1", b"0", b"", b"1e400", b"abc", b"1,2", b"0,0,0",
              b"9" * 400, b"\x00", b"&lol;", b"1e-9", b"1e12", b"\xff\xfe"]


def _mutate_xml(data: st.DataObject, raw: bytes) -> bytes:
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["attr", "attr", "attr", "cut", "drop_line", "flip"]))
        if op == "attr":
            spans = [m.span(2) for m in ATTR.finditer(bytes(out))]
            if spans:
                a, b = data.draw(st.sampled_from(spans))
                out[a:b] = data.draw(st.sampled_from(XML_VALUES))
        elif op == "cut":
            del out[data.draw(st.integers(0, len(out))):]
        elif op == "drop_line":
            lines = bytes(out).split(b"\n")
            if len(lines) > 1:
                del lines[data.draw(st.integers(0, len(lines) - 1))]
            out = bytearray(b"\n".join(lines))
        elif out:
            out[data.draw(st.integers(0, len(out) - 1))] = data.draw(st.integers(0, 255))
    return bytes(out)


@given(data=st.data())
@budget(8)
def test_mutated_sumo_nets(sumo_grid: Path, data: st.DataObject) -> None:
    net = (sumo_grid / "grid.net.xml").read_bytes()
    validate_sumo(sumo_grid, _mutate_xml(data, net), GRID_TRIPS.encode())


FLOW_ATTRS = [b'period="1e-9"', b'number="1000000000000"', b'begin="nan"', b'end="inf"',
              b'end="1e15" probability="0.5"', b'vehsPerHour="1e12"', b'departSpeed="inf"',
              b'departPos="nan"', b'period="-5"', b'begin="1e308"']


@given(data=st.data())
@budget(8)
def test_mutated_sumo_demands(sumo_grid: Path, data: st.DataObject) -> None:
    rou = GRID_TRIPS.encode()
    if data.draw(st.booleans()):
        extra = b" ".join(data.draw(st.lists(st.sampled_from(FLOW_ATTRS), min_size=1,
                                             max_size=2, unique=True)))
        rou = rou.replace(b'<flow id="f" type="car" begin="0" end="20" period="5"',
                          b'<flow id="f" type="car" ' + extra)
    else:
        rou = _mutate_xml(data, rou)
    validate_sumo(sumo_grid, (sumo_grid / "grid.net.xml").read_bytes(), rou)


# --- regression cases ---------------------------------------------------------------------------

def _cases() -> list[Path]:
    return sorted(p for d in ("scenario", "geojson", "sumo_net", "sumo_routes")
                  for p in (REGRESSIONS / d).glob("*") if p.is_file())


@pytest.mark.parametrize("case", _cases(), ids=lambda p: str(p.relative_to(REGRESSIONS)))
def test_regression_case(case: Path, scenario_tree: Path, tmp_path: Path,
                         request: pytest.FixtureRequest) -> None:
    """Every input once found crashing, hanging or accepted is refused with one line. The
    folder says which reader: scenario/ (a file next to the shipped scenarios), geojson/ (the
    map of the tiny scenario), sumo_net/ and sumo_routes/ (with the grid's other file)."""
    kind = case.parent.name
    if kind == "scenario":
        target = scenario_tree / f"regression-{case.name}"
        shutil.copyfile(case, target)
        code, err = validate(target)
    elif kind == "geojson":
        code, err = _validate_map(tmp_path, case.read_bytes())
    else:
        grid: Path = request.getfixturevalue("sumo_grid")
        net = (grid / "grid.net.xml").read_bytes()
        if kind == "sumo_net":
            code, err = validate_sumo(grid, case.read_bytes(), GRID_TRIPS.encode())
        else:
            code, err = validate_sumo(grid, net, case.read_bytes())
    assert code == 2, f"{case.name} was accepted"
