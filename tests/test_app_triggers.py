"""One hand-built tiny case per V2X application: it fires when it must and not when it must not."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.core.road import Route, RouteGeometry
from sim.core.signals import GROUP_AXIS, SignalTable, StopLines
from sim.radio.messages import MsgType
from sim.spec.apps import (
    EbwSpec,
    EvwSpec,
    FcwSpec,
    GlosaSpec,
    IcwSpec,
    RlvwSpec,
    SlwSpec,
    TjwSpec,
    VrucwSpec,
)
from vehicles.apps.base import AppContext, Receptions, time_to_collision_s
from vehicles.apps.crossings import CrossingMonitor, Crossings, find_crossings
from vehicles.apps.ebw import EmergencyBrakeWarning
from vehicles.apps.evw import EmergencyVehicleWarning
from vehicles.apps.fcw import ForwardCollisionWarning
from vehicles.apps.glosa import Glosa
from vehicles.apps.icw import IntersectionCollisionWarning
from vehicles.apps.rlvw import RedLightViolationWarning
from vehicles.apps.slw import SpeedLimitWarning
from vehicles.apps.tjw import TrafficJamWarning
from vehicles.apps.vrucw import VruCollisionWarning, vru_conflicts
from vehicles.pedestrians import PedestrianTable
from vehicles.table import VehicleTable

STEP_MS = 100
REACTION_STEPS = 10  # a 1 s human reaction


def table(*vehicles: dict) -> VehicleTable:
    """Vehicles as dicts of columns (route, lane, s_m, v_mps, ...); x_m follows s_m on route 0."""
    t = VehicleTable()
    for v in vehicles:
        cols = {"route": 0, "lane": 0, "length_m": 5.0, "reaction_steps": REACTION_STEPS,
                "equipped": True, **v}
        cols.setdefault("x_m", cols["s_m"])
        t.append(1, **{k: np.array([x]) for k, x in cols.items()})
    return t


def receptions(pairs: list[tuple[int, int]], msg: MsgType = MsgType.BSM, rx_ms: int = 1000,
               age_ms: int = 40, brake: bool = False, rsu: bool = False) -> Receptions:
    """(rx row, tx row or RSU index) pairs, all received at `rx_ms`, generated `age_ms` earlier."""
    n = len(pairs)
    rx = np.array([p[0] for p in pairs], np.int64)
    tx = np.array([p[1] for p in pairs], np.int64)
    return Receptions(
        rx_row=rx, tx_row=np.full(n, -1) if rsu else tx, tx_rsu=tx if rsu else np.full(n, -1),
        msg_type=np.full(n, int(msg)), brake_flag=np.full(n, brake),
        gen_ms=np.full(n, rx_ms - age_ms, np.float64), rx_ms=np.full(n, rx_ms, np.int64),
    )


def ctx(t: VehicleTable, **kw) -> AppContext:  # type: ignore[no-untyped-def]
    return AppContext(table=t, step_ms=STEP_MS, **kw)


def warned_rows(t: VehicleTable) -> list[int]:
    return [int(i) for i in np.flatnonzero(t["warn_end_ms"] > 0)]


# ------------------------------------------------------------------ shared kinematics
def test_time_to_collision_closed_forms() -> None:
    # Constant speeds: gap / closing speed.
    assert time_to_collision_s(np.array([30.0]), np.array([25.0]), np.array([10.0]),
                               np.array([0.0]))[0] == pytest.approx(2.0)
    # Equal speeds, leader braking at 8 m/s2: 40 = 8 t^2 / 2 -> t = sqrt(10).
    assert time_to_collision_s(np.array([40.0]), np.array([30.0]), np.array([30.0]),
                               np.array([8.0]))[0] == pytest.approx(np.sqrt(10.0))
    # Leader stops first (10 m/s at 8 m/s2 stops after 6.25 m): (20 + 6.25) / 5 = 5.25 s.
    assert time_to_collision_s(np.array([20.0]), np.array([5.0]), np.array([10.0]),
                               np.array([8.0]))[0] == pytest.approx(5.25)
    # Opening gap: never.
    assert np.isinf(time_to_collision_s(np.array([20.0]), np.array([5.0]), np.array([10.0]),
                                        np.array([0.0]))[0])


def test_receptions_from_a_radio_batch_keep_only_vehicle_decodes() -> None:
    t = table({"s_m": 0.0, "v_mps": 10.0}, {"s_m": 50.0, "v_mps": 10.0})
    batch = SimpleNamespace(
        result=SimpleNamespace(links=SimpleNamespace(
            tx=np.array([0, 0, 1]), rx=np.array([1, 2, 0]), success=np.array([True, True, False]))),
        node_vehicle_id=np.array([0, 1, -1]),  # two vehicles and an RSU
        tx_vehicle_id=np.array([0, 1]), tx_rsu=np.array([-1, -1]),
        tx_msg_type=np.array([0, 0]), tx_brake_flag=np.array([True, False]),
        tx=SimpleNamespace(gen_ms=np.array([10.0, 12.0]), subframe_ms=np.array([40, 90])),
    )
    rec = Receptions.from_batch(batch, t)  # type: ignore[arg-type]
    assert list(rec.rx_row) == [1] and list(rec.tx_row) == [0]  # RSU and failed link dropped
    assert list(rec.age_ms) == [31.0] and bool(rec.brake_flag[0])


# ------------------------------------------------------------------ FCW
def test_fcw_fires_below_the_ttc_threshold_and_brakes_after_the_reaction() -> None:
    # Host row 0 at 25 m/s, leader row 1 at 10 m/s, bumper gap 30 m: TTC 2 s < 3 s.
    t = table({"s_m": 0.0, "v_mps": 25.0}, {"s_m": 35.0, "v_mps": 10.0})
    app = ForwardCollisionWarning(FcwSpec(), STEP_MS)
    app.on_receptions(ctx(t), receptions([(0, 1), (1, 0)]))
    assert warned_rows(t) == [0] and app.stats.warnings == 1
    assert t["warn_start_ms"][0] == 1000 + REACTION_STEPS * STEP_MS
    assert 2.0 <= t["warn_decel_mps2"][0] <= 8.0
    assert app.stats.summary()["lead_time_s"]["min"] == pytest.approx(2.0)


@pytest.mark.parametrize("case", ["other lane", "far enough", "stale", "beyond range"])
def test_fcw_does_not_fire(case: str) -> None:
    lead = {"s_m": 35.0, "v_mps": 10.0}
    if case == "other lane":
        lead["lane"] = 1
    if case == "far enough":
        lead["s_m"] = 80.0  # TTC 5 s
    if case == "beyond range":
        lead["s_m"], lead["v_mps"] = 400.0, 0.0
    t = table({"s_m": 0.0, "v_mps": 25.0}, lead)
    app = ForwardCollisionWarning(FcwSpec(), STEP_MS)
    app.on_receptions(ctx(t), receptions([(0, 1)], age_ms=150 if case == "stale" else 40))
    assert warned_rows(t) == [] and app.stats.warnings == 0
    assert app.stats.stale_ignored == (1 if case == "stale" else 0)


# ------------------------------------------------------------------ EBW
def test_ebw_fires_on_a_hard_braking_bsm_from_ahead_in_the_lane_only() -> None:
    # Row 1 brakes at 8 m/s2 45 m ahead of row 0; row 2 is behind it, row 3 in the next lane.
    t = table({"s_m": 0.0, "v_mps": 30.0}, {"s_m": 45.0, "v_mps": 30.0, "a_mps2": -8.0},
              {"s_m": 80.0, "v_mps": 30.0}, {"s_m": 10.0, "v_mps": 30.0, "lane": 1})
    app = EmergencyBrakeWarning(EbwSpec(), STEP_MS)
    app.on_receptions(ctx(t), receptions([(0, 1), (2, 1), (3, 1)], brake=True))
    assert warned_rows(t) == [0]
    assert t["warn_decel_mps2"][0] >= 3.0
    # The same BSM without the event flag warns nobody.
    t2 = table({"s_m": 0.0, "v_mps": 30.0}, {"s_m": 45.0, "v_mps": 30.0, "a_mps2": -8.0})
    EmergencyBrakeWarning(EbwSpec(), STEP_MS).on_receptions(ctx(t2), receptions([(0, 1)]))
    assert warned_rows(t2) == []


# ------------------------------------------------------------------ ICW
def crossing_at_100m() -> Crossings:
    return Crossings(np.array([0, 1]), np.array([1, 0]), np.array([100.0, 100.0]),
                     np.array([100.0, 100.0]), np.array([4.5, 4.5]), np.array([4.5, 4.5]))


def test_icw_warns_the_later_arrival_when_occupancies_overlap() -> None:
    # Row 0 on route 0 enters the zone in 4.55 s, row 1 on route 1 in 3.55 s: row 0 yields.
    t = table({"s_m": 50.0, "v_mps": 10.0, "x_m": -50.0, "y_m": 0.0},
              {"route": 1, "s_m": 60.0, "v_mps": 10.0, "x_m": 0.0, "y_m": -40.0})
    app = IntersectionCollisionWarning(IcwSpec(), STEP_MS, crossing_at_100m())
    app.on_receptions(ctx(t), receptions([(0, 1), (1, 0)]))
    assert warned_rows(t) == [0] and app.stats.warnings == 1
    assert app.stats.summary()["lead_time_s"]["min"] == pytest.approx(4.55)


def test_icw_stays_silent_when_the_other_has_cleared_or_is_far_behind() -> None:
    t = table({"s_m": 50.0, "v_mps": 10.0, "x_m": -50.0, "y_m": 0.0},
              {"route": 1, "s_m": 115.0, "v_mps": 10.0, "x_m": 0.0, "y_m": 15.0},  # cleared
              {"route": 1, "s_m": 0.0, "v_mps": 5.0, "x_m": 0.0, "y_m": -100.0})  # enters in 19 s
    app = IntersectionCollisionWarning(IcwSpec(), STEP_MS, crossing_at_100m())
    app.on_receptions(ctx(t), receptions([(0, 1), (0, 2), (2, 0)]))
    assert warned_rows(t) == []


def test_icw_holds_a_vehicle_waiting_at_the_zone_until_the_crossing_one_has_cleared() -> None:
    # Zone 95.5-104.5 m on both routes. Row 0 waits 4 m before it: from rest at 2 m/s2 it would
    # enter in 2 s (a constant-speed projection says never). Row 1 crosses at 10 m/s, enters in
    # 0.8 s and clears (17 m + 5 m length) at 2.2 s: row 0 is the later arrival and is held at
    # standstill until row 1 has cleared plus the 1.5 s margin.
    t = table({"s_m": 91.5, "v_mps": 0.0, "a_max_mps2": 2.0, "b_comf_mps2": 2.0, "x_m": -8.5},
              {"route": 1, "s_m": 87.5, "v_mps": 10.0, "x_m": 0.0, "y_m": -12.5})
    app = IntersectionCollisionWarning(IcwSpec(), STEP_MS, crossing_at_100m())
    app.on_receptions(ctx(t), receptions([(0, 1)], rx_ms=1000))
    assert app.stats.warnings == 1
    start, end = t["warn_start_ms"][0], t["warn_end_ms"][0]
    assert start == 1000 + REACTION_STEPS * STEP_MS
    assert end - start == round((2.2 + IcwSpec().margin_s) * 1000)  # not cut at v = 0
    assert t["warn_decel_mps2"][0] == pytest.approx(2.0)  # comfortable: it is already stopped


def test_mobility_keeps_a_held_vehicle_at_standstill() -> None:
    from vehicles.apps.base import hold
    t = table({"s_m": 0.0, "v_mps": 0.0, "b_comf_mps2": 2.0})
    hold(t, np.array([0]), np.array([0]), np.array([3000]), STEP_MS)
    assert t.warned(REACTION_STEPS * STEP_MS)[0] and t.warned(REACTION_STEPS * STEP_MS + 2999)[0]
    assert not t.warned(REACTION_STEPS * STEP_MS + 3000)[0]


# ------------------------------------------------------------------ crossings
def test_find_crossings_of_two_perpendicular_routes() -> None:
    east = Route("east", np.array([[-200.0, 0.0], [200.0, 0.0]]), 1, 3.5, 14.0, ("a",), ("s",))
    north = Route("north", np.array([[0.0, -200.0], [0.0, 200.0]]), 1, 3.5, 14.0, ("b",), ("s",))
    c = find_crossings(RouteGeometry([east, north]))
    assert len(c) == 2 and list(c.route) == [0, 1]
    # Lane centres are offset 1.75 m to the right: east's lane runs along y = -1.75, north's
    # along x = +1.75, so they cross at (1.75, -1.75).
    assert c.s_m[0] == pytest.approx(201.75) and c.other_s_m[0] == pytest.approx(198.25)
    assert c.half_m[0] == pytest.approx(3.5 / 2 + 1.0)


def test_crossing_monitor_counts_collisions_once_and_pet_near_misses() -> None:
    mon = CrossingMonitor(crossing_at_100m(), pet_near_miss_s=1.5)
    # Eastbound front at (100, 0); northbound front 2 m past the crossing point: bodies cross.
    both_in = table({"s_m": 100.0, "v_mps": 5.0, "width_m": 1.8},
                    {"route": 1, "s_m": 100.0, "v_mps": 5.0, "x_m": 98.0, "y_m": 2.0,
                     "heading_rad": np.pi / 2, "width_m": 1.8})
    mon.on_step(both_in, 0)
    mon.on_step(both_in, 100)
    assert mon.stats.collisions == 1
    # Route 0 occupied at 1000 ms, route 1 enters at 2000 ms: PET 1 s < 1.5 s.
    mon2 = CrossingMonitor(crossing_at_100m(), pet_near_miss_s=1.5)
    mon2.on_step(table({"s_m": 100.0, "v_mps": 5.0}, {"route": 1, "s_m": 50.0, "v_mps": 5.0}), 1000)
    mon2.on_step(table({"s_m": 130.0, "v_mps": 5.0}, {"route": 1, "s_m": 97.0, "v_mps": 5.0}), 2000)
    assert mon2.stats.collisions == 0 and mon2.stats.near_misses == 1
    assert mon2.stats.min_pet_s == pytest.approx(1.0)


def test_crossing_collision_needs_bodies_that_touch_at_a_crossing_angle() -> None:
    """Both inside the lane-wide zone is not yet a collision: the bodies must overlap, heading
    across each other (side by side is where junction lanes run close, not a crossing)."""
    east = {"s_m": 100.0, "v_mps": 5.0, "width_m": 1.8}

    def collisions(other: dict) -> int:
        mon = CrossingMonitor(crossing_at_100m(), pet_near_miss_s=1.5)
        mon.on_step(table(east, {"route": 1, "s_m": 100.0, "v_mps": 5.0, "width_m": 1.8,
                                 **other}), 0)
        return mon.stats.collisions

    north = np.pi / 2
    # Northbound, its front 2 m short of the eastbound's flank (y = -0.9): 1.1 m apart.
    assert collisions({"x_m": 98.0, "y_m": -2.0, "heading_rad": north}) == 0
    # 0.2 m into the flank: touching.
    assert collisions({"x_m": 98.0, "y_m": -0.7, "heading_rad": north}) == 1
    # Overlapping side by side, 10 degrees apart: not a crossing collision.
    assert collisions({"x_m": 100.0, "y_m": 1.0, "heading_rad": np.radians(10.0)}) == 0
    # Diagonal (45 degrees) through the same spot: a collision.
    assert collisions({"x_m": 99.0, "y_m": 1.0, "heading_rad": np.radians(45.0)}) == 1


# ------------------------------------------------------------------ SPAT: RLVW, GLOSA
def one_signal() -> tuple[SignalTable, StopLines]:
    """60 s cycle: axis green 0-25 s, yellow to 28 s, all-red to 30 s; cross green 30-55 s..."""
    sig = SignalTable(
        ids=("s",), sources=("synthetic",), xy_m=np.zeros((1, 2)), axis_rad=np.zeros(1),
        offset_ms=np.array([0]), cycle_ms=np.array([60_000]),
        phase_group=np.array([[0, 1]]), phase_start_ms=np.array([[0, 30_000]]),
        phase_yellow_ms=np.array([[25_000, 55_000]]), phase_red_ms=np.array([[28_000, 58_000]]),
        phase_end_ms=np.array([[30_000, 60_000]]),
    )
    lines = StopLines(route=np.array([0]), s_m=np.array([200.0]), signal=np.array([0]),
                      group=np.array([GROUP_AXIS]), key_m=np.array([200.0]))
    return sig, lines


def spat_ctx(t: VehicleTable) -> AppContext:
    sig, lines = one_signal()
    return ctx(t, signals=sig, stop_lines=lines, rsu_signal=np.array([0]),
               rsu_xy_m=np.array([[200.0, 0.0]]))


@pytest.mark.parametrize("s_m, v_mps, a_mps2, now_ms, fires", [
    (140.0, 15.0, 0.0, 25_000, True),   # 60 m at 15 m/s: at the line at 29 s (red); stop needs 2.6
    (140.0, 15.0, 0.0, 5_000, False),   # ... at 9 s: green
    (100.0, 15.0, 0.0, 22_000, False),  # 100 m back: red on arrival, but a 1.3 m/s2 stop is easy
    (140.0, 15.0, -3.0, 25_000, False),  # already braking harder than the stop needs
])
def test_rlvw_fires_when_the_host_would_pass_on_red(s_m: float, v_mps: float, a_mps2: float,
                                                    now_ms: int, fires: bool) -> None:
    # Reaction 1 s (10 steps): a stop from 15 m/s over 60 - 15 - 1 = 44 m needs 225 / 88 = 2.56.
    t = table({"s_m": s_m, "v_mps": v_mps, "a_mps2": a_mps2})
    app = RedLightViolationWarning(RlvwSpec(), STEP_MS)
    app.on_receptions(spat_ctx(t), receptions([(0, 0)], MsgType.SPAT, rx_ms=now_ms, rsu=True))
    assert (warned_rows(t) == [0]) is fires


def test_rlvw_ignores_a_bsm_and_a_vehicle_that_cannot_stop() -> None:
    t = table({"s_m": 100.0, "v_mps": 15.0}, {"s_m": 195.0, "v_mps": 15.0})  # 5 m before the line
    app = RedLightViolationWarning(RlvwSpec(), STEP_MS)
    app.on_receptions(spat_ctx(t), receptions([(0, 0)], MsgType.BSM, rx_ms=22_000, rsu=True))
    app.on_receptions(spat_ctx(t), receptions([(1, 0)], MsgType.SPAT, rx_ms=22_000, rsu=True))
    assert warned_rows(t) == []


@pytest.mark.parametrize("now_ms, advised", [(50_000, 15.0), (5_000, None), (35_000, None)])
def test_glosa_advises_the_speed_that_arrives_on_green(now_ms: int, advised: float | None) -> None:
    # 150 m from the line. At 50 s (20 m/s) the axis is red until 60 s: 150 m / 10 s = 15 m/s.
    # At 5 s it arrives on green: no advice. At 35 s (5 m/s) green is 25 s away: 6 m/s is faster
    # than the host, so no advice (GLOSA only ever slows a vehicle down).
    t = table({"s_m": 50.0, "v_mps": 20.0 if now_ms != 35_000 else 5.0})
    app = Glosa(GlosaSpec(), STEP_MS)
    app.on_receptions(spat_ctx(t), receptions([(0, 0)], MsgType.SPAT, rx_ms=now_ms, rsu=True))
    if advised is None:
        assert t["advice_end_ms"][0] == 0
    else:
        assert t["advice_speed_mps"][0] == pytest.approx(advised)
        assert t["advice_start_ms"][0] == now_ms + REACTION_STEPS * STEP_MS


# ------------------------------------------------------------------ SLW
@pytest.mark.parametrize("speed, fires", [(30.0, True), (20.0, False)])
def test_slw_caps_a_speeder_to_the_limit(speed: float, fires: bool) -> None:
    t = table({"s_m": 100.0, "v_mps": speed})
    app = SpeedLimitWarning(SlwSpec(), STEP_MS)
    c = ctx(t, geometry=SimpleNamespace(speed_limit_mps=np.array([25.0])),
            rsu_xy_m=np.array([[150.0, 0.0]]))
    app.on_receptions(c, receptions([(0, 0)], MsgType.RSI, rsu=True))
    assert bool(t["advice_end_ms"][0] > 0) is fires
    if fires:
        assert t["advice_speed_mps"][0] == 25.0


# ------------------------------------------------------------------ VRUCW
def test_vru_conflict_kernel() -> None:
    car_xy, car_v = np.array([[0.0, 0.0]]), np.array([[10.0, 0.0]])
    # A pedestrian 30 m ahead, 6 m to the side, walking into the car's path at 2 m/s: both at
    # (30, 0) at t = 3 s.
    hit, t_c, d = vru_conflicts(car_xy, car_v, np.array([[30.0, -6.0]]), np.array([[0.0, 2.0]]),
                                2.5, 5.0)
    assert hit[0] and t_c[0] == pytest.approx(3.0, abs=0.2) and d[0] < 2.5
    # Walking away from the road: no conflict.
    hit, t_c, _ = vru_conflicts(car_xy, car_v, np.array([[30.0, -6.0]]), np.array([[0.0, -2.0]]),
                                2.5, 5.0)
    assert not hit[0] and np.isinf(t_c[0])


def test_vrucw_warns_from_an_rsm_only_about_perceived_pedestrians() -> None:
    t = table({"s_m": 0.0, "v_mps": 10.0, "x_m": 0.0, "y_m": 0.0})
    peds = PedestrianTable()
    peds.append(1, x_m=np.array([30.0]), y_m=np.array([-6.0]), vy_mps=np.array([2.0]))
    app = VruCollisionWarning(VrucwSpec(), STEP_MS)
    near_rsu = ctx(t, pedestrians=peds, rsu_xy_m=np.array([[40.0, 10.0], [900.0, 0.0]]))
    app.on_receptions(near_rsu, receptions([(0, 1)], MsgType.RSM, rsu=True))  # far RSU: unseen
    assert warned_rows(t) == []
    app.on_receptions(near_rsu, receptions([(0, 0)], MsgType.RSM, rsu=True))
    assert warned_rows(t) == [0]


# ------------------------------------------------------------------ EVW
def test_evw_slows_vehicles_ahead_of_an_approaching_emergency_vehicle() -> None:
    ev = 9  # a class code standing for the emergency class
    t = table({"s_m": 100.0, "v_mps": 20.0, "v0_mps": 20.0},
              {"s_m": 0.0, "v_mps": 30.0, "cls": ev}, {"s_m": -50.0, "v_mps": 20.0})
    app = EmergencyVehicleWarning(EvwSpec(), STEP_MS, ev)
    app.on_receptions(ctx(t), receptions([(0, 1), (2, 1)]))
    assert t["advice_end_ms"][0] > 0 and t["advice_end_ms"][2] == 0
    assert t["advice_speed_mps"][0] == pytest.approx(14.0)  # 0.7 x the desired 20 m/s
    assert app.stats.summary()["lead_time_s"]["min"] == pytest.approx(10.0)
    # Renewed by the next BSMs while the host has slowed: the advice does not compound.
    t["v_mps"][0] = 14.5
    for rx_ms in (1100, 1200, 1300):
        app.on_receptions(ctx(t), receptions([(0, 1)], rx_ms=rx_ms))
    assert t["advice_speed_mps"][0] == pytest.approx(14.0)
    # A host crawling in a queue (below 15 km/h) is not asked to slow further.
    slow = table({"s_m": 100.0, "v_mps": 3.0, "v0_mps": 5.0}, {"s_m": 0.0, "v_mps": 10.0, "cls": ev})
    EmergencyVehicleWarning(EvwSpec(), STEP_MS, ev).on_receptions(ctx(slow), receptions([(0, 1)]))
    assert slow["advice_end_ms"][0] == 0
    # Without an emergency class in the fleet the application never fires.
    t2 = table({"s_m": 100.0, "v_mps": 20.0}, {"s_m": 0.0, "v_mps": 30.0, "cls": ev})
    EmergencyVehicleWarning(EvwSpec(), STEP_MS, -1).on_receptions(ctx(t2), receptions([(0, 1)]))
    assert t2["advice_end_ms"][0] == 0


# ------------------------------------------------------------------ TJW
@pytest.mark.parametrize("jam_ahead_m, fires", [(300.0, True), (100.0, False), (700.0, False)])
def test_tjw_slows_early_for_a_queue_beyond_sight(jam_ahead_m: float, fires: bool) -> None:
    t = table({"s_m": 0.0, "v_mps": 30.0}, {"s_m": jam_ahead_m, "v_mps": 1.0})
    app = TrafficJamWarning(TjwSpec(), STEP_MS)
    app.on_receptions(ctx(t), receptions([(0, 1)], age_ms=300))  # 300 ms is fine for TJW
    assert bool(t["advice_end_ms"][0] > 0) is fires
    if fires:
        assert t["advice_speed_mps"][0] == pytest.approx(60 / 3.6)


# ----------------------------------------------------- the manager, as the engine runs it
def test_manager_runs_spat_apps_on_a_hand_built_radio_batch() -> None:
    """A SPAT from RSU 0 (serving the signal) decoded by the host 60 m before a line that will
    be red when it arrives: the manager extracts the reception and RLVW brakes the host."""
    from roadside.rsu import RsuTable
    from sim.spec.schema import ApplicationsSpec
    from vehicles.apps.manager import build_apps

    sig, lines = one_signal()
    t = table({"s_m": 140.0, "v_mps": 15.0})
    route = Route("r", np.array([[0.0, 0.0], [400.0, 0.0]]), 1, 3.5, 14.0, ("a",), ("s",))
    geometry = RouteGeometry([route])
    apps = build_apps(ApplicationsSpec(rlvw=RlvwSpec(enabled=True)), STEP_MS, geometry)
    rsus = RsuTable(xy_m=np.array([[200.0, 5.0]]), lonlat_deg=np.zeros((1, 2)), height_m=5.0,
                    tx_power_dbm=23.0, antenna_gain_dbi=8.0, noise_figure_db=5.0,
                    signal_idx=np.array([0]))
    world = SimpleNamespace(mobility=SimpleNamespace(table=t), step_ms=STEP_MS, geometry=geometry,
                            signals=sig, stop_lines=lines, rsus=rsus, pedestrians=None)
    batch = SimpleNamespace(
        t0_ms=25_000,
        result=SimpleNamespace(links=SimpleNamespace(
            tx=np.array([0]), rx=np.array([0]), success=np.array([True]))),
        node_vehicle_id=np.array([0, -1]), tx_vehicle_id=np.array([-1]), tx_rsu=np.array([0]),
        tx_msg_type=np.array([int(MsgType.SPAT)]), tx_brake_flag=np.array([False]),
        tx=SimpleNamespace(gen_ms=np.array([25_000.0]), subframe_ms=np.array([25_004])),
    )
    apps.after_batch(world, batch)  # type: ignore[arg-type]
    assert warned_rows(t) == [0]
    summary = apps.summary()
    assert summary["rlvw"]["warnings"] == 1 and summary["rlvw"]["mean_latency_ms"] == 5.0
    assert summary["fcw"] is None and summary["warnings_total"] == 1
