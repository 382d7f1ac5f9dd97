"""The viewer: drawing, camera, input, replay seeking, exports, and that watching changes nothing.

Everything runs with SDL's dummy video driver (no display); runs use the tiny 2 km scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from roadside.network import roadside_of
from sim.core.signals import GREEN, RED, YELLOW
from sim.io.trace import load_columns
from sim.runner import run_scenario
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.camera import Camera
from sim.viz.cli import add_view_parser, cmd_view
from sim.viz.controls import SPEEDS, Controls
from sim.viz.edges import EdgeLayer
from sim.viz.live import LiveViewer, roads_from_world, scene_from_world
from sim.viz.overlay import HudState, inspector_lines
from sim.viz.render import Renderer
from sim.viz.replay import ReplaySource
from sim.viz.scene import Scene, Selection
from sim.viz.viewer import Viewer
from tests.helpers.scenarios import tiny_scenario
from tests.helpers.viz import SIZE, make_scene
from vehicles.classes import VEHICLE_CLASSES

# Before pygame is imported (sim.viz imports it lazily, on first use): no display needed.
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("summary.json", "trace.msgpack", "prr_vs_distance.csv", "cbr_vs_time.csv")


# ---------------------------------------------------------------------- helpers and fixtures
def colour_at(surface, x: float, y: float) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return tuple(surface.get_at((round(x), round(y))))[:3]  # type: ignore[return-value]


@pytest.fixture(scope="module")
def pg():  # type: ignore[no-untyped-def]
    mod = pygame()
    mod.display.init()
    mod.display.set_mode(SIZE)
    yield mod
    mod.display.quit()


@pytest.fixture
def surface(pg):  # type: ignore[no-untyped-def]
    return pg.Surface(SIZE, 0, 32)


def ensure_display(pg) -> None:  # type: ignore[no-untyped-def]
    """The event queue needs the video system (a Viewer closing its window shuts it down)."""
    if not pg.display.get_init():
        pg.display.init()
        pg.display.set_mode(SIZE)


def post(pg, events: list) -> list:  # type: ignore[no-untyped-def, type-arg]
    """Posts events through pygame's queue and returns what the queue hands back."""
    ensure_display(pg)
    pg.event.clear()
    for e in events:
        pg.event.post(e)
    return pg.event.get()


