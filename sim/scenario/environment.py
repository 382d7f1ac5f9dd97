"""Radio environment from the map: building footprints that make urban links NLOS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.geo import LocalProjection
from sim.core.rng import RngTree
from sim.radio.buildings import Buildings
from sim.spec.schema import ScenarioSpec
from sim.spec.units import s_to_ms


def buildings_from_map(spec: ScenarioSpec, data: dict[str, Any], map_path: Path,
                       projection: LocalProjection, rng: RngTree, source: str) -> Buildings | None:
    """Polygon features with `properties.building: true` (outer rings), when map.buildings_nlos."""
    if spec.map is None or not spec.map.buildings_nlos:
        return None
    polygons = []
    for i, f in enumerate(data["features"]):
        props = f.get("properties") if isinstance(f, dict) else None
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not (isinstance(props, dict) and props.get("building") and isinstance(geom, dict)):
            continue
        try:
            ring = np.asarray(geom["coordinates"][0], dtype=np.float64)
        except (KeyError, IndexError, TypeError, ValueError):
            ring = np.zeros((0, 2))
        if geom.get("type") != "Polygon" or ring.ndim != 2 or len(ring) < 4 or ring.shape[1] < 2:
            raise ScenarioError(str(map_path), f"features[{i}].geometry",
                                "a building must be a Polygon with a closed outer ring")
        polygons.append(projection.to_local(ring[:-1, 0], ring[:-1, 1]))
    if not polygons:
        raise ScenarioError(source, "map.buildings_nlos",
                            "the map has no Polygon feature with properties.building: true")
    return Buildings.from_polygons(polygons, spec.radio.carrier_ghz, rng.key("buildings"),
                                   s_to_ms(spec.radio.shadowing_coherence_s))
