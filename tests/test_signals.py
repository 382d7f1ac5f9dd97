"""Fixed-time signals, stop lines on routes, and vehicles obeying them; junction routing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.core.signals import GREEN, GROUP_AXIS, GROUP_CROSS, RED, YELLOW, group_for_heading, must_stop
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from tests.helpers.scenarios import tiny_scenario


def signal_scenario(tmp_path: Path, **signal) -> Path:  # type: ignore[no-untyped-def]
    # A signal 1 km along the 2 km east-west test road (lon 125.5 + 1000/80300).
    base = {"id": "s1", "position": {"lat": 43.9, "lon": 125.5 + 1000 / 80_300}, "offset_s": 0,
            "phases": [{"serves": "axis", "green_s": 30, "yellow_s": 3, "all_red_s": 2},
                       {"serves": "cross", "green_s": 25, "yellow_s": 3, "all_red_s": 2}]}
    base.update(signal)
    return tiny_scenario(tmp_path, signals=[base], duration_s=60)


def test_plan_timing_per_group(tmp_path: Path) -> None:
    w = build_world(load_scenario(str(signal_scenario(tmp_path))))
    sig = w.signals
    assert sig is not None and sig.cycle_ms[0] == 65_000
    s = np.array([0])
    at = lambda ms, g: int(sig.colors(ms, s, np.array([g]))[0])  # noqa: E731
    assert at(0, GROUP_AXIS) == GREEN and at(0, GROUP_CROSS) == RED
    assert at(31_000, GROUP_AXIS) == YELLOW and at(34_000, GROUP_AXIS) == RED
    assert at(36_000, GROUP_CROSS) == GREEN and at(61_500, GROUP_CROSS) == YELLOW
    assert at(64_000, GROUP_CROSS) == RED and at(65_000 + 1_000, GROUP_AXIS) == GREEN
    # Never both green.
    for ms in range(0, 130_000, 500):
        assert not (at(ms, GROUP_AXIS) == GREEN and at(ms, GROUP_CROSS) == GREEN)


def test_offset_shifts_the_plan(tmp_path: Path) -> None:
    w = build_world(load_scenario(str(signal_scenario(tmp_path, offset_s=10))))
    s = np.array([0])
    assert w.signals.colors(5_000, s, np.array([GROUP_AXIS]))[0] == RED  # 5 s = 60 s into the cycle
    assert w.signals.colors(10_000, s, np.array([GROUP_AXIS]))[0] == GREEN


def test_both_directions_get_a_stop_line_before_the_centre(tmp_path: Path) -> None:
    w = build_world(load_scenario(str(signal_scenario(tmp_path))))
    lines = w.stop_lines
    assert sorted(lines.route.tolist()) == [0, 1]
    # Route 0 runs east: the centre is ~1000 m along it, the stop line 15 m before.
    s0 = lines.s_m[lines.route == 0][0]
    assert s0 == pytest.approx(1000 - 15, abs=15)
    assert set(lines.group.tolist()) == {GROUP_AXIS}  # both run along the axis


def test_vehicles_stop_at_red_and_go_on_green(tmp_path: Path) -> None:
    # Axis red from t = 0 for 50 s (cross phase first): the first vehicles queue at the stop line.
    path = signal_scenario(tmp_path, phases=[
        {"serves": "cross", "green_s": 45, "yellow_s": 3, "all_red_s": 2},
        {"serves": "axis", "green_s": 30, "yellow_s": 3, "all_red_s": 2}])
    w = build_world(load_scenario(str(path), ["routes.0.initial_density_veh_km_per_lane=0",
                                              "routes.1.initial_density_veh_km_per_lane=0",
                                              "routes.0.flow_veh_h_per_lane=900"]))
    m = w.mobility
    stop = float(w.stop_lines.s_m[w.stop_lines.route == 0][0])
    for k in range(1, 496):  # the axis is red for 50 s (45 s cross green, 3 yellow, 2 all-red)
        m.step(k * 100)
    east = m.table["route"] == 0
    assert east.sum() >= 3
    assert np.all(m.table["s_m"][east] <= stop + 0.5)  # nobody crossed on red
    head = np.flatnonzero(east)[np.argmax(m.table["s_m"][east])]
    # The first vehicle waits about its jam gap s0 (2 m) before the line, (nearly) at standstill.
    assert stop - 5.0 <= m.table["s_m"][head] <= stop
    assert m.table["v_mps"][head] < 1.0, m.table["v_mps"][head]
    for k in range(496, 1000):
        m.step(k * 100)
    assert m.stats.exited + int((m.table["s_m"][m.table["route"] == 0] > stop).sum()) > 0
    assert m.safety.red_light_violations == 0 and m.safety.collisions == 0


def test_dilemma_zone_rule() -> None:
    color = np.array([YELLOW, YELLOW, RED, GREEN])
    gap = np.array([60.0, 5.0, 40.0, 40.0])
    v = np.array([15.0, 15.0, 10.0, 10.0])
    assert must_stop(color, gap, v).tolist() == [True, False, True, False]


def test_heading_groups() -> None:
    axis = np.zeros(4)
    h = np.radians([5.0, 178.0, 90.0, -95.0])
    assert group_for_heading(h, axis).tolist() == [GROUP_AXIS, GROUP_AXIS, GROUP_CROSS, GROUP_CROSS]


def test_signal_off_every_route_is_an_error(tmp_path: Path) -> None:
    path = signal_scenario(tmp_path, position={"lat": 43.95, "lon": 125.51})
    with pytest.raises(ScenarioError) as exc:
        build_world(load_scenario(str(path)))
    assert "signals[0].position" in str(exc.value) and "no route passes" in str(exc.value)


def test_route_through_a_mid_road_junction() -> None:
    """飞跃路 ends on 东风大街 mid-road: the route turns there and follows 东风大街 north-east."""
    w = build_world(load_scenario("auto-city-loop"))
    loop = w.geometry.routes[0]
    assert len(loop.junctions_s_m) == 4
    assert loop.junctions_s_m[0] == pytest.approx(3636, abs=30)  # 飞跃路 is ~3.6 km long
    assert 9_000 < loop.length_m < 10_500  # 8.9 km to 皓月大路 + last_road_m 800 m
    back = w.geometry.routes[1]
    assert np.allclose(back.xy_m[0], loop.xy_m[-1]) and np.allclose(back.xy_m[-1], loop.xy_m[0])


def test_auto_city_signals_and_rsus() -> None:
    w = build_world(load_scenario("auto-city-loop"))
    assert len(w.signals) == 18 and len(w.rsus) == 18
    assert w.signals.sources.count("evidenced") == 4
    # Every signal puts a stop line on both directions of the loop.
    counts = np.bincount(w.stop_lines.signal, minlength=18)
    assert np.all(counts >= 1) and counts.sum() >= 30


@pytest.mark.parametrize("past_line_m, changes", [(5.0, False), (25.0, False), (200.0, True)])
def test_no_lane_change_in_the_junction_just_past_the_stop_line(tmp_path: Path, past_line_m: float,
                                                                changes: bool) -> None:
    # A car at 15 m/s closing on a stopped one 20 m ahead in the right lane, the left lane free:
    # MOBIL wants the change, but not across the crosswalk and junction box past the stop line.
    w = build_world(load_scenario(str(signal_scenario(tmp_path)), ["routes.0.lanes=2"]))
    m = w.mobility
    m.table.keep(np.zeros(len(m.table), bool))
    stop = float(w.stop_lines.s_m[w.stop_lines.route == 0][0])
    s = np.array([stop + past_line_m, stop + past_line_m + 20.0])
    attrs = m._draw_attributes(2, np.zeros(2, np.int64), s, cls=np.zeros(2, np.int64))
    m._add(attrs, np.array([1, 1]), s, np.array([15.0, 0.0]), 0)
    m._change_lanes(10_000)
    assert bool(m.table["lane"][0] != 1) == changes