def key(pg, k: int, mod: int = 0):  # type: ignore[no-untyped-def]
    return pg.event.Event(pg.KEYDOWN, key=k, mod=mod)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recorded tiny run (3 s, receptions on): the replay source and the determinism baseline."""
    d = tmp_path_factory.mktemp("tiny")
    path = tiny_scenario(d, output={"trace": {"receptions": True}})
    run_scenario(load_scenario(str(path)), d / "run")
    return d / "run"


def view(*argv: str) -> int:
    p = argparse.ArgumentParser(prog="v2xsim")
    add_view_parser(p.add_subparsers(dest="command", required=True))
    return cmd_view(p.parse_args(["view", *argv]))


# ---------------------------------------------------------------------- import hygiene
def test_importing_sim_viz_does_not_import_pygame() -> None:
    code = ("import sys, sim.viz, sim.viz.cli, sim.viz.render, sim.viz.live, sim.viz.replay, "
            "sim.viz.controls, sim.viz.viewer; assert 'pygame' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# ---------------------------------------------------------------------- camera
def test_camera_round_trip_world_pixels_world() -> None:
    cam = Camera(1280, 800, center_x_m=-350.0, center_y_m=1200.0, scale_px_per_m=0.37)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-5000, 5000, 100), rng.uniform(-5000, 5000, 100)
    px, py = cam.to_screen(x, y)
    bx, by = cam.to_world(px, py)
    np.testing.assert_allclose(bx, x, atol=1e-9)
    np.testing.assert_allclose(by, y, atol=1e-9)
    assert cam.point_to_screen(-350.0, 1200.0) == (640.0, 400.0)  # the centre is the middle
    assert cam.point_to_screen(-350.0, 1210.0)[1] < 400.0  # north is up


def test_zoom_keeps_the_point_under_the_anchor_fixed() -> None:
    cam = Camera(1280, 800, scale_px_per_m=1.0)
    before = cam.point_to_world(100, 700)
    cam.zoom(2.0, (100, 700))
    assert cam.scale_px_per_m == 2.0
    assert cam.point_to_world(100, 700) == pytest.approx(before)


# ---------------------------------------------------------------------- pixels
def test_rsu_has_its_colour_at_its_projected_pixel(surface) -> None:  # type: ignore[no-untyped-def]
    scene = make_scene([], rsus=[(1000.0, -25.0), (300.0, 12.0)])
    cam = Camera(*SIZE, center_x_m=1000.0, center_y_m=0.0, scale_px_per_m=3.0)
    Renderer().draw(surface, scene, cam, HudState())
    for x, y in scene.rsu_xy_m:
        px, py = cam.point_to_screen(x, y)
        if 0 <= px < SIZE[0] and 0 <= py < SIZE[1]:
            assert colour_at(surface, px, py) == style.RSU_FILL


@pytest.mark.parametrize("automation,equipped", [(0, False), (4, True)])
def test_vehicle_rectangle_has_its_class_colour_at_its_centre(surface, automation: int,
                                                              equipped: bool) -> None:  # type: ignore[no-untyped-def]
    truck = VEHICLE_CLASSES["truck"].code
    scene = make_scene([{"id": 7, "cls": truck, "x_m": 500.0, "y_m": -5.0, "heading_rad": 0.7,
                         "automation": automation, "equipped": equipped}])
    cam = Camera(*SIZE, center_x_m=500.0, center_y_m=-5.0, scale_px_per_m=12.0)
    Renderer().draw(surface, scene, cam, HudState())
    px, py = cam.point_to_screen(500.0, -5.0)
    assert colour_at(surface, px, py) == style.CLASS_COLOURS["truck"]
    # Oriented to scale: 6 m ahead along the heading is still the truck (13 m long), 6 m to the
    # side is not (2.6 m wide).
    ax, ay = cam.point_to_screen(500.0 + 4.0 * np.cos(0.7), -5.0 + 4.0 * np.sin(0.7))
    assert colour_at(surface, ax, ay) == style.CLASS_COLOURS["truck"]
    sx, sy = cam.point_to_screen(500.0 + 6.0 * np.sin(0.7), -5.0 - 6.0 * np.cos(0.7))
    assert colour_at(surface, sx, sy) != style.CLASS_COLOURS["truck"]


def test_class_colours_differ_on_screen_near_and_far(surface) -> None:  # type: ignore[no-untyped-def]
    names = list(VEHICLE_CLASSES)
    colours = [style.CLASS_COLOURS[n] for n in names]
    assert len(set(colours)) == len(colours)
    vehicles = [{"id": i, "cls": VEHICLE_CLASSES[n].code, "x_m": 200.0 + 20.0 * i, "y_m": -5.0}
                for i, n in enumerate(names)]
    scene = make_scene(vehicles)
    for scale in (4.0, 0.25):  # rectangles, then 2x2 pixel dots
        cam = Camera(*SIZE, center_x_m=240.0, center_y_m=0.0, scale_px_per_m=scale)
        Renderer().draw(surface, scene, cam, None)
        seen = []
        for v in vehicles:
            px, py = cam.point_to_screen(v["x_m"], v["y_m"])
            seen.append(colour_at(surface, np.floor(px), np.floor(py)))
        assert seen == colours, f"scale {scale}"


def test_transmitting_vehicles_get_a_ring(surface) -> None:  # type: ignore[no-untyped-def]
    scene = make_scene([{"id": 1, "x_m": 100.0, "y_m": -5.0}, {"id": 2, "x_m": 140.0, "y_m": -5.0}])
    scene = Scene(**{**scene.__dict__, "tx_vehicle_ids": np.array([2])})
    cam = Camera(*SIZE, center_x_m=120.0, center_y_m=-5.0, scale_px_per_m=8.0)
    Renderer().draw(surface, scene, cam, None)

    def ring_pixels(x: float) -> int:
        px, py = cam.point_to_screen(x, -5.0)
        r = 40
        box = [colour_at(surface, px + dx, py + dy) for dx in range(-r, r + 1)
               for dy in range(-r, r + 1) if 0 <= px + dx < SIZE[0] and 0 <= py + dy < SIZE[1]]
        return sum(c == style.TX_RING for c in box)

    assert ring_pixels(140.0) > 20 and ring_pixels(100.0) == 0


def test_attribution_is_always_on_screen(surface) -> None:  # type: ignore[no-untyped-def]
    from sim.viz.overlay import Overlay

    scene = make_scene([])
    Renderer().draw(surface, scene, Camera(*SIZE), None)
    text = Overlay().render_text(style.ATTRIBUTION, style.TEXT, "small")
    w, h = text.get_size()
    region = surface.subsurface((SIZE[0] - 8 - w, SIZE[1] - 4 - h, w, h))
    assert any(region.get_at((x, h // 2))[:3] == style.TEXT for x in range(w))


# ---------------------------------------------------------------------- input
def test_space_toggles_pause_and_plus_minus_step_the_speed(pg) -> None:  # type: ignore[no-untyped-def]
    c = Controls(Camera(*SIZE), speed=1.0)
    c.handle_all(post(pg, [key(pg, pg.K_SPACE)]))
    assert c.paused
    c.handle_all(post(pg, [key(pg, pg.K_SPACE)]))
    assert not c.paused
    c.handle_all(post(pg, [key(pg, pg.K_PLUS), key(pg, pg.K_EQUALS)]))
    assert c.speed == 5.0
    c.handle_all(post(pg, [key(pg, pg.K_MINUS)] * 20))
    assert c.speed == SPEEDS[0] == 0.1
    c.handle_all(post(pg, [key(pg, pg.K_KP_PLUS)] * 20))
    assert c.speed == 0.0  # past x100: as fast as possible


def test_n_and_right_arrow_step_only_while_paused(pg) -> None:  # type: ignore[no-untyped-def]
    cam = Camera(*SIZE)
    c = Controls(cam, paused=True)
    c.handle_all(post(pg, [key(pg, pg.K_n), key(pg, pg.K_RIGHT)]))
    assert c.step_requests == 2
    c.paused = False
    x0 = cam.center_x_m
    c.handle_all(post(pg, [key(pg, pg.K_RIGHT)]))
    assert c.step_requests == 2 and cam.center_x_m > x0  # running: the arrow pans


def test_wheel_and_brackets_change_the_scale(pg) -> None:  # type: ignore[no-untyped-def]
    cam = Camera(*SIZE, scale_px_per_m=1.0)
    c = Controls(cam)
    c.handle_all(post(pg, [pg.event.Event(pg.MOUSEWHEEL, x=0, y=1)]))
    assert cam.scale_px_per_m > 1.0
    s = cam.scale_px_per_m
    c.handle_all(post(pg, [key(pg, pg.K_LEFTBRACKET), key(pg, pg.K_LEFTBRACKET)]))
    assert cam.scale_px_per_m < s
    c.handle_all(post(pg, [key(pg, pg.K_RIGHTBRACKET)]))
    assert cam.scale_px_per_m > s / 1.25 / 1.25


def test_click_selects_the_nearest_vehicle_and_drag_pans(pg) -> None:  # type: ignore[no-untyped-def]
    scene = make_scene([{"id": 10, "x_m": 100.0, "y_m": -2.0}, {"id": 11, "x_m": 112.0, "y_m": -2.0},
                        {"id": 12, "x_m": 124.0, "y_m": -6.0}], rsus=[(160.0, -20.0)])
    cam = Camera(*SIZE, center_x_m=112.0, center_y_m=0.0, scale_px_per_m=4.0)
    c = Controls(cam)

    def click(x_m: float, y_m: float, dx_px: int = 0) -> None:
        px, py = cam.point_to_screen(x_m, y_m)
        pos = (int(px) + dx_px, int(py))
        c.handle_all(post(pg, [pg.event.Event(pg.MOUSEBUTTONDOWN, pos=pos, button=1),
                               pg.event.Event(pg.MOUSEBUTTONUP, pos=pos, button=1)]), scene)

    click(124.0, -6.0, dx_px=3)
    assert c.selected == Selection("vehicle", 12)
    click(113.0, -3.5)  # between 11 and 12, nearer to 11
    assert c.selected == Selection("vehicle", 11)
    click(160.0, -20.0)
    assert c.selected == Selection("rsu", 0)
    click(112.0, 40.0)  # empty map: deselect
    assert c.selected is None
    x0 = cam.center_x_m
    c.handle_all(post(pg, [pg.event.Event(pg.MOUSEBUTTONDOWN, pos=(300, 200), button=1),
                           pg.event.Event(pg.MOUSEMOTION, pos=(340, 200), rel=(40, 0),
                                          buttons=(1, 0, 0)),
                           pg.event.Event(pg.MOUSEBUTTONUP, pos=(340, 200), button=1)]), scene)
    assert cam.center_x_m == pytest.approx(x0 - 40 / 4.0)
    assert c.selected is None  # a drag is not a click


def test_follow_keeps_the_selected_vehicle_centred(pg) -> None:  # type: ignore[no-untyped-def]
    scene = make_scene([{"id": 5, "x_m": 700.0, "y_m": -5.0}])
    v = Viewer(SIZE, window=False)
    v.controls.select(Selection("vehicle", 5))
    v.controls.handle(key(pg, pg.K_f))
    assert v.controls.following
    v.draw(scene)
    assert v.camera.point_to_screen(700.0, -5.0) == pytest.approx((SIZE[0] / 2, SIZE[1] / 2))


def test_inspector_shows_the_selected_vehicle_state() -> None:
    scene = make_scene([{"id": 3, "cls": VEHICLE_CLASSES["bus"].code, "automation": 4,
                         "equipped": True, "x_m": 10.0, "y_m": -2.0, "v_mps": 20.0}])
    text = " | ".join(t for t, _ in inspector_lines(scene, Selection("vehicle", 3)))
    assert "#3" in text and "bus" in text and "L4" in text and "72.0 km/h" in text


# ---------------------------------------------------------------------- replay
def test_replay_seek_returns_the_state_at_or_just_before_t(tiny_run: Path) -> None:
    src = ReplaySource(tiny_run)
    assert src.t_start == 0.0 and src.t_end == pytest.approx(2.9)
    assert src.scene_at(1.25).t_s == pytest.approx(1.2)
    assert src.scene_at(1.3).t_s == pytest.approx(1.3)
    assert src.scene_at(1.2999).t_s == pytest.approx(1.2)
    assert src.scene_at(-5).t_s == 0.0 and src.scene_at(99).t_s == pytest.approx(2.9)
    state = load_columns(tiny_run / "trace.msgpack", "state")
    at = np.isclose(state["t_s"], 1.2)
    scene = src.scene_at(1.25)
    np.testing.assert_array_equal(scene.vehicles.id, state["vehicle_id"][at])
    np.testing.assert_allclose(scene.vehicles.x_m, state["x_m"][at])


def test_replay_shows_the_transmissions_and_links_of_the_tick(tiny_run: Path) -> None:
    src = ReplaySource(tiny_run)
    scene = src.scene_at(2.0)
    tx = load_columns(tiny_run / "trace.msgpack", "tx")
    in_tick = (tx["t_s"] >= 2.0 - 1e-9) & (tx["t_s"] < 2.1 - 1e-9)
    np.testing.assert_array_equal(scene.tx_vehicle_ids, np.unique(tx["vehicle_id"][in_tick]))
    vid = int(scene.tx_vehicle_ids[0])
    found = scene.links_of(Selection("vehicle", vid))
    assert found is not None
    rx = load_columns(tiny_run / "trace.msgpack", "rx")
    pids = tx["packet_id"][in_tick & (tx["vehicle_id"] == vid)]
    assert len(found[0]) == int(np.isin(rx["packet_id"], pids).sum()) > 0
    assert np.all(found[0] == vid)


# ---------------------------------------------------------------------- exports and CLI
def test_screenshot_export_writes_a_png_of_the_requested_size(pg, tiny_run: Path, tiny: Path,
                                                             tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert view("--replay", str(tiny_run), "--screenshot", str(tmp_path / "r.png"), "--at", "1.5",
                "--size", "320x200") == 0
    assert pg.image.load(str(tmp_path / "r.png")).get_size() == (320, 200)
    assert view(str(tiny), "--screenshot", str(tmp_path / "l.png"), "--at", "0.5",
                "--size", "400x240", "--select", "3") == 0
    assert pg.image.load(str(tmp_path / "l.png")).get_size() == (400, 240)


def test_frames_export_writes_fps_frames_per_simulated_second(tiny_run: Path, tiny: Path,
                                                              tmp_path: Path) -> None:
    assert view(str(tiny), "--until", "1", "--frames", str(tmp_path / "live"), "--fps", "5",
                "--size", "160x100") == 0
    assert sorted(p.name for p in (tmp_path / "live").iterdir()) == [
        f"frame_{i:06d}.png" for i in range(5)]
    assert view("--replay", str(tiny_run), "--frames", str(tmp_path / "replay"), "--fps", "2",
                "--size", "160x100") == 0
    assert len(list((tmp_path / "replay").glob("frame_*.png"))) == 6  # 3 s of recording


def test_viewer_attached_gives_byte_identical_outputs(tiny_run: Path, tmp_path: Path) -> None:
    """Watching (a real window on the dummy driver, as fast as possible) changes nothing."""
    scenario = tiny_run.parent / "tiny.yaml"
    viewer = Viewer(SIZE, window=True, speed=0.0)
    live = LiveViewer(viewer)
    run_scenario(load_scenario(str(scenario)), tmp_path / "viewed", extra_observers=[live],
                 engine_hook=live.attach)
    viewer.close()
    assert viewer.frames_drawn >= 1 and live.summary is not None
    assert live.scene is not None and live.scene.links is not None and len(live.scene.links) == 5
    for name in OUTPUTS:
        assert (tmp_path / "viewed" / name).read_bytes() == (tiny_run / name).read_bytes(), name


def test_quit_key_stops_the_run_cleanly(pg, tiny: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    viewer = Viewer(SIZE, window=True, paused=True)
    live = LiveViewer(viewer)
    pg.event.clear()
    pg.event.post(key(pg, pg.K_q))
    out = run_scenario(load_scenario(str(tiny)), tmp_path / "q", extra_observers=[live],
                       engine_hook=live.attach)
    assert live.quit and out.summary["interrupted"] and out.summary["sim_time_s"] <= 1.0


def test_speed_factor_paces_the_simulation(tiny: Path) -> None:
    viewer = Viewer(SIZE, window=True, speed=5.0)
    live = LiveViewer(viewer)
    from sim.core.engine import Engine
    from sim.scenario.build import build_world

    engine = Engine(build_world(load_scenario(str(tiny), duration_s=0.5)), [live])
    live.attach(engine)
    t0 = time.perf_counter()
    engine.run()
    viewer.close()
    assert time.perf_counter() - t0 >= 0.08  # 0.4 s between the first and last tick at x5


@pytest.mark.parametrize("argv,message", [
    (["no-such-scenario"], "no such file and no built-in scenario"),
    (["--replay", "/nonexistent/run"], "no such run directory"),
    (["airport-expressway", "--screenshot", "x.png"], "--screenshot needs --at"),
    (["airport-expressway", "--size", "big"], "--size"),
    (["airport-expressway", "--set", "radio.mcs=99"], "radio.mcs"),
    (["airport-expressway", "--screenshot", "x.png", "--at", "99"], "after the end of the run"),
    ([], "expected a scenario"),
])
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert view(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("v2xsim: error:") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_replay_of_a_directory_without_trace_is_bad_input(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({}))
    assert view("--replay", str(tmp_path)) == 2
    assert "no trace.msgpack" in capsys.readouterr().err


def test_window_without_a_display_is_bad_input_not_an_invisible_window(
        tiny_run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for X11/Wayland")
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert view("--replay", str(tiny_run)) == 2
    assert "use --screenshot/--frames" in capsys.readouterr().err


# ---------------------------------------------------------------------- signals
#: A signal 1 km along the 2 km test road (as in test_signals); its axis is the road (east).
SIGNAL_LON = 125.5 + 1000 / 80_300
#: Axis green 0-30 s, yellow 30-33 s, red 33-65 s; cross red 0-35 s, green 35-60 s, yellow 60-63 s.
SLOW_PLAN = [{"serves": "axis", "green_s": 30, "yellow_s": 3, "all_red_s": 2},
             {"serves": "cross", "green_s": 25, "yellow_s": 3, "all_red_s": 2}]
#: A 7 s cycle, to see every colour in a short recorded run: axis green 0-2 s, yellow 2-3 s,
#: red 3-7 s; cross red 0-3.5 s, green 3.5-5.5 s, yellow 5.5-6.5 s.
FAST_PLAN = [{"serves": "axis", "green_s": 2, "yellow_s": 1, "all_red_s": 0.5},
             {"serves": "cross", "green_s": 2, "yellow_s": 1, "all_red_s": 0.5}]


def signal_scenario(tmp_path: Path, plan: list[dict], source: str = "synthetic",
                    **overrides) -> Path:  # type: ignore[type-arg]
    signal = {"id": "s1", "position": {"lat": 43.9, "lon": SIGNAL_LON}, "offset_s": 0,
              "source": source, "phases": plan}
    return tiny_scenario(tmp_path, signals=[signal], **overrides)


def head_pixels(scene: Scene, cam: Camera) -> list[tuple[float, float]]:
    """Screen centres of signal 0's heads: axis +, axis -, cross +, cross -."""
    assert scene.signals is not None
    _, offset, _ = style.signal_glyph_px(cam.scale_px_per_m)
    heads = scene.signals.head_xy_m(offset / cam.scale_px_per_m)[0]
    return [cam.point_to_screen(x, y) for x, y in heads]


