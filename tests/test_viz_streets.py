"""The viewer on a real street network (the Auto City grid, a SUMO net): every street drawn,
lanes, stop bars in the colour SUMO's program gives, readable names, a default view that frames
the district, and the same picture in a replay. Headless (SDL dummy driver)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from sim.core.signals import GREEN, RED, YELLOW
from sim.io.street_frames import streets_from_frames, write_streets
from sim.io.trace import TraceFormatError, TraceWriter, read_trace
from sim.runner import run_scenario
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.camera import Camera
from sim.viz.live import roads_from_world, scene_from_world
from sim.viz.render import Renderer
from sim.viz.replay import ReplayError, ReplaySource
from sim.viz.text import legible
from tests.helpers.viz import make_scene

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
pytest.importorskip("sumolib")

ROOT = Path(__file__).resolve().parents[1]
NET = ROOT / "scenarios" / "data" / "auto_city_grid.net.xml"
SIZE = (1280, 800)


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return build_world(load_scenario("auto-city-grid"))


@pytest.fixture(scope="module")
def surface():  # type: ignore[no-untyped-def]
    pg = pygame()
    pg.display.init()
    pg.display.set_mode((64, 64))
    yield pg.Surface(SIZE, 0, 32)
    pg.display.quit()


def count(surface, colour: tuple[int, int, int]) -> int:  # type: ignore[no-untyped-def]
    px = pygame().surfarray.pixels3d(surface)
    try:
        return int(np.all(px == np.array(colour, dtype=px.dtype), axis=2).sum())
    finally:
        del px


def pixel_bbox(surface, colour: tuple[int, int, int]) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    px = pygame().surfarray.pixels3d(surface)
    try:
        xs, ys = np.nonzero(np.all(px == np.array(colour, dtype=px.dtype), axis=2))
    finally:
        del px
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def _sumo_colour(ch: str) -> int:
    return GREEN if ch in "GgOo" else YELLOW if ch in "yY" else RED


# ---------------------------------------------------------------------- the street map
def test_street_map_has_every_lane_junction_and_controlled_link_of_the_net(world) -> None:  # type: ignore[no-untyped-def]
    import sumolib

    net = sumolib.net.readNet(str(NET), withInternal=False, withPrograms=True)
    st = world.streets
    assert st is not None
    assert len(st) == sum(len(e.getLanes()) for e in net.getEdges()) > 300
    assert st.n_edges == len(net.getEdges()) > 100
    assert len(st.junction_xy_m) == sum(1 for n in net.getNodes() if len(n.getShape()) >= 3)
    links = {(c.getFromLane().getID(), c.getTLLinkIndex()) for e in net.getEdges()
             for cs in e.getOutgoing().values() for c in cs if c.getTLSID()}
    assert len(st.stop_lane) == len(links) > 100
    assert set(st.stop_signal.tolist()) == set(range(len(world.signals)))  # every signal
    assert all(" x " in n for n in st.signal_names)  # named after the streets that meet there


def test_every_stop_bar_is_at_the_end_of_a_lane_into_its_own_junction(world) -> None:  # type: ignore[no-untyped-def]
    st = world.streets
    ends = np.array([st.lane_xy_m[i][-1] for i in st.stop_lane.tolist()])
    centre = world.signals.xy_m[st.stop_signal]
    d = np.hypot(*(ends - centre).T)
    assert d.max() < 120.0, d.max()  # the joined junction clusters are up to ~200 m across


def test_stop_bar_colours_are_the_link_states_of_the_sumo_program(world) -> None:  # type: ignore[no-untyped-def]
    """The oracle is the tlLogic read straight from the net: phase at t, state char at link."""
    import sumolib

    net = sumolib.net.readNet(str(NET), withPrograms=True)
    roads = roads_from_world(world)
    st = world.streets
    tls_of = [world.signals.ids[i][4:] for i in st.stop_signal.tolist()]
    # Which link index each bar shows: the connections from its lane, in the bar order.
    sumo_lanes = [ln.id for ln in _lanes(world)]
    link_of = _link_index_per_bar(net, st, sumo_lanes, tls_of)
    changed = 0
    previous = None
    for t_ms in range(0, 130_000, 7_000):
        scene = scene_from_world(world, roads, t_ms)
        got = scene.stop_bar_colours()
        assert got is not None
        want = []
        for tls, link in zip(tls_of, link_of):
            prog = net.getTLS(tls).getPrograms()["0"]
            phases = prog.getPhases()
            cycle = sum(p.duration for p in phases)
            t = (t_ms / 1000.0 - float(prog.getOffset() or 0.0)) % cycle
            for p in phases:
                if t < p.duration:
                    break
                t -= p.duration
            want.append(_sumo_colour(p.state[link]))
        assert got.tolist() == want, t_ms
        changed += previous is not None and got.tolist() != previous
        previous = got.tolist()
    assert changed >= 5  # the bars do change with the programs


def _lanes(world):  # type: ignore[no-untyped-def]
    from sim.sumo.net import read_net

    return read_net(NET, "test").lanes


def _link_index_per_bar(net, st, sumo_lanes, tls_of):  # type: ignore[no-untyped-def]
    """Per stop bar: the link index of its connection (bars of one lane are in link order)."""
    by_lane: dict[str, list[int]] = {}
    for e in net.getEdges():
        for cs in e.getOutgoing().values():
            for c in cs:
                if c.getTLSID():
                    by_lane.setdefault(c.getFromLane().getID(), []).append(c.getTLLinkIndex())
    seen: dict[str, int] = {}
    out = []
    for lane in st.stop_lane.tolist():
        lid = sumo_lanes[lane]
        k = seen.get(lid, 0)
        seen[lid] = k + 1
        out.append(sorted(set(by_lane[lid]))[k])
    return out


# ---------------------------------------------------------------------- what the frame shows
def _frame(surface, world, camera: Camera | None = None, t_ms: int = 0,  # type: ignore[no-untyped-def]
           streets_only: bool = False):
    scene = scene_from_world(world, roads_from_world(world), t_ms)
    if streets_only:  # no RSU or signal glyph on top
        scene = dataclasses.replace(scene, rsu_xy_m=np.zeros((0, 2)), signals=None)
    cam = camera or Camera(*SIZE)
    if camera is None:
        cam.fit(scene.map_bounds_m())  # what the viewer does on its first scene
    Renderer().draw(surface, scene, cam, None)
    return scene, cam


def test_default_view_frames_the_whole_district(surface, world) -> None:  # type: ignore[no-untyped-def]
    scene, cam = _frame(surface, world)
    x0, y0, x1, y1 = pixel_bbox(surface, style.STREET_FAR)
    w, h = SIZE
    assert (x1 - x0) * (y1 - y0) >= 0.5 * w * h  # the drawn network fills most of the frame
    assert (y1 - y0) >= 0.8 * h or (x1 - x0) >= 0.8 * w
    sx0, sy0, sx1, sy1 = scene.streets.bounds_m
    px, py = cam.to_screen(np.array([sx0, sx1]), np.array([sy0, sy1]))
    assert px.min() >= 0 and px.max() <= w and py.min() >= 0 and py.max() <= h


def test_streets_are_drawn_from_the_net_not_from_the_routes(surface, world) -> None:  # type: ignore[no-untyped-def]
    """A street no vehicle's route takes is still drawn: the picture comes from the street map.
    Shown by drawing with no routes at all: every street of the net is still there."""
    from sim.viz.roads import build_road_layer

    scene = dataclasses.replace(scene_from_world(world, roads_from_world(world), 0),
                                roads=build_road_layer([]), rsu_xy_m=np.zeros((0, 2)),
                                signals=None)
    cam = Camera(*SIZE)
    cam.fit(scene.map_bounds_m())
    Renderer().draw(surface, scene, cam, None)
    st = scene.streets
    px = pygame().surfarray.pixels3d(surface)
    try:
        far = np.all(px == np.array(style.STREET_FAR, dtype=px.dtype), axis=2)
    finally:
        del px
    long_edges = [i for i in range(st.n_edges) if st.length_m[i] >= 50.0]  # a pixel or more
    assert len(long_edges) > 80
    for i in long_edges:
        x, y = (round(v) for v in cam.point_to_screen(*st.label_xy_m[i]))
        assert far[max(x - 1, 0):x + 2, max(y - 1, 0):y + 2].any(), st.names[i]


def test_street_scale_shows_lanes_stop_bars_and_names(surface, world) -> None:  # type: ignore[no-untyped-def]
    cam = Camera(*SIZE)
    x, y = world.signals.xy_m[4]  # Feiyue Road x Dongfeng Street
    cam.look_at(x, y, 1.5)
    _frame(surface, world, cam, t_ms=10_000)
    assert count(surface, style.LANE_MARK) > 500  # dashed lane dividers
    assert count(surface, style.ROAD_EDGE) > 500  # kerbs
    bars = sum(count(surface, c) for c in style.SIGNAL_COLOURS)
    assert bars > 30
    assert count(surface, style.STREET_NAME) > 20  # a street name along a street
    assert count(surface, style.STREET_FAR) == 0  # close in: asphalt, not the far-out grey


def test_legible_keeps_the_latin_part_of_a_bilingual_name(surface) -> None:  # type: ignore[no-untyped-def]
    pg = pygame()
    pg.font.init()
    font = pg.font.Font(None, 14)
    assert legible("创业大街 Chuangye Street", font) == "Chuangye Street"
    assert legible("Feiyue Road", font) == "Feiyue Road"


def test_an_rsu_in_an_outage_is_grey_crossed_out_and_covers_nothing(surface) -> None:  # type: ignore[no-untyped-def]
    scene = make_scene([], rsus=[(500.0, 20.0), (1500.0, 20.0)])
    cam = Camera(640, 400)
    cam.fit((0.0, -300.0, 2000.0, 300.0))
    r = Renderer()
    small = pygame().Surface((640, 400), 0, 32)
    r.draw(small, dataclasses.replace(scene, rsu_alive=np.array([True, True])), cam, None)
    circles_up = count(small, style.RSU_COVERAGE)
    r.draw(small, dataclasses.replace(scene, rsu_alive=np.array([True, False])), cam, None)
    x, y = cam.point_to_screen(1500.0, 20.0)
    assert count(small, style.RSU_DOWN_CROSS) > 4
    assert 0 < count(small, style.RSU_COVERAGE) < 0.7 * circles_up  # one circle left
    x0, y0 = cam.point_to_screen(500.0, 20.0)
    assert tuple(small.get_at((round(x0), round(y0))))[:3] == style.RSU_FILL


# ---------------------------------------------------------------------- the trace and replays
def test_street_frames_round_trip_through_the_trace(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st = world.streets
    with TraceWriter(tmp_path / "t.msgpack", {}) as w:
        write_streets(w, st)
    _, reader = read_trace(tmp_path / "t.msgpack")
    back = streets_from_frames({f.kind: f for f in reader}, len(world.signals))
    assert back is not None
    assert back.edge_names == st.edge_names and back.signal_names == st.signal_names
    assert all(np.array_equal(a, b) for a, b in zip(back.lane_xy_m, st.lane_xy_m))
    assert all(np.array_equal(a, b) for a, b in zip(back.junction_xy_m, st.junction_xy_m))
    for k in ("lane_width_m", "lane_edge", "lane_index", "stop_lane", "stop_signal", "stop_group"):
        assert np.array_equal(getattr(back, k), getattr(st, k)), k


def test_damaged_street_frames_are_a_clear_error(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = dataclasses.replace(world.streets, stop_signal=world.streets.stop_signal + 100)
    with TraceWriter(tmp_path / "t.msgpack", {}) as w:
        write_streets(w, bad)
    _, reader = read_trace(tmp_path / "t.msgpack")
    with pytest.raises(TraceFormatError, match="street_stops"):
        streets_from_frames({f.kind: f for f in reader}, len(world.signals))


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grid") / "run"
    run_scenario(load_scenario("auto-city-grid", overrides=["duration_s=12"]), out)
    return out


def test_replay_draws_the_streets_and_the_recorded_bar_colours(world, grid_run: Path) -> None:  # type: ignore[no-untyped-def]
    src = ReplaySource(grid_run)
    scene = src.scene_at(10.0)
    assert scene.streets is not None and len(scene.streets) == world.streets.n_edges
    assert len(scene.streets.stop_a) == len(world.streets.stop_lane)
    got = scene.stop_bar_colours()
    assert got is not None
    want = world.signals.colors(round(scene.t_s * 1000), world.streets.stop_signal,
                                world.streets.stop_group)
    assert got.tolist() == want.tolist()


def test_replay_of_a_trace_with_broken_street_frames_is_a_replay_error(world, grid_run: Path,
                                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tmp_path / "run"
    run.mkdir()
    _, reader = read_trace(grid_run / "trace.msgpack")
    frames = list(reader)
    with TraceWriter(run / "trace.msgpack", {}) as w:
        for f in frames:
            cols = dict(f.cols)
            if f.kind == "street_lanes":
                cols["edge"] = np.asarray(cols["edge"]) + 10_000
            w.write(f.kind, f.t_s, **cols)
    with pytest.raises(ReplayError, match="edge index out of range"):
        ReplaySource(run)
