"""The viewer's draw call with 10,000 vehicles on the airport expressway, at three zoom levels.

`Renderer.draw` is timed on an off-screen 1280x800 surface (what a window flip adds is the
display's business). The scene is the real expressway geometry and RSUs with 10,000 vehicles of
the scenario's class mix spread over both directions, half of them transmitting and one selected;
the frame rate is reported as `fps` in the benchmark's extra info.

* overview: the whole 20 km corridor (every vehicle on screen, drawn as pixel dots);
* corridor: a 2 km window, vehicles as to-scale rectangles (the densest rectangle view);
* close: 300 m around an RSU with outlines, roof markers and transmission rings.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from bench.conftest import place_on_expressway
from sim.viz.camera import Camera
from sim.viz.live import roads_from_world
from sim.viz.overlay import HudState
from sim.viz.scene import Scene, Selection, Stats, Vehicles
from vehicles.classes import VEHICLE_CLASSES

pytestmark = pytest.mark.benchmark

N_VEHICLES = 10_000
SIZE = (1280, 800)


def expressway_scene(n: int, seed: int = 0) -> Scene:
    """`n` vehicles at random lanes and positions on both directions of the expressway."""
    world, rng, route, s, lane, x, y, h = place_on_expressway(n, seed)
    names = list(world.spec.fleet.classes)
    p = np.array([world.spec.fleet.classes[c] for c in names])
    cls = rng.choice([VEHICLE_CLASSES[c].code for c in names], size=n, p=p / p.sum())
    ids = np.arange(n, dtype=np.int64)
    vehicles = Vehicles.from_columns({
        "vehicle_id": ids, "cls": cls, "automation": rng.integers(0, 5, n),
        "equipped": rng.random(n) < 0.6, "route": route, "lane": lane, "x_m": x, "y_m": y,
        "heading_rad": h, "v_mps": rng.uniform(20, 33, n), "a_mps2": rng.normal(0, 0.3, n),
    })
    return Scene(t_s=12.3, roads=roads_from_world(world), rsu_xy_m=world.rsus.xy_m,
                 vehicles=vehicles, tx_vehicle_ids=np.sort(rng.choice(ids, n // 2, replace=False)),
                 stats=Stats(0.93, 41.5, 0.31), title="airport-expressway")


@pytest.fixture(scope="module")
def pg_surface():  # type: ignore[no-untyped-def]
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from sim.viz._pygame import pygame

    pg = pygame()
    return pg.Surface(SIZE, 0, 32)


@pytest.fixture(scope="module")
def scene_10k() -> Scene:
    return expressway_scene(N_VEHICLES)


def _camera(scene: Scene, view: str) -> Camera:
    cam = Camera(*SIZE)
    if view == "overview":
        cam.fit(scene.roads.bounds_m)
    else:
        x, y = scene.rsu_xy_m[12]
        cam.look_at(x, y, SIZE[0] / (2000.0 if view == "corridor" else 300.0))
    return cam


@pytest.mark.parametrize("view", ["overview", "corridor", "close"])
def test_draw_10k_vehicles(benchmark, pg_surface, scene_10k: Scene, view: str) -> None:  # type: ignore[no-untyped-def]
    from sim.viz.render import Renderer

    renderer = Renderer()
    cam = _camera(scene_10k, view)
    hud = HudState(speed=1.0, rtf=1.0, selected=Selection("vehicle", 123))
    renderer.draw(pg_surface, scene_10k, cam, hud)  # warm the text caches
    benchmark(renderer.draw, pg_surface, scene_10k, cam, hud)
    px, py = cam.to_screen(scene_10k.vehicles.x_m, scene_10k.vehicles.y_m)
    on_screen = int(((px >= 0) & (px < SIZE[0]) & (py >= 0) & (py < SIZE[1])).sum())
    fps = 1.0 / benchmark.stats.stats.mean
    benchmark.extra_info["fps"] = round(fps, 1)
    benchmark.extra_info["fps_median"] = round(1.0 / benchmark.stats.stats.median, 1)
    benchmark.extra_info["vehicles"] = N_VEHICLES
    benchmark.extra_info["vehicles_on_screen"] = on_screen
    benchmark.extra_info["scale_px_per_m"] = round(cam.scale_px_per_m, 4)
    assert on_screen > 0