def signal_camera(scene: Scene, scale: float = 4.0) -> Camera:
    assert scene.signals is not None
    x, y = scene.signals.xy_m[0]
    return Camera(*SIZE, center_x_m=float(x), center_y_m=float(y), scale_px_per_m=scale)


@pytest.fixture(scope="module")
def signal_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = signal_scenario(tmp_path_factory.mktemp("signal"), SLOW_PLAN, duration_s=60)
    return build_world(load_scenario(str(path)))


@pytest.mark.parametrize("now_ms,axis,cross", [
    (5_000, GREEN, RED), (31_000, YELLOW, RED), (40_000, RED, GREEN), (61_000, RED, YELLOW),
])
def test_live_signal_heads_show_the_colour_of_the_phase(surface, signal_world, now_ms: int,
                                                        axis: int, cross: int) -> None:  # type: ignore[no-untyped-def]
    scene = scene_from_world(signal_world, roads_from_world(signal_world), now_ms)
    assert scene.signal_colours() is not None
    assert scene.signal_colours()[0].tolist() == [axis, cross]
    for scale in (4.0, 0.3):  # zoomed in (over the traffic) and far out (under the dots)
        cam = signal_camera(scene, scale)
        Renderer().draw(surface, scene, cam, HudState())
        seen = [colour_at(surface, x, y) for x, y in head_pixels(scene, cam)]
        want = [style.SIGNAL_COLOURS[c] for c in (axis, axis, cross, cross)]
        assert seen == want, (scale, seen)


