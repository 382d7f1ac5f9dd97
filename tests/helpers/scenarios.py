"""Tiny scenario files written on the fly: a straight test road and the 2 km `tiny` scenario."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "scenarios" / "data"


def straight_road_geojson(path: Path, length_m: float = 2000.0, lanes: int = 2) -> Path:
    """A straight east-west road near Changchun, `length_m` long (1 degree lon ~ 80.3 km here)."""
    lat = 43.9
    dlon = length_m / 80_300.0
    data = {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {"name": "test road", "source": "synthetic",
                           "lanes_per_direction_assumed": lanes, "speed_limit_kmh_assumed": 100},
            "geometry": {"type": "LineString", "coordinates": [[125.5, lat], [125.5 + dlon, lat]]},
        }],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def tiny_scenario(tmp_path: Path, **overrides) -> Path:  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    straight_road_geojson(tmp_path / "road.geojson")
    data = {
        "name": "tiny",
        "seed": 3,
        "duration_s": 3,
        "map": {"geojson": "road.geojson"},
        "routes": [
            {"id": "east", "roads": ["test road"], "flow_veh_h_per_lane": 600,
             "initial_density_veh_km_per_lane": 15},
            {"id": "west", "roads": ["test road"], "reverse": True,
             "initial_density_veh_km_per_lane": 15},
        ],
        "metrics": {"warmup_s": 0.5},
    }
    data.update(overrides)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
