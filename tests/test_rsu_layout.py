"""RSU layouts as parameters (#18): a spacing along routes, and no site listed twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from tests.helpers.scenarios import tiny_scenario

# The tiny scenario: a straight 2 km road along +x (eastbound "east", 2 lanes of 3.75 m) and its
# reverse "west"; both start at x = 0 / x = 2000.


def _rsus(tmp_path: Path, rsus: dict) -> np.ndarray:  # type: ignore[type-arg]
    world = build_world(load_scenario(str(tiny_scenario(tmp_path, rsus=rsus))))
    return np.asarray(world.rsus.xy_m).reshape(-1, 2)


def test_a_spacing_puts_a_site_every_spacing_centred_on_the_first_route(tmp_path: Path) -> None:
    xy = _rsus(tmp_path, {"spacing_m": 400})
    x0 = xy[:, 0] - xy[0, 0] + 200.0
    assert np.allclose(x0, [200, 600, 1000, 1400, 1800], atol=1.0)
    # Right of the eastbound direction (south), beyond its two lanes plus the 3 m setback.
    assert np.allclose(xy[:, 1], xy[0, 1]) and xy[0, 1] < 0


def test_offset_side_and_routes_place_the_sites(tmp_path: Path) -> None:
    right = _rsus(tmp_path / "r", {"spacing_m": 500, "offset_m": 0, "setback_m": 2})
    left = _rsus(tmp_path / "l", {"spacing_m": 500, "offset_m": 0, "side": "left",
                                  "setback_m": 2})
    assert len(right) == len(left) == 5  # 0, 500, ..., 2000
    assert np.allclose(right[:, 1] - left[:, 1], -(2 * 3.75 + 2 + 2), atol=1e-6)
    both = _rsus(tmp_path / "b", {"spacing_m": 1000, "spacing_routes": ["east", "west"]})
    assert len(both) == 4 and len({round(y) for y in both[:, 1]}) == 2  # one row per side


@pytest.mark.parametrize("rsus,key,words", [
    ({"spacing_m": 400, "spacing_routes": ["north"]}, "rsus.spacing_routes[0]", "no route 'north'"),
    ({"spacing_m": 400, "offset_m": 5000}, "rsus.offset_m", "beyond the end"),
    ({"spacing_routes": ["east"]}, "rsus.spacing_routes", "only applies with rsus.spacing_m"),
    ({"positions": [{"lat": 43.9, "lon": 125.51}, {"lat": 43.9, "lon": 125.51}]},
     "rsus.positions[1]", "from rsus.positions[0]"),
    ({"spacing_m": 40}, "rsus.spacing_m", "greater than or equal to 50"),
])
def test_a_layout_that_cannot_be_meant_is_one_clear_error(tmp_path: Path, rsus: dict,  # type: ignore[type-arg]
                                                          key: str, words: str) -> None:
    with pytest.raises(Exception) as err:
        _rsus(tmp_path, rsus)
    text = str(err.value)
    assert key in text and words in text, text


def test_a_spacing_does_not_silently_add_to_a_geojson_layout(tmp_path: Path) -> None:
    sites = tmp_path / "sites.geojson"
    sites.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                     '"properties": {}, "geometry": {"type": "Point", '
                     '"coordinates": [125.51, 43.9]}}]}', encoding="utf-8")
    with pytest.raises(ScenarioError, match="rsus.geojson: null"):
        _rsus(tmp_path, {"geojson": "sites.geojson", "spacing_m": 400})
    assert len(_rsus(tmp_path, {"geojson": None, "spacing_m": 400})) == 5