def test_live_stop_lines_are_drawn_across_both_carriageways(surface, signal_world) -> None:  # type: ignore[no-untyped-def]
    scene = scene_from_world(signal_world, roads_from_world(signal_world), 5_000)
    sig = scene.signals
    assert sig is not None and len(sig.stop_a_m) == 2  # one per direction
    # 15 m before the centre, across the lanes on the right of each direction.
    d = np.hypot(*(sig.stop_a_m - sig.xy_m[0]).T)
    np.testing.assert_allclose(d, 15.0, atol=1.0)
    cam = signal_camera(scene, 4.0)
    Renderer().draw(surface, scene, cam, None)
    for a, b in zip(sig.stop_a_m, sig.stop_b_m):
        x, y = cam.point_to_screen(*((a + b) / 2))
        assert colour_at(surface, x, y) in (style.STOP_LINE, *style.CLASS_COLOURS.values())


@pytest.mark.parametrize("source", ["synthetic", "evidenced"])
def test_synthetic_and_evidenced_junctions_are_outlined_differently(surface, tmp_path: Path,
                                                                    source: str) -> None:  # type: ignore[no-untyped-def]
    world = build_world(load_scenario(str(signal_scenario(tmp_path, SLOW_PLAN, source=source))))
    scene = scene_from_world(world, roads_from_world(world), 5_000)
    scene = Scene(**{**scene.__dict__, "vehicles": make_scene([]).vehicles})  # an empty road
    cam = signal_camera(scene, 4.0)
    Renderer().draw(surface, scene, cam, None)
    box, _, _ = style.signal_glyph_px(4.0)
    cx, cy = cam.point_to_screen(*scene.signals.xy_m[0])  # type: ignore[union-attr]
    near_corner = colour_at(surface, cx + box - 3, cy - box)  # on the top side, by a corner
    mid_side = colour_at(surface, cx, cy - box)
    if source == "evidenced":
        assert near_corner == mid_side == style.SIGNAL_EVIDENCED  # solid
    else:
        assert near_corner == style.SIGNAL_SYNTHETIC and mid_side != style.SIGNAL_SYNTHETIC


