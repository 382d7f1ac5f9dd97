"""Hand-built viewer scenes: a straight 2 km two-way road with given vehicles and RSUs."""

from __future__ import annotations

import numpy as np

from sim.viz.roads import RouteShape, build_road_layer
from sim.viz.scene import Scene, Vehicles

SIZE = (640, 400)


def make_scene(vehicles: list[dict], rsus: list[tuple[float, float]] = ()) -> Scene:  # type: ignore[assignment]
    """A straight 2 km two-way road along x, with the given vehicles and RSUs."""
    xy = np.array([[0.0, 0.0], [2000.0, 0.0]])
    roads = build_road_layer([RouteShape(xy, 2, 3.5), RouteShape(xy[::-1].copy(), 2, 3.5)])
    cols = {k: np.array([v.get(k, 0) for v in vehicles]) for k in
            ("cls", "automation", "equipped", "x_m", "y_m", "heading_rad", "v_mps")}
    cols["vehicle_id"] = np.array([v["id"] for v in vehicles], dtype=np.int64)
    cols["equipped"] = cols["equipped"].astype(bool)
    return Scene(t_s=1.0, roads=roads, rsu_xy_m=np.array(rsus, dtype=float).reshape(-1, 2),
                 vehicles=Vehicles.from_columns(cols), title="test")
