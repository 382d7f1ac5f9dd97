"""The viewer draws VRUs (World.pedestrians) as dots; the trace records them."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from sim.io.trace import read_trace  # noqa: E402
from sim.runner import run_scenario  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402
from sim.viz import style  # noqa: E402
from sim.viz._pygame import pygame  # noqa: E402
from sim.viz.camera import Camera  # noqa: E402
from sim.viz.render import Renderer  # noqa: E402
from tests.helpers.fleets import ROUTES, SIGNAL  # noqa: E402
from tests.helpers.scenarios import tiny_scenario  # noqa: E402
from tests.helpers.viz import SIZE, make_scene  # noqa: E402


def test_pedestrians_are_drawn_as_dots() -> None:
    pg = pygame()
    pg.display.init()
    try:
        surface = pg.Surface(SIZE, 0, 32)
        scene = replace(make_scene([]), pedestrian_xy_m=np.array([[500.0, -20.0]]))
        cam = Camera(*SIZE, center_x_m=500.0, center_y_m=0.0, scale_px_per_m=4.0)
        Renderer().draw(surface, scene, cam, None)
        px, py = cam.point_to_screen(500.0, -20.0)
        assert tuple(surface.get_at((round(px), round(py))))[:3] == style.PEDESTRIAN
    finally:
        pg.display.quit()


def test_trace_records_pedestrian_frames(tmp_path: Path) -> None:
    path = tiny_scenario(tmp_path, routes=ROUTES, signals=[SIGNAL], duration_s=10,
                         pedestrians={"arrivals_per_h": 3000})
    run_scenario(load_scenario(str(path)), tmp_path / "run")
    _, reader = read_trace(tmp_path / "run" / "trace.msgpack")
    frames = [fr for fr in reader if fr.kind == "pedestrians"]
    assert frames and max(fr.n for fr in frames) > 0


def test_replay_shows_the_recorded_pedestrians(tmp_path: Path) -> None:
    from sim.viz.replay import ReplaySource as Replay

    path = tiny_scenario(tmp_path, routes=ROUTES, signals=[SIGNAL], duration_s=10,
                         pedestrians={"arrivals_per_h": 3000})
    run_scenario(load_scenario(str(path)), tmp_path / "run")
    _, reader = read_trace(tmp_path / "run" / "trace.msgpack")
    busiest = max((fr for fr in reader if fr.kind == "pedestrians"), key=lambda fr: fr.n)
    scene = Replay(tmp_path / "run").scene_at(busiest.t_s)
    assert scene.pedestrian_xy_m is not None
    np.testing.assert_allclose(scene.pedestrian_xy_m[:, 0], busiest.cols["x_m"], rtol=1e-6)
    # A run without VRUs has no pedestrian layer at all (no legend entry either).
    (tmp_path / "plain").mkdir()
    plain = tiny_scenario(tmp_path / "plain", duration_s=2)
    run_scenario(load_scenario(str(plain)), tmp_path / "plain-run")
    assert Replay(tmp_path / "plain-run").scene_at(1.0).pedestrian_xy_m is None