def test_clicking_a_signal_selects_it_and_the_inspector_shows_its_colours(pg, signal_world) -> None:  # type: ignore[no-untyped-def]
    scene = scene_from_world(signal_world, roads_from_world(signal_world), 40_000)
    cam = signal_camera(scene, 4.0)
    c = Controls(cam)

    def click(x: float, y: float) -> None:
        pos = (round(x), round(y))
        c.handle_all(post(pg, [pg.event.Event(pg.MOUSEBUTTONDOWN, pos=pos, button=1),
                               pg.event.Event(pg.MOUSEBUTTONUP, pos=pos, button=1)]), scene)

    for x, y in head_pixels(scene, cam):  # every head, even over a vehicle
        c.select(None)
        click(x, y)
        assert c.selected == Selection("signal", 0)
    c.select(None)
    click(*cam.point_to_screen(*scene.signals.xy_m[0]))  # type: ignore[union-attr]
    assert c.selected is not None  # the junction box or a vehicle crossing it
    click(SIZE[0] / 2, 10)  # far from the road: deselect
    assert c.selected is None
    lines = inspector_lines(scene, Selection("signal", 0))
    text = " | ".join(t for t, _ in lines)
    assert "s1" in text and "synthetic" in text
    assert "axis  group: RED" in text and "cross group: GREEN" in text
    assert dict((t, col) for t, col in lines)["cross group: GREEN"] == style.SIGNAL_COLOURS[GREEN]
    assert scene.links_of(Selection("signal", 0)) is None  # a signal has no radio links
    # Drawn selected: a ring around the whole glyph.
    surface = pg.Surface(SIZE, 0, 32)
    Renderer().draw(surface, scene, cam, HudState(selected=Selection("signal", 0)))
    _, offset, head = style.signal_glyph_px(cam.scale_px_per_m)
    cx, cy = cam.point_to_screen(*scene.signals.xy_m[0])  # type: ignore[union-attr]
    ring = [colour_at(surface, cx + int(offset + head + 6) - k, cy) for k in range(4)]
    assert style.SELECTED in ring


