"""The scenario's area of interest (`view:`): resolved to a square, framed by the viewer when it
opens (live and replay), refused with one line when it names nothing of the scenario."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim.core.errors import ScenarioError, V2xSimError
from sim.runner import run_scenario
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from sim.scenario.view import view_bounds
from sim.spec.schema import ScenarioSpec, ViewSpec
from sim.viz.camera import Camera
from sim.viz.live import roads_from_world, scene_from_world
from sim.viz.replay import ReplaySource
from sim.viz.viewer import Viewer
from tests.helpers.scenarios import tiny_scenario

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

SIGNAL = {"id": "s1", "position": {"lat": 43.9, "lon": 125.5125}, "offset_s": 0,
          "source": "synthetic", "phases": [{"serves": "axis", "green_s": 20},
                                            {"serves": "cross", "green_s": 20}]}


def _spec(tmp_path: Path, view: dict | None, **extra) -> object:  # type: ignore[type-arg]
    kw = {} if view is None else {"view": view}
    tmp_path.mkdir(parents=True, exist_ok=True)
    return load_scenario(str(tiny_scenario(tmp_path, **kw, **extra)))


@pytest.mark.parametrize("view", [{}, {"around": "rsu:0", "center": {"lat": 43.9, "lon": 125.51}},
                                  {"around": "tower:1"}, {"around": "rsu:0", "radius_m": 5},
                                  {"around": "rsu:0", "zoom": 2}])
def test_a_view_that_says_nothing_or_too_much_is_refused(tmp_path: Path, view: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(V2xSimError) as err:
        _spec(tmp_path, view)
    assert "view" in str(err.value)


def test_signal_rsu_incident_and_point_resolve_to_a_square_around_them(tmp_path: Path) -> None:
    incident = {"kind": "stopped-vehicle", "at_s": 1, "route": "east", "position_m": 700}
    loaded = _spec(tmp_path, None, signals=[SIGNAL], incidents=[incident],
                   rsus={"positions": [{"lat": 43.9, "lon": 125.505}]})
    world = build_world(loaded)  # type: ignore[arg-type]
    spec = world.spec

    def square(view: dict) -> tuple[float, float, float, float]:  # type: ignore[type-arg]
        s = spec.model_copy(update={"view": ViewSpec.model_validate(view)})
        b = view_bounds(s, "x.yaml", _projection(world, loaded), world.geometry, world.signals,
                        world.rsus.xy_m)
        assert b is not None
        return b

    sig = world.signals
    assert sig is not None
    b = square({"around": "signal:s1", "radius_m": 100})
    assert np.allclose(b, [*(sig.xy_m[0] - 100), *(sig.xy_m[0] + 100)])
    b = square({"around": "rsu:0", "radius_m": 50})
    assert np.allclose(b, [*(world.rsus.xy_m[0] - 50), *(world.rsus.xy_m[0] + 50)])
    x, y, _ = world.geometry.positions(np.array([0]), np.array([700.0]), np.array([0]))
    b = square({"around": "incident:0"})
    assert np.allclose(b, [x[0] - 300, y[0] - 300, x[0] + 300, y[0] + 300])
    b = square({"center": {"lat": 43.9, "lon": 125.5125}, "radius_m": 40})
    assert np.allclose(b, [*(sig.xy_m[0] - 40), *(sig.xy_m[0] + 40)], atol=0.5)


def _projection(world, loaded):  # type: ignore[no-untyped-def]
    from sim.scenario.build import geojson_routes

    return geojson_routes(loaded)[0]


@pytest.mark.parametrize("around,words", [
    ("signal:s2", ["signal:s2", "closest: s1"]),
    ("rsu:3", ["rsu:3", "0..0"]),
    ("incident:0", ["incident:0", "no incidents"]),
    ("junction:n1", ["junction:n1", "network.sumo_net"]),
])
def test_naming_something_the_scenario_lacks_is_one_clear_error(tmp_path: Path, around: str,
                                                                words: list[str]) -> None:
    loaded = _spec(tmp_path, {"around": around}, signals=[SIGNAL],
                   rsus={"positions": [{"lat": 43.9, "lon": 125.505}]})
    with pytest.raises(ScenarioError) as err:
        build_world(loaded)  # type: ignore[arg-type]
    text = str(err.value)
    assert "view.around" in text and "\n" not in text
    for w in words:
        assert w in text


def test_sumo_names_dark_lights_and_junctions() -> None:
    """On a SUMO net a traffic light is found by its tlLogic id even when switched off (it is
    then no signal of the world), and junctions by their node id."""
    net = SimpleNamespace(programs={"tl1": SimpleNamespace(xy_m=(100.0, 200.0))},
                          node_xy_m={"j7": (-5.0, 7.0)})
    base = ScenarioSpec.model_validate({"name": "x", "network": {"sumo_net": "a.net.xml"},
                                        "traffic": {"sumo_routes": "a.rou.xml"}})
    geometry = SimpleNamespace()
    for around, centre in (("signal:tl1", (100.0, 200.0)), ("junction:j7", (-5.0, 7.0))):
        spec = base.model_copy(update={"view": ViewSpec(around=around, radius_m=25)})
        b = view_bounds(spec, "x", None, geometry, None, np.zeros((0, 2)), net)  # type: ignore[arg-type]
        assert b == (centre[0] - 25, centre[1] - 25, centre[0] + 25, centre[1] + 25)
    spec = base.model_copy(update={"view": ViewSpec(around="junction:j8")})
    with pytest.raises(ScenarioError, match="closest: j7"):
        view_bounds(spec, "x", None, geometry, None, np.zeros((0, 2)), net)  # type: ignore[arg-type]


def test_viewer_opens_on_the_area_of_interest_live_and_in_replay(tmp_path: Path) -> None:
    loaded = _spec(tmp_path, {"around": "signal:s1", "radius_m": 60}, signals=[SIGNAL])
    world = build_world(loaded)  # type: ignore[arg-type]
    assert world.view_bounds_m is not None
    scene = scene_from_world(world, roads_from_world(world), 0)
    viewer = Viewer((800, 600), window=False)
    try:
        viewer._place(scene)
        cam: Camera = viewer.camera
        x0, y0, x1, y1 = world.view_bounds_m
        assert cam.center_x_m == pytest.approx((x0 + x1) / 2)
        assert cam.scale_px_per_m == pytest.approx(600 / 120)  # the square fills the height
        # Without `view:` the whole map is framed (the 2 km road is far wider than 120 m).
        whole = scene_from_world(build_world(_spec(tmp_path / "b", None, signals=[SIGNAL])),  # type: ignore[arg-type]
                                 roads_from_world(world), 0)
        assert whole.focus_bounds_m is None
        assert whole.initial_bounds_m() == whole.map_bounds_m()
    finally:
        viewer.close()
    run_scenario(loaded, tmp_path / "run")  # type: ignore[arg-type]
    replay = ReplaySource(tmp_path / "run")
    assert replay.focus_bounds_m == pytest.approx(world.view_bounds_m)
    assert replay.scene(0).initial_bounds_m() == pytest.approx(world.view_bounds_m)


def test_view_changes_neither_the_results_nor_the_scenario_hash(tmp_path: Path) -> None:
    a = _spec(tmp_path / "a", None, signals=[SIGNAL])
    b = _spec(tmp_path / "b", {"around": "signal:s1"}, signals=[SIGNAL])
    assert a.scenario_hash() == b.scenario_hash()  # type: ignore[attr-defined]
    run_scenario(a, tmp_path / "ra")  # type: ignore[arg-type]
    run_scenario(b, tmp_path / "rb")  # type: ignore[arg-type]
    for name in ("prr_vs_distance.csv", "cbr_vs_time.csv"):
        assert (tmp_path / "ra" / name).read_bytes() == (tmp_path / "rb" / name).read_bytes()
