"""Building footprints in the viewer: the polygons the radio tests links against are drawn (live
and replay, the trace records them), under the streets, in their own colour."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sim.runner import run_scenario
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.buildings import building_rings
from sim.viz.camera import Camera
from sim.viz.live import roads_from_world, scene_from_world
from sim.viz.render import Renderer
from sim.viz.replay import ReplaySource

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

SIZE = (800, 600)


@pytest.fixture(scope="module")
def nlos(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The corridor NLOS built-in (four assumed corner blocks), 1 s, recorded."""
    loaded = load_scenario("auto-city-intersection-nlos", [], duration_s=1.0)
    out = tmp_path_factory.mktemp("nlos") / "run"
    run_scenario(loaded, out)
    return build_world(loaded), out


def test_rings_are_rebuilt_from_the_radio_edge_list() -> None:
    xy = np.array([[0, 0], [1, 0], [1, 1], [5, 5], [6, 5], [6, 6], [5, 6]], dtype=float)
    rings = building_rings(xy, np.array([0, 0, 0, 1, 1, 1, 1]))
    assert [len(r) for r in rings] == [3, 4]
    assert np.array_equal(rings[1], xy[3:])
    assert building_rings(np.zeros((0, 2)), np.zeros(0, np.int64)) == ()


def test_live_scene_draws_each_footprint_in_the_building_colour(nlos) -> None:  # type: ignore[no-untyped-def]
    world, _ = nlos
    scene = scene_from_world(world, roads_from_world(world), 0)
    assert scene.buildings_xy_m is not None and len(scene.buildings_xy_m) == 4
    pg = pygame()
    pg.display.init()
    try:
        surface = pg.Surface(SIZE, 0, 32)
        cam = Camera(*SIZE)
        assert scene.focus_bounds_m is not None  # the scenario frames its junction
        cam.fit(scene.focus_bounds_m, margin=0.0)
        Renderer().draw(surface, scene, cam)
        for ring in scene.buildings_xy_m:
            cx, cy = ring.mean(axis=0)
            px, py = cam.point_to_screen(float(cx), float(cy))
            assert 0 <= px < SIZE[0] and 0 <= py < SIZE[1]
            assert tuple(surface.get_at((round(px), round(py))))[:3] == style.BUILDING
    finally:
        pg.display.quit()


def test_replay_shows_the_same_footprints_as_the_live_run(nlos) -> None:  # type: ignore[no-untyped-def]
    world, out = nlos
    live = scene_from_world(world, roads_from_world(world), 0).buildings_xy_m
    replay = ReplaySource(Path(out)).scene(0).buildings_xy_m
    assert live is not None and replay is not None and len(live) == len(replay)
    for a, b in zip(live, replay):
        assert np.allclose(a, b)


def test_a_map_without_buildings_draws_none(tmp_path: Path) -> None:
    from tests.helpers.scenarios import tiny_scenario

    world = build_world(load_scenario(str(tiny_scenario(tmp_path))))
    assert scene_from_world(world, roads_from_world(world), 0).buildings_xy_m is None