@pytest.fixture(scope="module")
def signal_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("signal_run")
    path = signal_scenario(d, FAST_PLAN, duration_s=6)
    run_scenario(load_scenario(str(path)), d / "run")
    return d / "run"


@pytest.mark.parametrize("t_s,axis,cross", [
    (1.0, GREEN, RED), (2.5, YELLOW, RED), (4.0, RED, GREEN), (5.8, RED, YELLOW),
])
def test_replay_shows_the_recorded_signal_colours_at_a_seek_time(surface, signal_run: Path,
                                                                 t_s: float, axis: int,
                                                                 cross: int) -> None:  # type: ignore[no-untyped-def]
    recorded = load_columns(signal_run / "trace.msgpack", "signal_state")
    at = np.isclose(recorded["t_s"], t_s)
    assert [int(recorded["axis"][at][0]), int(recorded["cross"][at][0])] == [axis, cross]
    src = ReplaySource(signal_run)
    scene = src.scene_at(t_s + 0.05)  # seeks to the state at t_s
    assert scene.t_s == pytest.approx(t_s)
    assert scene.signal_colours()[0].tolist() == [axis, cross]  # type: ignore[index]
    cam = signal_camera(scene, 4.0)
    Renderer().draw(surface, scene, cam, HudState())
    seen = [colour_at(surface, x, y) for x, y in head_pixels(scene, cam)]
    assert seen == [style.SIGNAL_COLOURS[c] for c in (axis, axis, cross, cross)]


def test_replay_signal_layer_matches_the_live_one(signal_run: Path) -> None:
    src = ReplaySource(signal_run)
    world = build_world(load_scenario(str(signal_run.parent / "tiny.yaml")))
    live = scene_from_world(world, roads_from_world(world), 0).signals
    replay = src.signals
    assert live is not None and replay is not None
    np.testing.assert_allclose(replay.xy_m, live.xy_m)
    np.testing.assert_allclose(replay.axis_rad, live.axis_rad)
    np.testing.assert_array_equal(replay.synthetic, live.synthetic)
    # Stop lines re-derived from the recorded routes land where the builder put them.
    np.testing.assert_allclose(replay.stop_a_m, live.stop_a_m, atol=0.5)
    np.testing.assert_allclose(replay.stop_b_m, live.stop_b_m, atol=0.5)
    np.testing.assert_array_equal(replay.stop_group, live.stop_group)


def test_replay_without_signals_has_none(tiny_run: Path) -> None:
    scene = ReplaySource(tiny_run).scene_at(1.0)
    assert scene.signals is None and scene.signal_colours() is None


