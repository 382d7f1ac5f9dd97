"""Reading a scenario's GeoJSON (road map, RSU positions): strict, bounded, one error line.

A map comes from OSM exports, GIS tools and hand edits; the builder only trusts what this module
let through:
- the file: regular, at most MAX_JSON_BYTES, UTF-8 (or UTF-16/32 with BOM) (`sim.core.input_file`);
- the JSON: no NaN/Infinity literals (not JSON, and they would pass every range check), nesting
  at most MAX_JSON_DEPTH (a deep file otherwise ends in a RecursionError deep in json or repr);
- the structure: a FeatureCollection of Feature objects with object (or null) properties;
- the properties the builder reads have their type: `name` a string, `lanes_per_direction_assumed`
  a whole number 0..16, `speed_limit_kmh_assumed` a finite number 0..300 (0 or null: unknown);
- geometries: at most MAX_LINE_VERTICES positions per line or ring. The builder compares lines
  vertex by vertex (N x M arrays): 2,000 vertices keep that under ~200 MB, a 1 M-vertex line
  asked numpy for 7 TiB.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from sim.core.errors import ScenarioError
from sim.core.input_file import MAX_JSON_BYTES, decode_text, read_bytes

MAX_JSON_DEPTH = 32
MAX_LINE_VERTICES = 2_000

#: A JSON string (valid JSON only: after json.loads accepted the text, so it is linear).
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class _Constant(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _depth(text: str) -> int:
    """Deepest nesting of arrays and objects in valid JSON text."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(_STRING.sub('""', text)):
        if m.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(raw: bytes, source: str) -> Any:
    """Strict, bounded JSON: see the module docstring. Raises ScenarioError naming `source`."""
    text = decode_text(raw, source)
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except _Constant as exc:
        raise ScenarioError(source, "", f"not valid JSON: {exc} is not a number in JSON "
                                        "(write null for a missing value)") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(source, "", f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ScenarioError(source, "", f"not a usable map: nested deeper than "
                                        f"{MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ScenarioError(source, "", f"not valid JSON ({exc})") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise ScenarioError(source, "", f"not a usable map: nested deeper than "
                                        f"{MAX_JSON_DEPTH} levels")
    return data


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_properties(props: Any, where: str, source: str) -> None:
    if props is None:
        return
    if not isinstance(props, dict):
        raise ScenarioError(source, where, f"expected an object or null (got {props!r:.40})")
    name = props.get("name")
    if name is not None and not isinstance(name, str):
        raise ScenarioError(source, f"{where}.name", f"expected a string (got {name!r:.40})")
    lanes = props.get("lanes_per_direction_assumed")
    if lanes is not None and not (_number(lanes) and 0 <= lanes <= 16
                                  and float(lanes).is_integer()):
        raise ScenarioError(source, f"{where}.lanes_per_direction_assumed",
                            f"expected a whole number of lanes 0..16 or null (got {lanes!r:.40})")
    kmh = props.get("speed_limit_kmh_assumed")
    if kmh is not None and not (_number(kmh) and 0 <= kmh <= 300 and math.isfinite(kmh)):
        raise ScenarioError(source, f"{where}.speed_limit_kmh_assumed",
                            f"expected a speed in km/h 0..300 or null (got {kmh!r:.40})")


def _check_geometry(geom: Any, where: str, source: str) -> None:
    """Vertex counts only: the builder checks shapes, numbers and ranges where it reads them."""
    if not isinstance(geom, dict):
        return
    coords: Any = geom.get("coordinates")
    kind = geom.get("type")
    lines = ([coords] if kind == "LineString" else
             coords if kind in ("Polygon", "MultiLineString") else
             [ring for poly in coords if isinstance(poly, list) for ring in poly]
             if kind == "MultiPolygon" else [])
    if not isinstance(lines, list):
        return
    for line in lines:
        if isinstance(line, list) and len(line) > MAX_LINE_VERTICES:
            raise ScenarioError(source, f"{where}.coordinates",
                                f"a {kind} with a line of {len(line):,} vertices; at most "
                                f"{MAX_LINE_VERTICES:,} (simplify it, e.g. ogr2ogr -simplify)")


def load_geojson(path: Path, key: str, source: str) -> tuple[dict[str, Any], str]:
    """The FeatureCollection at `path` (named by scenario `source`, key `key`) and its sha256."""
    raw = read_bytes(path, MAX_JSON_BYTES, source, key)
    data = parse_json(raw, str(path))
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ScenarioError(str(path), "type", "expected a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list):
        raise ScenarioError(str(path), "features", "expected a list of features")
    for i, f in enumerate(features):
        if not isinstance(f, dict):
            raise ScenarioError(str(path), f"features[{i}]",
                                f"expected a Feature object (got {f!r:.40})")
        _check_properties(f.get("properties"), f"features[{i}].properties", str(path))
        _check_geometry(f.get("geometry"), f"features[{i}].geometry", str(path))
    return data, hashlib.sha256(raw).hexdigest()
