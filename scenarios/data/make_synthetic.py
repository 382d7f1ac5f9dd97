"""Generates the synthetic GeoJSON files shipped with the built-in scenarios (run from the repo
root: `python scenarios/data/make_synthetic.py`). Deterministic; the outputs are committed.

- `auto_city_nlos.geojson`: 飞跃路 and 东风大街 copied from `changchun_roads.geojson`
  (© OpenStreetMap contributors, ODbL 1.0) plus synthetic building footprints at the corners of
  their junction (set back 15 m from the road axes, 200 m deep city blocks): not surveyed.
- `tr36885_highway.geojson`: a synthetic straight 5 km road near Changchun (TR 36.885 A.1.2
  freeway layout: 3 + 3 lanes of 4 m, set in the scenario).
- `tr36885_urban_grid.geojson`: a synthetic Manhattan grid (TR 36.885 A.1.2 urban layout): 3 x 3
  blocks of 433 m x 250 m (street centre to centre), 4 east-west and 4 north-south streets, and
  one building footprint per block filling it up to 10 m from the street axes (2 lanes of 3.5 m
  plus a 3 m sidewalk).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim.core.geo import LocalProjection
from sim.core.polyline import closest_approach, point_at

HERE = Path(__file__).resolve().parent


def _line(name: str, coords: np.ndarray, **props: object) -> dict:
    return {"type": "Feature", "properties": {"name": name, **props},
            "geometry": {"type": "LineString", "coordinates": np.round(coords, 7).tolist()}}


def _building(name: str, ring_lonlat: np.ndarray) -> dict:
    ring = np.vstack([ring_lonlat, ring_lonlat[:1]])
    return {"type": "Feature", "properties": {"name": name, "building": True, "source": "synthetic"},
            "geometry": {"type": "Polygon", "coordinates": [np.round(ring, 7).tolist()]}}


def _write(name: str, features: list[dict]) -> None:
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
    (HERE / name).write_text(text + "\n", encoding="utf-8")


def auto_city_nlos() -> None:
    roads = json.loads((HERE / "changchun_roads.geojson").read_text(encoding="utf-8"))["features"]
    by_name = {f["properties"]["name"]: f for f in roads}
    feiyue, dongfeng = by_name["飞跃路 Feiyue Road"], by_name["东风大街 Dongfeng Street"]
    proj = LocalProjection(125.2240, 43.8472)
    f_ll = np.array(feiyue["geometry"]["coordinates"])
    d_ll = np.array(dongfeng["geometry"]["coordinates"])
    f_xy, d_xy = proj.to_local(f_ll[:, 0], f_ll[:, 1]), proj.to_local(d_ll[:, 0], d_ll[:, 1])
    s_f, s_d, _ = closest_approach(f_xy, d_xy)
    j = point_at(d_xy, s_d)

    def unit(p: np.ndarray) -> np.ndarray:
        return (p - j) / np.hypot(*(p - j))

    north = unit(point_at(f_xy, s_f - 100.0))  # up 飞跃路
    west, east = unit(point_at(d_xy, s_d - 100.0)), unit(point_at(d_xy, s_d + 100.0))
    south = -north
    features = [dict(feiyue), dict(dongfeng)]
    setback, depth = 15.0, 200.0
    for name, a, b in (("NW", north, west), ("NE", north, east), ("SW", south, west),
                       ("SE", south, east)):
        corners = [j + u * a + v * b for u, v in ((setback, setback), (setback + depth, setback),
                                                  (setback + depth, setback + depth),
                                                  (setback, setback + depth))]
        xy = np.array(corners)
        features.append(_building(f"synthetic building {name} of 飞跃路 x 东风大街",
                                  proj.to_wgs84(xy[:, 0], xy[:, 1])))
    _write("auto_city_nlos.geojson", features)


def highway() -> None:
    lat, lon0, length_m = 43.95, 125.80, 5000.0
    proj = LocalProjection(lon0, lat)
    ll = proj.to_wgs84(np.array([0.0, length_m]), np.array([0.0, 0.0]))
    _write("tr36885_highway.geojson", [_line(
        "TR 36.885 freeway (synthetic)", ll, source="synthetic", lanes_per_direction_assumed=3,
        speed_limit_kmh_assumed=140)])


def urban_grid() -> None:
    proj = LocalProjection(125.90, 43.90)
    xs = np.arange(4) * 433.0  # north-south streets
    ys = np.arange(4) * 250.0  # east-west streets
    features = []
    for k, y in enumerate(ys):
        ll = proj.to_wgs84(np.array([xs[0], xs[-1]]), np.array([y, y]))
        features.append(_line(f"grid east-west street {k}", ll, source="synthetic",
                              lanes_per_direction_assumed=2, speed_limit_kmh_assumed=60))
    for k, x in enumerate(xs):
        ll = proj.to_wgs84(np.array([x, x]), np.array([ys[0], ys[-1]]))
        features.append(_line(f"grid north-south street {k}", ll, source="synthetic",
                              lanes_per_direction_assumed=2, speed_limit_kmh_assumed=60))
    inset = 2 * 3.5 + 3.0
    for i in range(3):
        for k in range(3):
            x0, x1 = xs[i] + inset, xs[i + 1] - inset
            y0, y1 = ys[k] + inset, ys[k + 1] - inset
            ll = proj.to_wgs84(np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1]))
            features.append(_building(f"grid block {i}-{k}", ll))
    _write("tr36885_urban_grid.geojson", features)


if __name__ == "__main__":
    auto_city_nlos()
    highway()
    urban_grid()