def test_cli_selects_and_centres_on_a_signal(pg, signal_run: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "s.png"
    assert view("--replay", str(signal_run), "--screenshot", str(out), "--at", "4",
                "--center", "signal:0", "--scale", "4", "--select", "signal:0",
                "--size", "640x400") == 0
    img = pg.image.load(str(out))
    src = ReplaySource(signal_run)
    scene = src.scene_at(4.0)
    cam = signal_camera(scene, 4.0)
    x, y = head_pixels(scene, cam)[2]
    assert tuple(img.get_at((round(x), round(y))))[:3] == style.SIGNAL_COLOURS[GREEN]


def test_signal_labels_clear_both_roads_of_the_junction() -> None:
    from sim.viz.render import label_corners

    rng = np.random.default_rng(4)
    axis = rng.uniform(-np.pi, np.pi, 50)
    w, h = rng.uniform(20, 120, 50), rng.uniform(10, 30, 50)
    x0, y0 = label_corners(np.full(50, 300.0), np.full(50, 200.0), axis, w, h, clear=25.0)
    for k in range(50):
        u = np.array([np.cos(axis[k]), -np.sin(axis[k])])
        corners = np.array([[x0[k] + i * w[k], y0[k] + j * h[k]] for i in (0, 1) for j in (0, 1)])
        rel = corners - [300.0, 200.0]
        along, across = rel @ u, rel @ [u[1], -u[0]]
        # All four corners on one side of each road line, at least `clear` away from it.
        for d in (along, across):
            assert (np.all(d >= 25.0 - 1) or np.all(d <= -25.0 + 1)), (k, d)
    # A horizontal road: the label goes down-left of the centre.
    x0, y0 = label_corners(np.array([300.0]), np.array([200.0]), np.array([0.0]),
                           np.array([60.0]), np.array([14.0]), clear=25.0)
    assert x0[0] + 60 <= 300 - 24 and y0[0] >= 200 + 24


# ---------------------------------------------------------------------- EBW warnings
def amber_pixels(surface, cam: Camera, x_m: float, y_m: float, r: int = 30) -> int:  # type: ignore[no-untyped-def]
    px, py = cam.point_to_screen(x_m, y_m)
    return sum(colour_at(surface, px + dx, py + dy) == style.EBW_WARNING
               for dx in range(-r, r + 1) for dy in range(-r, r + 1)
               if 0 <= px + dx < SIZE[0] and 0 <= py + dy < SIZE[1])


def test_warned_vehicles_get_an_amber_halo_near_and_far(surface) -> None:  # type: ignore[no-untyped-def]
    scene = make_scene([{"id": 1, "x_m": 100.0, "y_m": -5.0}, {"id": 2, "x_m": 140.0, "y_m": -5.0}])
    scene = Scene(**{**scene.__dict__, "warned": np.array([False, True])})
    cam = Camera(*SIZE, center_x_m=120.0, center_y_m=-5.0, scale_px_per_m=8.0)
    Renderer().draw(surface, scene, cam, None)
    car = style.CLASS_COLOUR_BY_CODE[0]
    px, py = cam.point_to_screen(140.0, -5.0)
    assert colour_at(surface, px, py) == car  # the vehicle itself keeps its class colour
    sx, sy = cam.point_to_screen(140.0, -5.0 + 1.8)  # beside it, inside the halo
    assert colour_at(surface, sx, sy) == style.EBW_WARNING
    assert amber_pixels(surface, cam, 140.0, -5.0) > 50
    assert amber_pixels(surface, cam, 100.0, -5.0) == 0
    far = Camera(*SIZE, center_x_m=120.0, center_y_m=-5.0, scale_px_per_m=0.25)  # 2x2 dots
    Renderer().draw(surface, scene, far, None)
    assert amber_pixels(surface, far, 140.0, -5.0, r=3) > 0
    assert amber_pixels(surface, far, 100.0, -5.0, r=1) == 0  # 4 m apart: 1 px


def test_hud_inspector_and_legend_show_ebw_warnings(surface) -> None:  # type: ignore[no-untyped-def]
    scene = make_scene([{"id": 1, "x_m": 100.0, "y_m": -5.0}, {"id": 2, "x_m": 140.0, "y_m": -5.0}])
    assert "warned: not recorded" in [t for t, _ in inspector_lines(scene, Selection("vehicle", 1))]
    scene = Scene(**{**scene.__dict__, "warned": np.array([False, True])})
    assert ("warned: yes", style.EBW_WARNING) in inspector_lines(scene, Selection("vehicle", 2))
    assert "warned: no" in [t for t, _ in inspector_lines(scene, Selection("vehicle", 1))]
    Renderer().draw(surface, scene, Camera(*SIZE, center_x_m=120.0, center_y_m=-5.0,
                                            scale_px_per_m=0.5), HudState())
    hud = surface.subsurface((0, 0, SIZE[0], 140))
    assert any(hud.get_at((x, y))[:3] == style.EBW_WARNING
               for x in range(0, SIZE[0], 1) for y in range(0, 140, 1))


@pytest.fixture(scope="module")
def ebw_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    d = tmp_path_factory.mktemp("ebw")
    path = tiny_scenario(d, duration_s=8, incidents=[
        {"kind": "hard-braking", "at_s": 3, "route": "east", "position_m": 1900, "lane": 0,
         "decel_mps2": 8}])
    result = run_scenario(load_scenario(str(path), [
        "routes.0.initial_density_veh_km_per_lane=30", "applications.ebw.enabled=true"]),
        d / "run")
    return d / "run", int(result.summary["applications"]["ebw"]["warnings"])


def test_replay_reads_the_warned_column(ebw_run: tuple[Path, int]) -> None:
    run, n_warnings = ebw_run
    assert n_warnings > 0
    state = load_columns(run / "trace.msgpack", "state")
    assert state["warned"].any()
    t = float(state["t_s"][np.flatnonzero(state["warned"])[0]])
    src = ReplaySource(run)
    scene = src.scene_at(t)
    at = np.isclose(state["t_s"], t)
    np.testing.assert_array_equal(scene.warned, state["warned"][at])
    assert scene.warned_rows().any()
    assert not src.scene_at(0.0).warned_rows().any()


def test_replay_of_a_trace_without_the_column_shows_no_warning(tiny_run: Path) -> None:
    scene = ReplaySource(tiny_run).scene_at(1.0)
    if "warned" in load_columns(tiny_run / "trace.msgpack", "state"):
        assert not scene.warned_rows().any()  # new trace, no EBW
    else:
        assert scene.warned is None


def test_live_scene_takes_warnings_from_the_vehicle_table(tiny: Path) -> None:
    from sim.core.engine import Engine

    scenes: list[Scene] = []

    class Probe:  # marks the first vehicle warned over [100, 300) ms, then snapshots
        def on_start(self, world) -> None: ...  # type: ignore[no-untyped-def]
        def on_radio_batch(self, world, batch) -> None: ...  # type: ignore[no-untyped-def]
        def on_end(self, world, now_ms, interrupted) -> None: ...  # type: ignore[no-untyped-def]

        def on_step(self, world, now_ms: int) -> None:  # type: ignore[no-untyped-def]
            t = world.mobility.table
            t["warn_start_ms"] = np.full(len(t), 10**9, np.int64)
            t["warn_end_ms"] = np.full(len(t), 10**9, np.int64)
            t["warn_start_ms"][0], t["warn_end_ms"][0] = 100, 300
            scenes.append(scene_from_world(world, roads_from_world(world), now_ms))

    Engine(build_world(load_scenario(str(tiny), duration_s=0.5)), [Probe()]).run()
    by_t = {round(s.t_s, 3): s for s in scenes}
    warned = by_t[0.2].warned
    assert warned is not None and warned[0] and warned.sum() == 1
    assert not by_t[0.3].warned_rows().any() and not by_t[0.0].warned_rows().any()


# ---------------------------------------------------------------------- edge servers (issue #5)
def _edge_layer(xy: list[tuple[float, float]], rsu_edge: list[int], alive: list[bool]) -> EdgeLayer:
    n = len(xy)
    return EdgeLayer(xy_m=np.array(xy, dtype=float), names=tuple(f"mec-{i}" for i in range(n)),
                     cores=np.full(n, 4), rsu_edge=np.array(rsu_edge), alive=np.array(alive),
                     busy=np.array([3] * n), queue=np.array([2] * n))


def test_edge_node_is_drawn_at_its_projected_position(surface) -> None:  # type: ignore[no-untyped-def]
    import dataclasses
    scene = make_scene([], rsus=[(900.0, -25.0), (1100.0, -25.0)])
    scene = dataclasses.replace(scene, edges=_edge_layer([(1000.0, -60.0), (1200.0, 40.0)],
                                                         [0, 1], [True, False]))
    cam = Camera(*SIZE, center_x_m=1000.0, center_y_m=0.0, scale_px_per_m=1.5)
    Renderer().draw(surface, scene, cam, HudState())
    px, py = cam.point_to_screen(1000.0, -60.0)
    assert colour_at(surface, px, py) == style.EDGE_FILL
    px, py = cam.point_to_screen(1200.0, 40.0)
    assert colour_at(surface, px, py) == style.EDGE_DOWN  # a failed edge is red
    # The backhaul line from RSU 0 to its edge: its midpoint has the backhaul colour.
    mx, my = cam.point_to_screen(950.0, -42.5)
    assert colour_at(surface, mx, my) == style.BACKHAUL


def test_live_scene_of_an_edge_scenario_has_the_edge_layer(tmp_path: Path) -> None:
    world = build_world(load_scenario("airport-expressway-edge-failover", [], duration_s=1.0))
    from sim.core.engine import Engine
    Engine(world, []).run(until_ms=300)
    scene = scene_from_world(world, roads_from_world(world), 300)
    assert scene.edges is not None and len(scene.edges) == 4
    np.testing.assert_array_equal(scene.edges.rsu_edge, roadside_of(world).serving_edge)
    assert scene.edges.alive.all()


def test_replay_shows_edges_and_the_failover(tmp_path: Path) -> None:
    loaded = load_scenario("airport-expressway-edge-failover", ["output.trace.state_interval_s=0.5"],
                           duration_s=3.2)
    run_scenario(loaded, tmp_path / "run")
    src = ReplaySource(tmp_path / "run")
    before, after = src.scene_at(2.0).edges, src.scene_at(3.0).edges
    assert before is not None and after is not None and len(before) == 4
    assert before.alive.all() and not after.alive[1]  # mec-k7 failed at 2.5 s
    assert (before.rsu_edge == 1).any() and not (after.rsu_edge == 1).any()  # its RSUs moved
